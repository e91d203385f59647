"""allocations_credit and invoices_einvoice hold only rows that have the column (most allocations are a payment's,
most invoices carry no e-invoice number): what a credit note applied and whether an e-invoice number is taken are
still found through them, in a new ledger and in one written before the change."""
from __future__ import annotations

import pytest

from store.errors import Conflict
from store.ledger import schema
from store.ledger.ledger import Ledger
from store.read import open as openread
from store.write import customers, invoices
from tests.support.builders import Book
from tests.support.cli import PASSPHRASE

CREDIT_APPLIED = "SELECT coalesce(sum(amount), 0) FROM allocations WHERE credit_id = ?"
EINVOICE_TAKEN = "SELECT number FROM invoices WHERE einvoice = ?"


def _plan(ledger, sql: str, *args) -> str:
    return " ".join(row[-1] for row in ledger.conn.execute("EXPLAIN QUERY PLAN " + sql, args))


def _book(ledger) -> tuple[str, str]:
    b = Book(ledger)
    c = b.customer("HD", "上海恒达贸易有限公司")
    inv = b.invoice(c, "2026-03-01", 1000_00, due="2026-03-31")
    b.payment(c, "2026-03-10", 300_00, {inv: 300_00})
    credit = b.credit(c, "2026-03-12", 200_00, invoice=inv)
    invoices.add(ledger, "HD", "2026-03-02", amount="50.00", einvoice="26312000000000000001")
    return inv, credit


def _partial(ledger) -> None:
    made = dict(ledger.conn.execute("SELECT name, sql FROM sqlite_master WHERE name IN "
                                    "('allocations_credit', 'invoices_einvoice')"))
    assert made["allocations_credit"].endswith("WHERE credit_id IS NOT NULL")
    assert made["invoices_einvoice"].endswith("WHERE einvoice IS NOT NULL")


def _holds(ledger, inv: str, credit: str) -> None:
    assert ledger.conn.execute(CREDIT_APPLIED, (credit,)).fetchone()[0] == 200_00
    assert "allocations_credit" in _plan(ledger, CREDIT_APPLIED, credit)
    assert "invoices_einvoice" in _plan(ledger, EINVOICE_TAKEN, "26312000000000000001")
    assert openread.invoice_open(ledger, inv) == 500_00
    with pytest.raises(Conflict, match="26312000000000000001"):
        invoices.add(ledger, "HD", "2026-03-03", amount="10.00", einvoice="26312000000000000001")


def test_a_credit_notes_allocations_and_a_taken_einvoice_number_are_found_through_the_partial_indexes(tmp_path):
    with Ledger.create(tmp_path / "a.duly", PASSPHRASE, actor="tester") as ledger:
        inv, credit = _book(ledger)
        _holds(ledger, inv, credit)
        _partial(ledger)


def test_a_ledger_written_with_the_full_indexes_gets_the_partial_ones(tmp_path):
    path = tmp_path / "old.duly"
    with Ledger.create(path, PASSPHRASE, actor="tester") as ledger:
        customers.add(ledger, "X", "placeholder")
        ledger.conn.execute("DROP INDEX allocations_credit")
        ledger.conn.execute("CREATE INDEX allocations_credit ON allocations (credit_id, date, amount)")
        ledger.conn.execute("DROP INDEX invoices_einvoice")
        ledger.conn.execute("CREATE INDEX invoices_einvoice ON invoices (einvoice)")
        inv, credit = _book(ledger)
        ledger.conn.execute(f"PRAGMA user_version = {schema.MIGRATIONS.index(schema._v_partial_indexes)}")
    with Ledger.open(path, PASSPHRASE) as ledger:
        assert schema.version(ledger.conn) == schema.VERSION
        _partial(ledger)
        _holds(ledger, inv, credit)
