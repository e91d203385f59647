"""What is open as of a date: invoices, instalments, unapplied cash and credits, the balance.

The one truth shared by the write side (allocation, credit limit) and the read side (aging, statements):
- an invoice is open as of D for 0 if it is dated after D or voided on or before D, else for its total
  minus its allocations dated <= D minus its write-offs dated <= D;
- that open amount is spread over its instalments (due_items) earliest due first;
- unapplied as of D is what payments (dated <= D, not voided by D) and credit notes (dated <= D) have
  not yet been allocated by D.
Dates are ISO text ('YYYY-MM-DD'), so comparing them as text compares them as dates.
"""
from __future__ import annotations

from datetime import date

from store.rules.allocation import Due, spread_over_instalments

END = "9999-12-31"  # "as of forever": every posted document counts

# The formula, written once (the read side in store.read.reports composes the same pieces with its cache).
# Each expression reads the invoice / payment / credit note under the alias i / p / n, as of :d.
INVOICE_OPEN = """i.total
  - coalesce((SELECT sum(a.amount) FROM allocations a WHERE a.invoice_id = i.id AND a.date <= :d), 0)
  - coalesce((SELECT sum(w.amount) FROM writeoffs w WHERE w.invoice_id = i.id AND w.date <= :d), 0)"""
PAYMENT_LEFT = """p.amount
  - coalesce((SELECT sum(a.amount) FROM allocations a WHERE a.payment_id = p.id AND a.date <= :d), 0)"""
CREDIT_LEFT = """n.amount
  - coalesce((SELECT sum(a.amount) FROM allocations a WHERE a.credit_id = n.id AND a.date <= :d), 0)"""
INVOICE_VOIDED = "i.id IN (SELECT doc_id FROM voids WHERE doc_table = 'invoices' AND date <= :d)"
PAYMENT_VOIDED = "p.id IN (SELECT doc_id FROM voids WHERE doc_table = 'payments' AND date <= :d)"

# Open amount of each invoice as of :d, for a WHERE chosen by the caller.
OPEN_SQL = f"""
SELECT i.id, i.number, i.date, i.total, i.currency,
  CASE WHEN i.date > :d OR {INVOICE_VOIDED} THEN 0 ELSE {INVOICE_OPEN} END AS open
FROM invoices i
"""


def _iso(value: str | date) -> str:
    return value.isoformat() if isinstance(value, date) else value


def invoice_open(ledger, invoice_id: str, as_of: str | date = END) -> int:
    """Open amount of one invoice as of a date (0 before its date or once voided; never clamped)."""
    row = ledger.row(OPEN_SQL + " WHERE i.id = :id", {"d": _iso(as_of), "id": invoice_id})
    return row["open"] if row else 0


def open_by_invoice(ledger, customer_id: str, currency: str, as_of: str | date) -> dict[str, dict]:
    """{invoice id: {id, number, date, total, currency, open}} for the customer's invoices in currency
    whose open amount as of the date is more than zero."""
    rows = ledger.rows(
        OPEN_SQL + " WHERE i.customer_id = :c AND i.currency = :cur AND i.date <= :d",
        {"d": _iso(as_of), "c": customer_id, "cur": currency},
    )
    return {r["id"]: r for r in rows if r["open"] > 0}


def schedules(ledger, invoice_ids: list[str]) -> dict[str, list[tuple[date, int]]]:
    """{invoice id: [(due date, amount)...]} in instalment order."""
    found: dict[str, list[tuple[date, int]]] = {i: [] for i in invoice_ids}
    for chunk in range(0, len(invoice_ids), 500):
        ids = invoice_ids[chunk:chunk + 500]
        marks = ",".join("?" * len(ids))
        for r in ledger.rows(
            f"SELECT invoice_id, due_date, amount FROM due_items WHERE invoice_id IN ({marks}) ORDER BY seq", ids
        ):
            found[r["invoice_id"]].append((date.fromisoformat(r["due_date"]), r["amount"]))
    return found


def spread(open_rows: dict[str, dict], schedules: dict[str, list[tuple[date, int]]]) -> list[Due]:
    """One Due per instalment that still has something open, earliest due first within each invoice."""
    dues: list[Due] = []
    for invoice_id, row in open_rows.items():
        schedule = schedules.get(invoice_id) or [(date.fromisoformat(row["date"]), row["total"])]
        paid = max(row["total"] - row["open"], 0)
        for when, left in spread_over_instalments(paid, schedule):
            if left > 0:
                dues.append(Due(invoice_id, row["number"], when, left))
    return dues


def open_items(ledger, customer_id: str, currency: str, as_of: str | date) -> list[Due]:
    """The customer's open instalments in currency as of a date, one Due per instalment with something open
    (an invoice paid in part keeps its later instalments open first), sorted by due date then number."""
    rows = open_by_invoice(ledger, customer_id, currency, as_of)
    dues = spread(rows, schedules(ledger, list(rows)))
    return sorted(dues, key=lambda d: (d.due_date, d.number))


def allocatable_items(ledger, customer_id: str, currency: str, on: str | date) -> list[Due]:
    """What money dated `on` may still be applied to: open as of `on` AND open counting every later
    document too (a later credit note or write-off must not be over-allocated by a back-dated payment)."""
    now = open_by_invoice(ledger, customer_id, currency, on)
    ever = open_by_invoice(ledger, customer_id, currency, END)
    rows = {}
    for invoice_id, row in now.items():
        cap = min(row["open"], ever[invoice_id]["open"]) if invoice_id in ever else 0
        if cap > 0:
            rows[invoice_id] = {**row, "open": cap}
    dues = spread(rows, schedules(ledger, list(rows)))
    return sorted(dues, key=lambda d: (d.due_date, d.number))


def unapplied(ledger, customer_id: str, currency: str, as_of: str | date) -> int:
    """Cash and credit of the customer in currency not yet allocated as of a date (a positive amount)."""
    row = ledger.row(
        f"""SELECT
             coalesce((SELECT sum({PAYMENT_LEFT}) FROM payments p
               WHERE p.customer_id = :c AND p.currency = :cur AND p.date <= :d AND NOT {PAYMENT_VOIDED}), 0)
           + coalesce((SELECT sum({CREDIT_LEFT}) FROM credit_notes n
               WHERE n.customer_id = :c AND n.currency = :cur AND n.date <= :d), 0) AS left""",
        {"d": _iso(as_of), "c": customer_id, "cur": currency},
    )
    return row["left"] if row else 0


def balance(ledger, customer_id: str, currency: str, as_of: str | date) -> int:
    """Open invoices minus unapplied cash and credits, as of a date (what the customer owes)."""
    rows = ledger.rows(
        OPEN_SQL + " WHERE i.customer_id = :c AND i.currency = :cur AND i.date <= :d",
        {"d": _iso(as_of), "c": customer_id, "cur": currency},
    )
    return sum(r["open"] for r in rows) - unapplied(ledger, customer_id, currency, as_of)
