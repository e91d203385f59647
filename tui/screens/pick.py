"""A small modal offering a few ways to go on (save as PDF, save as HTML, send by e-mail): one button each,
returning the value of the one pressed, or None on Escape. No letter key answers, as in ConfirmScreen."""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class PickScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel_pick")]
    DEFAULT_CSS = """
    PickScreen { align: center middle; }
    #pick { width: 80; max-width: 100%; height: auto; border: thick $primary; background: $surface; padding: 1 2; }
    #pick-title { text-style: bold; }
    #pick-text { height: auto; margin: 1 0; }
    #pick-buttons { height: auto; }
    #pick-buttons Button { margin-right: 1; }
    """

    def __init__(self, title: str, options: list[tuple[str, str]], text: str = ""):
        super().__init__()
        self.title_text, self.options, self.text = title, options, text

    def compose(self) -> ComposeResult:
        with Vertical(id="pick"):
            yield Label(self.title_text, id="pick-title")
            if self.text:
                yield Static(self.text, id="pick-text", markup=False)
            with Horizontal(id="pick-buttons"):
                for label, value in self.options:
                    yield Button(label, id=f"pick-{value}")

    def on_mount(self) -> None:
        self.query(Button).first().focus()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id.removeprefix("pick-"))

    def action_cancel(self) -> None:
        self.dismiss(None)
