"""Pickers, not free text, for a customer, terms and a currency in the forms (typed, then chosen from what the
ledger holds), and lists that sort by a column in SQL and reach their last row by End even when paged."""
from __future__ import annotations


import pytest
from textual import events
from textual.widgets import Static

from store.ledger.ledger import Ledger
from tests.support.app import SIZE, app_for, hold_still, settle, slow_database, text_of
from tests.support.book import PASSPHRASE, make_book
from tui.screens.customers import CustomersScreen
from tui.screens.invoices import InvoicesScreen
from tui.widgets.table import DataTable
from tui.screens.invoice_form import InvoiceFormScreen
from tui.widgets.picker import Picker

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def master(tmp_path_factory):
    """The fixed book with 250 more customers: the customer list is three pages long."""
    return make_book(tmp_path_factory.mktemp("book") / "book.duly", extra_customers=250)


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


async def test_a_terms_choice_shows_the_due_date_of_the_invoice_date(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        form = await invoice_form(pilot)
        await pilot.press(*"BJ001", "enter")
        form.query_one("#field-date").value = "2026-03-15"
        await pilot.press("enter", *"500", "enter")
        await settle(pilot)
        assert app.focused.id == "field-terms"
        await pilot.press(*"月结30")  # the built-in EOM30 by its Chinese name
        await settle(pilot)
        picker = form.query_one("#picker-terms", Picker)
        assert picker.is_open and picker.choices[0].value == "EOM30"
        assert "due 2026-04-30" in picker.choices[0].detail  # end of March + 30 days
        await pilot.press("enter")  # the highlighted suggestion: EOM30
        await settle(pilot)
        assert form.query_one("#field-terms").value == "EOM30"
        assert "due 2026-04-30" in str(picker.query_one(".picker-detail", Static).render())
        assert "2026-04-30" in text_of(form.query_one("#invoice-preview", Static))
        form.query_one("#field-date").value = "2026-04-02"  # another date: the due date follows
        await settle(pilot)
        assert "due 2026-05-30" in str(picker.query_one(".picker-detail", Static).render())


def shown_column(table: DataTable, column: str) -> list[str]:
    return [str(table.get_cell(row.key, column)) for row in table.ordered_rows]


async def test_the_invoice_list_sorts_by_amount_largest_first(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3", "f")  # open -> overdue -> all
        await pilot.press("f")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, InvoicesScreen)
        table = screen.query_one("#invoices", DataTable)
        widths = [c.get_render_width(table) for c in table.ordered_columns]
        total = [c.key.value for c in table.ordered_columns].index("total")
        await pilot.click("#invoices", offset=(sum(widths[:total]) + widths[total] // 2, 0))  # the Total header
        await settle(pilot)
        assert (screen.sort_column, screen.descending) == ("total", True)
        with Ledger.open(book, PASSPHRASE) as ledger:
            expected = [r["number"] for r in ledger.rows("SELECT number FROM invoices ORDER BY total DESC, number DESC")]
        assert [str(row.key.value) for row in table.ordered_rows] == expected
        assert "total" in str(screen.query_one("#invoices-status", Static).render()).lower()
        await pilot.press("o")  # the other way round
        await settle(pilot)
        assert [str(row.key.value) for row in table.ordered_rows] == expected[::-1]


async def test_end_reaches_the_last_row_of_a_list_longer_than_a_page(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CustomersScreen)
        table = screen.query_one("#customers", DataTable)
        assert screen.more and table.row_count < 256  # 256 customers, fewer loaded
        await pilot.press("end")
        await settle(pilot)
        assert str(table.ordered_rows[table.cursor_row].key.value) == "SZ004"  # the last code of all
        assert table.row_count <= 200  # the last page, not every page
        for _ in range(150):  # up through the page before: it comes as the cursor nears the top
            await pilot.press("up")
        await settle(pilot)
        assert str(table.ordered_rows[table.cursor_row].key.value) == "C0104"  # 150 rows above SZ004 (ACME, BJ001, C0001... come first)
        await pilot.press("home")
        await settle(pilot)
        assert str(table.ordered_rows[table.cursor_row].key.value) == "ACME"


async def until(pilot, check, tries: int = 200) -> None:
    """Settle, then pause until `check()` holds (a page's message may still be queued when its worker is done)."""
    await settle(pilot)
    for _ in range(tries):
        if check():
            return
        await pilot.pause(0.01)


def burst(app, *keys: str) -> None:
    """Keys as a terminal sends them when typed fast or held down: all queued at once, none waited for."""
    for name in keys:
        key = events.Key(name, name if len(name) == 1 else None)
        key.set_sender(app)
        app._driver.send_message(key)


async def test_keys_typed_with_the_screen_key_land_on_the_new_screen(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, "2", *["down"] * 5)  # 2 and Downs in one read: the Downs belong to the customer list
        await until(pilot, lambda: isinstance(app.screen, CustomersScreen)
                    and app.screen.query_one("#customers", DataTable).cursor_row == 5)
        table = app.screen.query_one("#customers", DataTable)
        assert isinstance(app.screen, CustomersScreen) and table.cursor_row == 5


async def test_no_down_press_is_lost_while_the_next_pages_load(book, monkeypatch):
    from tui.screens import customers as screen_module

    slow_database(monkeypatch, screen_module, "customer_page", 0.3)  # each page takes a while
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        burst(app, *["down"] * 200)  # held down before the first page is there
        await settle(pilot)
        table = app.screen.query_one("#customers", DataTable)
        assert str(table.ordered_rows[table.cursor_row].key.value) == "C0199"  # row 200: ACME, BJ001, C0001...


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_invoice_form_customer_picker_snapshot(snap_compare, book, language, size):
    """The customer picker open under the field: `sh` finds SH002 by its code and 上海 / 深圳 by their pinyin."""
    app = app_for(book, language=language)

    async def before(pilot) -> None:
        await hold_still(pilot)
        await pilot.press("3", "n")
        await hold_still(pilot)
        await pilot.press("s", "h")
        await hold_still(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)
