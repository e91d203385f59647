"""`?`: the keys of the current screen and the ones that work everywhere."""
from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss", "Back", id="close_help"),
    ]

    def __init__(self, screen_keys: list[tuple[str, str]], global_keys: list[tuple[str, str]]):
        super().__init__()
        self.screen_keys = screen_keys
        self.global_keys = global_keys

    def compose(self) -> ComposeResult:
        t = self.app.t
        with VerticalScroll(id="help"):
            yield Label(t("help.title"), id="help-title")
            for title, keys in ((t("help.screen"), self.screen_keys), (t("help.global"), self.global_keys)):
                if not keys:
                    continue
                table = Table(title=title, title_justify="left", show_header=False, box=None, padding=(0, 2))
                table.add_column(style="bold")
                table.add_column()
                for key, text in keys:
                    table.add_row(key, text)
                yield Static(table)
            yield Static(t("help.palette"))
            yield Static(t("help.close"), classes="dim")
