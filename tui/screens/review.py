"""The message a reminder would send, shown before anything goes out; the reviewer decides send / skip / hold
from here (ModalScreen returning the decision, or None to leave the row as it was)."""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Label, Static

from tui.screens.base import localise_bindings


class ReminderPreviewScreen(ModalScreen[str | None]):
    BINDINGS = [
        Binding("space", "decide('send')", "Send", id="review_send"),
        Binding("x", "decide('skip')", "Skip", id="review_skip"),
        Binding("h", "decide('hold')", "Hold", id="review_hold"),
        Binding("escape", "decide('')", "Close", id="review_close"),
    ]
    DEFAULT_CSS = """
    ReminderPreviewScreen { align: center middle; }
    #preview { width: 96; max-width: 100%; height: 90%; border: thick $primary; background: $surface;
               padding: 0 1; }
    #preview-head { height: auto; }
    #preview-body { height: 1fr; border: round $panel; padding: 0 1; }
    #preview-buttons { height: auto; }
    #preview-buttons Button { margin-right: 1; }
    """

    def __init__(self, preview: dict):
        super().__init__()
        self.preview = preview

    def compose(self) -> ComposeResult:
        t, p = self.app.t, self.preview
        with Vertical(id="preview"):
            yield Label(t("review.preview_title", customer=p["customer"], name=p["name"]), classes="section")
            yield Static(t("review.preview_head", channel=t(f"channel.{p['channel']}"),
                           address=p["address"] or t("review.no_address"), invoices=", ".join(p["invoices"]),
                           subject=p["subject"]), id="preview-head", markup=False)
            with VerticalScroll(id="preview-body"):
                yield Static(p["body"], markup=False)
            with Horizontal(id="preview-buttons"):
                yield Button(t("review.btn_send"), id="preview-send", variant="primary")
                yield Button(t("review.btn_skip"), id="preview-skip")
                yield Button(t("review.btn_hold"), id="preview-hold", variant="warning")
        yield Footer()

    def on_mount(self) -> None:
        localise_bindings(self, self.app.t)
        self.app.refresh_bindings()

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id.split("-", 1)[1])

    def action_decide(self, decision: str) -> None:
        self.dismiss(decision or None)
