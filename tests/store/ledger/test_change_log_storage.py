"""How the change log stores an envelope's operations: big ones compressed, small ones as text; the hash chain,
`verify`, the audit trail and an older ledger's text envelopes all read the same canonical text."""
from __future__ import annotations

import json
import zlib

import pytest

from store.files import demo
from store.ledger import changes, schema
from store.ledger.ledger import Ledger
from store.write import customers
from tests.support.cli import PASSPHRASE


def stored(ledger) -> list[tuple[int, str]]:
    return ledger.conn.execute("SELECT device_seq, typeof(ops) FROM changes ORDER BY seq").fetchall()


@pytest.fixture
def demo_book(ledger):
    demo.build(ledger, customers=8, invoices=1200, seed=3)
    customers.add(ledger, "ZZ", "One person's edit")
    return ledger


def test_bulk_envelopes_are_stored_compressed_and_small_ones_stay_text(demo_book):
    kinds = dict(stored(demo_book))
    last = max(kinds)
    assert set(kinds[seq] for seq in kinds if seq != last) == {"blob"}
    assert kinds[last] == "text"  # one customer added: readable as it was
    assert changes.verify(demo_book.conn) == []


def test_a_stored_envelope_gives_back_the_canonical_text_its_hash_covers(demo_book):
    for row in demo_book.conn.execute("SELECT device, device_seq, hlc, actor, at, ops, prev_hash, hash FROM changes"):
        change = changes.row_to_change(row[:6])
        text = changes.ops_text(row[5])
        assert text == change.ops_json()  # parsed and written again: the very same text
        assert changes.chain_hash(row[6], change.body(text)) == row[7]
    # the SQL function reads both forms
    assert demo_book.conn.execute("SELECT count(*) FROM changes WHERE json_valid(ops_text(ops))").fetchone()[0] == \
        demo_book.conn.execute("SELECT count(*) FROM changes").fetchone()[0]


@pytest.mark.parametrize("spoil", ["edited", "not-zlib", "truncated"])
def test_a_tampered_compressed_envelope_is_caught_by_verify(demo_book, spoil):
    conn = demo_book.conn
    (packed,) = conn.execute("SELECT ops FROM changes WHERE device_seq=1").fetchone()
    text = zlib.decompress(packed).decode()
    value = {"edited": zlib.compress(text.replace('"amount":', '"amount":1', 1).encode()),
             "not-zlib": b"garbage",
             "truncated": packed[:-20]}[spoil]
    conn.execute("UPDATE changes SET ops=? WHERE device_seq=1", (value,))
    problems = changes.verify(conn)
    assert problems == [f"device {demo_book.device} entry 1: content was changed after it was written"]


def test_an_older_ledger_with_text_envelopes_is_compressed_on_open_and_still_verifies(demo_book, tmp_path):
    conn = demo_book.conn
    before = conn.execute("SELECT device_seq, ops_text(ops), hash FROM changes ORDER BY seq").fetchall()
    invoices = conn.execute("SELECT * FROM invoices ORDER BY id").fetchall()
    # As the version before this one wrote it: every envelope as text.
    conn.execute("UPDATE changes SET ops = ops_text(ops)")
    older = schema.MIGRATIONS.index(schema._v_compressed_change_log)  # the version before envelopes were compressed
    conn.execute(f"PRAGMA user_version = {older}")
    assert {kind for _, kind in stored(demo_book)} == {"text"}
    path = demo_book.path
    demo_book.close()
    upgrades = []
    with Ledger.open(path, PASSPHRASE, on_upgrade=lambda found, target: upgrades.append((found, target))) as led:
        assert upgrades == [(older, schema.VERSION)]
        kinds = dict(stored(led))
        assert list(kinds.values()).count("blob") == len(kinds) - 1
        assert led.conn.execute("SELECT device_seq, ops_text(ops), hash FROM changes ORDER BY seq").fetchall() == before
        assert changes.verify(led.conn) == []
        assert led.conn.execute("SELECT * FROM invoices ORDER BY id").fetchall() == invoices


def test_the_audit_trail_lists_compressed_envelopes_by_document_date(cli):
    cli("init")
    with Ledger.open(cli.path, PASSPHRASE) as led:
        demo.build(led, customers=4, invoices=200, seed=5)
        assert "blob" in {kind for _, kind in stored(led)}
        first = led.row("SELECT min(date) AS d FROM invoices")["d"]
    result = cli("audit", "--by", "document", "--from", first, "--to", first, "--format", "json")
    assert result.code == 0, result.err
    rows = json.loads(result.out)
    assert rows and all(isinstance(row["ops"], list) for row in rows)
    assert any(op.get("d", {}).get("date") == first for row in rows for op in row["ops"])
