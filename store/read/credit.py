"""The facts credit control scores (信用管理), read from the ledger as of a date; the score itself is the pure
rule in store.rules.credit."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from store.read.open import position as open_position
from store.read import fx as fxread
from store.read import reports
from store.rules.credit import CreditScore, CustomerFacts, PaidInvoice, score


def facts(ledger, as_of: date) -> list[CustomerFacts]:
    """Per customer (not archived, or archived with something open), the facts the score and alerts need."""
    d = as_of.isoformat()
    pos = open_position(ledger, as_of)
    cust = {r["id"]: r for r in ledger.rows("SELECT id, code, name, currency, credit_limit, archived FROM customers")}
    cur_of = {cid: (r["currency"] or "CNY") for cid, r in cust.items()}
    code_to_id = {r["code"]: cid for cid, r in cust.items()}
    others: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))  # customer -> currency -> balance
    acc: dict[str, dict] = defaultdict(lambda: {"paid": [], "open": 0, "overdue": 0, "oldest": 0, "oldest_no": None,
                                                "disputes": 0, "unapplied": 0, "last_payment": None,
                                                "oldest_open": None})
    for cid, _doc, due, last in ledger.conn.execute(reports.PAID_INVOICES_SQL, {"d": d}):
        acc[cid]["paid"].append(PaidInvoice(date.fromisoformat(due), date.fromisoformat(last)))
    for inv in pos.invoices:
        row = acc[inv.customer_id]
        if row["oldest_open"] is None or inv.doc_date < row["oldest_open"]:
            row["oldest_open"] = inv.doc_date
    for it in pos.items:
        cid = code_to_id.get(it.customer)
        if cid is None or it.open_amount <= 0:
            continue
        row = acc[cid]
        days = (as_of - it.due_date).days
        if days > row["oldest"]:
            row["oldest"], row["oldest_no"] = days, it.number
        if it.currency == cur_of[cid]:
            row["open"] += it.open_amount
            if days > 0:
                row["overdue"] += it.open_amount
        else:  # owed in another currency: counts against the credit limit at its rate
            others[cid][it.currency] += it.open_amount
    for u in pos.unapplied:
        cid = code_to_id.get(u.customer)
        if cid is not None and u.currency == cur_of[cid]:
            acc[cid]["unapplied"] += u.amount
        elif cid is not None:
            others[cid][u.currency] -= u.amount
    book = fxread.rate_book(ledger) if others else None
    year_ago = (as_of - timedelta(days=364)).isoformat()
    for cid, n in ledger.conn.execute(
            "SELECT customer_id, count(*) FROM disputes WHERE opened >= ? AND opened <= ? GROUP BY customer_id",
            (year_ago, d)):
        acc[cid]["disputes"] = n
    for cid, last in ledger.conn.execute(
            """SELECT customer_id, max(date) FROM payments WHERE date <= ? AND id NOT IN (SELECT doc_id FROM voids
               WHERE doc_table = 'payments' AND date <= ?) GROUP BY customer_id""", (d, d)):
        acc[cid]["last_payment"] = date.fromisoformat(last)
    out = []
    for cid, c in sorted(cust.items(), key=lambda kv: kv[1]["code"] or ""):
        row = acc.get(cid)
        if c["archived"] and (row is None or not row["open"]):
            continue
        row = row or acc[cid]
        out.append(CustomerFacts(
            cid, c["code"], c["name"], cur_of[cid], tuple(row["paid"]), row["open"], row["overdue"], row["oldest"],
            row["oldest_no"], row["disputes"], row["open"] - row["unapplied"], c["credit_limit"],
            row["last_payment"], row["oldest_open"], _limit_balance(ledger, c, row, others.get(cid), as_of, book)))
    return out


def _limit_balance(ledger, customer: dict, row: dict, others: dict[str, int] | None, as_of: date, book) -> int | None:
    """The balance counted against the credit limit when the customer owes in other currencies too: each at its
    rate as of the date (store.read.fx.in_one_currency, the rule a new invoice is checked by); None otherwise."""
    if customer["credit_limit"] is None or not others or not any(others.values()):
        return None
    home = customer["currency"] or "CNY"
    owed = {**{cur: amount for cur, amount in others.items()}, home: row["open"] - row["unapplied"]}
    return fxread.in_one_currency(ledger, home, as_of, owed, book)[0]


def scores(ledger, as_of: date) -> list[CreditScore]:
    return [score(f, as_of) for f in facts(ledger, as_of)]
