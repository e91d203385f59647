"""Table cells the screens share: an amount right-aligned in its currency's format."""
from __future__ import annotations

from rich.text import Text

from store.rules.money import format_amount


def amount_cell(minor: int | None, currency: str, style: str = "") -> Text:
    """An amount in minor units as a right-aligned cell (empty for None), in an optional Rich style."""
    return Text("" if minor is None else format_amount(minor, currency), justify="right", style=style)
