"""Horizontal bar charts: a label, a bar (stacked in parts) and figures per row, with CJK-aware label widths.

The aging buckets of the dashboard, the reports' month-by-month trends and 13-week forecast, and a customer's
days late at payment are all drawn by Bars. Narrower than WIDE columns it shows only the first figure column,
so at 80 columns the bars keep their room.
"""
from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widget import Widget

from store.rules.money import format_amount
from tui.text import cell_width, pad

_EIGHTHS = " ▏▎▍▌▋▊▉"
WIDE = 100  # below this many columns only the first figure column is shown


def bar(value: int, largest: int, width: int) -> str:
    """A bar of `width` cells at most, in eighths of a cell, proportional to value/largest."""
    if value <= 0 or largest <= 0 or width <= 0:
        return ""
    eighths = max(1, value * width * 8 // largest)
    full, part = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[part] if part else "")


def stacked(parts: tuple[tuple[int, str], ...], largest: int, width: int) -> list[tuple[str, str]]:
    """The bar of the parts' sum, cut into (text, style) segments in whole cells where one part meets the next
    (a part never vanishes: it keeps at least an eighth); negative parts draw nothing."""
    values = [max(value, 0) for value, _ in parts]
    whole = bar(sum(values), largest, width)
    segments, start, running = [], 0, 0
    for k, ((_, style), value) in enumerate(zip(parts, values)):
        running += value
        end = len(whole) if k == len(parts) - 1 else min(len(whole), round(running * width / largest) if largest else 0)
        if value and end <= start and start < len(whole):
            end = start + 1
        if end > start:
            segments.append((whole[start:end], style))
            start = end
    return segments


@dataclass(frozen=True)
class BarRow:
    """One row of a chart: its label, the stacked parts of its bar ((value, style), left to right) and the
    figures shown at its right (already formatted, one per column of the chart)."""

    label: str
    parts: tuple[tuple[int, str], ...]
    figures: tuple[str, ...] = ()
    figure_style: str = ""


class Bars(Widget):
    """A titled horizontal bar chart. `columns` head the figure columns (a legend line may follow the title);
    rows with nothing positive have no bar."""

    DEFAULT_CSS = """
    Bars { height: auto; }
    """

    def __init__(self, title: str = "", rows: list[BarRow] | None = None, *, columns: tuple[str, ...] = (),
                 legend: Text | None = None, **kwargs):
        super().__init__(**kwargs)
        self.title = title
        self.rows = rows or []
        self.columns = columns
        self.legend = legend

    def show(self, title: str, rows: list[BarRow], *, columns: tuple[str, ...] = (),
             legend: Text | None = None) -> None:
        """Draw other rows (the chart's data came in)."""
        self.title, self.rows, self.columns, self.legend = title, rows, columns, legend
        self.refresh(layout=True)

    def _shown_columns(self) -> int:
        count = max([len(self.columns)] + [len(r.figures) for r in self.rows])
        return min(count, 1) if self.size.width and self.size.width < WIDE else count

    def get_content_height(self, container, viewport, width: int) -> int:
        heading = 1 if self.columns else 0
        return 1 + (self.legend is not None) + heading + len(self.rows)

    def render(self) -> Text:
        shown = self._shown_columns()
        label_width = max([cell_width(r.label) for r in self.rows] + [1])
        widths = [max([cell_width(self.columns[k]) if k < len(self.columns) else 0]
                      + [cell_width(r.figures[k]) for r in self.rows if k < len(r.figures)] + [1])
                  for k in range(shown)]
        figures_width = sum(w + 2 for w in widths)
        bar_width = max(4, self.size.width - label_width - 2 - figures_width)
        largest = max([sum(max(v, 0) for v, _ in r.parts) for r in self.rows] + [0])
        out = Text(self.title, style="bold")
        if self.legend is not None:
            out.append("\n")
            out.append_text(self.legend)
        if self.columns:
            out.append("\n" + " " * (label_width + 2 + bar_width))
            for k, width in enumerate(widths):
                out.append("  " + pad(self.columns[k] if k < len(self.columns) else "", width, right=True),
                           style="bold")
        for row in self.rows:
            out.append("\n" + pad(row.label, label_width) + "  ")
            drawn, style = 0, row.parts[0][1] if row.parts else ""
            for text, style in stacked(row.parts, largest, bar_width):
                out.append(text, style=style)
                drawn += len(text)
            out.append(" " * (bar_width - drawn), style=style)  # the rest of the bar's cells, in its style
            for k, width in enumerate(widths):
                figure = row.figures[k] if k < len(row.figures) else ""
                out.append("  " + pad(figure, width, right=True), style=row.figure_style)
        return out


def legend(*keys: tuple[str, str]) -> Text:
    """'█ overdue  █ not due', each block in its part's style."""
    out = Text()
    for k, (word, style) in enumerate(keys):
        out.append(("  " if k else "") + "█", style=style)
        out.append(" " + word)
    return out


class AgingBars(Bars):
    """Buckets as rows; negative amounts (unapplied cash) are shown without a bar."""

    def __init__(self, title: str, rows: list[tuple[str, int]], currency: str, *, calm: str | None = None,
                 **kwargs):
        # the bucket drawn in green (not yet due); the others are overdue
        super().__init__(title, [BarRow(label, ((value, "green" if label == calm else "red"),),
                                        (format_amount(value, currency),)) for label, value in rows], **kwargs)
