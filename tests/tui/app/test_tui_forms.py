"""The manners of the full-screen forms (customer, invoice, payment): letter and digit keys type, Enter moves to
the next field and the last Enter saves, every field's error shows at once and goes when fixed, Escape on a
form with something typed asks before throwing it away."""
from __future__ import annotations


import pytest
from textual.widgets import Input, Static

from store.ledger.ledger import Ledger
from tests.support.app import SIZE, app_for, settle
from tests.support.book import PASSPHRASE
from tui.screens.confirm import ConfirmScreen
from tui.screens.customer_form import FIELDS, CustomerFormScreen
from tui.screens.customer import CustomerScreen
from tui.screens.customers import CustomersScreen
from tui.screens.payment_form import PaymentFormScreen

pytestmark = pytest.mark.anyio


def error(form, name: str) -> str:
    return str(form.query_one(f"#error-{name}", Static).render())


def customer_count(book) -> int:
    with Ledger.open(book, PASSPHRASE) as ledger:
        return ledger.row("SELECT count(*) AS n FROM customers")["n"]


async def new_customer_form(pilot) -> CustomerFormScreen:
    await settle(pilot)
    await pilot.press("2", "n")
    await settle(pilot)
    assert isinstance(pilot.app.screen, CustomerFormScreen)
    return pilot.app.screen


async def test_enter_moves_to_the_next_field_and_the_last_enter_saves(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        form = await new_customer_form(pilot)
        await pilot.press(*"HZ9", "enter")  # letters and digits type; Enter goes on to the name
        assert app.focused is form.query_one("#field-name", Input)
        await pilot.press(*"Hangzhou 1 Tea", "enter")
        assert app.focused is form.query_one(f"#field-{FIELDS[2]}", Input)
        assert isinstance(app.screen, CustomerFormScreen)  # not saved yet
        form.query_one(f"#field-{FIELDS[-1]}", Input).focus()
        await pilot.press("enter")  # the last field's Enter saves (and opens the new customer)
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen) and app.screen.code == "HZ9"
    with Ledger.open(book, PASSPHRASE) as ledger:
        assert ledger.row("SELECT name FROM customers WHERE code='HZ9'")["name"] == "Hangzhou 1 Tea"


async def test_every_field_error_at_once_each_cleared_when_fixed(book):
    before = customer_count(book)
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        form = await new_customer_form(pilot)
        form.query_one("#field-email", Input).value = "not-an-address"
        form.query_one("#field-currency", Input).value = "RMBX"
        form.query_one("#field-credit_limit", Input).value = "12.345"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CustomerFormScreen)
        shown = {name: error(form, name) for name in ("code", "name", "email", "currency", "credit_limit")}
        assert all(shown.values()), shown
        assert shown["code"] == shown["name"] == "required"
        assert app.focused is form.query_one("#field-code", Input)  # the first wrong field
        form.query_one("#field-email", Input).value = "ap@hz9.example.cn"
        await pilot.pause()
        assert error(form, "email") == ""
        assert error(form, "currency") and error(form, "code")
    assert customer_count(book) == before


async def test_escape_asks_before_throwing_typed_text_away(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await new_customer_form(pilot)
        await pilot.press("escape")  # nothing typed: leaves at once
        await settle(pilot)
        assert isinstance(app.screen, CustomersScreen)
        form = await new_customer_form(pilot)
        await pilot.press(*"HZ9", "escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")  # keep typing
        await settle(pilot)
        assert app.screen is form and form.query_one("#field-code", Input).value == "HZ9"
        await pilot.press("escape", "enter")  # throw it away
        await settle(pilot)
        assert isinstance(app.screen, CustomersScreen)


async def test_payment_form_shows_amount_and_method_errors_together(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("4", "n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, PaymentFormScreen)
        await pilot.press(*"BJ001", "enter", "enter", *"abc", "enter")
        form.query_one("#field-method", Input).value = "bitcoin"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "'abc' is not a number" in error(form, "amount")
        assert "bitcoin" in error(form, "method")
