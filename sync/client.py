"""The device side of sync (DESIGN §4): seal this device's changes, push them, pull and open the others',
apply them through the ledger's one write path, flag what needs review, snapshot for new devices.

State lives in the ledger's `meta` table (inside the encrypted file) under `sync.*` keys: server, team,
device keys, role, epoch keys, the pull cursor and the last pushed device_seq. Changes queue in the change
log while offline and go out at the next `sync now`.
"""
from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import secrets
import socket
import string
import tempfile
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

import httpx

from store.ledger import backup, changes, db, schema
from store.ledger.changes import Change, MalformedChange
from store.errors import ClockSkew, DulyError
from store.ledger.hlc import MAX_DRIFT_MS, Stamp
from store.ledger.ledger import Ledger
from sync import crypto, merge
from sync.crypto import DeviceKeys, Tampered

PUSH_BATCH = 500
PUSH_BYTES = 4 * 1024 * 1024
PULL_LIMIT = 500
CHUNK_BYTES = 1024 * 1024
SNAPSHOT_EVERY = 5000  # changes on the server since the newest snapshot before `sync now` makes another
INVITE_HOURS = 72


class SyncError(DulyError):
    """The server refused a call; str() is its message."""

    def __init__(self, message: str, status: int = 0, body: dict | None = None):
        super().__init__(message)
        self.status = status
        self.body = body or {}


class Offline(DulyError):
    """The server cannot be reached; local changes stay queued."""


class NotSynced(DulyError):
    """This ledger is not set up for sync."""


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _now_ms() -> int:
    return int(time.time() * 1000)


class Api:
    """Signed HTTP calls to one team on one server."""

    def __init__(self, server: str, team: str, device: str, keys: DeviceKeys, *, transport=None,
                 timeout: float = 30.0):
        self.server = server.rstrip("/")
        self.team, self.device, self.keys = team, device, keys
        self._transport, self._timeout = transport, timeout
        self.names: dict[str, str] = {}  # device id -> name, to say which device a refusal is about
        self._http: httpx.Client | None = None  # made on the first call: a Client costs ~50 ms (its SSL context),
        # which a status read that never calls the server (the app's indicator) should not pay

    def clone(self) -> "Api":
        """The same identity on its own connection pool, for another thread."""
        return Api(self.server, self.team, self.device, self.keys, transport=self._transport, timeout=self._timeout)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(base_url=self.server, transport=self._transport, timeout=self._timeout)
        return self._http

    def call(self, method: str, path: str, *, body: bytes = b"", params: dict | None = None,
             raw: bool = False, content_type: str = "application/json", headers: dict | None = None):
        url = httpx.URL(self.server + path, params=params)
        signed_path = url.raw_path.decode()
        stamp = str(_now_ms())
        nonce = secrets.token_urlsafe(16)  # the server accepts each signed request once
        message = crypto.request_message(method, signed_path, self.team, self.device, stamp, body, nonce)
        headers = {"X-Duly-Device": self.device, "X-Duly-Time": stamp, "X-Duly-Nonce": nonce,
                   "X-Duly-Signature": self.keys.signature(message), "Content-Type": content_type, **(headers or {})}
        try:
            response = self.http.request(method, url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise Offline(f"cannot reach the sync server at {self.server} ({type(exc).__name__}: {exc}); "
                          "local changes stay queued for the next `duly sync now`") from None
        if response.status_code >= 400:
            try:
                found = response.json()
                text = found.get("error") or response.text
            except ValueError:
                found, text = {}, response.text[:200]
            if response.status_code == 409 and found.get("replayed") is True:
                # This very request reached the server twice (a copy made on the way) and this is the answer to
                # the copy: the first was taken, its answer lost. Like a lost answer, the next sync carries on.
                raise Offline(f"the answer of the sync server at {self.server} was lost on the way (it received "
                              "this request twice); local changes stay queued for the next `duly sync now`")
            about = found.get("device")
            if about in self.names:  # the server knows devices by id only (their names are sealed)
                text = text.replace(f"device {about}", f"device {self.names[about]} ({about})", 1)
            raise SyncError(f"the sync server refused: {text}", response.status_code, found)
        return response.content if raw else response.json()

    def get(self, path: str, **params):
        return self.call("GET", path, params=params or None)

    def post(self, path: str, obj: dict, *, headers: dict | None = None):
        return self.call("POST", path, body=crypto.canonical(obj), headers=headers)

    def team_path(self, rest: str) -> str:
        return f"/v1/teams/{self.team}{rest}"


@dataclass
class Report:
    pushed: int = 0
    pulled: int = 0
    applied: int = 0
    flagged: int = 0
    head: int = 0
    snapshot: str | None = None
    resent: int = 0  # own changes sent again because the server's log had gone back (restored from a backup)


class Sync:
    """One ledger's sync session."""

    def __init__(self, ledger: Ledger, *, transport=None, server: str | None = None):
        self.ledger = ledger
        if not ledger.meta("sync.team"):
            raise NotSynced(f"ledger {ledger.path} is not set up for sync: run `duly sync init --server URL` "
                            "or create it with `duly sync join`")
        self.team = ledger.meta("sync.team")
        self.keys = DeviceKeys.from_secret(ledger.meta("sync.device_keys"))
        self.api = Api(server or ledger.meta("sync.server"), self.team, ledger.device, self.keys, transport=transport)
        self.devices: dict[str, dict] = {}

    def close(self) -> None:
        self.api.close()

    # -- keys and team state ---------------------------------------------------------------------
    def team_key(self, epoch: int) -> bytes:
        found = self.ledger.meta(f"sync.key.{epoch}")
        if found is None:
            self.fetch_keys()
            found = self.ledger.meta(f"sync.key.{epoch}")
        if found is None:
            raise SyncError(f"this device has no team key for epoch {epoch}; it may have been removed from the team")
        return crypto.b64d(found)

    def fetch_keys(self) -> int:
        got = self.api.get(self.api.team_path("/keys"))
        found = open_wraps(self.team, self.ledger.device, self.keys, got["keys"], self._epoch_keys())
        for epoch, key in found.items():
            self.ledger.set_meta(f"sync.key.{epoch}", key)
        self.ledger.set_meta("sync.epoch", str(got["epoch"]))
        return got["epoch"]

    def refresh(self) -> dict:
        before = _now_ms()
        state = self.api.get(self.api.team_path("/state"))
        after = _now_ms()
        if int(self.ledger.meta("sync.epoch") or 0) < state["epoch"] or self.ledger.meta(f"sync.key.{state['epoch']}") is None:
            self.fetch_keys()
        keys = self._epoch_keys()
        mine = next((d for d in state["devices"] if d["id"] == self.ledger.device), None)
        if mine is not None and mine["name"] != "(joining)" and not mine["name"].startswith(_SEALED):
            # a name this device registered before names were sealed: seal it now
            mine["name"] = _name_device(self.api, mine["name"][:NAME_CHARS], keys)
        self.devices = {d["id"]: {**d, "name": open_name(self.team, d, keys)} for d in state["devices"]}
        self.api.names = {d: v["name"] for d, v in self.devices.items()}
        self._set_meta({"sync.role": state["you"]["role"], "sync.head": str(state["head"]),
                        "sync.clock_offset_ms": str(state["server_time"] - (before + after) // 2),
                        "sync.devices": json.dumps({d: v["name"] for d, v in self.devices.items()})})
        return state

    def _epoch_keys(self) -> dict[str, str]:
        return {e.rsplit(".", 1)[1]: v for (e,) in self.ledger.conn.execute(
            "SELECT key FROM meta WHERE key LIKE 'sync.key.%'") if (v := self.ledger.meta(e))}

    def _set_meta(self, values: dict[str, str]) -> None:
        """Several sync.* values in one transaction (one commit, not one each)."""
        self.ledger.conn.execute("BEGIN IMMEDIATE")
        try:
            for key, value in values.items():
                self.ledger.set_meta(key, value)
            self.ledger.conn.execute("COMMIT")
        except BaseException:
            self.ledger.conn.execute("ROLLBACK")
            raise

    def device_name(self, device: str) -> str:
        found = self.devices.get(device)
        return f"{found['name']} ({device})" if found else device

    # -- push ------------------------------------------------------------------------------------
    def pending(self) -> int:
        pushed = int(self.ledger.meta("sync.pushed") or 0)
        return self.ledger.conn.execute("SELECT count(*) FROM changes WHERE device=? AND device_seq>?",
                                        (self.ledger.device, pushed)).fetchone()[0]

    def seal(self, change: Change, epoch: int) -> dict:
        header = {"v": crypto.VERSION, "team": self.team, "device": change.device, "device_seq": change.device_seq,
                  "key_epoch": epoch, "hlc": change.hlc}
        return crypto.seal(self.team_key(epoch), header, change.body().encode(), self.keys)

    def push(self) -> int:
        """Send this device's changes the server has not acknowledged; returns how many went out."""
        sent = 0
        retries = 0
        while True:
            pushed = int(self.ledger.meta("sync.pushed") or 0)
            rows = self.ledger.conn.execute(
                "SELECT device, device_seq, hlc, actor, at, ops FROM changes WHERE device=? AND device_seq>? "
                "ORDER BY device_seq LIMIT ?", (self.ledger.device, pushed, PUSH_BATCH)).fetchall()
            if not rows:
                return sent
            epoch = int(self.ledger.meta("sync.epoch"))
            envelopes, size = [], 0
            for row in rows:
                env = self.seal(changes.row_to_change(row), epoch)
                size += len(env["ciphertext"]) + 400
                if envelopes and size > PUSH_BYTES:
                    break
                envelopes.append(env)
            try:
                got = self.api.post(self.api.team_path("/push"), {"envelopes": envelopes})
            except SyncError as exc:
                retries += 1
                if retries > 3:
                    raise
                if exc.status == 409 and "expected" in exc.body:
                    self.ledger.set_meta("sync.pushed", str(exc.body["expected"] - 1))
                    continue
                if exc.status == 409 and "epoch" in exc.body:
                    self.fetch_keys()
                    continue
                raise
            acked = got["acked"]
            self._record_acks(list(zip(acked, got["server_seqs"])), got["head"])
            sent += len(acked)

    def _record_acks(self, acked: list[tuple[int, int]], head: int) -> None:
        """Note where the server put this device's changes; when they directly follow the pull cursor (nobody
        else pushed in between) the cursor moves past them, so the next pull does not fetch them back."""
        conn = self.ledger.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany("UPDATE changes SET server_seq=? WHERE device=? AND device_seq=?",
                             [(server_seq, self.ledger.device, seq) for seq, server_seq in acked])
            cursor = int(self.ledger.meta("sync.cursor") or 0)
            placed = {server_seq for _, server_seq in acked}
            while cursor + 1 in placed:
                cursor += 1
            self.ledger.set_meta("sync.cursor", str(cursor))
            self.ledger.set_meta("sync.pushed", str(max(seq for seq, _ in acked)))
            self.ledger.set_meta("sync.head", str(head))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    # -- pull ------------------------------------------------------------------------------------
    def open_change(self, item: dict) -> Change:
        """Check, decrypt and read one pulled envelope; raise Tampered / MalformedChange naming it."""
        env, server_seq = item["envelope"], item["server_seq"]
        device = self.devices.get(env.get("device"))
        if device is None:
            self.refresh()
            device = self.devices.get(env.get("device"))
        if device is None:
            raise Tampered(f"change at server position {server_seq} names device {env.get('device')}, "
                           "which is not in the team")
        if env.get("team") != self.team:
            raise Tampered(f"change at server position {server_seq} belongs to another team")
        try:
            payload = crypto.open_envelope(env, self.team_key(env["key_epoch"]), device["sign_pub"])
            body = json.loads(payload)
            change = Change(body["device"], body["device_seq"], body["hlc"], body["actor"], body["at"],
                            tuple(changes.Op.from_json(o) for o in body["ops"]))
        except Tampered as exc:
            raise Tampered(f"{exc} (server position {server_seq}); nothing from this batch was applied") from None
        except (ValueError, KeyError, TypeError, MalformedChange):
            raise Tampered(f"change at server position {server_seq} from {self.device_name(env.get('device'))} "
                           "cannot be read; nothing from this batch was applied") from None
        if (change.device, change.device_seq, change.hlc) != (env["device"], env["device_seq"], env["hlc"]):
            raise Tampered(f"change at server position {server_seq} was re-stamped: its header does not match "
                           "its sealed content; nothing from this batch was applied")
        return change

    def check_batch(self, batch: list[tuple[int, Change]]) -> None:
        """Refuse the whole batch if any change is from the future or replays a known change differently."""
        wall = self.ledger.clock._wall()  # this device's clock, the one the ledger stamps with
        known: dict[str, int] = {}
        for _, change in batch:
            ahead = Stamp.parse(change.hlc).ms - wall
            if ahead > MAX_DRIFT_MS:
                raise ClockSkew(f"device {self.device_name(change.device)}'s clock is {ahead / 60000:.0f} minutes "
                                "ahead of this one; fix its clock and sync again (nothing from this batch was applied)")
            if change.device not in known:
                known[change.device] = self.ledger.conn.execute(
                    "SELECT coalesce(max(device_seq), 0) FROM changes WHERE device=?", (change.device,)).fetchone()[0]
            if change.device_seq > known[change.device]:
                continue  # new to this device: nothing to compare with
            row = self.ledger.conn.execute("SELECT prev_hash, hash FROM changes WHERE device=? AND device_seq=?",
                                           (change.device, change.device_seq)).fetchone()
            if row is not None and changes.chain_hash(row[0], change.body()) != row[1]:
                raise Tampered(f"change {change.device_seq} from {self.device_name(change.device)} arrived again "
                               "with different content (replayed or re-stamped); nothing from this batch was applied")

    def pull(self, report: Report) -> None:
        while True:
            cursor = int(self.ledger.meta("sync.cursor") or 0)
            got = self.api.get(self.api.team_path("/pull"), after=str(cursor), limit=str(PULL_LIMIT))
            report.head = got["head"]
            items = got["changes"]
            if not items:
                self.ledger.set_meta("sync.head", str(got["head"]))
                return
            batch = [(item["server_seq"], self.open_change(item)) for item in items]
            self.check_batch(batch)
            report.applied += self.ledger.apply_remote_batch([change for _, change in batch])
            report.pulled += len(batch)
            self.ledger.conn.execute("BEGIN IMMEDIATE")
            try:
                self.ledger.conn.executemany(
                    "UPDATE changes SET server_seq=? WHERE device=? AND device_seq=?",
                    [(seq, c.device, c.device_seq) for seq, c in batch])
                self.ledger.set_meta("sync.cursor", str(batch[-1][0]))
                self.ledger.set_meta("sync.head", str(got["head"]))
                self.ledger.conn.execute("COMMIT")
            except BaseException:
                self.ledger.conn.execute("ROLLBACK")
                raise
            if batch[-1][0] >= got["head"]:
                return  # caught up: no need to ask again

    # -- one round -------------------------------------------------------------------------------
    def now(self, *, snapshot: bool = False) -> Report:
        """Pull, flag, push, and snapshot when asked or when the log has grown far past the last one."""
        report = Report()
        state = self.refresh()
        admin = self.ledger.meta("sync.role") == "admin"
        if snapshot and not admin:
            raise SyncError(f"only an admin device uploads the team's snapshots; this device is a "
                            f"{self.ledger.meta('sync.role')} (run `duly sync now` without --snapshot)", 403)
        if state["head"] < int(self.ledger.meta("sync.cursor") or 0):
            report.resent = self.catch_up_with_restored_server(state["head"])
        self.pull(report)
        names = {d: v["name"] for d, v in self.devices.items()}
        report.flagged = merge.scan(self.ledger, names, {d: v["role"] for d, v in self.devices.items()})
        if self.pending():
            if self.ledger.meta("sync.role") == "viewer":
                raise SyncError(f"this device ({self.ledger.device}) is a viewer: its {self.pending()} local "
                                "change(s) cannot be sent; the team's changes were pulled", 403)
            report.pushed = self.push()
        report.head = int(self.ledger.meta("sync.head") or report.head)
        last_snap = (state.get("snapshot") or {}).get("server_seq", -SNAPSHOT_EVERY)
        if admin and (snapshot or report.head - last_snap >= SNAPSHOT_EVERY):
            report.snapshot = self.upload_snapshot()
        self.ledger.set_meta("sync.last_sync", _now_iso())
        return report

    def catch_up_with_restored_server(self, head: int) -> int:
        """The server's log ends before what this device has seen: its storage was restored from an older backup.
        Pull again from where the server now ends, and send again this device's changes it no longer has (each
        device does the same, so the team's log is whole again). Returns how many will be sent again."""
        mine = self.ledger.conn.execute(
            "SELECT min(device_seq), count(*) FROM changes WHERE device=? AND server_seq>?",
            (self.ledger.device, head)).fetchone()
        values = {"sync.cursor": str(head), "sync.head": str(head)}
        if mine[0] is not None:
            values["sync.pushed"] = str(min(int(self.ledger.meta("sync.pushed") or 0), mine[0] - 1))
        self._set_meta(values)
        return int(mine[1])

    # -- snapshots -------------------------------------------------------------------------------
    def upload_snapshot(self) -> str:
        """An encrypted copy of the whole ledger, minus this device's secrets, in content-addressed chunks."""
        epoch = int(self.ledger.meta("sync.epoch"))
        key = self.team_key(epoch)
        cursor = int(self.ledger.meta("sync.cursor") or 0)
        # A random 256-bit raw key (SQLCipher's x'..' form): no passphrase stretching is needed for it.
        file_pass = f"x'{secrets.token_hex(32)}'"
        with tempfile.TemporaryDirectory(prefix="duly-snap-") as tmp:
            path = Path(tmp) / "snapshot.duly"
            db.backup_to(self.ledger.conn, path, file_pass)
            _strip_device_secrets(path, file_pass)
            data = path.read_bytes()
        chunk_ids = []
        aad = f"{self.team}/snapshot-chunk".encode()
        for start in range(0, max(len(data), 1), CHUNK_BYTES):
            sealed = crypto.box(key, data[start:start + CHUNK_BYTES], aad, deterministic=True)
            chunk_id = hashlib.sha256(sealed).hexdigest()
            self.api.call("PUT", self.api.team_path(f"/chunks/{chunk_id}"), body=sealed,
                          content_type="application/octet-stream")
            chunk_ids.append(chunk_id)
        snap_id = secrets.token_hex(8)
        manifest = {"passphrase": file_pass, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
                    "ledger_id": self.ledger.meta("ledger_id"), "server_seq": cursor}
        sealed_manifest = crypto.b64e(crypto.box(key, crypto.canonical(manifest), _manifest_aad(self.team, snap_id)))
        record = {"id": snap_id, "server_seq": cursor, "chunks": chunk_ids, "manifest": sealed_manifest,
                  "epoch": epoch, "device": self.ledger.device}
        from sync.protocol import snapshot_message

        record["signature"] = self.keys.signature(snapshot_message(self.team, record))
        self.api.post(self.api.team_path("/snapshots"), record)
        self.ledger.set_meta("sync.snapshot", snap_id)
        return snap_id

    # -- team administration ---------------------------------------------------------------------
    def invite(self, role: str, hours: int = INVITE_HOURS) -> str:
        """A one-time code for a new device; the server learns only a hash of its token."""
        if role not in ("admin", "member", "viewer"):
            raise DulyError(f"role {role!r} is not one of admin, member, viewer")
        self.refresh()
        keys = {}
        for (name,) in self.ledger.conn.execute("SELECT key FROM meta WHERE key LIKE 'sync.key.%'"):
            keys[name.rsplit(".", 1)[1]] = self.ledger.meta(name)
        return _post_invite(self.api, role, keys, hours)

    def recovery(self) -> str:
        """A recovery secret to print and keep offline: an admin device that lives on paper (registered like any
        device, so every new key epoch is wrapped for it too). `sync join --invite SECRET` on a new machine
        brings the book back when every device is lost; `sync revoke` with its id or name retires it."""
        if self.ledger.meta("sync.role") != "admin":
            raise DulyError(f"only an admin device can make a recovery secret; this device is a "
                            f"{self.ledger.meta('sync.role')}")
        seed = secrets.token_bytes(32)
        keys = crypto.DeviceKeys.from_seed(seed)
        code = self.invite("admin", hours=1)
        team, invite_id, secret = parse_invite(code)
        token, wrap = crypto.invite_secrets(secret)
        device_id = _recovery_device_id(seed)
        device = {"id": device_id, "name": "(joining)", "sign_pub": keys.sign_pub, "box_pub": keys.box_pub}
        api = Api(self.api.server, team, device_id, keys, transport=self.api._transport)
        try:
            got = api.post(f"/v1/teams/{team}/join", {"invite": invite_id, "token": crypto.b64e(token), "device": device})
            epoch_keys = json.loads(crypto.unbox(wrap, crypto.b64d(got["blob"]), _invite_aad(team, invite_id),
                                                 "the invite's team keys"))["keys"]
            with _withdrawn_on_failure(api):
                _keep_keys(api, keys, epoch_keys)
                _name_device(api, f"recovery {_now_iso()[:10]} {device_id[:6]}", epoch_keys)
                api.post(api.team_path("/join/done"), {})
        finally:
            api.close()
        return f"{team}.{RECOVERY}.{crypto.b64e(seed)}"

    def revoke(self, device: str) -> int:
        """Block a device on the server and start a new key epoch for everyone else; returns the epoch."""
        self.refresh()
        if device not in self.devices:
            matches = [d for d, v in self.devices.items() if v["name"] == device]
            if len(matches) != 1:
                raise DulyError(f"no single device named {device!r} in this team: see `duly sync status`")
            device = matches[0]
        self.api.post(self.api.team_path(f"/devices/{device}/revoke"), {})
        state = self.refresh()
        epoch = state["epoch"] + 1
        key = crypto.new_team_key()
        previous = crypto.b64e(self.team_key(state["epoch"]))
        wraps = {d: _proved(crypto.wrap_key(key, v["box_pub"], crypto.key_context(self.team, epoch, d)),
                            self.team, epoch, key, previous)
                 for d, v in self.devices.items() if v["revoked"] is None}
        self.api.post(self.api.team_path("/epochs"), {"epoch": epoch, "wraps": wraps})
        self.ledger.set_meta(f"sync.key.{epoch}", crypto.b64e(key))
        self.ledger.set_meta("sync.epoch", str(epoch))
        return epoch

    def status(self, *, online: bool = True) -> dict:
        reachable = None
        if online:
            try:
                self.refresh()
                reachable = True
            except Offline:
                reachable = False
        meta = self.ledger.meta
        names = json.loads(meta("sync.devices") or "{}")
        return {
            "server": meta("sync.server"), "team": self.team, "device": self.ledger.device,
            "device_name": names.get(self.ledger.device, ""), "role": meta("sync.role"),
            "reachable": reachable, "last_sync": meta("sync.last_sync"), "pending": self.pending(),
            "cursor": int(meta("sync.cursor") or 0), "server_head": int(meta("sync.head") or 0),
            "key_epoch": int(meta("sync.epoch") or 0),
            "clock_offset_ms": int(meta("sync.clock_offset_ms") or 0),
            "devices": len(names), "needs_review": len(merge.open_flags(self.ledger)),
        }


RECOVERY = "recovery"  # the middle part of a recovery secret, where an invite has its id
_SEALED = "sealed:"


def _name_aad(team: str, device_id: str) -> bytes:
    return f"{team}/device-name/{device_id}".encode()


def sealed_name(team: str, device_id: str, name: str, epoch_keys: dict[str, str]) -> str:
    """A device name as the server stores it: sealed under the newest team key the device has, so the server
    sees no host or person names either."""
    epoch = max(epoch_keys, key=int)
    box = crypto.box(crypto.b64d(epoch_keys[epoch]), name.encode(), _name_aad(team, device_id))
    return f"{_SEALED}{epoch}:{crypto.b64e(box)}"


def open_name(team: str, device: dict, epoch_keys: dict[str, str]) -> str:
    text = device.get("name") or ""
    if not text.startswith(_SEALED):  # a name only the server vouches for (it could have written it)
        return f"{text} (unsealed name)" if text else f"device {device['id']}"
    epoch, _, sealed = text[len(_SEALED):].partition(":")
    key = epoch_keys.get(epoch)
    if key is None:
        return f"device {device['id']}"
    try:
        return crypto.unbox(crypto.b64d(key), crypto.b64d(sealed), _name_aad(team, device["id"]), "a device name").decode()
    except (Tampered, UnicodeDecodeError):
        return f"device {device['id']} (its name does not open)"


def _name_device(api: Api, name: str, epoch_keys: dict[str, str]) -> str:
    """Replace the placeholder name a device joined with by its sealed name (the keys come with the join);
    returns the sealed name as the server now holds it."""
    sealed = sealed_name(api.team, api.device, name, epoch_keys)
    api.post(api.team_path(f"/devices/{api.device}/name"), {"name": sealed})
    return sealed


def _recovery_device_id(seed: bytes) -> str:
    return crypto.derive(seed, "recovery device id", 8).hex()


def _post_invite(api: Api, role: str, epoch_keys: dict[str, str], hours: int) -> str:
    """Register a one-time invite signed by `api`'s device; the server learns only a hash of its token."""
    secret = secrets.token_bytes(32)
    invite_id = secrets.token_hex(6)
    token, wrap = crypto.invite_secrets(secret)
    blob = crypto.b64e(crypto.box(wrap, crypto.canonical({"keys": epoch_keys}), _invite_aad(api.team, invite_id)))
    expires = _now_ms() + hours * 3600 * 1000
    auth_hash = crypto.token_hash(token)
    signature = api.keys.signature(crypto.invite_record_message(api.team, invite_id, role, expires, auth_hash, blob))
    api.post(api.team_path("/invites"), {"id": invite_id, "auth_hash": auth_hash, "role": role,
                                        "expires": expires, "blob": blob, "signature": signature})
    return f"{api.team}.{invite_id}.{crypto.b64e(secret)}"


def _keep_keys(api: Api, keys: DeviceKeys, epoch_keys: dict[str, str]) -> None:
    """Store a copy of each epoch key wrapped for this (new) device, so it can fetch them again like any member
    (each with its proof under the key before, see `open_wraps`)."""
    api.post(api.team_path("/keys"), {"keys": {
        e: _proved(crypto.wrap_key(crypto.b64d(k), keys.box_pub, crypto.key_context(api.team, int(e), api.device)),
                   api.team, int(e), crypto.b64d(k), epoch_keys.get(str(int(e) - 1)))
        for e, k in epoch_keys.items()}})


def _proved(wrap: str, team: str, epoch: int, key: bytes, previous: str | None) -> str:
    """A wrapped key as the server stores it: WRAP or WRAP.PROOF (the proof under the previous epoch's key)."""
    if previous is None:
        return wrap
    return f"{wrap}.{crypto.epoch_proof(crypto.b64d(previous), team, epoch, key)}"


def open_wraps(team: str, device: str, keys: DeviceKeys, wraps: dict[str, str], known: dict[str, str]) -> dict[str, str]:
    """The epoch keys in `wraps` (from the server) that this device does not hold yet, oldest first, each
    checked against the key before it: a key for epoch N is taken only with a proof sealed under the key of
    epoch N-1, which the server cannot make. Epoch 1 has no key before it: it comes with the team's creation
    or an invite (sealed by the invite's secret); only a device restored from a recovery secret takes it from
    the server as it is. Returns {epoch: base64 key}."""
    have = dict(known)
    found: dict[str, str] = {}
    for epoch in sorted((e for e in wraps if e not in have), key=int):
        wrap, _, proof = wraps[epoch].partition(".")
        key = crypto.unwrap_key(wrap, keys, crypto.key_context(team, int(epoch), device))
        previous = have.get(str(int(epoch) - 1))
        if int(epoch) > 1:
            if previous is None or not proof:
                raise Tampered(f"the team key of epoch {epoch} came without proof that a member of the team made "
                               "it; it was not taken (the sync server may be trying to read the team's changes)")
            crypto.check_epoch_proof(crypto.b64d(previous), team, int(epoch), key, proof)
        have[epoch] = found[epoch] = crypto.b64e(key)
    return found


def _invite_from_recovery(server: str, team: str, seed: bytes, transport=None) -> str:
    """The paper device makes a one-time admin invite for the machine being set up."""
    keys = DeviceKeys.from_seed(seed)
    api = Api(server, team, _recovery_device_id(seed), keys, transport=transport)
    try:
        try:
            got = api.get(api.team_path("/keys"))
        except SyncError as exc:
            if exc.status in (401, 403, 404):
                raise DulyError("this recovery secret is not valid for this team on this server (mistyped, or "
                                "retired with `duly sync revoke`)") from None
            raise
        epoch_keys = open_wraps(team, api.device, keys, got["keys"], {})
        return _post_invite(api, "admin", epoch_keys, 1)
    finally:
        api.close()


def _manifest_aad(team: str, snap_id: str) -> bytes:
    return f"{team}/snapshot-manifest/{snap_id}".encode()


def _invite_aad(team: str, invite_id: str) -> bytes:
    return f"{team}/invite/{invite_id}".encode()


_DEVICE_META = ("device_id",)


def _strip_device_secrets(path: Path, passphrase: str) -> None:
    """A snapshot carries the book, not the device that made it: no keys, cursor or number series."""
    conn = db.connect(path, passphrase)
    try:
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("BEGIN IMMEDIATE")
        # The review list stays: what a merge flagged is the team's business, and a new device should see it.
        conn.execute("DELETE FROM meta WHERE key LIKE 'sync.%' OR key LIKE 'secret.%' "
                     "OR key IN ('device_id', 'series_prefix')")
        conn.execute("COMMIT")
        conn.execute("VACUUM")
        conn.execute("PRAGMA journal_mode = DELETE")
        # The full check, indexes against their rows, runs here where the file is made; a new device proves it
        # has exactly these bytes (the SHA-256 sealed in the manifest) and checks their structure again.
        found = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if found != "ok":
            raise DulyError(f"this device's ledger fails its integrity check ({found.splitlines()[0]}); no snapshot "
                            "was uploaded: restore it from a backup or join the team afresh")
    finally:
        conn.close()


NAME_CHARS = 100


def _device_name(given: str | None = None) -> str:
    name = (given or os.environ.get("DULY_DEVICE_NAME") or socket.gethostname() or "device").strip()
    if not name or len(name) > NAME_CHARS:
        raise DulyError(f"a device name must be 1-{NAME_CHARS} characters, got {len(name)}: give a shorter --name")
    return name


def _remember(ledger_conn_meta, server: str, team: str, keys: DeviceKeys, role: str, epoch_keys: dict[str, str],
              epoch: int) -> None:
    for key, value in {"sync.server": server, "sync.team": team, "sync.device_keys": keys.secret(),
                       "sync.role": role, "sync.epoch": str(epoch), "sync.cursor": "0", "sync.pushed": "0",
                       **{f"sync.key.{e}": k for e, k in epoch_keys.items()}}.items():
        ledger_conn_meta(key, value)


def check_server_url(server: str, *, insecure: bool = False) -> str:
    """The server URL a device will keep: https://, or http:// on this machine (loopback), or http:// anywhere
    when the user says --insecure. The payload is end-to-end encrypted either way, but signatures, device ids
    and timing are not meant for every network on the way."""
    url = (server or "").strip().rstrip("/")
    try:
        parsed = httpx.URL(url)
        host = parsed.host
    except (httpx.InvalidURL, ValueError, TypeError):
        parsed, host = None, ""
    if parsed is None or parsed.scheme not in ("http", "https") or not host:
        raise DulyError(f"--server {server!r}: expected a URL such as https://sync.example.com")
    if parsed.scheme == "http" and not insecure and not _loopback(host):
        raise DulyError(f"--server {url}: plain http:// to another machine is refused; use https:// "
                        "(see \"Running the server for real\" in the README) or add --insecure")
    return url


def _loopback(host: str) -> bool:
    import ipaddress

    if host.lower() in ("localhost", "localhost.") or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def init(ledger: Ledger, server: str, *, name: str | None = None, transport=None,
         team_token: str | None = None, insecure: bool = False) -> Report:
    """Create a team on the server with this device as its admin, push the ledger, upload a first snapshot.
    `team_token` is the server's, when it creates teams only for those who have it."""
    server = check_server_url(server, insecure=insecure)
    if ledger.meta("sync.team"):
        raise DulyError(f"ledger {ledger.path} already syncs with team {ledger.meta('sync.team')} "
                        f"at {ledger.meta('sync.server')}")
    keys = DeviceKeys.generate()
    team = secrets.token_hex(8)
    key = crypto.new_team_key()
    device = {"id": ledger.device, "name": sealed_name(team, ledger.device, _device_name(name),
                                                       {"1": crypto.b64e(key)}),
              "sign_pub": keys.sign_pub, "box_pub": keys.box_pub}
    api = Api(server, team, ledger.device, keys, transport=transport)
    try:
        wrapped = crypto.wrap_key(key, keys.box_pub, crypto.key_context(team, 1, ledger.device))
        api.post("/v1/teams", {"team": team, "device": device, "wrapped": wrapped},
                 headers={"X-Duly-Team-Token": team_token} if team_token else None)
    finally:
        api.close()
    _remember(ledger.set_meta, server.rstrip("/"), team, keys, "admin", {"1": crypto.b64e(key)}, 1)
    session = Sync(ledger, transport=transport)
    try:
        return session.now(snapshot=True)
    finally:
        session.close()


def parse_invite(code: str) -> tuple[str, str, bytes]:
    parts = (code or "").strip().split(".")
    if len(parts) != 3 or not all(parts):
        raise DulyError("invite code not understood: expected TEAM.ID.SECRET as printed by `duly sync invite`")
    try:
        secret = crypto.b64d(parts[2])
    except Tampered:
        secret = b""
    if len(secret) != 32:
        raise DulyError("invite code not understood: its secret part is damaged")
    return parts[0], parts[1], secret


def join(path, passphrase: str, server: str, code: str, *, name: str | None = None, transport=None,
         actor: str | None = None, insecure: bool = False) -> tuple[Ledger, dict]:
    """Register a new device with a one-time invite, restore the newest snapshot (every chunk checked), pull
    the rest, then check the ledger before saying done. Returns the open ledger and a summary.

    The invite is spent only when the device holds the team keys and its copy of the book (`/join/done`); a
    join that fails before withdraws the device's registration (`/join/abandon`), so the invite still works."""
    server = check_server_url(server, insecure=insecure)
    path = Path(path)
    if path.exists():
        from store.errors import LedgerExists

        raise LedgerExists(str(path))
    name = _device_name(name)  # before the invite is spent
    team, invite_id, secret = parse_invite(code)
    if invite_id == RECOVERY:
        team, invite_id, secret = parse_invite(_invite_from_recovery(server, team, secret, transport))
    token, wrap = crypto.invite_secrets(secret)
    keys = DeviceKeys.generate()
    device_id = secrets.token_hex(8)
    # The team keys come back with the join, so the device joins under a placeholder and then seals its name.
    device = {"id": device_id, "name": "(joining)", "sign_pub": keys.sign_pub, "box_pub": keys.box_pub}
    api = Api(server, team, device_id, keys, transport=transport)
    try:
        got = api.post(f"/v1/teams/{team}/join", {"invite": invite_id, "token": crypto.b64e(token), "device": device})
        with _withdrawn_on_failure(api, path):
            state = api.get(f"/v1/teams/{team}/state")
            devices = {d["id"]: d for d in state["devices"]}
            admin = devices.get(got["created_by"])
            if admin is None or admin["role"] != "admin":
                raise Tampered("the invite was not made by an admin of this team")
            crypto.verify_signature(admin["sign_pub"], crypto.invite_record_message(
                team, invite_id, got["role"], got["expires"], crypto.token_hash(token), got["blob"]),
                got["signature"], "the invite")
            try:
                epoch_keys = json.loads(crypto.unbox(wrap, crypto.b64d(got["blob"]), _invite_aad(team, invite_id),
                                                     "the invite's team keys"))["keys"]
            except (ValueError, KeyError, TypeError):
                raise Tampered("the invite's team keys cannot be read") from None
            _keep_keys(api, keys, epoch_keys)
            _name_device(api, name, epoch_keys)
            snapshot = _restore_snapshot(api, team, devices, epoch_keys, path, passphrase)
            api.post(f"/v1/teams/{team}/join/done", {})
    finally:
        api.close()
    if snapshot is None:
        ledger = Ledger.create(path, passphrase, actor=actor)
        # The fresh ledger made its own device id; use the registered one.
        ledger.conn.execute("UPDATE meta SET value=? WHERE key='device_id'", (device_id,))
        ledger.close()
    ledger = Ledger.open(path, passphrase, actor=actor)
    try:
        _remember(ledger.set_meta, server.rstrip("/"), team, keys, got["role"], epoch_keys, got["epoch"])
        if snapshot is not None:
            ledger.set_meta("sync.cursor", str(snapshot["server_seq"]))
            # Changes inside the snapshot were scanned by the device that made it.
            ledger.set_meta("sync.review_seq", str(ledger.conn.execute("SELECT coalesce(max(seq),0) FROM changes").fetchone()[0]))
        session = Sync(ledger, transport=transport)
        try:
            report = session.now()
        finally:
            session.close()
        # A restored snapshot was checked whole before it was used; what was pulled since went through the
        # one write path. A ledger built from the log alone is checked here.
        problems = [] if snapshot else changes.verify(ledger.conn) + schema.settled_cache_problems(ledger.conn)
        if problems:
            raise DulyError(f"the restored ledger at {path} fails its checks: {problems[0]}")
    except BaseException:
        ledger.close()
        raise
    summary = {"team": team, "device": device_id, "role": got["role"],
               "snapshot_chunks": len(snapshot["chunks"]) if snapshot else 0,
               "snapshot_server_seq": snapshot["server_seq"] if snapshot else 0,
               "pulled": report.pulled, "applied": report.applied, "head": report.head, "flagged": report.flagged}
    return ledger, summary


@contextlib.contextmanager
def _withdrawn_on_failure(api: Api, made: Path | None = None):
    """Around the steps of a join after the server registered the device: if one fails, the device withdraws
    its registration (the invite stays usable) and removes the ledger file the join had put in place."""
    try:
        yield
    except BaseException:
        if made is not None:
            _remove_scratch(made)
        # If the server cannot be reached now, the next join with the invite replaces this registration.
        with contextlib.suppress(DulyError):
            api.post(api.team_path("/join/abandon"), {})
        raise


def _restore_snapshot(api: Api, team: str, devices: dict, epoch_keys: dict, path: Path, passphrase: str) -> dict | None:
    try:
        record = api.get(f"/v1/teams/{team}/snapshots/latest")
    except SyncError as exc:
        if exc.status == 404:
            return None
        raise
    maker = devices.get(record.get("device"))
    if maker is None:
        raise Tampered("the newest snapshot names a device that is not in the team")
    from sync.protocol import snapshot_message

    crypto.verify_signature(maker["sign_pub"], snapshot_message(team, record), record.get("signature", ""),
                            f"snapshot {record.get('id')}")
    key_text = epoch_keys.get(str(record["epoch"]))
    if key_text is None:
        raise DulyError(f"the invite carries no team key for epoch {record['epoch']} of the newest snapshot")
    key = crypto.b64d(key_text)
    manifest = json.loads(crypto.unbox(key, crypto.b64d(record["manifest"]), _manifest_aad(team, record["id"]),
                                       f"snapshot {record['id']}'s manifest"))
    if manifest["server_seq"] != record["server_seq"]:
        raise Tampered(f"snapshot {record['id']}: its manifest and its record disagree on where it stands")
    aad = f"{team}/snapshot-chunk".encode()
    staging = path.with_name(path.name + ".joining")  # becomes the ledger
    checking = path.with_name(path.name + ".checking")  # a second copy that the checks read meanwhile
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        _remove_scratch(staging, checking)  # a join killed earlier leaves these; an old -wal would be replayed
        digest = hashlib.sha256()
        with open(staging, "wb") as out, open(checking, "wb") as copy:
            for n, (chunk_id, sealed) in enumerate(_fetch_chunks(api, team, record["chunks"]), start=1):
                if hashlib.sha256(sealed).hexdigest() != chunk_id:
                    raise Tampered(f"snapshot chunk {n} of {len(record['chunks'])} does not match its content "
                                   "address: it was altered on the server; nothing was restored")
                piece = crypto.unbox(key, sealed, aad, f"snapshot chunk {n} of {len(record['chunks'])}")
                digest.update(piece)
                out.write(piece)
                copy.write(piece)
        if digest.hexdigest() != manifest["sha256"]:
            raise Tampered(f"snapshot {record['id']} does not add up to the file it describes; nothing was restored")
        # Both copies are under the snapshot's own random raw key. While the checks read one, the other is made
        # this device's and re-keyed to the user's passphrase (the only passphrase stretching of the restore);
        # it replaces nothing unless every check passed.
        _check_restored(checking, manifest["passphrase"],
                        alongside=partial(_make_own, staging, manifest["passphrase"], passphrase, api.device))
        db.fsync_file(staging)
        os.replace(staging, path)
    finally:
        _remove_scratch(staging, checking)
    return record


def _remove_scratch(*paths: Path) -> None:
    for path in paths:
        for side in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{side}").unlink(missing_ok=True)


def _fetch_chunks(api: Api, team: str, chunk_ids: list[str], ahead: int = 3):
    """(id, sealed bytes) of each chunk in order, with up to `ahead` downloads running while the caller
    decrypts and writes the ones before (each download thread on its own connection)."""
    local, clones = threading.local(), []

    def get(chunk_id: str) -> bytes:
        if not hasattr(local, "api"):
            local.api = api.clone()
            clones.append(local.api)
        return local.api.call("GET", f"/v1/teams/{team}/chunks/{chunk_id}", raw=True)

    pool = ThreadPoolExecutor(ahead, thread_name_prefix="duly-chunk")
    try:
        waiting = deque()
        ids = iter(chunk_ids)
        for chunk_id in itertools.islice(ids, 2 * ahead):
            waiting.append((chunk_id, pool.submit(get, chunk_id)))
        while waiting:
            chunk_id, future = waiting.popleft()
            following = next(ids, None)
            if following is not None:
                waiting.append((following, pool.submit(get, following)))
            yield chunk_id, future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for clone in clones:
            clone.close()


def _make_own(staging: Path, file_pass: str, passphrase: str, device: str) -> None:
    """Make a restored snapshot this device's ledger: its id, a number series no one in the book uses, no
    counters of the device that made it; then re-key it to the user's passphrase."""
    conn = db.connect(staging, file_pass)
    try:
        schema.migrate(conn)
        conn.execute("BEGIN IMMEDIATE")
        taken = {r[0].split("-")[0] for r in conn.execute("SELECT number FROM invoices")}
        for key_name, value in (("device_id", device), ("series_prefix", _free_prefix(taken))):
            conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
                         "value=excluded.value", (key_name, value))
        conn.execute("DELETE FROM counters")  # number series are per device; this one starts afresh
        conn.execute("COMMIT")
        db.rekey_scratch(conn, passphrase)  # the caller deletes the file if anything fails
    finally:
        conn.close()


def _check_restored(path: Path, file_pass: str, *, alongside=None) -> None:
    """The restore drill's checks: the schema, then store.ledger.backup.ledger_problems (the one definition of
    a ledger that passes its checks: pages, every hash chain, the book's invariants) with the page check on a
    second connection at once, beside `alongside` (they only read; SQLite releases the GIL while it works).

    The page check is `quick_check` rather than `integrity_check` (half the time at 200k invoices): it reads
    every page of every b-tree, and SQLCipher refuses a page whose HMAC fails, so damage to any page in use
    shows. What it leaves out, matching index entries against their rows, the device that made the snapshot
    checked on this very file before sealing it (`_strip_device_secrets`), and every byte here has been matched
    against the SHA-256 sealed in the manifest. For the same reason `cipher_integrity_check` (the HMAC of free
    pages too; the snapshot has none, being vacuumed) is not run."""

    def structure(conn) -> list[str]:
        found = conn.execute("PRAGMA quick_check").fetchone()[0]
        if found == "ok":
            return []
        first = next((line for line in found.splitlines() if not line.startswith("***")), found)
        return [f"the integrity check failed: {first}"]

    # Open it once first: that switches the file to WAL (db.connect does), which two connections opening it at
    # the same moment would race for ("database is locked": the switch takes an exclusive lock without waiting).
    try:
        db.connect(path, file_pass).close()
    except db.DatabaseError as exc:
        raise Tampered(f"the restored snapshot is damaged: {exc}; nothing was restored") from None
    with ThreadPoolExecutor(1, thread_name_prefix="duly-restore") as pool:
        other = pool.submit(alongside) if alongside else None
        try:
            conn = db.connect(path, file_pass)
            try:
                found = schema.version(conn)
                if found == 0 or found > schema.VERSION:
                    raise DulyError(f"the snapshot has schema version {found}; this Duly reads "
                                    f"1..{schema.VERSION}: upgrade Duly")
                problems = backup.ledger_problems(conn, pages=structure,
                                                  connect=partial(db.connect, path, file_pass))
            finally:
                conn.close()
        except db.DatabaseError as exc:
            raise Tampered(f"the restored snapshot is damaged: {exc}; nothing was restored") from None
        if problems:
            raise Tampered(f"the restored snapshot fails its checks: {problems[0]}; nothing was restored")
        if other is not None:
            try:
                other.result()
            except db.DatabaseError as exc:
                raise DulyError(f"the restored snapshot could not be made this device's ledger: {exc}; "
                                "nothing was restored") from None


def _free_prefix(taken: set[str]) -> str:
    while True:
        prefix = secrets.choice(string.ascii_uppercase) + secrets.choice(string.digits)
        if prefix not in taken:
            return prefix
