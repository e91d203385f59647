"""The charts: the reports screen draws the last 12 months (receivable and its overdue part, DSO) and the 13-week
forecast as bars, each point the report's own figure as of that month end; a customer's credit tab draws how late
each of the last paid invoices was paid, oldest first."""
from __future__ import annotations

import pytest

from store.ledger.ledger import Ledger
from store.read import reports
from store.rules.money import format_amount
from tests.support.app import SIZE, app_for, settle
from tests.support.book import PASSPHRASE, TODAY, add_late_payer
from tui.screens.customer import CustomerScreen
from tui.screens.reports import ReportsScreen
from tui.widgets.bars import Bars

pytestmark = pytest.mark.anyio

MONTHS = ["2025-04", "2025-05", "2025-06", "2025-07", "2025-08", "2025-09", "2025-10", "2025-11", "2025-12",
          "2026-01", "2026-02", "2026-03"]


def lines_of(chart: Bars) -> list[str]:
    return chart.render().plain.splitlines()


@pytest.mark.parametrize("size", [SIZE, (80, 24)])
async def test_reports_chart_the_last_12_months_with_the_reports_own_figures(book, size):
    app = app_for(book)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        assert isinstance(app.screen, ReportsScreen)
        chart = app.screen.query_one("#chart-receivable", Bars)
        lines = lines_of(chart)
        assert lines[0] == "Receivable at each month end, CNY (12 months)"
        months = [line.split()[0] for line in lines[3:]]
        assert months == MONTHS
        with Ledger.open(book, PASSPHRASE) as ledger:
            summary = reports.summary(ledger, TODAY)["CNY"]
            dso = reports.dso(ledger, TODAY)["CNY"]["dso"]
        # the last month's point is the summary above it: 329,122.78 receivable, its overdue part
        figures = [format_amount(summary["receivable"], "CNY"), format_amount(summary["overdue"], "CNY")]
        shown = figures if size == SIZE else figures[:1]  # narrower: the receivable only
        assert lines[-1].split()[-len(shown):] == shown and len(lines[-1].split()) == 2 + len(shown)
        assert "█" in lines[-1]
        dso_lines = lines_of(app.screen.query_one("#chart-dso", Bars))
        assert [line.split()[0] for line in dso_lines[2:]] == MONTHS
        assert dso_lines[-1].endswith(str(dso))
        forecast = lines_of(app.screen.query_one("#chart-forecast", Bars))
        assert [line.split()[0] for line in forecast[2:]] == [str(n) for n in range(1, 14)] + ["later"]
        await pilot.press("u")  # the next currency
        await settle(pilot)
        assert lines_of(chart)[0] == "Receivable at each month end, EUR (12 months)"
        assert lines_of(app.screen.query_one("#chart-forecast", Bars))[0].endswith(", EUR, by week (13 weeks, then later)")


@pytest.mark.parametrize("language, late", [("en", ["5 days late", "10 days late", "30 days late"]),
                                            ("zh", ["逾期 5 天", "逾期 10 天", "逾期 30 天"])])
async def test_a_customers_days_late_at_payment_are_drawn_oldest_first(book, language, late):
    add_late_payer(book)
    app = app_for(book, language=language)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(CustomerScreen("LATE1"))
        await settle(pilot)
        await pilot.press("s")  # the credit tab
        await settle(pilot)
        chart = app.screen.query_one("#lateness-chart", Bars)
        assert chart.region.height  # on the tab shown
        rows = lines_of(chart)[2:]
        assert [row.split()[0] for row in rows] == ["L-1", "L-2", "L-3"]
        assert [next(text for text in late if text in row) for row in rows] == late
        assert [row.count("█") for row in rows] == sorted(row.count("█") for row in rows)  # longer and longer
        assert rows[0].count("█") < rows[2].count("█")
        assert rows[2].endswith("2026-03-02")


async def test_a_customer_with_nothing_paid_says_so(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(CustomerScreen("SZ004"))
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert lines_of(app.screen.query_one("#lateness-chart", Bars)) == [
            "No invoice paid in full yet: nothing to draw."]
