"""Unlock the ledger: a passphrase prompt that says so when it is wrong and lets you try again."""
from __future__ import annotations

from pathlib import Path

import asyncio

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from store.errors import DulyError, WrongPassphrase


class PassphraseScreen(ModalScreen[str | None]):
    """Returns the ledger's `language` setting once the ledger is open."""

    BINDINGS = [Binding("escape", "app.quit", "Quit", id="cancel_unlock", show=False)]

    class Opened(Message):
        def __init__(self, language_setting: str | None):
            super().__init__()
            self.language_setting = language_setting

    class Refused(Message):
        def __init__(self, text: str, wrong: bool):
            super().__init__()
            self.text = text
            self.wrong = wrong

    def __init__(self, path: Path):
        super().__init__()
        self.path = path

    def compose(self) -> ComposeResult:
        t = self.app.t
        with Vertical(id="unlock"):
            yield Label(t("pass.title"), id="unlock-title")
            yield Static(t("pass.prompt", path=self.path.name), id="unlock-prompt")
            yield Input(password=True, placeholder=t("pass.placeholder"), id="passphrase")
            yield Static("", id="unlock-error")

    @on(Input.Submitted, "#passphrase")
    def submitted(self, event: Input.Submitted) -> None:
        if not event.value:
            self.query_one("#unlock-error", Static).update(self.app.t("pass.empty"))
            return
        event.input.disabled = True
        self.query_one("#unlock-error", Static).update(self.app.t("pass.opening"))
        self.try_passphrase(event.value)

    @work(exclusive=True, exit_on_error=False, group="unlock")
    async def try_passphrase(self, passphrase: str) -> None:
        try:
            setting = await asyncio.wrap_future(self.app.db.unlock(passphrase))
        except WrongPassphrase:
            self.post_message(self.Refused(self.app.t("pass.wrong"), wrong=True))
            return
        except DulyError as exc:
            self.post_message(self.Refused(self.app.t.error(exc), wrong=False))
            return
        self.post_message(self.Opened(setting))

    @on(Opened)
    def opened(self, message: Opened) -> None:
        self.dismiss(message.language_setting)

    @on(Refused)
    def refused(self, message: Refused) -> None:
        self.query_one("#unlock-error", Static).update(message.text)
        field = self.query_one("#passphrase", Input)
        field.disabled = False
        field.value = ""
        field.focus()
