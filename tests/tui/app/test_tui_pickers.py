"""Pickers, not free text, for a customer, terms and a currency in the forms (typed, then chosen from what the
ledger holds), and lists that sort by a column in SQL and reach their last row by End even when paged."""
from __future__ import annotations

import pytest
from textual.widgets import Static

from store.ledger.ledger import Ledger
from tests.support.app import SIZE, app_for, settle, text_of
from tests.support.book import PASSPHRASE
from tui.screens.invoice_form import InvoiceFormScreen
from tui.widgets.picker import Picker

pytestmark = pytest.mark.anyio


async def invoice_form(pilot) -> InvoiceFormScreen:
    await settle(pilot)
    await pilot.press("3", "n")
    await settle(pilot)
    assert isinstance(pilot.app.screen, InvoiceFormScreen)
    return pilot.app.screen


async def test_a_customer_picked_by_pinyin_initials_gets_the_invoice(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        form = await invoice_form(pilot)
        await pilot.press(*"bjhx")  # 北京华信科技 by its initials
        await settle(pilot)
        picker = form.query_one("#picker-customer", Picker)
        assert picker.is_open
        assert [c.value for c in picker.choices] == ["BJ001"]
        await pilot.press("down", "enter")  # into the suggestions, pick
        await settle(pilot)
        assert form.query_one("#field-customer").value == "BJ001"
        assert "北京华信科技有限公司" in str(picker.query_one(".picker-detail", Static).render())
        assert app.focused.id == "field-date"  # picking moved on, like Enter
        await pilot.press("enter", *"1200", "ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, InvoiceFormScreen)
    with Ledger.open(book, PASSPHRASE) as ledger:
        newest = ledger.row("SELECT c.code, i.total FROM invoices i JOIN customers c ON c.id = i.customer_id "
                            "ORDER BY i.rowid DESC LIMIT 1")
    assert (newest["code"], newest["total"]) == ("BJ001", 120000)
