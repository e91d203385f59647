"""Credit score factor by factor, ratings, suggested policy, risk alerts and the credit limit on new invoices;
every expected value is worked by hand in the comments."""
from __future__ import annotations

from datetime import date

import pytest

from store.rules import credit
from store.write import customers
from store.rules.credit import CustomerFacts, PaidInvoice
from store.ledger.ledger import Ledger
from tests.support.cli import PASSPHRASE, assert_one_line_error, change_count

D = date.fromisoformat


def test_score_factor_by_factor():
    facts = CustomerFacts(
        "c1", "HD", "恒达", "CNY",
        paid=(PaidInvoice(D("2025-09-01"), D("2025-09-01")),   # on time, paid in the prior window
              PaidInvoice(D("2025-10-01"), D("2025-09-29")),   # 2 days early, prior
              PaidInvoice(D("2026-04-10"), D("2026-04-20")),   # 10 days late, last 90 days
              PaidInvoice(D("2026-05-01"), D("2026-05-21"))),  # 20 days late, last 90 days
        open_amount=100_000, overdue_amount=25_000, oldest_overdue_days=45, oldest_overdue_number="A9",
        disputes=1, balance=90_000, credit_limit=120_000)
    result = credit.score(facts, D("2026-06-30"))
    got = {f.name: (f.weight, f.points, f.value) for f in result.factors}
    assert got == {
        # average (0 - 2 + 10 + 20) / 4 = 7 days late: 100 - 7 × 100/60 = 100 - 11.67 -> 88
        "days_late": (25, 88, "7 days on average over 4 paid invoice(s)"),
        "on_time_share": (20, 50, "2 of 4 paid on time"),
        "overdue_share": (20, 75, "25% of the open amount is overdue"),
        # 45 days: 100 - 45 × 100/120 = 100 - 37.5 -> 100 - 38 = 62
        "oldest_overdue": (15, 62, "45 days (A9)"),
        # recent average 15, prior -1: +16 days; 100 - 16 × 100/30 = 100 - 53.3 -> 47
        "trend": (10, 47, "+16 days late against the 275 days before"),
        "disputes": (5, 50, "1 in the last 365 days"),
        # 900.00 of 1,200.00 = 75%: 100 - 2 × (75 - 50) = 50
        "limit_use": (5, 50, "75% of the credit limit"),
    }
    # (88×25 + 50×20 + 75×20 + 62×15 + 47×10 + 50×5 + 50×5) / 100 = 6600 / 100 = 66 -> B
    assert (result.score, result.rating) == (66, "B")
    assert result.policy("en") == "keep the current terms and credit limit"
    assert result.policy("zh") == "维持现有账期和额度"


def test_factors_that_do_not_apply_leave_the_weight_to_the_others():
    facts = CustomerFacts("c2", "NEW", "New Co", "CNY", open_amount=50_000, overdue_amount=50_000,
                          oldest_overdue_days=120, oldest_overdue_number="B1", balance=50_000)
    result = credit.score(facts, D("2026-06-30"))
    assert [f.name for f in result.factors if f.points is None] == ["days_late", "on_time_share", "trend", "limit_use"]
    # overdue share 100% -> 0, oldest 120 days -> 0, disputes none -> 100: (0×20 + 0×15 + 100×5) / 40 = 12.5 -> 13
    assert (result.score, result.rating) == (13, "D")
    assert result.policy("en") == "prepayment or cash on delivery; hold new orders until paid"


@pytest.mark.parametrize("score, rating", [(100, "A"), (80, "A"), (79, "B"), (60, "B"), (59, "C"), (40, "C"),
                                           (39, "D"), (0, "D")])
def test_rating_bands(score, rating):
    assert credit.rating(score) == rating


@pytest.fixture
def risky(cli):
    """BIG (limit 1,000) owes I1 1,500.00 due 2026-01-31, never paid; SMALL paid I2 10 days late and owes I3 200.00
    due 2026-03-31; TR paid I4 on time (2025-10-31) and I5 12 days late (2026-04-12), owes nothing."""
    with Ledger.create(cli.path, PASSPHRASE, series="T1") as ledger:
        customers.add(ledger, "BIG", "大客户有限公司", credit_limit="1000")
        customers.add(ledger, "SMALL", "Small Shop")
        customers.add(ledger, "TR", "Trend Co")
    for number, code, day, amount, due in [
            ("I1", "BIG", "2026-01-01", "1500", "2026-01-31"), ("I2", "SMALL", "2026-01-01", "100", "2026-01-31"),
            ("I3", "SMALL", "2026-03-01", "200", "2026-03-31"), ("I4", "TR", "2025-10-01", "300", "2025-10-31"),
            ("I5", "TR", "2026-03-01", "300", "2026-03-31")]:
        result = cli("invoice", "add", "--customer", code, "--date", day, "--amount", amount, "--due", due,
                     "--number", number)
        assert result.code == 0, result.err
    for code, day, number, amount in [("SMALL", "2026-02-10", "I2", "100"), ("TR", "2025-10-31", "I4", "300"),
                                      ("TR", "2026-04-12", "I5", "300")]:
        assert cli("payment", "add", "--customer", code, "--date", day, "--amount", amount,
                   "--allocate", f"{number}={amount}").code == 0
    return cli


def test_alerts_each_say_why(risky):
    result = risky("report", "alerts", "--as-of", "2026-05-15", "--format", "json")
    assert result.code == 0, result.err
    got = [(a["customer"], a["kind"], a["reason"]) for a in result.json()["alerts"]]
    assert got == [
        ("BIG", "overdue", "invoice I1 is 104 days overdue (threshold 90)"),
        ("BIG", "limit", "balance 1,500.00 CNY exceeds the credit limit 1,000.00 CNY by 500.00 CNY"),
        ("BIG", "no_payment", "balance 1,500.00 CNY and no payment for 134 days (no payment ever; oldest open "
                              "invoice 2026-01-01; threshold 60)"),
        # 1,500 of 1,700 = 88.2%
        ("BIG", "concentration", "88% of all CNY receivables (1,500.00 CNY of 1,700.00 CNY; threshold 25%)"),
        ("SMALL", "no_payment", "balance 200.00 CNY and no payment for 94 days (last payment 2026-02-10; "
                                "threshold 60)"),
        # paid in the last 90 days (from 2026-02-15): I5 12 days late; before: I4 0 days late
        ("TR", "trend", "paying later: invoices paid in the last 90 days were on average 12 days later than those "
                        "paid in the 275 days before (threshold 5)"),
    ]
    zh = risky("report", "alerts", "--as-of", "2026-05-15", "--lang", "zh", "--format", "json").json()["alerts"]
    assert [a["reason"] for a in zh[:3]] == [
        "发票 I1 已逾期 104 天（阈值 90 天）", "余额 1,500.00 CNY 超出信用额度 1,000.00 CNY 500.00 CNY",
        "余额 1,500.00 CNY，已 134 天未付款（从未付款；最早未结发票 2026-01-01；阈值 60 天）"]
    assert risky("settings", "set", "alerts.overdue_days", "120").code == 0
    assert risky("settings", "set", "alerts.concentration_pct", "90").code == 0
    kinds = [(a["customer"], a["kind"]) for a in
             risky("report", "alerts", "--as-of", "2026-05-15", "--format", "json").json()["alerts"]]
    assert ("BIG", "overdue") not in kinds and ("BIG", "concentration") not in kinds
    assert_one_line_error(risky("settings", "set", "alerts.concentration_pct", "150"), 1, "between 1 and 100")


def test_credit_report_for_one_customer_shows_each_factor(risky):
    data = risky("report", "credit", "--as-of", "2026-05-15", "--customer", "SMALL", "--format", "json").json()
    (small,) = data["customers"]
    assert {f["factor"]: f["points"] for f in small["factors"]} == {
        "days_late": 83,        # 10 days late: 100 - 16.67 -> 83
        "on_time_share": 0,     # 0 of 1
        "overdue_share": 0,     # all 200.00 open is overdue
        "oldest_overdue": 62,   # 45 days: 100 - 37.5 -> 62
        "trend": None,          # nothing paid in the last 90 days
        "disputes": 100,
        "limit_use": None,      # no credit limit
    }
    # (83×25 + 0×20 + 0×20 + 62×15 + 100×5) / 85 = 3505 / 85 = 41.2 -> 41
    assert (small["score"], small["rating"]) == (41, "C")
    every = {c["customer"]: (c["score"], c["rating"]) for c in
             risky("report", "credit", "--as-of", "2026-05-15", "--format", "json").json()["customers"]}
    # BIG: overdue share 0, oldest 104 days -> 13, disputes 100, limit 150% -> 0: (13×15 + 100×5) / 45 = 15.4 -> 15
    assert every["BIG"] == (15, "D")
    # TR: 6 days late on average -> 90, 1 of 2 on time -> 50, nothing open -> 100 and 100, trend +12 -> 60,
    # disputes 100, no limit: (90×25 + 50×20 + 100×20 + 100×15 + 60×10 + 100×5) / 95 = 7850 / 95 = 82.6 -> 83
    assert every["TR"] == (83, "A")
    table = risky("report", "credit", "--as-of", "2026-05-15").out
    assert "days_late" in table.splitlines()[0] and "prepayment or cash on delivery" in table
    assert_one_line_error(risky("report", "credit", "--customer", "NOPE"), 1, "unknown customer 'NOPE'")


def test_new_invoice_past_the_limit_warns_or_is_refused_naming_limit_balance_and_excess(risky):
    warned = risky("invoice", "add", "--customer", "BIG", "--date", "2026-05-15", "--amount", "200", "--due",
                   "2026-06-15")
    assert warned.code == 0
    text = warned.out + warned.err
    assert "credit limit of BIG is 1,000.00 CNY: balance 1,500.00 CNY + this invoice 200.00 CNY exceeds it by " \
           "700.00 CNY" in text
    assert risky("settings", "set", "credit.enforce", "block").code == 0
    before = change_count(risky.path)
    refused = risky("invoice", "add", "--customer", "BIG", "--date", "2026-05-16", "--amount", "1")
    assert_one_line_error(refused, 1, "refused", "1,000.00 CNY", "balance 1,700.00 CNY", "exceeds it by 701.00 CNY")
    assert change_count(risky.path) == before


def test_credit_report_for_an_archived_customer_with_nothing_open_is_one_line(risky):
    assert risky("customer", "archive", "TR").code == 0  # TR owes nothing, so it leaves the report
    every = risky("report", "credit", "--as-of", "2026-05-15", "--format", "json").json()["customers"]
    assert [c["customer"] for c in every] == ["BIG", "SMALL"]
    assert_one_line_error(risky("report", "credit", "--as-of", "2026-05-15", "--customer", "TR"), 1,
                          "customer TR is archived with nothing open")
