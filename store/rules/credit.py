"""Credit control (信用管理): a score 0–100 and a rating A/B/C/D per customer, with each factor shown.

Pure rules over CustomerFacts (gathered from the ledger by store.read.credit.facts).
Each factor gives 0–100 points; the score is the weighted mean over the factors that apply, rounded half-up:

| factor          | weight | 100 points           | 0 points          | rule                                   |
|-----------------|--------|----------------------|-------------------|----------------------------------------|
| days_late       | 25     | paid on time / early | 60+ days late avg | 100 - avg days late × 100/60           |
| on_time_share   | 20     | all paid by due      | none              | 100 × paid on time / paid              |
| overdue_share   | 20     | nothing overdue      | all overdue       | 100 - 100 × overdue / open             |
| oldest_overdue  | 15     | nothing overdue      | 120+ days         | 100 - oldest days × 100/120            |
| trend           | 10     | not paying later     | 30+ days later    | 100 - (recent - prior avg) × 100/30    |
| disputes        | 5      | none in a year       | two or more       | 100 / 50 / 0                           |
| limit_use       | 5      | up to 50% of limit   | at or over limit  | 100 - (use% - 50) × 2                  |

days_late, on_time_share need paid invoices, trend needs paid invoices in both windows (last 90 days and
the 275 before, as store.read.reports.customer_days_to_pay), limit_use needs a credit limit; otherwise they do
not apply and the others carry the score. Ratings: A from 80, B from 60, C from 40, else D.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from store.rules.dunning import _half_up  # one half-up rule for fees, interest and scores

WEIGHTS = {"days_late": 25, "on_time_share": 20, "overdue_share": 20, "oldest_overdue": 15, "trend": 10,
           "disputes": 5, "limit_use": 5}
RATINGS = ((80, "A"), (60, "B"), (40, "C"), (0, "D"))
POLICY = {
    "A": ("可放宽账期（如 NET60）并提高信用额度", "longer terms possible (e.g. NET60) and a higher credit limit"),
    "B": ("维持现有账期和额度", "keep the current terms and credit limit"),
    "C": ("缩短账期（如 NET15），不再提高额度，密切跟踪", "shorter terms (e.g. NET15), no higher limit, watch closely"),
    "D": ("要求预付款或货到付款，结清前暂停新订单", "prepayment or cash on delivery; hold new orders until paid"),
}
RECENT_DAYS, PRIOR_DAYS = 90, 365  # the windows of store.read.reports.customer_days_to_pay


@dataclass(frozen=True)
class PaidInvoice:
    due: date
    paid: date  # the day it was fully paid

    @property
    def days_late(self) -> int:
        return (self.paid - self.due).days


@dataclass(frozen=True)
class CustomerFacts:
    customer_id: str
    code: str
    name: str
    currency: str  # the customer's currency: open, overdue, balance and limit are in it
    paid: tuple[PaidInvoice, ...] = ()
    open_amount: int = 0
    overdue_amount: int = 0
    oldest_overdue_days: int = 0
    oldest_overdue_number: str | None = None
    disputes: int = 0  # opened in the last 365 days
    balance: int = 0  # open less unapplied
    credit_limit: int | None = None
    last_payment: date | None = None
    oldest_open_date: date | None = None
    # what counts against the credit limit: the balance in every currency, each at its rate as of the date, in
    # the customer's currency (the rule a new invoice is checked by); None: the balance (one currency only)
    limit_balance: int | None = None

    @property
    def limit_use_balance(self) -> int:
        return self.balance if self.limit_balance is None else self.limit_balance


@dataclass(frozen=True)
class Factor:
    name: str
    weight: int
    value: str  # what was measured, for a person
    points: int | None  # None: does not apply

    @property
    def weighted(self) -> int | None:
        return None if self.points is None else self.points * self.weight


@dataclass
class CreditScore:
    facts: CustomerFacts
    score: int
    rating: str
    factors: list[Factor] = field(default_factory=list)

    def policy(self, language: str = "en") -> str:
        zh, en = POLICY[self.rating]
        return zh if language == "zh" else en


def _clamp(points: int) -> int:
    return max(0, min(100, points))


def average_days_late(paid: tuple[PaidInvoice, ...] | list[PaidInvoice]) -> int | None:
    """Mean days late (early payment counts negative), whole days half-up; None without paid invoices."""
    return _half_up(sum(p.days_late for p in paid), len(paid)) if paid else None


def trend_days(paid: tuple[PaidInvoice, ...], as_of: date) -> int | None:
    """Average days late of invoices paid in the last 90 days less that of the 275 days before."""
    recent_from, prior_from = as_of - timedelta(days=RECENT_DAYS - 1), as_of - timedelta(days=PRIOR_DAYS - 1)
    recent = [p for p in paid if recent_from <= p.paid <= as_of]
    prior = [p for p in paid if prior_from <= p.paid < recent_from]
    if not recent or not prior:
        return None
    return average_days_late(recent) - average_days_late(prior)


def factors(f: CustomerFacts, as_of: date) -> list[Factor]:
    out = []
    avg = average_days_late(f.paid)
    out.append(Factor("days_late", WEIGHTS["days_late"], "no paid invoices" if avg is None else
                      f"{avg} days on average over {len(f.paid)} paid invoice(s)",
                      None if avg is None else _clamp(100 - _half_up(max(avg, 0) * 100, 60))))
    on_time = sum(1 for p in f.paid if p.days_late <= 0)
    out.append(Factor("on_time_share", WEIGHTS["on_time_share"], "no paid invoices" if not f.paid else
                      f"{on_time} of {len(f.paid)} paid on time",
                      None if not f.paid else _half_up(100 * on_time, len(f.paid))))
    share = _half_up(100 * f.overdue_amount, f.open_amount) if f.open_amount > 0 else 0
    out.append(Factor("overdue_share", WEIGHTS["overdue_share"],
                      f"{share}% of the open amount is overdue" if f.open_amount > 0 else "nothing open",
                      _clamp(100 - share)))
    out.append(Factor("oldest_overdue", WEIGHTS["oldest_overdue"],
                      f"{f.oldest_overdue_days} days ({f.oldest_overdue_number})" if f.oldest_overdue_days > 0
                      else "nothing overdue", _clamp(100 - _half_up(f.oldest_overdue_days * 100, 120))))
    trend = trend_days(f.paid, as_of)
    out.append(Factor("trend", WEIGHTS["trend"], "not enough history (paid in the last 90 days and before)"
                      if trend is None else f"{trend:+d} days late against the 275 days before",
                      None if trend is None else _clamp(100 - _half_up(max(trend, 0) * 100, 30))))
    out.append(Factor("disputes", WEIGHTS["disputes"], f"{f.disputes} in the last 365 days",
                      {0: 100, 1: 50}.get(f.disputes, 0)))
    if f.credit_limit:
        use = _half_up(100 * max(f.limit_use_balance, 0), f.credit_limit)
        out.append(Factor("limit_use", WEIGHTS["limit_use"], f"{use}% of the credit limit",
                          _clamp(100 - 2 * (use - 50)) if use > 50 else 100))
    else:
        out.append(Factor("limit_use", WEIGHTS["limit_use"], "no credit limit", None))
    return out


def rating(score: int) -> str:
    return next(letter for floor, letter in RATINGS if score >= floor)


def score(f: CustomerFacts, as_of: date) -> CreditScore:
    """The customer's score (weighted mean of the factors that apply, half-up) and rating."""
    parts = factors(f, as_of)
    applied = [p for p in parts if p.points is not None]
    total = _half_up(sum(p.weighted for p in applied), sum(p.weight for p in applied))
    return CreditScore(f, total, rating(total), parts)
