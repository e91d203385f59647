"""The change log: every transaction is one envelope of operations, applied by the one `apply`.

Local writes and remote changes (sync) both pass through `apply_ops` + `append`, inside one
transaction. The log doubles as the audit trail: entries are hash-chained per device, so an
edited or removed entry shows up in `verify`.
"""
from __future__ import annotations

import hashlib
import json
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from store.errors import DulyError
from store.ledger import packing
from store.ledger import schema
from store.ledger.schema import EDITABLE, EVENTS, SEARCHED, reindex_customer

GENESIS = "0" * 64

class Op(NamedTuple):
    """`set` one column of an editable record, or post an `event` (a whole immutable row). A named tuple, not a
    frozen dataclass: a bulk job makes a million of them (a 200k-invoice demo), and this is made in half the time."""

    kind: str  # "set" | "event"
    table: str
    row: str
    column: str | None = None
    value: Any = None
    data: dict | None = None

    def to_json(self) -> dict:
        if self.kind == "set":
            return {"op": "set", "t": self.table, "id": self.row, "c": self.column, "v": self.value}
        return {"op": "event", "t": self.table, "id": self.row, "d": self.data}

    @classmethod
    def from_json(cls, obj: dict) -> "Op":
        if not isinstance(obj, dict):
            raise MalformedChange(f"operation not understood: {str(obj)[:120]}")
        kind, table = obj.get("op"), obj.get("t")
        if kind == "set" and table in EDITABLE and obj.get("c") in EDITABLE[table]:
            return cls("set", table, str(obj["id"]), column=obj["c"], value=obj.get("v"))
        if kind == "event" and table in EVENTS and isinstance(obj.get("d"), dict):
            unknown = set(obj["d"]) - set(EVENTS[table])
            if not unknown:
                return cls("event", table, str(obj["id"]), data=obj["d"])
        raise MalformedChange(f"operation not understood: {json.dumps(obj)[:120]}")


@dataclass(frozen=True)
class Change:
    """One envelope: what one device did in one transaction."""

    device: str
    device_seq: int
    hlc: str
    actor: str
    at: str  # wall-clock time, ISO 8601 UTC, for people reading the audit trail
    ops: tuple[Op, ...] = field(default_factory=tuple)

    def body(self, ops_text: str | None = None) -> str:
        """Canonical text that the hash chain covers; `ops_text` is `ops_json()` when already made."""
        head = canonical({"device": self.device, "device_seq": self.device_seq, "hlc": self.hlc,
                          "actor": self.actor, "at": self.at})
        # Keys are sorted and "ops" sorts last, so this is canonical() of the whole envelope.
        return f'{head[:-1]},"ops":{self.ops_json() if ops_text is None else ops_text}}}'

    def ops_json(self) -> str:
        # An event's dict is made here, not through Op.to_json (a bulk envelope has thousands): the same dict, so
        # the same canonical text (tests/store/ledger/test_canonical_text.py).
        return canonical([{"op": "event", "t": op.table, "id": op.row, "d": op.data} if op.kind == "event"
                          else op.to_json() for op in self.ops])


class MalformedChange(DulyError):
    """An envelope or operation that this version cannot read or must not apply."""



# Sorted keys; and dates, times and dataclasses refused, as json refuses them (orjson would write them its own way).
_ORJSON = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def canonical(obj) -> str:
    """The change log's canonical JSON: keys sorted, no spaces, text as it is (not \\u-escaped). Written by
    orjson, six times as fast as json for a bulk envelope and the same text for all that operations hold (text,
    integers, null, true and false, lists, objects; tests/store/ledger/test_canonical_text.py); what orjson
    refuses (an integer beyond 64 bits, a lone surrogate, a key that is not text) json writes as it always did.
    Floats: no operation this device makes holds one (money is integer minor units, quantities are text); one read
    from another device's JSON is a JsonFloat (loads), which orjson refuses, so json writes it as it was hashed."""
    try:
        return orjson.dumps(obj, option=_ORJSON).decode()
    except TypeError:
        return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class JsonFloat(float):
    """A float read from another device's JSON (loads): orjson refuses it, so canonical() writes it as json.dumps
    does and as every earlier ledger hashed it (1e-07, not 1e-7; NaN, not null). A float in every other way."""

    __slots__ = ()


def _json_float(text: str) -> JsonFloat:
    return JsonFloat(text)


def loads(text: str | bytes):
    """json.loads for an envelope's text: its floats (and NaN, Infinity) are JsonFloat, so that canonical() of what
    was read is the text it was read from."""
    return json.loads(text, parse_float=_json_float, parse_constant=_json_float)


def ops_text(stored: str | bytes) -> str:
    """The canonical operations text of a stored `ops` value (MalformedChange when a BLOB is not one)."""
    try:
        return packing.unpack(stored)
    except ValueError:
        raise MalformedChange("operations cannot be read: the stored envelope is damaged") from None


def chain_hash(prev_hash: str, body: str) -> str:
    return hashlib.sha256((prev_hash + "\n" + body).encode()).hexdigest()


def apply_op(conn, op: Op, hlc: str, *, device: str, actor: str, at: str) -> None:
    """Apply one operation. `set` wins only with a newer clock than the column's; `event` inserts once."""
    if op.kind == "event":
        cols = ["id", *op.data]
        marks = ",".join("?" * len(cols))
        conn.execute(
            f"INSERT OR IGNORE INTO {op.table} ({','.join(cols)}) VALUES ({marks})",
            [op.row, *op.data.values()],
        )
        return
    seen = conn.execute(
        "SELECT hlc FROM field_clock WHERE tbl=? AND row_id=? AND col=?", (op.table, op.row, op.column)
    ).fetchone()
    if seen is not None and seen[0] >= hlc:
        return  # an equal or newer write already won
    conn.execute(f"INSERT OR IGNORE INTO {op.table} (id) VALUES (?)", (op.row,))
    old = conn.execute(f"SELECT {op.column} FROM {op.table} WHERE id=?", (op.row,)).fetchone()[0]
    conn.execute(f"UPDATE {op.table} SET {op.column}=? WHERE id=?", (op.value, op.row))
    conn.execute(
        "INSERT INTO field_clock (tbl, row_id, col, hlc) VALUES (?,?,?,?) "
        "ON CONFLICT (tbl, row_id, col) DO UPDATE SET hlc=excluded.hlc",
        (op.table, op.row, op.column, hlc),
    )
    if op.table == "customers" and op.column in SEARCHED and old != op.value:
        reindex_customer(conn, op.row)
    if old != op.value:
        conn.execute(
            "INSERT INTO field_history (tbl, row_id, col, old, new, hlc, device, actor, at) VALUES (?,?,?,?,?,?,?,?,?)",
            (op.table, op.row, op.column, _text(old), _text(op.value), hlc, device, actor, at),
        )


def apply_sets(conn, table: str, row: str, values: dict, hlc: str, *, device: str, actor: str, at: str) -> None:
    """`set` operations of one row, each of a different column, under one clock: exactly what apply_op does for
    each of them, in five statements for the row instead of six for each column (a customer has a dozen)."""
    cols = list(values)
    marks = ",".join("?" * len(cols))
    clocks = dict(conn.execute(f"SELECT col, hlc FROM field_clock WHERE tbl=? AND row_id=? AND col IN ({marks})",
                               (table, row, *cols)))
    won = [c for c in cols if c not in clocks or clocks[c] < hlc]  # an equal or newer write already won the rest
    if not won:
        return
    conn.execute(f"INSERT OR IGNORE INTO {table} (id) VALUES (?)", (row,))
    old = conn.execute(f"SELECT {','.join(won)} FROM {table} WHERE id=?", (row,)).fetchone()
    conn.execute(f"UPDATE {table} SET {','.join(f'{c}=?' for c in won)} WHERE id=?", [values[c] for c in won] + [row])
    conn.executemany(
        "INSERT INTO field_clock (tbl, row_id, col, hlc) VALUES (?,?,?,?) "
        "ON CONFLICT (tbl, row_id, col) DO UPDATE SET hlc=excluded.hlc", [(table, row, c, hlc) for c in won])
    changed = [(table, row, c, _text(was), _text(values[c]), hlc, device, actor, at)
               for c, was in zip(won, old) if was != values[c]]
    if table == "customers" and SEARCHED.intersection(c for _t, _r, c, *_ in changed):
        reindex_customer(conn, row)
    if changed:
        conn.executemany(
            "INSERT INTO field_history (tbl, row_id, col, old, new, hlc, device, actor, at) VALUES (?,?,?,?,?,?,?,?,?)",
            changed)


def apply_events(conn, table: str, ops: list[Op]) -> None:
    """`event` operations of one table, inserted once each, with one executemany per set of columns; the settlement
    cache rows of the documents they touch are computed again once for the whole batch (schema.refresh_in_batch),
    not by the triggers row by row."""
    groups: dict[tuple[str, ...], list[tuple]] = {}
    for op in ops:
        groups.setdefault(tuple(op.data), []).append((op.row, *op.data.values()))
    apply_event_groups(conn, table, groups, ops)


def apply_event_groups(conn, table: str, groups: dict[tuple[str, ...], list[tuple]], ops: list[Op]) -> None:
    """apply_events with the rows already grouped by their columns: {columns: [(id, *values)]}."""
    def write() -> None:
        for cols, values in groups.items():
            marks = ",".join("?" * (len(cols) + 1))
            conn.executemany(f"INSERT OR IGNORE INTO {table} (id,{','.join(cols)}) VALUES ({marks})", values)

    if table not in schema.DOC_STATE_TOUCHES:
        write()
        return
    schema.refresh_in_batch(conn, lambda: schema.touched(table, [(op.row, op.data) for op in ops]), write)


def _text(value) -> str | None:
    return None if value is None else str(value)


def last_entry(conn, device: str) -> tuple[int, str]:
    row = conn.execute(
        "SELECT device_seq, hash FROM changes WHERE device=? ORDER BY device_seq DESC LIMIT 1", (device,)
    ).fetchone()
    return (row[0], row[1]) if row else (0, GENESIS)


def apply(conn, change: Change) -> bool:
    """Apply an envelope inside the caller's transaction; False if it was already applied."""
    if conn.execute(
        "SELECT 1 FROM changes WHERE device=? AND device_seq=?", (change.device, change.device_seq)
    ).fetchone():
        return False
    last_seq, prev_hash = last_entry(conn, change.device)
    if change.device_seq != last_seq + 1:
        raise MalformedChange(
            f"change {change.device_seq} from device {change.device} arrived before change {last_seq + 1}"
        )
    _apply_ops(conn, change)
    append(conn, change, prev_hash)
    return True


def _apply_ops(conn, change: Change) -> None:
    """apply_op for each operation in order, with the same statements on the same rows in the same order, so the
    same outcome: consecutive events of one table with the same fields are inserted with one executemany (a bulk
    job's envelope is thousands of them), and consecutive `set`s of one row, each of a different column, go
    through apply_sets (a new customer is a dozen)."""
    run_key: tuple | None = None
    run: list = []

    def flush() -> None:
        if not run:
            return
        if run_key[0] == "event":
            _, table, cols = run_key
            conn.executemany(f"INSERT OR IGNORE INTO {table} ({','.join(('id', *cols))}) VALUES "
                             f"({','.join('?' * (len(cols) + 1))})", run)
        elif len(run) == 1:
            apply_op(conn, run[0], change.hlc, device=change.device, actor=change.actor, at=change.at)
        else:
            apply_sets(conn, run_key[1], run_key[2], {op.column: op.value for op in run}, change.hlc,
                       device=change.device, actor=change.actor, at=change.at)
        run.clear()

    for op in change.ops:
        if op.kind == "event":
            key = ("event", op.table, tuple(op.data))
            if key != run_key:
                flush()
                run_key = key
            run.append((op.row, *op.data.values()))
        else:
            key = ("set", op.table, op.row)
            if key != run_key or any(o.column == op.column for o in run):
                flush()
                run_key = key
            run.append(op)
    flush()


def apply_many(conn, batch: list[Change]) -> list[Change]:
    """`apply` for each envelope of a batch inside the caller's transaction (those already applied are skipped);
    the settlement cache rows of the documents the batch posts are computed again once at the end
    (schema.refresh_in_batch), not row by row. Returns the envelopes that were new."""
    def documents() -> set[tuple[str, str]]:
        posted: dict[str, list] = {}
        for change in batch:
            for op in change.ops:
                if op.kind == "event" and op.table in schema.DOC_STATE_TOUCHES:
                    posted.setdefault(op.table, []).append((op.row, op.data))
        return set().union(*(schema.touched(table, rows) for table, rows in posted.items()))

    applied: list[Change] = []
    schema.refresh_in_batch(conn, documents, lambda: applied.extend(c for c in batch if apply(conn, c)))
    return applied


def append(conn, change: Change, prev_hash: str) -> str:
    """The envelope as the next row of its device's change log; returns its hash."""
    appending = append_later(change, prev_hash)
    appending.write(conn)
    return appending.row[-1]


class Appending(NamedTuple):
    """An envelope of append_later: its row, but for the `ops` value, which a second thread is making."""

    row: tuple  # device, device_seq, hlc, actor, at, prev_hash, hash
    ops: Future

    def write(self, conn) -> None:
        conn.execute("INSERT INTO changes (device, device_seq, hlc, actor, at, ops, prev_hash, hash) "
                     "VALUES (?,?,?,?,?,?,?,?)", (*self.row[:5], self.ops.result(), *self.row[5:]))


def append_later(change: Change, prev_hash: str) -> Appending:
    """`append` for a bulk write's envelopes: the operations text is hashed here and compressed on a second thread
    (zlib lets go of Python's lock) while the caller posts the next rows; the caller writes the row (write) before
    it reads the change log again or commits."""
    text = change.ops_json()
    digest = chain_hash(prev_hash, change.body(text))
    return Appending((change.device, change.device_seq, change.hlc, change.actor, change.at, prev_hash, digest),
                     packing.pack_soon(text))


def row_to_change(row) -> Change:
    """A stored row (device, device_seq, hlc, actor, at, ops) as a Change, its operations parsed and checked."""
    device, device_seq, hlc, actor, at, ops = row
    try:
        decoded = loads(ops_text(ops))
    except ValueError:
        raise MalformedChange(f"change {device_seq} from device {device}: operations are not JSON") from None
    if not isinstance(decoded, list):
        raise MalformedChange(f"change {device_seq} from device {device}: operations are not a list")
    return Change(device, device_seq, hlc, actor, at, tuple(Op.from_json(o) for o in decoded))


def verify(conn) -> list[str]:
    """Recompute every device's hash chain; return one line per problem (empty when intact)."""
    problems: list[str] = []
    expected: dict[str, tuple[int, str]] = {}
    rows = conn.execute(
        "SELECT device, device_seq, hlc, actor, at, ops, prev_hash, hash FROM changes ORDER BY device, device_seq"
    )
    for device, seq, hlc, actor, at, ops, prev_hash, digest in rows:
        want_seq, want_prev = expected.get(device, (1, GENESIS))
        if seq != want_seq:
            problems.append(f"device {device}: entries {want_seq}..{seq - 1} are missing")
        if prev_hash != want_prev:
            problems.append(f"device {device} entry {seq}: does not follow the entry before it")
        # The chain covers the canonical text itself (`append` hashes exactly the text it stores, compressed or
        # not), so it is hashed as stored: parsing 270 MB of operations of a 200k-invoice book only to print them
        # again took 17 s. A compressed value that does not even decompress was changed too.
        try:
            text = ops_text(ops)
        except MalformedChange:
            text = None
        if text is None or chain_hash(prev_hash, Change(device, seq, hlc, actor, at).body(text)) != digest:
            problems.append(f"device {device} entry {seq}: content was changed after it was written")
        expected[device] = (seq + 1, digest)
    return problems
