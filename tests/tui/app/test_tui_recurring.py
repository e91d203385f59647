"""Recurring invoices in the app, through Pilot: from a customer's archive (key R) the list of its schedules; a new
one through the form (a bad day is marked on its field and nothing is written); pause and resume."""
from __future__ import annotations


import pytest
from textual.widgets import DataTable, Input, Static

from store.ledger.ledger import Ledger
from tests.support.app import SIZE, app_for, settle, text_of
from tests.support.book import PASSPHRASE, make_book
from tui.screens.customer import CustomerScreen
from tui.screens.recurring import RecurringFormScreen, RecurringScreen

pytestmark = pytest.mark.anyio


@pytest.fixture
def book(tmp_path):
    return make_book(tmp_path / "book.duly")


def rows(screen) -> list[list[str]]:
    table = screen.query_one("#recurring-list", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_add_a_schedule_from_the_customer_archive_then_pause_and_resume_it(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(CustomerScreen("BJ001"))
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RecurringScreen)
        assert "No recurring invoices" in text_of(screen.query_one("#recurring-status", Static))
        await pilot.press("a")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, RecurringFormScreen)
        for name, value in (("day", "32"), ("start", "2026-01-31"), ("amount", "8000")):
            form.query_one(f"#field-{name}", Input).value = value
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # refused: the day is marked, what was typed is kept, nothing written
        assert "day '32'" in text_of(form.query_one("#error-day", Static))
        assert form.query_one("#field-amount", Input).value == "8000"
        with Ledger.open(book, PASSPHRASE) as led:
            assert led.row("SELECT count(*) AS n FROM recurring")["n"] == 0
        form.query_one("#field-day", Input).value = "last"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        [row] = rows(screen)
        assert row[:3] == [row[0], "monthly on the last day", "2026-01-31"] and row[0].startswith("R-")
        assert row[5] == "8000.00" and row[7] == "active" and row[9] == "2026-01-31"
        await pilot.press("space")
        await settle(pilot)
        assert rows(screen)[0][7] == "paused"
        await pilot.press("space")
        await settle(pilot)
        assert rows(screen)[0][7] == "active" and rows(screen)[0][9] == "2026-03-31"  # resumed from today
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
