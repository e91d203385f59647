"""The settlement cache (doc_state) when a bulk write goes wrong part way, when bulk writes nest, and when a
whole-book suspension ends in an error: the cache must still equal a fresh computation from the documents, and the
row-by-row triggers must still be there and on for the next write."""
from __future__ import annotations

import pytest

from store.ledger import schema
from store.ledger.ledger import Ledger
from store.write import customers, invoices, payments
from tests.support.cli import PASSPHRASE


def _ledger(tmp_path) -> Ledger:
    led = Ledger.create(tmp_path / "book.duly", PASSPHRASE, actor="tester")
    customers.add(led, "A01", "Acme", currency="CNY")
    invoices.add(led, "A01", "2026-01-02", amount="100.00")
    return led


def _invoice(n: int) -> tuple[str, dict]:
    return (f"bulk-{n}", {"number": f"B-{n}", "customer_id": None, "date": "2026-01-05", "due_date": "2026-02-05",
                          "currency": "CNY", "total": 5000})


def test_a_bulk_write_that_fails_part_way_and_is_caught_leaves_the_rows_it_posted_in_the_cache(tmp_path):
    """Rows inserted before the failing one stay in the transaction (the caller caught the error and went on):
    row by row, the triggers gave each its cache row; the batch must too, and the triggers must stay on."""
    with _ledger(tmp_path) as led:
        with led.writing() as tx:
            with pytest.raises(Exception):
                # the second row cannot be bound: the executemany stops there, the first row is already in
                tx.events("invoices", [_invoice(1), ("bulk-2", {**_invoice(2)[1], "total": {"bad": 1}})])
            tx.events("invoices", [_invoice(3)])
        assert led.conn.execute("SELECT count(*) FROM invoices WHERE id = 'bulk-1'").fetchone()[0] == 1
        assert schema.settled_cache_problems(led.conn) == []
        assert led.conn.execute("SELECT count(*) FROM doc_state_batch").fetchone()[0] == 0
        invoices.add(led, "A01", "2026-01-09", amount="7.00")
        assert schema.settled_cache_problems(led.conn) == []


def test_a_bulk_write_inside_another_refreshes_the_documents_of_both(tmp_path):
    """refresh_in_batch within refresh_in_batch: the inner write's documents (of a kind the outer one did not
    name) are refreshed too, not left without their cache rows."""
    with _ledger(tmp_path) as led:
        pay_id = "pay-bulk"
        with led.writing() as tx:
            def outer() -> None:
                led.conn.execute("INSERT INTO invoices (id, number, customer_id, date, due_date, currency, total) "
                                 "VALUES ('inv-outer', 'O-1', NULL, '2026-01-03', '2026-02-03', 'CNY', 900)")
                tx.events("payments", [(pay_id, {"customer_id": None, "date": "2026-01-04", "amount": 300,
                                                 "currency": "CNY"})])
            schema.refresh_in_batch(led.conn, lambda: {("invoice", "inv-outer")}, outer)
        assert schema.settled_cache_problems(led.conn) == []
        assert led.conn.execute("SELECT count(*) FROM doc_state WHERE id = ?", (pay_id,)).fetchone()[0] == 1


def test_a_suspension_that_ends_in_an_error_caught_inside_the_transaction_leaves_the_triggers(tmp_path):
    """doc_state_suspended drops the triggers; if its body raises and the caller catches that and commits, the
    triggers (and a right cache) must be back, or every later write leaves the cache stale for good."""
    with _ledger(tmp_path) as led:
        with led.writing() as tx:
            with pytest.raises(RuntimeError):
                with schema.doc_state_suspended(led.conn):
                    tx.events("invoices", [_invoice(1)])
                    raise RuntimeError("the demo stopped")
        assert schema.settled_cache_problems(led.conn) == []
        payments.add(led, "A01", "2026-01-20", "30.00")
        invoices.add(led, "A01", "2026-01-21", amount="8.00")
        assert schema.settled_cache_problems(led.conn) == []
        names = {r[0] for r in led.conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        assert {f"{t}_settled" for t in ("invoices", "payments", "allocations", "voids")} <= names
