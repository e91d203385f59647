"""In Chinese, every refusal of the command line is Chinese: the error paths of the commands people use most, run
with --lang zh, each give one line with Chinese words in it, never an English sentence (names, codes, options and
paths may stay as typed)."""
from __future__ import annotations

import re

import pytest

from tests.support.cli import PASSPHRASE

HAN = re.compile(r"[\u4e00-\u9fff]")

# (what is wrong, the command line): each must be refused
ERROR_PATHS = [
    ("unknown customer", ("customer", "show", "NOPE")),
    ("code with a space", ("customer", "add", "X 1", "--name", "某公司")),
    ("bad e-mail", ("customer", "add", "HD002", "--name", "某公司", "--email", "not-an-address")),
    ("bad tax id", ("customer", "add", "HD002", "--name", "某公司", "--tax-id", "91310000MA1FL0XX3Q")),
    ("code already used", ("customer", "add", "HD001", "--name", "又一个")),
    ("not a currency", ("customer", "edit", "HD001", "--currency", "XYZ")),
    ("unknown terms", ("customer", "edit", "HD001", "--terms", "NET45")),
    ("bad category", ("customer", "edit", "HD001", "--category", "Z")),
    ("invoice for nobody", ("invoice", "add", "--customer", "NOPE", "--date", "2026-01-01", "--amount", "10")),
    ("no such date", ("invoice", "add", "--customer", "HD001", "--date", "2026-02-30", "--amount", "10")),
    ("not an amount", ("invoice", "add", "--customer", "HD001", "--date", "2026-01-01", "--amount", "abc")),
    ("too many decimals", ("invoice", "add", "--customer", "HD001", "--date", "2026-01-01", "--amount", "1.005")),
    ("zero invoice", ("invoice", "add", "--customer", "HD001", "--date", "2026-01-01", "--amount", "0")),
    ("amount and lines", ("invoice", "add", "--customer", "HD001", "--date", "2026-01-01", "--amount", "10",
                          "--line", "服务:1:10")),
    ("bad line", ("invoice", "add", "--customer", "HD001", "--date", "2026-01-01", "--line", "服务")),
    ("due before date", ("invoice", "add", "--customer", "HD001", "--date", "2026-01-05", "--amount", "10",
                         "--due", "2026-01-01")),
    ("unknown invoice", ("invoice", "show", "ZZ-000001")),
    ("zero payment", ("payment", "add", "--customer", "HD001", "--date", "2026-01-01", "--amount", "0")),
    ("bad method", ("payment", "add", "--customer", "HD001", "--date", "2026-01-01", "--amount", "10",
                    "--method", "bitcoin")),
    ("built-in terms name", ("terms", "add", "EOM30", "--line", "100%:days_after:30")),
    ("bad terms line", ("terms", "add", "T1", "--line", "garbage")),
    ("unknown setting", ("settings", "set", "nope", "1")),
    ("bad port", ("settings", "set", "smtp.port", "99999")),
    ("bad date word", ("report", "aging", "--as-of", "someday")),
    ("unknown command", ("invoce",)),
    ("bad format", ("customer", "list", "--format", "xml")),
    ("missing argument", ("customer", "add")),
    ("no such file", ("import", "customers", "/nonexistent/customers.csv")),
]


@pytest.fixture
def book(cli):
    assert cli("init").code == 0
    assert cli("customer", "add", "HD001", "--name", "上海恒达贸易有限公司").code == 0
    return cli


@pytest.mark.parametrize("what, argv", ERROR_PATHS, ids=[what for what, _ in ERROR_PATHS])
def test_every_refusal_is_said_in_chinese(book, what, argv):
    result = book("--lang", "zh", *argv)
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert result.code in (1, 2), (what, result.code, result.err)
    assert len(lines) == 1 and lines[0].startswith("duly: "), result.err
    assert HAN.search(lines[0]), f"{what}: English in zh mode: {lines[0]}"


def test_the_same_refusal_in_english_without_the_flag(book):
    result = book("customer", "show", "NOPE")
    assert result.err.strip() == "duly: unknown customer 'NOPE'"
    assert book("--lang", "zh", "customer", "show", "NOPE").err.strip() == "duly: 未知客户 'NOPE'"


def test_a_wrong_passphrase_is_refused_in_the_locale_s_language(book, monkeypatch):
    monkeypatch.setenv("DULY_PASSPHRASE", PASSPHRASE + "x")
    monkeypatch.delenv("DULY_LANG")
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    result = book("customer", "list")
    assert result.code == 1 and "密码错误" in result.err
