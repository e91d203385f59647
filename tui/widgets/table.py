"""The app's DataTable: every cell shows what was typed or imported literally.

Textual reads a str cell as Rich markup and passes control characters through to the terminal, so a customer
named `[link=...]x` or one carrying an escape sequence (a payer on a bank line, a device of the team) could
restyle the screen, change the pane title or clear it. Screens import DataTable from here.
"""
from __future__ import annotations

from rich.markup import escape
from rich.text import Text
from textual.widgets import DataTable as _DataTable

from store.rules.safetext import terminal_text


def literal(value):
    """A cell value as inert text: str without markup, control characters shown as escapes."""
    if isinstance(value, str):  # still a str (tests and sorting compare cells as text), markup escaped
        return escape(terminal_text(value))
    if isinstance(value, Text) and terminal_text(value.plain) != value.plain:
        return Text(terminal_text(value.plain), style=value.style, justify=value.justify, end="")
    return value


class DataTable(_DataTable):
    def add_row(self, *cells, **kwargs):
        return super().add_row(*(literal(c) for c in cells), **kwargs)

    def update_cell(self, row_key, column_key, value, **kwargs):
        return super().update_cell(row_key, column_key, literal(value), **kwargs)

    def update_cell_at(self, coordinate, value, **kwargs):
        return super().update_cell_at(coordinate, literal(value), **kwargs)
