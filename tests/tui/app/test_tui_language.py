"""The app in the reader's language: switched at once from the settings (set_language), and nothing left in
English in zh mode where the app draws it (footer, palette)."""
from __future__ import annotations


import pytest
from textual.widgets import Label

from tests.support.app import SIZE, app_for, settle
from tui.screens.customers import CustomersScreen

pytestmark = pytest.mark.anyio


async def test_switching_the_language_rewords_the_screen_on_show_and_the_others(book):
    app = app_for(book, language="en")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert str(app.screen.query_one("#dash-top-title", Label).render()) == "Top overdue customers"
        await app.set_language("zh")
        await settle(pilot)
        assert str(app.screen.query_one("#dash-top-title", Label).render()) == "逾期最多的客户"
        assert app.title == "Duly 应收账款"
        assert [b.description for _k, b in app._bindings if b.id == "customers"] == ["客户"]
        await pilot.press("2")
        await settle(pilot)
        assert isinstance(app.screen, CustomersScreen)
        assert app.screen.query_one("#search").placeholder.startswith("搜索")


async def test_the_palette_and_textual_s_own_commands_speak_chinese(book):
    from tui.app.palette import Palette

    app = app_for(book, language="zh")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert {"退出", "主题", "截图", "按键", "客户", "总览"} <= set(titles)
        assert [title for title in titles if title.isascii()] == []
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, Palette)
        assert app.screen.query_one("CommandInput").placeholder == "搜索命令…"
        assert [b.description for _k, b in app._bindings if b.action == "command_palette"] == ["命令"]


def test_palette_snapshot_in_chinese(snap_compare, master):
    from tests.support.book import PASSPHRASE, TODAY
    from tui.app.app import DulyApp

    app = DulyApp(master, PASSPHRASE, today=TODAY, language="zh")

    async def before(pilot) -> None:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"tuichu")  # no command is called "tuichu": the palette says so in Chinese
        await pilot.pause(1.0)
        for field in pilot.app.screen.query("Input"):  # a blinking cursor made the picture depend on the moment
            field.cursor_blink = False
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=before)
