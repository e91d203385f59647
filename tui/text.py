"""How wide text is in a terminal: CJK wide and full-width characters take two columns. Shared by the
command line's tables and the app's widgets, so Chinese names line up in both."""
from __future__ import annotations

import unicodedata


def cell_width(text: str) -> int:
    """Terminal columns taken by text: CJK wide and full-width characters take two."""
    if text.isascii():
        return len(text)
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def pad(text: str, width: int, *, right: bool = False, used: int | None = None) -> str:
    gap = max(0, width - (cell_width(text) if used is None else used))
    return " " * gap + text if right else text + " " * gap


def clip(text: str, width: int) -> str:
    """text cut to at most `width` columns, an ellipsis (…) where it was cut; a wide character that would only half
    fit goes whole (its column stays blank)."""
    if cell_width(text) <= width:
        return text
    if width <= 0:
        return ""
    out, used = [], 0
    for ch in text:
        step = 0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if used + step > width - 1:
            break
        out.append(ch)
        used += step
    return "".join(out) + "…"
