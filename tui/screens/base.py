"""What every Duly screen shares: the app's words, its database thread, reload on change."""
from __future__ import annotations

from dataclasses import replace

from textual.binding import BindingsMap
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from tui.i18n import Strings


def localise_bindings(node, t: Strings) -> None:
    """Footer and help texts in the app's language: a binding's description is looked up by its id."""
    keys = {}
    for key, bindings in node._bindings.key_to_bindings.items():
        keys[key] = [replace(b, description=t(f"key.{b.id}")) if b.id and f"key.{b.id}" in t._catalogue
                     else b for b in bindings]
    node._bindings = BindingsMap.from_keys(keys)


class DulyScreen(Screen):
    """A screen that loads from the ledger through the database thread and reloads when the ledger changed."""

    loaded_revision = -1

    @property
    def t(self) -> Strings:
        return self.app.t

    async def db(self, fn, /, *args, **kwargs):
        """fn(ledger, *args, **kwargs) on the app's database thread (await it in an async worker)."""
        return await self.app.db.run(fn, *args, **kwargs)

    def on_mount(self) -> None:
        localise_bindings(self, self.t)
        self.refresh_bindings()
        self.reload()

    def on_screen_resume(self) -> None:
        if self.loaded_revision != -1 and self.loaded_revision != self.app.revision:
            self.reload()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Worker messages do not bubble: a failed load becomes an error notification, never an exit."""
        if event.state == WorkerState.ERROR:
            self.app.notify_error(event.worker.error)

    def reload(self) -> None:
        """Start the worker(s) that fetch this screen's data."""
        self.loaded_revision = self.app.revision
