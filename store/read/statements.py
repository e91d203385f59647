"""Statements of account (对账单): "outstanding as of" a date, or "activity over a period" with the opening
balance brought forward and a running balance; one section per currency; as json here (the documents sent to a
customer, HTML, PDF and Markdown, are made from templates by store.files.documents.render).

The closing balance is the customer's aging total as of the end date: both come from store.read.open.position.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from store.rules import aging as agelib
from store.rules import money
from store.errors import InvalidInput, NotFound
from store.read.reports import default_edges, position
from store.i18n import N_

# Order of documents on the same day: what was billed, then what reduced it.
_ORDER = {"invoice": 0, "debit_note": 0, "credit_note": 1, "payment": 2, "writeoff": 3, "void": 4}


def _customer(ledger, customer_id: str) -> dict:
    found = ledger.row("SELECT id, code, name, legal_name, address, currency FROM customers WHERE id=?",
                       (customer_id,))
    if found is None:
        raise NotFound(N_("unknown customer {customer_id}"), customer_id=repr(customer_id))
    return found


def _balances(ledger, customer_id: str, as_of: date):
    """Per currency: (balance, aging row, open items, unapplied) of one customer as of a date."""
    pos = position(ledger, as_of, customer_id=customer_id)
    report = agelib.age(pos.items, pos.unapplied, as_of, "due", default_edges(ledger))
    rows = {row["currency"]: row for row in report.rows}
    items: dict[str, list] = defaultdict(list)
    for it in pos.items:
        items[it.currency].append(it)
    unapplied = {u.currency: u.amount for u in pos.unapplied}
    return report.buckets, rows, items, unapplied


def _activity(ledger, customer_id: str, start: date, end: date) -> list[dict[str, Any]]:
    """Every balance-moving document of the customer dated start..end (allocations only move money between
    open items and unapplied cash, so they are not lines)."""
    p = {"c": customer_id, "s": start.isoformat(), "e": end.isoformat()}
    lines: list[dict[str, Any]] = []

    def add(kind, when, currency, number, text, amount):
        lines.append({"date": date.fromisoformat(when), "type": kind, "currency": currency, "number": number or "",
                      "text": text or "", "amount": amount})

    for when, cur, number, total, text, debit in ledger.conn.execute(
        "SELECT date, currency, number, total, description, EXISTS (SELECT 1 FROM debit_notes d WHERE d.id = i.id) "
        "FROM invoices i WHERE customer_id=:c AND date BETWEEN :s AND :e", p):
        add("debit_note" if debit else "invoice", when, cur, number, text, total)
    for when, cur, number, amount, reason in ledger.conn.execute(
        "SELECT date, currency, number, amount, reason FROM credit_notes WHERE customer_id=:c "
        "AND date BETWEEN :s AND :e", p):
        add("credit_note", when, cur, number, reason, -amount)
    for when, cur, ref, amount, method in ledger.conn.execute(
        "SELECT date, currency, reference, amount, method FROM payments WHERE customer_id=:c "
        "AND date BETWEEN :s AND :e", p):
        add("payment", when, cur, ref, method, -amount)
    # A write-off after its invoice was voided changes nothing (the invoice is already out of the balance).
    for when, cur, number, amount, reason in ledger.conn.execute(
        """SELECT w.date, i.currency, i.number, w.amount, w.reason FROM writeoffs w JOIN invoices i ON i.id=w.invoice_id
           WHERE i.customer_id=:c AND w.date BETWEEN :s AND :e AND w.date >= i.date
             AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.doc_id=i.id AND v.doc_table='invoices' AND v.date < w.date)""",
        p):
        add("writeoff", when, cur, number, reason, -amount)
    # A void takes out what was left of the document on the later of the void's and the document's dates.
    for when, cur, number, amount, reason in ledger.conn.execute(
        """SELECT max(v.date, i.date), i.currency, i.number,
                  i.total - coalesce((SELECT sum(w.amount) FROM writeoffs w WHERE w.invoice_id=i.id
                                      AND w.date <= max(v.date, i.date)), 0), v.reason
           FROM voids v JOIN invoices i ON i.id=v.doc_id
           WHERE v.doc_table='invoices' AND i.customer_id=:c AND max(v.date, i.date) BETWEEN :s AND :e""", p):
        add("void", when, cur, number, reason, -amount)
    for when, cur, ref, amount, reason in ledger.conn.execute(
        """SELECT max(v.date, p.date), p.currency, p.reference, p.amount, v.reason FROM voids v
           JOIN payments p ON p.id=v.doc_id
           WHERE v.doc_table='payments' AND p.customer_id=:c AND max(v.date, p.date) BETWEEN :s AND :e""", p):
        add("void", when, cur, ref, reason, amount)
    lines.sort(key=lambda line: (line["date"], _ORDER[line["type"]], line["number"]))
    return lines


def statement_of_account(ledger, customer_id: str, as_of: date | None = None, start: date | None = None,
                         end: date | None = None) -> dict[str, Any]:
    """"Outstanding as of" (as_of) or "activity over a period" (start..end, inclusive) for one customer."""
    if (as_of is None) == (start is None and end is None) or (as_of is None and (start is None or end is None)):
        raise InvalidInput(N_("a statement needs either --as-of D, or --from D and --to D"))
    if as_of is None and end < start:
        raise InvalidInput(N_("statement period: --to {end} is before --from {start}"), end=end,
                           start=start, field="to")
    customer = _customer(ledger, customer_id)
    head = {"customer": customer["code"], "name": customer["name"], "legal_name": customer["legal_name"],
            "address": customer["address"]}
    if as_of is not None:
        labels, rows, items, unapplied = _balances(ledger, customer_id, as_of)
        sections = []
        for currency in sorted(set(rows) | set(items) | set(unapplied)):
            open_items = sorted(items.get(currency, []), key=lambda it: (it.due_date, it.number))
            row = rows.get(currency, {})
            sections.append({
                "currency": currency,
                "open_items": [{"number": it.number, "date": it.doc_date, "due_date": it.due_date,
                                "days_overdue": max(0, (as_of - it.due_date).days), "open_amount": it.open_amount}
                               for it in open_items],
                "unapplied": unapplied.get(currency, 0),
                "closing_balance": row.get("total", 0),
                "aging": {label: row.get(label, 0) for label in (*labels, agelib.UNAPPLIED)},
            })
        return {**head, "kind": "outstanding", "as_of": as_of, "buckets": labels, "sections": sections}

    _, open_rows, _, _ = _balances(ledger, customer_id, start - timedelta(days=1))
    labels, close_rows, _, _ = _balances(ledger, customer_id, end)
    lines = _activity(ledger, customer_id, start, end)
    sections = []
    for currency in sorted(set(open_rows) | set(close_rows) | {line["currency"] for line in lines}):
        running = opening = open_rows.get(currency, {}).get("total", 0)
        out_lines = []
        for line in lines:
            if line["currency"] != currency:
                continue
            running += line["amount"]
            out_lines.append({"date": line["date"], "type": line["type"], "number": line["number"],
                              "text": line["text"], "debit": max(line["amount"], 0),
                              "credit": max(-line["amount"], 0), "balance": running})
        row = close_rows.get(currency, {})
        sections.append({
            "currency": currency, "opening_balance": opening, "lines": out_lines, "closing_balance": running,
            "aging_total": row.get("total", 0),
            "aging": {label: row.get(label, 0) for label in (*labels, agelib.UNAPPLIED)},
        })
    return {**head, "kind": "activity", "from": start, "to": end, "buckets": labels, "sections": sections}


# --- rendering -----------------------------------------------------------------------------------------

_AMOUNT_KEYS = {"open_amount", "unapplied", "closing_balance", "opening_balance", "debit", "credit", "balance",
                "aging_total"}


def to_json(stmt: dict[str, Any]) -> dict[str, Any]:
    """Dates ISO, amounts as decimal strings in each section's currency."""
    def conv(value, currency):
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: (money.to_decimal_str(v, currency) if (k in _AMOUNT_KEYS or k in stmt["buckets"]
                                                               or k == agelib.UNAPPLIED) and isinstance(v, int)
                        else conv(v, currency)) for k, v in value.items()}
        if isinstance(value, list):
            return [conv(v, currency) for v in value]
        return value

    out = {k: conv(v, None) for k, v in stmt.items() if k != "sections"}
    out["sections"] = [conv(section, section["currency"]) for section in stmt["sections"]]
    return out
