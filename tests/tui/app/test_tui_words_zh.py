"""What the app shows from the ledger and from a run reads in the reader's language: a reminder's outcome on the
customer screen, yes / no in a customer's change history, the notes the app itself wrote (in English, as they
were always stored) worded in Chinese where they are shown."""
from __future__ import annotations

import socket

import pytest
from textual.widgets import DataTable, TabbedContent

from store.ledger.ledger import Ledger
from store.write import customers, settings
from tests.support.app import app_for, settle
from tests.support.book import PASSPHRASE
from tui.screens.customer import CustomerScreen

pytestmark = pytest.mark.anyio


def closed_port() -> int:
    """A loopback port nothing listens on (a connection to it is refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def open_customer(pilot, code: str, tab: str | None = None) -> CustomerScreen:
    await settle(pilot)
    pilot.app.push_screen(CustomerScreen(code))
    await settle(pilot)
    if tab:
        pilot.app.screen.query_one("#archive-tabs", TabbedContent).active = tab
        await settle(pilot)
    return pilot.app.screen


async def test_a_reminder_that_could_not_be_sent_is_told_in_chinese_on_the_customer_screen(book):
    with Ledger.open(book, PASSPHRASE) as ledger:
        settings.put_many(ledger, {"smtp.host": "127.0.0.1", "smtp.port": str(closed_port()),
                                   "smtp.from": "ar@hengxin.example.cn", "smtp.starttls": "false"})
    app = app_for(book, language="zh")
    async with app.run_test(size=(120, 40)) as pilot:
        await open_customer(pilot, "BJ001", "tab-statement")
        await pilot.press("d")
        await settle(pilot)
        await pilot.click("#pick-send")
        await settle(pilot)
        await pilot.click("#ask-yes")
        await settle(pilot)
        told = "\n".join(str(n.message) for n in app._notifications)
        assert "无法连接 SMTP 服务器 127.0.0.1" in told  # the outcome's detail, in the reader's words
        assert "cannot connect" not in told


async def test_archived_and_the_settlement_cycle_read_in_words_in_a_customers_history_in_chinese(book):
    with Ledger.open(book, PASSPHRASE, actor="tester") as ledger:
        customers.set_archived(ledger, "EU01", True)
        customers.set_archived(ledger, "EU01", False)
        customers.edit(ledger, "EU01", settlement_cycle="monthly")
    app = app_for(book, language="zh")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_customer(pilot, "EU01", "tab-history")
        table = screen.query_one("#history", DataTable)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        archived = [row[2:4] for row in rows if row[1] == app.t("field.archived")]
        assert archived[:2] == [["是", "否"], ["否", "是"]]  # newest first: unarchived, then archived
        [cycle] = [row[2:4] for row in rows if row[1] == app.t("field.settlement_cycle") and row[2]]
        assert cycle == [app.t("cycle.per_order"), app.t("cycle.monthly")] and "monthly" not in cycle


async def test_the_notes_the_app_wrote_in_the_ledger_read_in_chinese_on_the_payment_and_invoice_screens(book):
    from store.write import adjustments, payments
    from tests.support.app import text_of
    from tui.screens.invoice import InvoiceScreen
    from tui.screens.payment import PaymentScreen

    with Ledger.open(book, PASSPHRASE, actor="tester") as ledger:  # as a bank line accepted on 2026-03-30 left them
        paid = payments.add(ledger, "SZ004", "2026-03-30", "66", note="bank line 0a1b2c3d 深圳前海 货款")
        adjustments.write_off(ledger, "T1-000011", "2026-03-30", "bank fee (bank line 0a1b2c3d)", "0.50")
    app = app_for(book, language="zh")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(PaymentScreen(paid.id))
        await settle(pilot)
        head = text_of(app.screen.query_one("#payment-head"))
        assert "银行流水 0a1b2c3d 深圳前海 货款" in head and "bank line" not in head
        app.pop_screen()
        app.push_screen(InvoiceScreen("T1-000011"))
        await settle(pilot)
        applied = app.screen.query_one("#invoice-applied", DataTable)
        rows = " ".join(str(c) for i in range(applied.row_count) for c in applied.get_row_at(i))
        assert "银行手续费（银行流水 0a1b2c3d）" in rows and "bank fee" not in rows


async def test_the_note_a_reminder_left_reads_in_chinese_in_the_customers_notes_and_a_typed_one_as_typed(book):
    from store.write import collections

    with Ledger.open(book, PASSPHRASE) as ledger:
        collections.add_note(ledger, "BJ001", "letter", "reminder (L2) letter written: F-0001")
        collections.add_note(ledger, "BJ001", "phone", "called Mr Li, pays Friday")
    app = app_for(book, language="zh")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_customer(pilot, "BJ001", "tab-notes")
        table = screen.query_one("#archive-notes", DataTable)
        texts = [str(table.get_row_at(k)[2]) for k in range(table.row_count)]
        assert "催款（L2）已写催款函：F-0001" in texts
        assert "called Mr Li, pays Friday" in texts  # what a person typed stays as typed
        assert not any(t.startswith("reminder (") for t in texts)
