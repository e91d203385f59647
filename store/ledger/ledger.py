"""The ledger: an open encrypted store, and the one write path (intent -> operations -> apply)."""
from __future__ import annotations


import getpass
import os
import secrets
import string
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path


from store.ledger import changes, db, schema
from store.ledger.changes import Change, Op
from store.errors import DulyError, LedgerLocked
from store.ledger.hlc import Clock, Stamp
from store.ledger.ids import uuid7
from store.ledger.device_secrets import move_secrets
from store.i18n import N_

# A bulk job's transaction is written to the change log as envelopes of about this many operations (a few
# hundred KB of JSON each), well under the sync server's request limit.
OPS_PER_ENVELOPE = 2000


class NewerLedger(DulyError):
    """The ledger was written by a newer Duly than this one."""


def default_actor() -> str:
    try:
        return os.environ.get("DULY_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _series_prefix() -> str:
    return secrets.choice(string.ascii_uppercase) + secrets.choice(string.digits)


class Ledger:
    """One connection to one ledger file, for one thread."""

    def __init__(self, conn, path: Path, passphrase: str, actor: str | None = None):
        self.conn = conn
        self.path = Path(path)
        self._passphrase = passphrase
        self.actor = actor or default_actor()
        self.device = self.meta("device_id")
        self.clock = Clock(self.device)
        self._tx: Write | None = None  # the write open on this connection (writing() joins it)
        self._remembered: dict[str, tuple] = {}  # remembered(): name -> (state of the file and key, value)
        self._catch_up(self.meta("hlc") or conn.execute("SELECT max(hlc) FROM changes").fetchone()[0])

    # -- lifecycle -------------------------------------------------------------------------------
    @classmethod
    def create(cls, path, passphrase: str, *, actor: str | None = None, series: str | None = None) -> "Ledger":
        conn = db.connect(path, passphrase, create=True)
        try:
            schema.migrate(conn)
            conn.execute("BEGIN IMMEDIATE")
            device = secrets.token_hex(8)
            for key, value in {
                "device_id": device,
                "ledger_id": uuid7(),
                "series_prefix": series or _series_prefix(),
                "created_at": _utc_now(),
            }.items():
                conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))
            conn.execute("COMMIT")
        except BaseException:
            conn.close()
            Path(path).unlink(missing_ok=True)
            raise
        return cls(conn, Path(path), passphrase, actor)

    @classmethod
    def open(cls, path, passphrase: str, *, actor: str | None = None, on_upgrade=None) -> "Ledger":
        """Open a ledger, upgrading its schema first if it is older; `on_upgrade(found, target)` is called
        before an upgrade, which can take seconds on a big ledger (a cache is rebuilt), so that a person is
        told why they wait."""
        conn = db.connect(path, passphrase)
        try:
            found = schema.version(conn)
            if found > schema.VERSION:
                raise NewerLedger(N_("ledger {path} was written by a newer Duly (schema {found}); upgrade Duly"),
                                  path=path, found=found)
            if found < schema.VERSION:
                if on_upgrade is not None:
                    on_upgrade(found, schema.VERSION)
                schema.migrate(conn)
            ledger = cls(conn, Path(path), passphrase, actor)
            ledger._move_secrets()
            return ledger
        except db.OperationalError as exc:
            conn.close()
            if "locked" in str(exc):
                raise LedgerLocked(str(path)) from None
            raise
        except BaseException:
            conn.close()
            raise

    def _move_secrets(self) -> None:
        """Secrets an older Duly synced become this device's own (store.ledger.device_secrets); a viewer, which
        may not write to the team's book, leaves it to the admin's or a member's clearing change. Best effort:
        when another process holds the write lock, the next open does it."""
        if self.meta("sync.role") == "viewer":
            return
        try:
            move_secrets(self)
        except LedgerLocked:
            pass

    def reopen(self) -> "Ledger":
        """A second connection to the same file, for another thread."""
        return Ledger.open(self.path, self._passphrase, actor=self.actor)

    def rekey(self, new_passphrase: str) -> None:
        """Change the passphrase (SQLCipher re-encrypts every page)."""
        db.rekey(self.conn, new_passphrase)
        self._passphrase = new_passphrase

    def close(self) -> None:
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- reads remembered while nothing is written ---------------------------------------------------
    def remembered(self, name: str, key, compute):
        """compute(), or the value it gave last time under `name` for the same `key` if nothing was written to the
        file since: not by this connection (its total_changes: every row inserted, updated or deleted, by
        triggers too, even in a transaction rolled back since) and not by any other (PRAGMA data_version). For
        a read of the whole book that several screens make in turn (the open position as of today); one value
        is kept per name (the caller chooses how many names a kind of read may hold)."""
        state = (key, self.conn.total_changes, self.conn.execute("PRAGMA data_version").fetchone()[0])
        held = self._remembered.get(name)
        if held is not None and held[0] == state:
            return held[1]
        self._remembered.pop(name, None)  # never two whole-book values held at once
        value = compute()
        self._remembered[name] = (state, value)
        return value

    # -- metadata --------------------------------------------------------------------------------
    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    def next_counter(self, name: str) -> int:
        """Next value of a local gapless counter (call inside a write)."""
        self.conn.execute(
            "INSERT INTO counters (name, value) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET value=value+1",
            (name,),
        )
        return self.conn.execute("SELECT value FROM counters WHERE name=?", (name,)).fetchone()[0]

    def next_number(self, counter: str, table: str, template: str) -> str:
        """Next free document number of this device's series (call inside a write).

        `template` takes {prefix} and {n}, e.g. "{prefix}-{n:06d}"; numbers already taken (an import,
        `--number`) are skipped, so two offline devices with different prefixes never collide.
        """
        prefix = self.meta("series_prefix") or "A0"
        while True:
            number = template.format(prefix=prefix, n=self.next_counter(counter))
            if not self.conn.execute(f"SELECT 1 FROM {table} WHERE number=?", (number,)).fetchone():
                return number

    # -- the write path --------------------------------------------------------------------------
    def _catch_up(self, stamp: str | None) -> None:
        """Never stamp below a stamp already in the file (written by another connection, or a remote
        change). No drift check here: these stamps are already accepted, and refusing them would lock
        the user out of their own ledger after the system clock was set back."""
        if not stamp:
            return
        self.clock.catch_up(Stamp.parse(stamp))

    @contextmanager
    def writing(self):
        """One user intent = one transaction = one change-log envelope (a bulk job: envelopes of bounded size, all
        in the one transaction): `tx.set` for editable fields, `tx.event` for posted documents, `tx.local` for
        device-only tables. Re-entrant: a store write called inside another's `writing()` joins it (a whole import
        file, issuing a draft), so each keeps its own rules and the whole is still one transaction."""
        if self._tx is not None:
            yield self._tx
            self._tx.seal_if_full()  # between two whole writes of a bulk job: envelopes of bounded size
            return
        with db.transaction(self.conn, self.path):
            self._catch_up(self.meta("hlc"))
            tx = self._tx = Write(self, str(self.clock.now()), _utc_now())
            try:
                yield tx
            finally:
                self._tx = None
            if tx.ops:
                self._append_envelope(tx)
            tx.write_appending()
            if tx.envelopes:
                self.set_meta("hlc", tx.hlc)

    @contextmanager
    def local(self):
        """A write to this device's own tables (meta, sync state, the review list): one transaction, nothing in
        the change log, never synced. Joins a transaction already open."""
        with db.transaction(self.conn, self.path):
            yield self.conn

    def _append_envelope(self, tx: "Write") -> None:
        """The operations collected so far become the next envelope of this device's change log (inside the
        transaction: a bulk write of several envelopes commits all of them or none). Its row is written when the
        next envelope is appended or the write ends (changes.append_later: compressed meanwhile)."""
        tx.write_appending()
        seq, prev = changes.last_entry(self.conn, self.device)
        tx.appending = changes.append_later(Change(self.device, seq + 1, tx.hlc, self.actor, tx.at,
                                                   tuple(tx.ops)), prev)
        tx.ops = []
        tx.envelopes += 1

    def apply_remote(self, change: Change) -> bool:
        """Apply a change from another device (sync) through the same `apply`, in one transaction."""
        return self.apply_remote_batch([change]) == 1

    def apply_remote_batch(self, batch: list[Change]) -> int:
        """Apply a batch of remote changes in ONE transaction (all or none); returns how many were new."""
        for change in batch:
            self.clock.observe(Stamp.parse(change.hlc), device=change.device)
        with db.transaction(self.conn, self.path):
            applied = changes.apply_many(self.conn, batch)
            top = max((c.hlc for c in applied), default="")
            if top > (self.meta("hlc") or ""):
                self.set_meta("hlc", top)  # so every connection stamps after it (see _catch_up)
        return len(applied)

    # -- reading ---------------------------------------------------------------------------------
    def rows(self, sql: str, params=()) -> list[dict]:
        cursor = self.conn.execute(sql, params)
        names = [d[0] for d in cursor.description or ()]
        return [dict(zip(names, values)) for values in cursor]

    def row(self, sql: str, params=()) -> dict | None:
        cursor = self.conn.execute(sql, params)
        try:
            values = cursor.fetchone()
            return None if values is None else dict(zip([d[0] for d in cursor.description], values))
        finally:
            cursor.close()  # finish the statement: a half-read one would take the next interrupt meant for others

    def setting(self, key: str, default: str | None = None) -> str | None:
        found = self.conn.execute("SELECT value FROM settings WHERE id=?", (key,)).fetchone()
        return found[0] if found and found[0] is not None else default


class Write:
    """Collects the operations of one transaction and applies each as it is added."""

    def __init__(self, ledger: Ledger, hlc: str, at: str):
        self.ledger = ledger
        self.conn = ledger.conn
        self.hlc = hlc
        self.at = at
        self.ops: list[Op] = []
        self.envelopes = 0  # envelopes of this transaction appended to the change log (a bulk write has several)
        self.appending: changes.Appending | None = None  # the last envelope, its row not yet written

    def write_appending(self) -> None:
        """Write the row of the envelope appended last, if it is not written yet."""
        if self.appending is not None:
            self.appending.write(self.conn)
            self.appending = None

    def seal_if_full(self) -> None:
        """Between two whole store writes of a bulk job: once OPS_PER_ENVELOPE operations are collected, they
        become one envelope, so that an import of any size is envelopes of bounded size (memory, the file, and
        the sync server's request limit) in one transaction, not one envelope of every row."""
        if len(self.ops) >= OPS_PER_ENVELOPE:
            self.ledger._append_envelope(self)

    def _apply(self, op: Op) -> None:
        changes.apply_op(self.conn, op, self.hlc, device=self.ledger.device, actor=self.ledger.actor, at=self.at)
        self.ops.append(op)

    def set(self, table: str, row_id: str, **fields) -> None:
        """Set editable fields (a new row is created by setting its fields)."""
        allowed = schema.EDITABLE[table]
        for column in fields:
            if column not in allowed:
                raise ValueError(f"{table}.{column} is not an editable field")
        if len(fields) == 1:
            column, value = next(iter(fields.items()))
            self._apply(Op("set", table, row_id, column=column, value=value))
            return
        changes.apply_sets(self.conn, table, row_id, fields, self.hlc, device=self.ledger.device,
                           actor=self.ledger.actor, at=self.at)
        self.ops.extend(Op("set", table, row_id, column=column, value=value) for column, value in fields.items())

    def event(self, table: str, row_id: str | None = None, **data) -> str:
        """Post an immutable document row; returns its id."""
        unknown = set(data) - set(schema.EVENTS[table])
        if unknown:
            raise ValueError(f"{table} has no fields {sorted(unknown)}")
        row_id = row_id or uuid7()
        self._apply(Op("event", table, row_id, data=data))
        return row_id

    def local(self, table: str, **row) -> None:
        """Write a row of a device-only table (schema.LOCAL: never in the change log, never synced), in this
        same transaction; a row with the same key is replaced."""
        if table not in schema.LOCAL:
            raise ValueError(f"{table} is not a device-only table")
        columns = list(row)
        self.conn.execute(f"INSERT OR REPLACE INTO {table} ({', '.join(columns)}) VALUES "
                          f"({', '.join('?' * len(columns))})", [row[c] for c in columns])

    def local_rows(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        """`local` for many rows of a device-only table at once (a bulk import's log): one executemany."""
        if table not in schema.LOCAL:
            raise ValueError(f"{table} is not a device-only table")
        self.conn.executemany(f"INSERT OR REPLACE INTO {table} ({', '.join(columns)}) VALUES "
                              f"({', '.join('?' * len(columns))})", rows)

    def events(self, table: str, rows: list[tuple[str, dict]]) -> None:
        """Post many documents of one table at once (bulk paths: demo, import): one executemany per set of fields,
        the settlement cache refreshed once for the batch (changes.apply_events). The fields of each distinct set
        are checked once, and the rows are grouped for the executemany in the same pass that makes their Ops."""
        allowed = set(schema.EVENTS[table])
        ops: list[Op] = []
        groups: dict[tuple[str, ...], list[tuple]] = {}
        event = Op._make  # a named tuple's _make: the Op without its keyword handling, a million times in a demo
        append = ops.append
        for row_id, data in rows:
            keys = tuple(data)
            group = groups.get(keys)
            if group is None:
                if not allowed.issuperset(keys):
                    raise ValueError(f"{table} has no fields {sorted(set(keys) - allowed)}")
                group = groups[keys] = []
            group.append((row_id, *data.values()))
            append(event(("event", table, row_id, None, None, data)))
        changes.apply_event_groups(self.conn, table, groups, ops)
        self.ops.extend(ops)


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
