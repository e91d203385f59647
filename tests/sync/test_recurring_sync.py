"""Two devices run the same recurring schedules offline, then sync through a real server on loopback: the ledger
holds each occurrence once (its ids are derived from the schedule and the occurrence); copies that differ are
flagged for review."""
from __future__ import annotations

from datetime import date

import pytest

from store.ledger import packing
from store.read import reports
from store.write import recurring
from tests.support.sync_server import running_server
from tests.support.cli import ok
from tests.support.sync_team import Team, sync_round_about as _sync_round_about, table_digest


@pytest.fixture
def team(cli, tmp_path):
    with running_server("sqlite", tmp_path) as server:
        yield Team(cli, tmp_path, server)


def _counts(led) -> dict[str, int]:
    return {table: led.row(f"SELECT count(*) AS n FROM {table}")["n"] for table in
            ("invoices", "invoice_lines", "due_items", "recurring_issues", "drafts")}


def test_two_devices_running_offline_issue_each_occurrence_once(team):
    ok(team.run("laptop", "recurring", "add", "ZQ", "--frequency", "monthly", "--day", "last", "--start",
                "2026-01-31", "--line", "Rent:1:8000:9%"))
    ok(team.run("laptop", "recurring", "add", "ZQ", "--frequency", "weekly", "--every", "2", "--start",
                "2026-03-02", "--amount", "500", "--draft"))
    _sync_round_about(team)
    # offline: each device runs up to its own date, the desk further than the laptop
    ok(team.run("laptop", "recurring", "run", "--as-of", "2026-04-30"))
    ok(team.run("desk", "recurring", "run", "--as-of", "2026-05-31"))
    _sync_round_about(team)
    ok(team.run("desk", "sync", "now"))
    seen, digests = [], []
    for device in ("laptop", "desk"):
        with team.ledger(device) as led:
            seen.append(_counts(led))
            digests.append(table_digest(led))
            numbers = [r["number"] for r in led.rows("SELECT number FROM invoices ORDER BY number")]
            assert numbers == [f"R-L1-0001-00{n}" for n in range(1, 6)]
            aging = reports.aging(led, date(2026, 12, 31))
            assert [r["total"] for r in aging.rows] == [5 * 872000]
            assert recurring.run(led, "2026-05-31").issued == []  # everything up to then is issued, once
        assert ok(team.run(device, "sync", "review", "--format", "json")).json() == []
    assert digests[0] == digests[1]  # every synced table the same on both devices, row for row
    # 5 monthly invoices (one line, one instalment each) and 7 fortnightly drafts (03-02 … 05-25)
    assert seen[0] == seen[1] == {"invoices": 5, "invoice_lines": 5, "due_items": 5, "recurring_issues": 12,
                                  "drafts": 7}


@pytest.mark.parametrize("stored", ["text", "compressed"])
def test_an_occurrence_issued_differently_on_two_devices_is_flagged(team, stored, monkeypatch):
    if stored == "compressed":  # every envelope stored compressed, as a bulk job's are: the scan still reads them
        monkeypatch.setattr(packing, "COMPRESS_FROM", 0)
    ok(team.run("laptop", "recurring", "add", "ZQ", "--frequency", "monthly", "--start", "2026-01-15",
                "--amount", "1000"))
    _sync_round_about(team)
    with team.ledger("desk") as desk:  # the desk changed the amount, offline, and ran it
        schedule = desk.row("SELECT id FROM recurring")["id"]
        with desk.writing() as tx:
            tx.set("recurring", schedule, amount=120000)
        recurring.run(desk, "2026-01-31")
    ok(team.run("laptop", "recurring", "run", "--as-of", "2026-01-31"))
    _sync_round_about(team)
    for device in ("laptop", "desk"):
        with team.ledger(device) as led:
            assert led.row("SELECT count(*) AS n FROM invoices")["n"] == 1
            if stored == "compressed":
                assert led.row("SELECT count(*) AS n FROM changes WHERE typeof(ops) = 'blob'")["n"] > 0
        flags = ok(team.run(device, "sync", "review", "--format", "json")).json()
        assert [f["kind"] for f in flags] == ["recurring_occurrence_differs"], flags
        assert "R-L1-0001 occurrence 1 (2026-01-15)" in flags[0]["message"]
