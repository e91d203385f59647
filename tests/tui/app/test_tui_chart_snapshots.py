"""SVG snapshots of the charts, in English and 简体中文, at 120x40 and 80x24: the reports' month-by-month trends
(scrolled to the top of the screen) and a customer's days late at payment on the credit tab."""
from __future__ import annotations

import pytest
from textual.containers import VerticalScroll

from tests.support.app import hold_still, settle
from tests.support.book import PASSPHRASE, TODAY, add_late_payer, make_book
from tui.app.app import DulyApp
from tui.screens.customer import CustomerScreen

SIZES = [(120, 40), (80, 24)]


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    path = make_book(tmp_path_factory.mktemp("charts") / "book.duly")
    add_late_payer(path)
    return path


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
def test_reports_trend_chart_snapshot(snap_compare, book, language, size):
    app = DulyApp(book, PASSPHRASE, today=TODAY, language=language)

    async def before(pilot) -> None:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        screen = pilot.app.screen
        screen.query_one("#reports", VerticalScroll).scroll_to_widget(
            screen.query_one("#chart-receivable"), animate=False, top=True)
        await hold_still(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
def test_customer_lateness_chart_snapshot(snap_compare, book, language, size):
    app = DulyApp(book, PASSPHRASE, today=TODAY, language=language)

    async def before(pilot) -> None:
        await settle(pilot)
        pilot.app.push_screen(CustomerScreen("LATE1"))
        await settle(pilot)
        await pilot.press("s")  # the credit tab
        await hold_still(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)
