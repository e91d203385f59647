"""The company profile (letterhead and the account customers pay into): set through `duly settings set company.*`,
checked as typed, synced like every setting, and read back whole for the documents."""
from __future__ import annotations

from store.read.company import company_profile
from tests.support.cli import assert_one_line_error

PROFILE = {
    "company.name": "云帆科技", "company.legal_name": "上海云帆科技有限公司",
    "company.tax_id": "91310000MA1FL8KQ3E", "company.address": "上海市浦东新区张江路 88 号",
    "company.phone": "+86 21 5080 1234", "company.email": "ar@yunfan.example",
    "company.bank_name": "招商银行上海张江支行", "company.bank_account": "6225 8801 2345 6789",
    "company.account_name": "上海云帆科技有限公司",
}


def test_company_profile_is_set_checked_and_read_back_whole(cli):
    assert cli("init").code == 0
    for key, value in PROFILE.items():
        assert cli("settings", "set", key, value).code == 0, key
    from store.ledger.ledger import Ledger
    from tests.support.cli import PASSPHRASE

    with Ledger.open(cli.path, PASSPHRASE) as led:
        profile = company_profile(led)
        synced = {r["id"] for r in led.rows("SELECT id FROM settings")}
    assert profile == {key.partition(".")[2]: value for key, value in PROFILE.items()}
    assert set(PROFILE) <= synced  # in the synced table, not this device's meta
    shown = cli("settings", "get", "--format", "json").json()
    assert shown["company.tax_id"] == "91310000MA1FL8KQ3E"


def test_company_profile_refuses_what_is_not_a_detail(cli):
    assert cli("init").code == 0
    assert_one_line_error(cli("settings", "set", "company.tax_id", "91310000MA1FL8KQ30"), 1, "check character")
    assert_one_line_error(cli("settings", "set", "company.email", "ar-at-yunfan"), 1, "company.email")
    assert_one_line_error(cli("settings", "set", "company.bank_account", "abc"), 1, "company.bank_account")
    assert_one_line_error(cli("settings", "set", "company.phone", "call me"), 1, "company.phone")
    assert_one_line_error(cli("settings", "set", "company.name", "x" * 201), 1, "too long")
    assert cli("settings", "get", "company.tax_id").out.strip() == ""
    # an empty value clears a detail; a legal name falls back to the name, the account name to the legal name
    assert cli("settings", "set", "company.name", "Yunfan").code == 0
    assert cli("settings", "set", "company.email", "").code == 0
    from store.ledger.ledger import Ledger
    from tests.support.cli import PASSPHRASE

    with Ledger.open(cli.path, PASSPHRASE) as led:
        profile = company_profile(led)
    assert (profile["name"], profile["legal_name"], profile["account_name"], profile["email"]) == (
        "Yunfan", "Yunfan", "Yunfan", "")
