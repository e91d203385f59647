"""The app's DataTable: every cell shows what was typed or imported literally; on a row cursor Home and End go to
the first and the last row (a paged list hears of it and fetches its last page, tui/screens/base.py).

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

    def add_row(self, *cells, **kwargs):
        return super().add_row(*(literal(c) for c in cells), **kwargs)

    def action_cursor_down(self) -> None:
        if self.cursor_type == "row" and self.cursor_row >= self.row_count - 1:
            self.post_message(self.Overrun(self, 1))
        super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.cursor_type == "row" and self.cursor_row <= 0:
            self.post_message(self.Overrun(self, -1))
        super().action_cursor_up()

    def action_page_down(self) -> None:
        if self.cursor_type == "row":
            page = max(1, self.scrollable_content_region.height - (self.header_height if self.show_header else 0))
            beyond = self.cursor_row + page - (self.row_count - 1)
            if beyond > 0:
                self.post_message(self.Overrun(self, beyond))
        super().action_page_down()

    def add_row_as_is(self, *cells, **kwargs):
        """Add cells that came out of this table (get_row), already made literal."""
        return super().add_row(*cells, **kwargs)

    def action_scroll_end(self) -> None:
        """End on a row cursor: the last row of the whole list (ctrl+end: the last row loaded)."""
        if self.cursor_type != "row":
            return super().action_scroll_end()
        super().action_scroll_bottom()
        self.post_message(self.EdgeWanted(self, last=True))

    def action_scroll_home(self) -> None:
        """Home on a row cursor: the first row of the whole list."""
        if self.cursor_type != "row":
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
