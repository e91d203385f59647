"""First rows first: a screen whose reports take long on a big book shows the first of them as soon as it is
computed, and the rest as each is ready (never all at once at the end). A report is held back on the database
thread until the test lets it go, so "before the rest" is a fact, not a race."""
from __future__ import annotations

import threading

import pytest
from rich.table import Table
from textual.widgets import Static

from tests.support.app import SIZE, app_for, settle, text_of
from tui.screens import reports as reports_screen
from tui.screens.reports import ReportsScreen
from tui.widgets.bars import Bars

pytestmark = pytest.mark.anyio

WAIT = 20  # seconds a held report waits at most (the test fails long before, if it is not let go)


async def until(pilot, check, seconds: float = 10) -> bool:
    for _ in range(int(seconds / 0.02)):
        if check():
            return True
        await pilot.pause(0.02)
    return check()


async def test_reports_show_the_summary_while_the_forecast_is_still_computed(book, monkeypatch):
    let_go = threading.Event()
    slow = reports_screen.PARTS["forecast"]

    def held_forecast(ledger, as_of, pos):
        let_go.wait(WAIT)
        return slow(ledger, as_of, pos)

    monkeypatch.setitem(reports_screen.PARTS, "forecast", held_forecast)
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("6")
        screen = app.screen
        assert isinstance(screen, ReportsScreen)
        summary = screen.query_one("#rep-summary", Static)
        provision = screen.query_one("#rep-provision", Static)
        assert await until(pilot, lambda: isinstance(provision.content, Table))
        # the summary, DSO and provision are there while the forecast (and the trend after it) are not yet
        assert "329,122.78" in text_of(summary)
        assert "99.50" in text_of(provision)  # EUR 9,950.00 is 26 days late (1-30, 1%)
        assert isinstance(screen.query_one("#rep-dso", Static).content, Table)
        assert text_of(screen.query_one("#rep-forecast", Static)).strip() == "Loading…"
        assert screen.trend is None
        let_go.set()
        await settle(pilot)
        assert isinstance(screen.query_one("#rep-forecast", Static).content, Table)
        assert screen.query_one("#chart-receivable", Bars).render().plain.startswith(
            "Receivable at each month end, CNY")


async def test_collections_show_the_review_queue_while_the_alerts_are_still_computed(book, monkeypatch):
    from textual.widgets import DataTable

    from store.read import alerts
    from tui.screens.collections import CollectionsScreen

    let_go = threading.Event()
    slow = alerts.alerts

    def held_alerts(ledger, as_of):
        let_go.wait(WAIT)
        return slow(ledger, as_of)

    monkeypatch.setattr(alerts, "alerts", held_alerts)
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("7")
        screen = app.screen
        assert isinstance(screen, CollectionsScreen)
        plan = screen.query_one("#coll-plan", DataTable)
        assert await until(pilot, lambda: plan.row_count > 0)
        assert [str(c) for c in plan.get_row_at(0)][1:4] == ["Legal action", "BJ001", "T1-000005"]
        assert screen.query_one("#coll-alerts", DataTable).row_count == 0
        let_go.set()
        await settle(pilot)
        shown = screen.query_one("#coll-alerts", DataTable)
        rows = [[str(c) for c in shown.get_row_at(i)] for i in range(shown.row_count)]
        assert ["GZ003", "long overdue", "invoice T1-000008 is 370 days overdue (threshold 90)"] in rows


async def test_aging_shows_its_rows_in_the_reports_order_the_totals_last(book):
    from store.ledger.ledger import Ledger
    from store.read import reports
    from tests.support.book import PASSPHRASE, TODAY
    from textual.widgets import DataTable
    from tui.screens import aging

    with Ledger.open(book, PASSPHRASE) as ledger:
        report = reports.aging(ledger, TODAY)
    keys = [f"{r['customer']}/{r['currency']}" for r in report.rows]
    totals = [f"{aging.TOTAL_KEY}/{cur}" for cur in report.totals]
    assert len(keys) > 4
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, aging.AgingScreen)
        table = screen.query_one("#aging", DataTable)
        assert [row.key.value for row in table.ordered_rows] == keys + totals  # (a big book's: tests/.../paged_grids)
