"""A small modal that asks for one line of text (a void reason, an amount) and returns it, or None on Esc."""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static


class PromptScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel_prompt")]

    def __init__(self, title: str, value: str = "", *, hint: str = "", required: bool = True):
        super().__init__()
        self.title_text = title
        self.value = value
        self.hint = hint
        self.required = required

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt", classes="dialog"):
            yield Label(self.title_text, id="prompt-title")
            yield Input(self.value, id="prompt-input")
            yield Static(self.hint, id="prompt-hint", classes="dim")

    def on_mount(self) -> None:
        self.query_one("#prompt-input", Input).focus()

    @on(Input.Submitted, "#prompt-input")
    def submitted(self, event: Input.Submitted) -> None:
        if self.required and not event.value.strip():
            self.query_one("#prompt-hint", Static).update(self.app.t("prompt.required"))
            return
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)
