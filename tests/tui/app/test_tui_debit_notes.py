"""Debit notes (借项通知单) in the app: posted from the invoice screen (n) or the customer screen (b) through the same
store function as `duly debit add`; the ledger holds it, the customer's open items and the invoices list show it as
the CLI lists it (an open item numbered DN-…), and a wrong field is marked with the form kept filled."""
from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input, Static

from store.ledger.ledger import Ledger
from store.write import debit_notes
from tests.support.app import SIZE, app_for, hold_still, settle, text_of
from tests.support.book import PASSPHRASE
from tui.screens.customer import CustomerScreen
from tui.screens.dialog_form import DialogForm
from tui.screens.invoice import InvoiceScreen

pytestmark = pytest.mark.anyio

SIZES = [(120, 40), (80, 24)]


def rows(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_a_debit_note_from_the_invoice_screen_is_in_the_ledger_and_the_open_items(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(InvoiceScreen("T1-000002"))  # ACME, USD
        await settle(pilot)
        screen = app.screen
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, DialogForm)
        assert form.query_one("#field-invoice", Input).value == "T1-000002"
        assert form.query_one("#field-date", Input).value == "2026-03-31"
        await pilot.press(*"35.50", "enter", *"late fee", "enter", "enter", "enter")
        await settle(pilot)
        assert app.screen is screen
        assert any("debit note DN-T1-000001 of 35.50 USD issued" in str(n.message) for n in app._notifications)
        with Ledger.open(book, PASSPHRASE) as ledger:
            [note] = debit_notes.listing(ledger, customer_code="ACME")
        assert (note["number"], note["currency"], note["amount"], note["open"], note["reason"]) == (
            "DN-T1-000001", "USD", 3550, 3550, "late fee (T1-000002)")
        # the customer's open items hold it, as `duly debit list` and the statement do
        app.push_screen(CustomerScreen("ACME"))
        await settle(pilot)
        items = rows(app.screen.query_one("#open-items", DataTable))
        assert ["DN-T1-000001", "2026-03-31", "2026-03-31", "", "USD", "35.50"] in items
        # and the invoices list shows it among the invoices, as `duly invoice list` does
        await pilot.press("3")
        await settle(pilot)
        listed = rows(app.screen.query_one("#invoices", DataTable))
        assert any(r[0] == "DN-T1-000001" and "35.50" in r for r in listed), listed


async def test_a_debit_note_from_the_customer_screen_marks_a_wrong_field_and_keeps_the_form(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(CustomerScreen("BJ001"))
        await settle(pilot)
        screen = app.screen
        await pilot.press("b")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, DialogForm)
        await pilot.press(*"-5", "enter", "enter", "enter", *"T1-000001", "enter")  # ACME's invoice, no reason
        await settle(pilot)
        assert app.screen is form
        assert form.query_one("#row-amount").has_class("invalid")
        assert form.query_one("#row-reason").has_class("invalid")
        form.query_one("#field-amount", Input).value = "120"
        form.query_one("#field-reason", Input).value = "退票手续费"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # T1-000001 is ACME's: refused by the ledger, beside the invoice field
        assert "belongs to customer ACME, not BJ001" in text_of(form.query_one("#error-invoice", Static))
        form.query_one("#field-invoice", Input).value = ""  # a charge on the account
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert screen.query_one("#archive-tabs").active == "tab-open"
        items = rows(screen.query_one("#open-items", DataTable))
        assert any(r[0].startswith("DN-T1-") and r[-1] == "120.00" for r in items)
    with Ledger.open(book, PASSPHRASE) as ledger:
        [note] = debit_notes.listing(ledger, customer_code="BJ001")
        assert (note["amount"], note["currency"], note["reason"]) == (12000, "CNY", "退票手续费")
        assert debit_notes.listing(ledger, customer_code="ACME") == []


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_debit_note_form_snapshot(snap_compare, book, language, size):
    app = app_for(book, language=language)

    async def before(pilot) -> None:
        await hold_still(pilot)
        pilot.app.push_screen(InvoiceScreen("T1-000003"))
        await hold_still(pilot)
        await pilot.press("n")
        await hold_still(pilot)
        await pilot.press(*"0", "ctrl+s")  # a zero amount and no reason, both marked
        await hold_still(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)
