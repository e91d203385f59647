"""Risk alerts (预警): each names the customer, the kind and why, with the numbers that triggered it.

Kinds: overdue (an instalment more than alerts.overdue_days past due), limit (balance over the credit
limit), trend (paying later: the days-late trend of store.rules.credit is worse than +5 days), promise (a promise
to pay broken), no_payment (a balance and no payment for alerts.no_payment_days; a customer who never paid
counts from its oldest open invoice), concentration (one customer above alerts.concentration_pct % of the
receivables in its currency). Pure over CustomerFacts; `alerts` gathers them from the ledger.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from store.read import open as openitems
from store.read import credit as credit_facts
from store.rules import credit
from store.rules import money
from store.write import collections
from store.rules.dunning import Promise, promise_status

DEFAULTS = {"alerts.overdue_days": 90, "alerts.no_payment_days": 60, "alerts.concentration_pct": 25}
TREND_WORSE_DAYS = 5
KINDS = ("overdue", "limit", "trend", "promise", "no_payment", "concentration")


@dataclass(frozen=True)
class Thresholds:
    overdue_days: int = 90
    no_payment_days: int = 60
    concentration_pct: int = 25


@dataclass(frozen=True)
class BrokenPromise:
    customer_id: str
    number: str
    currency: str
    promise: Promise


@dataclass(frozen=True)
class Alert:
    customer: str
    name: str
    kind: str
    reason: str  # English
    reason_zh: str = ""

    def why(self, language: str = "en") -> str:
        return self.reason_zh if language == "zh" and self.reason_zh else self.reason


def _amt(minor: int, currency: str) -> str:
    return f"{money.format_amount(minor, currency)} {currency}"


def risk_alerts(facts: list[credit.CustomerFacts], as_of: date, limits: Thresholds = Thresholds(),
                promises: list[BrokenPromise] = ()) -> list[Alert]:
    """Every alert as of a date, customers in code order, kinds in KINDS order."""
    totals: dict[str, int] = {}
    for f in facts:
        if f.balance > 0:
            totals[f.currency] = totals.get(f.currency, 0) + f.balance
    broken: dict[str, list[BrokenPromise]] = {}
    for b in promises:
        if promise_status(b.promise, as_of) == "broken":
            broken.setdefault(b.customer_id, []).append(b)
    out: list[Alert] = []
    for f in facts:
        def add(kind: str, reason: str, reason_zh: str) -> None:
            out.append(Alert(f.code, f.name, kind, reason, reason_zh))

        if f.oldest_overdue_days > limits.overdue_days:
            add("overdue", f"invoice {f.oldest_overdue_number} is {f.oldest_overdue_days} days overdue "
                           f"(threshold {limits.overdue_days})",
                f"发票 {f.oldest_overdue_number} 已逾期 {f.oldest_overdue_days} 天（阈值 {limits.overdue_days} 天）")
        owed = f.limit_use_balance  # every currency at its rate as of the date, as a new invoice is checked
        if f.credit_limit is not None and owed > f.credit_limit:
            add("limit", f"balance {_amt(owed, f.currency)} exceeds the credit limit "
                         f"{_amt(f.credit_limit, f.currency)} by {_amt(owed - f.credit_limit, f.currency)}",
                f"余额 {_amt(owed, f.currency)} 超出信用额度 {_amt(f.credit_limit, f.currency)} "
                f"{_amt(owed - f.credit_limit, f.currency)}")
        trend = credit.trend_days(f.paid, as_of)
        if trend is not None and trend > TREND_WORSE_DAYS:
            add("trend", f"paying later: invoices paid in the last 90 days were on average {trend} days later "
                         f"than those paid in the 275 days before (threshold {TREND_WORSE_DAYS})",
                f"付款变慢：近 90 天付清的发票平均比之前 275 天晚 {trend} 天（阈值 {TREND_WORSE_DAYS} 天）")
        for b in broken.get(f.customer_id, []):
            p = b.promise
            paid = sum(a for d, a in p.payments if p.made_on <= d <= p.date)
            add("promise", f"promise made {p.made_on} to pay {_amt(p.amount, b.currency)} of invoice {b.number} by "
                           f"{p.date} was broken ({_amt(paid, b.currency)} paid by then)",
                f"{p.made_on} 承诺在 {p.date} 前支付发票 {b.number} 的 {_amt(p.amount, b.currency)}，"
                f"到期仅付 {_amt(paid, b.currency)}，已违约")
        if f.balance > 0:
            since = f.last_payment or f.oldest_open_date
            if since is not None and (as_of - since).days > limits.no_payment_days:
                what = f"last payment {f.last_payment}" if f.last_payment else f"no payment ever; oldest open " \
                                                                                 f"invoice {f.oldest_open_date}"
                what_zh = f"最近付款 {f.last_payment}" if f.last_payment else f"从未付款；最早未结发票 {f.oldest_open_date}"
                add("no_payment", f"balance {_amt(f.balance, f.currency)} and no payment for {(as_of - since).days} "
                                  f"days ({what}; threshold {limits.no_payment_days})",
                    f"余额 {_amt(f.balance, f.currency)}，已 {(as_of - since).days} 天未付款（{what_zh}；"
                    f"阈值 {limits.no_payment_days} 天）")
            total = totals.get(f.currency, 0)
            if total and f.balance * 100 > limits.concentration_pct * total and len(
                    [g for g in facts if g.currency == f.currency and g.balance > 0]) > 1:
                share = credit._half_up(f.balance * 100, total)
                add("concentration", f"{share}% of all {f.currency} receivables ({_amt(f.balance, f.currency)} of "
                                     f"{_amt(total, f.currency)}; threshold {limits.concentration_pct}%)",
                    f"占全部 {f.currency} 应收的 {share}%（{_amt(f.balance, f.currency)} / {_amt(total, f.currency)}；"
                    f"阈值 {limits.concentration_pct}%）")
    order = {k: n for n, k in enumerate(KINDS)}
    return sorted(out, key=lambda a: (a.customer, order[a.kind]))


def thresholds(ledger) -> Thresholds:
    def get(key: str) -> int:
        return int(ledger.setting(key) or DEFAULTS[key])

    return Thresholds(get("alerts.overdue_days"), get("alerts.no_payment_days"), get("alerts.concentration_pct"))


def broken_promises(ledger, as_of: date) -> list[BrokenPromise]:
    """Promises whose date has passed and whose invoice is still open, with what their invoices received (the
    status is decided by the pure rule); once the invoice is settled the broken promise stops alerting."""
    rows = ledger.rows("""SELECT p.*, i.number, i.currency FROM promises p JOIN invoices i ON i.id = p.invoice_id
                          WHERE p.made_on <= ? AND p.date < ? ORDER BY p.date""",
                       (as_of.isoformat(), as_of.isoformat()))
    rows = [r for r in rows if openitems.invoice_open(ledger, r["invoice_id"], as_of) > 0]
    return [BrokenPromise(r["customer_id"], r["number"], r["currency"], fact)
            for r, fact in zip(rows, collections.promise_facts(ledger, rows))]


def alerts(ledger, as_of: date) -> list[Alert]:
    return risk_alerts(credit_facts.facts(ledger, as_of), as_of, thresholds(ledger), broken_promises(ledger, as_of))
