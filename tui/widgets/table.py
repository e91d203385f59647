"""The app's DataTable: every cell shows what was typed or imported literally; on a row cursor Home and End go to
the first and the last row (a paged list hears of it and fetches its last page, tui/screens/base.py), and so they
do on a grid of cells made with `rows_at_edges=True` (the aging grid: a column is reached by Left and Right).

Textual reads a str cell as Rich markup and passes control characters through to the terminal, so a customer
named `[link=...]x` or one carrying an escape sequence (a payer on a bank line, a device of the team) could
restyle the screen, change the pane title or clear it. Screens import DataTable from here.
"""
from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

from rich.markup import escape
from rich.text import Text
from textual.geometry import Size
from textual.message import Message
from textual.widgets import DataTable as _DataTable
from textual.widgets.data_table import ColumnKey

from store.rules.safetext import terminal_text


def literal(value):
    """A cell value as inert text: str without markup, control characters shown as escapes."""
    if isinstance(value, str):  # still a str (tests and sorting compare cells as text), markup escaped
        return escape(terminal_text(value))
    if isinstance(value, Text) and terminal_text(value.plain) != value.plain:
        return Text(terminal_text(value.plain), style=value.style, justify=value.justify, end="")
    return value


class DataTable(_DataTable):
    # A column that takes the width the others leave (a name, in a list's narrow layout): the table then never needs
    # scrolling sideways. Its cells should fit any width (tui.widgets.cells.Clipped). None: every column as wide as
    # its widest cell. The room left for a vertical scrollbar is kept free, so the fit holds as rows come in.
    flex: str | None = None
    FLEX_MIN = 6

    def _update_dimensions(self, new_rows) -> None:
        super()._update_dimensions(new_rows)
        self._fit_flex()

    def on_resize(self) -> None:
        if self.flex is not None:
            self._require_update_dimensions = True
            self.refresh()

    def _fit_flex(self) -> None:
        column = self.columns.get(ColumnKey(self.flex)) if self.flex is not None else None
        if column is None or not self.size.width:
            return
        others = sum(c.get_render_width(self) for c in self.columns.values() if c is not column)
        room = self.size.width - self.styles.scrollbar_size_vertical - self._row_label_column_width
        width = max(self.FLEX_MIN, room - others - 2 * self.cell_padding)
        if column.auto_width or column.width != width:
            column.auto_width, column.width = False, width
            self._clear_caches()
            self._update_count += 1
            self.virtual_size = Size(others + column.get_render_width(self) + self._row_label_column_width,
                                     self.virtual_size.height)
            self.refresh()

    class EdgeWanted(Message):
        """Home or End on a row cursor: the first or the last row of the whole list, not only of what is loaded."""

        def __init__(self, table: DataTable, last: bool):
            super().__init__()
            self.table, self.last = table, last

        @property
        def control(self) -> DataTable:
            return self.table

    class Overrun(Message):
        """Down past the last row loaded (steps > 0) or Up before the first (steps < 0): a paged list keeps the
        steps and moves on once the next page is there, so no key press is lost while a page loads."""

        def __init__(self, table: DataTable, steps: int):
            super().__init__()
            self.table, self.steps = table, steps

        @property
        def control(self) -> DataTable:
            return self.table

    def __init__(self, *args, rows_at_edges: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows_at_edges = rows_at_edges

    @property
    def _by_rows(self) -> bool:
        """The cursor moves through rows that a paged list may have more of: a row cursor, or a grid's cells."""
        return self.cursor_type == "row" or (self.cursor_type == "cell" and self.rows_at_edges)

    def add_row(self, *cells, **kwargs):
        return super().add_row(*(literal(c) for c in cells), **kwargs)

    def measure_now(self) -> None:
        """Column widths worked out at once for every row. Textual measures new rows when the table is next idle; a
        form that rebuilds its few rows on every key typed was once drawn, under load, with a column still as narrow
        as an earlier amount (5,000.00 shown as 5,000)."""
        self._update_dimensions(list(self.rows))

    def action_cursor_down(self) -> None:
        if self._by_rows and self.cursor_row >= self.row_count - 1:
            self.post_message(self.Overrun(self, 1))
        super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self._by_rows and self.cursor_row <= 0:
            self.post_message(self.Overrun(self, -1))
        super().action_cursor_up()

    def action_page_down(self) -> None:
        if self._by_rows:
            page = max(1, self.scrollable_content_region.height - (self.header_height if self.show_header else 0))
            beyond = self.cursor_row + page - (self.row_count - 1)
            if beyond > 0:
                self.post_message(self.Overrun(self, beyond))
        super().action_page_down()

    def _scroll_cursor_into_view(self, animate: bool = False) -> None:
        """A grid with fixed columns scrolls sideways a whole column at a time: Textual scrolls by cells, and the
        column cut at the edge of the fixed ones showed the end of an amount beside a customer's name (12,500.00
        as 2,500.00)."""
        super()._scroll_cursor_into_view(animate=False)
        if self.cursor_type != "cell" or not self.fixed_columns:
            return
        scrolled, edge = self.scroll_x, 0
        for column in self.ordered_columns[self.fixed_columns:]:
            if edge >= scrolled:
                break
            edge += column.get_render_width(self)
        if edge != scrolled:
            self.scroll_to(x=edge, animate=False, force=True, immediate=True)

    def add_row_as_is(self, *cells, **kwargs):
        """Add cells that came out of this table (get_row), already made literal."""
        return super().add_row(*cells, **kwargs)

    def action_scroll_end(self) -> None:
        """End on a row cursor: the last row of the whole list (ctrl+end: the last row loaded)."""
        if not self._by_rows:
            return super().action_scroll_end()
        super().action_scroll_bottom()
        self.post_message(self.EdgeWanted(self, last=True))

    def action_scroll_home(self) -> None:
        """Home on a row cursor: the first row of the whole list."""
        if not self._by_rows:
            return super().action_scroll_home()
        super().action_scroll_top()
        self.post_message(self.EdgeWanted(self, last=False))

    def update_cell(self, row_key, column_key, value, **kwargs):
        return super().update_cell(row_key, column_key, literal(value), **kwargs)

    def update_cell_at(self, coordinate, value, **kwargs):
        return super().update_cell_at(coordinate, literal(value), **kwargs)


class Batches:
    """Rows added to a table a batch at a time: the first batch at once, each next one after the screen has drawn
    the last (the table measures its new rows when its queue is empty) and the app has answered what came
    meanwhile (keys), so a table of thousands of rows never holds the event loop for seconds. A newer fill drops what is left of an older one; nothing is added while the table's screen is
    not the one shown, and resume() (from the screen's on_screen_resume) goes on."""

    def __init__(self, table: DataTable):
        self.table = table
        self.rows = None  # the (cells, key) still to add, or None once every row is in
        self.generation = 0

    def fill(self, rows: Iterable[tuple[tuple, str | None]], at_once: int = 200) -> None:
        """Clear the table's rows and add these, the first `at_once` now."""
        self.table.clear()
        self.generation += 1
        self.rows, self.at_once = iter(rows), at_once
        self._next(self.generation)

    @property
    def adding(self) -> bool:
        return self.rows is not None

    def resume(self) -> None:
        if self.rows is not None:
            self.table.call_after_refresh(self._next, self.generation)

    def _next(self, generation: int) -> None:
        if generation != self.generation or self.rows is None or not self.table.screen.is_current:
            return
        added = 0
        for cells, key in islice(self.rows, self.at_once):
            self.table.add_row(*cells, key=key)
            added += 1
        if added < self.at_once:
            self.rows = None  # every row is in
        else:
            self.table.call_after_refresh(self._next, generation)


class Pages:
    """A list worked out whole in memory (a statement's lines: each carries the running balance of the lines
    before it) shown a page at a time, as the lists paged from SQLite are: the first page at once, the next as
    the cursor nears the end of what is shown or moves past it, End the last page (the pages before it follow as
    the cursor moves up), Home the first page again. A table of thousands of rows is never filled at once.
    The screen passes its table's RowHighlighted (`near_edge`), Overrun (`overrun`) and EdgeWanted (`edge`) on."""

    def __init__(self, table: DataTable, page: int = 100, prefetch: int = 20):
        self.table, self.page, self.prefetch = table, page, prefetch
        self.rows: list[tuple[tuple, str | None]] = []
        self.start = self.end = 0  # rows[start:end] are in the table

    def show(self, rows: Iterable[tuple[tuple, str | None]]) -> None:
        """Replace the list with these (cells, key) rows, the first page shown."""
        self.rows = list(rows)
        self._window(0, min(self.page, len(self.rows)), 0)

    @property
    def total(self) -> int:
        return len(self.rows)

    def _window(self, start: int, end: int, cursor: int) -> None:
        table = self.table
        with table.app.batch_update():
            table.clear()
            for cells, key in self.rows[start:end]:
                table.add_row(*cells, key=key)
            self.start, self.end = start, end
            if table.row_count:
                table.move_cursor(row=max(0, min(cursor, table.row_count - 1)), animate=False)

    def _after(self) -> int:
        """The next page after the rows shown; how many rows came."""
        added = self.rows[self.end:self.end + self.page]
        for cells, key in added:
            self.table.add_row(*cells, key=key)
        self.end += len(added)
        return len(added)

    def _before(self) -> int:
        """The page before the rows shown (the cursor stays on its row); how many rows came."""
        count = min(self.page, self.start)
        if count:
            self._window(self.start - count, self.end, self.table.cursor_row + count)
        return count

    def near_edge(self) -> None:
        table = self.table
        if self.end < len(self.rows) and table.cursor_row >= table.row_count - self.prefetch:
            self._after()
        elif self.start > 0 and table.cursor_row < self.prefetch:
            self._before()

    def overrun(self, steps: int) -> None:
        """Down (steps > 0) or Up (< 0) past the rows shown: the next (or the one before) pages, then the cursor
        moves on by what was left of the steps."""
        table = self.table
        if steps > 0:
            more = True
            while more and table.row_count - 1 - table.cursor_row < steps:
                more = self._after()  # False once the last page is shown
            target = min(table.cursor_row + steps, table.row_count - 1)
        else:
            more = True
            while more and table.cursor_row < -steps:
                more = self._before()  # False once the first page is shown
            target = max(table.cursor_row + steps, 0)
        if table.row_count:
            table.move_cursor(row=target, animate=False)

    def edge(self, last: bool) -> None:
        """End: the last page, the cursor on the last row; Home: the first page, the cursor on the first."""
        table = self.table
        if last and self.end < len(self.rows):
            self._window(max(0, len(self.rows) - self.page), len(self.rows), len(self.rows))
        elif not last and self.start > 0:
            self._window(0, min(self.page, len(self.rows)), 0)
        elif table.row_count:  # all there already (a page came as the cursor went): onto the row itself
            table.move_cursor(row=table.row_count - 1 if last else 0, animate=False)
