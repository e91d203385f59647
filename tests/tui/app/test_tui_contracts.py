"""A customer's contracts (合同) by keys on its Contracts tab, as `duly contract add|attach|list` keep them: a new
contract (every field `contract add` takes, errors shown beside their fields), a file attached with the app's file
picker (its SHA-256 shown before it is recorded, a file recorded before replaced only after asking), a contract's
detail with every file recorded on it, and a file that changed after it was recorded shown as such. Each test checks
what the screen then shows and what the ledger then holds."""
from __future__ import annotations

import hashlib

import pytest
from textual.widgets import DataTable, DirectoryTree, Input, Static, TabbedContent

from store.ledger.ledger import Ledger
from store.write import collections
from tests.support.app import SIZE, app_for, settle, text_of, until
from tests.support.book import PASSPHRASE, TODAY
from tui.screens.confirm import ConfirmScreen
from tui.screens.contract import AttachFileScreen, ContractScreen
from tui.screens.customer import CustomerScreen
from tui.screens.dialog_form import DialogForm

pytestmark = pytest.mark.anyio


def rows(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def contracts_of(book, code: str) -> list[dict]:
    with Ledger.open(book, PASSPHRASE) as ledger:
        return collections.list_contracts(ledger, code)


def add_contract(book, code: str, number: str, **kwargs) -> None:
    with Ledger.open(book, PASSPHRASE) as ledger:
        collections.add_contract(ledger, code, number, "2026-01-05", **kwargs)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def open_contracts(pilot, code: str) -> CustomerScreen:
    await settle(pilot)
    pilot.app.push_screen(CustomerScreen(code))
    await settle(pilot)
    screen = pilot.app.screen
    screen.query_one("#archive-tabs", TabbedContent).active = "tab-contracts"
    await settle(pilot)
    screen.query_one("#archive-contracts", DataTable).focus()
    await pilot.pause()
    return screen


def chosen(attach: AttachFileScreen) -> str:
    return text_of(attach.query_one("#contract-chosen", Static))


def footer_keys(app) -> set[str]:
    return {b.binding.action for b in app.screen.active_bindings.values() if b.binding.show and b.enabled}


async def test_the_contract_keys_work_on_the_contracts_tab_only(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(CustomerScreen("BJ001"))
        await settle(pilot)
        assert not {"new_contract", "attach_contract"} & footer_keys(app)
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)  # g on the details tab does nothing
        app.screen.query_one("#archive-tabs", TabbedContent).active = "tab-contracts"
        await settle(pilot)
        assert {"new_contract", "attach_contract"} <= footer_keys(app)
        assert text_of(app.screen.query_one("#archive-contracts-status", Static)).strip() == "No contracts. g records one."


async def test_a_new_contract_with_every_error_shown_until_fixed(book, tmp_path):
    scan = tmp_path / "合同 HT-2026-07.pdf"
    scan.write_bytes(b"%PDF-1.4 signed contract")
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_contracts(pilot, "BJ001")
        await pilot.press("g")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, DialogForm)
        assert form.query_one("#field-signed", Input).value == TODAY.isoformat()
        await pilot.press(*"HT-2026-07", "enter", "enter", *"2026-07-01", "enter", *"2026-06-30", "enter",
                          *"EOM30", "enter", *"50000.123", "enter", *str(scan), "enter", *"年度框架合同", "enter")
        await settle(pilot)
        assert app.screen is form  # the limit has too many decimals, the end is before the start: both shown at once
        assert "decimal" in text_of(form.query_one("#error-credit_limit", Static))
        assert text_of(form.query_one("#error-end", Static)).strip() == "“Ends” 2026-06-30 is before “Starts” 2026-07-01"
        form.query_one("#field-credit_limit", Input).value = "50000"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # the end is still before the start: named by the form's fields, not --end
        assert "--" not in text_of(form.query_one("#error-end", Static))
        assert "before “Starts” 2026-07-01" in text_of(form.query_one("#error-end", Static))
        assert contracts_of(book, "BJ001") == []
        form.query_one("#field-end", Input).value = "2027-06-30"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        table = screen.query_one("#archive-contracts", DataTable)
        assert rows(table) == [["HT-2026-07", TODAY.isoformat(), "2026-07-01", "2027-06-30", "EOM30", "50,000.00",
                                "not yet in force", "ok"]]
        assert text_of(screen.query_one("#archive-contracts-status", Static)).startswith("1 contract(s)")
    [k] = contracts_of(book, "BJ001")
    assert (k["number"], k["signed"], k["start_date"], k["end_date"], k["terms"], k["credit_limit"], k["notes"]) == (
        "HT-2026-07", TODAY.isoformat(), "2026-07-01", "2027-06-30", "EOM30", 5_000_000, "年度框架合同")
    assert (k["file_path"], k["file_sha256"], k["file_check"]) == (str(scan), sha256(b"%PDF-1.4 signed contract"), "ok")


async def test_a_second_contract_with_the_same_number_is_refused_beside_the_number(book):
    add_contract(book, "BJ001", "HT-1")
    app = app_for(book, language="zh")
    async with app.run_test(size=SIZE) as pilot:
        await open_contracts(pilot, "BJ001")
        await pilot.press("g")
        await settle(pilot)
        form = app.screen
        await pilot.press(*"HT-1", "ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert text_of(form.query_one("#error-number", Static)).strip() == "客户 BJ001 已有合同 HT-1"
    assert [k["number"] for k in contracts_of(book, "BJ001")] == ["HT-1"]


async def test_attach_a_file_picked_in_the_tree_shows_its_hash_then_records_it(book, tmp_path, monkeypatch):
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "HT-1.pdf").write_bytes(b"%PDF-1.4 scan one")
    monkeypatch.chdir(folder)  # the picker opens in the working directory
    add_contract(book, "BJ001", "HT-1")
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_contracts(pilot, "BJ001")
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, AttachFileScreen))
        attach = app.screen
        await pilot.press("ctrl+s")  # nothing picked yet: says so, records nothing
        await until(pilot, lambda: chosen(attach).startswith("Pick a file first"))
        tree = attach.query_one("#contract-tree", DirectoryTree)
        await until(pilot, lambda: tree.last_line >= 1)  # the tree lists the folder
        await pilot.press("down", "enter")  # the one file in the tree
        await until(pilot, lambda: "SHA-256" in chosen(attach))
        assert f"SHA-256: {sha256(b'%PDF-1.4 scan one')}" in chosen(attach) and "Size: 17 bytes" in chosen(attach)
        assert contracts_of(book, "BJ001")[0]["file_path"] is None  # shown, not yet recorded
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is screen)
        await settle(pilot)
        assert rows(screen.query_one("#archive-contracts", DataTable))[0][-1] == "ok"
    [k] = contracts_of(book, "BJ001")
    assert (k["file_path"], k["file_sha256"]) == (str(folder / "HT-1.pdf"), sha256(b"%PDF-1.4 scan one"))


async def test_replacing_a_recorded_file_asks_first_and_the_detail_keeps_both(book, tmp_path):
    first, second = tmp_path / "HT-1.pdf", tmp_path / "HT-1 amended.pdf"
    first.write_bytes(b"%PDF-1.4 first")
    second.write_bytes(b"%PDF-1.4 amended")
    add_contract(book, "BJ001", "HT-1", file=str(first), terms="NET30", credit_limit="8000")
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_contracts(pilot, "BJ001")
        await pilot.press("enter")  # the contract's detail
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, ContractScreen)
        fields = text_of(detail.query_one("#contract-fields", Static))
        assert "NET30" in fields and "8,000.00" in fields and "ok" in fields
        files = text_of(detail.query_one("#contract-files", Static))
        assert str(first) in files and sha256(b"%PDF-1.4 first") in files and "(now)" in files
        await pilot.press("f")  # attach from the detail
        await until(pilot, lambda: isinstance(app.screen, AttachFileScreen))
        attach = app.screen
        assert "Recorded now: " + str(first) in text_of(attach.query_one("#contract-recorded", Static))
        attach.query_one("#contract-file", Input).focus()
        await pilot.press(*str(second), "enter")
        await until(pilot, lambda: "SHA-256" in chosen(attach))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))  # it replaces a recorded file: asked first
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is attach)
        assert contracts_of(book, "BJ001")[0]["file_path"] == str(first)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is detail)
        await settle(pilot)  # back on the detail, which shows the new file and the one before
        files = text_of(detail.query_one("#contract-files", Static))
        assert files.index(str(second)) < files.index("(now)") < files.index(str(first))
        assert files.index(sha256(b"%PDF-1.4 amended")) < files.index(sha256(b"%PDF-1.4 first"))
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
    [k] = contracts_of(book, "BJ001")
    assert (k["file_path"], k["file_sha256"], k["file_check"]) == (str(second), sha256(b"%PDF-1.4 amended"), "ok")


async def test_a_file_changed_after_it_was_recorded_is_shown_as_changed(book, tmp_path):
    scan = tmp_path / "HT-9.pdf"
    scan.write_bytes(b"%PDF-1.4 as signed")
    add_contract(book, "SH002", "HT-9", file=str(scan))
    scan.write_bytes(b"%PDF-1.4 edited later")
    app = app_for(book, language="zh")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_contracts(pilot, "SH002")
        assert rows(screen.query_one("#archive-contracts", DataTable))[0][-1] == "已改动"
        assert "1 个文件与登记时不符" in text_of(screen.query_one("#archive-contracts-status", Static))
        await pilot.press("enter")
        await settle(pilot)
        assert "已改动" in text_of(app.screen.query_one("#contract-fields", Static))


def contract_of(book, code: str, number: str) -> dict:
    return next(k for k in contracts_of(book, code) if k["number"] == number)


async def test_ending_a_contract_early_asks_first_then_takes_its_last_day_and_reason(book):
    add_contract(book, "BJ001", "HT-1", start="2026-01-05", end="2026-12-31", terms="NET30", credit_limit="8000")
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_contracts(pilot, "BJ001")
        table = screen.query_one("#archive-contracts", DataTable)
        assert rows(table)[0][-2] == "in force"
        await pilot.press("z")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)  # asked first: what ending means, that it is not undone
        assert "End contract HT-1 of BJ001 early?" in text_of(app.screen.query_one("#confirm-title"))
        await pilot.press("escape")  # left: nothing written
        await settle(pilot)
        assert app.screen is screen and contract_of(book, "BJ001", "HT-1")["status"] == "active"
        await pilot.press("z")
        await settle(pilot)
        await pilot.press("enter")  # go ahead: the form takes the last day (today by default) and a reason
        await settle(pilot)
        form = app.screen
        assert isinstance(form, DialogForm)
        assert form.query_one("#field-on", Input).value == TODAY.isoformat()
        form.query_one("#field-on", Input).value = "2027-01-31"  # after the agreed end: refused by the store
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert text_of(form.query_one("#error-on", Static)).strip() == (
            "contract HT-1 runs until 2026-12-31: it can end early on that day or before, not on 2027-01-31")
        form.query_one("#field-on", Input).value = "2026-13-01"  # no such day: named by the form's field
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert text_of(form.query_one("#error-on", Static)).strip() == "Last day '2026-13-01' does not exist in the calendar"
        form.query_one("#field-on", Input).value = "2026-06-30"
        form.query_one("#field-reason", Input).value = "客户停业"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        # still in force until its last day (today is before it), the end column shows the day it ends on
        assert rows(table)[0][3:] == ["2026-06-30", "NET30", "8,000.00", "until 2026-06-30", "no file"]
        await pilot.press("enter")
        await settle(pilot)
        fields = text_of(app.screen.query_one("#contract-fields", Static))
        assert "until 2026-06-30" in fields and "客户停业" in fields and "2026-12-31" in fields
    k = contract_of(book, "BJ001", "HT-1")
    assert (k["status"], k["ended_on"], k["end_reason"], k["end_date"]) == ("ended", "2026-06-30", "客户停业",
                                                                            "2026-12-31")
    with Ledger.open(book, PASSPHRASE) as ledger:  # as of a day after its last day: ended
        assert collections.contract(ledger, "BJ001", "HT-1", "2026-07-01")["state"] == "ended"


async def test_cancelling_from_the_detail_needs_a_reason_and_shows_it_cancelled(book):
    add_contract(book, "BJ001", "HT-2")
    app = app_for(book, language="zh")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_contracts(pilot, "BJ001")
        await pilot.press("enter")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, ContractScreen)
        assert "生效中" in text_of(detail.query_one("#contract-fields", Static))
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "作废 BJ001 的合同 HT-2？" in text_of(app.screen.query_one("#confirm-title"))
        await pilot.press("enter")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, DialogForm)
        await pilot.press("ctrl+s")  # no reason: required, nothing written
        await settle(pilot)
        assert app.screen is form and text_of(form.query_one("#error-reason", Static)).strip()
        assert contract_of(book, "BJ001", "HT-2")["status"] == "active"
        form.query_one("#field-reason", Input).value = "签错了，客户未盖章"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is detail
        fields = text_of(detail.query_one("#contract-fields", Static))
        assert f"{TODAY.isoformat()} 作废" in fields and "签错了，客户未盖章" in fields
        await pilot.press("v")  # cancelled already: said so, nothing asked
        await settle(pilot)
        assert app.screen is detail
        assert any("已于" in str(n.message) and "作废" in str(n.message) for n in app._notifications)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert rows(screen.query_one("#archive-contracts", DataTable))[0][-2] == f"{TODAY.isoformat()} 作废"
    k = contract_of(book, "BJ001", "HT-2")
    assert (k["status"], k["ended_on"], k["end_reason"], k["state"]) == ("cancelled", TODAY.isoformat(),
                                                                         "签错了，客户未盖章", "cancelled")


async def test_an_ended_contract_is_not_ended_again_and_the_keys_belong_to_the_contracts_tab(book):
    add_contract(book, "BJ001", "HT-3")
    with Ledger.open(book, PASSPHRASE) as ledger:
        collections.end_contract(ledger, "BJ001", "HT-3", "2026-02-28", "合同到期前终止")
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(CustomerScreen("BJ001"))
        await settle(pilot)
        assert not {"end_contract", "cancel_contract"} & footer_keys(app)  # the details tab: not theirs
        screen = await open_contracts(pilot, "BJ001")
        assert {"end_contract", "cancel_contract"} <= footer_keys(app)
        assert rows(screen.query_one("#archive-contracts", DataTable))[0][-2] == "ended 2026-02-28"
        await pilot.press("z")
        await settle(pilot)
        assert app.screen is screen  # nothing asked: it has ended
        assert any("has already ended (its last day: 2026-02-28)" in str(n.message) for n in app._notifications)
    assert contract_of(book, "BJ001", "HT-3")["ended_on"] == "2026-02-28"


async def test_an_end_before_the_start_is_named_in_the_form_s_words_and_cleared_by_fixing_either_date(book):
    app = app_for(book, language="zh")
    async with app.run_test(size=SIZE) as pilot:
        await open_contracts(pilot, "BJ001")
        await pilot.press("g")
        await settle(pilot)
        form = app.screen
        await pilot.press(*"HT-9", "enter", "enter", *"2026-07-01", "enter", *"2026-06-30", "ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert text_of(form.query_one("#error-end", Static)).strip() == "“终止日” 2026-06-30 早于“生效日” 2026-07-01"
        form.query_one("#field-start", Input).value = "2026-06-01"  # the start fixed, not the end: cleared too
        await pilot.pause()
        assert text_of(form.query_one("#error-end", Static)).strip() == ""
        form.query_one("#field-signed", Input).value = "2026-02-30"  # its own field's label names it
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert text_of(form.query_one("#error-signed", Static)).strip() == "签订日 '2026-02-30' 在日历上不存在"
    assert contracts_of(book, "BJ001") == []
