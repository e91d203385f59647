"""A weak passphrase is refused at init and passwd unless the user confirms it with --weak-ok."""
from __future__ import annotations

import pytest

from store.ledger.ledger import Ledger
from store.rules.validate import passphrase_weakness
from tests.support.cli import PASSPHRASE, assert_one_line_error


@pytest.mark.parametrize("weak", ["demo", "short pw", "aaaaaaaaaaaaaaa", "password1234", "qwertyuiop123"])
def test_short_or_guessable_passphrases_are_weak(weak):
    assert passphrase_weakness(weak)


@pytest.mark.parametrize("strong", [PASSPHRASE, "brand new 密码", "lantern orbit velvet 42"])
def test_long_unguessable_passphrases_are_not(strong):
    assert passphrase_weakness(strong) is None


def test_init_refuses_a_weak_passphrase_unless_confirmed(cli, monkeypatch):
    monkeypatch.setenv("DULY_PASSPHRASE", "demo")
    assert_one_line_error(cli("init"), 1, "weak", "--weak-ok")
    assert not cli.path.exists()
    assert cli("init", "--weak-ok").code == 0
    with Ledger.open(cli.path, "demo"):
        pass


def test_passwd_refuses_a_weak_new_passphrase_unless_confirmed(cli, monkeypatch):
    assert cli("init").code == 0
    monkeypatch.setenv("DULY_NEW_PASSPHRASE", "12345678901")
    assert_one_line_error(cli("passwd"), 1, "weak")
    with Ledger.open(cli.path, PASSPHRASE):  # unchanged
        pass
    assert cli("passwd", "--weak-ok").code == 0
    with Ledger.open(cli.path, "12345678901"):
        pass


def test_the_demo_keeps_its_passphrase_demo(cli, monkeypatch):
    monkeypatch.setenv("DULY_PASSPHRASE", "demo")
    assert cli("demo", "--customers", "5", "--invoices", "10").code == 0
    assert cli("customer", "list", "--format", "json").code == 0


def test_zxcvbn_s_warnings_are_said_in_chinese(cli, monkeypatch):
    """zxcvbn words its feedback in English; Duly's catalogue has each of its warnings in Chinese."""
    from zxcvbn import zxcvbn

    from store.i18n import known
    from store.rules.validate import ZXCVBN_WARNINGS

    for weak in ("qwertyuiop123", "aaaaaaaaaaaaaaa", "password1234", "abcdefghijk", "1987-05-04 1987"):
        warning = zxcvbn(weak)["feedback"]["warning"]
        if warning:
            assert warning[0].lower() + warning[1:].rstrip(".") in ZXCVBN_WARNINGS, warning
    assert all(known(w) for w in ZXCVBN_WARNINGS)
    monkeypatch.setenv("DULY_PASSPHRASE", "qwertyuiop123")
    result = cli("--lang", "zh", "init")
    assert result.code == 1 and "这是一个非常常见的密码" in result.err, result.err
    monkeypatch.setenv("DULY_PASSPHRASE", "short")
    assert "它短于 10 个字符" in cli("--lang", "zh", "init").err
