"""Currencies are ISO 4217 codes with their real minor units; a ledger holding an older non-ISO code still opens
and says what to do."""
from __future__ import annotations

import iso4217
import pytest
import sqlcipher3

from store.rules import money
from store.errors import InvalidInput
from store.ledger.ledger import Ledger
from tests.support.cli import PASSPHRASE, assert_one_line_error


@pytest.mark.parametrize("code,minor", [("CNY", 2), ("USD", 2), ("JPY", 0), ("XOF", 0), ("KWD", 3), ("BHD", 3),
                                        ("CLP", 0), ("VND", 0), ("ISK", 0), ("EUR", 2)])
def test_minor_units_come_from_iso_4217(code, minor):
    assert money.exponent(code) == minor
    assert money.check_currency(code.lower()) == code


def test_the_common_currencies_listed_for_speed_agree_with_the_standard():
    for code, minor in money.COMMON_MINOR_UNITS.items():
        assert iso4217.Currency(code).exponent == minor, code


@pytest.mark.parametrize("code", ["XYZ", "ABC", "XAU", "XXX", "US", "EURO", ""])
def test_codes_that_are_not_currencies_are_refused(code):
    with pytest.raises(InvalidInput, match="ISO 4217"):
        money.check_currency(code)


def test_rmb_is_read_as_cny():
    assert money.check_currency("RMB") == money.check_currency("rmb") == money.check_currency("人民币") == "CNY"


def test_amounts_follow_the_minor_units(cli):
    assert cli("init").code == 0
    assert cli("customer", "add", "K1", "--name", "Kuwait Co", "--currency", "KWD").code == 0
    assert cli("customer", "add", "X1", "--name", "Dakar SA", "--currency", "XOF").code == 0
    assert cli("customer", "add", "R1", "--name", "人民币客户", "--currency", "RMB").code == 0
    assert cli("customer", "show", "R1", "--format", "json").json()["currency"] == "CNY"
    assert cli("invoice", "add", "--customer", "K1", "--date", "2026-01-05", "--amount", "10.125").code == 0
    assert_one_line_error(cli("invoice", "add", "--customer", "X1", "--date", "2026-01-05", "--amount", "10.5"),
                          1, "decimal")
    assert cli("invoice", "add", "--customer", "X1", "--date", "2026-01-05", "--amount", "1500").code == 0
    totals = {i["customer"]: i["total"] for i in cli("invoice", "list", "--format", "json").json()}
    assert totals == {"K1": "10.125", "X1": "1500"}
    assert_one_line_error(cli("customer", "add", "Z1", "--name", "Z", "--currency", "XYZ"), 1, "ISO 4217")


def _force(path, sql):
    conn = sqlcipher3.connect(str(path))
    conn.execute("PRAGMA key = " + "'" + PASSPHRASE.replace("'", "''") + "'")
    conn.execute(sql)
    conn.commit()
    conn.close()


def test_a_ledger_holding_a_non_iso_code_opens_and_says_what_to_do(cli):
    assert cli("init").code == 0
    assert cli("customer", "add", "OLD", "--name", "Old", "--currency", "USD").code == 0
    assert cli("invoice", "add", "--customer", "OLD", "--date", "2026-01-05", "--amount", "12.50").code == 0
    _force(cli.path, "UPDATE customers SET currency='ABC' WHERE code='OLD'")
    _force(cli.path, "UPDATE invoices SET currency='ABC'")
    _force(cli.path, "UPDATE settings SET value='RMB' WHERE id='currency'")
    listed = cli("customer", "list", "--format", "json")
    assert listed.code == 0 and [c["currency"] for c in listed.json()] == ["ABC"]
    assert "duly customer edit OLD --currency" in listed.err and "settings set currency CNY" in listed.err
    assert cli("invoice", "list", "--format", "json").json()[0]["total"] == "12.50"  # 2 decimals, as before
    assert cli("report", "aging", "--as-of", "2026-06-30").code == 0
    assert cli("customer", "edit", "OLD", "--name", "Old Co").code == 0  # other fields still edit
    refused = cli("invoice", "add", "--customer", "OLD", "--date", "2026-02-01", "--amount", "1")
    assert refused.code == 1 and "ABC" in refused.err.splitlines()[-1]
    assert cli("customer", "edit", "OLD", "--currency", "USD").code == 0
    assert cli("settings", "set", "currency", "RMB").code == 0  # read as CNY
    fixed = cli("customer", "list")
    assert fixed.code == 0 and fixed.err == ""
    with Ledger.open(cli.path, PASSPHRASE) as led:
        assert led.setting("currency") == "CNY"
