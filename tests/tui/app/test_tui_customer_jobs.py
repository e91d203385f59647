"""The day's jobs on a customer, by keys on the archive: contacts add / edit / remove, archive / unarchive, log a
contact with the next follow-up, the credit score with its reasons; the title names the customer. Each test
checks what the screen then shows and what the ledger then holds."""
from __future__ import annotations


import pytest
from textual.widgets import DataTable, Input, Static, TabbedContent

from store.ledger.ledger import Ledger
from store.read import credit
from store.write import collections, customers
from tests.support.app import SIZE, app_for, settle, text_of
from tests.support.book import PASSPHRASE, TODAY
from tui.screens.confirm import ConfirmScreen
from tui.screens.customer import CustomerScreen
from tui.screens.dialog_form import DialogForm

pytestmark = pytest.mark.anyio


def rows(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def open_customer(pilot, code: str) -> CustomerScreen:
    await settle(pilot)
    pilot.app.push_screen(CustomerScreen(code))
    await settle(pilot)
    return pilot.app.screen


def contacts_of(book, code: str) -> list[dict]:
    with Ledger.open(book, PASSPHRASE) as ledger:
        return customers.contacts(ledger, customers.by_code(ledger, code)["id"])


@pytest.mark.parametrize("language, title", [("en", "Customer GZ003 · 广州德隆电子有限公司"),
                                             ("zh", "客户档案 GZ003 · 广州德隆电子有限公司")])
async def test_the_title_names_the_customer(book, language, title):
    app = app_for(book, language=language)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_customer(pilot, "GZ003")
        assert str(screen.query_one("#archive-title").render()) == title


async def test_add_a_contact_with_every_error_shown_until_fixed(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_customer(pilot, "GZ003")
        await pilot.press("c")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, DialogForm)
        await pilot.press(*"李明", "enter", *"会计", "enter", *"020-1234 5678", "enter", *"li.ming", "enter", "enter")
        await settle(pilot)
        assert app.screen is form  # the store refused the e-mail: shown beside it, the form keeps what was typed
        assert "li.ming" in str(form.query_one("#error-email", Static).render())
        assert form.query_one("#field-name", Input).value == "李明"
        form.query_one("#field-email", Input).value = "li.ming@delong.example.cn"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert rows(screen.query_one("#contacts", DataTable)) == [
            ["李明", "会计", "020-1234 5678", "li.ming@delong.example.cn", ""]]
    [c] = contacts_of(book, "GZ003")
    assert (c["name"], c["role"], c["phone"], c["email"]) == ("李明", "会计", "020-1234 5678",
                                                              "li.ming@delong.example.cn")


async def test_edit_then_remove_a_contact(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_customer(pilot, "BJ001")
        table = screen.query_one("#contacts", DataTable)
        table.focus()
        await pilot.press("enter")  # Enter on a contact edits it
        await settle(pilot)
        form = app.screen
        assert form.query_one("#field-name", Input).value == "王丽"
        form.query_one("#field-role", Input).value = "财务总监"
        form.query_one("#field-wechat", Input).value = "wangli_hx"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert rows(table) == [["王丽", "财务总监", "010-6543 2100", "", "wangli_hx"]]
        [c] = contacts_of(book, "BJ001")
        assert (c["role"], c["wechat"]) == ("财务总监", "wangli_hx")
        table.focus()
        await pilot.press("delete")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert table.row_count == 0
    assert contacts_of(book, "BJ001") == []


async def test_archive_and_unarchive(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_customer(pilot, "EU01")
        await pilot.press("x")
        await settle(pilot)
        assert "Undo with the same key (x)" in str(app.screen.query_one("#confirm-undo").render())
        await pilot.press("enter")
        await settle(pilot)
        assert str(screen.query_one("#archive-title").render()).endswith("[archived]")
        with Ledger.open(book, PASSPHRASE) as ledger:
            assert customers.by_code(ledger, "EU01")["archived"] == 1
        await pilot.press("x", "enter")
        await settle(pilot)
        assert "archived" not in str(screen.query_one("#archive-title").render())
    with Ledger.open(book, PASSPHRASE) as ledger:
        assert customers.by_code(ledger, "EU01")["archived"] == 0


async def test_log_a_wechat_contact_with_the_next_follow_up(book):
    app = app_for(book, language="zh")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_customer(pilot, "SH002")
        await pilot.press("l")
        await settle(pilot)
        await pilot.press(*["right"] * 4)  # phone, e-mail, visit, letter, WeChat
        assert str(app.screen.query_one("#field-channel").render()).startswith("‹ 微信 ›")
        await pilot.press("enter", *"答应下周付一半", "enter", "enter", *"2026-04-07", "enter")
        await settle(pilot)
        assert app.screen is screen
        assert screen.query_one("#archive-tabs", TabbedContent).active == "tab-notes"
        assert rows(screen.query_one("#archive-notes", DataTable)) == [
            ["2026-03-31", "微信", "答应下周付一半", "2026-04-07"]]
    with Ledger.open(book, PASSPHRASE) as ledger:
        [n] = collections.list_notes(ledger, "SH002")
        assert (n["channel"], n["text"], n["at"], n["next_action"]) == ("wechat", "答应下周付一半", "2026-03-31",
                                                                         "2026-04-07")
        assert [r["customer"] for r in collections.list_notes(ledger, due="2026-04-07")] == ["SH002"]


async def test_credit_score_with_its_reasons(book):
    with Ledger.open(book, PASSPHRASE) as ledger:
        [expected] = [s for s in credit.scores(ledger, TODAY) if s.facts.code == "GZ003"]
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_customer(pilot, "GZ003")
        await pilot.press("s")
        await settle(pilot)
        assert screen.query_one("#archive-tabs", TabbedContent).active == "tab-credit"
        line = text_of(screen.query_one("#credit-score", Static))
        assert f"Score {expected.score}/100, rating {expected.rating}" in line
        assert expected.policy("en") in line.replace("\n", " ")
        factors = rows(screen.query_one("#credit-factors", DataTable))
        assert [r[0] for r in factors] == ["Average days late", "Paid on time", "Share overdue", "Oldest overdue",
                                           "Days-late trend", "Disputes", "Credit limit used"]
        assert [r[2] for r in factors] == [f.value for f in expected.factors]
