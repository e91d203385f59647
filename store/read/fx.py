"""Exchange rates read as of a date, and figures converted with them (store.rules.fx has the rules).

Per-currency figures stay the default everywhere; a conversion is asked for (`--in CNY`) and always says which
rate it used for each currency and which currencies had none (their figures are left out, never mixed in).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from store.errors import InvalidInput
from store.rules import aging as agelib
from store.rules import fx, money
from store.write.terms import home_currency
from store.i18n import N_


def rate_book(ledger, currencies: set[str] | None = None) -> fx.RateBook:
    rows = ledger.conn.execute("SELECT currency, date, rate FROM fx_rates")
    return fx.RateBook(home_currency(ledger), (
        fx.Rate(cur, date.fromisoformat(day), Decimal(rate)) for cur, day, rate in rows
        if currencies is None or cur in currencies))


def rates(ledger, currency: str | None = None) -> list[dict]:
    sql = "SELECT currency, date, rate, source FROM fx_rates"
    args: tuple = ()
    if currency:
        sql += " WHERE currency = ?"
        args = (money.check_currency(currency),)
    return ledger.rows(sql + " ORDER BY currency, date", args)


def rate_page(ledger, *, currency: str | None = None, after: tuple[str, str] | None = None,
              limit: int = 100) -> list[dict]:
    """One page of the rates kept, by currency and newest date first (the app's list pages with it): `after` is
    the last row's (currency, date) of the page before."""
    where, args = ["1=1"], []
    if currency:
        where.append("currency = ?")
        args.append(money.check_currency(currency))
    if after:
        where.append("(currency > ? OR (currency = ? AND date < ?))")
        args += [after[0], after[0], after[1]]
    return ledger.rows(f"SELECT id, currency, date, rate, source FROM fx_rates WHERE {' AND '.join(where)} "
                       "ORDER BY currency, date DESC LIMIT ?", (*args, int(limit)))


@dataclass
class Conversion:
    """Which rate was used for each currency (as of the date), and which currencies had none."""

    target: str
    as_of: date
    used: dict[str, fx.Rate] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"in": self.target, "as_of": self.as_of.isoformat(), "missing": self.missing,
                "rates": {cur: {"date": r.on.isoformat(), "rate": fx.rate_text(r.rate)}
                          for cur, r in sorted(self.used.items())}}


def converter(ledger, target: str, as_of: date, currencies: set[str], book: fx.RateBook | None = None):
    """A function (minor, currency) -> minor units of `target` or None, and the Conversion that says how.
    `book`: the rates, when already read (one read for many customers)."""
    target = money.check_currency(target)
    book = book if book is not None else rate_book(ledger)
    base = book.base
    wanted = set(currencies) | {target}
    found = {cur: book.as_of(cur, as_of) for cur in wanted}
    if found[target] is None:
        raise InvalidInput(N_("--in {target}: no rate for {target} on or before {as_of} (the base currency is "
                              "{base}; `duly rate set {target} RATE --date D`)"),
                           target=target, as_of=as_of, base=base, field="in")
    conv = Conversion(target, as_of)
    for cur in sorted(currencies):
        if cur == target:
            continue
        if found[cur] is None:
            conv.missing.append(cur)
        elif cur != base:
            conv.used[cur] = found[cur]
    if target != base:
        conv.used[target] = found[target]

    def to_target(minor: int, currency: str) -> int | None:
        return fx.into(minor, currency, target, found, base)

    return to_target, conv


def in_one_currency(ledger, target: str, on: date, owed: dict[str, int], book: fx.RateBook | None = None):
    """What is owed in several currencies as one sum in `target`, each at its rate as of `on` — the credit-limit
    rule (a new invoice is checked by it; the credit score's limit use and the limit alert count by it): a currency
    with no rate is not counted and is named (all but `target` when `target` itself has none). Returns (sum,
    Conversion or None, the currencies left out, the function converting (minor, currency) into `target`)."""
    owed = {cur: amount for cur, amount in owed.items() if amount}
    to_target, conv, missing = (lambda minor, cur: minor), None, []
    if set(owed) - {target}:
        try:
            to_target, conv = converter(ledger, target, on, set(owed), book)
            missing = conv.missing
        except InvalidInput:  # no rate for the target currency itself: only that currency can be counted
            missing = sorted(set(owed) - {target})
    total = sum(to_target(amount, cur) for cur, amount in owed.items() if cur not in missing)
    return total, conv, missing, to_target


def aging_in(report: agelib.AgingReport, ledger, target: str) -> tuple[agelib.AgingReport, Conversion]:
    """The aging report with every row in `target`: a customer's rows in several currencies become one row
    (each cell converted, then summed); rows of a currency without a rate are left out and named."""
    to_target, conv = converter(ledger, target, report.as_of, {r["currency"] for r in report.rows})
    parts = [*report.buckets, agelib.UNAPPLIED]
    columns = [*parts, "total"]
    merged: dict[str, dict] = {}
    for row in report.rows:
        if row["currency"] in conv.missing:
            continue
        out = merged.setdefault(row["customer"], {"customer": row["customer"], "name": row["name"],
                                                  "currency": conv.target, **{c: 0 for c in columns}})
        for c in parts:
            cell = to_target(row[c], row["currency"])
            out[c] += cell
            out["total"] += cell  # the total is its converted cells' sum, so the row adds up as shown
    totals = {c: sum(r[c] for r in merged.values()) for c in columns}
    rows = sorted(merged.values(), key=lambda r: r["customer"])
    return agelib.AgingReport(report.as_of, report.basis, report.buckets, rows,
                              {conv.target: totals} if rows else {}), conv


def summary_in(figures: dict[str, dict[str, int]], ledger, target: str, as_of: date
               ) -> tuple[dict[str, dict[str, int]], Conversion]:
    """`report summary`'s per-currency money figures as one row in `target`: overdue, not due and unapplied
    converted and summed; receivable and balance their sums, so the row adds up as shown; open invoices
    counted. (Customers with a balance are not given: one customer may owe in two currencies.)"""
    to_target, conv = converter(ledger, target, as_of, set(figures))
    out = {"receivable": 0, "overdue": 0, "not_due": 0, "unapplied": 0, "balance": 0, "open_invoices": 0}
    kept = False
    for cur, row in figures.items():
        if cur in conv.missing:
            continue
        kept = True
        for key in ("overdue", "not_due", "unapplied"):
            out[key] += to_target(row[key], cur)
        out["open_invoices"] += row["open_invoices"]
    out["receivable"] = out["overdue"] + out["not_due"]
    out["balance"] = out["receivable"] + out["unapplied"]
    return ({conv.target: out} if kept else {}), conv


def revaluation(ledger, as_of: date) -> dict:
    """Unrealised exchange difference (未实现汇兑损益) as of a date: every open foreign-currency invoice at its
    booked rate (the rate as of its own date) and at the rate as of `as_of`; the difference is a gain when the
    receivable is worth more in the base currency. Invoices whose either rate is missing are listed apart."""
    from store.read.open import position

    pos = position(ledger, as_of)
    book = rate_book(ledger)
    base = book.base
    rows, missing = [], []
    for inv in pos.invoices:
        if inv.currency == base or inv.open_amount <= 0:
            continue
        booked, now = book.as_of(inv.currency, inv.doc_date), book.as_of(inv.currency, as_of)
        if booked is None or now is None:
            missing.append({"number": inv.number, "customer": inv.customer, "currency": inv.currency,
                            "date": inv.doc_date.isoformat(), "open": inv.open_amount})
            continue
        at_booked = fx.convert(inv.open_amount, inv.currency, booked.rate, base)
        at_now = fx.convert(inv.open_amount, inv.currency, now.rate, base)
        rows.append({"number": inv.number, "customer": inv.customer, "name": inv.name, "currency": inv.currency,
                     "open": inv.open_amount, "booked_rate": booked.rate, "rate": now.rate,
                     "booked": at_booked, "revalued": at_now, "difference": at_now - at_booked})
    rows.sort(key=lambda r: (r["customer"], r["number"]))
    return {"as_of": as_of, "base": base, "rows": rows, "missing": missing,
            "difference": sum(r["difference"] for r in rows)}


def realised(ledger, start: date, end: date) -> dict:
    """Realised exchange difference (已实现汇兑损益) over a period: each part of a foreign-currency payment dated
    in the period and applied to an invoice, at the payment date's rate less the invoice date's rate. Parts of
    payments voided by the period's end are left out; credit notes move no cash and make no difference."""
    book = rate_book(ledger)
    base = book.base
    rows, missing = [], []
    found = ledger.conn.execute(
        """SELECT p.number, p.date, i.number, i.date, a.amount, p.currency, c.code
           FROM allocations a JOIN payments p ON p.id = a.payment_id JOIN invoices i ON i.id = a.invoice_id
           JOIN customers c ON c.id = p.customer_id
           WHERE p.currency != :base AND p.date >= :start AND p.date <= :end
             AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.doc_table = 'payments' AND v.doc_id = p.id
                             AND v.date <= :end)
           ORDER BY p.date, p.number, i.number""",
        {"base": base, "start": start.isoformat(), "end": end.isoformat()})
    for pay_no, pay_day, inv_no, inv_day, amount, cur, code in found:
        paid_on, invoiced_on = date.fromisoformat(pay_day), date.fromisoformat(inv_day)
        at_pay, at_inv = book.as_of(cur, paid_on), book.as_of(cur, invoiced_on)
        row = {"payment": pay_no, "date": pay_day, "invoice": inv_no, "invoice_date": inv_day, "customer": code,
               "currency": cur, "amount": amount}
        if at_pay is None or at_inv is None:
            missing.append(row)
            continue
        received = fx.convert(amount, cur, at_pay.rate, base)
        booked = fx.convert(amount, cur, at_inv.rate, base)
        rows.append({**row, "invoice_rate": at_inv.rate, "payment_rate": at_pay.rate, "booked": booked,
                     "received": received, "difference": received - booked})
    return {"from": start, "to": end, "base": base, "rows": rows, "missing": missing,
            "difference": sum(r["difference"] for r in rows)}
