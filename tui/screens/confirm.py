"""Asking before a decisive step (void, write off, accept or reject a bank line, apply credit, mark looked at):
what will happen, how it is undone, Enter to go ahead, Escape to leave it. No letter key answers, so a key
meant for the screen below never says yes by accident."""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses with True (go ahead) or False (leave it)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel_confirm")]

    def __init__(self, title: str, body: str = "", *, undo: str = "", go: str | None = None):
        super().__init__()
        self.title_text = title
        self.body = body
        self.undo = undo
        self.go = go

    def compose(self) -> ComposeResult:
        t = self.app.t
        with Vertical(id="confirm", classes="dialog"):
            yield Label(self.title_text, id="confirm-title")
            if self.body:
                yield Static(self.body, id="confirm-body")
            if self.undo:
                yield Static(self.undo, id="confirm-undo", classes="dim")
            with Horizontal(id="confirm-buttons"):
                yield Button(self.go or t("confirm.go"), id="confirm-go", variant="warning")
                yield Button(t("confirm.cancel"), id="confirm-cancel")

    def on_mount(self) -> None:
        self.query_one("#confirm-go", Button).focus()

    @on(Button.Pressed, "#confirm-go")
    def go_ahead(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
