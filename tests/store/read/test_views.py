"""The app's pages agree with THE open amount (store.read.open): the invoice list's open and overdue columns are
the same figures as the open items the reports, statements and allocation read."""
from __future__ import annotations

from datetime import date

from store.read import open as openitems
from store.read import views
from tests.support.builders import Book


def test_the_invoice_list_shows_the_open_and_past_due_amounts_of_the_open_items(ledger):
    book = Book(ledger)
    a = book.customer("A")
    plain = book.invoice(a, "2026-01-10", 100000, due="2026-02-09")
    book.payment(a, "2026-02-20", 30000, {plain: 30000})
    split = book.invoice(a, "2026-02-01", 90000, due=[("2026-02-15", 30000), ("2026-03-15", 30000),
                                                       ("2026-05-15", 30000)])
    book.payment(a, "2026-03-01", 40000, {split: 40000})  # pays the first instalment and 100.00 of the second
    voided = book.invoice(a, "2026-02-05", 20000, due="2026-02-25")
    book.void_invoice(voided, "2026-03-05")
    written = book.invoice(a, "2026-02-10", 50000, due="2026-03-12")
    book.writeoff(written, "2026-03-20", 10000)
    credited = book.invoice(a, "2026-02-12", 40000, due="2026-03-14")
    book.credit(a, "2026-03-02", 15000, invoice=credited)
    later = book.invoice(a, "2026-06-01", 25000, due="2026-07-01")  # dated after today: open, nothing past due
    # A schedule that does not add up to the total (an older book): the invoice is one item at its due date.
    odd = book.invoice(a, "2026-02-20", 60000, due=[("2026-03-01", 20000), ("2026-06-30", 40000)])
    with ledger.writing() as tx:
        tx.event("due_items", invoice_id=odd, seq=3, due_date="2026-07-31", amount=5000)
    today = date(2026, 4, 1)
    rows = {r["id"]: r for r in views.invoice_page(ledger, show="all", today=today)}
    items = openitems.customer_open_items(ledger, a, "CNY", openitems.END)
    for invoice in (plain, split, voided, written, credited, later, odd):
        past_due = sum(it.open_amount for it in items if it.invoice_id == invoice and it.due_date < today)
        assert (rows[invoice]["open"], rows[invoice]["overdue"]) == (
            openitems.invoice_open(ledger, invoice), past_due), ledger.row(
            "SELECT number FROM invoices WHERE id=?", (invoice,))["number"]
    # worked by hand: 700.00 open past due; 500.00 open of which 200.00 past due; voided: nothing; 400.00 past
    # due; 250.00 past due; 250.00 open not yet due; 600.00 open, due 2026-06-30 (the invoice's due date)
    assert [(rows[i]["open"], rows[i]["overdue"]) for i in (plain, split, voided, written, credited, later, odd)] \
        == [(70000, 70000), (50000, 20000), (0, 0), (40000, 40000), (25000, 25000), (25000, 0), (60000, 0)]
    overdue = {r["id"] for r in views.invoice_page(ledger, show="overdue", today=today)}
    assert overdue == {plain, split, written, credited}
