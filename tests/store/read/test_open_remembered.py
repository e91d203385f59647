"""Every customer's open position as of a date is read once while nothing is written (Ledger.remembered), and
read again after any write: by this connection (a payment, a void, a raw statement, a transaction rolled back) or
by another connection to the file."""
from __future__ import annotations

from datetime import date

import pytest

from store.ledger.ledger import Ledger
from store.read import open as openread
from store.read import reports
from tests.support.builders import Book
from tests.support.cli import PASSPHRASE

AS_OF = date(2026, 4, 1)


def owed(pos) -> int:
    return sum(it.open_amount for it in pos.items)


def fresh(ledger, as_of=AS_OF):
    return openread._position(ledger, as_of)


def test_read_once_while_nothing_is_written(ledger):
    b = Book(ledger)
    c = b.customer("C", "Client Ltd")
    b.invoice(c, "2026-03-01", 1000_00, due="2026-03-31")
    first = openread.position(ledger, AS_OF)
    assert openread.position(ledger, AS_OF) is first  # the same read, not computed again
    assert openread.position(ledger, date(2026, 3, 15)) is not first  # another date is another position
    assert owed(openread.position(ledger, date(2026, 3, 15))) == 1000_00
    # a customer's own position is never the whole book's
    assert openread.position(ledger, AS_OF, customer_id=c).items == first.items


def test_todays_position_is_kept_while_reports_read_other_dates(ledger):
    """The reports' trend and DSO read positions of past dates; the dashboard's (today's) is not read again."""
    b = Book(ledger)
    c = b.customer("C", "Client Ltd")
    b.invoice(c, "2026-03-01", 1000_00, due="2026-03-31")
    today = openread.position(ledger, date.today())
    past = [openread.position(ledger, date(2026, 3, day)) for day in (10, 20)]
    assert openread.position(ledger, date.today()) is today
    assert openread.position(ledger, date(2026, 3, 20)) is past[1]  # the last other date is held too
    assert openread.position(ledger, date(2026, 3, 10)) is not past[0]  # one other date at a time
    b.invoice(c, "2026-03-02", 5_00)
    assert openread.position(ledger, date.today()) is not today and owed(openread.position(ledger, date.today())) \
        == 1005_00


def test_a_write_on_this_connection_is_seen_at_once(ledger):
    b = Book(ledger)
    c = b.customer("C", "Client Ltd")
    inv = b.invoice(c, "2026-03-01", 1000_00, due="2026-03-31")
    assert owed(openread.position(ledger, AS_OF)) == 1000_00
    pay = b.payment(c, "2026-03-20", 400_00, {inv: 400_00})
    assert owed(openread.position(ledger, AS_OF)) == 600_00 == owed(fresh(ledger))
    b.void_payment(pay, "2026-03-25")
    assert owed(openread.position(ledger, AS_OF)) == 1000_00 == owed(fresh(ledger))
    assert reports.summary(ledger, AS_OF)["CNY"]["receivable"] == 1000_00


def test_a_raw_statement_and_a_rolled_back_write_are_seen_too(ledger):
    b = Book(ledger)
    c = b.customer("C", "Client Ltd")
    b.invoice(c, "2026-03-01", 1000_00, due="2026-03-31")
    before = openread.position(ledger, AS_OF)
    ledger.conn.execute("UPDATE customers SET name = 'Renamed Ltd' WHERE id = ?", (c,))
    assert [it.name for it in openread.position(ledger, AS_OF).items] == ["Renamed Ltd"]
    with pytest.raises(RuntimeError):
        with ledger.writing():
            b.invoice(c, "2026-03-02", 5_00)
            raise RuntimeError("changed my mind")
    after = openread.position(ledger, AS_OF)
    assert after is not before and owed(after) == 1000_00 == owed(fresh(ledger))


def test_a_write_by_another_connection_is_seen(ledger):
    b = Book(ledger)
    c = b.customer("C", "Client Ltd")
    inv = b.invoice(c, "2026-03-01", 1000_00, due="2026-03-31")
    assert owed(openread.position(ledger, AS_OF)) == 1000_00
    with Ledger.open(ledger.path, PASSPHRASE, actor="other") as other:
        Book(other).payment(c, "2026-03-20", 250_00, {inv: 250_00})
    assert owed(openread.position(ledger, AS_OF)) == 750_00 == owed(fresh(ledger))
