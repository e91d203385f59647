"""The SMTP password is a device's secret: read from a prompt or a file (never argv), kept out of the change
log, the audit output, sync and snapshots, shown masked; a value an older Duly synced is moved out."""
from __future__ import annotations

import json

import pytest

from store.write import settings
from store.ledger.ledger import Ledger
from tests.support.cli import PASSPHRASE, assert_one_line_error

SECRET = "s3cret-Pa55"


@pytest.fixture
def led(cli):
    assert cli("init").code == 0
    return cli.path


def log_text(path) -> str:
    with Ledger.open(path, PASSPHRASE) as ledger:
        return json.dumps(ledger.rows("SELECT * FROM changes"), ensure_ascii=False)


def test_the_password_is_not_taken_on_the_command_line(cli, led):
    assert_one_line_error(cli("settings", "set", "smtp.password", SECRET), 1, "not taken on the command line",
                          "--value-file")
    assert_one_line_error(cli("settings", "set", "smtp.password"), 1, "--value-file")  # no terminal here
    with Ledger.open(led, PASSPHRASE) as ledger:
        assert settings.get(ledger, "smtp.password") is None


def test_from_a_file_it_is_device_local_masked_and_never_in_the_log_or_the_audit(cli, led, tmp_path):
    secret = tmp_path / "pw.txt"
    secret.write_text(SECRET + "\n")
    result = cli("settings", "set", "smtp.password", "--value-file", secret)
    assert result.code == 0 and SECRET not in result.out and "********" in result.out
    with Ledger.open(led, PASSPHRASE) as ledger:
        assert settings.get(ledger, "smtp.password") == SECRET  # what the mailer logs in with
        assert ledger.setting("smtp.password") is None  # not a synced setting
    assert SECRET not in log_text(led)
    for argv in (("settings", "get", "smtp.password"), ("settings", "get"), ("settings", "get", "--format", "json"),
                 ("audit",), ("audit", "--format", "json")):
        out = cli(*argv).out
        assert SECRET not in out, argv
    assert cli("settings", "get", "smtp.password").out.strip() == "********"


def test_a_password_an_older_duly_synced_is_moved_out_and_masked_in_old_entries(cli, led):
    with Ledger.open(led, PASSPHRASE) as ledger:
        with ledger.writing() as tx:  # what an older Duly wrote: a synced setting
            tx.set("settings", "smtp.password", value=SECRET)
    assert SECRET in log_text(led)
    with Ledger.open(led, PASSPHRASE) as ledger:  # this Duly opens it: moved to this device, cleared for the team
        assert ledger.meta("secret.smtp.password") == SECRET
        assert ledger.setting("smtp.password") is None
        last = json.loads(ledger.row("SELECT ops FROM changes ORDER BY hlc DESC LIMIT 1")["ops"])
        assert last == [{"op": "set", "t": "settings", "id": "smtp.password", "c": "value", "v": None}]
        assert settings.get(ledger, "smtp.password") == SECRET
    audit = cli("audit", "--format", "json")
    assert audit.code == 0 and SECRET not in audit.out and "********" in audit.out
    assert SECRET not in cli("audit").out
    assert cli("audit", "verify").code == 0  # the old entry stays, chained as it was


def test_a_snapshot_for_a_new_device_carries_no_secret(cli, led, tmp_path):
    import shutil

    from sync.client import _strip_device_secrets

    secret = tmp_path / "pw.txt"
    secret.write_text(SECRET)
    assert cli("settings", "set", "smtp.password", "--value-file", secret).code == 0
    copy = tmp_path / "snapshot.duly"
    shutil.copyfile(led, copy)
    _strip_device_secrets(copy, PASSPHRASE)
    with Ledger.open(copy, PASSPHRASE) as ledger:
        assert settings.get(ledger, "smtp.password") is None
