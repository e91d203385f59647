"""The payment screens through Pilot: record a payment with the oldest-due-first suggestion, change an
amount, over-allocation refused, unapplied credit shown and applied from the customer's archive."""
from __future__ import annotations


import pytest
from textual.widgets import DataTable, Input, Static

from store.ledger.ledger import Ledger
from tests.support.app import SIZE, app_for, settle, text_of
from tests.support.book import PASSPHRASE
from tui.screens.apply import ApplyScreen
from tui.screens.customer import CustomerScreen
from tui.screens.payment_form import PaymentFormScreen
from tui.screens.payments import PaymentsScreen
from tui.screens.prompt import PromptScreen

pytestmark = pytest.mark.anyio


def allocations(form) -> dict[str, str]:
    table = form.query_one("#allocations", DataTable)
    return {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[3]) for i in range(table.row_count)}


async def payment_form(pilot, customer: str, amount: str):
    await settle(pilot)
    await pilot.press("4")
    await settle(pilot)
    assert isinstance(pilot.app.screen, PaymentsScreen)
    await pilot.press("n")
    form = pilot.app.screen
    assert isinstance(form, PaymentFormScreen)
    await pilot.press(*customer)
    form.query_one("#field-amount", Input).value = amount
    await settle(pilot)
    return form


async def test_record_a_payment_and_change_the_suggested_allocation(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        form = await payment_form(pilot, "BJ001", "7,000.00")
        # BJ001's open items, earliest due first: T1-000005 (6,000.00 left of 10,000.00), T1-000004, T1-000003;
        # 7,000.00 oldest due first: 6,000.00 to T1-000005, the 1,000.00 left to T1-000004
        assert allocations(form) == {"T1-000005": "6,000.00", "T1-000004": "1,000.00", "T1-000003": "0.00"}
        table = form.query_one("#allocations", DataTable)
        table.focus()
        table.move_cursor(row=table.get_row_index("T1-000004"))
        await pilot.press("enter")
        assert isinstance(app.screen, PromptScreen)
        app.screen.query_one("#prompt-input", Input).value = "400"
        await pilot.press("enter")
        assert allocations(form)["T1-000004"] == "400.00"
        assert "unapplied 600.00 CNY" in text_of(form.query_one("#payment-status", Static))
        form.query_one("#field-reference", Input).value = "HX-88"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, PaymentsScreen)
        payments = app.screen.query_one("#payments", DataTable)
        assert payments.row_count == 3
        newest = payments.get_row_at(0)
        assert (str(newest[0]), newest[2], newest[3], newest[4], newest[6], str(newest[7]), str(newest[8])) == (
            "RC-T1-000001", "BJ001", "北京华信科技有限公司", "CNY", "HX-88", "7,000.00", "600.00")  # the list shows the payment's number
    with Ledger.open(book, PASSPHRASE) as ledger:
        rows = ledger.rows("""SELECT i.number, a.amount FROM allocations a JOIN invoices i ON i.id = a.invoice_id
                              JOIN payments p ON p.id = a.payment_id WHERE p.reference = 'HX-88' ORDER BY i.number""")
    assert rows == [{"number": "T1-000004", "amount": 40_000}, {"number": "T1-000005", "amount": 600_000}]


@pytest.mark.parametrize(("language", "shown"), [("zh", "银行转账"), ("en", "bank transfer")])
async def test_the_method_is_offered_in_words_and_stored_as_its_key(book, language, shown):
    app = app_for(book, language=language)
    async with app.run_test(size=SIZE) as pilot:
        form = await payment_form(pilot, "BJ001", "100")
        assert form.query_one("#field-method", Input).value == shown  # not the key bank_transfer
        form.query_one("#field-reference", Input).value = "WORDS-1"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, PaymentsScreen)
    with Ledger.open(book, PASSPHRASE) as ledger:
        assert ledger.rows("SELECT method FROM payments WHERE reference = 'WORDS-1'") == [{"method": "bank_transfer"}]


async def test_more_than_is_open_is_refused_and_nothing_is_written(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        form = await payment_form(pilot, "BJ001", "7,000.00")
        table = form.query_one("#allocations", DataTable)
        table.focus()
        table.move_cursor(row=table.get_row_index("T1-000005"))
        await pilot.press("enter")
        app.screen.query_one("#prompt-input", Input).value = "6,500.00"
        await pilot.press("enter")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        error = text_of(form.query_one("#form-error", Static)) + text_of(form.query_one("#error-amount", Static))
        assert "T1-000005" in error
        assert allocations(form)["T1-000005"] == "6,500.00"  # what was typed stays
    with Ledger.open(book, PASSPHRASE) as ledger:
        assert ledger.row("SELECT count(*) AS n FROM payments")["n"] == 2


async def test_a_payment_with_nothing_applied_stays_unapplied(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        form = await payment_form(pilot, "SZ004", "50")
        # SZ004 already has 100.00 unapplied (ALI-9); 50.00 would go to its one invoice, T1-000011
        status = text_of(form.query_one("#payment-status", Static))
        assert "Already unapplied before this payment: 100.00 CNY" in status
        assert allocations(form) == {"T1-000011": "50.00"}
        await pilot.press("ctrl+l")
        assert allocations(form) == {"T1-000011": "0.00"}
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, PaymentsScreen)
    with Ledger.open(book, PASSPHRASE) as ledger:
        row = ledger.row("""SELECT p.amount, (SELECT count(*) FROM allocations a WHERE a.payment_id = p.id) AS n
                            FROM payments p WHERE p.amount = 5000""")
    assert row == {"amount": 5000, "n": 0}


async def test_the_archive_shows_open_items_payments_and_applies_unapplied_credit(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(CustomerScreen("SZ004"))
        await settle(pilot)
        screen = app.screen
        # T1-000011 666.00 open, 100.00 unapplied: balance 566.00
        assert "CNY: balance 566.00, unapplied credit 100.00" in text_of(screen.query_one("#archive-balance", Static))
        items = screen.query_one("#open-items", DataTable)
        assert [str(c) for c in items.get_row_at(0)] == ["T1-000011", "2026-03-30", "2026-04-29", "", "CNY", "666.00"]
        paid = screen.query_one("#archive-payments", DataTable)
        assert [str(c) for c in paid.get_row_at(0)][1:8] == ["2026-03-29", "Alipay", "ALI-9", "CNY", "100.00", "0.00",
                                                               "100.00"]
        await pilot.press("a")  # the dialog shows where the money would go before anything is written
        await settle(pilot)
        assert isinstance(app.screen, ApplyScreen)
        dialog = app.screen.query_one("#apply-items", DataTable)
        assert [str(c) for c in dialog.get_row_at(0)] == ["T1-000011", "2026-04-29", "666.00", "100.00"]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        assert "CNY: balance 566.00, unapplied credit 0.00" in text_of(screen.query_one("#archive-balance", Static))
        assert str(items.get_row_at(0)[5]) == "566.00"
        await pilot.press("a")  # nothing left to apply: said so, nothing written
        await settle(pilot)
        assert "To apply: 0.00 CNY" in str(app.screen.query_one("#apply-available", Static).render())
        await pilot.press("ctrl+s", "escape")
        await settle(pilot)
        assert app.screen is screen
    with Ledger.open(book, PASSPHRASE) as ledger:
        rows = ledger.rows("SELECT amount, date FROM allocations WHERE payment_id = "
                           "(SELECT id FROM payments WHERE reference = 'ALI-9')")
    assert rows == [{"amount": 10_000, "date": "2026-03-31"}]
