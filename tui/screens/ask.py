"""A small modal that asks one question and returns True (yes) or False (no, or Escape)."""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class AskScreen(ModalScreen[bool]):
    BINDINGS = [Binding("escape", "no", "No", id="ask_no", show=False)]
    DEFAULT_CSS = """
    AskScreen { align: center middle; }
    #ask { width: 72; max-width: 100%; height: auto; max-height: 90%; border: thick $primary;
           background: $surface; padding: 1 2; }
    #ask-title { text-style: bold; }
    #ask-text { height: auto; margin: 1 0; }
    #ask-buttons { height: auto; }
    #ask-buttons Button { margin-right: 2; }
    """

    def __init__(self, title: str, text: str = "", *, yes: str | None = None, no: str | None = None):
        super().__init__()
        self.title_text, self.text = title, text
        self.yes, self.no = yes, no

    def compose(self) -> ComposeResult:
        t = self.app.t
        with Vertical(id="ask"):
            yield Label(self.title_text, id="ask-title")
            yield Static(self.text, id="ask-text", markup=False)
            with Horizontal(id="ask-buttons"):
                yield Button(self.yes or t("ask.yes"), id="ask-yes", variant="primary")
                yield Button(self.no or t("ask.no"), id="ask-no")

    def on_mount(self) -> None:
        self.query_one("#ask-no", Button).focus()  # a decisive action is never one stray Enter away

    @on(Button.Pressed, "#ask-yes")
    def pressed_yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#ask-no")
    def pressed_no(self) -> None:
        self.dismiss(False)

    def action_no(self) -> None:
        self.dismiss(False)


class AskAfterPreview(AskScreen):
    """AskScreen with a long text (the message about to be sent) in a scrolling box, so the answer stays in view."""

    DEFAULT_CSS = """
    AskAfterPreview { align: center middle; }
    AskAfterPreview #ask { width: 100; height: 90%; }
    AskAfterPreview #ask-head { height: auto; margin: 1 0 0 0; }
    AskAfterPreview #ask-scroll { height: 1fr; border: round $panel; padding: 0 1; margin-bottom: 1; }
    """

    def __init__(self, title: str, head: str, body: str, *, yes: str | None = None, no: str | None = None):
        super().__init__(title, head + "\n\n" + body, yes=yes, no=no)
        self.head, self.body = head, body

    def compose(self) -> ComposeResult:
        from textual.containers import VerticalScroll

        t = self.app.t
        with Vertical(id="ask"):
            yield Label(self.title_text, id="ask-title")
            yield Static(self.head, id="ask-head", markup=False)
            with VerticalScroll(id="ask-scroll"):
                yield Static(self.body, id="ask-text", markup=False)
            with Horizontal(id="ask-buttons"):
                yield Button(self.yes or t("ask.yes"), id="ask-yes", variant="primary")
                yield Button(self.no or t("ask.no"), id="ask-no")
