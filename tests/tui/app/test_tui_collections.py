"""The Collections screen through Pilot: today's plan by level (a disputed and a promised invoice left out), the
follow-up due today, the pending promise, the open dispute and the alerts; Enter opens the customer."""
from __future__ import annotations

import pytest
from textual.widgets import DataTable

from store.write import collections
from store.ledger.ledger import Ledger
from tests.support.app import SIZE, app_for, settle
from tests.support.book import PASSPHRASE, make_book
from tui.screens.collections import CollectionsScreen
from tui.screens.customer import CustomerScreen

pytestmark = pytest.mark.anyio


def cells(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_collections_screen_shows_today_by_level(tmp_path):
    path = make_book(tmp_path / "book.duly")
    with Ledger.open(path, PASSPHRASE) as ledger:  # today is 2026-03-31 in the book
        collections.open_dispute(ledger, "T1-000008", "价格争议", on="2026-03-01")
        collections.add_promise(ledger, "T1-000006", "2026-04-10", "1000", made_on="2026-03-30")
        collections.add_note(ledger, "SH002", "phone", "约好今天回电", next_action="2026-03-31", on="2026-03-20")
    app = app_for(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CollectionsScreen)
        # default levels; days late = age - days of credit: T1-000005 200-30, T1-000007 120-30, T1-000002 75-30,
        # T1-000010 95-60, T1-000004 50-30. T1-000008 (disputed) and T1-000006 (promised) are left out.
        plan = cells(screen.query_one("#coll-plan", DataTable))
        assert [row[1:5] for row in plan] == [
            ["Legal action", "BJ001", "T1-000005", "170"], ["Legal action", "GZ003", "T1-000007", "90"],
            ["Phone call", "ACME", "T1-000002", "45"], ["Second reminder", "SH002", "T1-000010", "35"],
            ["First reminder", "BJ001", "T1-000004", "20"]]
        assert plan[0][5:] == ["6,000.00 CNY", "legal"] and plan[0][0] == "to decide"  # 10,000.00 less the 4,000.00 part payment
        assert cells(screen.query_one("#coll-follow", DataTable)) == [["SH002", "phone", "约好今天回电", "2026-03-31"]]
        assert cells(screen.query_one("#coll-promises", DataTable)) == [
            ["EU01", "T1-000006", "2026-04-10", "1,000.00 EUR", "pending"]]
        assert cells(screen.query_one("#coll-disputes", DataTable)) == [["GZ003", "T1-000008", "all", "价格争议", ""]]
        alerts = cells(screen.query_one("#coll-alerts", DataTable))
        assert ["GZ003", "long overdue", "invoice T1-000008 is 370 days overdue (threshold 90)"] in alerts
        screen.query_one("#coll-plan", DataTable).focus()
        await pilot.press("down", "u")  # Enter shows the reminder's message; u opens its customer
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen) and app.screen.code == "GZ003"
