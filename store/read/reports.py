"""Reports over the documents (DESIGN §1 Reports): aging, AR summary, DSO, their month-by-month trend, CEI, days
to pay (and a customer's days late on its last paid invoices), expected payment dates, the 13-week cash-in
forecast and the bad-debt provision (坏账准备).

Everything is computed from the posted documents as of a date (the rules: store.read.open); nothing is
stored. SQL does the heavy part (one GROUP BY over allocations and write-offs, never a query per invoice)
and only invoices that are still open come back to Python, where the pure rules in store.rules.aging and
store.rules.allocation take over.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from store.rules import aging as agelib
from store.read import recurring
from store.read.open import (Position, _customers, _single_instalment_terms, open_invoices_on_dates_sql,
                             overdue_on_sql, position, unapplied_on_dates_sql)
from store.rules.openitems import OVER_ALLOCATED, by_invoice_date
from store.errors import InvalidInput
from store.i18n import N_

def default_edges(ledger) -> tuple[int, ...]:
    text = ledger.setting("aging.buckets")
    return agelib.parse_edges(text) if text else agelib.DEFAULT_EDGES


def aging(ledger, as_of: date, basis: str = "due", edges=None, years: bool = False,
          pos: Position | None = None) -> agelib.AgingReport:
    """The aged receivables (账龄) as of a date; buckets from `edges`, the aging.buckets setting, or 30/60/90/120.
    `pos` is the position as of that date when the caller already has it."""
    if basis not in agelib.BASES:
        raise InvalidInput(N_("aging basis {basis} is not one of {bases}"), basis=repr(basis),
                           bases=', '.join(agelib.BASES), field="basis")
    edges = agelib.check_edges(edges) if edges is not None else default_edges(ledger)
    pos = pos if pos is not None else position(ledger, as_of)
    if basis == "invoice":  # by invoice date the instalments do not matter: one item per invoice
        items = [by_invoice_date(i) for i in pos.invoices]
        items += [it for it in pos.items if it.number == OVER_ALLOCATED]
    else:
        items = pos.items
    return agelib.age(items, pos.unapplied, as_of, basis, edges, years)


# --- AR summary ----------------------------------------------------------------------------------------


def summary(ledger, as_of: date, pos: Position | None = None) -> dict[str, dict[str, int]]:
    """Per currency: receivable (what open invoices still owe), overdue and not due (its two parts), unapplied
    (money received and not yet applied: negative, as in the aging report), balance (receivable + unapplied:
    what customers owe net), open invoices, customers with a balance. The dashboard, the Reports screen and
    `report summary` all show these, under these names. `pos`: the position as of that date, if at hand."""
    pos = pos if pos is not None else position(ledger, as_of)
    out: dict[str, dict[str, Any]] = {}

    def cur(currency: str) -> dict[str, Any]:
        return out.setdefault(currency, {"receivable": 0, "overdue": 0, "not_due": 0, "unapplied": 0,
                                         "balance": 0, "open_invoices": 0, "customers": 0})

    for it in pos.items:
        row = cur(it.currency)
        row["receivable"] += it.open_amount
        row["overdue" if it.due_date < as_of else "not_due"] += it.open_amount
    for inv in pos.invoices:
        cur(inv.currency)["open_invoices"] += 1
    for u in pos.unapplied:
        cur(u.currency)["unapplied"] -= u.amount
    balances: dict[tuple[str, str], int] = defaultdict(int)
    for it in pos.items:
        balances[(it.customer, it.currency)] += it.open_amount
    for u in pos.unapplied:
        balances[(u.customer, u.currency)] -= u.amount
    for (_, currency), balance in balances.items():
        if balance:
            cur(currency)["customers"] += 1
    for row in out.values():
        row["balance"] = row["receivable"] + row["unapplied"]
    return dict(sorted(out.items()))


# --- DSO and CEI -----------------------------------------------------------------------------------------


def ratio(numerator: int, denominator: int, scale: int = 1, places: int = 1) -> Decimal | None:
    """numerator * scale / denominator, rounded half-up to `places` decimals; None when dividing by zero."""
    if denominator == 0:
        return None
    value = Decimal(numerator * scale) / Decimal(denominator)
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _sold(start: str, end: str) -> str:
    """The invoices (alias i) that are credit sales of start..end (inclusive): dated then, not voided by end."""
    return f"""i.date >= {start} AND i.date <= {end}
           AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.doc_id = i.id AND v.doc_table = 'invoices' AND v.date <= {end})"""


def _sales(ledger, start: date, end: date) -> dict[str, int]:
    """Credit sales: invoice totals dated start..end (inclusive), not voided by end."""
    rows = ledger.conn.execute(f"SELECT i.currency, sum(i.total) FROM invoices i WHERE {_sold(':s', ':e')} "
                               "GROUP BY i.currency", {"s": start.isoformat(), "e": end.isoformat()})
    return {cur: amount for cur, amount in rows}


def _receivable(pos: Position) -> tuple[dict[str, int], dict[str, int]]:
    """(open amounts, open amounts not yet due) per currency."""
    total: dict[str, int] = defaultdict(int)
    current: dict[str, int] = defaultdict(int)
    for it in pos.items:
        total[it.currency] += it.open_amount
        if it.due_date >= pos.as_of:
            current[it.currency] += it.open_amount
    return total, current


def dso(ledger, as_of: date, days: int = 90, pos: Position | None = None) -> dict[str, dict[str, Any]]:
    """Days sales outstanding per currency: receivables / credit sales over the last `days` days × days.

    Receivables are open invoices less unapplied cash (the balance); sales are invoices dated in
    (as_of - days, as_of]. DSO is None when there were no sales in the period. `pos`: the position as of that
    date, if at hand.
    """
    if days <= 0:
        raise InvalidInput(N_("DSO period must be a positive number of days, got {days}"), days=days, field="days")
    summ = summary(ledger, as_of, pos)
    sales = _sales(ledger, as_of - timedelta(days=days - 1), as_of)
    out = {}
    for currency in sorted(set(summ) | set(sales)):
        receivable = summ.get(currency, {}).get("balance", 0)
        out[currency] = {"receivables": receivable, "sales": sales.get(currency, 0), "days": days,
                         "dso": ratio(receivable, sales.get(currency, 0), days)}
    return out


# --- the month-by-month trend: summary and DSO at each month end -----------------------------------------


def month_ends(as_of: date, months: int = 12) -> list[date]:
    """The last day of each of the `months` months up to as_of's, oldest first; as_of itself for its month."""
    ends, year, month = [as_of], as_of.year, as_of.month
    for _ in range(months - 1):
        ends.append(date(year, month, 1) - timedelta(days=1))
        year, month = ends[-1].year, ends[-1].month
    return ends[::-1]


def trend(ledger, as_of: date, months: int = 12, days: int = 90) -> list[dict[str, Any]]:
    """Per month end (month_ends, oldest first) and currency: receivable, overdue and balance as summary() gives
    them as of that date, credit sales over `days` days and DSO as dso() gives them; every currency in every
    month (0 where it had nothing). One SQL pass per figure over all the dates (open.py's rule with the date
    read from a row), not a report per month."""
    if days <= 0:
        raise InvalidInput(N_("DSO period must be a positive number of days, got {days}"), days=days, field="days")
    ends = month_ends(as_of, months)
    marks = ", ".join(f"(:d{k}, :s{k})" for k in range(len(ends)))
    params: dict[str, str] = {}
    for k, end in enumerate(ends):
        params[f"d{k}"], params[f"s{k}"] = end.isoformat(), (end - timedelta(days=days - 1)).isoformat()
    dates = f"as_of(d, since) AS (VALUES {marks})"
    single = sorted(_single_instalment_terms(ledger))
    params.update({f"t{k}": name for k, name in enumerate(single)})
    single_sql = ", ".join(f":t{k}" for k in range(len(single)))
    cells: dict[tuple[str, str], dict[str, int]] = defaultdict(
        lambda: {"receivable": 0, "overdue": 0, "balance": 0, "sales": 0})
    open_rows = ledger.conn.execute(
        f"""WITH {dates}, {open_invoices_on_dates_sql()}
            SELECT c.as_of, c.currency, sum(c.open_amount), sum({overdue_on_sql('c', 'c.as_of', single_sql)})
            FROM candidates c WHERE c.open_amount != 0 GROUP BY c.as_of, c.currency""", params)
    for d, currency, open_amount, overdue in open_rows:
        cell = cells[(d, currency)]
        cell["receivable"] += open_amount
        cell["balance"] += open_amount
        cell["overdue"] += overdue
    for d, _customer, currency, amount in ledger.conn.execute(f"WITH {dates} {unapplied_on_dates_sql()}", params):
        cell = cells[(d, currency)]
        cell["balance"] -= amount
        if amount < 0:  # more allocated than paid: owed, an item of the receivable (as position() has it)
            cell["receivable"] -= amount
    for d, currency, amount in ledger.conn.execute(
            f"""WITH {dates} SELECT m.d, i.currency, sum(i.total) FROM as_of m JOIN invoices i
                ON {_sold('m.since', 'm.d')} GROUP BY m.d, i.currency""", params):
        cells[(d, currency)]["sales"] += amount
    currencies = sorted({currency for _, currency in cells})
    out = []
    for end in ends:
        for currency in currencies:
            cell = cells.get((end.isoformat(), currency)) or {"receivable": 0, "overdue": 0, "balance": 0, "sales": 0}
            out.append({"month": end.strftime("%Y-%m"), "as_of": end, "currency": currency, **cell, "days": days,
                        "dso": ratio(cell["balance"], cell["sales"], days)})
    return out


def cei(ledger, start: date, end: date) -> dict[str, dict[str, Any]]:
    """Collection effectiveness index per currency, over start..end inclusive:
    (beginning AR + sales - ending AR) / (beginning AR + sales - ending current AR) × 100.

    AR is the open amount of invoices (unapplied cash not netted); beginning AR is as of the day before start;
    ending current AR is what is open at end but not yet due.
    """
    if end < start:
        raise InvalidInput(N_("CEI period: --to {end} is before --from {start}"), end=end, start=start, field="to")
    begin_ar, _ = _receivable(position(ledger, start - timedelta(days=1)))
    end_ar, end_current = _receivable(position(ledger, end))
    sales = _sales(ledger, start, end)
    out = {}
    for currency in sorted(set(begin_ar) | set(end_ar) | set(sales)):
        b, s, e, ec = begin_ar.get(currency, 0), sales.get(currency, 0), end_ar.get(currency, 0), end_current.get(
            currency, 0)
        out[currency] = {"beginning_ar": b, "sales": s, "ending_ar": e, "ending_current_ar": ec,
                         "cei": ratio(b + s - e, b + s - ec, 100)}
    return out


# --- payment behaviour, expected dates and forecast ------------------------------------------------------

def paid_invoices_sql(columns: str = "i.customer_id, i.date, i.due_date, m.last", of_customer: bool = False) -> str:
    """Invoices fully paid (by payments and credits) by :d, with m.last the date they were: of every customer, or
    of the customer :c (whose allocations alone are then summed)."""
    mine = "AND invoice_id IN (SELECT id FROM invoices WHERE customer_id = :c)" if of_customer else ""
    return f"""
WITH moved AS (
  SELECT invoice_id, sum(amount) AS amount, max(date) AS last FROM allocations WHERE date <= :d {mine}
  GROUP BY invoice_id
)
SELECT {columns} FROM invoices i JOIN moved m ON m.invoice_id = i.id
WHERE i.date <= :d AND m.amount >= i.total AND i.total > 0
  AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.doc_id = i.id AND v.doc_table = 'invoices' AND v.date <= :d)
"""


PAID_INVOICES_SQL = paid_invoices_sql()

TREND_WORSE_DAYS = 5


def _avg(values: list[int]) -> int | None:
    """Average in whole days, rounded half-up (no floats)."""
    if not values:
        return None
    return int((Decimal(sum(values)) / len(values)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def customer_days_to_pay(ledger, as_of: date) -> list[dict[str, Any]]:
    """Per customer, over invoices fully paid (by payments and credits) by as_of: average days from invoice to
    full payment, average days late (negative = early), and the trend of days late: paid in the last 90 days
    against the 275 days before (positive = paying later than before)."""
    names = _customers(ledger)
    recent_from = as_of - timedelta(days=89)
    prior_from = as_of - timedelta(days=364)
    acc: dict[str, dict[str, list[int]]] = defaultdict(lambda: {"to_pay": [], "late": [], "recent": [], "prior": []})
    for cid, doc, due, last in ledger.conn.execute(PAID_INVOICES_SQL, {"d": as_of.isoformat()}):
        paid = date.fromisoformat(last)
        late = (paid - date.fromisoformat(due)).days
        row = acc[cid]
        row["to_pay"].append((paid - date.fromisoformat(doc)).days)
        row["late"].append(late)
        if paid >= recent_from:
            row["recent"].append(late)
        elif paid >= prior_from:
            row["prior"].append(late)
    out = []
    for cid, row in acc.items():
        code, name = names.get(cid, (cid, cid))
        recent, prior = _avg(row["recent"]), _avg(row["prior"])
        trend = None if recent is None or prior is None else recent - prior
        if trend is None:
            direction = "unknown"
        elif trend > TREND_WORSE_DAYS:
            direction = "worsening"
        elif trend < -TREND_WORSE_DAYS:
            direction = "improving"
        else:
            direction = "steady"
        out.append({"customer_id": cid, "customer": code, "name": name, "paid_invoices": len(row["late"]),
                    "avg_days_to_pay": _avg(row["to_pay"]), "avg_days_late": _avg(row["late"]),
                    "recent_days_late": recent, "prior_days_late": prior, "trend_days": trend,
                    "trend": direction})
    return sorted(out, key=lambda r: r["customer"])


def last_paid_lateness(ledger, customer_id: str, as_of: date, count: int = 12) -> list[dict[str, Any]]:
    """The customer's last `count` invoices fully paid by as_of, oldest payment first: number, currency, due date,
    the date it was paid in full and days late (negative = early), as customer_days_to_pay counts them."""
    rows = ledger.conn.execute(
        paid_invoices_sql("i.number, i.currency, i.due_date, m.last", of_customer=True)
        + " ORDER BY m.last DESC, i.number DESC LIMIT :n", {"d": as_of.isoformat(), "c": customer_id, "n": count})
    out = [{"number": number, "currency": currency, "due_date": date.fromisoformat(due),
            "paid": date.fromisoformat(last), "days_late": (date.fromisoformat(last) - date.fromisoformat(due)).days}
           for number, currency, due, last in rows]
    return out[::-1]


def expected_payment_dates(ledger, as_of: date, pos: Position | None = None) -> list[dict[str, Any]]:
    """Per open instalment: the due date moved by the customer's average days late, never before as_of.
    Customers with no paid history are expected on the due date."""
    late = {row["customer_id"]: row["avg_days_late"] or 0 for row in customer_days_to_pay(ledger, as_of)}
    pos = pos or position(ledger, as_of)
    by_number = {inv.number: inv for inv in pos.invoices}
    out = []
    for it in pos.items:
        if it.open_amount <= 0 or it.number not in by_number:
            continue
        inv = by_number[it.number]
        shift = late.get(inv.customer_id, 0)
        expected = max(as_of, it.due_date + timedelta(days=shift))
        out.append({"customer": it.customer, "name": it.name, "number": it.number, "currency": it.currency,
                    "due_date": it.due_date, "open_amount": it.open_amount, "avg_days_late": shift,
                    "expected": expected})
    return sorted(out, key=lambda r: (r["expected"], r["customer"], r["number"]))


FORECAST_CREDIT = "credit"  # the forecast's row of credit balances left after netting (money owed back)


def forecast(ledger, as_of: date, weeks: int = 13, pos: Position | None = None) -> list[dict[str, Any]]:
    """Cash still to come in, per week and currency, from the expected payment dates: week 1 is as_of..as_of+6
    (it also holds everything overdue); what is expected after the last week is in a 'later' row.

    Rows of source 'open_items' come from open invoices. Cash already received counts once: a customer's
    unapplied payments and credits are netted against that customer's own expected receipts, earliest first (as
    applying them would settle the oldest invoices), so these rows total the aging. Credit beyond what the
    customer owes is not cash to come: it stands, negative, in a final 'credit' row (present only when there is
    some). Rows of source 'recurring' (only when a schedule is active) are the invoices recurring schedules will
    issue, expected on their due dates: not yet owed, so never mixed in. `pos`: the position as of that date,
    if at hand.
    """
    if weeks <= 0:
        raise InvalidInput(N_("forecast: weeks must be positive, got {weeks}"), weeks=weeks, field="weeks")
    pos = pos if pos is not None else position(ledger, as_of)
    credit = {(u.customer, u.currency): u.amount for u in pos.unapplied}
    cells: dict[tuple[int, str], int] = defaultdict(int)
    currencies: set[str] = {u.currency for u in pos.unapplied}
    for row in expected_payment_dates(ledger, as_of, pos):  # earliest expected first
        amount, key = row["open_amount"], (row["customer"], row["currency"])
        netted = min(credit.get(key, 0), amount)
        if netted:
            credit[key] -= netted
        week = min((row["expected"] - as_of).days // 7, weeks)
        cells[(week, row["currency"])] += amount - netted
        currencies.add(row["currency"])
    out = _weekly(cells, currencies, as_of, weeks, "open_items")
    left: dict[str, int] = defaultdict(int)
    for (_, currency), amount in credit.items():
        left[currency] += amount
    for currency in sorted(c for c, amount in left.items() if amount):
        out.append({"week": FORECAST_CREDIT, "start": as_of, "end": None, "currency": currency,
                    "amount": -left[currency], "source": "open_items"})
    cells, currencies = defaultdict(int), set()
    for expected, currency, amount in recurring.scheduled_cash(ledger, as_of, recurring.horizon(as_of, weeks)):
        cells[(min((expected - as_of).days // 7, weeks), currency)] += amount
        currencies.add(currency)
    return out + _weekly(cells, currencies, as_of, weeks, "recurring")


def _weekly(cells: dict[tuple[int, str], int], currencies: set[str], as_of: date, weeks: int,
            source: str) -> list[dict[str, Any]]:
    out = []
    for week in range(weeks + 1):
        start = as_of + timedelta(days=7 * week)
        for currency in sorted(currencies):
            out.append({"week": str(week + 1) if week < weeks else "later", "start": start,
                        "end": start + timedelta(days=6) if week < weeks else None, "currency": currency,
                        "amount": cells.get((week, currency), 0), "source": source})
    return out


# --- bad-debt provision (坏账准备) ---------------------------------------------------------------------------

DEFAULT_RATES_TEXT = "not_due=0,1-30=1,31-60=5,61-90=10,91-120=20,120+=50"


def parse_rates(text: str) -> dict[str, int]:
    """'not_due=0,1-30=1,...,120+=50' (percent, up to two decimals) -> {label: basis points}."""
    rates: dict[str, int] = {}
    for part in (text or "").replace("，", ",").split(","):
        if not part.strip():
            continue
        label, sep, value = part.partition("=")
        label, value = label.strip(), value.strip().rstrip("%")
        try:
            bp = Decimal(value) * 100
        except ArithmeticError:
            bp = None
        if not sep or not label or bp is None or bp != bp.to_integral_value() or not 0 <= bp <= 10000:
            raise InvalidInput(
                N_("provision rates: {part} is not label=percent (0-100), e.g. 1-30=1"),
                part=repr(part.strip()), field="provision.rates")
        if label in rates:
            raise InvalidInput(N_("provision rates: bucket {label} is given twice"),
                               label=repr(label), field="provision.rates")
        rates[label] = int(bp)
    if not rates:
        raise InvalidInput(N_("provision rates: expected e.g. {default_rates_text}"),
                           default_rates_text=DEFAULT_RATES_TEXT, field="provision.rates")
    return rates


def check_rates(text: str) -> str:
    """Settings check for `provision.rates`: normalised text."""
    return ",".join(f"{k}={Decimal(v) / 100}" for k, v in parse_rates(text).items())


def provision(ledger, as_of: date, rates: dict[str, int] | str | None = None,
              pos: Position | None = None) -> dict[str, Any]:
    """Bad-debt provision per currency and aging bucket: open amount × rate (basis points, half-up to the
    minor unit). Rates come from the argument, the provision.rates setting, or DEFAULT_RATES_TEXT. `pos`: the
    position as of that date, if at hand."""
    if rates is None:
        rates = ledger.setting("provision.rates") or DEFAULT_RATES_TEXT
    if isinstance(rates, str):
        rates = parse_rates(rates)
    report = aging(ledger, as_of, pos=pos)
    missing = [label for label in report.buckets if label not in rates]
    if missing:
        raise InvalidInput(
            N_("provision rates have no rate for aging bucket(s) {missing}; set provision.rates to cover {buckets}"),
            missing=', '.join(missing), buckets=', '.join(report.buckets), field="provision.rates")
    rows = []
    totals: dict[str, dict[str, int]] = {}
    for currency, tot in report.totals.items():
        for label in report.buckets:
            open_amount = tot[label]
            amount = (open_amount * rates[label] + 5000) // 10000 if open_amount >= 0 else -(
                (-open_amount * rates[label] + 5000) // 10000)
            rows.append({"currency": currency, "bucket": label, "open_amount": open_amount,
                         "rate_bp": rates[label], "provision": amount})
            t = totals.setdefault(currency, {"open_amount": 0, "provision": 0})
            t["open_amount"] += open_amount
            t["provision"] += amount
    return {"as_of": as_of, "buckets": report.buckets, "rows": rows, "totals": totals}
