"""The devices of a sync team in the tests: at the protocol level (Member: keys, signed calls, envelopes; a team
made, invited to and joined by hand) and through the command line (Team: three ledgers driven by `duly sync`),
and a digest of the synced tables to compare two devices' books."""
from __future__ import annotations

import hashlib
import json
import secrets
import time

from store.ledger.hlc import Stamp
from store.ledger.ledger import Ledger
from store.ledger.schema import SYNCED
from sync import client, crypto
from sync.client import Api, SyncError
from sync.crypto import DeviceKeys
from tests.support.cli import PASSPHRASE, ok

SECRET_NAME = "上海远航贸易有限公司 Zephyrine Quillfeather"  # a customer name no server may ever hold in plaintext


class Member:
    """A device at the protocol level: its keys, its API and the team keys it holds."""

    def __init__(self, url: str, team: str, name: str):
        self.keys = DeviceKeys.generate()
        self.id = secrets.token_hex(8)
        self.name = name
        self.api = Api(url, team, self.id, self.keys)
        self.team = team
        self.team_keys: dict[int, bytes] = {}
        self.seq = 0

    def info(self) -> dict:
        return {"id": self.id, "name": self.name, "sign_pub": self.keys.sign_pub, "box_pub": self.keys.box_pub}

    def envelope(self, payload: bytes = b'{"x":1}', *, seq: int | None = None, epoch: int = 1, hlc_ms: int | None = None,
                 v: int = 1, hlc: str | None = None):
        if seq is None:
            self.seq += 1
            seq = self.seq
        hlc = hlc or str(Stamp(hlc_ms or int(time.time() * 1000), 0, self.id))
        header = {"v": v, "team": self.team, "device": self.id, "device_seq": seq, "key_epoch": epoch, "hlc": hlc}
        return crypto.seal(self.team_keys[epoch], header, payload, self.keys)

    def push(self, *envelopes):
        return self.api.post(self.api.team_path("/push"), {"envelopes": list(envelopes)})


def make_team(url: str) -> Member:
    team = secrets.token_hex(8)
    admin = Member(url, team, "admin-laptop")
    admin.team_keys[1] = crypto.new_team_key()
    wrapped = crypto.wrap_key(admin.team_keys[1], admin.keys.box_pub, crypto.key_context(team, 1, admin.id))
    got = admin.api.post("/v1/teams", {"team": team, "device": admin.info(), "wrapped": wrapped})
    assert got["epoch"] == 1 and got["head"] == 0
    return admin


def invite(admin: Member, role: str, *, hours: float = 1) -> tuple[str, bytes]:
    secret = secrets.token_bytes(32)
    invite_id = secrets.token_hex(6)
    token, wrap = crypto.invite_secrets(secret)
    blob = crypto.b64e(crypto.box(wrap, json.dumps({"1": crypto.b64e(admin.team_keys[1])}).encode(), b"x"))
    expires = int(time.time() * 1000 + hours * 3600 * 1000)
    auth = crypto.token_hash(token)
    sig = admin.keys.signature(crypto.invite_record_message(admin.team, invite_id, role, expires, auth, blob))
    admin.api.post(admin.api.team_path("/invites"), {"id": invite_id, "auth_hash": auth, "role": role,
                                                     "expires": expires, "blob": blob, "signature": sig})
    return invite_id, token


def join(admin: Member, role: str, name: str) -> Member:
    invite_id, token = invite(admin, role)
    device = Member(admin.api.server, admin.team, name)
    got = device.api.post(f"/v1/teams/{admin.team}/join",
                          {"invite": invite_id, "token": crypto.b64e(token), "device": device.info()})
    assert got["role"] == role
    device.api.post(device.api.team_path("/join/done"), {})
    device.team_keys = dict(admin.team_keys)
    return device


def sealed_manifest(admin: Member) -> str:
    return crypto.b64e(crypto.box(admin.team_keys[1], b'{"server_seq":0}', b"manifest"))


def refused(status: int, *words):
    class Check:
        def __enter__(self):
            return self

        def __exit__(self, kind, exc, tb):
            assert kind is SyncError, f"expected a refusal with {status}, got {kind}"
            assert exc.status == status, (exc.status, str(exc))
            for word in words:
                assert word.lower() in str(exc).lower(), (word, str(exc))
            return True
    return Check()


class Team:
    """Three devices: an admin (laptop), a member (desk) and a viewer (auditor), each with its own ledger."""

    def __init__(self, cli, tmp_path, server):
        self.cli, self.server = cli, server
        self.paths = {n: tmp_path / f"{n}.duly" for n in ("laptop", "desk", "auditor")}
        assert cli("--ledger", self.paths["laptop"], "init", "--series", "L1").code == 0
        ok(cli("--ledger", self.paths["laptop"], "customer", "add", "ZQ", "--name", SECRET_NAME))
        ok(cli("--ledger", self.paths["laptop"], "sync", "init", "--server", server.url, "--name", "laptop"))
        for name, role in (("desk", "member"), ("auditor", "viewer")):
            code = ok(self.run("laptop", "sync", "invite", "--role", role, "--format", "json")).json()["invite"]
            ok(self.run(name, "sync", "join", "--server", server.url, "--invite", code, "--name", name))

    def run(self, device, *argv):
        return self.cli("--ledger", self.paths[device], *argv)

    def ledger(self, device) -> Ledger:
        return Ledger.open(self.paths[device], PASSPHRASE)

    def names(self, device) -> dict[str, str]:
        with self.ledger(device) as led:
            return {r["code"]: r["name"] for r in led.rows("SELECT code, name FROM customers ORDER BY code")}


def table_digest(ledger: Ledger) -> str:
    digest = hashlib.sha256()
    for table in sorted(SYNCED):
        for row in ledger.conn.execute(f"SELECT * FROM {table} ORDER BY id"):
            digest.update(json.dumps([table, *row], ensure_ascii=False).encode())
    return digest.hexdigest()


def sync_round_about(team) -> None:
    """laptop, desk, laptop: afterwards both have everything the other made."""
    for device in ("laptop", "desk", "laptop"):
        ok(team.run(device, "sync", "now"))


def second_device(a: Ledger, url: str, path, name: str = "b") -> Ledger:
    """`a` starts a team on the server at `url` (sync init, as device "a") and invites a member, who joins with a
    new ledger at `path` (sync join): that ledger, open; the caller closes it."""
    client.init(a, url, name="a")
    session = client.Sync(a)
    try:
        code = session.invite("member")
    finally:
        session.close()
    b, _ = client.join(path, PASSPHRASE, url, code, name=name)
    return b
