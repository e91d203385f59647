"""The app in the reader's language: switched at once from the settings (set_language), and nothing left in
English in zh mode where the app draws it (footer, palette)."""
from __future__ import annotations

import shutil

import pytest
from textual.widgets import Label

from tests.support.app import SIZE, app_for, settle
from tests.support.book import make_book
from tui.screens.customers import CustomersScreen

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
def master(tmp_path_factory):
    return make_book(tmp_path_factory.mktemp("book") / "book.duly")


@pytest.fixture
def book(master, tmp_path):
    return shutil.copy(master, tmp_path / "book.duly")


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
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, CustomersScreen)
        assert app.screen.query_one("#search").placeholder.startswith("搜索")
