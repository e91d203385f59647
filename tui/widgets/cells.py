"""Table cells the screens share: an amount right-aligned in its currency's format; in a list's narrow layout (below
120 columns) a short date, an amount with its currency, and a name cut to its column with an ellipsis."""
from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from store.rules.money import format_amount
from store.rules.safetext import terminal_text
from tui.text import cell_width, clip


def amount_cell(minor: int | None, currency: str, style: str = "") -> Text:
    """An amount in minor units as a right-aligned cell (empty for None), in an optional Rich style."""
    return Text("" if minor is None else format_amount(minor, currency), justify="right", style=style)


def amount_with_currency_cell(minor: int | None, currency: str, style: str = "") -> Text:
    """An amount and its currency in one right-aligned cell ('12,500.00 USD'): the narrow layout's money column."""
    return Text("" if minor is None else f"{format_amount(minor, currency)} {currency}", justify="right", style=style)


def short_date(iso: str | None) -> str:
    """'2026-03-31' -> '26-03-31': a date in a narrow list (the year's first two digits left out)."""
    if iso and len(iso) == 10 and iso[4] == "-" and iso[:2].isdigit():
        return iso[2:]
    return iso or ""


class Clipped:
    """A one-line cell that fits whatever width its column is given: cut with an ellipsis, wide (CJK) characters
    counted as two columns. The column that takes the room the others leave (tui.widgets.table.DataTable.flex)
    holds these, so a long name never pushes the list wider than the screen. `keep` leading characters (a
    customer's code before its name) are cut only when nothing else is left."""

    def __init__(self, text: str, keep: int = 0, style: str = ""):
        self.text = terminal_text(text)
        self.keep = keep
        self.style = style

    def __str__(self) -> str:
        return self.text

    def fitted(self, width: int) -> str:
        head, rest = self.text[:self.keep], self.text[self.keep:]
        room = width - cell_width(head)
        if room < 2 and rest:  # no room for any of the rest: the head alone, itself cut if need be
            return clip(self.text, width) if cell_width(head) > width else head
        return head + clip(rest, room)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        shown = self.fitted(options.max_width)
        yield Segment(shown, Style.parse(self.style) if self.style else None)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(1, cell_width(self.text))
