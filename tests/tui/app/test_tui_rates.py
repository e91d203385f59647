"""Exchange rates in the app (f6): a rate added from a form is in the ledger, a bad one is refused beside its field,
a rates file is checked before it is imported, the revaluation and realised differences are the CLI's; and the
dashboard and aging in the base currency agree with `report summary --in` / `report aging --in` to the cent,
saying which rates they used and which currencies had none."""
from __future__ import annotations

import pytest
from textual.widgets import DataTable, DirectoryTree, Input, Static

from store.ledger.ledger import Ledger
from store.read import fx as fxread
from store.rules.money import format_amount
from store.write import fx as fxwrite
from store.write import payments
from tests.support.app import SIZE, app_for, hold_still, settle, text_of
from tests.support.book import PASSPHRASE, TODAY
from tests.support.cli import run_duly
from tui.screens.aging import AgingScreen
from tui.screens.dashboard import DashboardScreen
from tui.screens.dialog_form import DialogForm
from tui.screens.rates import RatesImportScreen, RatesScreen

pytestmark = pytest.mark.anyio

SIZES = [(120, 40), (80, 24)]


def rows(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def with_rates(path) -> None:
    """USD at 7.0 from 2025, 7.2 from 2026-03-25; EUR has no rate (the base currency is CNY)."""
    with Ledger.open(path, PASSPHRASE) as ledger:
        fxwrite.set_rate(ledger, "USD", "2025-01-01", "7.0")
        fxwrite.set_rate(ledger, "USD", "2026-03-25", "7.2")


def cli(path, *argv):
    result = run_duly("--ledger", path, *argv, env={"DULY_PASSPHRASE": PASSPHRASE})
    assert result.code == 0, result.err
    return result


async def until(pilot, condition) -> None:
    """The directory tree keeps a loader worker running, so `settle` would wait forever: wait for what matters."""
    for _ in range(200):
        await pilot.pause(0.05)
        if condition():
            return
    raise AssertionError("the screen never got there")


async def test_a_rate_added_in_the_app_is_in_the_ledger_and_the_list(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RatesScreen)
        assert "No exchange rates" in text_of(screen.query_one("#rates-status", Static))
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, DialogForm)
        await pilot.press(*"usd", "enter", *"7.1234", "enter", "enter", "enter")
        await settle(pilot)
        assert app.screen is screen
        assert any("1 USD = 7.1234 CNY on 2026-03-31" in str(n.message) for n in app._notifications)
        assert rows(screen.query_one("#rates", DataTable)) == [["USD/CNY", "2026-03-31", "7.1234", "typed"]]
    with Ledger.open(book, PASSPHRASE) as ledger:
        assert [(r["currency"], r["date"], r["rate"], r["source"]) for r in fxread.rates(ledger)] == [
            ("USD", "2026-03-31", "7.1234", "manual")]


async def test_a_bad_rate_is_refused_beside_its_field_and_nothing_is_written(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        await pilot.press(*"USD", "enter", *"7.1x", "enter", "enter", "enter")
        await settle(pilot)
        assert app.screen is form  # still open, still filled
        assert form.query_one("#row-rate").has_class("invalid")
        assert "rate: '7.1x' is not a number" in text_of(form.query_one("#error-rate", Static))
        assert not form.query_one("#row-currency").has_class("invalid")
        assert form.query_one("#field-rate", Input).value == "7.1x"
        # the base currency is refused by the ledger, named against the currency field
        form.query_one("#field-currency", Input).value = "CNY"
        form.query_one("#field-rate", Input).value = "1"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "CNY is the ledger's base currency" in text_of(form.query_one("#error-currency", Static))
    with Ledger.open(book, PASSPHRASE) as ledger:
        assert fxread.rates(ledger) == []


async def test_a_rates_file_is_previewed_then_imported(book, tmp_path, monkeypatch):
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "中间价.csv").write_text("日期,币种,中间价\n2026-03-30,USD,721.50\n2026-03-30,EUR,788.00\n",
                                                  encoding="utf-8")
    monkeypatch.chdir(tmp_path / "files")  # the picker starts in the working directory
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        screen = app.screen
        await pilot.press("i")
        await until(pilot, lambda: isinstance(app.screen, RatesImportScreen))
        picker = app.screen
        tree = picker.query_one("#rates-tree", DirectoryTree)
        await until(pilot, lambda: tree.last_line >= 1)
        picker.query_one("#rates-per", Input).value = "100"
        tree.focus()
        await pilot.press("down", "enter")
        await until(pilot, lambda: "would be imported" in text_of(picker.query_one("#rates-result")))
        preview = text_of(picker.query_one("#rates-result"))
        assert "2 rates would be imported" in preview and "USD/CNY  2026-03-30" in preview and "7.215" in preview
        with Ledger.open(book, PASSPHRASE) as ledger:
            assert fxread.rates(ledger) == []  # the preview wrote nothing
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is screen)
        await settle(pilot)
        assert rows(screen.query_one("#rates", DataTable)) == [["EUR/CNY", "2026-03-30", "7.88", "中间价.csv"],
                                                               ["USD/CNY", "2026-03-30", "7.215", "中间价.csv"]]
    with Ledger.open(book, PASSPHRASE) as ledger:
        assert len(fxread.rates(ledger)) == 2


async def test_revaluation_and_realised_tabs_are_the_cli_reports(book):
    with_rates(book)
    with Ledger.open(book, PASSPHRASE) as ledger:  # ACME pays 1,000.00 USD of T1-000002 at 7.2 (booked at 7.0)
        payments.add(ledger, "ACME", "2026-03-30", "1000", allocate=["T1-000002=1000"])
    reval = cli(book, "report", "revaluation", "--as-of", TODAY.isoformat(), "--format", "json").json()
    real = cli(book, "report", "fx-realised", "--from", "2026-01-01", "--to", TODAY.isoformat(),
               "--format", "json").json()
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        screen = app.screen
        await pilot.press("v")
        await settle(pilot)
        shown = rows(screen.query_one("#reval", DataTable))
        assert [r[1] for r in shown[:-1]] == [r["number"] for r in reval["rows"]]
        assert [r[3] for r in shown[:-1]] == [format_amount(int(r["difference"].replace(".", "")), "CNY")
                                              for r in reval["rows"]]
        assert shown[0][:4] == ["ACME", "T1-000001", "12,500.00 USD", "2,500.00"]
        assert shown[-1][3] == "3,260.10" == format_amount(int(reval["difference"].replace(".", "")), "CNY")
        assert "EUR" in text_of(screen.query_one("#reval-note", Static))  # Nordlicht's invoice: no EUR rate
        await pilot.press("v")  # the next tab: realised
        await settle(pilot)
        [paid, total] = rows(screen.query_one("#realised", DataTable))
        assert paid[:5] == ["RC-T1-000001", "T1-000002", "ACME", "1,000.00 USD", "200.00"]
        assert real["difference"] == "200.00" and total[4] == "200.00"


async def test_dashboard_in_the_base_currency_matches_report_summary_in_to_the_cent(book):
    with_rates(book)
    found = cli(book, "report", "summary", "--as-of", TODAY.isoformat(), "--in", "CNY", "--format", "json").json()
    [(cur, figures)] = found["currencies"].items()
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        await pilot.press("c")
        await settle(pilot)
        totals = text_of(screen.query_one("#dash-totals", Static))
        [row] = [line.split() for line in totals.splitlines() if line.strip().startswith(cur)]
        assert row[1:5] == [format_amount(int(figures[k].replace(".", "").replace("-", "")) *
                                          (-1 if figures[k].startswith("-") else 1), cur)
                            for k in ("receivable", "overdue", "unapplied", "balance")]
        note = text_of(screen.query_one("#dash-rates", Static))
        assert "in CNY at the rates as of 2026-03-31: USD 7.2 (2026-03-25)" in note
        assert "left out, no rate on or before 2026-03-31: EUR" in note
        await pilot.press("c")  # back to one row per currency
        await settle(pilot)
        assert "EUR" in text_of(screen.query_one("#dash-totals", Static))
        assert not screen.query_one("#dash-rates", Static).display


async def test_aging_in_the_base_currency_matches_report_aging_in(book):
    with_rates(book)
    found = cli(book, "report", "aging", "--as-of", TODAY.isoformat(), "--in", "CNY", "--format", "json").json()
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AgingScreen)
        await pilot.press("c")
        await settle(pilot)
        table = screen.query_one("#aging", DataTable)
        shown = rows(table)
        assert [r[0] for r in shown[:-1]] == [r["customer"] for r in found["rows"]]  # ACME in CNY, no EU01
        total = found["totals"]["CNY"]["total"]
        assert shown[-1][-1] == format_amount(int(total.replace(".", "")), "CNY")
        assert "left out, no rate on or before 2026-03-31: EUR" in text_of(screen.query_one("#aging-rates", Static))


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_rates_screen_snapshot(snap_compare, book, language, size):
    with_rates(book)
    app = app_for(book, language=language)

    async def before(pilot) -> None:
        await hold_still(pilot)
        await pilot.press("f6")
        await hold_still(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_revaluation_tab_snapshot(snap_compare, book, language, size):
    with_rates(book)
    app = app_for(book, language=language)

    async def before(pilot) -> None:
        await hold_still(pilot)
        await pilot.press("f6")
        await hold_still(pilot)
        await pilot.press("v")
        await hold_still(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_add_rate_form_snapshot(snap_compare, book, language, size):
    app = app_for(book, language=language)

    async def before(pilot) -> None:
        await hold_still(pilot)
        await pilot.press("f6")
        await hold_still(pilot)
        await pilot.press("n")
        await hold_still(pilot)
        await pilot.press(*"USD", "enter", *"7.1x", "ctrl+s")  # a wrong rate, marked beside its field
        await hold_still(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)


async def test_the_customer_screens_limit_use_counts_other_currencies_as_the_invoice_check_does(book):
    """BJ001 owes 117,400.00 CNY against a 200,000.00 CNY limit, and 10,000.00 USD at 7.2: 189,400.00 (95%)."""
    from store.write import invoices

    with_rates(book)
    with Ledger.open(book, PASSPHRASE) as ledger:
        invoices.add(ledger, "BJ001", "2026-03-30", amount="10000", currency="USD", due="2026-04-30")
    warned = cli(book, "invoice", "add", "--customer", "BJ001", "--date", TODAY.isoformat(), "--amount", "20000",
                 "--currency", "CNY", "--due", "2026-04-30")
    assert ("balance 189,400.00 CNY + this invoice 20,000.00 CNY exceeds it by 9,400.00 CNY (at USD 7.2)"
            in warned.err)
    number = warned.out.split()[1]  # it went through with the warning: take it back out
    with Ledger.open(book, PASSPHRASE) as ledger:
        invoices.void(ledger, number, "over the limit", "2026-03-31")
    scored = cli(book, "report", "credit", "--customer", "BJ001", "--as-of", TODAY.isoformat(), "--format", "json")
    assert "95% of the credit limit" in scored.out
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        from tui.screens.customer import CustomerScreen

        app.push_screen(CustomerScreen("BJ001"))
        await settle(pilot)
        await pilot.press("s")  # the credit tab
        await settle(pilot)
        factors = rows(app.screen.query_one("#credit-factors", DataTable))
        assert any("95% of the credit limit" in " ".join(r) for r in factors), factors
