"""First run through Pilot: `duly` with no ledger at its path offers to create one (or the demo book) in the app;
every wrong field is marked at once and nothing is created; then the ledger holds what was typed."""
from __future__ import annotations

import pytest

from store.ledger.ledger import Ledger
from store.write import settings
from tests.support.app import SIZE, settle
from tests.support.book import TODAY
from tui.app.app import DulyApp
from tui.screens.dashboard import DashboardScreen
from tui.screens.first_run import FirstRunScreen

pytestmark = pytest.mark.anyio

GOOD = "copper kettle sings at dawn"


async def type_into(pilot, field_id: str, text: str) -> None:
    pilot.app.screen.query_one(field_id).focus()
    await pilot.press(*text)


def shown_error(app, name: str) -> str:
    return str(app.screen.query_one(f"#error-{name}").content)


async def test_first_run_creates_the_ledger_with_what_was_typed(tmp_path):
    path = tmp_path / "books" / "ours.duly"
    app = DulyApp(path, today=TODAY, language="en")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, FirstRunScreen)
        await type_into(pilot, "#field-passphrase", GOOD)
        await pilot.press("enter")  # Enter moves on to the second passphrase
        assert app.focused.id == "field-again"
        await pilot.press(*GOOD, "enter")
        assert app.focused.id == "field-company"
        await pilot.press(*"Acme Trading", "enter")
        await settle(pilot)
        assert "strong enough" in str(app.screen.query_one("#first-strength").content)
        app.screen.query_one("#field-currency").value = "USD"
        await type_into(pilot, "#field-series", "b7")
        await pilot.press("enter")  # the last field: Enter creates
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
    with Ledger.open(path, GOOD) as ledger:
        assert settings.get(ledger, "company.name") == "Acme Trading"
        assert settings.get(ledger, "currency") == "USD"
        assert settings.get(ledger, "language") == "en"
        assert settings.get(ledger, "invoice.series") == "B7"


async def test_first_run_marks_every_wrong_field_and_creates_nothing(tmp_path):
    path = tmp_path / "ours.duly"
    app = DulyApp(path, today=TODAY, language="en")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_into(pilot, "#field-passphrase", "abc")
        await type_into(pilot, "#field-again", "abd")
        await type_into(pilot, "#field-series", "TOO-LONG-SERIES")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, FirstRunScreen)
        assert "weak" in shown_error(app, "passphrase")
        assert "differ" in shown_error(app, "again")
        assert "1-6 letters or digits" in shown_error(app, "series")
        assert app.focused.id == "field-passphrase"
        assert not path.exists()
        await type_into(pilot, "#field-series", "")  # typing into a wrong field clears its error
        await pilot.press("backspace")
        assert shown_error(app, "series") == ""
        assert "differ" in shown_error(app, "again")


async def test_first_run_makes_the_demo_book_in_chinese(tmp_path):
    path = tmp_path / "demo.duly"
    app = DulyApp(path, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one("#field-language").value = "zh"
        await settle(pilot)
        assert app.language == "zh"
        assert str(app.screen.query_one("#first-title").content) == "欢迎使用 Duly"  # the screen switched at once
        await type_into(pilot, "#field-passphrase", GOOD)
        await type_into(pilot, "#field-again", GOOD)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
    with Ledger.open(path, GOOD) as ledger:
        assert ledger.conn.execute("SELECT count(*) FROM customers").fetchone()[0] > 10
        assert ledger.conn.execute("SELECT count(*) FROM invoices").fetchone()[0] > 100
        assert settings.get(ledger, "language") == "zh"
