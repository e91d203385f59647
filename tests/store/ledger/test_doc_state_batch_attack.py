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


def _log(led, after: int = 0) -> list:
    from store.ledger import changes
    return [changes.row_to_change(r) for r in led.conn.execute(
        "SELECT device, device_seq, hlc, actor, at, ops FROM changes WHERE rowid > ? ORDER BY rowid", (after,))]


def test_two_devices_that_settle_and_void_the_same_invoices_at_once_converge_on_a_right_cache(tmp_path):
    """Each device posts, while apart, payments, credit notes (credit_id allocations), write-offs and voids of
    payments and invoices against the same documents; after each applies the other's changes as one batch, both
    hold the same cache, and it is the one a fresh computation gives."""
    from store.write import adjustments, customers as cust
    with Ledger.create(tmp_path / "a.duly", PASSPHRASE, actor="a") as a, \
            Ledger.create(tmp_path / "b.duly", PASSPHRASE, actor="b") as b:
        cust.add(a, "A01", "Acme", currency="CNY")
        for k in range(4):
            invoices.add(a, "A01", f"2026-01-0{k + 2}", amount="100.00")
        b.apply_remote_batch(_log(a))
        seen_a = a.conn.execute("SELECT max(rowid) FROM changes").fetchone()[0]
        seen_b = b.conn.execute("SELECT max(rowid) FROM changes").fetchone()[0]
        nums = [r[0] for r in a.conn.execute("SELECT number FROM invoices ORDER BY number")]
        paid = payments.add(a, "A01", "2026-02-01", "150.00", allocate=[f"{nums[0]}=100.00", f"{nums[1]}=50.00"])
        adjustments.add_credit(a, "A01", "2026-02-02", "30.00", "price", invoice_number=nums[2])
        adjustments.write_off(a, nums[3], "2026-02-03", "small", amount="5.00")
        pay_a = a.conn.execute("SELECT id FROM payments").fetchone()[0]
        payments.void(a, pay_a, "bounced", "2026-02-04")
        payments.add(b, "A01", "2026-02-05", "70.00", allocate=[f"{nums[1]}=70.00"])
        adjustments.add_credit(b, "A01", "2026-02-06", "20.00", "goodwill", invoice_number=nums[2])
        invoices.void(b, nums[3], "issued in error", "2026-02-07", unapply_first=True)
        from_a, from_b = _log(a, seen_a), _log(b, seen_b)
        b.apply_remote_batch(from_a)
        a.apply_remote_batch(from_b)
        assert paid is not None
        for led in (a, b):
            assert schema.settled_cache_problems(led.conn) == []
            assert led.conn.execute("SELECT count(*) FROM doc_state_batch").fetchone()[0] == 0
        state = "SELECT * FROM doc_state ORDER BY kind, id"
        assert a.conn.execute(state).fetchall() == b.conn.execute(state).fetchall()


def test_a_bulk_batch_against_a_document_posted_earlier_in_the_same_write_and_a_batch_of_duplicates(tmp_path):
    """An allocation posted in bulk against an invoice and a payment posted one at a time earlier in the same
    transaction; then the same rows again (every one ignored as a duplicate): the cache is the fresh one, and
    the row-by-row triggers are on afterwards."""
    with _ledger(tmp_path) as led:
        with led.writing() as tx:
            invoices.add(led, "A01", "2026-01-04", amount="80.00")
            payments.add(led, "A01", "2026-01-05", "50.00", auto=False)
            inv = led.conn.execute("SELECT id FROM invoices ORDER BY date DESC LIMIT 1").fetchone()[0]
            pay = led.conn.execute("SELECT id FROM payments").fetchone()[0]
            rows = [("al-1", {"invoice_id": inv, "payment_id": pay, "amount": 5000, "date": "2026-01-06"})]
            tx.events("allocations", rows)
            assert schema.settled_cache_problems(led.conn) == []
            tx.events("allocations", rows)
            tx.events("invoices", [_invoice(1)])
            tx.events("invoices", [_invoice(1)])
        assert schema.settled_cache_problems(led.conn) == []
        assert led.conn.execute("SELECT open_all FROM doc_state WHERE id = ?", (pay,)).fetchone()[0] == 0
        invoices.add(led, "A01", "2026-01-09", amount="7.00")
        assert schema.settled_cache_problems(led.conn) == []
