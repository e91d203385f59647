"""Sync protocol 2: a change's operations travel compressed as the change log stores them (envelope version 2),
push requests are filled up to what the server says it takes, and a device that reads only version 1 is told to
upgrade (a 4xx) instead of calling the team's changes damaged."""
from __future__ import annotations

import json
import secrets
import zlib

import pytest

from store.ledger import packing
from store.ledger.ledger import Ledger
from store.write import customers
from sync import client, crypto
from sync.client import payload as payloads
from sync.client.api import Api
from sync.crypto import DeviceKeys
from tests.support.cli import PASSPHRASE
from tests.support.sync_server import running_server
from tests.support.sync_team import join, make_team, refused, second_device, table_digest


@pytest.fixture
def server(tmp_path):
    with running_server("sqlite", tmp_path) as backend:
        yield backend


def _big_book(path, customers_count: int = 60) -> Ledger:
    """A ledger whose change log holds envelopes long enough to be stored compressed, and short ones."""
    led = Ledger.create(path, PASSPHRASE, actor="a")
    with led.writing() as tx:  # one envelope of many operations: stored compressed
        for n in range(customers_count):
            tx.set("customers", f"c{n:04d}", code=f"K{n:04d}", name=f"客户 {n} " + "长名字" * 20, currency="CNY",
                   archived=0)
    customers.add(led, "SHORT", "one short change, stored as text")
    return led


def _stored_log(backend) -> list[dict]:
    import sqlite3

    conn = sqlite3.connect(backend.storage.path)
    try:
        return [json.loads(e) for (e,) in conn.execute("SELECT envelope FROM log ORDER BY server_seq")]
    finally:
        conn.close()


def test_a_book_is_pushed_compressed_and_a_new_device_gets_it_whole(tmp_path, server):
    a = _big_book(tmp_path / "a.duly")
    try:
        stored_compressed = a.conn.execute("SELECT count(*) FROM changes WHERE typeof(ops)='blob'").fetchone()[0]
        assert stored_compressed >= 1
        report = client.init(a, server.url, name="a")
        total = a.conn.execute("SELECT count(*) FROM changes").fetchone()[0]
        assert report.pushed == total
        log = _stored_log(server)
        assert [e["v"] for e in log] == [2] * total
        # the compressed envelope is sealed from the stored bytes: far smaller than its text would be
        text = max(len(packing.unpack(ops)) for (ops,) in a.conn.execute("SELECT ops FROM changes"))
        assert max(len(crypto.b64d(e["ciphertext"])) for e in log) < text / 2
        session = client.Sync(a)
        code = session.invite("member")
        session.close()
        # a device that joins from the log alone (no snapshot to restore: the log is what is read)
        with server.storage._tx(write=True) as run:
            run("DELETE FROM snapshots")
        b, summary = client.join(tmp_path / "b.duly", PASSPHRASE, server.url, code, name="b")
        try:
            assert summary["snapshot_chunks"] == 0 and summary["applied"] == total
            assert table_digest(b) == table_digest(a)
            assert b.conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 61
        finally:
            b.close()
    finally:
        a.close()



def _push_incompressible(led, server, batches: int) -> None:
    """`batches` transactions of 40 customers with random-looking names (they do not compress: each envelope is
    about 8 KB sealed), pushed by `sync init`: every change arrives once, in order."""
    for batch in range(batches):
        with led.writing() as tx:
            for n in range(40):
                tx.set("customers", f"c{batch}-{n}", code=f"K{batch}-{n}", name=secrets.token_urlsafe(135),
                       currency="CNY", archived=0)
    report = client.init(led, server.url, name="a")
    total = led.conn.execute("SELECT count(*) FROM changes").fetchone()[0]
    assert report.pushed == total
    assert [e["device_seq"] for e in _stored_log(server)] == list(range(1, total + 1))

def test_a_push_is_split_into_requests_the_server_takes(tmp_path):
    """A server with a small request limit says so; the device fills each request up to it, and every change
    arrives once, in order."""
    with running_server("sqlite", tmp_path, max_body=64 * 1024) as small:
        led = Ledger.create(tmp_path / "a.duly", PASSPHRASE, actor="a")
        try:
            _push_incompressible(led, small, batches=6)
        finally:
            led.close()


def test_a_device_before_protocol_2_is_told_to_upgrade_not_handed_what_it_cannot_read(server):
    admin = make_team(server.url)
    member = join(admin, "member", "desk")
    admin.push(admin.envelope(b"old", v=1))
    old = {"X-Duly-Protocol": ""}  # what a device before protocol 2 sends: nothing
    got = member.api.call("GET", member.api.team_path("/pull"), params={"after": "0", "limit": "10"}, headers=old)
    assert [c["envelope"]["v"] for c in got["changes"]] == [1]  # version 1 only: served as before
    admin.push(admin.envelope(payloads.payload(2, _change(admin), "[]", "[]"), v=2))
    admin.push(admin.envelope(b"old again", v=1))
    # the page holds a version 2 change: the old device gets what comes before it, the head beyond it
    got = member.api.call("GET", member.api.team_path("/pull"), params={"after": "0", "limit": "10"}, headers=old)
    assert [c["envelope"]["v"] for c in got["changes"]] == [1] and got["head"] == 3
    with refused(426, "upgrade Duly"):  # and asking on from there, is told to upgrade
        member.api.call("GET", member.api.team_path("/pull"), params={"after": "1", "limit": "10"}, headers=old)
    got = member.api.get(member.api.team_path("/pull"), after="0", limit="10")
    assert [c["envelope"]["v"] for c in got["changes"]] == [1, 2, 1]
    state = member.api.get(member.api.team_path("/state"))
    assert state["protocol"] == crypto.PROTOCOL and state["max_body"] > 0


def test_an_envelope_of_a_version_no_one_knows_is_refused_with_a_400(server):
    admin = make_team(server.url)
    with refused(400, "does not belong"):
        admin.push(admin.envelope(b"x", v=3))
    with refused(400, "does not belong"):
        admin.push(admin.envelope(b"x", v="2"))


def test_a_change_sent_again_in_the_newer_version_is_acknowledged_where_it_stands(server):
    """A device whose acknowledgement was lost, then upgraded, sends the change again as version 2: the server
    answers with where the first copy stands instead of refusing it as re-stamped."""
    admin = make_team(server.url)
    first = admin.envelope(b"as version 1", v=1)
    assert admin.push(first)["server_seqs"] == [1]
    again = admin.envelope(b"as version 2", v=2, seq=1, hlc=first["hlc"])
    got = admin.push(again)
    assert got["acked"] == [1] and got["server_seqs"] == [1] and got["head"] == 1


def _change(member, seq: int = 2):
    from store.ledger.changes import Change

    return Change(member.id, seq, "0190a0b0c0d1-0000-" + member.id, "x", "2026-01-01T00:00:00Z", ())


@pytest.mark.parametrize("ops", [b"z" + b"not zlib at all", b"z" + zlib.compress(b"[1,2]")[:-3],
                                 b"z" + zlib.compress(b"[]") + b"trailing", b"q" + b"[]", b"",
                                 b"z" + zlib.compress(b"\xff\xfe[]"),  # not UTF-8
                                 b"z" + zlib.compress(b"[" * 100_000 + b"]" * 100_000)],  # nested past Python's stack
                         ids=["not-zlib", "truncated", "trailing", "unknown-form", "empty", "not-utf8", "nested"])
def test_a_malformed_compressed_change_is_refused_by_the_device_that_pulls_it_and_nothing_is_applied(
        tmp_path, server, ops):
    """The server holds no key, so it stores what a device signed; the devices that open it refuse the batch with
    one line naming where it stands, and apply nothing from it."""
    a = Ledger.create(tmp_path / "a.duly", PASSPHRASE, actor="a")
    customers.add(a, "K1", "before")
    client.init(a, server.url, name="a")
    session = client.Sync(a)
    code = session.invite("member")
    b, _ = client.join(tmp_path / "b.duly", PASSPHRASE, server.url, code, name="b")
    try:
        keys = DeviceKeys.from_secret(a.meta("sync.device_keys"))
        seq = a.conn.execute("SELECT max(device_seq) FROM changes WHERE device=?", (a.device,)).fetchone()[0] + 1
        change = _change_of(a, seq)
        header = {"v": 2, "team": session.team, "device": a.device, "device_seq": seq, "key_epoch": 1,
                  "hlc": change.hlc}
        body = payloads.head_text(change).encode() + b"\n" + ops
        env = crypto.seal(session.team_key(1), header, body, keys)
        api = Api(server.url, session.team, a.device, keys)
        assert api.post(api.team_path("/push"), {"envelopes": [env]})["acked"] == [seq]
        api.close()
        before = table_digest(b)
        with pytest.raises(crypto.Tampered, match="cannot be read"):
            other = client.Sync(b)
            try:
                other.now()
            finally:
                other.close()
        assert table_digest(b) == before
    finally:
        session.close()
        b.close()
        a.close()


def _change_of(led: Ledger, seq: int):
    from store.ledger.changes import Change

    return Change(led.device, seq, str(led.clock.now()), "a", "2026-01-01T00:00:00Z", ())


def test_a_payload_that_inflates_past_the_limit_is_not_read(monkeypatch):
    monkeypatch.setattr(payloads, "MAX_OPS_TEXT", 1000)
    data = b'{"actor":"a","at":"t","device":"d","device_seq":1,"hlc":"h"}\nz' + zlib.compress(b"[" + b" " * 5000 + b"]")
    with pytest.raises(ValueError):
        payloads.read(2, data)
    monkeypatch.setattr(payloads, "MAX_OPS_TEXT", 10_000)
    assert payloads.read(2, data).ops == ()


def test_a_push_too_large_for_the_server_is_sent_again_in_requests_it_takes(tmp_path, monkeypatch):
    """A device that thinks the server takes more than it does (its limit changed between two calls) gets a 413
    naming the limit, and sends the same changes again in requests under it."""
    refresh = client.Sync.refresh

    def optimistic(self):
        state = refresh(self)
        self.push_bytes = 8 * 1024 * 1024
        return state

    monkeypatch.setattr(client.Sync, "refresh", optimistic)
    with running_server("sqlite", tmp_path, max_body=64 * 1024) as small:
        led = Ledger.create(tmp_path / "a.duly", PASSPHRASE, actor="a")
        try:
            _push_incompressible(led, small, batches=20)  # 200 KB of changes: over the limit several times
        finally:
            led.close()


@pytest.mark.parametrize("given", [b"\xb2", b"\xb9", "١٢".encode(), b"99999999999999999999", b"-2", b"+2", b"2.0"])
def test_a_protocol_header_that_is_not_a_plain_number_is_read_as_none_given_not_a_server_error(server, given):
    """X-Duly-Protocol arrives decoded as Latin-1, where '²' and '¹' count as digits to str.isdigit but not to int():
    such a value (or any other that is not ASCII digits) is read as a device that did not say, never a 500."""
    admin = make_team(server.url)
    member = join(admin, "member", "desk")
    admin.push(admin.envelope(b"old", v=1))
    pull = member.api.team_path("/pull")
    got = member.api.call("GET", pull, params={"after": "0"}, headers={"X-Duly-Protocol": given})
    assert [c["envelope"]["v"] for c in got["changes"]] == [1]
    admin.push(admin.envelope(payloads.payload(2, _change(admin), "[]", "[]"), v=2))
    with refused(426, "upgrade Duly"):
        member.api.call("GET", pull, params={"after": "1"}, headers={"X-Duly-Protocol": given})


@pytest.mark.parametrize("v", [True, 1.0, 2.0])
def test_an_envelope_version_that_only_equals_a_known_one_is_refused_with_a_400(server, v):
    """True == 1 and 2.0 == 2 in Python, but they are not envelope versions: stored, a 2.0 would pass the server's
    check for devices that read version 1 only (it looks for whole numbers) and reach them as 'damaged'."""
    admin = make_team(server.url)
    with refused(400, "does not belong"):
        admin.push(admin.envelope(b"x", v=v))
    assert admin.api.get(admin.api.team_path("/pull"), after="0", limit="10")["changes"] == []


def _crypto_of_protocol_1():
    """sync.crypto as a Duly before sync protocol 2 has it: envelope version 1 only."""
    import types

    old = types.ModuleType("crypto_v1")
    old.__dict__.update({k: v for k, v in vars(crypto).items() if not k.startswith("__")})
    old.VERSIONS, old.PROTOCOL = (1,), 1
    return old


def test_a_new_device_with_a_server_that_takes_version_1_only_sends_version_1(tmp_path, monkeypatch):
    from sync.server import app as server_app

    monkeypatch.setattr(server_app, "crypto", _crypto_of_protocol_1())
    with running_server("sqlite", tmp_path) as old_server:
        a = _big_book(tmp_path / "a.duly")
        try:
            report = client.init(a, old_server.url, name="a")
            total = a.conn.execute("SELECT count(*) FROM changes").fetchone()[0]
            assert report.pushed == total
            assert {e["v"] for e in _stored_log(old_server)} == {1}
            session = client.Sync(a)
            code = session.invite("member")
            session.close()
            b, _ = client.join(tmp_path / "b.duly", PASSPHRASE, old_server.url, code, name="b")
            try:
                customers.add(b, "B1", "from b")
                for led in (b, a):
                    s = client.Sync(led)
                    try:
                        s.now()
                    finally:
                        s.close()
                assert {e["v"] for e in _stored_log(old_server)} == {1}
                assert table_digest(a) == table_digest(b)
            finally:
                b.close()
        finally:
            a.close()


def test_a_device_before_protocol_2_pulls_what_it_reads_and_is_told_to_upgrade_at_the_first_it_cannot(
        tmp_path, server, monkeypatch):
    from sync.client import api as client_api, session as client_session

    a = Ledger.create(tmp_path / "a.duly", PASSPHRASE, actor="a")
    customers.add(a, "K1", "before")
    b = second_device(a, server.url, tmp_path / "b.duly")
    try:
        old = _crypto_of_protocol_1()
        monkeypatch.setattr(client_api, "crypto", old)
        monkeypatch.setattr(client_session, "crypto", old)
        customers.add(b, "B1", "from the old device")
        s = client.Sync(b)
        try:
            s.now()  # its own change goes out as version 1 and is taken
        finally:
            s.close()
        assert _stored_log(server)[-1]["v"] == 1
        customers.add(a, "K1B", "from a, still as version 1")  # a device's change before its upgrade
        s = client.Sync(a)
        try:
            s.now()
        finally:
            s.close()
        monkeypatch.undo()
        customers.add(a, "K2", "after, as version 2")
        s = client.Sync(a)
        try:
            s.now()
        finally:
            s.close()
        assert _stored_log(server)[-1]["v"] == 2
        assert a.conn.execute("SELECT count(*) FROM customers WHERE code='B1'").fetchone()[0] == 1
        monkeypatch.setattr(client_api, "crypto", old)
        monkeypatch.setattr(client_session, "crypto", old)
        s = client.Sync(b)
        try:
            with refused(426, "upgrade Duly"):
                s.now()
        finally:
            s.close()
        # what came before the version 2 change is applied, in the same page as it: nothing after it
        held = {code for (code,) in b.conn.execute("SELECT code FROM customers")}
        assert {"K1", "B1", "K1B"} <= held and "K2" not in held
    finally:
        b.close()
        a.close()


def test_a_pull_opens_changes_only_up_to_its_budget_and_applies_them_before_it_opens_more(tmp_path, server,
                                                                                          monkeypatch):
    """A page of 500 changes of up to 256 MiB of text each could have been opened at once; a device opens a page's
    changes until their text reaches PULL_TEXT, applies them, and opens the rest: here one change a part."""
    from sync.client import session as sessions

    a = _big_book(tmp_path / "a.duly")
    try:
        client.init(a, server.url, name="a")
        total = a.conn.execute("SELECT count(*) FROM changes").fetchone()[0]
        session = client.Sync(a)
        code = session.invite("member")
        session.close()
        with server.storage._tx(write=True) as run:
            run("DELETE FROM snapshots")  # the new device reads the whole log
        pages = []
        get = Api.get

        def counted(api, path, **params):
            if path.endswith("/pull"):
                pages.append(params["after"])
            return get(api, path, **params)

        parts = []
        apply = Ledger.apply_remote_batch

        def applied(ledger, batch):
            parts.append(len(batch))
            return apply(ledger, batch)

        monkeypatch.setattr(Api, "get", counted)
        monkeypatch.setattr(Ledger, "apply_remote_batch", applied)
        monkeypatch.setattr(sessions, "PULL_TEXT", 1)
        b, summary = client.join(tmp_path / "b.duly", PASSPHRASE, server.url, code, name="b")
        try:
            assert summary["applied"] == total
            assert pages == ["0"]  # the page asked for once: what was opened later was not sent again
            assert parts == [1] * total  # and opened one change at a time
            assert table_digest(b) == table_digest(a)
        finally:
            b.close()
    finally:
        a.close()
