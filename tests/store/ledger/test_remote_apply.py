"""Remote changes applied as a batch (consecutive events inserted together, a row's sets together, the settlement
cache refreshed once) give exactly the tables that applying each operation on its own gives, for generated
envelopes with the awkward cases: one id posted twice with different fields, a column set twice in one envelope,
sets older than the clock already held, events between the sets of one row."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

from store.ledger import changes, schema
from store.ledger.changes import Change, Op
from store.ledger.ledger import Ledger
from tests.support.cli import PASSPHRASE

DEVICE = "feedfacefeedface"
IDS = ("c1", "c2", "i1", "i2", "p1")


def _op():
    sets = st.builds(lambda row, col, value: Op("set", "customers", row, column=col, value=value),
                     st.sampled_from(("c1", "c2")), st.sampled_from(("code", "name", "credit_limit", "tags")),
                     st.none() | st.integers(0, 9) | st.sampled_from(("恒达", "HD", "x y")))
    invoices = st.builds(lambda row, total, number: Op("event", "invoices", row, data={
        "customer_id": "c1", "number": number, "date": "2026-01-05", "currency": "CNY", "total": total}),
        st.sampled_from(("i1", "i2")), st.integers(1, 900), st.sampled_from(("A-1", "A-2")))
    bare = st.builds(lambda row: Op("event", "invoices", row, data={"customer_id": "c2", "total": 50,
                                                                    "date": "2026-01-06"}), st.sampled_from(("i1", "i2")))
    payment = st.just(Op("event", "payments", "p1", data={"customer_id": "c1", "date": "2026-01-07", "amount": 300,
                                                          "currency": "CNY"}))
    allocation = st.builds(lambda row, inv, amount: Op("event", "allocations", row, data={
        "invoice_id": inv, "payment_id": "p1", "amount": amount, "date": "2026-01-08"}),
        st.sampled_from(("a1", "a2", "a3")), st.sampled_from(("i1", "i2")), st.integers(-50, 300))
    void = st.builds(lambda inv: Op("event", "voids", f"v-{inv}", data={"doc_table": "invoices", "doc_id": inv,
                                                                        "date": "2026-01-09", "reason": "x"}),
                     st.sampled_from(("i1", "i2")))
    return sets | invoices | bare | payment | allocation | void


@st.composite
def logs(draw):
    envelopes = []
    for seq in range(1, draw(st.integers(1, 4)) + 1):
        hlc = f"2026-11-30T12:00:0{draw(st.integers(0, 3))}.000Z-0000-{DEVICE}"  # not always newer: some sets lose
        envelopes.append(Change(DEVICE, seq, hlc, "them", "2026-11-30T12:00:00.000Z",
                                tuple(draw(st.lists(_op(), min_size=1, max_size=12)))))
    return envelopes


def _one_op_at_a_time(conn, change: Change) -> bool:
    """`apply` as it was: apply_op for each operation, the triggers keeping the cache."""
    last_seq, prev_hash = changes.last_entry(conn, change.device)
    for op in change.ops:
        changes.apply_op(conn, op, change.hlc, device=change.device, actor=change.actor, at=change.at)
    changes.append(conn, change, prev_hash)
    return True


def _everything(ledger) -> dict:
    out = {t: ledger.conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall()
           for t in ("customers", "invoices", "payments", "allocations", "voids", "doc_state")}
    out["search"] = ledger.conn.execute("SELECT * FROM customer_search ORDER BY 1, 2").fetchall()
    out["clock"] = ledger.conn.execute("SELECT * FROM field_clock ORDER BY 1, 2, 3").fetchall()
    out["history"] = ledger.conn.execute("SELECT tbl, row_id, col, old, new, hlc FROM field_history ORDER BY id").fetchall()
    out["log"] = ledger.conn.execute("SELECT device, device_seq, hash FROM changes WHERE device=? ORDER BY 2",
                                     (DEVICE,)).fetchall()
    return out


_made: dict[str, int] = {}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(logs(), st.integers(1, 4))
def test_a_remote_batch_gives_the_tables_of_its_operations_applied_one_by_one(tmp_path, log, split):
    _made["n"] = _made.get("n", 0) + 1
    base = tmp_path / str(_made["n"])
    base.mkdir()
    with Ledger.create(base / "batch.duly", PASSPHRASE, actor="me") as batch, \
            Ledger.create(base / "rows.duly", PASSPHRASE, actor="me") as rows:
        for start in range(0, len(log), split):
            batch.apply_remote_batch(log[start:start + split])
        with rows.local() as conn:
            for change in log:
                _one_op_at_a_time(conn, change)
        assert _everything(batch) == _everything(rows)
        assert schema.settled_cache_problems(batch.conn) == []
        assert batch.conn.execute("SELECT count(*) FROM doc_state_batch").fetchone()[0] == 0
