"""Text that leaves Duly for another program: a spreadsheet (no live formulas) or a terminal (no control codes),
and the plaintext files people read there (hledger / beancount journals, reminder letters: `terminal_text`).

Names come from people and from files (a customer, a payer on a bank line, a device of the team); any of them
may carry `=HYPERLINK(...)` or an escape sequence that clears the screen. These two functions are the one
place where such text is made inert on its way out.
"""
from __future__ import annotations

import re

# OWASP "CSV injection": a cell starting with one of these is read as a formula by Excel, LibreOffice, Sheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
# C0 controls but tab and newline, DEL, and C1 controls (CSI 0x9b reaches a terminal like ESC [).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def spreadsheet_cell(text: str) -> str:
    """A text cell as a spreadsheet must not run it: a leading quote before = + - @ tab CR (OWASP).

    A plain decimal number ('-12.50') is left alone: it is an amount, harmless, and must stay a number. A text
    that already starts with quotes before such a character gets one more, so `from_spreadsheet_cell` gives
    back exactly what was written."""
    if text and text.lstrip("'")[:1] in FORMULA_START and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def from_spreadsheet_cell(text: str) -> str:
    """The inverse of `spreadsheet_cell`, for a CSV Duly wrote (`duly export csv` -> `duly import`)."""
    if text.startswith("'") and text.lstrip("'")[:1] in FORMULA_START:
        return text[1:]
    return text


def formula_like(text: str) -> bool:
    """Would a spreadsheet read this text cell as a formula?"""
    return bool(text) and text[:1] in FORMULA_START and not _PLAIN_NUMBER.match(text)


def terminal_text(text: str) -> str:
    """Text for a terminal: control characters shown as visible escapes (ESC -> '\\x1b'), never sent raw."""
    if text.isprintable() or not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
