"""Progress of a long job on the command line: a bar on stderr with rows, rate and time left (Rich's progress),
updated in place at a terminal and erased when the job ends; nothing at all when stderr is not a terminal
(piped, redirected, a script) or with --format json.

The store reports progress through a plain callback `progress(done, total)` and never imports this module."""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager

UPDATE_EVERY_S = 0.1  # redraws at most ten times a second, whatever the row rate


def wanted(ctx) -> bool:
    return sys.stderr.isatty() and getattr(ctx, "format", "table") != "json"


class _Bar:
    def __init__(self, label: str, unit: str):
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn,
                                   TimeRemainingColumn)

        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn(unit),
            TaskProgressColumn(), TextColumn("{task.fields[rate]}"), TimeRemainingColumn(),
            console=Console(file=sys.stderr), transient=True, auto_refresh=False)
        self._task = None
        self._label = label
        self._started = time.monotonic()
        self._shown = 0.0
        self._paused = False

    def __call__(self, done: int, total: int | None) -> None:
        """`total` None: working, with no measure of how far yet (a check before a copy): the bar pulses."""
        now = time.monotonic()
        if self._task is not None and not self._paused and now - self._shown < UPDATE_EVERY_S \
                and (total is None or done < total):
            return
        self._shown = now
        took = now - self._started
        rate = f"{done / took:,.0f}/s" if took > 0 and done else ""
        if self._task is None:
            self._progress.start()
            self._task = self._progress.add_task(self._label, total=total, rate=rate)
        elif self._paused:
            self._progress.start()
        self._paused = False
        self._progress.update(self._task, completed=done, total=total, rate=rate)
        self._progress.refresh()

    def pause(self) -> None:
        """Take the bar off the terminal while the job asks something there; the next update shows it again."""
        if self._task is not None and not self._paused:
            self._progress.stop()
            self._paused = True

    def close(self) -> None:
        if self._task is not None and not self._paused:
            self._progress.stop()


@contextmanager
def shown(ctx, label: str, unit: str = "rows"):
    """`with shown(ctx, "importing payments") as progress:` -> a callback progress(done, total), or None when no
    progress is to be shown (then pass None on: the store skips the calls)."""
    if not wanted(ctx):
        yield None
        return
    bar = _Bar(label, unit)
    try:
        yield bar
    finally:
        bar.close()
