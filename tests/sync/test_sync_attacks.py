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
from sync.protocol import snapshot_message
from tests.support.cli import assert_one_line_error, ok
from tests.support.sync_server import BACKENDS, postgres, running_server  # noqa: F401
from tests.support.sync_team import Member, Team, invite, join, make_team, refused, sealed_manifest


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


# -- 4. malformed requests get a 4xx with a JSON error, never a 5xx --------------------------------

def _signed(device: Member, method: str, path: str, body: bytes = b"", *, params: dict | None = None,
            **override) -> tuple[str, dict]:
    """The URL and headers of a request signed by `device`; `override` replaces headers after signing."""
    url = httpx.URL(device.api.server + path, params=params)
    stamp, nonce = str(int(time.time() * 1000)), secrets.token_urlsafe(16)
    message = crypto.request_message(method, url.raw_path.decode(), device.team, device.id, stamp, body, nonce)
    headers = {"X-Duly-Device": device.id, "X-Duly-Time": stamp, "X-Duly-Nonce": nonce,
               "X-Duly-Signature": device.keys.signature(message), "Content-Type": "application/json"}
    headers.update({k.replace("_", "-"): v for k, v in override.items()})
    return str(url), headers


def _send(device: Member, method: str, path: str, obj=None, *, raw: bytes | None = None, params=None, **override):
    body = raw if raw is not None else (b"" if obj is None else crypto.canonical(obj))
    url, headers = _signed(device, method, path, body, params=params, **override)
    return httpx.request(method, url, headers=headers, content=body)


DEEP_LIST = b"[" * 30_000 + b"]" * 30_000  # 60 KB: within the 64 KB limit of the unauthenticated routes
DEEP_OBJECT = b'{"a":' * 10_000 + b"1" + b"}" * 10_000


def _record(device: Member, **fields) -> dict:
    record = {"id": secrets.token_hex(4), "server_seq": 0, "chunks": ["0" * 64], "manifest": sealed_manifest(device),
              "epoch": 1, "device": device.id, **fields}
    record["signature"] = device.keys.signature(snapshot_message(device.team, record))
    return record


MALFORMED = {
    "deeply nested list to POST /v1/teams": lambda a: httpx.post(a.api.server + "/v1/teams", content=DEEP_LIST),
    "deeply nested object to POST /v1/teams": lambda a: httpx.post(a.api.server + "/v1/teams", content=DEEP_OBJECT),
    "deeply nested list to POST .../join": lambda a: httpx.post(a.api.server + f"/v1/teams/{a.team}/join",
                                                                content=DEEP_LIST),
    "deeply nested body to a signed route": lambda a: _send(a, "POST", a.api.team_path("/keys"), raw=DEEP_OBJECT[:50_000]),
    "400-digit X-Duly-Time": lambda a: _send(a, "GET", a.api.team_path("/state"), X_Duly_Time="9" * 400),
    "X-Duly-Time in superscript digits": lambda a: _send(a, "GET", a.api.team_path("/state"), X_Duly_Time="²³".encode("latin-1")),
    "pull after beyond 64 bits": lambda a: _send(a, "GET", a.api.team_path("/pull"), params={"after": str(2**64)}),
    "pull after of 400 digits": lambda a: _send(a, "GET", a.api.team_path("/pull"), params={"after": "9" * 400}),
    "pull limit not a number": lambda a: _send(a, "GET", a.api.team_path("/pull"), params={"limit": "lots"}),
    "key epoch not a number": lambda a: _send(a, "POST", a.api.team_path("/keys"), {"keys": {"two": "x"}}),
    "key epoch in other digits": lambda a: _send(a, "POST", a.api.team_path("/keys"), {"keys": {"٢": "x"}}),
    "huge key epoch": lambda a: _send(a, "POST", a.api.team_path("/keys"), {"keys": {"9" * 30: "x"}}),
    "huge new epoch": lambda a: _send(a, "POST", a.api.team_path("/epochs"), {"epoch": 2**70, "wraps": {}}),
    "epoch as text": lambda a: _send(a, "POST", a.api.team_path("/epochs"), {"epoch": "2", "wraps": {}}),
    "huge snapshot server_seq": lambda a: _send(a, "POST", a.api.team_path("/snapshots"), _record(a, server_seq=2**70)),
    "huge snapshot epoch": lambda a: _send(a, "POST", a.api.team_path("/snapshots"), _record(a, epoch=2**63 + 5)),
    "huge invite expiry": lambda a: _send(a, "POST", a.api.team_path("/invites"), {
        "id": "abc", "auth_hash": "0" * 64, "role": "member", "expires": 2**70, "blob": "x", "signature": "x"}),
    "huge device_seq": lambda a: _send(a, "POST", a.api.team_path("/push"), {"envelopes": [{
        "v": 1, "team": a.team, "device": a.id, "device_seq": 2**70, "key_epoch": 1, "hlc": "0-0-x"}]}),
    "NUL in a device name": lambda a: _send(a, "POST", a.api.team_path(f"/devices/{a.id}/name"), {"name": "a\x00b"}),
    "lone surrogate in a device name": lambda a: _send(a, "POST", a.api.team_path(f"/devices/{a.id}/name"),
                                                       raw=b'{"name":"\\ud800"}'),
    "NUL in the team of the path": lambda a: _send(a, "GET", "/v1/teams/ab%00cd/state"),
    "NUL in a device of the path": lambda a: _send(a, "POST", a.api.team_path("/devices/x%00y/revoke"), {}),
    "odd chunk address": lambda a: _send(a, "GET", a.api.team_path("/chunks/%00%ff")),
    "an hlc far in the future": lambda a: _send(a, "POST", a.api.team_path("/push"), {"envelopes": [{
        "v": 1, "team": a.team, "device": a.id, "device_seq": 1, "key_epoch": 1, "hlc": "f" * 100 + "-0-x"}]}),
    "not a number at all": lambda a: _send(a, "POST", a.api.team_path("/epochs"), raw=b'{"epoch": NaN, "wraps": {}}'),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_request_gets_a_4xx_json_error(server, case):
    admin = make_team(server.url)
    got = MALFORMED[case](admin)
    assert 400 <= got.status_code < 500, (got.status_code, got.text[:300])
    assert isinstance(got.json()["error"], str)
    assert admin.api.get(admin.api.team_path("/state"))["head"] == 0  # and the server still answers


def test_a_replayed_snapshot_post_or_a_snapshot_sent_twice_gets_a_4xx(server):
    admin = make_team(server.url)
    sealed = crypto.box(admin.team_keys[1], b"chunk", b"chunk", deterministic=True)
    chunk_id = hashlib.sha256(sealed).hexdigest()
    admin.api.call("PUT", admin.api.team_path(f"/chunks/{chunk_id}"), body=sealed)
    record = crypto.canonical(_record(admin, chunks=[chunk_id]))
    url, headers = _signed(admin, "POST", admin.api.team_path("/snapshots"), record)
    assert httpx.post(url, headers=headers, content=record).status_code == 201
    again = httpx.post(url, headers=headers, content=record)
    assert again.status_code == 409 and "already received" in again.json()["error"]
    resent = _send(admin, "POST", admin.api.team_path("/snapshots"), raw=record)  # signed afresh
    assert resent.status_code == 409 and "already received" in resent.json()["error"]


@pytest.mark.parametrize("kind, examples", [("sqlite", 1500), ("postgresql", 400)])
def test_no_route_answers_5xx_to_fuzzed_paths_queries_headers_and_bodies(request, tmp_path, kind, examples):
    """Every route of the app, with fuzzed path parameters, query parameters, headers and bodies, sent unsigned,
    badly signed and properly signed by an admin, a member, a viewer and a device still joining: never a 5xx,
    always a JSON answer."""
    import os
    from urllib.parse import quote

    from hypothesis import HealthCheck, given, settings, strategies as st
    from starlette.routing import Route

    from sync.server.app import create_app

    hit: dict[tuple[str, str], int] = {}
    statuses: set[int] = set()
    info = request.getfixturevalue("postgres") if kind == "postgresql" else None
    # a generous timeout: on a loaded machine a slow answer is not the failure this test looks for (a 5xx is)
    with running_server(kind, tmp_path, info, max_body=64 * 1024, teams_per_minute=10**6) as srv, \
            httpx.Client(timeout=60) as http:
        routes = sorted((method, route.path) for route in create_app(srv.storage).routes if isinstance(route, Route)
                        for method in route.methods - {"HEAD"})
        base = srv.url
        transport = None
        admin = Member(base, "", "admin")
        admin.team = secrets.token_hex(8)
        admin.api = Api(base, admin.team, admin.id, admin.keys, transport=transport)
        admin.team_keys[1] = crypto.new_team_key()
        admin.api.post("/v1/teams", {"team": admin.team, "device": admin.info(), "wrapped": crypto.wrap_key(
            admin.team_keys[1], admin.keys.box_pub, crypto.key_context(admin.team, 1, admin.id))})

        def newcomer(role: str, done: bool) -> Member:
            invite_id, token = invite(admin, role)
            device = Member(base, admin.team, role)
            device.api = Api(base, admin.team, device.id, device.keys, transport=transport)
            device.api.post(f"/v1/teams/{admin.team}/join",
                            {"invite": invite_id, "token": crypto.b64e(token), "device": device.info()})
            if done:
                device.api.post(device.api.team_path("/join/done"), {})
            device.team_keys = dict(admin.team_keys)
            return device

        signers = {"admin": admin, "member": newcomer("member", True), "viewer": newcomer("viewer", True),
                   "joining": newcomer("member", False)}
        admin.push(admin.envelope())
        sealed = crypto.box(admin.team_keys[1], b"a chunk", b"chunk", deterministic=True)
        chunk = hashlib.sha256(sealed).hexdigest()
        admin.api.call("PUT", admin.api.team_path(f"/chunks/{chunk}"), body=sealed)

        scalars = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True)
                   | st.text(max_size=30) | st.sampled_from(["", "0", "1", "-1", str(2**63), str(2**64), "9" * 40,
                                                            chunk, admin.id, admin.team, "²", "\x00", "sealed:1:x"]))
        values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                              | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)
        fields = ["team", "device", "wrapped", "invite", "token", "keys", "id", "auth_hash", "role", "expires",
                  "blob", "signature", "name", "epoch", "wraps", "envelopes", "server_seq", "chunks", "manifest"]
        shaped = st.dictionaries(st.sampled_from(fields), values, max_size=6)
        envelope = st.fixed_dictionaries({"v": st.sampled_from([1, 2, "1"]), "team": st.sampled_from([admin.team, "x"]),
                                          "device": st.sampled_from([admin.id, "x"]),
                                          "device_seq": st.integers(-2, 2**70), "key_epoch": st.integers(0, 2**70),
                                          "hlc": st.text(max_size=40), "nonce": values, "ciphertext": values,
                                          "signature": values})
        bodies = st.one_of(
            shaped.map(crypto.canonical),
            st.builds(lambda envs: crypto.canonical({"envelopes": envs}), st.lists(envelope, max_size=3)),
            st.binary(max_size=300),
            st.integers(1, 20_000).map(lambda n: b"[" * n + b"]" * n),
            st.just(b""),
        )
        segment = st.one_of(st.text(max_size=70), st.sampled_from([admin.team, admin.id, chunk, "0" * 64, "%00",
                                                                   "..", "a" * 65]))
        header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80).map(str.strip)
        header_values = st.one_of(header_text, st.from_regex(r"[0-9]{1,400}", fullmatch=True),
                                  st.sampled_from(["²", "-5", str(2**64)]).map(lambda v: v.encode("latin-1")))
        headers = st.dictionaries(st.sampled_from(["X-Duly-Time", "X-Duly-Nonce", "X-Duly-Device", "X-Duly-Signature",
                                                   "X-Duly-Team-Token", "Content-Type"]), header_values, max_size=2)
        queries = st.dictionaries(st.sampled_from(["after", "limit", "x"]),
                                  st.one_of(st.text(max_size=30), st.from_regex(r"-?[0-9]{1,400}", fullmatch=True)),
                                  max_size=2)

        @settings(max_examples=int(os.environ.get("DULY_FUZZ_EXAMPLES", examples)), deadline=None,
                  suppress_health_check=list(HealthCheck), database=None)
        @given(route=st.sampled_from(routes), params=st.dictionaries(st.sampled_from(["team", "device", "chunk"]),
                                                                       segment), body=bodies, query=queries,
               extra=headers, who=st.sampled_from(["admin", "member", "viewer", "joining", "unsigned", "stranger"]),
               keep_team=st.booleans())
        def probe(route, params, body, query, extra, who, keep_team):
            send(route, params, body, query, extra, who, keep_team)

        def send(route, params, body, query, extra, who, keep_team):
            method, template = route
            values = {"team": admin.team if keep_team else params.get("team", admin.team),
                      "device": params.get("device", admin.id), "chunk": params.get("chunk", chunk)}
            path = template
            for name, value in values.items():
                path = path.replace("{%s}" % name, quote(value, safe="%") or "-")
            if method == "GET":
                body = b"" if len(body) % 2 else body
            if who in signers:
                url, sent_headers = _signed(signers[who], method, path, body, params=query or None)
            else:
                url = str(httpx.URL(base + path, params=query or None))
                sent_headers = {} if who == "unsigned" else _signed(Member(base, admin.team, "x"), method, path,
                                                                     body, params=query or None)[1]
            sent_headers.update(extra)
            got = http.request(method, url, headers=sent_headers, content=body)
            hit[route] = hit.get(route, 0) + 1
            statuses.add(got.status_code)
            assert got.status_code < 500, (method, url, sent_headers, body[:200], got.text[:300])
            if got.status_code >= 400 or got.headers["content-type"] == "application/json":
                assert isinstance(got.json(), dict)

        for route in routes:  # every route at least once, whatever the random draw visits
            send(route, {}, b"{}", {}, {}, "admin", True)
        probe()
    assert sorted(hit) == routes, sorted(set(routes) - set(hit))
    print(f"\n{kind}: fuzzed {len(routes)} distinct routes, {sum(hit.values())} requests, statuses {sorted(statuses)}")


# -- 5. team creation on an open server ------------------------------------------------------------

def _create_team(url: str, name: str = "sealed:1:x") -> httpx.Response:
    device = Member(url, secrets.token_hex(8), name)
    key = crypto.new_team_key()
    body = crypto.canonical({"team": device.team, "device": device.info(),
                             "wrapped": crypto.wrap_key(key, device.keys.box_pub,
                                                        crypto.key_context(device.team, 1, device.id))})
    url_, headers = _signed(device, "POST", "/v1/teams", body)
    return httpx.post(url_, headers=headers, content=body)


def test_team_creation_is_rate_limited_per_client_address(tmp_path):
    with running_server("sqlite", tmp_path, teams_per_minute=3) as server:
        assert [_create_team(server.url).status_code for _ in range(3)] == [201, 201, 201]
        refused_now = _create_team(server.url)
        assert refused_now.status_code == 429 and "at most 3 a minute" in refused_now.json()["error"]


def test_the_rate_limit_forgets_an_address_after_a_minute():
    from sync.server.app import RateLimit

    limit = RateLimit(2)
    assert [limit.allow("10.0.0.9", now) for now in (0, 1, 2)] == [True, True, False]
    assert limit.allow("10.0.0.8", 2)  # per address
    assert limit.allow("10.0.0.9", 61)


def test_a_device_name_beyond_the_cap_is_refused_at_team_creation_and_join(server):
    got = _create_team(server.url, name="n" * 1025)
    assert got.status_code == 400 and "1-1024 characters" in got.json()["error"]
    assert _create_team(server.url, name="n" * 1024).status_code == 201
    admin = make_team(server.url)
    invite_id, token = invite(admin, "member")
    newcomer = Member(server.url, admin.team, "x" * 5000)
    with refused(400, "1-1024 characters"):
        newcomer.api.post(f"/v1/teams/{admin.team}/join",
                          {"invite": invite_id, "token": crypto.b64e(token), "device": newcomer.info()})


def test_serve_refuses_a_team_rate_of_zero(cli, tmp_path):
    assert_one_line_error(cli("serve", "--data", tmp_path / "srv", "--teams-per-minute", "0"), 1,
                          "--teams-per-minute")


# -- 6. plain http:// only on this machine -----------------------------------------------------------

@pytest.mark.parametrize("url", ["https://sync.example.com", "https://10.0.0.5:8443/", "http://127.0.0.1:8765",
                                 "http://127.9.9.9:1", "http://localhost:8765", "http://[::1]:8765"])
def test_https_and_loopback_servers_are_taken(url):
    assert client.check_server_url(url) == url.rstrip("/")


@pytest.mark.parametrize("url", ["http://10.0.0.5:8765", "http://sync.example.com", "http://[2001:db8::1]:80",
                                 "http://127.0.0.1.example.com"])
def test_a_plain_http_server_elsewhere_needs_insecure(url):
    with pytest.raises(client.DulyError, match="--insecure"):
        client.check_server_url(url)
    assert client.check_server_url(url, insecure=True) == url


@pytest.mark.parametrize("url", ["ftp://sync.example.com", "sync.example.com:8765", "https://", ""])
def test_a_server_that_is_not_a_web_url_is_refused(url):
    with pytest.raises(client.DulyError, match="expected a URL"):
        client.check_server_url(url, insecure=True)


def test_sync_init_and_join_refuse_plain_http_off_this_machine_in_one_line(cli, tmp_path):
    book = tmp_path / "book.duly"
    assert cli("--ledger", book, "init").code == 0
    assert_one_line_error(cli("--ledger", book, "sync", "init", "--server", "http://10.0.0.5:8765"), 1,
                          "plain http://", "--insecure")
    assert_one_line_error(cli("--ledger", book, "sync", "status"), 1, "not set up for sync")
    target = tmp_path / "joined.duly"
    assert_one_line_error(cli("--ledger", target, "sync", "join", "--server", "http://sync.example.com",
                              "--invite", "a.b.c"), 1, "plain http://", "--insecure")
    assert not target.exists()


# -- 7. the server's own storage: backed up, restored, synced against ----------------------------------

def test_a_backup_of_the_servers_sqlite_storage_restores_into_a_new_server_and_devices_sync(cli, tmp_path):
    """The README's drill: an online backup of server.sqlite3 (SQLite's backup API, what `sqlite3 ... .backup`
    uses) while the server runs; the server is lost; a new server on the same address is started on the restored
    file; the devices sync against it and a new device joins from it."""
    from sync.server.app import ServerThread
    from sync.server.storage import SQLiteStorage

    backup = tmp_path / "duly-server-backup.sqlite3"
    with running_server("sqlite", tmp_path) as first:
        team = Team(cli, tmp_path, first)
        ok(team.run("laptop", "customer", "add", "BK", "--name", "Before The Backup"))
        for device in ("laptop", "desk", "auditor"):
            ok(team.run(device, "sync", "now"))
        with sqlite3.connect(first.storage.path) as live, sqlite3.connect(backup) as copy:
            live.backup(copy)
        port = int(first.url.rsplit(":", 1)[1])
    (tmp_path / "server").rename(tmp_path / "lost-server")  # the old server's disk is gone
    restored = tmp_path / "restored"
    restored.mkdir()
    backup.rename(restored / "server.sqlite3")
    with sqlite3.connect(restored / "server.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with ServerThread(SQLiteStorage(restored), port=port) as second:
        assert second.url == first.url
        ok(team.run("desk", "customer", "add", "AF", "--name", "After The Restore"))
        for device in ("desk", "laptop", "auditor"):
            ok(team.run(device, "sync", "now"))
        expected = {"ZQ": team.names("laptop")["ZQ"], "BK": "Before The Backup", "AF": "After The Restore"}
        assert team.names("laptop") == team.names("auditor") == expected
        code = ok(team.run("laptop", "sync", "invite", "--format", "json")).json()["invite"]
        newbox = tmp_path / "newbox.duly"
        ok(cli("--ledger", newbox, "sync", "join", "--server", second.url, "--invite", code))
        with team.ledger("laptop") as led:
            assert int(led.meta("sync.head")) >= 3
    ok(cli("--ledger", newbox, "sync", "status", "--offline"))
    from store.ledger.ledger import Ledger
    from tests.support.cli import PASSPHRASE

    with Ledger.open(newbox, PASSPHRASE) as led:
        assert {r["code"] for r in led.rows("SELECT code FROM customers")} == set(expected)


def test_devices_send_again_what_a_server_restored_from_an_older_backup_lost(cli, tmp_path):
    """Changes synced after the backup was taken are gone from the restored server; each device notices that the
    server's log ends before what it has seen, pulls from there and sends its own lost changes again."""
    from sync.server.app import ServerThread
    from sync.server.storage import SQLiteStorage

    backup = tmp_path / "older.sqlite3"
    with running_server("sqlite", tmp_path) as first:
        team = Team(cli, tmp_path, first)
        with sqlite3.connect(first.storage.path) as live, sqlite3.connect(backup) as copy:
            live.backup(copy)
        ok(team.run("laptop", "customer", "add", "L1", "--name", "Late From Laptop"))
        ok(team.run("laptop", "sync", "now"))
        ok(team.run("desk", "sync", "now"))  # the desk saw L1 before the server was lost
        ok(team.run("desk", "customer", "add", "D1", "--name", "Late From Desk"))
        ok(team.run("desk", "sync", "now"))
        port = int(first.url.rsplit(":", 1)[1])
    restored = tmp_path / "restored"
    restored.mkdir()
    backup.rename(restored / "server.sqlite3")
    with ServerThread(SQLiteStorage(restored), port=port):
        assert "sent again" in ok(team.run("laptop", "sync", "now")).out
        assert "sent again" in ok(team.run("desk", "sync", "now")).out
        for device in ("laptop", "auditor"):
            ok(team.run(device, "sync", "now"))
        expected = {"ZQ", "L1", "D1"}
        for device in ("laptop", "desk", "auditor"):
            assert set(team.names(device)) == expected, device
        ok(team.run("desk", "customer", "add", "D2", "--name", "After"))
        ok(team.run("desk", "sync", "now"))
        ok(team.run("auditor", "sync", "now"))
        assert set(team.names("auditor")) == expected | {"D2"}


def test_a_server_storage_made_before_two_step_joins_is_brought_up_to_date(tmp_path):
    from sync.server.storage import SQLiteStorage

    (tmp_path / "old").mkdir()
    with sqlite3.connect(tmp_path / "old" / "server.sqlite3") as db:
        db.execute("CREATE TABLE devices (team TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, role TEXT NOT NULL,"
                   " sign_pub TEXT NOT NULL, box_pub TEXT NOT NULL, added BIGINT NOT NULL, invited_by TEXT,"
                   " revoked BIGINT, PRIMARY KEY (team, id))")
        db.execute("INSERT INTO devices VALUES ('t1234567', 'd1', 'n', 'member', 'k', 'k', 1, 'a1', NULL)")
    storage = SQLiteStorage(tmp_path / "old")
    assert storage.device("t1234567", "d1")["joining"] is False
    SQLiteStorage(tmp_path / "old")  # a second start finds the column there


class Twice(httpx.BaseTransport):
    """The network delivers each request twice; the device gets the answer to the second copy."""

    def __init__(self):
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request):
        request.read()
        self.inner.handle_request(request).read()
        return self.inner.handle_request(request)


def test_a_request_duplicated_on_the_way_is_taken_once_and_reads_as_a_lost_answer(server):
    admin = make_team(server.url)
    direct = admin.api
    admin.api = Api(server.url, admin.team, admin.id, admin.keys, transport=Twice())
    with pytest.raises(client.Offline, match="was lost on the way"):
        admin.push(admin.envelope())
    assert direct.get(direct.team_path("/state"))["head"] == 1
    admin.api = direct
    assert admin.push(admin.envelope())["server_seqs"] == [2]
