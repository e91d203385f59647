"""The edges of what a ledger holds: amounts beyond 10^15 minor units and dates outside 1900-2999 are refused
with one clear line (they ended in "internal error", or broke reconciliation for good)."""
from __future__ import annotations

import pytest

from store.files import bank
from store.rules import money
from store.write import customers
from store.errors import InvalidInput
from store.ledger.ledger import Ledger
from tests.support.bank_files import OFX
from tests.support.cli import PASSPHRASE, assert_one_line_error


@pytest.fixture
def led(cli):
    assert cli("init").code == 0
    with Ledger.open(cli.path, PASSPHRASE) as ledger:
        customers.add(ledger, "HD001", "恒达")
    return cli.path


@pytest.mark.parametrize("amount", ["100000000000000000000", "10000000000000.01", "9223372036854775808"])
def test_an_amount_beyond_what_a_ledger_holds_is_one_line(cli, led, amount):
    result = cli("invoice", "add", "--customer", "HD001", "--date", "2026-01-10", "--amount", amount)
    assert_one_line_error(result, 1, amount, "more than a ledger holds", "10,000,000,000,000.00 CNY")
    result = cli("payment", "add", "--customer", "HD001", "--date", "2026-01-10", "--amount", amount)
    assert_one_line_error(result, 1, "more than a ledger holds")


def test_the_largest_amount_is_accepted_and_lines_that_multiply_beyond_it_are_not(cli, led):
    ok = cli("invoice", "add", "--customer", "HD001", "--date", "2026-01-10", "--amount", "10000000000000")
    assert ok.code == 0, ok.err
    many = cli("invoice", "add", "--customer", "HD001", "--date", "2026-01-10",
               "--line", "big:1000000:10000000000000")
    assert_one_line_error(many, 1, "more than a ledger holds")
    assert money.parse_amount(-10**13, "CNY", allow_negative=True) == -10**15


@pytest.mark.parametrize("day", ["9999-12-31", "3000-01-01", "1899-12-31"])
def test_a_date_outside_the_calendar_a_ledger_holds_is_one_line(cli, led, day):
    result = cli("invoice", "add", "--customer", "HD001", "--date", day, "--amount", "10")
    assert_one_line_error(result, 1, day, "outside the dates a ledger holds", "2999-12-31")
    due = cli("invoice", "add", "--customer", "HD001", "--date", "2026-01-01", "--amount", "10", "--due", day)
    assert_one_line_error(due, 1, day, "outside")
    assert_one_line_error(cli("report", "aging", "--as-of", day), 1, "outside")


def test_a_due_date_computed_past_the_last_date_still_works(cli, led):
    result = cli("invoice", "add", "--customer", "HD001", "--date", "2999-12-31", "--amount", "10", "--terms", "NET30")
    assert result.code == 0, result.err
    assert cli("report", "aging", "--as-of", "2999-12-31").code == 0


def test_a_bank_line_dated_9999_is_refused_and_an_old_one_does_not_break_reconcile(cli, led, tmp_path):
    path = tmp_path / "bank.csv"
    path.write_text("Date,Amount,Payee,Reference\n2026-03-02,100.00,恒达,R1\n9999-12-31,50.00,恒达,R2\n")
    assert_one_line_error(cli("import", "bank", path), 1, "bank.csv line 3", "9999-12-31", "outside")
    with pytest.raises(InvalidInput):
        bank.parse(path)
    # a line dated 9999-12-31 that an older Duly let in: list and auto still work
    path.write_text("Date,Amount,Payee,Reference\n2026-03-02,100.00,恒达,R1\n2026-03-03,50.00,恒达,R2\n")
    assert cli("import", "bank", path).code == 0
    with Ledger.open(led, PASSPHRASE) as ledger:
        ledger.conn.execute("UPDATE bank_lines SET date = '9999-12-31' WHERE reference = 'R2'")
    for argv in (("reconcile", "list"), ("reconcile", "auto")):
        result = cli(*argv)
        assert result.code == 0, (argv, result.err)


def test_an_ofx_line_dated_9999_is_refused(tmp_path):
    path = tmp_path / "far.ofx"
    path.write_text(OFX.replace("<DTPOSTED>20260303", "<DTPOSTED>99991231"))
    with pytest.raises(InvalidInput, match=r"far.ofx transaction 2 .*9999-12-31.* outside"):
        bank.parse(path)
