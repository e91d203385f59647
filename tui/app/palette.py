"""Textual's command palette and its system commands in the reader's language (Textual words them in English)."""
from __future__ import annotations

from rich.align import Align
from rich.text import Text
from textual.app import SystemCommand
from textual.command import CommandList, CommandPalette
from textual.widgets.option_list import Option

from tui.app.i18n import Strings


class Palette(CommandPalette):
    """The palette with its placeholder and its 'no matches' line in the app's language."""

    def __init__(self, t: Strings, **kwargs):
        super().__init__(placeholder=kwargs.pop("placeholder", t("palette.search")), **kwargs)
        self._none_found = t("palette.none")

    def _start_no_matches_countdown(self, search_value: str) -> None:
        # Textual's own method, with its words from the catalogue (textual==8.2.8 is pinned in pyproject.toml)
        self._stop_no_matches_countdown()

        def show_no_matches() -> None:
            if search_value:
                self.query_one(CommandList).add_option(
                    Option(Align.center(Text(self._none_found, style="not bold")), disabled=True,
                           id=self._NO_MATCHES))
                self._list_visible = True
            else:
                self._list_visible = False

        self._no_matches_timer = self.set_timer(self._NO_MATCHES_COUNTDOWN, show_no_matches)


def system_commands(app, screen):
    """Textual's system commands (App.get_system_commands), worded in the app's language."""
    t = app.t
    yield SystemCommand(t("sys.theme"), t("sys.theme.help"), app.action_change_theme)
    yield SystemCommand(t("sys.quit"), t("sys.quit.help"), app.action_quit)
    if screen.query("HelpPanel"):
        yield SystemCommand(t("sys.keys"), t("sys.keys.hide"), app.action_hide_help_panel)
    else:
        yield SystemCommand(t("sys.keys"), t("sys.keys.show"), app.action_show_help_panel)
    if screen.maximized is not None:
        yield SystemCommand(t("sys.minimize"), t("sys.minimize.help"), screen.action_minimize)
    elif screen.focused is not None and screen.focused.allow_maximize:
        yield SystemCommand(t("sys.maximize"), t("sys.maximize.help"), screen.action_maximize)
    yield SystemCommand(t("sys.screenshot"), t("sys.screenshot.help"),
                        lambda: app.set_timer(0.1, app.deliver_screenshot))
