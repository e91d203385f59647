"""At 80x24 every main screen's footer shows every key it means to show, whole, in both languages: below 120 columns
the footer is compact, leaves the palette's key out and leaves the set-up keys (ctrl+y, f2-f4) to the help screen,
which lists them at every width."""
from __future__ import annotations

import pytest
from textual.widgets import Footer, Input, TabbedContent, TabPane
from textual.widgets._footer import FooterKey, FooterLabel

from store.ledger.ledger import Ledger
from store.write import collections
from tests.support.app import SIZE, app_for, settle, until
from tests.support.book import PASSPHRASE
from tui.screens.bank_import import BankImportScreen
from tui.screens.base import FOOTER_SET_UP
from tui.screens.contract import AttachFileScreen, ContractScreen
from tui.screens.customer import CustomerScreen
from tui.screens.help import HelpScreen
from tui.screens.invoice import InvoiceScreen
from tui.screens.payment import PaymentScreen
from tui.screens.rates import RatesImportScreen

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


@pytest.mark.parametrize("size", [(80, 24), SIZE], ids=["80x24", "120x40"])
@pytest.mark.parametrize("language", ["en", "zh"])
async def test_every_main_screen_s_footer_fits_its_width(book, language, size):
    app = app_for(book, language=language)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        for mode in app.MODES:
            await app.switch_mode(mode)
            await settle(pilot)
            await pilot.pause(0.1)  # the footer is composed anew after the bindings changed: until it is drawn
            assert_every_key_shows(app, f"{language} {mode}")
            if size[0] < 120:
                assert not any(b.id in FOOTER_SET_UP for b in shown_bindings(app)), mode


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


def detail_screens(book) -> list[tuple[str, object]]:
    with Ledger.open(book, PASSPHRASE) as ledger:
        payment = ledger.conn.execute("SELECT id FROM payments ORDER BY date LIMIT 1").fetchone()[0]
    return [("invoice", lambda: InvoiceScreen("T1-000001")), ("customer", lambda: CustomerScreen("ACME")),
            ("payment", lambda: PaymentScreen(payment))]


@pytest.mark.parametrize("size", [(80, 24), SIZE], ids=["80x24", "120x40"])
@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_detail_screen_s_many_keys_fit_its_footer_grouped_as_the_width_needs(book, language, size):
    """The invoice and the customer have more keys than a footer holds: runs of them show under one label
    ("p c n w u v Post"), as few as the width needs; the set-up keys go first."""
    app = app_for(book, language=language)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        for name, make in detail_screens(book):
            app.push_screen(make())
            await settle(pilot)
            tabs = app.screen.query(TabbedContent)
            for tab in [pane.id for pane in tabs.first().query(TabPane)] if tabs else [None]:
                if tab:
                    tabs.first().active = tab
                    await settle(pilot)
                await pilot.pause(0.1)  # the footer is composed anew after the bindings changed
                assert_every_key_shows(app, f"{language} {size} {name} {tab or ''}")
            app.pop_screen()
            await settle(pilot)


async def test_a_wide_footer_names_each_key_when_there_is_room(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(InvoiceScreen("T1-000001"))
        await settle(pilot)
        await pilot.pause(0.1)
        line = footer_line(app)
        assert "p c n w u v Post" in line and "d Dispute" in line and "h Reminders" in line, line
        app.pop_screen()
        await settle(pilot)
        await pilot.pause(0.1)
        assert "f2 Settings" in footer_line(app)  # back on a screen with room: the set-up keys again


async def test_arriving_at_a_screen_composes_its_footer_once_and_not_again_while_its_keys_stay(book, monkeypatch):
    """Every refresh of the keys used to compose the footer anew (arriving at collections: seven times, 30-100 ms
    each on a big book); now once per refresh, and not at all when what it shows did not change."""
    composed = []
    plain = Footer.compose

    def counting(footer):
        if footer._bindings_ready:  # (composed empty on mount, before the keys are known)
            composed.append(type(footer.screen).__name__)
        return plain(footer)

    monkeypatch.setattr(Footer, "compose", counting)
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key, name in (("7", "CollectionsScreen"), ("2", "CustomersScreen"), ("5", "AgingScreen")):
            composed.clear()
            await pilot.press(key)
            await settle(pilot)
            assert type(app.screen).__name__ == name
            assert 1 <= composed.count(name) <= 3, (name, composed)  # (before: 7 on collections)
            before = footer_line(app)
            composed.clear()
            app.screen.refresh_bindings()  # nothing changed: the footer stays as it is
            await settle(pilot)
            assert composed == [] and footer_line(app) == before


def footer_drawn(app) -> bool:
    footer = app.screen.query_one(Footer)
    keys = footer.query(FooterKey)
    return bool(keys) and all(key.region.width for key in keys) and bool(footer_line(app).strip())


def file_picker_screens(book, folder) -> list[tuple[str, object]]:
    """The screens that pick a file in a directory tree, and a contract's detail (a dialog with a footer)."""
    with Ledger.open(book, PASSPHRASE) as ledger:
        collections.add_contract(ledger, "BJ001", "HT-1", "2026-01-05")
    return [("bank import", lambda: BankImportScreen(folder)), ("rates import", lambda: RatesImportScreen(folder)),
            ("contract attach", lambda: AttachFileScreen("BJ001", "HT-1", None, folder)),
            ("contract detail", lambda: ContractScreen("BJ001", "HT-1"))]


@pytest.mark.parametrize("size", [(80, 24), SIZE], ids=["80x24", "120x40"])
@pytest.mark.parametrize("language", ["en", "zh"])
async def test_the_file_pickers_and_the_contract_detail_fit_their_footers_like_every_screen(book, tmp_path, language,
                                                                                           size):
    """They are no DulyScreens (a form over a file picker, a dialog): their footers are fitted all the same, and at
    80 columns they leave the set-up keys to the help screen."""
    (tmp_path / "statement.csv").write_text("date,amount\n", encoding="utf-8")
    app = app_for(book, language=language)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        app.push_screen(CustomerScreen("BJ001"))  # a screen whose footer leaves keys out below 120 columns
        await settle(pilot)
        for name, make in file_picker_screens(book, tmp_path):
            app.push_screen(make())
            for _ in range(2):  # with the focus on the tree, then on the path's input (the app's keys differ)
                await until(pilot, lambda: footer_drawn(app))  # composed anew after the bindings changed
                await pilot.pause(0.1)
                assert_every_key_shows(app, f"{language} {size} {name}")
                if size[0] < 120:
                    assert not any(b.id in FOOTER_SET_UP for b in shown_bindings(app)), name
                    assert "palette" not in footer_line(app) and "命令" not in footer_line(app), name
                else:
                    assert app.screen.query_one(Footer).show_command_palette, name
                inputs = app.screen.query(Input)
                if inputs:
                    inputs.last().focus()
            app.pop_screen()
            await settle(pilot)
