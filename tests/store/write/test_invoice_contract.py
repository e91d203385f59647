"""An invoice that names a recorded contract is checked against where that contract stands on the invoice's date:
refused when the contract was cancelled or ended early before that date, issued with a warning when the date is
before the contract starts or after its agreed end; a contract number Duly does not hold stands as written. The
same from `duly invoice add` and from an import."""
from __future__ import annotations

import pytest

from store.ledger.ledger import Ledger
from store.write import customers, invoices
from tests.support.cli import PASSPHRASE, assert_one_line_error, change_count


@pytest.fixture
def book(cli):
    """HD with three contracts: HT-1 (2026-02-01..2026-12-31, ended early: last day 2026-06-30), HT-2 (cancelled
    on 2026-03-01), HT-3 (2026-01-01..2026-03-31, open to run out)."""
    with Ledger.create(cli.path, PASSPHRASE, series="T1") as ledger:
        customers.add(ledger, "HD", "上海恒达贸易有限公司", language="zh")
    for number, start, end in (("HT-1", "2026-02-01", "2026-12-31"), ("HT-2", "2026-02-01", None),
                               ("HT-3", "2026-01-01", "2026-03-31")):
        argv = ["contract", "add", "HD", "--number", number, "--signed", "2026-01-05", "--start", start]
        assert cli(*argv, *(("--end", end) if end else ())).code == 0
    assert cli("contract", "end", "HD", "HT-1", "--on", "2026-06-30").code == 0
    assert cli("contract", "cancel", "HD", "HT-2", "--reason", "签错", "--date", "2026-03-01").code == 0
    return cli


def _add(cli, on: str, contract: str, *more: str):
    return cli("invoice", "add", "--customer", "HD", "--date", on, "--amount", "100", "--contract", contract, *more)


def test_an_invoice_naming_a_cancelled_or_ended_contract_is_refused_and_nothing_is_written(book):
    before = change_count(book.path)
    assert_one_line_error(_add(book, "2026-02-15", "HT-2"), 1, "HT-2", "cancelled on 2026-03-01")
    assert_one_line_error(_add(book, "2026-07-01", "HT-1"), 1, "HT-1", "last day was 2026-06-30", "2026-07-01")
    assert change_count(book.path) == before
    assert_one_line_error(book("--lang", "zh", "invoice", "add", "--customer", "HD", "--date", "2026-07-01",
                               "--amount", "100", "--contract", "HT-1"), 1, "已提前终止", "2026-06-30")


def test_an_invoice_in_a_contracts_days_or_naming_one_duly_does_not_hold_is_issued_as_before(book):
    for on, contract in (("2026-06-30", "HT-1"), ("2026-02-01", "HT-1"), ("2026-03-31", "HT-3"),
                         ("2026-07-01", "OTHER-SYSTEM-42")):
        done = _add(book, on, contract, "--format", "json")
        assert done.code == 0, done.err
        assert done.json()["warnings"] == [] and done.err.strip() == ""
    with Ledger.open(book.path, PASSPHRASE) as ledger:
        assert [r["contract"] for r in ledger.rows("SELECT contract FROM invoices ORDER BY number")] == [
            "HT-1", "HT-1", "HT-3", "OTHER-SYSTEM-42"]


@pytest.mark.parametrize("on, contract, words", [
    ("2026-01-20", "HT-1", ("HT-1", "starts on 2026-02-01", "2026-01-20")),
    ("2026-04-01", "HT-3", ("HT-3", "ran until 2026-03-31", "2026-04-01")),
])
def test_an_invoice_before_a_contract_starts_or_after_it_ran_out_is_issued_with_a_warning(book, on, contract, words):
    done = _add(book, on, contract)
    assert done.code == 0, done.err
    for word in words:
        assert word in done.err
    with Ledger.open(book.path, PASSPHRASE) as ledger:
        assert ledger.row("SELECT contract FROM invoices WHERE date = ?", (on,))["contract"] == contract


def test_an_import_refuses_the_rows_that_name_a_cancelled_or_ended_contract_and_imports_nothing(book, tmp_path):
    src = tmp_path / "invoices.csv"
    src.write_text("number,customer,date,amount,contract\n"
                   "F-1,HD,2026-05-01,100,HT-1\n"
                   "F-2,HD,2026-07-02,100,HT-1\n"
                   "F-3,HD,2026-02-10,100,HT-2\n"
                   "F-4,HD,2026-04-01,100,HT-3\n", encoding="utf-8")
    before = change_count(book.path)
    assert_one_line_error(book("import", "invoices", str(src)), 1, "line 3", "HT-1", "last day was 2026-06-30",
                          "nothing was imported")
    assert change_count(book.path) == before
    src.write_text("number,customer,date,amount,contract\n"
                   "F-3,HD,2026-02-10,100,HT-2\n", encoding="utf-8")
    assert_one_line_error(book("import", "invoices", str(src)), 1, "line 2", "HT-2", "cancelled on 2026-03-01")
    assert change_count(book.path) == before
    src.write_text("number,customer,date,amount,contract\n"
                   "F-1,HD,2026-05-01,100,HT-1\n"
                   "F-4,HD,2026-04-01,100,HT-3\n", encoding="utf-8")
    done = book("import", "invoices", str(src))
    assert done.code == 0, done.err
    with Ledger.open(book.path, PASSPHRASE) as ledger:
        assert invoices.by_number(ledger, "F-4")["contract"] == "HT-3"
