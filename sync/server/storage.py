"""Where the sync server keeps a team's sealed log, devices, keys and snapshots: SQLite or PostgreSQL.

The server never holds a team key: every payload stored here is ciphertext, and wrapped keys are sealed
for a device's X25519 key or an invite secret the server never sees. Both backends share one set of SQL
statements (written with `?`, rewritten to `%s` for psycopg) and one set of rules, so they behave alike.
"""
from __future__ import annotations

import contextlib
import json
from abc import ABC, abstractmethod
import queue
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

from store.errors import Conflict, DulyError, NotFound
from store.i18n import N_
from sync.protocol import STORAGE_REFUSALS

ROLES = ("admin", "member", "viewer")


def _resealed(stored: bytes, arrived: bytes) -> bool:
    """The same change sealed again under a newer key epoch, or in another envelope version: its acknowledgement
    was lost, and a key epoch began (or the device was upgraded to a newer sync protocol) before the device sent
    it again. Sealing is deterministic within an epoch and version, so only those (and with them nonce, ciphertext
    and signature) may differ; the push endpoint has checked the device's signature on it."""
    try:
        old, new = json.loads(stored), json.loads(arrived)
    except ValueError:
        return False
    same = ("team", "device", "device_seq", "hlc")
    return all(old.get(k) == new.get(k) for k in same) and (
        int(new.get("key_epoch", 0)) > int(old.get("key_epoch", 0)) or old.get("v") != new.get("v"))


def refused(kind: type[DulyError], code: str, /, **values) -> DulyError:
    """A refusal of the storage: the message id of its code (sync.protocol.STORAGE_REFUSALS) with its values; the
    server answers with the code and the values, and the client words it in its user's language."""
    error = kind(STORAGE_REFUSALS[code], **values)
    error.code = code
    return error


class Gap(Conflict):
    """A push that skips changes: the server says which device_seq it expects next."""

    code = "gap"

    def __init__(self, expected: int, **values):
        super().__init__(STORAGE_REFUSALS["gap"], expected=expected, **values)
        self.expected = expected


_TABLES = [
    """CREATE TABLE IF NOT EXISTS teams (
  id TEXT PRIMARY KEY, created BIGINT NOT NULL, head BIGINT NOT NULL, epoch INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS devices (
  team TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, role TEXT NOT NULL, sign_pub TEXT NOT NULL,
  box_pub TEXT NOT NULL, added BIGINT NOT NULL, invited_by TEXT, revoked BIGINT, PRIMARY KEY (team, id))""",
    """CREATE TABLE IF NOT EXISTS invites (
  team TEXT NOT NULL, id TEXT NOT NULL, auth_hash TEXT NOT NULL, role TEXT NOT NULL, expires BIGINT NOT NULL,
  blob TEXT NOT NULL, signature TEXT NOT NULL, created_by TEXT NOT NULL, used_by TEXT, PRIMARY KEY (team, id))""",
    """CREATE TABLE IF NOT EXISTS wrapped_keys (
  team TEXT NOT NULL, epoch INTEGER NOT NULL, device TEXT NOT NULL, blob TEXT NOT NULL,
  PRIMARY KEY (team, epoch, device))""",
    """CREATE TABLE IF NOT EXISTS log (
  team TEXT NOT NULL, server_seq BIGINT NOT NULL, device TEXT NOT NULL, device_seq BIGINT NOT NULL,
  envelope BLOBTYPE NOT NULL, PRIMARY KEY (team, server_seq), UNIQUE (team, device, device_seq))""",
    """CREATE TABLE IF NOT EXISTS chunks (
  team TEXT NOT NULL, id TEXT NOT NULL, data BLOBTYPE NOT NULL, PRIMARY KEY (team, id))""",
    """CREATE TABLE IF NOT EXISTS snapshots (
  team TEXT NOT NULL, id TEXT NOT NULL, server_seq BIGINT NOT NULL, created BIGINT NOT NULL,
  device TEXT NOT NULL, manifest BLOBTYPE NOT NULL, chunks TEXT NOT NULL, PRIMARY KEY (team, id))""",
    # Each signed request is accepted once: its nonce is remembered while its time stamp could still pass.
    """CREATE TABLE IF NOT EXISTS requests (
  team TEXT NOT NULL, device TEXT NOT NULL, nonce TEXT NOT NULL, seen BIGINT NOT NULL,
  PRIMARY KEY (team, device, nonce))""",
]

# Columns added after the first release, for servers whose tables already exist: (table, column, type).
# devices.joining: the invite a device is joining with, until it says the join is done (NULL after).
_COLUMNS = [("devices", "joining", "TEXT")]

_DEVICE_COLUMNS = "id, name, role, sign_pub, box_pub, added, invited_by, revoked, joining"


class Storage(ABC):
    """The rules; a backend supplies `_tx()` (one transaction, the team row locked when asked)."""

    placeholder = "?"
    blob_type = "BLOB"

    def _sql(self, sql: str) -> str:
        sql = sql.replace("BLOBTYPE", self.blob_type)
        return sql if self.placeholder == "?" else sql.replace("?", self.placeholder)

    @abstractmethod
    def _tx(self, *, write: bool):
        """A context manager giving `run(sql, params)` inside one transaction (each backend has its own)."""

    def setup(self) -> None:
        with self._tx(write=True) as run:
            for stmt in _TABLES:
                run(stmt)
            _add_columns(run)

    def close(self) -> None:
        """Release connections."""

    # -- teams and devices -----------------------------------------------------------------------
    def create_team(self, team: str, device: dict, wrapped: str, now: int) -> None:
        with self._tx(write=True) as run:
            if run("SELECT 1 FROM teams WHERE id=?", (team,)).fetchone():
                raise refused(Conflict, "team_exists", team=team)
            run("INSERT INTO teams (id, created, head, epoch) VALUES (?,?,0,1)", (team, now))
            self._add_device(run, team, device, "admin", now, None)
            run("INSERT INTO wrapped_keys (team, epoch, device, blob) VALUES (?,?,?,?)", (team, 1, device["id"], wrapped))

    def _add_device(self, run, team, device, role, now, invited_by, joining=None) -> None:
        if run("SELECT 1 FROM devices WHERE team=? AND id=?", (team, device["id"])).fetchone():
            raise refused(Conflict, "device_exists", device=device["id"], team=team)
        run("INSERT INTO devices (team, id, name, role, sign_pub, box_pub, added, invited_by, joining) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            (team, device["id"], device["name"], role, device["sign_pub"], device["box_pub"], now, invited_by,
             joining))

    def _forget_device(self, run, team: str, device: str) -> None:
        """Remove a device that never finished joining (it has pushed, published and invited nothing)."""
        for table, column in (("wrapped_keys", "device"), ("requests", "device"), ("devices", "id")):
            run(f"DELETE FROM {table} WHERE team=? AND {column}=?", (team, device))

    def team(self, team: str) -> dict:
        with self._tx(write=False) as run:
            return self._team(run, team)

    def _team(self, run, team: str) -> dict:
        row = run("SELECT head, epoch FROM teams WHERE id=?", (team,)).fetchone()
        if row is None:
            raise refused(NotFound, "no_team", team=team)
        return {"head": int(row[0]), "epoch": int(row[1])}

    def device(self, team: str, device: str) -> dict | None:
        with self._tx(write=False) as run:
            row = run(f"SELECT {_DEVICE_COLUMNS} FROM devices WHERE team=? AND id=?", (team, device)).fetchone()
        return _device(row) if row else None

    def devices(self, team: str) -> list[dict]:
        with self._tx(write=False) as run:
            rows = run(f"SELECT {_DEVICE_COLUMNS} FROM devices WHERE team=? ORDER BY added, id", (team,)).fetchall()
        return [_device(r) for r in rows]

    def rename_device(self, team: str, device: str, name: str) -> None:
        with self._tx(write=True) as run:
            if run("SELECT 1 FROM devices WHERE team=? AND id=?", (team, device)).fetchone() is None:
                raise refused(NotFound, "no_device", device=device, team=team)
            run("UPDATE devices SET name=? WHERE team=? AND id=?", (name, team, device))

    def revoke(self, team: str, device: str, now: int) -> None:
        """Block a device; the snapshots it published go with it (the team's backup is not left to a device
        the team no longer trusts)."""
        with self._tx(write=True, lock_team=team) as run:
            found = run("SELECT revoked FROM devices WHERE team=? AND id=?", (team, device)).fetchone()
            if found is None:
                raise refused(NotFound, "no_device", device=device, team=team)
            if found[0] is None:
                run("UPDATE devices SET revoked=? WHERE team=? AND id=?", (now, team, device))
            run("DELETE FROM snapshots WHERE team=? AND device=?", (team, device))
            self._drop_unused_chunks(run, team)

    # -- invites ---------------------------------------------------------------------------------
    def add_invite(self, team: str, invite: dict) -> None:
        with self._tx(write=True) as run:
            if run("SELECT 1 FROM invites WHERE team=? AND id=?", (team, invite["id"])).fetchone():
                raise refused(Conflict, "invite_exists", invite=invite["id"])
            run("INSERT INTO invites (team, id, auth_hash, role, expires, blob, signature, created_by) "
                "VALUES (?,?,?,?,?,?,?,?)",
                (team, invite["id"], invite["auth_hash"], invite["role"], invite["expires"], invite["blob"],
                 invite["signature"], invite["created_by"]))

    def use_invite(self, team: str, invite_id: str, auth_hash: str, device: dict, now: int) -> dict:
        """Register a device as joining with a one-time invite. The invite is spent only when the device says
        its join is done (`finish_join`): a join that fails leaves the invite usable, and the next join with it
        replaces the device the failed one left behind."""
        self._team_exists(team)
        with self._tx(write=True, lock_team=team) as run:
            row = run("SELECT auth_hash, role, expires, blob, signature, created_by, used_by FROM invites "
                      "WHERE team=? AND id=?", (team, invite_id)).fetchone()
            if row is None or row[0] != auth_hash:
                raise InviteRefused("this invite is not valid for this team (mistyped or forged)", "invite_invalid")
            if row[6] is not None:
                raise InviteRefused("this invite was already used; ask an admin for a new one", "invite_used")
            if int(row[2]) < now:
                raise InviteRefused("this invite has expired; ask an admin for a new one", "invite_expired")
            # Joins that never finished: with this invite (this one takes its place), or with an expired one.
            stale = run("SELECT d.id FROM devices d JOIN invites i ON i.team=d.team AND i.id=d.joining "
                        "WHERE d.team=? AND (d.joining=? OR i.expires<?)", (team, invite_id, now)).fetchall()
            for (old,) in stale:
                self._forget_device(run, team, old)
            self._add_device(run, team, device, row[1], now, row[5], joining=invite_id)
            return {"role": row[1], "expires": int(row[2]), "blob": row[3], "signature": row[4],
                    "created_by": row[5], **self._team(run, team)}

    def finish_join(self, team: str, device: str) -> None:
        """The device holds the team keys and its copy of the book: its invite is spent now."""
        with self._tx(write=True, lock_team=team) as run:
            row = run("SELECT joining FROM devices WHERE team=? AND id=?", (team, device)).fetchone()
            if row is None:
                raise refused(NotFound, "no_device", device=device, team=team)
            if row[0] is None:
                return  # done already (an answer that was lost)
            found = run("SELECT used_by FROM invites WHERE team=? AND id=?", (team, row[0])).fetchone()
            if found is None or found[0] is not None:
                raise InviteRefused("this invite was already used; ask an admin for a new one", "invite_used")
            run("UPDATE invites SET used_by=? WHERE team=? AND id=?", (device, team, row[0]))
            run("UPDATE devices SET joining=NULL WHERE team=? AND id=?", (team, device))

    def abandon_join(self, team: str, device: str) -> None:
        """A join that failed on the device: withdraw its registration; the invite stays usable."""
        with self._tx(write=True, lock_team=team) as run:
            row = run("SELECT joining FROM devices WHERE team=? AND id=?", (team, device)).fetchone()
            if row is None:
                raise refused(NotFound, "no_device", device=device, team=team)
            if row[0] is None:
                raise refused(Conflict, "join_finished", device=device)
            self._forget_device(run, team, device)

    def _team_exists(self, team: str) -> None:
        self.team(team)  # NotFound before a lock on a row that is not there

    # -- key epochs ------------------------------------------------------------------------------
    def wrapped_keys(self, team: str, device: str) -> dict[int, str]:
        with self._tx(write=False) as run:
            rows = run("SELECT epoch, blob FROM wrapped_keys WHERE team=? AND device=?", (team, device)).fetchall()
        return {int(e): b for e, b in rows}

    def add_wrapped(self, team: str, device: str, wraps: dict[int, str]) -> None:
        """A device keeps copies of epoch keys the team has already started for itself (after joining by invite).
        A later epoch is an admin's to start (`new_epoch`): a copy stored ahead of it would block it."""
        with self._tx(write=True, lock_team=team) as run:
            current = self._team(run, team)["epoch"]
            ahead = sorted(e for e in wraps if not 1 <= e <= current)
            if ahead:
                raise refused(Conflict, "epoch_not_started", epoch=ahead[-1], current=current)
            for epoch, blob in wraps.items():
                if not run("SELECT 1 FROM wrapped_keys WHERE team=? AND epoch=? AND device=?",
                           (team, epoch, device)).fetchone():
                    run("INSERT INTO wrapped_keys (team, epoch, device, blob) VALUES (?,?,?,?)",
                        (team, epoch, device, blob))

    def new_epoch(self, team: str, epoch: int, wraps: dict[str, str]) -> None:
        """Start epoch `epoch` (must be the next one) with the key wrapped for every active device."""
        with self._tx(write=True, lock_team=team) as run:
            current = self._team(run, team)["epoch"]
            if epoch != current + 1:
                raise refused(Conflict, "epoch_not_next", epoch=epoch, current=current)
            active = {r[0] for r in run("SELECT id FROM devices WHERE team=? AND revoked IS NULL", (team,))}
            missing = sorted(active - set(wraps))
            if missing:
                raise refused(Conflict, "key_not_wrapped", devices=", ".join(missing))
            extra = sorted(set(wraps) - active)
            if extra:
                raise refused(Conflict, "key_wrapped_for_inactive", devices=", ".join(extra))
            for device, blob in wraps.items():
                run("DELETE FROM wrapped_keys WHERE team=? AND epoch=? AND device=?", (team, epoch, device))
                run("INSERT INTO wrapped_keys (team, epoch, device, blob) VALUES (?,?,?,?)", (team, epoch, device, blob))
            run("UPDATE teams SET epoch=? WHERE id=?", (epoch, team))

    # -- the log ---------------------------------------------------------------------------------
    def push(self, team: str, device: str, envelopes: list[tuple[int, bytes]]) -> tuple[list[tuple[int, int]], int]:
        """Append sealed changes (device_seq, bytes): idempotent on (device, device_seq), gapless per device;
        each new one gets the next team-wide server_seq. Returns ([(device_seq, server_seq)] acked, head)."""
        with self._tx(write=True, lock_team=team) as run:
            head = self._team(run, team)["head"]
            row = run("SELECT max(device_seq) FROM log WHERE team=? AND device=?", (team, device)).fetchone()
            last = int(row[0] or 0)
            acked = []
            for seq, data in sorted(envelopes):
                if seq <= last:
                    stored = run("SELECT envelope, server_seq FROM log WHERE team=? AND device=? AND device_seq=?",
                                 (team, device, seq)).fetchone()
                    if stored is None or (bytes(stored[0]) != data and not _resealed(bytes(stored[0]), data)):
                        raise refused(Conflict, "change_differs", device=device, seq=seq)
                    acked.append((seq, int(stored[1])))
                    continue
                if seq != last + 1:
                    raise Gap(last + 1, device=device, seq=seq)
                head += 1
                last = seq
                run("INSERT INTO log (team, server_seq, device, device_seq, envelope) VALUES (?,?,?,?,?)",
                    (team, head, device, seq, data))
                acked.append((seq, head))
            run("UPDATE teams SET head=? WHERE id=?", (head, team))
            return acked, head

    def pull(self, team: str, after: int, limit: int) -> tuple[list[tuple[int, bytes]], int]:
        with self._tx(write=False) as run:
            head = self._team(run, team)["head"]
            rows = run("SELECT server_seq, envelope FROM log WHERE team=? AND server_seq>? ORDER BY server_seq LIMIT ?",
                       (team, after, limit)).fetchall()
        return [(int(s), bytes(e)) for s, e in rows], head

    # -- snapshots -------------------------------------------------------------------------------
    def put_chunk(self, team: str, chunk_id: str, data: bytes) -> bool:
        with self._tx(write=True) as run:
            if run("SELECT 1 FROM chunks WHERE team=? AND id=?", (team, chunk_id)).fetchone():
                return False  # immutable and content-addressed: the same id is the same bytes
            run("INSERT INTO chunks (team, id, data) VALUES (?,?,?)", (team, chunk_id, data))
            return True

    def get_chunk(self, team: str, chunk_id: str) -> bytes | None:
        with self._tx(write=False) as run:
            row = run("SELECT data FROM chunks WHERE team=? AND id=?", (team, chunk_id)).fetchone()
        return bytes(row[0]) if row else None

    def add_snapshot(self, team: str, snap: dict, keep: int, now: int) -> None:
        """Record a snapshot whose chunks are all stored, at a point of the log the team has reached and under a
        key epoch it has started; keep the `keep` accepted last, dropping chunks no kept snapshot uses.

        Which snapshots are newest is the server's own order of acceptance (`created`, strictly increasing per
        team), never a number the device chose."""
        with self._tx(write=True, lock_team=team) as run:
            info = self._team(run, team)
            if snap["server_seq"] > info["head"]:
                raise refused(Conflict, "snapshot_ahead", snapshot=snap["id"], seq=snap["server_seq"],
                              head=info["head"])
            if snap["epoch"] > info["epoch"]:
                raise refused(Conflict, "snapshot_epoch_ahead", snapshot=snap["id"], epoch=snap["epoch"],
                              current=info["epoch"])
            if run("SELECT 1 FROM snapshots WHERE team=? AND id=?", (team, snap["id"])).fetchone():
                raise refused(Conflict, "snapshot_exists", snapshot=snap["id"])
            missing = [c for c in snap["chunks"]
                       if not run("SELECT 1 FROM chunks WHERE team=? AND id=?", (team, c)).fetchone()]
            if missing:
                raise refused(Conflict, "snapshot_chunks_missing", snapshot=snap["id"], missing=len(missing))
            last = run("SELECT max(created) FROM snapshots WHERE team=?", (team,)).fetchone()[0]
            created = max(now, int(last or 0) + 1)
            run("INSERT INTO snapshots (team, id, server_seq, created, device, manifest, chunks) VALUES (?,?,?,?,?,?,?)",
                (team, snap["id"], snap["server_seq"], created, snap["device"], snap["manifest"],
                 json.dumps(snap["chunks"])))
            rows = run("SELECT id FROM snapshots WHERE team=? ORDER BY created DESC", (team,)).fetchall()
            for (sid,) in rows[keep:]:
                run("DELETE FROM snapshots WHERE team=? AND id=?", (team, sid))
            self._drop_unused_chunks(run, team)

    def _drop_unused_chunks(self, run, team: str) -> None:
        used = {c for (chunks,) in run("SELECT chunks FROM snapshots WHERE team=?", (team,)).fetchall()
                for c in json.loads(chunks)}
        for (cid,) in run("SELECT id FROM chunks WHERE team=?", (team,)).fetchall():
            if cid not in used:
                run("DELETE FROM chunks WHERE team=? AND id=?", (team, cid))

    def latest_snapshot(self, team: str) -> dict | None:
        with self._tx(write=False) as run:
            row = run("SELECT id, server_seq, created, device, manifest, chunks FROM snapshots WHERE team=? "
                      "ORDER BY created DESC LIMIT 1", (team,)).fetchone()
        if row is None:
            return None
        return {"id": row[0], "server_seq": int(row[1]), "created": int(row[2]), "device": row[3],
                "manifest": bytes(row[4]), "chunks": json.loads(row[5])}


    # -- replays ----------------------------------------------------------------------------------
    def remember_request(self, team: str, device: str, nonce: str, now: int, keep_ms: int) -> None:
        """Accept a signed request's nonce once; forget nonces seen more than `keep_ms` ago (by then their
        time stamps are refused anyway)."""
        with self._tx(write=True) as run:
            run("DELETE FROM requests WHERE team=? AND device=? AND seen<?", (team, device, now - keep_ms))
            added = run("INSERT INTO requests (team, device, nonce, seen) VALUES (?,?,?,?) "
                        "ON CONFLICT (team, device, nonce) DO NOTHING", (team, device, nonce, now)).rowcount
            if added != 1:
                raise refused(Replayed, "replayed", device=device)


class InviteRefused(DulyError):
    """A forged, used or expired invite; code says which (invite_invalid, invite_used, invite_expired)."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


class Replayed(Conflict):
    """A signed request that was already accepted once."""


def _add_columns(run) -> None:
    for table, column, kind in _COLUMNS:
        names = [d[0] for d in run(f"SELECT * FROM {table} LIMIT 0").description]
        if column not in names:
            run(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")


def _device(row) -> dict:
    return {"id": row[0], "name": row[1], "role": row[2], "sign_pub": row[3], "box_pub": row[4],
            "added": int(row[5]), "invited_by": row[6], "revoked": None if row[7] is None else int(row[7]),
            "joining": row[8] is not None}


class SQLiteStorage(Storage):
    """One file, `server.sqlite3`, under the data directory (WAL; a write lock per transaction)."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / "server.sqlite3"
        self._local = threading.local()
        # Writers in this process take turns here rather than in SQLite's busy handler, which sleeps between
        # tries (every signed request writes its nonce, so 50 clients at once would mostly sleep).
        self._writing = threading.Lock()
        self.setup()

    def _conn(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            self._local.conn = conn
        return conn

    @contextmanager
    def _tx(self, *, write: bool, lock_team: str | None = None):
        conn = self._conn()
        with self._writing if write else contextlib.nullcontext():
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield lambda sql, params=(): conn.execute(self._sql(sql), params)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise


class PostgresStorage(Storage):
    """PostgreSQL through psycopg: several server processes may share one database; a push locks its
    team's row, so server_seq stays gapless and unique across processes."""

    placeholder = "%s"
    blob_type = "BYTEA"

    def __init__(self, url: str, pool_size: int = 8):
        try:
            import psycopg
        except ImportError:
            raise DulyError(N_("a PostgreSQL server store needs psycopg: pip install 'duly[server]'")) from None

        self._psycopg = psycopg
        self.url = url
        self._pool: queue.LifoQueue = queue.LifoQueue()
        self._size = pool_size
        self._made = 0
        self._lock = threading.Lock()
        self.setup()

    def _get(self):
        try:
            return self._pool.get_nowait()
        except queue.Empty:
            with self._lock:
                if self._made < self._size:
                    self._made += 1
                    try:
                        return self._psycopg.connect(self.url, autocommit=False)
                    except Exception:
                        self._made -= 1
                        raise
            return self._pool.get(timeout=60)

    @contextmanager
    def _tx(self, *, write: bool, lock_team: str | None = None):
        conn = self._get()
        broken = False
        try:
            with conn.transaction():
                cur = conn.cursor()
                if lock_team is not None:
                    cur.execute("SELECT 1 FROM teams WHERE id=%s FOR UPDATE", (lock_team,))
                yield lambda sql, params=(): cur.execute(self._sql(sql), params)
        except self._psycopg.OperationalError:
            broken = True
            raise
        finally:
            if broken or conn.closed:
                conn.close()
                with self._lock:
                    self._made -= 1
            else:
                self._pool.put(conn)

    def setup(self) -> None:
        # Several server processes may start at once: serialise the CREATE TABLEs with an advisory lock.
        conn = self._psycopg.connect(self.url, autocommit=True)
        try:
            conn.execute("SELECT pg_advisory_lock(4242001)")
            for stmt in _TABLES:
                conn.execute(self._sql(stmt))
            _add_columns(lambda sql, params=(): conn.execute(self._sql(sql), params))
            conn.execute("SELECT pg_advisory_unlock(4242001)")
        finally:
            conn.close()

    def close(self) -> None:
        while True:
            try:
                self._pool.get_nowait().close()
            except queue.Empty:
                break


def open_storage(*, data_dir=None, database_url: str | None = None) -> Storage:
    if database_url:
        if not database_url.startswith(("postgresql://", "postgres://")):
            raise DulyError(N_("--database {url}: expected a postgresql:// URL"), url=repr(database_url))
        return PostgresStorage(database_url)
    if not data_dir:
        raise DulyError(N_("give --data DIR (SQLite) or --database postgresql://… for the server's storage"))
    return SQLiteStorage(data_dir)
