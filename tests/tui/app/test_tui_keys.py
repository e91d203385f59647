"""One key scheme everywhere: going to a screen is a digit and means that on every screen; what a screen does
is a letter. Walks every screen's bindings, and the help screen of every screen the app can show."""
from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from textual.screen import Screen
from textual.widgets import DataTable, Input

import tui.screens
from store.ledger.ledger import Ledger
from tests.support.app import SIZE, app_for, settle
from tests.support.book import PASSPHRASE
from tui.app.app import GLOBAL_KEYS, NAVIGATION, DulyApp
from tui.screens.help import HelpScreen

pytestmark = pytest.mark.anyio


def every_screen_class() -> list[type[Screen]]:
    found = {}
    for module in pkgutil.iter_modules(tui.screens.__path__):
        loaded = importlib.import_module(f"tui.screens.{module.name}")
        for _, cls in inspect.getmembers(loaded, inspect.isclass):
            if issubclass(cls, Screen) and cls.__module__.startswith("tui.screens."):
                found[cls.__qualname__] = cls
    return sorted(found.values(), key=lambda c: c.__qualname__)


def keys_of(binding) -> list[str]:
    return [k.strip() for k in binding.key.split(",")]


def test_no_screen_rebinds_a_global_key_or_binds_one_key_twice():
    screens = every_screen_class()
    assert len(screens) >= 15  # the walk found the screens (a broken import would make this pass vacuously)
    problems = []
    for cls in screens:
        actions: dict[str, str] = {}
        for binding in cls._merge_bindings().key_to_bindings.values():
            for b in binding:
                for key in keys_of(b):
                    if key in GLOBAL_KEYS:
                        problems.append(f"{cls.__name__}: {key} is a global key (here: {b.action})")
                    if actions.setdefault(key, b.action) != b.action:
                        problems.append(f"{cls.__name__}: {key} means {actions[key]} and {b.action}")
    assert problems == []


def test_navigation_is_digits_and_every_screen_action_is_not():
    assert [key for _, key in NAVIGATION] == [str(n) for n in range(1, len(NAVIGATION) + 1)]
    for cls in every_screen_class():
        for bindings in cls._merge_bindings().key_to_bindings.values():
            for b in bindings:
                assert not any(key.isdigit() for key in keys_of(b)), f"{cls.__name__}: {b.key}"


async def help_keys(pilot) -> list[str]:
    await pilot.press("question_mark")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, HelpScreen)
    keys = [key for key, _ in screen.screen_keys + screen.global_keys]
    await pilot.press("escape")
    await settle(pilot)
    return keys


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_help_shows_no_key_twice_on_any_screen(book, language):
    app = app_for(book, language=language)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        seen = 0
        for mode, key in NAVIGATION:
            await pilot.press(key)
            await settle(pilot)
            assert app.current_mode == mode
            keys = await help_keys(pilot)
            assert len(keys) == len(set(keys)), f"{mode}: {keys}"
            assert key in keys
            seen += 1
            table = next((t for t in app.screen.query(DataTable) if t.row_count), None)
            if mode in ("customers", "invoices", "payments") and table is not None:
                table.focus()
                await pilot.press("enter")  # the record behind the first row: its own keys
                await settle(pilot)
                keys = await help_keys(pilot)
                assert len(keys) == len(set(keys)), f"{type(app.screen).__name__}: {keys}"
                seen += 1
                await pilot.press("escape")
                await settle(pilot)
        assert seen == len(NAVIGATION) + 3


async def test_sync_key_on_the_bank_screen_goes_to_sync_and_posts_nothing(book):
    """The old scheme posted a payment here: `y` was Sync and, on Reconcile, 'accept this bank line'."""
    from store.files import bank
    from store.write import reconcile
    from tui.screens.sync import SyncScreen

    with Ledger.open(book, PASSPHRASE) as ledger:
        csv = book.parent / "stmt.csv"
        csv.write_bytes(("交易日期,贷方发生额,借方发生额,对方户名,摘要\n"
                         "2026-03-31,\"88,000.00\",,北京华信科技有限公司,T1-000003\n").encode("gbk"))
        bank.import_file(ledger, csv)
        before = ledger.row("SELECT count(*) AS n FROM payments")["n"]
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("8")
        await settle(pilot)
        assert app.screen.query_one("#rec-lines", DataTable).row_count == 1
        await pilot.press("9")
        await settle(pilot)
        assert isinstance(app.screen, SyncScreen)
    with Ledger.open(book, PASSPHRASE) as ledger:
        assert ledger.row("SELECT count(*) AS n FROM payments")["n"] == before
        assert len(reconcile.lines(ledger, status="open")) == 1  # still waiting for a decision


async def test_digits_type_in_a_form_and_never_leave_it(book):
    from tui.screens.invoice_form import InvoiceFormScreen

    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("3", "n")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceFormScreen)
        focused = app.focused
        assert isinstance(focused, Input)
        await pilot.press(*"BJ0012")
        assert focused.value == "BJ0012"
        app.screen.set_focus(None)  # nothing typed into: a digit still does not leave the form
        await pilot.press("2")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceFormScreen)


def test_the_app_class_defines_the_globals_it_checks():
    bound = {key for b in DulyApp.BINDINGS for key in keys_of(b)}
    assert GLOBAL_KEYS - {"ctrl+p"} <= bound


async def test_brackets_step_through_a_screen_s_tabs_and_reach_the_statement(book):
    from textual.widgets import TabbedContent

    from tui.screens.customer import CustomerScreen
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(CustomerScreen("ACME"))
        await settle(pilot)
        tabs = app.screen.query_one("#archive-tabs", TabbedContent)
        first = tabs.active
        seen = [first]
        for _ in range(12):
            await pilot.press("right_square_bracket")
            await settle(pilot)
            if tabs.active == first:
                break
            seen.append(tabs.active)
        assert "tab-statement" in seen and tabs.active == first  # round the tabs and back to the first
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert tabs.active == seen[-1]  # [ goes back: from the first to the last
        while tabs.active != "tab-statement":
            await pilot.press("left_square_bracket")
            await settle(pilot)
        await pilot.press("w")  # the statement's own keys work there: save as PDF asks where
        await settle(pilot)
        assert app.screen is not None and not isinstance(app.screen, CustomerScreen)
