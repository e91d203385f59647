"""The month-by-month trend (receivable, overdue, DSO at each month end) and the days late of a customer's last
paid invoices: worked out by hand, and equal to the per-date reports (summary, dso) as of every month end."""
from __future__ import annotations

import tempfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.ledger.ledger import Ledger
from store.read import reports
from tests.support.builders import Book


def by_month(rows, currency="CNY"):
    return {r["month"]: r for r in rows if r["currency"] == currency}


def assert_trend_is_the_per_date_figures(ledger, as_of, months=12):
    """Every point of the trend equals summary() and dso() as of its date, to the cent, in every currency."""
    rows = reports.trend(ledger, as_of, months)
    assert [r["as_of"] for r in rows] == sorted(r["as_of"] for r in rows)
    assert len({r["as_of"] for r in rows}) == months or not rows
    for end in sorted({r["as_of"] for r in rows}):
        summary, dso = reports.summary(ledger, end), reports.dso(ledger, end)
        for r in (r for r in rows if r["as_of"] == end):
            s = summary.get(r["currency"], {"receivable": 0, "overdue": 0, "balance": 0})
            d = dso.get(r["currency"], {"receivables": 0, "sales": 0, "dso": None})
            assert (r["receivable"], r["overdue"], r["balance"]) == (s["receivable"], s["overdue"], s["balance"]), (
                end, r["currency"])
            assert (r["balance"], r["sales"], r["dso"]) == (d["receivables"], d["sales"], d["dso"]), (end, r["currency"])
    return rows


def test_month_ends_are_the_last_days_and_the_as_of_date_for_its_month():
    assert reports.month_ends(date(2026, 3, 15), 4) == [date(2025, 12, 31), date(2026, 1, 31), date(2026, 2, 28),
                                                         date(2026, 3, 15)]
    assert reports.month_ends(date(2024, 3, 31), 2) == [date(2024, 2, 29), date(2024, 3, 31)]


def test_trend_holds_the_hand_worked_figures_at_each_month_end(book):
    rows = by_month(reports.trend(book.ledger, date(2026, 7, 31)))
    assert list(rows) == [f"2025-{m:02d}" for m in range(8, 13)] + [f"2026-{m:02d}" for m in range(1, 8)]
    assert all((r["receivable"], r["overdue"], r["sales"], r["dso"]) == (0, 0, 0, None)
               for month, r in rows.items() if month < "2026-01")
    figures = {month: (r["receivable"], r["overdue"], r["balance"], r["sales"], r["dso"]) for month, r in rows.items()}
    # 01-31: I1 100000 not yet due; I4 paid (its payment is voided only on 02-10); sales I1 + I4
    assert figures["2026-01"] == (100000, 0, 100000, 110000, Decimal("81.8"))
    # 02-28: I1 40000 late; I2's first instalment 15000 late, 35000 not due; I4 open again and late
    assert figures["2026-02"] == (100000, 65000, 100000, 160000, Decimal("56.3"))
    # 03-31: the credit note leaves I1 35000; I2 paid 20000 (first instalment and 5000 of the second); I3 voided;
    # 10000 of the 03-15 payment unapplied
    assert figures["2026-03"] == (75000, 45000, 65000, 160000, Decimal("36.6"))
    assert figures["2026-04"] == (75000, 75000, 65000, 50000, Decimal("117.0"))  # I2's second instalment is late
    assert figures["2026-05"] == (65000, 65000, 55000, 0, None)  # the write-off of 05-01; no sales in 90 days
    assert figures["2026-06"] == (65000, 65000, 55000, 0, None)
    assert figures["2026-07"] == (55000, 55000, 45000, 0, None)  # the payment of 07-05 applied to I1


def test_trend_equals_summary_and_dso_at_every_month_end(book):
    assert_trend_is_the_per_date_figures(book.ledger, date(2026, 7, 31))
    assert_trend_is_the_per_date_figures(book.ledger, date(2026, 3, 20), months=5)  # a month end mid-month


def test_trend_counts_over_allocation_other_currencies_and_one_instalment_terms_as_the_reports_do(ledger):
    b = Book(ledger)
    c = b.customer("C")
    usd = b.invoice(c, "2026-01-05", 70000, due="2026-02-04", currency="USD")
    b.payment(c, "2026-02-10", 20000, {usd: 20000}, currency="USD")
    # two due items on terms of one instalment: one item at its due date, as position() has it
    odd = b.invoice(c, "2026-01-20", 30000, due=[("2026-01-25", 10000), ("2026-04-30", 20000)], terms="NET30")
    spread = b.invoice(c, "2026-02-01", 40000, due=[("2026-02-15", 10000), ("2026-03-15", 30000)])
    b.payment(c, "2026-02-20", 5000, {spread: 5000})
    over = b.invoice(c, "2026-02-01", 10000, due="2026-03-01")
    p = b.payment(c, "2026-03-05", 8000)
    b.allocate(over, "2026-03-05", 12000, payment=p)  # a sync conflict: more applied than paid, and than owed
    b.allocate(odd, "2026-03-10", 1000, payment=p)
    rows = assert_trend_is_the_per_date_figures(ledger, date(2026, 5, 31), months=6)
    assert {r["currency"] for r in rows} == {"CNY", "USD"}
    march = by_month(rows)["2026-03"]
    # odd: one item of 29000 due 04-30 (not late in March); spread: 35000 left, both instalments late by 03-31;
    # over: -2000 open (over-applied), late; the payment applied 5000 beyond its amount: owed, not late
    assert (march["receivable"], march["overdue"]) == (29000 + 35000 - 2000 + 5000, 35000 - 2000)
    assert by_month(rows, "USD")["2026-03"]["overdue"] == 50000


action = st.tuples(st.integers(0, 150), st.sampled_from(["invoice", "invoice2", "payment", "allocate", "writeoff",
                                                         "void_invoice", "void_payment", "credit"]),
                   st.integers(1, 40000), st.integers(0, 100), st.sampled_from(["CNY", "USD"]))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(action, min_size=1, max_size=25), st.integers(0, 200))
def test_trend_equals_the_per_date_figures_on_any_book(actions, as_of_day):
    start = date(2026, 1, 1)
    with tempfile.TemporaryDirectory() as tmp, Ledger.create(Path(tmp) / "t.duly", "pw") as ledger:
        b = Book(ledger)
        who = b.customer("A")
        invoices, receipts = [], []
        for day_n, kind, amount, pick, currency in sorted(actions, key=lambda a: a[0]):
            day, due = (start + timedelta(days=day_n)).isoformat(), (start + timedelta(days=day_n + 30)).isoformat()
            if kind.startswith("invoice"):
                first = amount * pick // 100
                schedule = [(day, first), (due, amount - first)] if kind == "invoice2" and 0 < first < amount else due
                invoices.append((b.invoice(who, day, amount, due=schedule, currency=currency), currency))
            elif kind in ("payment", "credit"):
                make = b.payment if kind == "payment" else b.credit
                receipts.append((make(who, day, amount, currency=currency), currency, kind))
            elif kind == "allocate" and invoices and receipts:  # anything, even more than is open or paid
                inv, cur = invoices[pick % len(invoices)]
                rid, rcur, rkind = receipts[pick % len(receipts)]
                if cur == rcur:
                    b.allocate(inv, day, amount, **{"payment" if rkind == "payment" else "credit": rid})
            elif kind == "writeoff" and invoices:
                b.writeoff(invoices[pick % len(invoices)][0], day, amount // 3 + 1)
            elif kind == "void_invoice" and invoices:
                b.void_invoice(invoices[pick % len(invoices)][0], day)
            elif kind == "void_payment" and any(k == "payment" for *_, k in receipts):
                payments = [r for r in receipts if r[2] == "payment"]
                b.void_payment(payments[pick % len(payments)][0], day)
        assert_trend_is_the_per_date_figures(ledger, start + timedelta(days=as_of_day), months=8)


def test_last_paid_lateness_lists_the_last_paid_invoices_oldest_first_with_days_late(ledger):
    b = Book(ledger)
    c = b.customer("L")
    other = b.customer("O")
    for n, (due, paid) in enumerate((("2026-01-31", "2026-01-25"), ("2026-02-28", "2026-03-05"),
                                     ("2026-03-31", "2026-04-10"), ("2026-04-30", "2026-05-30"))):
        inv = b.invoice(c, "2026-01-01", 1000 + n, due=due)
        b.payment(c, paid, 1000 + n, {inv: 1000 + n})
    b.invoice(c, "2026-05-01", 5000, due="2026-05-31")  # open: not paid, not listed
    half = b.invoice(c, "2026-05-01", 6000, due="2026-05-31")
    b.payment(c, "2026-06-01", 3000, {half: 3000})  # paid in part: not listed
    theirs = b.invoice(other, "2026-01-01", 700, due="2026-01-31")
    b.payment(other, "2026-01-31", 700, {theirs: 700})
    rows = reports.last_paid_lateness(ledger, c, date(2026, 6, 30))
    assert [r["days_late"] for r in rows] == [-6, 5, 10, 30]
    assert [r["paid"] for r in rows] == [date(2026, 1, 25), date(2026, 3, 5), date(2026, 4, 10), date(2026, 5, 30)]
    assert [r["days_late"] for r in reports.last_paid_lateness(ledger, c, date(2026, 6, 30), count=2)] == [10, 30]
    assert [r["days_late"] for r in reports.last_paid_lateness(ledger, c, date(2026, 4, 1))] == [-6, 5]
