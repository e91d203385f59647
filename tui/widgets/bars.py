"""A horizontal bar chart of aging buckets: label, bar, amount (CJK-aware label widths)."""
from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from store.rules.money import format_amount
from tui.text import cell_width, pad

_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(value: int, largest: int, width: int) -> str:
    """A bar of `width` cells at most, in eighths of a cell, proportional to value/largest."""
    if value <= 0 or largest <= 0 or width <= 0:
        return ""
    eighths = max(1, value * width * 8 // largest)
    full, part = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[part] if part else "")


class AgingBars(Widget):
    """Buckets as rows; negative amounts (unapplied cash) are shown without a bar."""

    DEFAULT_CSS = """
    AgingBars { height: auto; }
    """

    def __init__(self, title: str, rows: list[tuple[str, int]], currency: str, *, calm: str | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        self.title = title
        self.rows = rows
        self.currency = currency
        self.calm = calm  # the bucket drawn in green (not yet due); the others are overdue

    def get_content_height(self, container, viewport, width: int) -> int:
        return len(self.rows) + 1

    def render(self) -> Text:
        label_width = max([cell_width(label) for label, _ in self.rows] + [1])
        amounts = [format_amount(value, self.currency) for _, value in self.rows]
        amount_width = max([len(a) for a in amounts] + [1])
        bar_width = max(4, self.size.width - label_width - amount_width - 4)
        largest = max([value for _, value in self.rows] + [0])
        out = Text(self.title + "\n", style="bold")
        for (label, value), amount in zip(self.rows, amounts):
            out.append(pad(label, label_width) + "  ")
            style = "green" if label == self.calm else "red"
            drawn = bar(value, largest, bar_width)
            out.append(pad(drawn, bar_width), style=style)
            out.append("  " + amount.rjust(amount_width) + "\n")
        out.rstrip()
        return out
