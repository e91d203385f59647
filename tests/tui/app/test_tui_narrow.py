"""At 80x24 every list fits the screen: a narrower layout (fewer columns, short dates, the amount with its currency,
a name cut with an ellipsis to the room left), never columns to scroll sideways to; chosen again on a resize."""
from __future__ import annotations

import pytest
from textual.widgets.data_table import ColumnKey

from tests.support.app import app_for, settle
from tui.text import cell_width
from tui.widgets.cells import Clipped
from tui.widgets.table import DataTable

# the main screens (their digit) and the lists on them that must fit
LISTS = {"2": ("customers",), "3": ("invoices",), "4": ("payments",), "8": ("rec-lines", "rec-disputes"),
         "9": ("sync-review",), "f4": ("terms",)}

pytestmark = pytest.mark.anyio


def sideways(table: DataTable) -> int:
    """Columns of the table beyond its width (0: nothing to scroll sideways to)."""
    return max(0, table.virtual_size.width - table.scrollable_content_region.width)


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_every_list_fits_80_columns_with_nothing_to_scroll_sideways(book, language):
    app = app_for(book, language=language)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for key, lists in LISTS.items():
            await pilot.press(key)
            await settle(pilot)
            for list_id in lists:
                table = app.screen.query_one(f"#{list_id}", DataTable)
                assert sideways(table) == 0, (key, list_id, table.virtual_size.width)
                assert table.max_scroll_x == 0


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_long_name_is_cut_with_an_ellipsis_to_the_room_left(book, language):
    app = app_for(book, language=language)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        table = app.screen.query_one("#invoices", DataTable)
        assert "total" not in {k.value for k in table.columns}  # the narrow layout: the open amount only
        number = next(k.value for k in table.rows if str(table.get_row(k)[3]).startswith("SZ004"))
        cells = table.get_row(number)
        assert cells[1].count("-") == 2 and len(cells[1]) == 8  # 26-03-30: a short date
        assert cells[4].plain == "666.00 CNY"  # the amount with its currency
        width = table.columns[ColumnKey("customer")].width
        shown = cells[3].fitted(width)
        assert isinstance(cells[3], Clipped) and shown.startswith("SZ004 深圳") and shown.endswith("…")
        assert cell_width(shown) <= width


async def test_the_layout_is_chosen_again_on_a_resize_keeping_the_rows_and_the_cursor(book):
    app = app_for(book)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        table = app.screen.query_one("#invoices", DataTable)
        rows = table.row_count
        await pilot.press("down", "down")
        chosen = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        assert {"total", "currency", "name"} <= {k.value for k in table.columns}
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert {"total", "currency", "name"}.isdisjoint({k.value for k in table.columns})
        assert table.row_count == rows and sideways(table) == 0
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == chosen
        assert "▼" in str(table.columns[ColumnKey("date")].label)  # still sorted newest first, and marked so
        await pilot.resize_terminal(120, 40)
        await settle(pilot)
        assert {"total", "currency", "name"} <= {k.value for k in table.columns} and table.row_count == rows


async def test_the_customer_list_at_80_shows_the_balance_with_its_currency(book):
    app = app_for(book, language="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one("#customers", DataTable)
        assert [k.value for k in table.columns] == ["code", "name", "balance", "overdue", "rating"]
        assert table.get_row("SZ004")[2].plain == "566.00 CNY"  # 666.00 less 100.00 paid
        assert str(table.columns[ColumnKey("name")].label) == "名称"


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("language", ["en", "zh"])
async def test_bank_lines_and_their_candidates_fit_with_the_reasons_whole_below(book, tmp_path, language, size):
    from store.files import bank
    from store.ledger.ledger import Ledger
    from tests.support.app import text_of
    from tests.support.book import PASSPHRASE

    src = tmp_path / "bank.csv"
    src.write_bytes(("交易日期,贷方发生额,借方发生额,对方户名,摘要\n"
                     "2026-03-30,\"30,000.00\",,明辉,货款\n"
                     "2026-03-31,\"88,000.00\",,北京华信科技有限公司,T1-000003\n").encode("gbk"))
    with Ledger.open(book, PASSPHRASE) as ledger:
        bank.import_file(ledger, src)
    app = app_for(book, language=language)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("8")
        await settle(pilot)
        for list_id in ("rec-lines", "rec-cands"):
            table = app.screen.query_one(f"#{list_id}", DataTable)
            assert table.row_count and sideways(table) == 0, (list_id, table.virtual_size.width)
        reasons = text_of(app.screen.query_one("#rec-reasons"))
        assert "T1-000010" in reasons and "2026-02-24" in reasons  # the reasons cut in the table, whole below
