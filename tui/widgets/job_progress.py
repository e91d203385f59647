"""A long job's progress on the screen (or dialog) that started it: an import, an export, a backup, a restore.

The job runs on the database thread and reports through the store's plain callback `progress(done, total)`
(total None: working, with no measure of how far yet, e.g. the page check before a backup's copy). `reporter()`
gives that callback: it may be called from any thread, posts at most ten updates a second to the widget
(Textual's post_message is thread-safe), and the bar (Textual's ProgressBar: bar, percentage, time left) shows
while the job runs and hides when it is done."""
from __future__ import annotations

import time
from collections.abc import Callable

from textual.message import Message
from textual.widgets import ProgressBar

UPDATE_EVERY_S = 0.1


class JobProgress(ProgressBar):
    DEFAULT_CSS = """
    JobProgress { display: none; height: 1; }
    JobProgress.running { display: block; }
    """

    class Moved(Message):
        def __init__(self, done: int, total: int | None):
            super().__init__()
            self.done, self.total = done, total

    def __init__(self, **kwargs):
        super().__init__(total=None, show_eta=True, **kwargs)

    def start(self) -> None:
        """Shown, with no measure yet, until the job's first report."""
        self.update(total=None, progress=0)
        self.add_class("running")

    def finish(self) -> None:
        self.remove_class("running")

    def reporter(self) -> Callable[[int, int | None], None]:
        """The store's progress callback, for the database thread."""
        shown = [0.0]

        def report(done: int, total: int | None) -> None:
            now = time.monotonic()
            if now - shown[0] < UPDATE_EVERY_S and total is not None and done < total:
                return
            shown[0] = now
            self.post_message(self.Moved(done, total))

        return report

    def on_job_progress_moved(self, message: Moved) -> None:
        message.stop()
        if self.has_class("running"):  # a report that arrives after the job ended changes nothing
            self.update(total=message.total, progress=message.done)
