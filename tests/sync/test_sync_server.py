"""The sync server over real HTTP on loopback, against both storage backends (SQLite and a real PostgreSQL):
signed calls, roles, idempotent gapless push, pull by cursor, invites, key epochs, snapshots, limits."""
from __future__ import annotations

import hashlib
import secrets
import threading
import time

import httpx
import pytest

from sync import crypto
from sync.client import Api, SyncError
from sync.crypto import DeviceKeys
from tests.support.sync_server import BACKENDS, postgres, running_server  # noqa: F401
from tests.support.sync_team import Member, invite, join, make_team, refused, sealed_manifest


@pytest.fixture(params=BACKENDS)
def server(request, tmp_path):
    info = request.getfixturevalue("postgres") if request.param == "postgresql" else None
    with running_server(request.param, tmp_path, info, max_body=256 * 1024, keep_snapshots=2) as backend:
        yield backend


def test_health_names_the_backend(server):
    got = httpx.get(server.url + "/v1/health").json()
    assert got["ok"] is True and got["backend"] == server.kind
    assert abs(got["server_time"] - time.time() * 1000) < 60_000


def test_push_assigns_team_wide_server_seq_and_is_idempotent(server):
    admin = make_team(server.url)
    member = join(admin, "member", "desk")
    a1, a2 = admin.envelope(), admin.envelope()
    assert admin.push(a1, a2)["acked"] == [1, 2]
    m1 = member.envelope()
    got = member.push(m1)
    assert got["acked"] == [1] and got["head"] == 3
    # the same envelopes again (a lost acknowledgement): acked again, nothing stored twice
    again = admin.push(a1, a2)
    assert again["acked"] == [1, 2] and again["head"] == 3
    pulled = admin.api.get(admin.api.team_path("/pull"), after="0", limit="10")
    assert [(c["server_seq"], c["envelope"]["device"], c["envelope"]["device_seq"]) for c in pulled["changes"]] == [
        (1, admin.id, 1), (2, admin.id, 2), (3, member.id, 1)]
    assert pulled["changes"][2]["envelope"] == m1


def test_replayed_seq_with_other_content_is_refused(server):
    admin = make_team(server.url)
    admin.push(admin.envelope(b"first"))
    restamped = admin.envelope(b"second", seq=1)
    with refused(409, "replayed or re-stamped"):
        admin.push(restamped)


def test_push_that_skips_a_seq_says_which_one_is_expected(server):
    admin = make_team(server.url)
    admin.push(admin.envelope())
    with pytest.raises(SyncError, match="expects 2") as caught:
        admin.push(admin.envelope(seq=4))
    assert caught.value.status == 409 and caught.value.body["expected"] == 2


def test_pull_after_cursor_with_limit(server):
    admin = make_team(server.url)
    admin.push(*[admin.envelope() for _ in range(5)])
    got = admin.api.get(admin.api.team_path("/pull"), after="2", limit="2")
    assert [c["server_seq"] for c in got["changes"]] == [3, 4] and got["head"] == 5
    assert admin.api.get(admin.api.team_path("/pull"), after="5", limit="2")["changes"] == []


def test_calls_without_a_valid_device_signature_are_refused(server):
    admin = make_team(server.url)
    path = f"/v1/teams/{admin.team}/pull"
    plain = httpx.get(server.url + path)
    assert plain.status_code == 401 and "not registered" in plain.json()["error"]
    forger = Api(server.url, admin.team, admin.id, DeviceKeys.generate())  # right id, wrong key
    with refused(401, "signature"):
        forger.get(path)
    stranger = Api(server.url, admin.team, "feedbeef", DeviceKeys.generate())
    with refused(401, "not registered"):
        stranger.get(path)
    stamp = str(int(time.time() * 1000) - 10 * 60 * 1000)  # a request signed 10 minutes ago (a replay)
    sig = admin.keys.signature(crypto.request_message("GET", path, admin.team, admin.id, stamp, b""))
    old = httpx.get(server.url + path, headers={"X-Duly-Device": admin.id, "X-Duly-Time": stamp,
                                                "X-Duly-Signature": sig})
    assert old.status_code == 401 and "minutes off" in old.json()["error"]


def test_viewer_reads_but_its_push_is_refused(server):
    admin = make_team(server.url)
    admin.push(admin.envelope())
    viewer = join(admin, "viewer", "auditor")
    assert len(viewer.api.get(viewer.api.team_path("/pull"))["changes"]) == 1
    with refused(403, viewer.id, "viewer"):  # by id: device names are sealed, the server cannot read them
        viewer.push(viewer.envelope())
    with refused(403, "admin"):
        invite(viewer, "member")


def test_tampered_envelope_is_refused_at_push(server):
    admin = make_team(server.url)
    env = admin.envelope()
    raw = bytearray(crypto.b64d(env["ciphertext"]))
    raw[3] ^= 1
    env["ciphertext"] = crypto.b64e(bytes(raw))
    with refused(400, "signature"):
        admin.push(env)
    assert admin.api.get(admin.api.team_path("/state"))["head"] == 0


def test_clock_more_than_five_minutes_ahead_is_refused_naming_the_device(server):
    admin = make_team(server.url)
    future = admin.envelope(hlc_ms=int(time.time() * 1000) + 7 * 60 * 1000)
    with refused(422, admin.id, "7 minutes ahead"):
        admin.push(future)


def test_invites_are_one_time_and_cannot_be_forged(server):
    admin = make_team(server.url)
    invite_id, token = invite(admin, "member")
    newcomer = Member(server.url, admin.team, "new")
    body = {"invite": invite_id, "token": crypto.b64e(b"x" * 32), "device": newcomer.info()}
    with refused(403, "not valid"):
        newcomer.api.post(f"/v1/teams/{admin.team}/join", body)
    body["token"] = crypto.b64e(token)
    newcomer.api.post(f"/v1/teams/{admin.team}/join", body)
    newcomer.api.post(newcomer.api.team_path("/join/done"), {})  # the join is complete: the invite is spent
    second = Member(server.url, admin.team, "second")
    with refused(403, "already used"):
        second.api.post(f"/v1/teams/{admin.team}/join", {**body, "device": second.info()})
    # an invite record not signed by the admin's key is refused when it is made
    forged = {"id": "abc", "auth_hash": "0" * 64, "role": "admin", "expires": 2**40, "blob": "x",
              "signature": DeviceKeys.generate().signature(b"anything")}
    with refused(400, "signature"):
        admin.api.post(admin.api.team_path("/invites"), forged)


def test_expired_invite_is_refused(server):
    admin = make_team(server.url)
    invite_id, token = invite(admin, "member", hours=-1)
    newcomer = Member(server.url, admin.team, "late")
    with refused(403, "expired"):
        newcomer.api.post(f"/v1/teams/{admin.team}/join",
                          {"invite": invite_id, "token": crypto.b64e(token), "device": newcomer.info()})


def test_revoked_device_is_blocked_and_a_new_epoch_must_cover_the_others(server):
    admin = make_team(server.url)
    member = join(admin, "member", "desk")
    gone = join(admin, "member", "stolen-phone")
    admin.api.post(admin.api.team_path(f"/devices/{gone.id}/revoke"), {})
    with refused(403, "removed"):
        gone.api.get(gone.api.team_path("/pull"))
    key2 = crypto.new_team_key()
    only_admin = {admin.id: crypto.wrap_key(key2, admin.keys.box_pub, crypto.key_context(admin.team, 2, admin.id))}
    with refused(409, member.id):
        admin.api.post(admin.api.team_path("/epochs"), {"epoch": 2, "wraps": only_admin})
    wraps = {**only_admin, member.id: crypto.wrap_key(key2, member.keys.box_pub,
                                                      crypto.key_context(admin.team, 2, member.id))}
    with refused(409, "does not follow"):
        admin.api.post(admin.api.team_path("/epochs"), {"epoch": 3, "wraps": wraps})
    admin.api.post(admin.api.team_path("/epochs"), {"epoch": 2, "wraps": wraps})
    got = member.api.get(member.api.team_path("/keys"))
    assert got["epoch"] == 2
    assert crypto.unwrap_key(got["keys"]["2"], member.keys, crypto.key_context(admin.team, 2, member.id)) == key2
    with refused(409, "epoch 1"):
        member.push(member.envelope(epoch=1))
    member.team_keys[2] = key2
    assert member.push(member.envelope(seq=1, epoch=2))["acked"] == [1]


def test_a_change_resent_under_a_new_key_epoch_after_a_lost_ack_is_acknowledged_once(server):
    """The device pushed change 1, the acknowledgement was lost, a new key epoch began, and the device sends change
    1 again sealed under the new key: acknowledged with its first server_seq, stored once. The same position with
    another clock stamp is still a re-stamped change."""
    admin = make_team(server.url)
    hlc_ms = int(time.time() * 1000)
    first = admin.envelope(b'{"x":1}', seq=1, hlc_ms=hlc_ms)
    assert admin.push(first)["server_seqs"] == [1]
    admin.team_keys[2] = crypto.new_team_key()
    admin.api.post(admin.api.team_path("/epochs"), {"epoch": 2, "wraps": {
        admin.id: crypto.wrap_key(admin.team_keys[2], admin.keys.box_pub, crypto.key_context(admin.team, 2, admin.id))}})
    again = admin.envelope(b'{"x":1}', seq=1, epoch=2, hlc_ms=hlc_ms)
    got = admin.push(again)
    assert (got["acked"], got["server_seqs"], got["head"]) == ([1], [1], 1)
    with refused(409, "re-stamped"):
        admin.push(admin.envelope(b'{"x":1}', seq=1, epoch=2, hlc_ms=hlc_ms + 1))
    pulled = admin.api.get(admin.api.team_path("/pull"), after="0", limit="10")["changes"]
    assert [c["envelope"]["key_epoch"] for c in pulled] == [1]


def test_request_size_limit_gives_a_json_error(server):
    admin = make_team(server.url)
    big = crypto.canonical({"envelopes": [], "pad": "x" * (300 * 1024)})
    with refused(413, "over the limit"):
        admin.api.call("POST", admin.api.team_path("/push"), body=big)


def test_unknown_route_and_bad_json_give_json_errors(server):
    missing = httpx.get(server.url + "/v1/nothing")
    assert missing.status_code == 404 and "error" in missing.json()
    slashed = httpx.get(server.url + "/v1/health/")  # no redirect to another path: no such route
    assert slashed.status_code == 404 and "error" in slashed.json()
    admin = make_team(server.url)
    with refused(400, "not JSON"):
        admin.api.call("POST", admin.api.team_path("/push"), body=b"{nope")


def test_snapshot_chunks_are_content_addressed_and_only_the_newest_are_kept(server):
    admin = make_team(server.url)
    from sync.protocol import snapshot_message

    def snapshot(data: bytes) -> tuple[str, str]:
        sealed = crypto.box(admin.team_keys[1], data, b"chunk", deterministic=True)
        cid = hashlib.sha256(sealed).hexdigest()
        admin.api.call("PUT", admin.api.team_path(f"/chunks/{cid}"), body=sealed)
        record = {"id": secrets.token_hex(4), "server_seq": 0, "chunks": [cid], "manifest": sealed_manifest(admin),
                  "epoch": 1, "device": admin.id}
        record["signature"] = admin.keys.signature(snapshot_message(admin.team, record))
        admin.api.post(admin.api.team_path("/snapshots"), record)
        return record["id"], cid

    with refused(400, "content address"):
        admin.api.call("PUT", admin.api.team_path(f"/chunks/{'0' * 64}"), body=b"abc")
    first = snapshot(b"one")
    second = snapshot(b"two")
    third = snapshot(b"three")
    latest = admin.api.get(admin.api.team_path("/snapshots/latest"))
    assert latest["id"] == third[0]
    assert admin.api.call("GET", admin.api.team_path(f"/chunks/{second[1]}"), raw=True)
    with refused(404, "no chunk"):  # keep_snapshots=2: the oldest snapshot and its chunk are gone
        admin.api.call("GET", admin.api.team_path(f"/chunks/{first[1]}"), raw=True)
    record = {"id": "bad", "server_seq": 0, "chunks": ["f" * 64], "manifest": sealed_manifest(admin), "epoch": 1,
              "device": admin.id}
    record["signature"] = admin.keys.signature(snapshot_message(admin.team, record))
    with refused(409, "does not have"):
        admin.api.post(admin.api.team_path("/snapshots"), record)


def test_concurrent_pushes_get_unique_gapless_server_seqs(server):
    admin = make_team(server.url)
    devices = [join(admin, "member", f"d{i}") for i in range(6)]
    errors = []

    def work(device):
        try:
            for _ in range(15):
                device.push(device.envelope())
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(d,)) for d in devices]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    seen = []
    after = 0
    while True:
        got = admin.api.get(admin.api.team_path("/pull"), after=str(after), limit="40")
        if not got["changes"]:
            break
        seen += [(c["server_seq"], c["envelope"]["device"], c["envelope"]["device_seq"]) for c in got["changes"]]
        after = seen[-1][0]
    assert [s for s, _, _ in seen] == list(range(1, 91))
    for device in devices:
        assert [q for _, d, q in seen if d == device.id] == list(range(1, 16))


def test_two_server_processes_on_one_postgresql_database_share_one_gapless_log(postgres, tmp_path):
    """Behind a load balancer: pushes alternate between two servers on one database; server_seq stays one
    gapless team-wide sequence and each device's changes are stored once."""
    from sync.server.app import ServerThread
    from sync.server.storage import PostgresStorage
    from tests.support.sync_server import fresh_database

    url = fresh_database(postgres[0])
    with ServerThread(PostgresStorage(url)) as one, ServerThread(PostgresStorage(url)) as two:
        admin = make_team(one.url)
        devices = [join(admin, "member", f"lb{i}") for i in range(4)]
        apis = {}
        for n, device in enumerate(devices):
            apis[device.id] = [Api(s.url, admin.team, device.id, device.keys) for s in (one, two)]
        errors = []

        def work(device):
            try:
                for i in range(12):
                    env = device.envelope()
                    api = apis[device.id][i % 2]
                    assert api.post(api.team_path("/push"), {"envelopes": [env]})["acked"] == [env["device_seq"]]
                    if i % 3 == 0:  # a lost answer: the same envelope again, through the other server
                        other = apis[device.id][(i + 1) % 2]
                        assert other.post(other.team_path("/push"), {"envelopes": [env]})["acked"] == [env["device_seq"]]
            except Exception as exc:  # collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(d,)) for d in devices]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        got = admin.api.get(admin.api.team_path("/pull"), after="0", limit="1000")
        assert [c["server_seq"] for c in got["changes"]] == list(range(1, 49)) and got["head"] == 48
        for device in devices:
            assert [c["envelope"]["device_seq"] for c in got["changes"] if c["envelope"]["device"] == device.id] == \
                list(range(1, 13))
