"""Driving the app in a Pilot test: the app on a book, waiting until its workers are done, a widget's text."""
from __future__ import annotations

import asyncio
import io

from rich.console import Console
from textual.widgets import Static

from tests.support.book import PASSPHRASE, TODAY
from tui.app.app import DulyApp

SIZE = (120, 40)


def app_for(path, passphrase=PASSPHRASE, language="en") -> DulyApp:
    return DulyApp(path, passphrase, today=TODAY, language=language)


SETTLE_SECONDS = 180


# Textual's DirectoryTree keeps a loader worker for as long as the tree is shown, waiting for folders to read: it never
# finishes, so settling waits for its queue to empty instead (the file picker of the Files and import screens has one)
STANDING_WORKERS = frozenset({"_loader"})


def _running(app) -> list:
    return [w for w in app.workers if not w.is_finished and w.group not in STANDING_WORKERS]


async def _workers_done(app) -> None:
    from textual.widgets import DirectoryTree

    while True:
        running = _running(app)
        trees = [tree for screen in app.screen_stack for tree in screen.query(DirectoryTree)]
        if running:
            await asyncio.gather(*(w.wait() for w in running), return_exceptions=True)
        elif any(tree._load_queue._unfinished_tasks for tree in trees):  # a folder asked for, not yet read
            await asyncio.gather(*(tree._load_queue.join() for tree in trees))
        else:
            return


async def settle(pilot) -> None:
    """Until every worker has finished and the messages it posted were handled (no sleeps)."""
    app = pilot.app
    for _ in range(50):
        try:
            await asyncio.wait_for(_workers_done(app), SETTLE_SECONDS)
        except TimeoutError:  # a hang is a failure that names what still runs, never a test run that never ends
            raise AssertionError(f"workers still running after {SETTLE_SECONDS} s: "
                                 f"{[w.name for w in _running(app)]}") from None
        if not app.is_running:
            return
        await pilot.pause()
        if not _running(app):
            await _tables_measured(pilot)
            return
    raise AssertionError("workers kept running")


async def until(pilot, condition, tries: int = 200) -> None:
    """Until condition() holds, for a screen with the file picker on it: its directory tree keeps a loader worker
    running, so `settle` would wait for it in vain."""
    for _ in range(tries):
        await pilot.pause(0.05)
        if condition():
            return
    raise AssertionError("the screen never got there")


async def _tables_measured(pilot) -> None:
    """Until every DataTable on the screen stack has sized its columns to the rows it was given (a table does that
    when it is next idle; a modal pushed before then would show the screen below it with its columns unsized)."""
    from textual.widgets import DataTable

    for _ in range(50):
        if not any(table._require_update_dimensions for screen in pilot.app.screen_stack
                   for table in screen.query(DataTable)):
            return
        await pilot.pause()


async def hold_still(pilot) -> None:
    """Settle, then stop every input's cursor blinking: a snapshot must not depend on the moment it is taken."""
    from textual.widgets import Input

    await settle(pilot)
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


def slow_database(monkeypatch, module, name: str, seconds: float) -> None:
    """A busy machine: module.name (a read the screen runs on the database thread) takes `seconds` longer."""
    import time

    fast = getattr(module, name)

    def slow(*args, **kwargs):
        time.sleep(seconds)
        return fast(*args, **kwargs)
    monkeypatch.setattr(module, name, slow)


def text_of(widget: Static) -> str:
    """What a Static shows, as plain text (rich tables included)."""
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()
