"""Lists the app works out and pages through (the review queue, the aging grid) live in a scratch database beside
the ledger: filling one is no write to the ledger (the open position stays remembered for the next screen), a list
built from an unchanged ledger is kept, and a write to the ledger has it worked out again."""
from __future__ import annotations

from datetime import date

from store.read import aging_grid
from store.read import open as openread
from store.read import reports
from store.write import review
from tests.support.builders import Book

AS_OF = date(2026, 4, 1)


def small_book(ledger) -> tuple[Book, str]:
    b = Book(ledger)
    c = b.customer("C", "Client Ltd")
    d = b.customer("D", "Debtor Ltd")
    b.invoice(c, "2026-01-01", 1000_00, due="2026-01-31")
    b.invoice(d, "2026-02-01", 300_00, due="2026-02-28")
    b.invoice(d, "2026-03-20", 50_00, due="2026-04-20")
    return b, c


def test_building_the_review_queue_leaves_the_open_position_remembered(ledger):
    small_book(ledger)
    first = openread.position(ledger, AS_OF)
    queue = review.build(ledger, AS_OF)
    assert queue.count == 2
    assert openread.position(ledger, AS_OF) is first  # not read again: the queue is no write to the ledger
    grid = aging_grid.build(ledger, AS_OF)
    assert grid.rows == 2
    assert openread.position(ledger, AS_OF) is first


def test_the_queue_is_kept_while_the_ledger_is_unchanged_and_built_again_after_a_write(ledger):
    b, c = small_book(ledger)
    queue = review.build(ledger, AS_OF)
    first = review.page(ledger)[0]
    review.decide(ledger, first["seq"], "skip")
    assert review.build(ledger, AS_OF) is queue  # kept, with its decision
    assert review.counts(ledger)["skip"] == 1
    b.invoice(c, "2026-02-15", 200_00, due="2026-02-20")  # a write: worked out again, the decision kept
    again = review.build(ledger, AS_OF)
    assert again is not queue and again.count == 3
    assert review.counts(ledger)["skip"] == 1
    assert review.build(ledger, date(2026, 4, 2)) is not again  # another date: another queue


def test_the_aging_grid_pages_in_any_order_the_totals_last(ledger):
    small_book(ledger)
    report = reports.aging(ledger, AS_OF)
    grid = aging_grid.build(ledger, AS_OF)
    assert aging_grid.build(ledger, AS_OF) is grid
    rows = aging_grid.page(ledger, grid, limit=10)
    assert [(r["customer"], r["is_total"]) for r in rows] == [("C", 0), ("D", 0), ("", 1)]
    assert rows[0]["total"] == report.rows[0]["total"] and rows[2]["total"] == report.totals["CNY"]["total"]
    by_total = aging_grid.page(ledger, grid, sort="total", descending=False, limit=1)
    assert by_total[0]["customer"] == "D"  # 350.00 before 1,000.00
    last = by_total[-1]
    after = aging_grid.page(ledger, grid, sort="total", after=(last["is_total"], last["sort_value"], last["seq"]))
    assert [(r["customer"], r["is_total"]) for r in after] == [("C", 0), ("", 1)]
    backwards = aging_grid.page(ledger, grid, sort="customer", descending=True, backwards=True, limit=2)
    assert [(r["customer"], r["is_total"]) for r in backwards] == [("", 1), ("D", 0)]  # End: the totals first
    assert aging_grid.build(ledger, AS_OF, basis="invoice") is not grid


def test_the_scratch_database_never_writes_a_file(ledger):
    from store.read.scratch import scratch

    held = scratch(ledger)
    assert held.conn.execute("PRAGMA temp_store").fetchone()[0] == 2  # MEMORY: a big sort spills to no file
    assert [row[2] for row in held.conn.execute("PRAGMA database_list")] == [""]  # main in memory, no file
