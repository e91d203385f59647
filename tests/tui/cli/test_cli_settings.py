"""`duly settings get` shows the value in force for every key and says which are defaults."""
from __future__ import annotations

from store.read import reports
from store.rules import aging
from store.read import settings as settings_in_force
from store.write import reconcile, settings


def test_settings_get_lists_every_key_with_its_value_in_force_and_marks_defaults(cli, tmp_path):
    assert cli("init").code == 0
    assert cli("settings", "set", "aging.buckets", "30,60").code == 0
    secret = tmp_path / "smtp-password"
    secret.write_text("hunter2\n", encoding="utf-8")
    assert cli("settings", "set", "smtp.password", "--value-file", str(secret)).code == 0
    rows = {line.split()[0]: line.split(None, 2)[1:] for line in cli("settings", "get").out.splitlines()[2:]}
    assert set(rows) == set(settings.KNOWN)
    assert rows["aging.buckets"] == ["set", "30,60"]
    assert rows["reconcile.min_score"] == ["default", "70"]
    assert rows["terms.default"] == ["default", "NET30"]
    assert rows["smtp.host"] == ["not", "set"]
    assert rows["smtp.password"] == ["set", "********"]
    everything = cli("settings", "get", "--format", "json").json()
    assert everything["currency"] == "CNY" and everything["alerts.overdue_days"] == "90"
    assert "aging.buckets" not in everything["defaults"] and "alerts.overdue_days" in everything["defaults"]
    assert "hunter2" not in cli("settings", "get", "--format", "csv").out


def test_settings_get_key_gives_the_value_in_force(cli):
    assert cli("init").code == 0
    assert cli("settings", "get", "smtp.port").out.strip() == "587"
    assert cli("settings", "set", "smtp.starttls", "false").code == 0
    assert cli("settings", "get", "smtp.port").out.strip() == "25"
    assert cli("settings", "get", "reconcile.min_score", "--format", "json").json() == {"reconcile.min_score": "70"}


def test_the_defaults_shown_are_the_ones_the_ledger_uses(ledger):
    shown = settings_in_force.defaults(ledger)
    assert shown["aging.buckets"] == ",".join(map(str, reports.default_edges(ledger)))
    assert shown["aging.buckets"] == ",".join(map(str, aging.DEFAULT_EDGES))
    assert int(shown["reconcile.min_score"]) == reconcile.min_score(ledger)
    for key in settings.KNOWN:
        if shown[key] is not None:
            assert settings.check(key, shown[key]) is not None  # every default is a valid value for its key
