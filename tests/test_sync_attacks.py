"""What a device of the team, or anyone who can reach the server, could do to the team's backup, its keys and
its requests, reproduced against a real server on loopback (SQLite and PostgreSQL): each attack is refused and
leaves the team working."""
from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time

import httpx
import pytest

from sync import client, crypto
from sync.client import Api
from sync.server import snapshot_message
from tests.conftest import assert_one_line_error
from tests.sync_support import BACKENDS, postgres, running_server  # noqa: F401
from tests.test_sync_e2e import Team, ok
from tests.test_sync_server import Member, invite, join, make_team, refused, sealed_manifest


@pytest.fixture(params=BACKENDS)
def server(request, tmp_path):
    info = request.getfixturevalue("postgres") if request.param == "postgresql" else None
    with running_server(request.param, tmp_path, info, max_body=256 * 1024, keep_snapshots=2) as backend:
        yield backend


@pytest.fixture
def team(cli, tmp_path):
    with running_server("sqlite", tmp_path) as backend:
        yield Team(cli, tmp_path, backend)


def post_snapshot(device: Member, *, server_seq: int = 0, manifest: str | None = None, snap_id: str | None = None,
                  key_epoch: int = 1) -> str:
    """A snapshot record signed by `device`, over one chunk it uploads; returns the snapshot's id."""
    sealed = crypto.box(device.team_keys[1], secrets.token_bytes(16), b"chunk", deterministic=True)
    chunk_id = hashlib.sha256(sealed).hexdigest()
    device.api.call("PUT", device.api.team_path(f"/chunks/{chunk_id}"), body=sealed)
    record = {"id": snap_id or secrets.token_hex(4), "server_seq": server_seq, "chunks": [chunk_id],
              "manifest": manifest if manifest is not None else sealed_manifest(device),
              "epoch": key_epoch, "device": device.id}
    record["signature"] = device.keys.signature(snapshot_message(device.team, record))
    device.api.post(device.api.team_path("/snapshots"), record)
    return record["id"]


def kept_snapshots(server) -> set[str]:
    with server.storage._tx(write=False) as run:
        return {r[0] for r in run("SELECT id FROM snapshots").fetchall()}


def latest_snapshot(device: Member) -> str:
    return device.api.get(device.api.team_path("/snapshots/latest"))["id"]


# -- 1. the team's backup --------------------------------------------------------------------------

def test_a_member_cannot_publish_a_snapshot(server):
    admin = make_team(server.url)
    good = post_snapshot(admin)
    member = join(admin, "member", "desk")
    with refused(403, "admin"):
        post_snapshot(member)
    assert latest_snapshot(admin) == good


def test_a_snapshot_beyond_the_teams_log_or_key_epoch_is_refused(server):
    admin = make_team(server.url)
    admin.push(admin.envelope(), admin.envelope())
    with refused(409, "log is at 2"):
        post_snapshot(admin, server_seq=2**62)
    with refused(409, "log is at 2"):
        post_snapshot(admin, server_seq=3)
    with refused(409, "epoch"):
        post_snapshot(admin, key_epoch=2)
    accepted = post_snapshot(admin, server_seq=2)
    assert latest_snapshot(admin) == accepted


@pytest.mark.parametrize("manifest, said", [
    ("m", "too short"),  # the attack's bogus manifest
    ("not base64 at all!" * 3, "base64"),
    ("", "base64"),
])
def test_a_snapshot_whose_manifest_cannot_be_a_sealed_one_is_refused(server, manifest, said):
    admin = make_team(server.url)
    with refused(400, said):
        post_snapshot(admin, manifest=manifest)
    with refused(404, "no snapshot"):
        latest_snapshot(admin)


def test_the_newest_snapshot_is_the_one_the_server_accepted_last_not_the_highest_number(server):
    """Retention follows the server's order of acceptance: a snapshot claiming a later point of the log does not
    push out one accepted after it."""
    admin = make_team(server.url)
    admin.push(*[admin.envelope() for _ in range(5)])
    high = post_snapshot(admin, server_seq=5)
    low = post_snapshot(admin, server_seq=1)
    assert latest_snapshot(admin) == low
    newest = post_snapshot(admin, server_seq=0)  # keep_snapshots=2: the first accepted goes, whatever its number
    assert latest_snapshot(admin) == newest
    assert kept_snapshots(server) == {low, newest} and high not in kept_snapshots(server)


def test_revoking_a_device_removes_the_snapshots_it_published(server):
    admin = make_team(server.url)
    good = post_snapshot(admin)
    other = join(admin, "admin", "second-admin")
    theirs = post_snapshot(other)
    assert latest_snapshot(admin) == theirs
    admin.api.post(admin.api.team_path(f"/devices/{other.id}/revoke"), {})
    assert latest_snapshot(admin) == good
    assert kept_snapshots(server) == {good}


def test_the_member_attack_on_the_teams_backup_is_refused_and_new_devices_still_join(team, tmp_path):
    """The reported attack: a member posts three snapshots at server_seq 2**62 with a bogus manifest to push the
    real snapshot out. All are refused; `sync now --snapshot` on a member says why; a new device joins."""
    with team.ledger("desk") as desk:
        member = Api(team.server.url, desk.meta("sync.team"), desk.device,
                     crypto.DeviceKeys.from_secret(desk.meta("sync.device_keys")))
        key = crypto.b64d(desk.meta("sync.key.1"))
    for n in range(3):
        sealed = crypto.box(key, f"junk {n}".encode(), b"x", deterministic=True)
        chunk_id = hashlib.sha256(sealed).hexdigest()
        member.call("PUT", member.team_path(f"/chunks/{chunk_id}"), body=sealed)
        record = {"id": f"poison{n}", "server_seq": 2**62, "chunks": [chunk_id], "manifest": "m", "epoch": 1,
                  "device": member.device}
        record["signature"] = member.keys.signature(snapshot_message(member.team, record))
        with refused(403, "admin"):
            member.post(member.team_path("/snapshots"), record)
    member.close()
    assert_one_line_error(team.run("desk", "sync", "now", "--snapshot"), 1, "only an admin", "member")
    assert "uploaded" in ok(team.run("laptop", "sync", "now", "--snapshot")).out
    code = ok(team.run("laptop", "sync", "invite", "--format", "json")).json()["invite"]
    ok(team.cli("--ledger", tmp_path / "new.duly", "sync", "join", "--server", team.server.url, "--invite", code))


def _devices_on_server(team) -> set[str]:
    with sqlite3.connect(team.server.storage.path) as db:
        return {r[0] for r in db.execute("SELECT id FROM devices")}


def test_a_failed_join_spends_no_invite_and_leaves_no_device_registered(team, tmp_path):
    """A join that fails (here: a snapshot chunk altered on the server) withdraws the device it registered, and
    the same invite works once the snapshot is good again."""
    before = _devices_on_server(team)
    with sqlite3.connect(team.server.storage.path) as db:
        chunk_id, data = db.execute("SELECT id, data FROM chunks LIMIT 1").fetchone()
        db.execute("UPDATE chunks SET data=? WHERE id=?", (bytes(data[:-1]) + bytes([data[-1] ^ 1]), chunk_id))
    code = ok(team.run("laptop", "sync", "invite", "--format", "json")).json()["invite"]
    target = tmp_path / "newbox.duly"
    result = team.cli("--ledger", target, "sync", "join", "--server", team.server.url, "--invite", code)
    assert_one_line_error(result, 1, "content address")
    assert _devices_on_server(team) == before and not target.exists()
    with sqlite3.connect(team.server.storage.path) as db:
        db.execute("UPDATE chunks SET data=? WHERE id=?", (data, chunk_id))
    ok(team.cli("--ledger", target, "sync", "join", "--server", team.server.url, "--invite", code))
    assert len(_devices_on_server(team) - before) == 1
    result = team.cli("--ledger", tmp_path / "third.duly", "sync", "join", "--server", team.server.url,
                      "--invite", code)
    assert_one_line_error(result, 1, "already used")


def test_a_joining_device_only_reads_until_it_is_done_and_a_second_join_replaces_it(server):
    admin = make_team(server.url)
    invite_id, token = invite(admin, "member")
    first = Member(server.url, admin.team, "first")
    body = {"invite": invite_id, "token": crypto.b64e(token), "device": first.info()}
    first.api.post(f"/v1/teams/{admin.team}/join", body)
    first.team_keys = dict(admin.team_keys)
    assert first.api.get(first.api.team_path("/state"))["head"] == 0  # it reads
    with refused(403, "not finished joining"):
        first.push(first.envelope())
    # The first attempt died without a word; the invite is not spent, and a second attempt takes its place.
    second = Member(server.url, admin.team, "second")
    second.api.post(f"/v1/teams/{admin.team}/join", {**body, "device": second.info()})
    with refused(401, "not registered"):
        first.api.get(first.api.team_path("/state"))
    second.api.post(second.api.team_path("/join/done"), {})
    second.team_keys = dict(admin.team_keys)
    assert second.push(second.envelope())["acked"] == [1]
    third = Member(server.url, admin.team, "third")
    with refused(403, "already used"):
        third.api.post(f"/v1/teams/{admin.team}/join", {**body, "device": third.info()})
    # A join that is abandoned leaves nothing listed.
    invite_id, token = invite(admin, "viewer")
    quitter = Member(server.url, admin.team, "quitter")
    quitter.api.post(f"/v1/teams/{admin.team}/join",
                     {"invite": invite_id, "token": crypto.b64e(token), "device": quitter.info()})
    quitter.api.post(quitter.api.team_path("/join/abandon"), {})
    listed = {d["id"] for d in admin.api.get(admin.api.team_path("/state"))["devices"]}
    assert listed == {admin.id, second.id}


# -- 2. key rotation -------------------------------------------------------------------------------

def test_a_viewer_or_member_cannot_start_or_block_a_key_epoch(server):
    admin = make_team(server.url)
    member = join(admin, "member", "desk")
    viewer = join(admin, "viewer", "auditor")
    bogus = crypto.wrap_key(crypto.new_team_key(), viewer.keys.box_pub, crypto.key_context(admin.team, 2, viewer.id))
    with refused(409, "only an admin starts"):  # the reported attack: a copy stored ahead of epoch 2
        viewer.api.post(viewer.api.team_path("/keys"), {"keys": {"2": bogus}})
    for device in (viewer, member):
        with refused(403, "admin"):
            device.api.post(device.api.team_path("/epochs"), {"epoch": 2, "wraps": {device.id: bogus}})
    key2 = crypto.new_team_key()
    wraps = {d.id: crypto.wrap_key(key2, d.keys.box_pub, crypto.key_context(admin.team, 2, d.id))
             for d in (admin, member, viewer)}
    with refused(409, "does not follow"):
        admin.api.post(admin.api.team_path("/epochs"), {"epoch": 3, "wraps": wraps})
    admin.api.post(admin.api.team_path("/epochs"), {"epoch": 2, "wraps": wraps})
    got = viewer.api.get(viewer.api.team_path("/keys"))
    assert crypto.unwrap_key(got["keys"]["2"], viewer.keys, crypto.key_context(admin.team, 2, viewer.id)) == key2


def test_admin_revoke_works_after_a_viewer_tried_to_take_the_next_epoch(team):
    with team.ledger("auditor") as auditor:
        viewer = Api(team.server.url, auditor.meta("sync.team"), auditor.device,
                     crypto.DeviceKeys.from_secret(auditor.meta("sync.device_keys")))
        wrap = crypto.wrap_key(crypto.new_team_key(), viewer.keys.box_pub,
                               crypto.key_context(viewer.team, 2, viewer.device))
    with refused(409, "only an admin starts"):
        viewer.post(viewer.team_path("/keys"), {"keys": {"2": wrap}})
    with refused(403, "admin"):
        viewer.post(viewer.team_path("/epochs"), {"epoch": 2, "wraps": {viewer.device: wrap}})
    viewer.close()
    assert "new key epoch 2" in ok(team.run("laptop", "sync", "revoke", "desk")).out
    ok(team.run("laptop", "customer", "add", "K2", "--name", "After Rotation"))
    ok(team.run("laptop", "sync", "now"))
    ok(team.run("auditor", "sync", "now"))
    assert team.names("auditor")["K2"] == "After Rotation"


# -- 3. replays ------------------------------------------------------------------------------------

class Recorder(httpx.BaseTransport):
    """Passes requests through and keeps a copy of each, as someone on the network path could."""

    def __init__(self):
        self.inner = httpx.HTTPTransport()
        self.sent: list[tuple[str, str, dict, bytes]] = []

    def handle_request(self, request):
        self.sent.append((request.method, str(request.url), dict(request.headers), request.read()))
        return self.inner.handle_request(request)


def _replay(sent) -> httpx.Response:
    method, url, headers, body = sent
    return httpx.request(method, url, headers=headers, content=body)


def test_every_signed_request_is_accepted_once(server):
    """A captured request sent again within the time window (rename, push, snapshot, a read) is refused."""
    admin = make_team(server.url)
    recorder = Recorder()
    admin.api = Api(server.url, admin.team, admin.id, admin.keys, transport=recorder)
    admin.api.post(admin.api.team_path(f"/devices/{admin.id}/name"), {"name": "sealed:1:first"})
    admin.api.post(admin.api.team_path(f"/devices/{admin.id}/name"), {"name": "sealed:1:second"})
    admin.push(admin.envelope())
    post_snapshot(admin, server_seq=1)
    admin.api.get(admin.api.team_path("/pull"), after="0")
    for sent in recorder.sent:
        again = _replay(sent)
        assert again.status_code == 409, (sent[0], sent[1], again.status_code, again.text)
        assert "already received" in again.json()["error"]
    devices = admin.api.get(admin.api.team_path("/state"))["devices"]
    assert [d["name"] for d in devices] == ["sealed:1:second"]  # the replayed rename did not undo the second
    assert admin.api.get(admin.api.team_path("/state"))["head"] == 1
