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


async def test_the_dashboard_shows_its_totals_before_the_aging_bars_and_lists(book, monkeypatch):
    from textual.widgets import DataTable

    from tui.screens import dashboard

    let_go = threading.Event()
    slow = dashboard.dashboard_data

    def held(ledger, as_of, in_base=False):
        let_go.wait(WAIT)
        return slow(ledger, as_of, in_base)

    monkeypatch.setattr(dashboard, "dashboard_data", held)
    app = app_for(book)
    def totals_shown() -> bool:  # the dashboard may be the screen a moment before its widgets are mounted
        return isinstance(app.screen, dashboard.DashboardScreen) and any(
            isinstance(totals.content, Table) for totals in app.screen.query("#dash-totals").results(Static))

    async with app.run_test(size=SIZE) as pilot:
        assert await until(pilot, totals_shown)
        screen = app.screen
        assert "329,122.78" in text_of(screen.query_one("#dash-totals", Static))  # the totals, from the summary
        assert screen.query_one("#dash-top", DataTable).row_count == 0  # the lists not yet
        let_go.set()
        await settle(pilot)
        assert screen.query_one("#dash-top", DataTable).row_count > 0
        assert "329,122.78" in text_of(screen.query_one("#dash-totals", Static))


async def test_collections_after_the_dashboard_shows_the_queue_worked_out_at_idle(book, monkeypatch):
    """The dashboard works the review queue out while the app is idle: collections then shows it without
    working the reminder plan out again (the plan reads every open invoice)."""
    from textual.widgets import DataTable

    from store.write import collections as collections_write
    from tui.screens.collections import CollectionsScreen

    plans = []
    plain = collections_write.reminder_plan

    def counted(ledger, as_of):
        plans.append(as_of)
        return plain(ledger, as_of)

    monkeypatch.setattr(collections_write, "reminder_plan", counted)
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert len(plans) == 1  # worked out at idle, once the dashboard was shown
        await pilot.press("7")
        screen = app.screen
        assert isinstance(screen, CollectionsScreen)
        plan = screen.query_one("#coll-plan", DataTable)
        assert await until(pilot, lambda: plan.row_count > 0)
        await settle(pilot)
        assert len(plans) == 1  # the same queue: not worked out again
        assert [str(c) for c in plan.get_row_at(0)][1:4] == ["Legal action", "BJ001", "T1-000005"]


async def test_the_customer_screen_reads_its_statement_once_after_the_archive(book, monkeypatch):
    from textual.widgets import DataTable

    from tui.screens import customer

    asked = []
    plain_view, plain_archive = customer.statement_view, customer.archive_data

    def archive(ledger, code, as_of):
        asked.append("archive")
        return plain_archive(ledger, code, as_of)

    def view(ledger, code, start, end):
        asked.append("statement")
        return plain_view(ledger, code, start, end)

    monkeypatch.setattr(customer, "archive_data", archive)
    monkeypatch.setattr(customer, "statement_view", view)
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(customer.CustomerScreen("BJ001"))
        await settle(pilot)
        screen = app.screen
        assert asked == ["archive", "statement"]  # once (it was read twice: on mount and for the period's choice)
        assert screen.query_one("#open-items", DataTable).row_count > 0
        assert screen.statement is not None
