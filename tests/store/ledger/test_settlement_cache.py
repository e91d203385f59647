"""The settlement cache (doc_state) rebuilt from the documents in one go is what the triggers keep row by row, and
the check that follows a rebuild (and a restore) finds a cache that disagrees with the documents."""
from __future__ import annotations

import pytest

from store.ledger import schema
from tests.support.builders import Book, reports_book


def _cache(ledger) -> list[tuple]:
    return ledger.conn.execute(f"SELECT {', '.join(schema.DOC_STATE_COLUMNS)} FROM doc_state ORDER BY id").fetchall()


def _edge_book(ledger) -> Book:
    """Every way a document's settlement comes about: the report book (partial payments, instalments, a credit
    note, a write-off, voids of an invoice and of a payment, unapplied cash), and more."""
    book = reports_book(ledger)
    c = book.customer("E", currency="USD")
    paid_twice = book.invoice(c, "2026-01-02", 30000, currency="USD")
    book.payment(c, "2026-01-20", 10000, {paid_twice: 10000}, currency="USD")
    book.payment(c, "2026-02-20", 20000, {paid_twice: 20000}, currency="USD")  # settled on the later date
    voided_late = book.invoice(c, "2026-01-03", 5000, currency="USD")
    book.void_invoice(voided_late, "2026-03-01")
    book.void_invoice(voided_late, "2026-03-09")  # voided twice (two devices offline): the first counts
    written = book.invoice(c, "2026-01-04", 8000, currency="USD")
    book.writeoff(written, "2026-04-01", 3000)
    book.writeoff(written, "2026-04-02", 5000)  # written off in two goes: settled on the second
    book.credit(c, "2026-01-05", 7000, invoice=written, applied=0, currency="USD")  # a credit applied to nothing
    over = book.invoice(c, "2026-01-06", 1000, currency="USD")
    book.payment(c, "2026-01-07", 1500, {over: 1500}, currency="USD")  # more applied than the total: open below 0
    return book


@pytest.mark.parametrize("chunk", [schema.REBUILD_CHUNK, 1, 2, 3])
def test_the_rebuilt_cache_is_the_one_the_triggers_keep(ledger, chunk):
    """Also when the rebuild takes the documents a few at a time: a document's allocations, write-offs and voids
    are gathered with it, whichever chunk it falls in."""
    _edge_book(ledger)
    kept = _cache(ledger)
    assert schema.settled_cache_problems(ledger.conn) == []
    with ledger.writing():
        schema.rebuild_settled(ledger.conn, chunk=chunk)
        assert _cache(ledger) == kept
        assert schema.settled_cache_problems(ledger.conn) == []


def test_a_bulk_write_with_the_triggers_suspended_leaves_the_cache_the_triggers_would_have_left(tmp_path):
    from store.ledger.ledger import Ledger

    caches = []
    for n, suspended in enumerate((False, True)):
        with Ledger.create(tmp_path / f"{n}.duly", "pw") as led:
            if suspended:
                with led.writing(), schema.doc_state_suspended(led.conn):
                    _edge_book(led)
            else:
                _edge_book(led)
            # ids differ from ledger to ledger: each row by what it says, its customer by code
            caches.append(led.conn.execute(
                "SELECT d.kind, c.code, d.currency, d.number, d.date, d.due_date, d.terms, d.total, d.settled_on, "
                "d.open_all, d.last_on FROM doc_state d JOIN customers c ON c.id = d.customer_id "
                "ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11").fetchall())
            assert schema.settled_cache_problems(led.conn) == []
    assert caches[0] == caches[1] and len(caches[0]) == 17


@pytest.mark.parametrize("spoil", [
    *(f"UPDATE doc_state SET {col} = '2020-01-01' WHERE kind = 'invoice' AND {col} IS NOT NULL "
      f"AND id = (SELECT min(id) FROM doc_state WHERE kind = 'invoice' AND {col} IS NOT NULL)"
      for col in ("customer_id", "currency", "number", "date", "due_date", "terms", "settled_on", "last_on")),
    "UPDATE doc_state SET settled_on = NULL WHERE id = (SELECT min(id) FROM doc_state WHERE settled_on IS NOT NULL)",
    "UPDATE doc_state SET open_all = open_all + 1 WHERE id = (SELECT min(id) FROM doc_state WHERE kind = 'payment')",
    "UPDATE doc_state SET total = total - 1 WHERE id = (SELECT min(id) FROM doc_state WHERE kind = 'credit')",
    "UPDATE doc_state SET kind = 'payment' WHERE id = (SELECT min(id) FROM doc_state WHERE kind = 'invoice')",
    "DELETE FROM doc_state WHERE id = (SELECT max(id) FROM doc_state)",
    "INSERT INTO doc_state SELECT id || '-stale', kind, customer_id, currency, number, date, due_date, terms, total, "
    "settled_on, open_all, last_on FROM doc_state WHERE kind = 'invoice' LIMIT 1",
])
def test_a_cache_that_disagrees_with_the_documents_in_any_column_is_found(ledger, spoil):
    _edge_book(ledger)
    ledger.conn.execute(spoil)
    assert ledger.conn.execute("SELECT changes()").fetchone()[0] == 1
    assert schema.settled_cache_problems(ledger.conn) == [
        "the settlement cache disagrees with the documents for 1 document(s)"]


def test_a_rebuild_that_goes_wrong_undoes_the_whole_bulk_write(ledger, monkeypatch):
    book = Book(ledger)
    cid = book.customer("K1")
    before = _cache(ledger), ledger.conn.execute("SELECT count(*) FROM changes").fetchone()[0]
    real = schema.rebuild_settled

    def rebuilt_wrong(db):
        real(db)
        db.execute("UPDATE doc_state SET open_all = 0 WHERE kind = 'invoice'")

    monkeypatch.setattr(schema, "rebuild_settled", rebuilt_wrong)
    with pytest.raises(schema.CacheDisagrees, match="1 document"):
        with ledger.writing(), schema.doc_state_suspended(ledger.conn):
            book.invoice(cid, "2026-01-05", 10000)
    assert (_cache(ledger), ledger.conn.execute("SELECT count(*) FROM changes").fetchone()[0]) == before
    assert ledger.conn.execute("SELECT count(*) FROM invoices").fetchone()[0] == 0
    assert ledger.conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_settled'"
                               ).fetchone()[0] == 6
