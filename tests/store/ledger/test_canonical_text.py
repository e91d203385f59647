"""The text the hash chain covers is canonical() of the envelope, whichever way the store makes it: an envelope of a
bulk write (Write.events) is the same text, byte for byte, as canonical() of its operations' documented form
(Op.to_json), for values that JSON writers disagree on."""
from __future__ import annotations

import json

from hypothesis import given, settings, strategies as st

from store.ledger import changes, packing
from store.ledger.changes import Change, Op, canonical
from store.ledger.ledger import Ledger
from store.write import customers
from tests.support.cli import PASSPHRASE

TRICKY = ["上海恒达贸易有限公司", 'say "hi"', "back\\slash", "tab\tnew\nline\r", "\x00\x1f\x7f", "\u2028\u2029",
          "emoji 😀 𠀀", "", " ", "null", "ü é ß", "'single'", "</script>", "\ud7ff\ue000"]
LINES = [{"description": "货物销售", "qty": "1.5", "unit_price": 100000, "tax_bp": 1300, "nested": {"b": [1, None]}},
         {"a": None, "Z": -1, "é": "x", "0": 2 ** 62, "list": ["货", {"y": 1, "x": "运输:1:30.00"}]}]


def _documented(change: Change) -> str:
    """canonical() of the whole envelope, its operations as Op.to_json writes them."""
    return canonical({"device": change.device, "device_seq": change.device_seq, "hlc": change.hlc,
                      "actor": change.actor, "at": change.at, "ops": [op.to_json() for op in change.ops]})


def _change(ops) -> Change:
    return Change("d3v1ce", 7, "2026-11-30T12:00:00.000Z-0001-d3v1ce", "会计 \"王\"", "2026-11-30T12:00:00.000Z",
                  tuple(ops))


def test_tricky_values_give_the_documented_text():
    ops = [Op("event", "invoices", f"id-{k}", data={"number": text, "total": k * 1000 - 5, "tax": None,
                                                  "description": text, "customer_id": "c"})
           for k, text in enumerate(TRICKY)]
    ops.append(Op("event", "invoice_lines", "l1", data={"pos": 1, "description": json.dumps(LINES), "qty": "2"}))
    ops.append(Op("set", "drafts", "d1", column="lines", value=LINES))
    ops.append(Op("set", "terms", "t1", column="lines", value=["40%:days_after:10", "balance:days_after:40"]))
    ops.append(Op("set", "customers", "c1", column="credit_limit", value=None))
    change = _change(ops)
    assert change.body() == _documented(change)
    assert change.body().encode() == _documented(change).encode()
    assert f',"ops":{change.ops_json()}}}' in change.body()


_scalars = st.none() | st.booleans() | st.integers(-2 ** 63, 2 ** 63 - 1) | st.text(max_size=12) | st.sampled_from(TRICKY)
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=4), inner, max_size=3), max_leaves=8)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(min_size=1, max_size=8), st.dictionaries(
    st.sampled_from(["number", "description", "total", "tax", "customer_id", "date", "terms"]), _values,
    max_size=7)), max_size=6))
def test_any_event_values_give_the_documented_text(rows):
    change = _change(Op("event", "invoices", row_id, data=data) for row_id, data in rows)
    assert change.body() == _documented(change)


def test_a_bulk_writes_envelopes_hash_the_documented_text(tmp_path):
    with Ledger.create(tmp_path / "x.duly", PASSPHRASE, actor="会计") as led:
        customers.add(led, "A01", "恒达", currency="CNY")
        with led.writing() as tx:
            tx.events("notes", [(f"n{k}", {"customer_id": "c", "channel": "电话", "text": text, "at": None})
                                for k, text in enumerate(TRICKY)])
            tx.events("notes", [("m1", {"text": json.dumps(LINES, ensure_ascii=False), "customer_id": "c"})])
        rows = led.conn.execute("SELECT device, device_seq, hlc, actor, at, ops, prev_hash, hash FROM changes "
                                "ORDER BY device_seq").fetchall()
        assert changes.verify(led.conn) == []
        device, seq, hlc, actor, at, ops, prev, digest = rows[-1]
        change = changes.row_to_change((device, seq, hlc, actor, at, ops))
        assert len(change.ops) == len(TRICKY) + 1
        assert packing.unpack(ops) == change.ops_json()
        assert digest == changes.chain_hash(prev, _documented(change))


def _json_text(value) -> str:
    """The canonical text as the standard library writes it: what every ledger's change log holds."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


_any_scalar = (_scalars | st.integers() | st.sampled_from([2 ** 64, -2 ** 70, "lone \ud800 surrogate", "\udfff"])
               | st.text(st.characters(blacklist_categories=()), max_size=6))
_any_value = st.recursive(_any_scalar, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=4) | st.sampled_from(["é", "E", "中", "😀", "\uffff", ""]), inner, max_size=4), max_leaves=10)


@settings(max_examples=400, deadline=None)
@given(_any_value)
def test_canonical_text_is_the_text_every_earlier_ledger_hashed(value):
    """canonical() is written by a faster library than the ledgers written before it, and must give the same text
    byte for byte, or their envelopes would no longer hash to their chain: for every value an operation holds,
    and for those the faster one refuses (integers beyond 64 bits, lone surrogates)."""
    assert canonical(value) == _json_text(value)


def test_keys_that_are_not_text_are_written_as_before():
    value = {"ops": [{1: "one", 2: "two"}], "a": {None: 0}}
    assert canonical(value) == _json_text(value)


# Operations text as an earlier Duly (json.dumps) wrote it for a change received from another device: JSON parsed on
# the way in holds floats whatever this version writes, and NaN / Infinity, which json.loads takes.
REMOTE_FLOATS = ('[{"c":"credit_limit","id":"c1","op":"set","t":"customers","v":1e-07},'
                 '{"c":"credit_limit","id":"c2","op":"set","t":"customers","v":1e-05},'
                 '{"c":"credit_limit","id":"c3","op":"set","t":"customers","v":NaN},'
                 '{"c":"credit_limit","id":"c4","op":"set","t":"customers","v":-Infinity},'
                 '{"c":"credit_limit","id":"c5","op":"set","t":"customers","v":-0.0},'
                 '{"c":"credit_limit","id":"c6","op":"set","t":"customers","v":[2.5e-08,{"x":1e+16}]}]')


def test_a_remote_changes_floats_are_written_as_the_text_it_was_hashed_as():
    """A change from another device is parsed (row_to_change, payload.read) and its text made again to hash it
    (apply, check_batch): floats must come out as json wrote them, or a change an earlier ledger holds no longer
    hashes to its chain when it arrives again (1e-07 became 1e-7, NaN became null)."""
    change = changes.row_to_change(("d3v1ce", 1, "2026-11-30T12:00:00.000Z-0000-d3v1ce", "them",
                                    "2026-11-30T12:00:00.000Z", REMOTE_FLOATS))
    assert change.ops_json() == REMOTE_FLOATS
    assert canonical(changes.loads(REMOTE_FLOATS)) == REMOTE_FLOATS


def test_a_write_of_a_value_json_cannot_write_is_still_refused(tmp_path):
    """json refused a datetime, so a write holding one failed whole; the faster writer spells it itself
    (2026-11-30T12:00:00) where the row SQLite stores holds 2026-11-30 12:00:00: every other device would apply a
    value this one does not hold."""
    import datetime

    import pytest

    with pytest.raises(TypeError):
        canonical([{"at": datetime.datetime(2026, 11, 30, 12, 0)}])
    with pytest.raises(TypeError):
        canonical([{"date": datetime.date(2026, 11, 30)}])
    with Ledger.create(tmp_path / "x.duly", PASSPHRASE) as led:
        logged = led.conn.execute("SELECT count(*) FROM changes").fetchone()[0]
        with pytest.raises(TypeError):
            with led.writing() as tx:
                tx.event("notes", "n1", customer_id="c", text="x", at=datetime.datetime(2026, 11, 30, 12, 0))
        assert led.conn.execute("SELECT count(*) FROM notes").fetchone()[0] == 0
        assert led.conn.execute("SELECT count(*) FROM changes").fetchone()[0] == logged
