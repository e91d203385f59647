"""The store's one write path: transactions, the change log, LWW merge of remote changes, the clock."""
from __future__ import annotations

import time

import pytest

from store.ledger import changes
from store.write import customers
from store.ledger.changes import Change, MalformedChange, Op
from store.errors import ClockSkew, Conflict, LedgerExists, LedgerNotFound, WrongPassphrase
from store.ledger.hlc import Stamp
from store.ledger.ledger import Ledger
from tests.support.cli import PASSPHRASE, sha256

REMOTE = "remote-device-01"


def now_ms() -> int:
    return int(time.time() * 1000)


def remote_set(seq: int, ms: int, row: str, **fields) -> Change:
    ops = tuple(Op("set", "customers", row, column=c, value=v) for c, v in fields.items())
    return Change(REMOTE, seq, str(Stamp(ms, 0, REMOTE)), "bob", "2026-01-01T00:00:00.000Z", ops)


def name_of(ledger, row_id):
    return ledger.row("SELECT name FROM customers WHERE id=?", (row_id,))["name"]


def count(ledger, table="changes") -> int:
    return ledger.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


# -- opening and creating --------------------------------------------------------------------------

def test_open_with_wrong_passphrase_raises_and_does_not_touch_the_file(ledger):
    ledger.close()
    before = sha256(ledger.path)
    with pytest.raises(WrongPassphrase):
        Ledger.open(ledger.path, "wrong")
    assert sha256(ledger.path) == before


def test_create_refuses_an_existing_file_and_open_refuses_a_missing_one(ledger, tmp_path):
    with pytest.raises(LedgerExists):
        Ledger.create(ledger.path, PASSPHRASE)
    with pytest.raises(LedgerNotFound):
        Ledger.open(tmp_path / "missing.duly", PASSPHRASE)
    assert not (tmp_path / "missing.duly").exists()


# -- the write path --------------------------------------------------------------------------------

def test_a_failing_intent_rolls_back_everything(ledger):
    customers.add(ledger, "C1", "One")
    before = (count(ledger), count(ledger, "customers"), count(ledger, "field_history"))
    with pytest.raises(RuntimeError):
        with ledger.writing() as tx:
            tx.set("customers", "some-id", code="C2", name="Two")
            raise RuntimeError("boom")
    with pytest.raises(Conflict):
        customers.add(ledger, "C1", "Again")
    assert (count(ledger), count(ledger, "customers"), count(ledger, "field_history")) == before


def test_one_intent_is_one_change_entry_with_consecutive_device_seq(ledger):
    for i in range(3):
        customers.add(ledger, f"C{i}", f"N{i}", email=f"c{i}@example.com", phone="123456")
    customers.edit(ledger, "C1", name="N1b", email="x@example.com")
    rows = ledger.rows("SELECT device, device_seq, hlc FROM changes ORDER BY seq")
    assert [r["device_seq"] for r in rows] == [1, 2, 3, 4]
    assert {r["device"] for r in rows} == {ledger.device}
    assert [r["hlc"] for r in rows] == sorted(r["hlc"] for r in rows)
    assert changes.verify(ledger.conn) == []


def test_edit_can_change_the_code(ledger):
    customers.add(ledger, "OLD", "Renamed Co")
    assert customers.edit(ledger, "OLD", code="NEW") == {"code": ("OLD", "NEW")}
    assert customers.by_code(ledger, "NEW")["name"] == "Renamed Co"


def test_two_connections_editing_the_same_field_last_commit_wins(ledger):
    """Both connections are the same device; their clocks must not hand out equal or older stamps."""
    customers.add(ledger, "C1", "start")
    other = ledger.reopen()
    try:
        for i in range(40):
            writer = ledger if i % 2 else other
            customers.edit(writer, "C1", name=f"v{i}")
            assert customers.by_code(ledger, "C1")["name"] == f"v{i}"
        hlcs = [r[0] for r in ledger.conn.execute("SELECT hlc FROM changes ORDER BY device_seq")]
        assert hlcs == sorted(hlcs) and len(set(hlcs)) == len(hlcs)
    finally:
        other.close()


# -- applying remote changes (LWW per field) -------------------------------------------------------

def test_remote_change_with_older_clock_does_not_overwrite_a_newer_local_value(ledger):
    cid = customers.add(ledger, "C1", "local name")
    older = remote_set(1, now_ms() - 60_000, cid, name="remote old name", phone="555-0100")
    assert ledger.apply_remote(older) is True
    row = ledger.row("SELECT name, phone FROM customers WHERE id=?", (cid,))
    assert row["name"] == "local name"  # the local write is newer
    assert row["phone"] == "555-0100"  # a field nobody else wrote is taken
    assert changes.verify(ledger.conn) == []


def test_remote_change_with_newer_clock_wins_and_is_in_history(ledger):
    cid = customers.add(ledger, "C1", "local name")
    assert ledger.apply_remote(remote_set(1, now_ms() + 1_000, cid, name="remote new name")) is True
    assert name_of(ledger, cid) == "remote new name"
    last = customers.history(ledger, cid)[-1]
    assert (last["field"], last["old"], last["new"], last["actor"], last["device"]) == (
        "name", "local name", "remote new name", "bob", REMOTE)
    # a later local edit still wins over it: the clock observed the remote stamp
    customers.edit(ledger, "C1", name="local again")
    assert name_of(ledger, cid) == "local again"


def test_applying_the_same_remote_change_twice_is_a_no_op(ledger):
    cid = customers.add(ledger, "C1", "local")
    change = remote_set(1, now_ms() + 500, cid, name="remote")
    assert ledger.apply_remote(change) is True
    state = (count(ledger), count(ledger, "field_history"), ledger.rows("SELECT * FROM customers"))
    customers.edit(ledger, "C1", name="local later")
    state = (count(ledger), count(ledger, "field_history"), ledger.rows("SELECT * FROM customers"))
    assert ledger.apply_remote(change) is False
    assert (count(ledger), count(ledger, "field_history"), ledger.rows("SELECT * FROM customers")) == state


def test_remote_event_is_inserted_once(ledger):
    cid = customers.add(ledger, "C1", "x")
    op = Op("event", "payments", "pay-1", data={"customer_id": cid, "date": "2026-01-02", "amount": 100,
                                               "currency": "CNY"})
    c1 = Change(REMOTE, 1, str(Stamp(now_ms(), 0, REMOTE)), "bob", "2026-01-02T00:00:00.000Z", (op,))
    c2 = Change(REMOTE, 2, str(Stamp(now_ms(), 1, REMOTE)), "bob", "2026-01-02T00:00:00.000Z", (op,))
    assert ledger.apply_remote(c1) and ledger.apply_remote(c2)
    assert count(ledger, "payments") == 1


def test_remote_change_from_more_than_5_minutes_ahead_raises_clock_skew_naming_the_device(ledger):
    cid = customers.add(ledger, "C1", "local")
    before = count(ledger)
    future = remote_set(1, now_ms() + 6 * 60_000, cid, name="from the future")
    with pytest.raises(ClockSkew, match=REMOTE):
        ledger.apply_remote(future)
    assert count(ledger) == before and name_of(ledger, cid) == "local"
    # 4 minutes ahead is tolerated
    assert ledger.apply_remote(remote_set(1, now_ms() + 4 * 60_000, cid, name="near future"))


def test_remote_change_out_of_order_is_refused_and_writes_nothing(ledger):
    cid = customers.add(ledger, "C1", "local")
    before = count(ledger)
    with pytest.raises(MalformedChange):
        ledger.apply_remote(remote_set(2, now_ms(), cid, name="skipped one"))
    assert count(ledger) == before and name_of(ledger, cid) == "local"


def test_op_from_json_refuses_unknown_tables_columns_and_shapes():
    for bad in ({"op": "set", "t": "customers", "id": "x", "c": "id", "v": 1},
                {"op": "set", "t": "sqlite_master", "id": "x", "c": "sql", "v": 1},
                {"op": "event", "t": "payments", "id": "x", "d": {"evil": 1}},
                "not an object", ["list"]):
        with pytest.raises(MalformedChange):
            Op.from_json(bad)


def test_a_ledger_written_while_the_clock_ran_ahead_still_opens_and_takes_edits(ledger, monkeypatch):
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 20 * 60)  # the system clock is 20 minutes ahead
    customers.add(ledger, "C1", "written in the future")
    monkeypatch.setattr(time, "time", real)  # ... then it is corrected
    ledger.close()
    with Ledger.open(ledger.path, PASSPHRASE) as again:
        customers.edit(again, "C1", name="edited after the fix")
        assert customers.by_code(again, "C1")["name"] == "edited after the fix"


def test_a_remote_stamp_seen_by_one_connection_is_respected_by_another(ledger):
    cid = customers.add(ledger, "C1", "local")
    other = ledger.reopen()
    try:
        ledger.apply_remote(remote_set(1, now_ms() + 3 * 60_000, cid, name="remote, 3 min ahead"))
        customers.edit(other, "C1", name="typed later on another connection")
        assert name_of(ledger, cid) == "typed later on another connection"
    finally:
        other.close()
