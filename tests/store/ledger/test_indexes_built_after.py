"""The demo makes the documents' indexes after their rows (schema.indexes_built_after): the ledger it leaves has
every index a new ledger has, each holding every row, and a write that fails inside leaves them whole."""
from __future__ import annotations

from datetime import date

import pytest

from store.files import demo
from store.ledger import schema
from store.ledger.ledger import Ledger
from store.read import open as openread
from tests.support.builders import Book

INDEXES = "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"


def _indexes(ledger) -> list[tuple[str, str]]:
    return ledger.conn.execute(INDEXES).fetchall()


def test_the_demo_leaves_every_index_a_new_ledger_has_each_holding_its_rows(tmp_path):
    with Ledger.create(tmp_path / "new.duly", "pw") as fresh:
        expected = _indexes(fresh)
    with Ledger.create(tmp_path / "d.duly", "pw", series="D1") as led:
        demo.build(led, customers=12, invoices=300, seed=5, today=date(2026, 6, 30))
        assert _indexes(led) == expected
        assert led.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"  # each index entry for each row
        customer = led.conn.execute("SELECT customer_id FROM invoices ORDER BY id LIMIT 1").fetchone()[0]
        plan = " ".join(r[-1] for r in led.conn.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM invoices WHERE customer_id = ? ORDER BY date", (customer,)))
        assert "invoices_customer" in plan
        assert led.conn.execute("SELECT count(*) FROM invoices WHERE customer_id = ?", (customer,)).fetchone()[0] \
            == led.conn.execute("SELECT count(*) FROM invoices NOT INDEXED WHERE customer_id = ?",
                                (customer,)).fetchone()[0] > 0


def test_a_write_that_fails_inside_leaves_the_indexes_made_again_with_the_rows_it_wrote(tmp_path):
    """A caller that catches the error and commits keeps the rows written before it, in whole indexes."""
    with Ledger.create(tmp_path / "a.duly", "pw") as led:
        expected = _indexes(led)
        book = Book(led)
        cid = book.customer("C", "Client Ltd")
        with led.writing():
            with pytest.raises(ValueError):
                with schema.indexes_built_after(led.conn, demo.DOCUMENT_TABLES):
                    assert "invoices_customer" not in dict(_indexes(led))
                    book.invoice(cid, "2026-03-01", 1000_00, due="2026-03-31")
                    raise ValueError("half way")
        assert _indexes(led) == expected
        assert led.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert sum(it.open_amount for it in openread.position(led, date(2026, 4, 1)).items) == 1000_00


def test_an_interrupted_write_rolls_the_drops_back_with_it(tmp_path):
    with Ledger.create(tmp_path / "a.duly", "pw") as led:
        expected = _indexes(led)
        with pytest.raises(KeyboardInterrupt):
            with led.writing(), schema.indexes_built_after(led.conn, demo.DOCUMENT_TABLES):
                raise KeyboardInterrupt
        assert _indexes(led) == expected
