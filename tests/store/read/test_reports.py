"""Reports over posted documents: aging as of any date, summary, DSO, CEI, provision, forecast."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from store.read import reports
from store.rules.aging import YEAR_LABELS
from store.errors import InvalidInput
from tests.support.builders import Book


def row_of(report, customer, currency="CNY"):
    [row] = [r for r in report.rows if r["customer"] == customer and r["currency"] == currency]
    return row


def test_aging_before_the_void_and_before_later_payments(book):
    report = reports.aging(book.ledger, date(2026, 3, 1))
    a = row_of(report, "A")
    # I1 40000 (20 days late), I2 first instalment 15000 (28 days), second 35000 not due, I3 20000 not yet voided
    assert (a["not_due"], a["1-30"], a["31-60"], a["unapplied"], a["total"]) == (55000, 55000, 0, 0, 110000)
    b = row_of(report, "B")  # its payment was voided on 02-10: the invoice is open again, 29 days late
    assert (b["1-30"], b["total"]) == (10000, 10000)


def test_partial_payment_moves_rest_to_next_instalment_and_unapplied_is_negative(book):
    report = reports.aging(book.ledger, date(2026, 3, 31))
    a = row_of(report, "A")
    # I1 100000-60000-5000 = 35000, 50 days late; I2 paid 20000 covers instalment 1, 30000 of instalment 2 not due
    assert (a["not_due"], a["1-30"], a["31-60"], a["unapplied"], a["total"]) == (30000, 0, 35000, -10000, 55000)
    assert report.totals["CNY"]["total"] == 55000 + 10000  # B: payment voided 02-10, I4 open again


def test_allocations_after_as_of_are_not_counted_and_writeoffs_are(book):
    a = row_of(reports.aging(book.ledger, date(2026, 7, 1)), "A")
    assert (a["120+"], a["61-90"], a["unapplied"], a["total"]) == (25000, 30000, -10000, 45000)
    a = row_of(reports.aging(book.ledger, date(2026, 7, 5)), "A")
    assert (a["120+"], a["total"]) == (15000, 35000)


def test_voided_payment_reopens_its_invoice_from_the_void_date(book):
    assert not [r for r in reports.aging(book.ledger, date(2026, 2, 9)).rows if r["customer"] == "B"]
    b = row_of(reports.aging(book.ledger, date(2026, 2, 10)), "B")
    assert (b["1-30"], b["unapplied"], b["total"]) == (10000, 0, 10000)


def test_invoice_basis_and_year_buckets(book):
    report = reports.aging(book.ledger, date(2026, 7, 1), basis="invoice")
    assert report.buckets[0] == "0-30"
    assert row_of(report, "A")["120+"] == 55000  # I1 172 days old, I2 150 days
    report = reports.aging(book.ledger, date(2026, 7, 1), years=True)
    assert report.buckets == ["not_due", *YEAR_LABELS]
    a = row_of(report, "A")
    assert (a["1年以内"], a["unapplied"], a["total"]) == (55000, -10000, 45000)


def test_custom_edges_and_the_buckets_setting(book):
    report = reports.aging(book.ledger, date(2026, 3, 31), edges=(45,))
    assert report.buckets == ["not_due", "1-45", "45+"]
    assert row_of(report, "A")["45+"] == 35000
    with book.ledger.writing() as tx:
        tx.set("settings", "aging.buckets", value="15,45")
    assert reports.aging(book.ledger, date(2026, 3, 31)).buckets == ["not_due", "1-15", "16-45", "45+"]


def test_bad_basis_is_refused(book):
    with pytest.raises(InvalidInput, match="basis"):
        reports.aging(book.ledger, date(2026, 3, 31), basis="payment")


def test_summary(book):
    s = reports.summary(book.ledger, date(2026, 3, 31))["CNY"]
    assert s == {"receivable": 75000, "overdue": 45000, "not_due": 30000, "unapplied": -10000, "balance": 65000,
                 "open_invoices": 3, "customers": 2}


def test_dso_worked_example(ledger):
    b = Book(ledger)
    c = b.customer("C")
    b.invoice(c, "2026-01-15", 90000, due="2026-02-14")
    b.invoice(c, "2026-03-01", 90000, due="2026-03-31")
    b.payment(c, "2026-03-20", 60000, {})
    # balance 180000 - 60000 = 120000; sales over 90 days to 03-31 = 180000; DSO = 120000/180000*90 = 60.0
    assert reports.dso(ledger, date(2026, 3, 31))["CNY"] == {
        "receivables": 120000, "sales": 180000, "days": 90, "dso": Decimal("60.0")}
    # over 31 days (03-01..03-31) only the second invoice is a sale: 120000/90000*31 = 41.33
    assert reports.dso(ledger, date(2026, 3, 31), days=31)["CNY"]["dso"] == Decimal("41.3")
    assert reports.dso(ledger, date(2026, 3, 31), days=30)["CNY"]["dso"] is None  # no sales


def test_cei_worked_example(ledger):
    b = Book(ledger)
    c = b.customer("C")
    i0 = b.invoice(c, "2025-12-01", 100000, due="2025-12-31")  # beginning AR 100000
    b.invoice(c, "2026-01-10", 50000, due="2026-03-10")  # sales in the period, not due at the end
    b.payment(c, "2026-01-20", 80000, {i0: 80000})
    # ending AR 20000 + 50000 = 70000, of which current 50000
    # CEI = (100000 + 50000 - 70000) / (100000 + 50000 - 50000) * 100 = 80.0
    result = reports.cei(ledger, date(2026, 1, 1), date(2026, 1, 31))["CNY"]
    assert result == {"beginning_ar": 100000, "sales": 50000, "ending_ar": 70000, "ending_current_ar": 50000,
                      "cei": Decimal("80.0")}


def test_provision_by_bucket_with_default_and_set_rates(book):
    result = reports.provision(book.ledger, date(2026, 7, 1))
    rows = {r["bucket"]: r for r in result["rows"] if r["currency"] == "CNY"}
    # A: 61-90 30000 at 10% = 3000, 120+ 25000 at 50% = 12500; B: I4 due 01-31, 151 days -> 120+ 10000 at 50%
    assert rows["61-90"]["provision"] == 3000
    assert rows["120+"]["open_amount"] == 35000 and rows["120+"]["provision"] == 17500
    assert result["totals"]["CNY"]["provision"] == 20500
    with book.ledger.writing() as tx:
        tx.set("settings", "provision.rates", value="not_due=0,1-30=1,31-60=2,61-90=3.5,91-120=50,120+=100")
    result = reports.provision(book.ledger, date(2026, 7, 1))
    assert result["totals"]["CNY"]["provision"] == 1050 + 35000


def test_provision_rates_must_cover_every_bucket():
    assert reports.parse_rates("not_due=0,1-30=1.5") == {"not_due": 0, "1-30": 150}
    for bad in ("1-30", "1-30=abc", "1-30=101", "1-30=1,1-30=2", "1-30=0.001"):
        with pytest.raises(InvalidInput, match="provision rates"):
            reports.parse_rates(bad)


def test_provision_refuses_rates_missing_a_bucket(book):
    with pytest.raises(InvalidInput, match="120\\+"):
        reports.provision(book.ledger, date(2026, 7, 1), rates="not_due=0,1-30=1,31-60=5,61-90=10,91-120=20")


def test_days_to_pay_expected_dates_and_forecast(ledger):
    b = Book(ledger)
    c = b.customer("L", "Late Payer Ltd")
    # Two invoices paid 10 and 20 days late: average 15 days late.
    i1 = b.invoice(c, "2026-01-01", 1000, due="2026-01-31")
    b.payment(c, "2026-02-10", 1000, {i1: 1000})
    i2 = b.invoice(c, "2026-02-01", 1000, due="2026-03-03")
    b.payment(c, "2026-03-23", 1000, {i2: 1000})
    b.invoice(c, "2026-03-10", 5000, due="2026-04-09")  # expected 04-24
    b.invoice(c, "2026-02-20", 7000, due="2026-03-22")  # overdue, expected 04-06 -> never before as_of
    as_of = date(2026, 4, 1)
    [row] = reports.customer_days_to_pay(ledger, as_of)
    assert (row["paid_invoices"], row["avg_days_late"], row["avg_days_to_pay"]) == (2, 15, 45)
    exp = {r["number"]: r["expected"] for r in reports.expected_payment_dates(ledger, as_of)}
    assert exp == {"T1-000003": date(2026, 4, 24), "T1-000004": date(2026, 4, 6)}
    weeks = {r["week"]: r["amount"] for r in reports.forecast(ledger, as_of)}
    assert weeks["1"] == 7000 and weeks["4"] == 5000 and weeks["later"] == 0 and sum(weeks.values()) == 12000
    assert reports.expected_payment_dates(ledger, date(2026, 4, 10))[0]["expected"] == date(2026, 4, 10)


def test_forecast_counts_unapplied_cash_once_and_totals_the_aging(ledger):
    """500.00 received and left unapplied is not a receipt still to come: the forecast nets it against the
    paying customer's earliest expected receipts, so its total is what aging says is owed (7,500.50)."""
    b = Book(ledger)
    c, other = b.customer("P", "Prepaid Ltd"), b.customer("Q", "Other Ltd")
    b.invoice(c, "2026-03-20", 300_00, due="2026-04-03")  # week 1
    b.invoice(c, "2026-04-01", 2_700_50, due="2026-04-20")  # week 3
    b.invoice(other, "2026-04-01", 5_000_00, due="2026-04-03")  # week 1: another customer's cash is not netted
    b.payment(c, "2026-03-25", 500_00)  # unapplied
    as_of = date(2026, 4, 1)
    rows = reports.forecast(ledger, as_of)
    weeks = {r["week"]: r["amount"] for r in rows}
    assert weeks["1"] == 5_000_00 and weeks["3"] == 2_500_50
    aging = reports.aging(ledger, as_of)
    assert sum(weeks.values()) == 7_500_50 == aging.totals["CNY"]["total"]
    assert "credit" not in weeks


def test_forecast_shows_credit_beyond_what_is_owed_as_its_own_row(ledger):
    b = Book(ledger)
    c = b.customer("P", "Overpaid Ltd")
    b.invoice(c, "2026-03-20", 300_00, due="2026-04-10")
    b.payment(c, "2026-03-25", 1_000_00)  # unapplied, 700.00 more than is owed
    rows = reports.forecast(ledger, date(2026, 4, 1))
    weeks = {r["week"]: r["amount"] for r in rows}
    assert weeks["2"] == 0 and weeks["credit"] == -700_00
    assert sum(weeks.values()) == reports.aging(ledger, date(2026, 4, 1)).totals["CNY"]["total"] == -700_00


def test_the_customer_list_the_dashboard_and_the_summary_agree_on_documents_dated_after_today(book):
    """A payment and its allocation dated after 'today' (2026-06-30 here) count nowhere yet: the customer list's
    balance, the dashboard's figures and `report summary` are the one position as of today."""
    from store.read import views
    from tui.screens.dashboard import dashboard_data

    today = date(2026, 6, 30)
    summary = reports.summary(book.ledger, today)["CNY"]
    listed = views.customer_positions(book.ledger, [book.ids["a"], book.ids["b"]], today)
    assert sum(row["balance"] for row in listed.values()) == summary["balance"] == 55000
    assert sum(row["overdue"] for row in listed.values()) == summary["overdue"]
    [cny] = [c for c in dashboard_data(book.ledger, today).currencies if c.currency == "CNY"]
    assert (cny.receivable, cny.overdue, cny.unapplied, cny.balance, cny.customers) == (
        summary["receivable"], summary["overdue"], summary["unapplied"], summary["balance"], summary["customers"])
    assert cny.unapplied == -10000 and cny.balance == cny.receivable + cny.unapplied


def test_dso_forecast_and_provision_on_a_position_at_hand_are_the_reports_themselves(book):
    """The Reports screen reads the open position once and builds every report on it: each figure is the one the
    report computes on its own, at dates before, between and after the documents."""
    from store.read.open import position

    for as_of in (date(2025, 12, 31), date(2026, 2, 15), date(2026, 7, 1)):
        pos = position(book.ledger, as_of)
        assert reports.summary(book.ledger, as_of, pos) == reports.summary(book.ledger, as_of)
        assert reports.dso(book.ledger, as_of, 90, pos=pos) == reports.dso(book.ledger, as_of, 90)
        assert reports.forecast(book.ledger, as_of, pos=pos) == reports.forecast(book.ledger, as_of)
        assert reports.provision(book.ledger, as_of, pos=pos) == reports.provision(book.ledger, as_of)
        assert reports.aging(book.ledger, as_of, pos=pos) == reports.aging(book.ledger, as_of)
