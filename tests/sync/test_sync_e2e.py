"""Devices of one team syncing through a real server on loopback, driven through `duly sync ...`: changes
converge, the server never sees plaintext, tampering and a viewer's push are refused, revoking a device
starts a new key epoch, and what a merge cannot settle is flagged for review."""
from __future__ import annotations

import sqlite3
import time

import pytest

from store.ledger import backup, packing
from store.write import customers, payments
from store.ledger.hlc import Stamp
from store.ledger.ledger import Ledger
from sync import client, crypto
from tests.support.builders import Book
from tests.support.cli import PASSPHRASE, assert_one_line_error, ok
from tests.support.sync_server import BACKENDS, postgres, running_server  # noqa: F401
from tests.support.sync_team import SECRET_NAME, Team, sync_round_about



@pytest.fixture
def sqlite_server(tmp_path):
    with running_server("sqlite", tmp_path) as backend:
        yield backend


@pytest.fixture(params=BACKENDS)
def any_server(request, tmp_path):
    info = request.getfixturevalue("postgres") if request.param == "postgresql" else None
    with running_server(request.param, tmp_path, info) as backend:
        yield backend


@pytest.fixture
def team(cli, tmp_path, sqlite_server):
    return Team(cli, tmp_path, sqlite_server)


def test_three_devices_converge_and_the_server_never_sees_a_customer_name(cli, tmp_path, any_server):
    team = Team(cli, tmp_path, any_server)
    assert team.names("desk") == team.names("auditor") == {"ZQ": SECRET_NAME}
    ok(team.run("desk", "customer", "add", "HX", "--name", "Hexagon Tools"))
    ok(team.run("laptop", "customer", "edit", "ZQ", "--phone", "021-5555-0101"))
    for device in ("desk", "laptop", "desk", "auditor"):
        ok(team.run(device, "sync", "now"))
    expected = {"HX": "Hexagon Tools", "ZQ": SECRET_NAME}
    assert team.names("laptop") == team.names("desk") == team.names("auditor") == expected
    with team.ledger("auditor") as led:
        assert led.row("SELECT phone FROM customers WHERE code='ZQ'")["phone"] == "021-5555-0101"
    stored = any_server.stored_bytes()
    assert len(stored) > 10_000  # the log and the snapshot are there...
    # Device names are the team's business too (host names, people's names): sealed like everything else.
    for needle in (SECRET_NAME, "上海远航", "Zephyrine", "Hexagon Tools", "021-5555-0101", "laptop", "auditor"):
        assert needle.encode() not in stored, f"{needle!r} found in what the {any_server.kind} server stored"
    shown = ok(team.run("desk", "sync", "devices", "--format", "json")).json()
    assert {"laptop", "desk", "auditor"} <= {d["name"] for d in shown}
    # The audit trail says which device and which person did what.
    trail = ok(team.run("auditor", "audit", "--format", "json")).json()
    assert {(e["device_name"], e["actor"]) for e in trail if "Hexagon Tools" in e["what"]} == {("desk", "tester")}


def test_join_restores_snapshot_with_its_own_passphrase_and_series(team):
    with team.ledger("desk") as desk, team.ledger("laptop") as laptop:
        assert desk.device != laptop.device
        assert desk.meta("series_prefix") != laptop.meta("series_prefix") == "L1"
        assert desk.meta("sync.device_keys") != laptop.meta("sync.device_keys")
        assert desk.meta("sync.role") == "member"
    with pytest.raises(Exception, match="wrong passphrase"):
        Ledger.open(team.paths["desk"], "not the passphrase")


def test_offline_changes_queue_and_go_out_at_the_next_sync(team, tmp_path):
    ok(team.run("desk", "customer", "add", "OF", "--name", "Offline Co"))
    status = ok(team.run("desk", "sync", "status", "--offline", "--format", "json")).json()
    assert status["pending"] == 1 and status["role"] == "member"
    with team.ledger("desk") as led:
        led.set_meta("sync.server", "http://127.0.0.1:9")  # nothing listens there
    assert_one_line_error(team.run("desk", "sync", "now"), 1, "cannot reach", "stay queued")
    with team.ledger("desk") as led:
        led.set_meta("sync.server", team.server.url)
    ok(team.run("desk", "sync", "now"))
    ok(team.run("laptop", "sync", "now"))
    assert team.names("laptop")["OF"] == "Offline Co"
    status = ok(team.run("desk", "sync", "status", "--format", "json")).json()
    # laptop pushed 2 changes (currency setting, ZQ); desk's OF became server change 3, right after desk's
    # cursor (2), so desk's cursor moves to 3 without fetching its own change back
    assert (status["pending"], status["reachable"], status["server_head"], status["cursor"]) == (0, True, 3, 3)


def _server_db(team):
    return sqlite3.connect(team.server.storage.path)


def test_flipped_byte_on_the_server_is_refused_and_nothing_applied(team):
    ok(team.run("laptop", "customer", "add", "T1", "--name", "Tamper One"))
    ok(team.run("laptop", "customer", "add", "T2", "--name", "Tamper Two"))
    ok(team.run("laptop", "sync", "now"))
    with _server_db(team) as db:
        seq, data = db.execute("SELECT server_seq, envelope FROM log ORDER BY server_seq DESC LIMIT 1").fetchone()
        text = data.decode()  # the stored envelope is JSON: change one character of its ciphertext
        at = text.index('"ciphertext":"') + 40
        flipped = text[:at] + ("A" if text[at] != "A" else "B") + text[at + 1:]
        db.execute("UPDATE log SET envelope=? WHERE server_seq=?", (flipped.encode(), seq))
    with team.ledger("desk") as led:
        before = led.meta("sync.cursor")
    result = team.run("desk", "sync", "now")
    assert_one_line_error(result, 1, "altered", "nothing from this batch was applied")
    with team.ledger("desk") as led:
        assert led.meta("sync.cursor") == before
        assert "T1" not in {r["code"] for r in led.rows("SELECT code FROM customers")}  # same batch, not applied


def test_restamped_header_on_the_server_is_refused(team):
    ok(team.run("laptop", "customer", "add", "RS", "--name", "Restamp"))
    ok(team.run("laptop", "sync", "now"))
    with _server_db(team) as db:
        seq, data = db.execute("SELECT server_seq, envelope FROM log ORDER BY server_seq DESC LIMIT 1").fetchone()
        import json

        env = json.loads(data)
        stamp = Stamp.parse(env["hlc"])  # moved back a minute, to lose a last-writer-wins race on purpose
        env["hlc"] = str(Stamp(stamp.ms - 60_000, stamp.counter, stamp.node))
        db.execute("UPDATE log SET envelope=? WHERE server_seq=?", (crypto.canonical(env), seq))
    assert_one_line_error(team.run("desk", "sync", "now"), 1, "signature")
    assert "RS" not in team.names("desk")


def test_tampered_snapshot_chunk_is_refused_and_no_ledger_is_made(team, tmp_path):
    with _server_db(team) as db:
        cid, data = db.execute("SELECT id, data FROM chunks LIMIT 1").fetchone()
        bad = bytearray(data)
        bad[len(bad) // 2] ^= 1
        db.execute("UPDATE chunks SET data=? WHERE id=?", (bytes(bad), cid))
    code = ok(team.run("laptop", "sync", "invite", "--format", "json")).json()["invite"]
    target = tmp_path / "newbox.duly"
    result = team.cli("--ledger", target, "sync", "join", "--server", team.server.url, "--invite", code)
    assert_one_line_error(result, 1, "content address", "nothing was restored")
    assert not target.exists()


@pytest.mark.parametrize("spoil, said", [
    ("UPDATE changes SET actor='mallory' WHERE device_seq=1", "content was changed after it was written"),
    ("UPDATE doc_state SET open_all = open_all + 1", "settlement cache disagrees"),
])
def test_snapshot_of_a_spoiled_book_is_refused_by_the_restore_drill(team, tmp_path, spoil, said):
    """A snapshot is sealed by a team device, so it arrives intact; the drill still refuses a book that is
    wrong inside (an edited change log, a cache that disagrees with the documents) and makes no ledger."""
    ok(team.run("laptop", "invoice", "add", "--customer", "ZQ", "--date", "2026-03-01", "--amount", "100"))
    with team.ledger("laptop") as led:
        led.conn.execute(spoil)
    ok(team.run("laptop", "sync", "now", "--snapshot"))
    code = ok(team.run("laptop", "sync", "invite", "--format", "json")).json()["invite"]
    target = tmp_path / "newbox.duly"
    result = team.cli("--ledger", target, "sync", "join", "--server", team.server.url, "--invite", code)
    assert_one_line_error(result, 1, said, "nothing was restored")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("newbox")) == []


def test_the_restore_drill_is_the_one_ledger_check_with_the_joiners_page_check(team, tmp_path, monkeypatch):
    """A new device judges a snapshot by store.ledger.backup.ledger_problems, the definition `duly check` and
    `duly restore` use, with its own lighter page check on a second connection (see sync.client)."""
    calls, real = [], backup.ledger_problems

    def judged(conn, **how):
        calls.append(how)
        return real(conn, **how) + ["a problem only the one definition knows"]

    monkeypatch.setattr(backup, "ledger_problems", judged)
    code = ok(team.run("laptop", "sync", "invite", "--format", "json")).json()["invite"]
    result = team.cli("--ledger", tmp_path / "newbox.duly", "sync", "join", "--server", team.server.url,
                      "--invite", code)
    assert_one_line_error(result, 1, "a problem only the one definition knows", "nothing was restored")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("newbox")) == []
    assert len(calls) == 1
    assert calls[0]["pages"] is not backup.page_problems and calls[0]["connect"] is not None


def test_forged_invite_code_is_refused(team, tmp_path):
    code = ok(team.run("laptop", "sync", "invite", "--format", "json")).json()["invite"]
    team_id, invite_id, _ = code.split(".")
    forged = f"{team_id}.{invite_id}.{crypto.b64e(b'f' * 32)}"
    result = team.cli("--ledger", tmp_path / "forged.duly", "sync", "join", "--server", team.server.url,
                      "--invite", forged)
    assert_one_line_error(result, 1, "not valid")
    assert not (tmp_path / "forged.duly").exists()


def test_viewer_push_is_refused_but_it_still_reads(team):
    ok(team.run("auditor", "customer", "add", "VW", "--name", "Viewer Write"))
    ok(team.run("laptop", "customer", "add", "NW", "--name", "New From Laptop"))
    ok(team.run("laptop", "sync", "now"))
    with team.ledger("laptop") as led:
        head = int(led.meta("sync.head"))
    assert_one_line_error(team.run("auditor", "sync", "now"), 1, "viewer", "cannot be sent")
    assert team.names("auditor")["NW"] == "New From Laptop"  # the pull went through
    ok(team.run("laptop", "sync", "now"))
    with team.ledger("laptop") as led:
        assert int(led.meta("sync.head")) == head
    assert "VW" not in team.names("laptop")


def test_revoke_blocks_the_device_and_starts_a_new_epoch(team):
    with team.ledger("desk") as led:
        desk_id = led.device
    out = ok(team.run("laptop", "sync", "revoke", "desk")).out
    assert "new key epoch 2" in out
    assert_one_line_error(team.run("desk", "sync", "now"), 1, "removed")
    ok(team.run("laptop", "customer", "add", "EP", "--name", "Epoch Two"))
    ok(team.run("laptop", "sync", "now"))
    ok(team.run("auditor", "sync", "now"))
    assert team.names("auditor")["EP"] == "Epoch Two"
    with _server_db(team) as db:
        last = db.execute("SELECT envelope FROM log ORDER BY server_seq DESC LIMIT 1").fetchone()[0]
        assert b'"key_epoch":2' in last
        assert db.execute("SELECT count(*) FROM wrapped_keys WHERE epoch=2 AND device=?", (desk_id,)).fetchone()[0] == 0
    devices = ok(team.run("laptop", "sync", "devices", "--format", "json")).json()
    named = {d["name"]: bool(d["revoked"]) for d in devices if not d["name"].startswith("recovery ")}
    assert named == {"laptop": False, "desk": True, "auditor": False}
    assert [d["role"] for d in devices if d["name"].startswith("recovery ")] == ["admin"]  # the printed secret


def test_clock_more_than_five_minutes_ahead_is_refused_naming_the_device(team):
    with team.ledger("desk") as desk:
        desk.clock._wall = lambda: int(time.time() * 1000) + 9 * 60 * 1000
        customers.add(desk, "FU", name="From The Future")
        with pytest.raises(client.SyncError, match=r"desk \(\w+\)'s clock is 9 minutes ahead"):
            session = client.Sync(desk)
            try:
                session.now()
            finally:
                session.close()


def test_batch_from_the_future_is_refused_as_a_whole_by_the_receiving_device(team):
    ok(team.run("laptop", "customer", "add", "B1", "--name", "Batch One"))
    ok(team.run("laptop", "sync", "now"))
    with team.ledger("desk") as desk:
        desk.clock._wall = lambda: int(time.time() * 1000) - 8 * 60 * 1000  # this device runs 8 minutes slow
        session = client.Sync(desk)
        try:
            with pytest.raises(client.ClockSkew, match=r"laptop \(\w+\)'s clock is 8 minutes ahead"):
                session.now()
        finally:
            session.close()
        assert desk.row("SELECT 1 AS x FROM customers WHERE code='B1'") is None


@pytest.mark.parametrize("stored", ["text", "compressed"])
def test_same_payment_on_two_devices_is_kept_twice_and_flagged(team, stored, monkeypatch):
    if stored == "compressed":  # every envelope stored compressed, as a bulk job's are: the scan still reads them
        monkeypatch.setattr(packing, "COMPRESS_FROM", 0)
    with team.ledger("laptop") as laptop:
        Book(laptop).invoice(laptop.row("SELECT id FROM customers WHERE code='ZQ'")["id"], "2026-03-01", 100000,
                             number="L1-000900")
    ok(team.run("laptop", "sync", "now"))
    ok(team.run("desk", "sync", "now"))
    with team.ledger("laptop") as laptop:
        payments.add(laptop, "ZQ", "2026-03-10", "300.00", reference="BANK-778", auto=False)
    with team.ledger("desk") as desk:
        payments.add(desk, "ZQ", "2026-03-12", "300.00", reference="BANK-778", auto=False)
        payments.add(desk, "ZQ", "2026-03-20", "300.00", reference="BANK-778", auto=False)  # 10 days later: not flagged
    sync_round_about(team)
    for device in ("laptop", "desk"):
        with team.ledger(device) as led:
            assert led.row("SELECT count(*) AS n FROM payments")["n"] == 3
            if stored == "compressed":
                assert led.row("SELECT count(*) AS n FROM changes WHERE typeof(ops) = 'blob'")["n"] > 0
        flags = ok(team.run(device, "sync", "review", "--format", "json")).json()
        assert [f["kind"] for f in flags] == ["duplicate_payment"], flags
        message = flags[0]["message"]
        assert "300.00" in message and "BANK-778" in message and "ZQ" in message
        assert "2026-03-10 by laptop" in message and "2026-03-12 by desk" in message
    flag_id = flags[0]["id"]
    ok(team.run("desk", "sync", "review", "--resolve", flag_id))
    assert ok(team.run("desk", "sync", "review", "--format", "json")).json() == []
    assert len(ok(team.run("desk", "sync", "review", "--all", "--format", "json")).json()) == 1


def test_over_allocation_from_two_devices_is_flagged(team):
    with team.ledger("laptop") as laptop:
        Book(laptop).invoice(laptop.row("SELECT id FROM customers WHERE code='ZQ'")["id"], "2026-03-01", 100000,
                             number="L1-000901")
    ok(team.run("laptop", "sync", "now"))
    ok(team.run("desk", "sync", "now"))
    with team.ledger("laptop") as laptop:
        payments.add(laptop, "ZQ", "2026-03-10", "800.00", reference="A", allocate=["L1-000901=800.00"])
    with team.ledger("desk") as desk:
        payments.add(desk, "ZQ", "2026-03-11", "600.00", reference="B", allocate=["L1-000901=600.00"])
    sync_round_about(team)
    for device in ("laptop", "desk"):
        flags = ok(team.run(device, "sync", "review", "--format", "json")).json()
        assert [f["kind"] for f in flags] == ["over_allocated_invoice"]
        assert "L1-000901 has 1,400.00 CNY applied to a total of 1,000.00 (400.00 too much)" in flags[0]["message"]
    text = ok(team.run("desk", "sync", "review")).out
    assert "over_allocated_invoice" in text
    # A new device joins from a snapshot taken now: the over-allocation is a flagged merge result, not damage,
    # so the restore drill passes, and the new device sees the same review list.
    ok(team.run("laptop", "sync", "now", "--snapshot"))
    code = ok(team.run("laptop", "sync", "invite", "--format", "json")).json()["invite"]
    team.paths["tablet"] = team.paths["laptop"].with_name("tablet.duly")
    ok(team.run("tablet", "sync", "join", "--server", team.server.url, "--invite", code, "--name", "tablet"))
    flags = ok(team.run("tablet", "sync", "review", "--format", "json")).json()
    assert [f["kind"] for f in flags] == ["over_allocated_invoice"]
    # `duly backup` and `duly restore` of the team book judge it as the drill does: flagged, so not damage...
    saved = team.paths["laptop"].with_name("laptop-backup.duly")
    ok(team.run("laptop", "backup", str(saved)))
    ok(team.run("laptop", "restore", str(saved), "--yes"))
    # ...while an over-allocation that no merge flagged is damage to both.
    with team.ledger("laptop") as laptop:
        laptop.conn.execute("DELETE FROM sync_review")
    unflagged = team.paths["laptop"].with_name("laptop-unflagged.duly")
    ok(team.run("laptop", "backup", str(unflagged)))
    assert_one_line_error(team.run("laptop", "restore", str(unflagged), "--yes"), 1, "L1-000901 has more allocated")
    ok(team.run("laptop", "sync", "now", "--snapshot"))
    code = ok(team.run("laptop", "sync", "invite", "--format", "json")).json()["invite"]
    result = team.cli("--ledger", team.paths["laptop"].with_name("phone.duly"), "sync", "join", "--server",
                      team.server.url, "--invite", code)
    assert_one_line_error(result, 1, "L1-000901 has more allocated", "nothing was restored")


def test_status_reports_server_head_pending_and_clock_offset(team):
    ok(team.run("desk", "customer", "add", "P1", "--name", "Pending One"))
    info = ok(team.run("desk", "sync", "status", "--format", "json")).json()
    assert info["pending"] == 1 and info["reachable"] is True
    assert info["devices"] == 4 and info["key_epoch"] == 1 and info["needs_review"] == 0
    assert abs(info["clock_offset_ms"]) < 2000  # same machine
    text = ok(team.run("desk", "sync", "status")).out
    assert "server_head" in text and "ms (server minus this device)" in text


def test_sync_commands_on_an_unsynced_ledger_say_what_to_do(cli):
    ok(cli("init"))
    assert_one_line_error(cli("sync", "now"), 1, "not set up for sync", "duly sync init")


def test_serve_needs_exactly_one_storage(cli, tmp_path):
    assert_one_line_error(cli("serve", "--port", "0"), 1, "--data DIR", "--database")
    assert_one_line_error(cli("serve", "--database", "mysql://x/y"), 1, "expected a postgresql:// URL")
    assert_one_line_error(cli("serve", "--data", tmp_path, "--team-token-file", tmp_path / "nope.txt"), 1,
                          "cannot read the team token file")
    (tmp_path / "empty.txt").write_text("\n")
    assert_one_line_error(cli("serve", "--data", tmp_path, "--team-token-file", tmp_path / "empty.txt"), 1, "empty")
    (tmp_path / "wide.txt").write_text("令牌\n", encoding="utf-8")
    assert_one_line_error(cli("serve", "--data", tmp_path, "--team-token-file", tmp_path / "wide.txt"), 1, "ASCII")


def test_a_setting_changed_by_a_member_device_is_flagged_for_review(team):
    ok(team.run("desk", "settings", "set", "currency", "USD"))
    ok(team.run("desk", "sync", "now"))
    ok(team.run("laptop", "sync", "now"))
    flags = ok(team.run("laptop", "sync", "review", "--format", "json")).json()
    assert [f["kind"] for f in flags] == ["setting_by_non_admin"]
    assert "setting currency was set to 'USD' by desk" in flags[0]["message"]
    # the admin's own setting changes are not flagged on the member
    ok(team.run("laptop", "settings", "set", "currency", "CNY"))
    ok(team.run("laptop", "sync", "now"))
    ok(team.run("desk", "sync", "now"))
    assert ok(team.run("desk", "sync", "review", "--format", "json")).json() == []


def test_recovery_secret_brings_the_book_back_when_every_device_is_lost(cli, tmp_path, sqlite_server):
    """Solo recovery (DESIGN §4): `sync init` prints a recovery secret; with every device gone, `sync join`
    with it rebuilds the book on a new machine as an admin, across a key epoch that began after it was made,
    and a retired secret is refused."""
    laptop, desk = tmp_path / "laptop.duly", tmp_path / "desk.duly"
    assert cli("--ledger", laptop, "init").code == 0
    ok(cli("--ledger", laptop, "customer", "add", "ZQ", "--name", SECRET_NAME))
    made = ok(cli("--ledger", laptop, "sync", "init", "--server", sqlite_server.url, "--name", "laptop",
                  "--format", "json")).json()
    secret = made["recovery"]
    assert secret.split(".")[1] == "recovery"
    assert cli("--ledger", tmp_path / "other.duly", "init").code == 0
    text = ok(cli("--ledger", tmp_path / "other.duly", "sync", "init", "--server", sqlite_server.url)).out
    assert "RECOVERY SECRET" in text  # the table form says what it is and that it is shown once
    # A second device joins and is revoked: the team key moves to epoch 2, after the secret was made.
    code = ok(cli("--ledger", laptop, "sync", "invite", "--format", "json")).json()["invite"]
    ok(cli("--ledger", desk, "sync", "join", "--server", sqlite_server.url, "--invite", code, "--name", "desk"))
    ok(cli("--ledger", laptop, "sync", "revoke", "desk"))
    ok(cli("--ledger", laptop, "customer", "add", "E2", "--name", "Epoch Two Ltd"))
    ok(cli("--ledger", laptop, "sync", "now"))
    laptop.unlink()  # every device is lost (the desk was revoked)
    rebuilt = tmp_path / "rebuilt.duly"
    ok(cli("--ledger", rebuilt, "sync", "join", "--server", sqlite_server.url, "--invite", secret, "--name", "new"))
    with Ledger.open(rebuilt, PASSPHRASE) as led:
        names = {r["code"]: r["name"] for r in led.rows("SELECT code, name FROM customers")}
        assert names == {"ZQ": SECRET_NAME, "E2": "Epoch Two Ltd"}
        assert led.meta("sync.role") == "admin"
    devices = ok(cli("--ledger", rebuilt, "sync", "devices", "--format", "json")).json()
    paper = [d for d in devices if d["name"].startswith("recovery")]
    assert len(paper) == 1 and paper[0]["role"] == "admin"
    # The rebuilt device is an admin: it retires the used secret, which then opens nothing.
    ok(cli("--ledger", rebuilt, "sync", "revoke", paper[0]["id"]))
    result = cli("--ledger", tmp_path / "again.duly", "sync", "join", "--server", sqlite_server.url,
                 "--invite", secret)
    assert_one_line_error(result, 1, "recovery secret is not valid")
    assert not (tmp_path / "again.duly").exists()
    fresh = ok(cli("--ledger", rebuilt, "sync", "recovery", "--format", "json")).json()["recovery"]
    assert fresh != secret


def _shared_draft(team) -> str:
    ok(team.run("laptop", "draft", "add", "--customer", "ZQ", "--date", "2026-04-01", "--amount", "1000"))
    ref = ok(team.run("laptop", "draft", "list", "--format", "json")).json()[0]["ref"]
    ok(team.run("laptop", "sync", "now"))
    ok(team.run("desk", "sync", "now"))
    return ref


def _flag_kinds(team, device) -> list[str]:
    return [f["kind"] for f in ok(team.run(device, "sync", "review", "--format", "json")).json()]


def test_a_draft_edited_on_one_device_while_another_issued_it_is_flagged(team):
    ref = _shared_draft(team)
    ok(team.run("desk", "draft", "edit", ref, "--amount", "1200"))  # offline, before it hears of the issue
    ok(team.run("laptop", "draft", "issue", ref))
    sync_round_about(team)
    for device in ("laptop", "desk"):
        assert _flag_kinds(team, device) == ["draft_edited_after_issue"]
        message = ok(team.run(device, "sync", "review", "--format", "json")).json()[0]["message"]
        assert f"draft {ref} was edited (amount" in message and "L1-000001" in message
        invoices = ok(team.run(device, "invoice", "list", "--format", "json")).json()
        assert [(i["number"], i["total"]) for i in invoices] == [("L1-000001", "1000.00")]  # posted as issued
    assert_one_line_error(team.run("desk", "draft", "edit", ref, "--amount", "5"), 1, "issued as invoice L1-000001")


def test_a_draft_issued_on_two_devices_is_kept_twice_and_flagged(team):
    ref = _shared_draft(team)
    ok(team.run("laptop", "draft", "issue", ref))
    ok(team.run("desk", "draft", "issue", ref))
    sync_round_about(team)
    for device in ("laptop", "desk"):
        assert _flag_kinds(team, device) == ["draft_issued_twice"]
        assert len(ok(team.run(device, "invoice", "list", "--format", "json")).json()) == 2
    assert_one_line_error(team.run("laptop", "draft", "issue", ref), 1, "was issued")


def test_a_draft_edit_the_issuing_device_had_seen_is_not_flagged(team):
    ref = _shared_draft(team)
    ok(team.run("desk", "draft", "edit", ref, "--amount", "1200"))
    ok(team.run("desk", "sync", "now"))
    ok(team.run("laptop", "sync", "now"))
    ok(team.run("laptop", "draft", "issue", ref))
    for device in ("laptop", "desk"):
        ok(team.run(device, "sync", "now"))
        assert _flag_kinds(team, device) == []
    invoices = ok(team.run("desk", "invoice", "list", "--format", "json")).json()
    assert [i["total"] for i in invoices] == ["1200.00"]


def test_an_empty_team_token_in_the_environment_is_refused_at_start(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("DULY_SERVER_TEAM_TOKEN", "  ")
    assert_one_line_error(cli("serve", "--data", tmp_path), 1, "DULY_SERVER_TEAM_TOKEN is empty")


def test_a_device_name_too_long_is_refused_before_the_invite_is_spent(team, tmp_path):
    code = ok(team.run("laptop", "sync", "invite", "--format", "json")).json()["invite"]
    result = team.cli("--ledger", tmp_path / "long.duly", "sync", "join", "--server", team.server.url,
                      "--invite", code, "--name", "长" * 101)
    assert_one_line_error(result, 1, "1-100 characters")
    ok(team.cli("--ledger", tmp_path / "long.duly", "sync", "join", "--server", team.server.url,
                "--invite", code, "--name", "长" * 100))  # the same invite still works


def test_a_server_with_a_team_token_creates_teams_only_for_its_holders(cli, tmp_path):
    with running_server("sqlite", tmp_path, team_token="s3cret-team") as server:
        book = tmp_path / "book.duly"
        assert cli("--ledger", book, "init").code == 0
        assert_one_line_error(cli("--ledger", book, "sync", "init", "--server", server.url), 1, "--team-token")
        assert_one_line_error(cli("--ledger", book, "sync", "init", "--server", server.url, "--team-token", "guess"),
                              1, "not this server's")
        assert_one_line_error(cli("--ledger", book, "sync", "status"), 1, "not set up for sync")
        ok(cli("--ledger", book, "sync", "init", "--server", server.url, "--team-token", "s3cret-team"))
        # Only creating a team needs it: an invited device joins with its invite alone.
        code = ok(cli("--ledger", book, "sync", "invite", "--format", "json")).json()["invite"]
        ok(cli("--ledger", tmp_path / "desk.duly", "sync", "join", "--server", server.url, "--invite", code))


def test_a_draft_deleted_on_one_device_while_another_issued_it_is_flagged(team):
    ref = _shared_draft(team)
    ok(team.run("desk", "draft", "delete", ref))
    ok(team.run("laptop", "draft", "issue", ref))
    sync_round_about(team)
    for device in ("laptop", "desk"):
        [flag] = ok(team.run(device, "sync", "review", "--format", "json")).json()
        assert flag["kind"] == "draft_edited_after_issue" and f"draft {ref} was deleted" in flag["message"]


def test_a_join_killed_earlier_leaves_nothing_the_next_join_trips_on(team, tmp_path):
    """kill -9 during a join can leave its scratch files and their -wal/-shm; SQLite would replay an old -wal
    onto the next attempt's file. The next join clears them first, and leaves none behind."""
    target = tmp_path / "again.duly"
    for name in ("again.duly.joining", "again.duly.joining-wal", "again.duly.joining-shm",
                 "again.duly.checking", "again.duly.checking-wal"):
        (tmp_path / name).write_bytes(b"left by a killed join " * 100)
    code = ok(team.run("laptop", "sync", "invite", "--format", "json")).json()["invite"]
    ok(team.cli("--ledger", target, "sync", "join", "--server", team.server.url, "--invite", code))
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("again.duly.")) == []
    with Ledger.open(target, PASSPHRASE) as led:
        assert led.row("SELECT name FROM customers WHERE code='ZQ'")["name"] == SECRET_NAME


@pytest.mark.parametrize("proof", ["", "forged"])
def test_a_key_epoch_the_server_made_up_is_refused(team, proof):
    """The server holds no key, but it could wrap a key of its own for a device (it knows every device's public
    key) and announce a new epoch, so that everything sealed next is readable to it. A new epoch's key is taken
    only with a proof sealed under the key before, which the server cannot make."""
    with team.ledger("desk") as desk:
        desk_id = desk.device
        team_id = desk.meta("sync.team")
    ok(team.run("desk", "customer", "add", "Q1", "--name", "Queued Before"))
    with _server_db(team) as db:
        box_pub = db.execute("SELECT box_pub FROM devices WHERE team=? AND id=?", (team_id, desk_id)).fetchone()[0]
        server_key = crypto.new_team_key()  # a key the server knows
        wrap = crypto.wrap_key(server_key, box_pub, crypto.key_context(team_id, 2, desk_id))
        if proof:
            wrap += "." + crypto.epoch_proof(crypto.new_team_key(), team_id, 2, server_key)
        db.execute("INSERT INTO wrapped_keys (team, epoch, device, blob) VALUES (?,?,?,?)", (team_id, 2, desk_id, wrap))
        db.execute("UPDATE teams SET epoch=2 WHERE id=?", (team_id,))
    result = team.run("desk", "sync", "now")
    assert_one_line_error(result, 1, "team key of epoch 2")
    with team.ledger("desk") as desk:
        assert desk.meta("sync.key.2") is None and desk.meta("sync.epoch") == "1"
    with _server_db(team) as db:  # nothing went out under the server's key
        assert b'"key_epoch":2' not in b"".join(bytes(r[0]) for r in db.execute("SELECT envelope FROM log"))
