"""The write side of the receivables engine, with worked examples computed by hand in the comments."""
from __future__ import annotations

import pytest

from store.read import open as openitems
from store.write import adjustments, customers, invoices, payments, settings, terms as termsbook
from store.errors import Conflict, InvalidInput, NotFound
from store.ledger.ledger import Ledger


@pytest.fixture
def ledger(tmp_path):
    with Ledger.create(tmp_path / "l.duly", "pw", series="A7") as book:
        customers.add(book, "HD001", "上海恒达贸易有限公司", terms="EOM30")
        yield book


def count(ledger, table: str) -> int:
    return ledger.row(f"SELECT count(*) AS n FROM {table}")["n"]


def cid(ledger, code="HD001") -> str:
    return customers.by_code(ledger, code)["id"]


def open_of(ledger, number: str, as_of: str = openitems.END) -> int:
    return openitems.invoice_open(ledger, invoices.by_number(ledger, number)["id"], as_of)


# --- invoices ----------------------------------------------------------------------------------------


def test_invoice_lines_with_13_percent_tax_round_half_up(ledger):
    issued = invoices.add(ledger, "HD001", "2026-01-15", lines=[
        "设备:2:1234.56:13%",  # 2 × 1234.56 = 2469.12; tax 320.9856 -> 320.99
        "安装:1.5:200.00:13%",  # 300.00; tax 39.00
        "螺丝:1:2.50:13%",  # 2.50; tax 0.325 -> 0.33 (half-up; banker's rounding would give 0.32)
        "胶带:0.5:0.05",  # 0.025 -> 0.03 (half-up), no tax
    ])
    # total = 2469.12 + 320.99 + 300.00 + 39.00 + 2.50 + 0.33 + 0.03 = 3131.97; tax = 360.32
    assert (issued.number, issued.total, issued.tax) == ("A7-000001", 313197, 36032)
    lines = ledger.rows("SELECT description, qty, unit_price, tax_bp, amount, tax FROM invoice_lines ORDER BY pos")
    assert [(r["qty"], r["amount"], r["tax"]) for r in lines] == [
        ("2", 246912, 32099), ("1.5", 30000, 3900), ("1", 250, 33), ("0.5", 3, 0)]
    assert lines[0]["tax_bp"] == 1300
    # the customer's terms EOM30 (月结30天): 2026-01-31 + 30 days = 2026-03-02
    assert issued.due_items == [("2026-03-02", 313197)]
    row = invoices.by_number(ledger, "A7-000001")
    assert (row["due_date"], row["terms"], row["currency"]) == ("2026-03-02", "EOM30", "CNY")


def test_30_70_instalments_sum_to_total(ledger):
    issued = invoices.add(ledger, "HD001", "2026-01-20", amount="1000.01", terms="30/70")
    # 30% of 100001 fen = 30000.3 -> 30000; the balance 70001 is due 60 days later (2026-03-21)
    assert issued.due_items == [("2026-01-20", 30000), ("2026-03-21", 70001)]
    rows = ledger.rows("SELECT seq, due_date, amount FROM due_items ORDER BY seq")
    assert [(r["seq"], r["amount"]) for r in rows] == [(1, 30000), (2, 70001)]
    assert invoices.by_number(ledger, issued.number)["due_date"] == "2026-03-21"


def test_stored_terms_month_end_30_days(ledger):
    termsbook.add(ledger, "月结30", ["100%:days_after_end_of_month:30"], discount="2/10", late_interest="12%")
    stored = termsbook.resolve(ledger, "月结30")
    assert (stored.discount_bp, stored.discount_days, stored.late_interest_bp) == (200, 10, 1200)
    # an invoice of 2024-01-31 (leap year): 2024-01-31 + 30 days = 2024-03-01
    issued = invoices.add(ledger, "HD001", "2024-01-31", amount="100", terms="月结30")
    assert issued.due_items == [("2024-03-01", 10000)]
    with pytest.raises(Conflict, match="already exist"):
        termsbook.add(ledger, "月结30", ["100%:days_after:30"])
    with pytest.raises(Conflict, match="built-in"):
        termsbook.add(ledger, "net30", ["100%:days_after:30"])
    with pytest.raises(InvalidInput, match="total 100%"):
        termsbook.add(ledger, "half", ["50%:days_after:30"])


def test_explicit_due_date_beats_terms(ledger):
    issued = invoices.add(ledger, "HD001", "2026-01-15", amount="50", due="2026-02-01", terms="NET60")
    assert issued.due_items == [("2026-02-01", 5000)]
    with pytest.raises(InvalidInput, match="before the invoice date"):
        invoices.add(ledger, "HD001", "2026-01-15", amount="50", due="2026-01-14")


def test_duplicate_invoice_number_refused_and_series_skips_taken_numbers(ledger):
    invoices.add(ledger, "HD001", "2026-01-15", amount="100", number="A7-000001")
    before = count(ledger, "changes")
    with pytest.raises(Conflict, match="A7-000001 is already used"):
        invoices.add(ledger, "HD001", "2026-01-16", amount="200", number="A7-000001")
    assert count(ledger, "changes") == before and count(ledger, "invoices") == 1
    assert invoices.add(ledger, "HD001", "2026-01-17", amount="1").number == "A7-000002"


def test_too_many_decimals_and_bad_dates_refused(ledger):
    with pytest.raises(InvalidInput, match="more than 2 decimal places"):
        invoices.add(ledger, "HD001", "2026-01-15", amount="10.005")
    with pytest.raises(InvalidInput, match="more than 2 decimal places"):
        invoices.add(ledger, "HD001", "2026-01-15", lines=["x:1:10.005"])
    with pytest.raises(InvalidInput, match="does not exist"):
        invoices.add(ledger, "HD001", "2026-02-30", amount="10")
    with pytest.raises(InvalidInput, match="more than 2 decimal places"):
        payments.add(ledger, "HD001", "2026-01-15", "10.005")
    assert count(ledger, "invoices") == 0 and count(ledger, "payments") == 0


def test_einvoice_number_must_be_20_digits_and_unique(ledger):
    with pytest.raises(InvalidInput, match="exactly 20 digits"):
        invoices.add(ledger, "HD001", "2026-01-15", amount="10", einvoice="1234567890123456789")
    with pytest.raises(InvalidInput, match="exactly 20 digits"):
        invoices.add(ledger, "HD001", "2026-01-15", amount="10", einvoice="1234567890123456789X")
    invoices.add(ledger, "HD001", "2026-01-15", amount="10", einvoice="26312000000012345678")
    assert invoices.by_number(ledger, "A7-000001")["einvoice"] == "26312000000012345678"
    with pytest.raises(Conflict, match="already on invoice A7-000001"):
        invoices.add(ledger, "HD001", "2026-01-16", amount="10", einvoice="26312000000012345678")


def test_unknown_and_archived_customers_refused(ledger):
    with pytest.raises(NotFound, match="unknown customer"):
        invoices.add(ledger, "NOPE", "2026-01-15", amount="10")
    customers.set_archived(ledger, "HD001", True)
    with pytest.raises(Conflict, match="archived"):
        invoices.add(ledger, "HD001", "2026-01-15", amount="10")


def test_credit_limit_warns_by_default_and_blocks_when_set(ledger):
    customers.edit(ledger, "HD001", credit_limit="1000")
    invoices.add(ledger, "HD001", "2026-01-10", amount="700")
    payments.add(ledger, "HD001", "2026-01-12", "100", auto=False)  # unapplied cash lowers the balance to 600
    # 600 owed + 500 = 1100 > 1000: over by 100
    issued = invoices.add(ledger, "HD001", "2026-01-15", amount="500")
    assert len(issued.warnings) == 1
    assert "1,000.00 CNY" in issued.warnings[0] and "balance 600.00 CNY" in issued.warnings[0]
    assert "by 100.00 CNY" in issued.warnings[0]
    settings.put(ledger, "credit.enforce", "block")
    before = count(ledger, "invoices")
    with pytest.raises(Conflict, match="refused: credit limit .* exceeds it by 0.01 CNY"):
        invoices.add(ledger, "HD001", "2026-01-13", amount="400.01")  # 600.00 owed on 01-13 + 400.01
    assert count(ledger, "invoices") == before
    assert invoices.add(ledger, "HD001", "2026-01-13", amount="400").warnings == []  # exactly the limit is fine
    assert invoices.add(ledger, "HD001", "2026-01-09", amount="1000").warnings == []  # nothing owed back then


# --- payments and allocation -------------------------------------------------------------------------


def test_partial_payment_auto_allocates_oldest_due_first(ledger):
    invoices.add(ledger, "HD001", "2026-01-15", amount="1000")  # EOM30: due 2026-03-02
    invoices.add(ledger, "HD001", "2026-01-20", amount="3000", terms="30/70")  # 900 due 01-20, 2100 due 03-21
    invoices.add(ledger, "HD001", "2026-02-01", amount="500", due="2026-02-10")
    paid = payments.add(ledger, "HD001", "2026-03-01", "1800", method_name="银行转账", reference="20260301-88")
    # oldest due first: A7-000002's 900 (01-20), A7-000003's 500 (02-10), then 400 of A7-000001 (03-02)
    assert paid.allocations == [("A7-000002", 90000), ("A7-000003", 50000), ("A7-000001", 40000)]
    assert paid.unapplied == 0
    assert ledger.row("SELECT method FROM payments")["method"] == "bank_transfer"
    assert [open_of(ledger, n) for n in ("A7-000001", "A7-000002", "A7-000003")] == [60000, 210000, 0]
    assert {r["date"] for r in ledger.rows("SELECT date FROM allocations")} == {"2026-03-01"}
    # as of the day before the payment, nothing was paid yet
    assert open_of(ledger, "A7-000002", "2026-02-28") == 300000
    dues = openitems.customer_open_items(ledger, cid(ledger), "CNY", "2026-03-01")
    assert [(d.number, d.due_date.isoformat(), d.open_amount) for d in dues] == [
        ("A7-000001", "2026-03-02", 60000), ("A7-000002", "2026-03-21", 210000)]


def test_payment_beyond_open_items_leaves_the_rest_unapplied(ledger):
    invoices.add(ledger, "HD001", "2026-01-15", amount="100")
    paid = payments.add(ledger, "HD001", "2026-01-20", "250")
    assert paid.allocations == [("A7-000001", 10000)] and paid.unapplied == 15000
    assert openitems.unapplied(ledger, cid(ledger), "CNY", "2026-01-20") == 15000
    assert openitems.unapplied(ledger, cid(ledger), "CNY", "2026-01-19") == 0
    assert openitems.balance(ledger, cid(ledger), "CNY", "2026-01-20") == -15000


def test_explicit_allocation_over_open_amount_refused_and_nothing_written(ledger):
    invoices.add(ledger, "HD001", "2026-01-15", amount="100")
    before = [count(ledger, t) for t in ("changes", "payments", "allocations")]
    with pytest.raises(Conflict, match="A7-000001 is 100.01 CNY, more than its open amount 100.00 CNY"):
        payments.add(ledger, "HD001", "2026-01-20", "500", allocate=["A7-000001=100.01"])
    assert [count(ledger, t) for t in ("changes", "payments", "allocations")] == before


def test_explicit_allocation_over_payment_amount_refused(ledger):
    invoices.add(ledger, "HD001", "2026-01-15", amount="100")
    invoices.add(ledger, "HD001", "2026-01-16", amount="100")
    before = count(ledger, "changes")
    with pytest.raises(Conflict, match="allocations total 150.00 CNY, more than the payment of 120.00 CNY"):
        payments.add(ledger, "HD001", "2026-01-20", "120", allocate=["A7-000001=100", "A7-000002=50"])
    assert count(ledger, "changes") == before and count(ledger, "payments") == 0


def test_explicit_allocation_to_a_later_invoice_refused(ledger):
    invoices.add(ledger, "HD001", "2026-02-01", amount="100")
    with pytest.raises(Conflict, match="nothing open on 2026-01-20"):
        payments.add(ledger, "HD001", "2026-01-20", "100", allocate=["A7-000001=100"])


def test_unapplied_cash_allocated_later(ledger):
    paid = payments.add(ledger, "HD001", "2026-01-05", "300", auto=False, method_name="支付宝")
    assert paid.allocations == [] and paid.unapplied == 30000
    invoices.add(ledger, "HD001", "2026-01-10", amount="200")
    invoices.add(ledger, "HD001", "2026-01-12", amount="200")
    done = payments.allocate(ledger, payment_id=paid.id[:13], pairs=["A7-000002=150"], on="2026-01-15")
    assert [(r.allocations, r.unapplied) for r in done] == [([("A7-000002", 15000)], 15000)]
    done = payments.allocate(ledger, customer_code="HD001", on="2026-01-20")  # the rest, oldest due first
    assert done[0].allocations == [("A7-000001", 15000)] and done[0].unapplied == 0
    c = cid(ledger)
    assert openitems.unapplied(ledger, c, "CNY", "2026-01-14") == 30000
    assert openitems.unapplied(ledger, c, "CNY", "2026-01-15") == 15000
    assert openitems.unapplied(ledger, c, "CNY", "2026-01-20") == 0
    assert openitems.balance(ledger, c, "CNY", "2026-01-20") == 10000  # 400 invoiced - 300 paid
    with pytest.raises(Conflict, match="nothing unapplied"):
        payments.allocate(ledger, payment_id=paid.id, on="2026-01-21")


def test_payment_methods_accept_aliases():
    assert [payments.method(m) for m in ("银行转账", "bank", "现金", "支付宝", "alipay", "微信", "WeChat", "card",
                                         "刷卡", None)] == [
        "bank_transfer", "bank_transfer", "cash", "alipay", "alipay", "wechat", "wechat", "card", "card", "other"]
    with pytest.raises(InvalidInput, match="payment method 'cheque'"):
        payments.method("cheque")


# --- credit notes, write-offs, voids -----------------------------------------------------------------


def test_credit_note_against_invoice_applies_up_to_open_amount(ledger):
    invoices.add(ledger, "HD001", "2026-01-15", amount="1000")
    payments.add(ledger, "HD001", "2026-02-01", "800")
    credit = adjustments.add_credit(ledger, "HD001", "2026-02-05", "300", "价格折让", invoice_number="A7-000001")
    # 200 was open: 200 applied, 100 stays unapplied credit
    assert credit.number == "CN-A7-000001"
    assert (credit.allocations, credit.unapplied) == ([("A7-000001", 20000)], 10000)
    assert open_of(ledger, "A7-000001") == 0
    assert open_of(ledger, "A7-000001", "2026-02-04") == 20000
    assert openitems.unapplied(ledger, cid(ledger), "CNY", "2026-02-05") == 10000
    assert ledger.row("SELECT credit_id FROM allocations WHERE credit_id IS NOT NULL")["credit_id"] == credit.id
    with pytest.raises(InvalidInput, match="reason must not be empty"):
        adjustments.add_credit(ledger, "HD001", "2026-02-05", "1", " ")


def test_write_off_defaults_to_all_open_and_refuses_more(ledger):
    invoices.add(ledger, "HD001", "2026-01-15", amount="1000")
    payments.add(ledger, "HD001", "2026-02-01", "600")
    with pytest.raises(Conflict, match="400.01 CNY is more than invoice A7-000001's open amount 400.00 CNY"):
        adjustments.write_off(ledger, "A7-000001", "2026-12-31", "bad debt", amount="400.01")
    adjustments.write_off(ledger, "A7-000001", "2026-12-31", "bad debt", amount="100")
    _, amount, _ = adjustments.write_off(ledger, "A7-000001", "2026-12-31", "bad debt")
    assert amount == 30000
    assert open_of(ledger, "A7-000001") == 0 and open_of(ledger, "A7-000001", "2026-12-30") == 40000
    with pytest.raises(Conflict, match="nothing open"):
        adjustments.write_off(ledger, "A7-000001", "2027-01-01", "again")


def test_void_invoice_refused_while_paid_allowed_after_payment_void(ledger):
    invoices.add(ledger, "HD001", "2026-01-15", amount="1000")
    paid = payments.add(ledger, "HD001", "2026-02-01", "400")
    with pytest.raises(Conflict, match="400.00 CNY of payments or credits applied"):
        invoices.void(ledger, "A7-000001", "wrong customer", "2026-02-10")
    reopened = payments.void(ledger, paid.id, "bounced", "2026-02-05")
    assert reopened == [("A7-000001", 40000)]
    assert open_of(ledger, "A7-000001", "2026-02-04") == 60000  # the payment still counted before its void
    assert open_of(ledger, "A7-000001", "2026-02-05") == 100000
    assert openitems.unapplied(ledger, cid(ledger), "CNY", "2026-02-05") == 0
    reversal = ledger.row("SELECT amount, date FROM allocations WHERE amount < 0")
    assert (reversal["amount"], reversal["date"]) == (-40000, "2026-02-05")
    invoices.void(ledger, "A7-000001", "wrong customer", "2026-02-10")
    assert open_of(ledger, "A7-000001", "2026-02-09") == 100000
    assert open_of(ledger, "A7-000001", "2026-02-10") == 0
    with pytest.raises(Conflict, match="already voided"):
        invoices.void(ledger, "A7-000001", "again", "2026-02-11")
    with pytest.raises(Conflict, match="already voided"):
        payments.void(ledger, paid.id, "again", "2026-02-11")
    with pytest.raises(Conflict, match="nothing open"):
        payments.add(ledger, "HD001", "2026-03-01", "1", allocate=["A7-000001=1"])


def test_open_items_and_listing_agree_as_of_dates(ledger):
    invoices.add(ledger, "HD001", "2026-01-15", amount="1000")  # due 2026-03-02
    invoices.add(ledger, "HD001", "2026-04-01", amount="50", due="2026-04-30")
    payments.add(ledger, "HD001", "2026-03-10", "250")
    rows = invoices.listing(ledger, customer_code="HD001", open_only=True, overdue_only=True, as_of="2026-03-31")
    assert [(r["number"], r["open"], r["status"]) for r in rows] == [("A7-000001", 75000, "open")]
    rows = invoices.listing(ledger, as_of="2026-03-01")
    assert [(r["number"], r["open"]) for r in rows] == [("A7-000001", 100000)]  # the April invoice did not exist
    detail = invoices.detail(ledger, "A7-000001", "2026-03-31")
    assert [(d["amount"], d["open"]) for d in detail["due_items"]] == [(100000, 75000)]
    assert [a["amount"] for a in detail["allocations"]] == [25000]
