"""The Textual app driven through Pilot: unlock, customers (search, paging, archive, form), failures."""
from __future__ import annotations

import asyncio
import shutil
import threading

import pytest
from textual.widgets import DataTable, Input, Static

from store.errors import WrongPassphrase
from store.ledger.ledger import Ledger
from tests.support.app import SIZE, app_for, settle, text_of
from tests.support.book import CUSTOMERS, INVOICES, PASSPHRASE, TODAY, make_book
from tui.app.app import DulyApp, parse_keymap
from tui.app.i18n import Strings, choose_language
from tui.screens.customer import CustomerScreen
from tui.screens.customer_form import CustomerFormScreen
from tui.screens.customers import PAGE, CustomersScreen
from tui.screens.dashboard import DashboardScreen
from tui.screens.help import HelpScreen
from tui.screens.passphrase import PassphraseScreen

pytestmark = pytest.mark.anyio  # async tests run through anyio's pytest plugin (anyio comes with httpx)


@pytest.fixture(scope="module")
def master(tmp_path_factory):
    return make_book(tmp_path_factory.mktemp("book") / "book.duly")


@pytest.fixture
def book(master, tmp_path):
    """A private copy of the fixed book (tests that write must not disturb the others)."""
    return shutil.copy(master, tmp_path / "book.duly")


@pytest.fixture(scope="module")
def big_book(tmp_path_factory):
    return make_book(tmp_path_factory.mktemp("big") / "book.duly", extra_customers=300)


async def to_customers(pilot) -> DataTable:
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)
    assert isinstance(pilot.app.screen, CustomersScreen)
    return pilot.app.screen.query_one("#customers", DataTable)




# -- unlocking ---------------------------------------------------------------------------------------
async def test_wrong_passphrase_says_so_then_the_right_one_opens_the_dashboard(book):
    app = app_for(book, passphrase=None)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, PassphraseScreen)
        await pilot.press(*"wrong", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PassphraseScreen)
        assert "wrong passphrase, try again" in text_of(app.screen.query_one("#unlock-error", Static))
        field = app.screen.query_one("#passphrase", Input)
        assert field.value == "" and not field.disabled
        field.value = PASSPHRASE
        await pilot.press("enter")
        await settle(pilot)
        assert app.unlocked
        assert isinstance(app.screen, DashboardScreen)


async def test_a_wrong_given_passphrase_ends_the_app_with_one_error(book):
    app = app_for(book, passphrase="not it")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
    assert app.return_code == 1
    assert isinstance(app.failure, WrongPassphrase)


async def test_one_database_thread_and_one_connection_for_the_whole_session(book, monkeypatch):
    opened, threads = [], set()
    real_open = Ledger.open.__func__

    def counting_open(cls, *args, **kwargs):
        opened.append(threading.get_ident())
        return real_open(cls, *args, **kwargs)

    monkeypatch.setattr(Ledger, "open", classmethod(counting_open))
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        for key in ("c", "a", "d", "c"):
            await pilot.press(key)
            await settle(pilot)
        threads.add(await app.db.run(lambda ledger: threading.get_ident()))
        threads.add(await app.db.run(lambda ledger: threading.get_ident()))
    assert len(opened) == 1  # one key derivation, one page cache
    assert threads == {opened[0]} and opened[0] != threading.get_ident()


async def test_no_sql_on_the_event_loop(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        with pytest.raises(RuntimeError, match="event loop"):
            app.ledger()


# -- customers ---------------------------------------------------------------------------------------
async def test_search_narrows_the_customer_list(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        table = await to_customers(pilot)
        assert table.row_count == 6
        await pilot.press("slash", *"gz")
        await settle(pilot)
        assert table.row_count == 1
        assert table.coordinate_to_cell_key((0, 0)).row_key.value == "GZ003"
        app.screen.query_one("#search", Input).value = "北京"
        await settle(pilot)
        assert [table.get_row_at(i)[0] for i in range(table.row_count)] == ["BJ001"]


async def test_scrolling_past_the_first_page_loads_the_next(big_book):
    app = app_for(big_book)
    async with app.run_test(size=SIZE) as pilot:
        table = await to_customers(pilot)
        assert table.row_count == PAGE  # one page, not the whole table
        await pilot.press("ctrl+end")
        await settle(pilot)
        assert PAGE < table.row_count < 306
        assert table.get_row_at(PAGE - 1)[0] == "C0098" and table.get_row_at(PAGE)[0] == "C0099"  # keyset: continues right after the last code shown
        for _ in range(3):
            await pilot.press("ctrl+end")
            await settle(pilot)
        assert table.row_count == 306
        assert "more" not in text_of(app.screen.query_one("#customers-status", Static))


async def test_open_a_customer_archive(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        table = await to_customers(pilot)
        table.move_cursor(row=table.get_row_index("BJ001"))
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CustomerScreen)
        assert "北京华信科技有限公司" in text_of(screen.query_one("#details", Static))
        contacts = screen.query_one("#contacts", DataTable)
        assert contacts.get_row_at(0)[:2] == ["王丽", "财务经理"]
        history = screen.query_one("#history", DataTable)
        assert history.row_count > 5
        assert history.get_row_at(0)[1:4] == ["Category", "A", "VIP"]  # newest first
        await pilot.press("escape")
        assert isinstance(app.screen, CustomersScreen)


async def test_add_a_customer_and_a_bad_email_keeps_the_form_filled(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await to_customers(pilot)
        await pilot.press("n")
        form = app.screen
        assert isinstance(form, CustomerFormScreen)
        await pilot.press(*"HZ9", "tab", *"Hangzhou", "space", *"Tea")
        form.query_one("#field-email", Input).value = "not-an-address"
        form.query_one("#field-credit_limit", Input).value = "12,000.50"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "not-an-address" in text_of(form.query_one("#error-email", Static))
        assert form.query_one("#row-email").has_class("invalid")
        assert form.query_one("#field-code", Input).value == "HZ9"
        assert form.query_one("#field-name", Input).value == "Hangzhou Tea"
        assert form.query_one("#field-credit_limit", Input).value == "12,000.50"
        assert app.focused is form.query_one("#field-email", Input)
        app.focused.value = "ar@tea.example.cn"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen) and app.screen.code == "HZ9"
    with Ledger.open(book, PASSPHRASE) as ledger:
        row = ledger.row("SELECT name, email, credit_limit FROM customers WHERE code='HZ9'")
    assert row == {"name": "Hangzhou Tea", "email": "ar@tea.example.cn", "credit_limit": 1_200_050}


async def test_editing_a_customer_saves_only_what_changed(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        table = await to_customers(pilot)
        table.move_cursor(row=table.get_row_index("SH002"))
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("e")
        form = app.screen
        assert isinstance(form, CustomerFormScreen)
        form.query_one("#field-phone", Input).value = "021-5555 0000"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        assert "021-5555 0000" in text_of(app.screen.query_one("#details", Static))
    with Ledger.open(book, PASSPHRASE) as ledger:
        changed = ledger.rows("SELECT col FROM field_history WHERE new LIKE '%5555%'")
    assert [r["col"] for r in changed] == ["phone"]


# -- failures, keys, language ------------------------------------------------------------------------
async def test_a_failing_worker_shows_an_error_and_the_app_carries_on(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(CustomerScreen("NO-SUCH"))
        await settle(pilot)
        assert any("unknown customer" in str(n.message) for n in app._notifications)
        assert app.is_running
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)


async def test_help_lists_the_screen_keys_and_the_palette_offers_its_actions(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await to_customers(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"New customer", "Search", "Dashboard", "Aging"} <= set(titles)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert ("n", "New customer") in app.screen.screen_keys
        await pilot.press("escape")
        assert isinstance(app.screen, CustomersScreen)


def test_every_binding_has_an_id():
    from tui.screens.aging import AgingCellScreen, AgingScreen
    from tui.screens.invoice import InvoiceScreen
    from tui.screens.invoice_form import InvoiceFormScreen
    from tui.screens.invoices import InvoicesScreen
    from tui.screens.payment_form import PaymentFormScreen
    from tui.screens.payments import PaymentsScreen
    from tui.screens.prompt import PromptScreen
    from tui.screens.reports import ReportsScreen

    for node in (DulyApp, DashboardScreen, CustomersScreen, CustomerScreen, CustomerFormScreen, AgingScreen,
                 HelpScreen, PassphraseScreen, InvoicesScreen, InvoiceScreen, InvoiceFormScreen, PaymentsScreen,
                 PaymentFormScreen, PromptScreen, ReportsScreen, AgingCellScreen):
        for binding in node.BINDINGS:
            assert binding.id, f"{node.__name__}: {binding.key} has no id"


async def test_keys_can_be_remapped_by_binding_id(book):
    app = DulyApp(book, PASSPHRASE, today=TODAY, language="en", keymap=parse_keymap("customers=k;help=f2"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("k")
        await settle(pilot)
        assert isinstance(app.screen, CustomersScreen)


async def test_chinese_labels_and_footer(book):
    app = app_for(book, language="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        table = await to_customers(pilot)
        assert str(table.columns["name"].label) == "名称"
        descriptions = {b.description for _, b in app.screen._bindings}
        assert "新建客户" in descriptions


def test_language_comes_from_env_then_setting_then_locale():
    assert choose_language("zh", {"DULY_LANG": "en"}) == "en"
    assert choose_language("zh", {"LANG": "en_US.UTF-8"}) == "zh"
    assert choose_language(None, {"LANG": "zh_CN.UTF-8"}) == "zh"
    assert choose_language(None, {"LANG": "de_DE.UTF-8"}) == "en"
    assert choose_language(None, {}) == "en"
    assert Strings("zh")("key.quit") == "退出" and Strings("fr")("key.quit") == "Quit"


async def test_works_at_80_by_24(book):
    app = app_for(book)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for key in ("a", "b", "c", "i", "f", "p", "s", "d"):
            await pilot.press(key)
            await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert not app._notifications


# -- balances, drill-down, reports, keys of the new screens --------------------------------------------
async def test_customer_list_shows_balance_overdue_and_rating(book, monkeypatch):
    from datetime import date as _date

    from store.read import credit
    from tui.screens import customers as customers_screen

    # The ratings score the whole book, so they come only once the list has been still for a while; here the
    # wait is first made longer than the test (so "not yet" does not depend on the machine's speed), then short.
    monkeypatch.setattr(customers_screen, "RATINGS_AFTER", 3600)
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        table = await to_customers(pilot)
        row = table.get_row("BJ001")
        # 88,000.00 + 23,400.00 + 6,000.00 open; overdue: T1-000004 (due 03-11) and T1-000005 (due 2025-10-12)
        assert (str(row[3]), str(row[4])) == ("117,400.00", "29,400.00")
        row = table.get_row("SZ004")  # 666.00 open less 100.00 unapplied; nothing past due
        assert (str(row[3]), str(row[4])) == ("566.00", "")
        await settle(pilot)
        assert str(table.get_row("SZ004")[5]) == ""  # the balances are there; the ratings are not yet
        monkeypatch.setattr(customers_screen, "RATINGS_AFTER", 0.3)
        await pilot.press("r")  # the list reloads, then stays still
        await settle(pilot)
        table = app.screen.query_one("#customers", DataTable)
        for _ in range(100):  # the list waits for stillness, then an idle job fills the column
            await pilot.pause(0.1)
            await settle(pilot)
            row = table.get_row("SZ004")
            if str(row[5]):
                break
    with Ledger.open(book, PASSPHRASE) as ledger:
        scored = {s.facts.code: f"{s.rating} {s.score}" for s in credit.scores(ledger, TODAY)}
    assert str(row[5]) == scored["SZ004"] and isinstance(TODAY, _date)


async def test_aging_drills_into_a_cell(book):
    from tui.screens.aging import AgingCellScreen, AgingScreen
    from tui.screens.invoice import InvoiceScreen

    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        assert isinstance(app.screen, AgingScreen)
        table = app.screen.query_one("#aging", DataTable)
        # GZ003 as of 2026-03-31: T1-000007 due 2025-12-31 is 90 days late (61-90), T1-000008 370 days (120+)
        table.move_cursor(row=table.get_row_index("GZ003/CNY"), column=table.get_column_index("120+"))
        await pilot.press("enter")
        await settle(pilot)
        cell = app.screen
        assert isinstance(cell, AgingCellScreen)
        rows = cell.query_one("#aging-cell", DataTable)
        assert [[str(c) for c in rows.get_row_at(i)] for i in range(rows.row_count)] == [
            ["T1-000008", "2025-02-24", "2025-03-26", "12,000.00"]]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceScreen) and app.screen.number == "T1-000008"
        await pilot.press("escape", "escape")
        await settle(pilot)
        table.move_cursor(row=table.get_row_index("GZ003/CNY"), column=table.get_column_index("61-90"))
        await pilot.press("enter")
        await settle(pilot)
        rows = app.screen.query_one("#aging-cell", DataTable)
        assert [str(rows.get_row_at(i)[0]) for i in range(rows.row_count)] == ["T1-000007"]
        await pilot.press("escape")
        await pilot.press("b")  # by invoice date: T1-000007 (dated 2025-12-01) is 120 days old, in 91-120
        await settle(pilot)
        table.move_cursor(row=table.get_row_index("GZ003/CNY"), column=table.get_column_index("91-120"))
        await pilot.press("enter")
        await settle(pilot)
        rows = app.screen.query_one("#aging-cell", DataTable)
        assert [str(rows.get_row_at(i)[0]) for i in range(rows.row_count)] == ["T1-000007"]


async def test_reports_summary_dso_forecast_and_provision(book):
    from tui.screens.reports import ReportsScreen

    app = app_for(book)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        assert isinstance(app.screen, ReportsScreen)
        summary = text_of(app.screen.query_one("#rep-summary", Static))
        # CNY open: BJ001 117,400.00 + GZ003 57,600.00 + SH002 153,456.78 + SZ004 666.00 = 329,122.78
        assert "329,122.78" in summary and "329,022.78" in summary  # receivable; balance less 100.00 unapplied
        provision = text_of(app.screen.query_one("#rep-provision", Static))
        # EUR 9,950.00 is 26 days late (1-30, 1%): 99.50
        assert "99.50" in provision
        app.screen.query_one("#reports-as-of", Input).value = "2025-01-01"
        app.screen.query_one("#reports-as-of", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert "Nothing open as of 2025-01-01" in text_of(app.screen.query_one("#rep-summary", Static))


async def test_the_palette_offers_the_invoice_screen_actions_in_chinese(book):
    app = app_for(book, language="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"新建发票", "未结/逾期/全部", "收款", "报表"} <= titles
        assert str(app.screen.query_one("#invoices", DataTable).columns["open"].label) == "未收"


async def test_new_screen_keys_can_be_remapped(book):
    from tui.screens.invoice_form import InvoiceFormScreen

    app = DulyApp(book, PASSPHRASE, today=TODAY, language="en", keymap=parse_keymap("invoices=f6;new_invoice=f7"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        await pilot.press("f7")
        assert isinstance(app.screen, InvoiceFormScreen)


async def test_a_page_asked_for_goes_before_a_whole_book_read_that_is_running(book):
    import time

    started, stop = threading.Event(), threading.Event()

    def slow_whole_book_read(ledger):
        started.set()
        # a read that runs until interrupted (or 20 s): the customers page must not wait for it
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not stop.is_set():
            ledger.conn.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000) "
                                "SELECT count(*) FROM n").fetchone()
        return "done"

    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        background = asyncio.ensure_future(app.db.run_background(slow_whole_book_read))
        while not started.is_set():
            await pilot.pause(0.01)
        t0 = time.monotonic()
        rows = await app.db.run(lambda ledger: ledger.rows("SELECT code FROM customers ORDER BY code LIMIT 2"))
        assert rows == [{"code": "ACME"}, {"code": "BJ001"}]
        assert time.monotonic() - t0 < 5  # it interrupted the background read instead of waiting 20 s
        assert not background.done()  # ...which starts again afterwards
        stop.set()
        assert await background == "done"


async def test_a_schema_upgrade_on_open_says_why_the_first_screen_waits(book, monkeypatch):
    from store.ledger import schema

    real_version = schema.version
    calls = []
    # the book is current: make it look one version behind, with a migration that records that it ran
    monkeypatch.setattr(schema, "version", lambda conn: real_version(conn) - 1)
    monkeypatch.setattr(schema, "migrate", lambda conn: calls.append("migrated"))
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert calls == ["migrated"]
        shown = [str(n.message) for n in app._notifications]
        assert f"Upgrading the ledger from schema {schema.VERSION - 1} to {schema.VERSION}" in shown[0]
        assert isinstance(app.screen, DashboardScreen)


async def test_a_ledger_written_by_a_newer_duly_ends_the_app_with_that_message(book, monkeypatch):
    from store.ledger import schema

    monkeypatch.setattr(schema, "version", lambda conn: schema.VERSION + 1)
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
    assert app.return_code == 1
    assert "newer Duly" in str(app.failure)


async def test_dashboard_lists_what_falls_due_today_and_the_risk_alerts(tmp_path):
    from datetime import timedelta

    from store.write import invoices
    from store.ledger.ledger import Ledger

    path = make_book(tmp_path / "book.duly")
    with Ledger.open(path, PASSPHRASE) as ledger:
        issued = invoices.add(ledger, "SZ004", (TODAY - timedelta(days=30)).isoformat(), amount="4321.50",
                              due=TODAY.isoformat())
    app = app_for(path)
    async with app.run_test(size=(120, 60)) as pilot:
        await settle(pilot)
        due = app.screen.query_one("#dash-due", DataTable)
        assert [[str(c) for c in due.get_row_at(i)] for i in range(due.row_count)] == [
            ["SZ004", "深圳前海供应链管理有限公司", issued.number, "4,321.50 CNY"]]
        alerts = app.screen.query_one("#dash-alerts", DataTable)
        rows = [[str(c) for c in alerts.get_row_at(i)] for i in range(alerts.row_count)]
        # GZ003's invoice of 400 days ago with 30 days of credit: 370 days overdue, beyond the 90-day threshold
        assert ["GZ003", "long overdue"] in [r[:2] for r in rows]
        assert any(r[0] == "GZ003" and "370 days overdue" in r[2] for r in rows)


async def test_a_name_with_escape_sequences_or_markup_is_shown_literally(book):
    """A name that carries a terminal escape (set the title, clear the screen) or Rich markup reaches the
    table as visible text: nothing is sent raw to the terminal, nothing restyles the screen."""
    from rich.text import Text

    with Ledger.open(book, PASSPHRASE) as led:
        from store.write import customers
        customers.add(led, "AAEVIL", "\x1b]2;pwned\x07\x1b[2J[red]Evil[/red]")
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        table = await to_customers(pilot)
        row = table.get_row_at(table.get_row_index("AAEVIL"))
        shown = Text.from_markup(row[1]).plain  # what the DataTable renders from a str cell
        assert shown == "\\x1b]2;pwned\\x07\\x1b[2J[red]Evil[/red]"
        table.move_cursor(row=table.get_row_index("AAEVIL"))
        await pilot.press("enter")
        await settle(pilot)
        details = text_of(app.screen.query_one("#details", Static))
        assert "\x1b" not in details and "[red]Evil[/red]" in details


def test_book_has_every_customer_and_invoice(tmp_path):
    path = make_book(tmp_path / "book.duly", extra_customers=3)
    with Ledger.open(path, PASSPHRASE) as ledger:
        assert ledger.row("SELECT count(*) AS n FROM customers")["n"] == len(CUSTOMERS) + 3
        assert ledger.row("SELECT count(*) AS n FROM invoices")["n"] == len(INVOICES)
