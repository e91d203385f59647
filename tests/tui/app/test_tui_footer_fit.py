"""At 80x24 every main screen's footer shows every key it means to show, whole, in both languages: below 120 columns
the footer is compact, leaves the palette's key out and leaves the set-up keys (ctrl+y, f2-f4) to the help screen,
which lists them at every width."""
from __future__ import annotations

import pytest
from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel

from tests.support.app import SIZE, app_for, settle
from tui.screens.base import FOOTER_WIDE_ONLY
from tui.screens.help import HelpScreen

pytestmark = pytest.mark.anyio


def footer_line(app) -> str:
    """The footer's row as the terminal shows it."""
    footer = app.screen.query_one(Footer)
    strips = app.screen._compositor.render_strips()
    return strips[footer.region.y].text


def shown_bindings(app) -> list:
    """Each action's first binding with show=True, as the footer picks them."""
    seen, out = set(), []
    for _key, active in app.screen.active_bindings.items():
        binding = active.binding
        if binding.show and binding.action not in seen:
            seen.add(binding.action)
            out.append(binding)
    return out


def assert_every_key_shows(app, where: str) -> None:
    line = footer_line(app)
    footer = app.screen.query_one(Footer)
    for part in [*footer.query(FooterKey), *footer.query(FooterLabel)]:
        assert footer.region.contains_region(part.region), f"{where}: {part} cut off: {line!r}"
    for binding in shown_bindings(app):
        shown = app.get_key_display(binding)
        if binding.group is not None:
            assert shown in line and binding.group.description in line, f"{where}: {shown}: {line!r}"
        else:
            assert f"{shown} {binding.description}" in line, f"{where}: {shown} {binding.description}: {line!r}"


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_every_main_screen_s_footer_fits_80_columns(book, language):
    app = app_for(book, language=language)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for mode in app.MODES:
            await app.switch_mode(mode)
            await settle(pilot)
            await pilot.pause(0.1)  # the footer is composed anew after the bindings changed: until it is drawn
            assert_every_key_shows(app, f"{language} {mode}")
            assert not any(b.id in FOOTER_WIDE_ONLY for b in shown_bindings(app)), mode


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_the_keys_a_narrow_footer_leaves_out_are_in_the_help_screen(book, language):
    app = app_for(book, language=language)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        keys = {key for key, _ in app.screen.screen_keys + app.screen.global_keys}
        assert {"^y", "f2", "f3", "f4"} <= keys, keys


async def test_a_wide_footer_still_shows_the_set_up_keys(book):
    app = app_for(book, language="zh")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        line = footer_line(app)
        assert "f2 设置" in line and "f4 账期" in line, line
