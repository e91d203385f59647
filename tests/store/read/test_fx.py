"""Foreign currency at a rate: the rate table (typed, imported, as of a date), reports converted on request
with the rates they used and the currencies they left out, credit limits across currencies, and exchange
differences realised and unrealised — hand-computed."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from store.errors import InvalidInput
from store.ledger.ledger import Ledger
from store.rules import fx
from store.write import customers
from store.write.fx import row_id
from tests.support.cli import PASSPHRASE, assert_one_line_error, change_count


# --- the rules --------------------------------------------------------------------------------------------


def test_rates_are_exact_positive_decimals():
    assert fx.parse_rate("7.1234") == Decimal("7.1234")
    assert fx.parse_rate("710.53", per=100) == Decimal("7.1053")  # the PBOC quotes per 100 units
    for bad in ("0", "-7.1", "abc", "7.12345678901", "1e12", "NaN"):
        with pytest.raises(InvalidInput):
            fx.parse_rate(bad)


def test_convert_rounds_half_up_once_between_minor_units():
    assert fx.convert(100_00, "USD", Decimal("7.1234"), "CNY") == 712_34
    assert fx.convert(1, "USD", Decimal("7.125"), "CNY") == 7  # 0.07125 CNY -> 0.07
    assert fx.convert(1_000, "JPY", Decimal("0.048765"), "CNY") == 48_77  # 0 decimals -> 2: 48.765 -> 48.77
    assert fx.convert(7_20, "CNY", Decimal(1) / Decimal("7.2"), "USD") == 1_00


def test_the_rate_as_of_a_date_is_the_latest_on_or_before_it():
    book = fx.RateBook("CNY", [fx.Rate("USD", date(2026, 1, 1), Decimal("7.0")),
                               fx.Rate("USD", date(2026, 3, 1), Decimal("7.2"))])
    assert book.as_of("USD", date(2025, 12, 31)) is None
    assert book.as_of("USD", date(2026, 1, 1)).rate == Decimal("7.0")
    assert book.as_of("USD", date(2026, 2, 28)).rate == Decimal("7.0")
    assert book.as_of("USD", date(2026, 3, 1)).rate == Decimal("7.2")
    assert book.as_of("CNY", date(1999, 1, 1)).rate == 1
    assert book.as_of("EUR", date(2026, 3, 1)) is None


@given(st.integers(-10**12, 10**12), st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("1000"), places=4))
def test_conversion_is_half_up_of_the_exact_product(minor, rate):
    exact = Decimal(minor) * rate
    got = fx.convert(minor, "USD", rate, "CNY")
    assert abs(Decimal(got) - exact) <= Decimal("0.5")
    assert got == int(exact.quantize(Decimal(1), rounding="ROUND_HALF_UP"))


def test_the_same_currency_and_day_is_one_row_on_every_device():
    assert row_id("USD", "2026-03-01") == row_id("USD", "2026-03-01") != row_id("USD", "2026-03-02")


# --- the book: a CNY ledger with a USD and a EUR customer ----------------------------------------------------


@pytest.fixture
def book(cli):
    with Ledger.create(cli.path, PASSPHRASE, series="T1") as ledger:
        customers.add(ledger, "HD", "上海恒达贸易有限公司", currency="CNY")
        customers.add(ledger, "US", "Acme Inc.", currency="USD")
        customers.add(ledger, "EU", "Euro GmbH", currency="EUR")
    for argv in (("rate", "set", "USD", "7.0", "--date", "2026-01-01"),
                 ("rate", "set", "USD", "7.2", "--date", "2026-03-01"),
                 ("invoice", "add", "--customer", "US", "--date", "2026-01-10", "--amount", "1000",
                  "--due", "2026-02-09", "--number", "U1"),
                 ("invoice", "add", "--customer", "HD", "--date", "2026-03-01", "--amount", "500",
                  "--due", "2026-03-31", "--number", "H1"),
                 ("invoice", "add", "--customer", "EU", "--date", "2026-03-01", "--amount", "100",
                  "--due", "2026-03-31", "--number", "E1")):
        result = cli(*argv)
        assert result.code == 0, (argv, result.err)
    return cli


def test_rate_list_and_import_with_chinese_headers_per_100(book, tmp_path):
    table = tmp_path / "中间价.csv"
    table.write_text("日期,币种,中间价\n2026-03-02,USD,721.50\n2026-03-02,JPY,4.8765\n", encoding="utf-8")
    result = book("rate", "import", str(table), "--per", "100")
    assert result.code == 0, result.err
    rows = book("rate", "list", "--format", "json").json()
    assert [(r["currency"], r["date"], r["rate"]) for r in rows] == [
        ("JPY", "2026-03-02", "0.048765"), ("USD", "2026-01-01", "7"), ("USD", "2026-03-01", "7.2"),
        ("USD", "2026-03-02", "7.215")]
    # a correction of the same day replaces it, it does not add a second rate
    assert book("rate", "set", "USD", "7.21", "--date", "2026-03-02").code == 0
    assert [r["rate"] for r in book("rate", "list", "--currency", "USD", "--format", "json").json()] == [
        "7", "7.2", "7.21"]


def test_the_rate_list_pages_by_currency_newest_first_and_a_preview_writes_nothing(book, tmp_path):
    from store.files import rates as rate_files
    from store.read import fx as fxread

    table = tmp_path / "rates.csv"
    table.write_text("date,currency,rate\n2026-03-02,USD,7.25\n2026-03-02,EUR,7.9\n", encoding="utf-8")
    before = change_count(book.path)
    with Ledger.open(book.path, PASSPHRASE) as ledger:
        assert rate_files.preview(ledger, table) == [("USD", "2026-03-02", "7.25"), ("EUR", "2026-03-02", "7.9")]
    assert change_count(book.path) == before
    assert book("rate", "import", str(table)).code == 0
    with Ledger.open(book.path, PASSPHRASE) as ledger:
        first = fxread.rate_page(ledger, limit=2)
        last = first[-1]
        rest = fxread.rate_page(ledger, after=(last["currency"], last["date"]), limit=2)
        only_usd = fxread.rate_page(ledger, currency="usd", limit=10)
    assert [(r["currency"], r["date"]) for r in first + rest] == [
        ("EUR", "2026-03-02"), ("USD", "2026-03-02"), ("USD", "2026-03-01"), ("USD", "2026-01-01")]
    assert [r["rate"] for r in only_usd] == ["7.25", "7.2", "7"]


def test_a_bad_rate_file_names_the_line_and_imports_nothing(book, tmp_path):
    table = tmp_path / "rates.csv"
    table.write_text("date,currency,rate\n2026-03-02,USD,7.2\n2026-03-02,XYZ,1.0\n", encoding="utf-8")
    before = change_count(book.path)
    assert_one_line_error(book("rate", "import", str(table)), 1, "line 3", "XYZ", "nothing was imported")
    assert change_count(book.path) == before
    assert_one_line_error(book("rate", "set", "CNY", "1.0"), 1, "base currency")
    assert_one_line_error(book("rate", "set", "USD", "-7"), 1, "positive")


def test_aging_in_cny_converts_at_the_rate_as_of_the_date_and_names_what_it_left_out(book):
    per_currency = book("report", "aging", "--as-of", "2026-03-31", "--format", "json").json()
    assert set(per_currency["totals"]) == {"CNY", "USD", "EUR"}  # the default never mixes currencies
    found = book("report", "aging", "--as-of", "2026-03-31", "--in", "CNY", "--format", "json").json()
    assert found["conversion"] == {"in": "CNY", "as_of": "2026-03-31", "missing": ["EUR"],
                                   "rates": {"USD": {"date": "2026-03-01", "rate": "7.2"}}}
    [cny] = found["totals"].values()
    # U1: USD 1,000.00 × 7.2 = 7,200.00, 50 days overdue; H1: 500.00 not due; E1 (EUR, no rate) left out
    assert (cny["total"], cny["31-60"], cny["not_due"]) == ("7700.00", "7200.00", "500.00")
    assert {(r["customer"], r["currency"], r["total"]) for r in found["rows"]} == {("US", "CNY", "7200.00"),
                                                                                  ("HD", "CNY", "500.00")}
    text = book("report", "aging", "--as-of", "2026-03-31", "--in", "CNY")
    assert text.code == 0 and "USD 7.2 (2026-03-01)" in text.err and "EUR" in text.err


def test_summary_in_cny_adds_up_as_shown(book):
    found = book("report", "summary", "--as-of", "2026-03-31", "--in", "CNY", "--format", "json").json()
    assert found["currencies"] == {"CNY": {"receivable": "7700.00", "overdue": "7200.00", "not_due": "500.00",
                                           "unapplied": "0.00", "balance": "7700.00", "open_invoices": 2}}
    assert_one_line_error(book("report", "summary", "--in", "EUR", "--as-of", "2026-03-31"), 1, "no rate", "EUR")


def test_revaluation_and_realised_differences_hand_computed(book):
    reval = book("report", "revaluation", "--as-of", "2026-03-31", "--format", "json").json()
    # U1: open USD 1,000.00 booked at 7.0 (its date's rate) = 7,000.00; at 7.2 = 7,200.00: a gain of 200.00
    assert [(r["number"], r["booked"], r["revalued"], r["difference"]) for r in reval["rows"]] == [
        ("U1", "7000.00", "7200.00", "200.00")]
    assert reval["difference"] == "200.00" and [m["number"] for m in reval["missing"]] == ["E1"]
    assert book("payment", "add", "--customer", "US", "--date", "2026-03-15", "--amount", "400",
                "--allocate", "U1=400").code == 0
    realised = book("report", "fx-realised", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "json").json()
    # USD 400.00 received at 7.2 = 2,880.00 against 2,800.00 booked at 7.0: 80.00 realised
    assert [(r["invoice"], r["booked"], r["received"], r["difference"]) for r in realised["rows"]] == [
        ("U1", "2800.00", "2880.00", "80.00")]
    reval = book("report", "revaluation", "--as-of", "2026-03-31", "--format", "json").json()
    assert reval["difference"] == "120.00"  # the 600.00 still open: 4,320.00 - 4,200.00


def test_exchange_difference_tables_read_in_chinese_and_english_keeps_its_keys(book):
    """`report revaluation` and `report fx-realised` in Chinese: the Rates screen's column titles (汇率, not the
    provision report's 比例), the total row, and the line naming what had no rate; English keeps the column keys."""
    assert book("payment", "add", "--customer", "US", "--date", "2026-03-15", "--amount", "400",
                "--allocate", "U1=400").code == 0
    assert book("payment", "add", "--customer", "EU", "--date", "2026-03-20", "--amount", "10",
                "--allocate", "E1=10").code == 0
    reval = book("--lang", "zh", "report", "revaluation", "--as-of", "2026-03-31")
    head = reval.out.splitlines()[0].split()
    assert head == ["客户", "单号", "币种", "未结", "入账汇率", "汇率", "入账折合", "重估折合", "汇兑损益"]
    assert "合计" in reval.out and "120.00" in reval.out
    assert reval.err.strip() == "1 张未结发票未计入，其日期无汇率：EUR (`duly rate set CUR RATE --date D`)"
    real = book("--lang", "zh", "report", "fx-realised", "--from", "2026-03-01", "--to", "2026-03-31")
    head = real.out.splitlines()[0].split()
    assert head == ["收款单", "日期", "发票", "开票日期", "客户", "币种", "金额", "开票汇率", "收款汇率", "入账折合",
                    "收款折合", "汇兑损益"]
    assert "80.00" in real.out
    assert real.err.strip() == "1 笔已核销收款未计入，其日期无汇率：EUR (`duly rate set CUR RATE --date D`)"
    english = book("report", "fx-realised", "--from", "2026-03-01", "--to", "2026-03-31")
    assert english.out.splitlines()[0].split() == ["payment", "date", "invoice", "invoice_date", "customer",
                                                   "currency", "amount", "invoice_rate", "payment_rate", "booked",
                                                   "received", "difference"]
    assert english.err.strip() == ("1 applied payments left out, no rate for their date: EUR "
                                   "(`duly rate set CUR RATE --date D`)")


def test_a_credit_limit_counts_other_currencies_at_the_invoice_dates_rate(book):
    assert book("customer", "edit", "HD", "--credit-limit", "10000").code == 0
    # HD owes 500.00 CNY; USD 1,300.00 at 7.2 = 9,360.00: 9,860.00, within 10,000.00
    ok = book("invoice", "add", "--customer", "HD", "--currency", "USD", "--date", "2026-03-31", "--amount", "1300")
    assert ok.code == 0 and "credit limit" not in ok.out + ok.err
    assert book("settings", "set", "credit.enforce", "block").code == 0
    # USD 100.00 more = 720.00: 10,580.00, over by 580.00 — refused in block mode, naming the rate used
    over = book("invoice", "add", "--customer", "HD", "--currency", "USD", "--date", "2026-03-31", "--amount", "100")
    assert_one_line_error(over, 1, "credit limit", "580.00", "USD 7.2")
    # EUR has no rate: what can be counted is within the limit, so the invoice is issued with a warning
    eur = book("invoice", "add", "--customer", "HD", "--currency", "EUR", "--date", "2026-03-31", "--amount", "1")
    assert eur.code == 0 and "checked in part" in eur.out + eur.err and "EUR" in eur.out + eur.err


def test_the_journals_carry_the_rates_so_hledger_and_beancount_value_at_them(book, tmp_path):
    import shutil
    import subprocess

    journal, bean = tmp_path / "book.journal", tmp_path / "book.beancount"
    assert book("export", "hledger", str(journal)).code == 0
    assert book("export", "beancount", str(bean)).code == 0
    assert "P 2026-03-01 USD 7.2 CNY" in journal.read_text(encoding="utf-8")
    assert "2026-03-01 price USD 7.2 CNY" in bean.read_text(encoding="utf-8")
    hledger = shutil.which("hledger")
    assert hledger, "hledger is needed (.ci/run installs it)"
    out = subprocess.run([hledger, "-f", str(journal), "bal", "Assets:Receivable:US", "-X", "CNY", "-e",
                          "2026-04-01", "--flat", "-N"], capture_output=True, text=True, check=True).stdout
    assert "7200.00 CNY" in out.replace(",", "")  # USD 1,000.00 valued at 7.2, as `report aging --in CNY`
    from beancount import loader

    _, errors, _ = loader.load_file(str(bean))
    assert errors == []


def test_the_rates_notes_and_the_credit_limit_warnings_are_said_in_chinese(book):
    from tests.support.english import english_in

    aging = book("--lang", "zh", "report", "aging", "--as-of", "2026-03-31", "--in", "CNY")
    assert aging.code == 0 and "按 2026-03-31 的汇率折算为 CNY：USD 7.2 (2026-03-01)" in aging.err, aging.err
    assert "未计入（2026-03-31 及之前没有汇率）：EUR" in aging.err
    summary = book("--lang", "zh", "report", "summary", "--as-of", "2026-03-31", "--in", "CNY")
    assert summary.code == 0 and "按 2026-03-31 的汇率折算为 CNY" in summary.err
    reval = book("--lang", "zh", "report", "revaluation", "--as-of", "2026-03-31")
    assert reval.code == 0 and "1 张未结发票未计入，其日期无汇率：EUR" in reval.err, reval.err
    assert book("customer", "edit", "HD", "--credit-limit", "1000").code == 0
    # HD owes 500.00 CNY. EUR has no rate: what can be counted is within the limit, checked in part
    eur = book("--lang", "zh", "invoice", "add", "--customer", "HD", "--currency", "EUR", "--date", "2026-03-31",
               "--amount", "1")
    assert eur.code == 0 and "HD 的信用额度只检查了一部分；EUR 未计入" in eur.err, eur.err
    # 600.00 more is over by 100.00: warned, issued
    over = book("--lang", "zh", "invoice", "add", "--customer", "HD", "--date", "2026-03-31", "--amount", "600")
    assert over.code == 0 and ("HD 的信用额度为 1,000.00 CNY：余额 500.00 CNY + 本张发票 600.00 CNY，超出 100.00 CNY"
                               in over.err), over.err
    assert book("settings", "set", "credit.enforce", "block").code == 0
    refused = book("--lang", "zh", "invoice", "add", "--customer", "HD", "--date", "2026-03-31", "--amount", "600")
    assert refused.code == 1 and "超出" in refused.err and "信用额度" in refused.err, refused.err
    for line in (aging.err + summary.err + reval.err + over.err + eur.err + refused.err).splitlines():
        assert english_in(line) is None, line
