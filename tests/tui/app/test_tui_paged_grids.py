"""Lists that were filled whole now come a page at a time: the aging grid (paged from the ledger's scratch database,
sortable by any column, End to its totals) and a customer's statement preview (its lines in pages). A book with
more rows than a page: 230 more customers with an invoice each, and 240 more invoices of BJ001 this month."""
from __future__ import annotations

from datetime import timedelta

import pytest
from textual.widgets import Static, TabbedContent

from store.ledger.ledger import Ledger
from store.read import reports
from tests.support.app import SIZE, app_for, settle, text_of
from tests.support.book import PASSPHRASE, TODAY, make_book
from tui.screens.aging import TOTAL_KEY, AgingScreen
from tui.screens.customer import CustomerScreen
from tui.widgets.table import DataTable

pytestmark = pytest.mark.anyio

MORE_CUSTOMERS, MORE_LINES = 230, 240


@pytest.fixture(scope="module")
def long_book(tmp_path_factory):
    path = make_book(tmp_path_factory.mktemp("long") / "book.duly")
    with Ledger.open(path, PASSPHRASE) as ledger:
        bj = ledger.row("SELECT id FROM customers WHERE code = 'BJ001'")["id"]
        with ledger.writing() as tx:
            for n in range(1, MORE_CUSTOMERS + 1):
                customer = f"long-{n:05d}"
                tx.set("customers", customer, code=f"L{n:04d}", name=f"Long {n:04d}", currency="CNY",
                       settlement_cycle="per_order", archived=0)
                doc = TODAY - timedelta(days=n % 150)
                due = doc + timedelta(days=30)
                invoice = tx.event("invoices", number=f"L1-{n:06d}", customer_id=customer, date=doc.isoformat(),
                                   due_date=due.isoformat(), currency="CNY", total=1000 * n + 7, tax=0,
                                   terms="NET30", description=f"long {n}")
                tx.event("due_items", invoice_id=invoice, seq=1, due_date=due.isoformat(), amount=1000 * n + 7)
            for n in range(1, MORE_LINES + 1):  # BJ001 this month (the statement's first period)
                doc = TODAY.replace(day=1 + n % 28)
                due = doc + timedelta(days=30)
                invoice = tx.event("invoices", number=f"M1-{n:06d}", customer_id=bj, date=doc.isoformat(),
                                   due_date=due.isoformat(), currency="CNY", total=100 + n, tax=0, terms="NET30",
                                   description=f"line {n}")
                tx.event("due_items", invoice_id=invoice, seq=1, due_date=due.isoformat(), amount=100 + n)
        report = reports.aging(ledger, TODAY)
    return path, report


def keys(table: DataTable) -> list[str]:
    return [str(row.key.value) for row in table.ordered_rows]


async def to_aging(pilot) -> tuple[AgingScreen, DataTable]:
    await settle(pilot)
    await pilot.press("5")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, AgingScreen)
    return screen, screen.query_one("#aging", DataTable)


async def test_aging_shows_a_page_pages_down_to_the_last_row_and_end_jumps_to_the_totals(long_book):
    book, report = long_book
    every = [f"{r['customer']}/{r['currency']}" for r in report.rows] + [f"{TOTAL_KEY}/{c}" for c in report.totals]
    assert len(every) > 200
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        screen, table = await to_aging(pilot)
        assert keys(table) == every[:100]  # one page, in the report's order
        assert "more" in text_of(screen.query_one("#aging-status", Static))
        await pilot.press(*["down"] * 150)  # past the first page: the next one comes, no key lost
        await settle(pilot)
        assert table.cursor_row == 150 and keys(table)[150] == every[150]
        for _ in range(12):  # page by page to the very last row: every row once, the totals last
            await pilot.press("pagedown")
            await settle(pilot)
        assert keys(table) == every
        assert table.cursor_row == len(every) - 1
        await pilot.press("home")
        await settle(pilot)
        await pilot.press("end")  # from the first page: the last rows at once, the cursor on the last
        await settle(pilot)
        assert keys(table) == every
        assert table.cursor_row == len(every) - 1


async def test_aging_end_fetches_the_last_page_and_up_the_pages_before_it(long_book):
    book, report = long_book
    every = [f"{r['customer']}/{r['currency']}" for r in report.rows] + [f"{TOTAL_KEY}/{c}" for c in report.totals]
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        screen, table = await to_aging(pilot)
        await pilot.press("end")
        await settle(pilot)
        assert keys(table) == every[-100:]  # the last page only, the totals at its end
        assert table.cursor_row == 99 and str(table.get_row_at(99)[0]).startswith("Total")
        await pilot.press(*["up"] * 130)
        await settle(pilot)
        assert keys(table)[table.cursor_row] == every[-131]
        await pilot.press("enter")  # Enter on a customer's amount still drills into its invoices
        await settle(pilot)
        assert type(app.screen).__name__ in ("AgingCellScreen", "CustomerScreen")


async def test_aging_sorts_by_any_column_in_sql_the_totals_last(long_book):
    book, report = long_book
    rows = sorted(report.rows, key=lambda r: r["total"])
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        screen, table = await to_aging(pilot)
        screen.sort_by("total")
        await settle(pilot)
        assert keys(table) == [f"{r['customer']}/{r['currency']}" for r in rows[:100]]
        assert "▲" in str(table.columns[table.ordered_columns[-1].key].label)
        await pilot.press("o")  # the other way: the largest first
        await settle(pilot)
        largest = sorted(report.rows, key=lambda r: r["total"], reverse=True)
        assert keys(table)[:5] == [f"{r['customer']}/{r['currency']}" for r in largest[:5]]
        await pilot.press("end")
        await settle(pilot)
        assert keys(table)[-len(report.totals):] == [f"{TOTAL_KEY}/{c}" for c in
                                                     sorted(report.totals, key=lambda c: -report.totals[c]["total"])]
        await pilot.press("s")  # the next column after total: back to the code
        await settle(pilot)
        assert keys(table)[:3] == [f"{r['customer']}/{r['currency']}" for r in report.rows[:3]]


async def test_aging_code_and_name_stay_in_sight_as_the_grid_scrolls(long_book):
    book, _ = long_book
    app = app_for(book)
    async with app.run_test(size=(80, 24)) as pilot:
        _screen, table = await to_aging(pilot)
        assert table.fixed_columns == 2
        await pilot.press(*["right"] * 8)
        await settle(pilot)
        assert table.cursor_column == 8 and table.scroll_x > 0
        line = table.render_line(1).text  # the first row, under the header: its code still at the left
        assert line.lstrip().startswith(str(table.get_row_at(0)[0]))


async def to_statement(pilot, code: str) -> tuple[CustomerScreen, DataTable]:
    await settle(pilot)
    pilot.app.push_screen(CustomerScreen(code))
    await settle(pilot)
    screen = pilot.app.screen
    screen.query_one("#archive-tabs", TabbedContent).active = "tab-statement"
    await settle(pilot)
    table = screen.query_one("#statement-lines", DataTable)
    table.focus()
    await settle(pilot)
    return screen, table


async def test_the_statement_preview_shows_a_page_of_lines_and_end_the_last(long_book):
    book, _ = long_book
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        screen, table = await to_statement(pilot, "BJ001")
        lines = screen.statement.stmt["sections"][0]["lines"]
        assert len(lines) >= MORE_LINES
        assert table.row_count == 100  # a page, not every line
        first = [str(c) for c in table.get_row_at(0)]
        await pilot.press("end")  # the last page at once, the cursor on the last line
        await settle(pilot)
        assert table.row_count == 100 and table.cursor_row == 99
        last = [str(c) for c in table.get_row_at(99)]
        assert last[2] == lines[-1]["number"]  # the last line of the period, with the closing balance
        assert last[-1] == f"{lines[-1]['balance'] / 100:,.2f}"
        await pilot.press(*["up"] * 150)  # up from the last page: the pages before it come
        await settle(pilot)
        assert str(table.get_row_at(table.cursor_row)[2]) == lines[-151]["number"]
        await pilot.press("home")  # the first page again
        await settle(pilot)
        assert table.cursor_row == 0 and [str(c) for c in table.get_row_at(0)] == first
        screen.show_statement(screen.StatementLoaded(screen.statement))  # shown afresh: one page
        await settle(pilot)
        assert table.row_count == 100
        await pilot.press(*["down"] * 130)  # past the page: the next one comes, no key lost
        await settle(pilot)
        assert table.cursor_row == 130 and table.row_count == 200
