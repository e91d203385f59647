"""A device in its team (Sync): push, pull, flag, snapshot, invite, revoke and status, over one Api."""
from __future__ import annotations

from dataclasses import dataclass

import hashlib
import json
import secrets
import tempfile
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


from store.ledger import changes
from store.ledger.changes import Change, MalformedChange
from store.errors import ClockSkew, DulyError
from store.ledger.hlc import MAX_DRIFT_MS, Stamp
from store.ledger.ledger import Ledger
from sync import crypto, merge
from sync.crypto import DeviceKeys, Tampered, sealed_size
from sync.client.api import (Api, CHUNK_BYTES, INVITE_HOURS, NotSynced, Offline, PULL_LIMIT, PULL_TEXT,
    PUSH_BATCH, MAX_PUSH_BYTES, PUSH_BYTES, SNAPSHOT_EVERY, UPLOADS, SyncError, _now_iso, _now_ms)
from sync.client.keys import (NAME_CHARS, RECOVERY, _SEALED, _invite_aad, _keep_keys, _name_device, _post_invite,
    _proved, _recovery_device_id, _withdrawn_on_failure, open_name, open_wraps, parse_invite)
from sync.client import payload as payloads
from sync.client.snapshot import _check_snapshot, _manifest_aad, _snapshot_file
from store.i18n import N_


@dataclass
class Report:
    pushed: int = 0
    pulled: int = 0
    applied: int = 0
    flagged: int = 0
    head: int = 0
    snapshot: str | None = None
    resent: int = 0  # own changes sent again because the server's log had gone back (restored from a backup)


class Tally:
    """A sync's progress, told to the store's callback `progress(done, total)`: a round's steps (changes to pull and
    to push, then a snapshot's chunks) add to the total as they become known and to what is done as they are
    taken, so one bar covers the whole round."""

    def __init__(self, progress=None):
        self.progress, self.done, self.total = progress, 0, 0

    def expect(self, steps: int) -> None:
        self.total += steps
        self._tell()

    def step(self, steps: int = 1) -> None:
        self.done += steps
        self._tell()

    def _tell(self) -> None:
        if self.progress is not None:
            self.progress(min(self.done, self.total), max(self.total, self.done))


class Sync:
    """One ledger's sync session. `progress`: the store's callback `progress(done, total)`, or a Tally shared
    with what came before the session (a join's snapshot)."""

    def __init__(self, ledger: Ledger, *, transport=None, server: str | None = None, progress=None):
        self.ledger = ledger
        self.tally = progress if isinstance(progress, Tally) else Tally(progress)
        if not ledger.meta("sync.team"):
            raise NotSynced(N_("ledger {path} is not set up for sync: run `duly sync init --server URL` or create "
                               "it with `duly sync join`"), path=ledger.path)
        self.team = ledger.meta("sync.team")
        self.keys = DeviceKeys.from_secret(ledger.meta("sync.device_keys"))
        self.api = Api(server or ledger.meta("sync.server"), self.team, ledger.device, self.keys, transport=transport)
        self.devices: dict[str, dict] = {}
        # The envelope version this device seals with: the newest both it and the server take (the server says
        # which it takes in its state; one that does not say takes version 1 only).
        self.version = 1
        self.push_bytes = PUSH_BYTES

    def close(self) -> None:
        self.api.close()

    # -- keys and team state ---------------------------------------------------------------------
    def team_key(self, epoch: int) -> bytes:
        found = self.ledger.meta(f"sync.key.{epoch}")
        if found is None:
            self.fetch_keys()
            found = self.ledger.meta(f"sync.key.{epoch}")
        if found is None:
            raise SyncError(N_("this device has no team key for epoch {epoch}; it may have been removed from the team"),
                            epoch=epoch)
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
        protocol = state.get("protocol", 1)
        self.version = min(protocol, crypto.PROTOCOL) if isinstance(protocol, int) and protocol >= 1 else 1
        max_body = state.get("max_body")
        if isinstance(max_body, int) and max_body > 0:  # a request as large as the server takes, with room to spare
            self.push_bytes = max(min(max_body * 3 // 4, MAX_PUSH_BYTES), 64 * 1024)
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
        with self.ledger.local():
            for key, value in values.items():
                self.ledger.set_meta(key, value)

    def device_name(self, device: str) -> str:
        found = self.devices.get(device)
        return f"{found['name']} ({device})" if found else device

    # -- push ------------------------------------------------------------------------------------
    def pending(self) -> int:
        pushed = int(self.ledger.meta("sync.pushed") or 0)
        return self.ledger.conn.execute("SELECT count(*) FROM changes WHERE device=? AND device_seq>?",
                                        (self.ledger.device, pushed)).fetchone()[0]

    def push(self) -> int:
        """Send this device's changes the server has not acknowledged; returns how many went out."""
        sent = 0
        retries = 0
        while True:
            pushed = int(self.ledger.meta("sync.pushed") or 0)
            epoch = int(self.ledger.meta("sync.epoch"))
            envelopes = self._next_batch(pushed, epoch)
            if not envelopes:
                return sent
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
                limit = exc.body.get("limit")
                if exc.status == 413 and isinstance(limit, int) and self.push_bytes > limit * 3 // 4:
                    self.push_bytes = max(limit * 3 // 4, 1)  # the server takes less than this device thought
                    continue
                raise
            acked = got["acked"]
            self._record_acks(list(zip(acked, got["server_seqs"])), got["head"])
            sent += len(acked)
            self.tally.step(len(acked))

    def _next_batch(self, pushed: int, epoch: int) -> list[dict]:
        """The envelopes of the next push request: this device's changes after `pushed`, in order, as many as fit in
        PUSH_BYTES (at least one) and PUSH_BATCH. The rows are read one at a time and reading stops at the first
        that does not fit: a whole LIMIT's worth was read (and one envelope too many sealed) for every request,
        which for a log of large envelopes (a 200k-invoice book: 277 of them, 63 MB compressed) read the whole
        log again for every request."""
        envelopes, size = [], 0
        rows = self.ledger.conn.execute(
            "SELECT device, device_seq, hlc, actor, at, ops, prev_hash, hash FROM changes WHERE device=? "
            "AND device_seq>? ORDER BY device_seq", (self.ledger.device, pushed))
        try:
            for *head, ops, prev_hash, digest in rows:
                change, text = Change(*head), changes.ops_text(ops)
                body = change.body(text)
                if changes.chain_hash(prev_hash, body) != digest:  # what was written, nothing else
                    raise MalformedChange(f"change {change.device_seq} of this device was changed after it was "
                                          "written (run `duly audit verify`); nothing more was sent")
                payload = payloads.payload(self.version, change, ops, text)
                size += sealed_size(len(payload))
                if envelopes and (size > self.push_bytes or len(envelopes) >= PUSH_BATCH):
                    break
                envelopes.append(self._seal_payload(change, epoch, payload))
        finally:
            rows.close()
        return envelopes

    def _seal_payload(self, change: Change, epoch: int, payload: bytes) -> dict:
        header = {"v": self.version, "team": self.team, "device": change.device, "device_seq": change.device_seq,
                  "key_epoch": epoch, "hlc": change.hlc}
        return crypto.seal(self.team_key(epoch), header, payload, self.keys)

    def _record_acks(self, acked: list[tuple[int, int]], head: int) -> None:
        """Note where the server put this device's changes; when they directly follow the pull cursor (nobody
        else pushed in between) the cursor moves past them, so the next pull does not fetch them back."""
        with self.ledger.local() as conn:
            conn.executemany("UPDATE changes SET server_seq=? WHERE device=? AND device_seq=?",
                             [(server_seq, self.ledger.device, seq) for seq, server_seq in acked])
            cursor = int(self.ledger.meta("sync.cursor") or 0)
            placed = {server_seq for _, server_seq in acked}
            while cursor + 1 in placed:
                cursor += 1
            self.ledger.set_meta("sync.cursor", str(cursor))
            self.ledger.set_meta("sync.pushed", str(max(seq for seq, _ in acked)))
            self.ledger.set_meta("sync.head", str(head))

    # -- pull ------------------------------------------------------------------------------------
    def open_change(self, item: dict) -> tuple[Change, int]:
        """Check, decrypt and read one pulled envelope, with the length of its text (payload.read_sized); raise
        Tampered / MalformedChange naming it."""
        env, server_seq = item["envelope"], item["server_seq"]
        device = self.devices.get(env.get("device"))
        if device is None:
            self.refresh()
            device = self.devices.get(env.get("device"))
        if device is None:
            raise Tampered(N_("change at server position {server_seq} names device {value}, which is not in the team"),
                           server_seq=server_seq, value=env.get('device'))
        if env.get("team") != self.team:
            raise Tampered(N_("change at server position {server_seq} belongs to another team"),
                           server_seq=server_seq)
        try:
            if env.get("v") not in crypto.VERSIONS:
                raise ValueError(f"envelope version {env.get('v')!r}")
            payload = crypto.open_envelope(env, self.team_key(env["key_epoch"]), device["sign_pub"])
            change, size = payloads.read_sized(env["v"], payload)
        except Tampered as exc:
            raise Tampered(N_("{exc} (server position {server_seq}); nothing from this batch was applied"),
                           exc=exc, server_seq=server_seq) from None
        except (ValueError, KeyError, TypeError, RecursionError, MalformedChange):  # JSON nested past the stack
            raise Tampered(N_("change at server position {server_seq} from {value} cannot be read; nothing from "
                              "this batch was applied"), server_seq=server_seq,
                           value=self.device_name(env.get('device'))) from None
        if (change.device, change.device_seq, change.hlc) != (env["device"], env["device_seq"], env["hlc"]):
            raise Tampered(N_("change at server position {server_seq} was re-stamped: its header does not match its "
                              "sealed content; nothing from this batch was applied"),
                           server_seq=server_seq)
        return change, size

    def check_batch(self, batch: list[tuple[int, Change]]) -> None:
        """Refuse the whole batch if any change is from the future or replays a known change differently."""
        wall = self.ledger.clock._wall()  # this device's clock, the one the ledger stamps with
        known: dict[str, int] = {}
        for _, change in batch:
            ahead = Stamp.parse(change.hlc).ms - wall
            if ahead > MAX_DRIFT_MS:
                raise ClockSkew(N_("device {device}'s clock is {minutes} minutes ahead of this one; fix its clock and "
                                   "sync again (nothing from this batch was applied)"),
                                device=self.device_name(change.device), minutes=f"{ahead / 60000:.0f}")
            if change.device not in known:
                known[change.device] = self.ledger.conn.execute(
                    "SELECT coalesce(max(device_seq), 0) FROM changes WHERE device=?", (change.device,)).fetchone()[0]
            if change.device_seq > known[change.device]:
                continue  # new to this device: nothing to compare with
            row = self.ledger.conn.execute("SELECT prev_hash, hash FROM changes WHERE device=? AND device_seq=?",
                                           (change.device, change.device_seq)).fetchone()
            if row is not None and changes.chain_hash(row[0], change.body()) != row[1]:
                raise Tampered(N_("change {device_seq} from {device} arrived again with different content (replayed "
                                  "or re-stamped); nothing from this batch was applied"),
                               device_seq=change.device_seq, device=self.device_name(change.device))

    def pull(self, report: Report) -> None:
        while True:
            cursor = int(self.ledger.meta("sync.cursor") or 0)
            got = self.api.get(self.api.team_path("/pull"), after=str(cursor), limit=str(PULL_LIMIT))
            report.head = got["head"]
            items = got["changes"]
            if not items:
                self.ledger.set_meta("sync.head", str(got["head"]))
                return
            start = 0
            while start < len(items):  # the page in parts of PULL_TEXT opened: each applied before the next is opened
                batch, opened = [], 0
                for item in items[start:]:
                    change, size = self.open_change(item)
                    batch.append((item["server_seq"], change))
                    opened += size
                    if opened >= PULL_TEXT:
                        break
                start += len(batch)
                self.check_batch(batch)
                report.applied += self.ledger.apply_remote_batch([change for _, change in batch])
                report.pulled += len(batch)
                self.tally.step(len(batch))
                with self.ledger.local() as conn:
                    conn.executemany("UPDATE changes SET server_seq=? WHERE device=? AND device_seq=?",
                                     [(seq, c.device, c.device_seq) for seq, c in batch])
                    self.ledger.set_meta("sync.cursor", str(batch[-1][0]))
                    self.ledger.set_meta("sync.head", str(got["head"]))
            if batch[-1][0] >= got["head"]:
                return  # caught up: no need to ask again

    # -- one round -------------------------------------------------------------------------------
    def now(self, *, snapshot: bool = False) -> Report:
        """Pull, flag, push, and snapshot when asked or when the log has grown far past the last one."""
        report = Report()
        state = self.refresh()
        admin = self.ledger.meta("sync.role") == "admin"
        if snapshot and not admin:
            raise SyncError(N_("only an admin device uploads the team's snapshots; this device is a {role} (run "
                               "`duly sync now` without --snapshot)"), 403, role=self.ledger.meta("sync.role"))
        if state["head"] < int(self.ledger.meta("sync.cursor") or 0):
            report.resent = self.catch_up_with_restored_server(state["head"])
        self.tally.expect(max(state["head"] - int(self.ledger.meta("sync.cursor") or 0), 0) + self.pending())
        self.pull(report)
        names = {d: v["name"] for d, v in self.devices.items()}
        report.flagged = merge.scan(self.ledger, names, {d: v["role"] for d, v in self.devices.items()})
        if self.pending():
            if self.ledger.meta("sync.role") == "viewer":
                raise SyncError(N_("this device ({device}) is a viewer: its {count} local change(s) cannot be sent; "
                                   "the team's changes were pulled"), 403, device=self.ledger.device,
                                count=self.pending())
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
        chunk_ids = []
        aad = f"{self.team}/snapshot-chunk".encode()
        whole, size = hashlib.sha256(), 0
        with tempfile.TemporaryDirectory(prefix="duly-snap-") as tmp:
            path = Path(tmp) / "snapshot.duly"
            _snapshot_file(self.ledger.conn, path, file_pass, check=False)
            self.tally.expect(max(-(-path.stat().st_size // CHUNK_BYTES), 1))
            # The file's full check runs on a connection of its own while its chunks are read, sealed and sent (it
            # only reads; SQLite lets go of the GIL while it works); the snapshot is published only if it passes.
            # Chunks go out UPLOADS at a time, each on a connection of its own, so the server stores one while this
            # device seals the next.
            with ThreadPoolExecutor(1 + UPLOADS, thread_name_prefix="duly-snap") as pool:
                checked = pool.submit(_check_snapshot, path, file_pass)
                local, clones = threading.local(), []

                def put(chunk_id: str, sealed: bytes) -> None:
                    if not hasattr(local, "api"):
                        local.api = self.api.clone()
                        clones.append(local.api)
                    local.api.call("PUT", self.api.team_path(f"/chunks/{chunk_id}"), body=sealed,
                                   content_type="application/octet-stream", digest=chunk_id)

                sending: deque = deque()
                try:
                    with path.open("rb") as snapshot:  # a chunk at a time: memory holds a few chunks, not the file
                        while (data := snapshot.read(CHUNK_BYTES)) or not chunk_ids:  # one chunk even when empty
                            whole.update(data)
                            size += len(data)
                            sealed = crypto.box(key, data, aad, deterministic=True)
                            chunk_id = hashlib.sha256(sealed).hexdigest()
                            chunk_ids.append(chunk_id)
                            while len(sending) >= UPLOADS:
                                sending.popleft().result()
                                self.tally.step()
                            sending.append(pool.submit(put, chunk_id, sealed))
                    while sending:
                        sending.popleft().result()
                        self.tally.step()
                    checked.result()
                finally:
                    for future in sending:
                        future.cancel()
                    pool.shutdown(wait=True)
                    for clone in clones:
                        clone.close()
        snap_id = secrets.token_hex(8)
        manifest = {"passphrase": file_pass, "sha256": whole.hexdigest(), "size": size,
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
            raise DulyError(N_("role {role} is not one of admin, member, viewer"), role=repr(role))
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
            raise DulyError(N_("only an admin device can make a recovery secret; this device is a {value}"),
                            value=self.ledger.meta('sync.role'))
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
                raise DulyError(N_("no single device named {device} in this team: see `duly sync status`"),
                                device=repr(device))
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
