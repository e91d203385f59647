"""The day's jobs on a payment, by keys: its detail screen (number, method, reference, allocations), void with a
reason, re-allocate to other invoices, apply what is unapplied to invoices of one's choosing (not only oldest
first). Each test checks what the screen then shows and what the ledger then holds."""
from __future__ import annotations

import shutil

import pytest
from textual.widgets import DataTable, Static

from store.ledger.ledger import Ledger
from store.read import open as openitems
from store.write import invoices, payments
from tests.support.app import SIZE, app_for, settle, text_of
from tests.support.book import PASSPHRASE, make_book
from tui.screens.apply import ApplyScreen
from tui.screens.payment import PaymentScreen
from tui.screens.payments import PaymentsScreen
from tui.screens.prompt import PromptScreen

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def master(tmp_path_factory):
    path = make_book(tmp_path_factory.mktemp("book") / "book.duly")
    with Ledger.open(path, PASSPHRASE) as ledger:  # 5,000.00 from BJ001 kept unapplied, numbered RC-T1-000001
        payments.add(ledger, "BJ001", "2026-03-30", "5000", method_name="wechat", reference="WX-5", auto=False)
    return path


@pytest.fixture
def book(master, tmp_path):
    return shutil.copy(master, tmp_path / "book.duly")


def rows(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def open_of(ledger, number: str) -> int:
    return openitems.invoice_open(ledger, invoices.by_number(ledger, number)["id"])


async def open_payment(pilot, reference: str) -> PaymentScreen:
    """From the Payments list (key 4): the row of the payment, Enter."""
    await settle(pilot)
    await pilot.press("4")
    await settle(pilot)
    assert isinstance(pilot.app.screen, PaymentsScreen)
    table = pilot.app.screen.query_one("#payments", DataTable)
    column = table.get_column_index("reference")
    [index] = [i for i, r in enumerate(rows(table)) if r[column] == reference]
    table.move_cursor(row=index)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, PaymentScreen)
    return pilot.app.screen


async def test_payment_detail_shows_number_method_reference_and_allocations(book):
    app = app_for(book, language="zh")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        assert rows(app.screen.query_one("#payments", DataTable))[0][:3] == ["RC-T1-000001", "2026-03-30", "BJ001"]
        screen = await open_payment(pilot, "WX-5")
        head = text_of(screen.query_one("#payment-head", Static))
        for shown in ("RC-T1-000001", "北京华信科技有限公司", "5,000.00 CNY", "微信", "WX-5"):
            assert shown in head
        assert "收款单 RC-T1-000001" in str(screen.query_one("#payment-title").render())


async def test_void_a_payment_with_a_reason_reopens_what_it_paid(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_payment(pilot, "PAY-1")  # 4,000.00 on T1-000005
        assert rows(screen.query_one("#payment-allocations", DataTable)) == [["2026-03-01", "T1-000005", "4,000.00"]]
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"cheque bounced", "enter")
        await settle(pilot)
        assert app.screen is screen
        assert "cheque bounced" in text_of(screen.query_one("#payment-head", Static))
        assert rows(screen.query_one("#payment-allocations", DataTable))[-1] == ["2026-03-31", "T1-000005",
                                                                                 "-4,000.00"]
        assert any("reopened T1-000005 4,000.00" in str(n.message) for n in app._notifications)
    with Ledger.open(book, PASSPHRASE) as ledger:
        assert open_of(ledger, "T1-000005") == 1_000_000
        [voided] = [p for p in payments.listing(ledger, customer_code="BJ001") if p["reference"] == "PAY-1"]
        assert voided["status"] == "voided"
        assert ledger.row("SELECT reason FROM voids WHERE doc_table='payments'")["reason"] == "cheque bounced"


async def test_reallocate_moves_a_payment_to_the_invoice_chosen(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_payment(pilot, "PAY-1")
        await pilot.press("e")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ApplyScreen)
        table = dialog.query_one("#apply-items", DataTable)
        # T1-000005 listed with the payment's 4,000.00 added back; the suggestion puts it back where it was
        assert rows(table)[0] == ["T1-000005", "2025-10-12", "10,000.00", "4,000.00"]
        await pilot.press("ctrl+l")  # nothing chosen, then 4,000.00 to T1-000004
        table.move_cursor(row=[r[0] for r in rows(table)].index("T1-000004"))
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("ctrl+u", *"4000", "enter")
        await settle(pilot)
        assert "Applying 4,000.00 CNY; 0.00 stays unapplied" in str(dialog.query_one("#apply-status").render())
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert rows(screen.query_one("#payment-allocations", DataTable))[1:] == [
            ["2026-03-31", "T1-000005", "-4,000.00"], ["2026-03-31", "T1-000004", "4,000.00"]]
    with Ledger.open(book, PASSPHRASE) as ledger:
        assert open_of(ledger, "T1-000005") == 1_000_000
        assert open_of(ledger, "T1-000004") == 2_340_000 - 400_000


async def test_apply_unapplied_to_the_newest_invoice_not_the_oldest(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_payment(pilot, "WX-5")
        await pilot.press("a")
        await settle(pilot)
        dialog = app.screen
        table = dialog.query_one("#apply-items", DataTable)
        assert rows(table)[0][3] == "5,000.00"  # oldest due first, to start from
        await pilot.press("ctrl+l")
        table.move_cursor(row=[r[0] for r in rows(table)].index("T1-000003"))
        await pilot.press("enter", "ctrl+u", *"5000", "enter")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert "Unapplied  0.00" in text_of(screen.query_one("#payment-head", Static))
    with Ledger.open(book, PASSPHRASE) as ledger:
        assert open_of(ledger, "T1-000003") == 8_800_000 - 500_000
        assert open_of(ledger, "T1-000005") == 600_000  # the oldest was left as it was


async def test_applying_more_than_there_is_is_refused_and_nothing_is_written(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await open_payment(pilot, "WX-5")
        await pilot.press("a")
        await settle(pilot)
        dialog = app.screen
        await pilot.press("enter", "ctrl+u", *"9000", "enter")
        await settle(pilot)
        assert "more than there is to apply" in str(dialog.query_one("#apply-status").render())
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is dialog  # the refusal is shown in the dialog, which stays
        assert "5,000.00" in str(dialog.query_one("#apply-status").render()) or "more" in str(
            dialog.query_one("#apply-status").render())
    with Ledger.open(book, PASSPHRASE) as ledger:
        assert payments.detail(ledger, "RC-T1-000001")["unapplied"] == 500_000
