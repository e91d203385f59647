"""SVG snapshots of the documents' screens in English and 简体中文 at 120x40 and 80x24: the customer's statement
tab with its period picker (last month picked), and the template editor after a broken template was refused.
Update after an intended change with `pytest --snapshot-update`, after looking at the pictures."""
from __future__ import annotations

import pytest
from textual.widgets import TabbedContent, TextArea

from tests.support.app import hold_still
from tests.support.book import PASSPHRASE, TODAY, make_book
from tui.app.app import DulyApp
from tui.screens.customer import CustomerScreen

SIZES = [(120, 40), (80, 24)]


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    return make_book(tmp_path_factory.mktemp("documents-snap") / "book.duly")


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_statement_tab_snapshot(snap_compare, book, language, size):
    app = DulyApp(book, PASSPHRASE, today=TODAY, language=language)

    async def before(pilot) -> None:
        await hold_still(pilot)
        pilot.app.push_screen(CustomerScreen("BJ001"))
        await hold_still(pilot)
        pilot.app.screen.query_one("#archive-tabs", TabbedContent).active = "tab-statement"
        await hold_still(pilot)
        await pilot.press("t", "enter", "down", "down", "enter")  # this quarter
        await hold_still(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_template_editor_snapshot(snap_compare, book, language, size):
    app = DulyApp(book, PASSPHRASE, today=TODAY, language=language)

    async def before(pilot) -> None:
        await hold_still(pilot)
        for key in ("f2", "ctrl+o", "down", "enter"):  # Settings, the templates, statement.en
            await pilot.press(key)
            await hold_still(pilot)
        area = pilot.app.screen.query_one("#template-text", TextArea)
        area.cursor_blink = False  # a steady cursor: the picture must not depend on the moment
        area.load_text(area.text.replace("{{ customer.name }}", "{{ customer.name }", 1))
        await pilot.press("ctrl+s")
        await hold_still(pilot)
        await pilot.pause(0.2)  # the cursor moved to the line named: let the scroll that follows settle
        await hold_still(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)
