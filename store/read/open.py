"""THE open amount as of a date: the one definition every figure is built on (aging, the summary, statements,
the dashboard, the lists, allocation, credit limits, dunning, matching and sync's over-allocation flags).

The rule, written once (INVOICE_OPEN, PAYMENT_LEFT, CREDIT_LEFT below):
- an invoice is open as of D for 0 if it is dated after D or voided on or before D, else for its total minus
  its allocations dated <= D minus its write-offs dated <= D (never clamped: after a sync conflict it can be
  negative, and then it shows);
- that open amount is spread over its instalments by store.rules.openitems.open_items;
- unapplied as of D is what payments (dated <= D, not voided by D) and credit notes (dated <= D) have not yet
  had allocated by D.
Two ways to read it, the same formula: OPEN_SQL over the documents (any invoice, settled or not), and the
fast path over the doc_state cache (schema: kept by triggers, rebuilt and checked; only documents not settled
by D are read, and for a D on or after a document's last allocation its cached open_all is the amount). The
fast path is also written with the date read from a row (open_invoices_on_dates_sql, unapplied_on_dates_sql), so
a month-by-month trend is one pass over many dates and each of its points is the figure as of that date.
Dates are ISO text ('YYYY-MM-DD'), so comparing them as text compares them as dates.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from store.rules.openitems import OVER_ALLOCATED, OpenInvoice, OpenItem, Unapplied, open_items
from store.rules.terms import BUILTIN_TERMS

END = "9999-12-31"  # "as of forever": every posted document counts

# Each expression reads the invoice / payment / credit note under the alias i / p / n, as of :d (or as of the
# date expression `d` given, e.g. a column of the row read).
def invoice_open_sql(d: str = ":d") -> str:
    return f"""i.total
  - coalesce((SELECT sum(a.amount) FROM allocations a WHERE a.invoice_id = i.id AND a.date <= {d}), 0)
  - coalesce((SELECT sum(w.amount) FROM writeoffs w WHERE w.invoice_id = i.id AND w.date <= {d}), 0)"""


def payment_left_sql(d: str = ":d") -> str:
    return f"""p.amount
  - coalesce((SELECT sum(a.amount) FROM allocations a WHERE a.payment_id = p.id AND a.date <= {d}), 0)"""


def credit_left_sql(d: str = ":d") -> str:
    return f"""n.amount
  - coalesce((SELECT sum(a.amount) FROM allocations a WHERE a.credit_id = n.id AND a.date <= {d}), 0)"""


INVOICE_OPEN = invoice_open_sql()
PAYMENT_LEFT = payment_left_sql()
CREDIT_LEFT = credit_left_sql()
INVOICE_VOIDED = "i.id IN (SELECT doc_id FROM voids WHERE doc_table = 'invoices' AND date <= :d)"

# Open amount of each invoice as of :d (0 when dated later or voided), for a WHERE chosen by the caller.
OPEN_SQL = f"""
SELECT i.id, i.number, i.date, i.total, i.currency,
  CASE WHEN i.date > :d OR {INVOICE_VOIDED} THEN 0 ELSE {INVOICE_OPEN} END AS open
FROM invoices i
"""


# Documents not settled by d (the doc_state cache), as two range scans of the covering doc_state_open index
# (an OR would scan all). Voided documents are settled from their void date on.
def _not_settled_by(d: str, s: str = "") -> tuple[str, str]:
    return f"{s}settled_on IS NULL", f"{s}settled_on > {d}"


def _unsettled(kind: str) -> str:
    cols = "id, customer_id, currency, number, date, due_date, terms, total, open_all, last_on"
    return "(" + " UNION ALL ".join(f"SELECT {cols} FROM doc_state WHERE kind = '{kind}' AND {cond}"
                                    for cond in _not_settled_by(":d")) + ")"


def _open_invoice_columns(d: str = ":d") -> str:
    """The columns of an open invoice read from doc_state under the alias i, with its open amount as of d."""
    return f"""i.id, i.customer_id, i.currency, i.number, i.date, i.due_date, i.terms, i.total,
         CASE WHEN i.last_on <= {d} THEN i.open_all ELSE {invoice_open_sql(d)} END AS open_amount"""


_OPEN_INVOICE_COLUMNS = _open_invoice_columns()


def open_invoices_sql(where: str = "") -> str:
    """Per invoice dated <= :d and not settled by :d, its open amount as of :d; only what is not 0.
    MATERIALIZED: the open amount is computed once per invoice, not again for the filter; `where` narrows the
    candidates (e.g. to one customer) before anything is summed."""
    return f"""
WITH candidates AS MATERIALIZED (
  SELECT {_OPEN_INVOICE_COLUMNS}
  FROM {_unsettled('invoice')} i
  WHERE i.date <= :d {where}
)
SELECT * FROM candidates WHERE open_amount != 0
"""


def named_invoices_sql(marks: str, where: str = "") -> str:
    """open_invoices_sql for the invoices whose ids are bound in `marks` (e.g. ':v0,:v1'): the same columns and
    the same rule, read by doc_state's primary key (one lookup per invoice, however many the customer has)."""
    return f"""
WITH candidates AS MATERIALIZED (
  SELECT {_OPEN_INVOICE_COLUMNS}
  FROM doc_state i
  WHERE i.id IN ({marks}) AND i.kind = 'invoice' AND (i.settled_on IS NULL OR i.settled_on > :d)
    AND i.date <= :d {where}
)
SELECT * FROM candidates WHERE open_amount != 0
"""


def unapplied_sql(where_p: str = "", where_n: str = "") -> str:
    """Per customer and currency: payments and credit notes dated <= :d (and not settled by then), less what of
    them was allocated by :d; only what is not 0."""
    return f"""
SELECT customer_id, currency, sum(amount) AS amount FROM (
  SELECT p.customer_id, p.currency, CASE WHEN p.last_on <= :d THEN p.open_all ELSE {PAYMENT_LEFT} END
           AS amount
  FROM (SELECT id, customer_id, currency, date, total AS amount, open_all, last_on FROM {_unsettled('payment')}) p
  WHERE p.date <= :d {where_p}
  UNION ALL
  SELECT n.customer_id, n.currency, CASE WHEN n.last_on <= :d THEN n.open_all ELSE {CREDIT_LEFT} END
  FROM (SELECT id, customer_id, currency, date, total AS amount, open_all, last_on FROM {_unsettled('credit')}) n
  WHERE n.date <= :d {where_n}
) GROUP BY customer_id, currency HAVING sum(amount) != 0
"""


OPEN_INVOICES_SQL = open_invoices_sql()
UNAPPLIED_SQL = unapplied_sql()


# --- the same rule at many dates in one pass (a month-by-month trend) ---------------------------------------
# The caller's WITH defines a table `as_of(d)` of ISO dates; each query below is open_invoices_sql /
# unapplied_sql with :d replaced by the row's m.d, so a series value for a date is the figure as of that date.


def open_invoices_on_dates_sql(where: str = "") -> str:
    """A CTE `candidates`: per date m.d of as_of and invoice dated <= m.d not settled by m.d, the columns of
    open_invoices_sql under as_of (the date) first; filter open_amount != 0 as open_invoices_sql does."""
    arms = " UNION ALL ".join(
        f"SELECT m.d AS as_of, {_open_invoice_columns('m.d')} FROM as_of m JOIN doc_state i "
        f"ON i.kind = 'invoice' AND i.{cond} AND i.date <= m.d {where}" for cond in _not_settled_by("m.d"))
    return f"candidates AS MATERIALIZED ({arms})"


def unapplied_on_dates_sql() -> str:
    """unapplied_sql at every date m.d of as_of: (as_of, customer_id, currency, amount), only what is not 0."""
    arms = []
    for kind, alias, left in (("payment", "p", payment_left_sql("m.d")), ("credit", "n", credit_left_sql("m.d"))):
        for cond in _not_settled_by("m.d", f"{alias}."):
            arms.append(f"""SELECT m.d AS as_of, {alias}.customer_id, {alias}.currency,
    CASE WHEN {alias}.last_on <= m.d THEN {alias}.open_all ELSE {left} END AS amount
  FROM as_of m JOIN (SELECT id, customer_id, currency, date, total AS amount, settled_on, open_all, last_on
                     FROM doc_state WHERE kind = '{kind}') {alias} ON {cond} AND {alias}.date <= m.d""")
    return f"""SELECT as_of, customer_id, currency, sum(amount) AS amount FROM ({' UNION ALL '.join(arms)})
GROUP BY as_of, customer_id, currency HAVING sum(amount) != 0"""


def overdue_on_sql(c: str, d: str, single: str) -> str:
    """What of an open invoice (a row `c` of open_invoices_sql: id, total, due_date, terms, open_amount) is past
    due on d: open_items' spread in SQL. An invoice in one item (terms in `single`, an SQL list of the terms of
    one instalment; no schedule of several instalments adding up to the total; over-applied or paid beyond its
    total) is past due whole when its due date is before d; else what was paid (total - open) pays the earliest
    instalments first, and the rest of those due before d is past due."""
    paid = f"({c}.total - {c}.open_amount)"
    whole = f"CASE WHEN {c}.due_date < {d} THEN {c}.open_amount ELSE 0 END"
    spread = (f"(SELECT CASE WHEN count(*) >= 2 AND sum(s.amount) = {c}.total THEN max(0, min({c}.open_amount, "
              f"sum(CASE WHEN s.due_date < {d} THEN s.amount ELSE 0 END) - {paid})) END "
              f"FROM due_items s WHERE s.invoice_id = {c}.id)")
    return (f"CASE WHEN ({c}.terms IS NULL OR {c}.terms NOT IN ({single})) AND {paid} >= 0 AND {c}.open_amount >= 0 "
            f"THEN coalesce({spread}, {whole}) ELSE {whole} END")


# The same rule read from an invoice's doc_state row alone (alias s) for "as of forever", counting every posted
# document: what open_invoices_sql gives for :d = END, without a lookup (an invoice settled or voided on any date
# has 0 open for good; else its open_all). The app's invoice list pages with it.
def open_ever_sql(s: str = "s") -> str:
    return f"CASE WHEN {s}.settled_on IS NULL THEN {s}.open_all ELSE 0 END"


def overdue_sql(i: str = "i", s: str = "s") -> str:
    """What of an invoice (alias i, its doc_state row alias s) is past due on :today, counting every document:
    open_items' spread in SQL. What was paid (total - open) pays the earliest instalments first, so the open
    part of the instalments due before :today is (their sum - paid), never below 0 nor above what is open. The
    schedule counts when it adds up to the total, else the invoice is one item at its due date (as open_items)."""
    open_ever = open_ever_sql(s)
    due_before = (f"coalesce((SELECT CASE WHEN sum(d.amount) = {i}.total THEN "
                  f"sum(CASE WHEN d.due_date < :today THEN d.amount ELSE 0 END) END "
                  f"FROM due_items d WHERE d.invoice_id = {i}.id), "
                  f"CASE WHEN {i}.due_date < :today THEN {i}.total ELSE 0 END)")
    return f"max(0, min({open_ever}, {due_before} - ({i}.total - {open_ever})))"


def _iso(value: str | date) -> str:
    return value.isoformat() if isinstance(value, date) else value


# ISO text to date, remembered: a big book has 200k invoices over a few hundred distinct dates.
_day = lru_cache(maxsize=16384)(date.fromisoformat)


# --- the open position as of a date: every customer, one, or a page of them ---------------------------------


@dataclass(frozen=True)
class Position:
    """What was open as of a date: invoices, their open instalments, and unapplied cash per customer."""

    as_of: date
    invoices: list[OpenInvoice]
    items: list[OpenItem]  # one per open instalment (due basis), plus one per over-allocated customer
    unapplied: list[Unapplied]


def _customers(ledger) -> dict[str, tuple[str, str]]:
    return {cid: (code or cid, name or code or cid)
            for cid, code, name in ledger.conn.execute("SELECT id, code, name FROM customers")}


def _single_instalment_terms(ledger) -> set[str]:
    """Names of terms that always make one due item, so their invoices need no due_items lookup."""
    single = {name for name, terms in BUILTIN_TERMS.items() if len(terms.lines) == 1}
    for name, lines in ledger.conn.execute("SELECT name, lines FROM terms"):
        try:
            count = len(json.loads(lines or "[]"))
        except (TypeError, ValueError):
            count = 0
        if count == 1:
            single.add(name)
        else:
            single.discard(name)
    return single


def schedules(ledger, invoice_ids: list[str]) -> dict[str, list[tuple[date, int]]]:
    """{invoice id: [(due date, amount)...]} in instalment order."""
    found: dict[str, list[tuple[date, int]]] = defaultdict(list)
    for start in range(0, len(invoice_ids), 500):
        chunk = invoice_ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for invoice_id, due, amount in ledger.conn.execute(
            f"SELECT invoice_id, due_date, amount FROM due_items WHERE invoice_id IN ({marks}) ORDER BY seq", chunk
        ):
            found[invoice_id].append((_day(due), amount))
    return found


def position(ledger, as_of: date, *, customer_id: str | None = None,
             customer_ids: list[str] | None = None) -> Position:
    """Open invoices (with open instalments) and unapplied amounts as of a date: of every customer, of one
    (customer_id) or of a page of them (customer_ids). Every customer's is computed once while nothing is
    written (Ledger.remembered): the dashboard, aging, reports, the reminder plan and the alerts read the same
    one. Its lists are shared then: read them, never change them. Today's is held apart from the last one of
    another date, so a report of a past period (the trend, DSO) does not make the dashboard read the book again."""
    if customer_id is None and customer_ids is None:
        slot = "position" if as_of == date.today() else "position:other date"
        return ledger.remembered(slot, as_of, lambda: _position(ledger, as_of))
    return _position(ledger, as_of, customer_id=customer_id, customer_ids=customer_ids)


def _position(ledger, as_of: date, *, customer_id: str | None = None,
              customer_ids: list[str] | None = None) -> Position:
    names = _customers(ledger)
    params: dict = {"d": as_of.isoformat()}
    inv_sql, un_sql = OPEN_INVOICES_SQL, UNAPPLIED_SQL
    if customer_id is not None:
        customer_ids = [customer_id]
    if customer_ids is not None:
        params.update({f"c{k}": cid for k, cid in enumerate(customer_ids)})
        among = f"IN ({','.join(f':c{k}' for k in range(len(customer_ids))) or 'NULL'})"
        inv_sql = open_invoices_sql(f"AND i.customer_id {among}")
        un_sql = unapplied_sql(f"AND p.customer_id {among}", f"AND n.customer_id {among}")
    single = _single_instalment_terms(ledger)
    invoices, need_schedule = [], []
    for iid, cid, cur, number, doc, due, terms, total, open_amount in ledger.conn.execute(inv_sql, params):
        code, name = names.get(cid, (cid, cid))
        invoices.append(OpenInvoice(iid, number, cid, cur, _day(doc), _day(due), total, open_amount, code, name))
        if terms not in single:
            need_schedule.append(iid)  # maybe in instalments: each ages by its own due date
    found = schedules(ledger, need_schedule) if need_schedule else {}
    items = [it for inv in invoices for it in open_items(inv, found.get(inv.id))]
    unapplied = []
    for cid, cur, amount in ledger.conn.execute(un_sql, params):
        code, name = names.get(cid, (cid, cid))
        if amount > 0:
            unapplied.append(Unapplied(code, name, cur, amount))
        else:  # more allocated than paid (a sync conflict): show it as owed, never hide it
            items.append(OpenItem("", OVER_ALLOCATED, cur, as_of, as_of, -amount, code, name))
    return Position(as_of, invoices, items, unapplied)


# --- one customer in one currency: what the write side checks against ----------------------------------------


def invoice_open(ledger, invoice_id: str, as_of: str | date = END) -> int:
    """Open amount of one invoice as of a date (0 before its date or once voided; never clamped)."""
    row = ledger.row(OPEN_SQL + " WHERE i.id = :id", {"d": _iso(as_of), "id": invoice_id})
    return row["open"] if row else 0


def _open_invoices(ledger, customer_id: str, currency: str, as_of: str | date,
                   invoice_ids: list[str] | None = None) -> dict[str, OpenInvoice]:
    """{invoice id: OpenInvoice} for the customer's invoices in currency with more than zero open as of D (only
    those of invoice_ids when given)."""
    where = "AND i.customer_id = :c AND i.currency = :cur"
    params = {"d": _iso(as_of), "c": customer_id, "cur": currency}
    if invoice_ids is None:
        sql = open_invoices_sql(where)
    else:
        params.update({f"v{k}": iid for k, iid in enumerate(invoice_ids)})
        sql = named_invoices_sql(",".join(f":v{k}" for k in range(len(invoice_ids))) or "NULL", where)
    rows = ledger.conn.execute(sql, params)
    return {iid: OpenInvoice(iid, number, cid, cur, _day(doc), _day(due), total, open_amount)
            for iid, cid, cur, number, doc, due, _terms, total, open_amount in rows if open_amount > 0}


def _items(ledger, invoices: dict[str, OpenInvoice]) -> list[OpenItem]:
    found = schedules(ledger, list(invoices))
    items = [it for inv in invoices.values() for it in open_items(inv, found.get(inv.id))]
    return sorted(items, key=lambda it: (it.due_date, it.number))


def customer_open_items(ledger, customer_id: str, currency: str, as_of: str | date) -> list[OpenItem]:
    """The customer's open instalments in currency as of a date (an invoice paid in part keeps its later
    instalments open first), sorted by due date then number."""
    return _items(ledger, _open_invoices(ledger, customer_id, currency, as_of))


def allocatable_items(ledger, customer_id: str, currency: str, on: str | date,
                      invoice_ids: list[str] | None = None) -> list[OpenItem]:
    """What money dated `on` may still be applied to: open as of `on` AND open counting every later
    document too (a later credit note or write-off must not be over-allocated by a back-dated payment).
    With invoice_ids, only those of the customer's invoices are read (a payment that names what it pays needs
    nothing else, and its cost does not grow with the customer's history)."""
    now = _open_invoices(ledger, customer_id, currency, on, invoice_ids)
    ever = _open_invoices(ledger, customer_id, currency, END, invoice_ids)
    capped = {}
    for iid, inv in now.items():
        cap = min(inv.open_amount, ever[iid].open_amount) if iid in ever else 0
        if cap > 0:
            capped[iid] = OpenInvoice(inv.id, inv.number, inv.customer_id, inv.currency, inv.doc_date,
                                      inv.due_date, inv.total, cap)
    return _items(ledger, capped)


def open_invoices(ledger, as_of: str | date = END) -> list[OpenInvoice]:
    """Every invoice with more than zero open as of a date (by default counting every document), with its
    e-invoice number: what a bank line may pay."""
    rows = ledger.conn.execute(
        f"""SELECT o.id, o.customer_id, o.currency, o.number, o.date, o.due_date, o.total, o.open_amount, i.einvoice
            FROM ({OPEN_INVOICES_SQL}) o JOIN invoices i ON i.id = o.id""", {"d": _iso(as_of)})
    return [OpenInvoice(iid, number, cid, cur, _day(doc), _day(due or doc), total, open_amount,
                        einvoice=einvoice or "")
            for iid, cid, cur, number, doc, due, total, open_amount, einvoice in rows if open_amount > 0]


def left_to_apply(ledger, table: str, doc_id: str, as_of: str | date = END) -> int:
    """What one payment (table 'payments') or credit note ('credit_notes') has not had allocated by a date
    (PAYMENT_LEFT / CREDIT_LEFT; voids are the caller's to judge)."""
    alias, left = {"payments": ("p", PAYMENT_LEFT), "credit_notes": ("n", CREDIT_LEFT)}[table]
    row = ledger.conn.execute(f"SELECT {left} FROM {table} {alias} WHERE {alias}.id = :id",
                              {"d": _iso(as_of), "id": doc_id}).fetchone()
    return row[0] if row else 0


def unapplied(ledger, customer_id: str, currency: str, as_of: str | date) -> int:
    """Cash and credit of the customer in currency not yet allocated as of a date (a positive amount)."""
    row = ledger.conn.execute(
        unapplied_sql("AND p.customer_id = :c AND p.currency = :cur", "AND n.customer_id = :c AND n.currency = :cur"),
        {"d": _iso(as_of), "c": customer_id, "cur": currency}).fetchone()
    return row[2] if row else 0


def balance(ledger, customer_id: str, currency: str, as_of: str | date) -> int:
    """Open invoices less unapplied cash and credits, as of a date (what the customer owes)."""
    row = ledger.conn.execute(
        f"SELECT coalesce(sum(open_amount), 0) FROM ({open_invoices_sql('AND i.customer_id = :c AND i.currency = :cur')})",
        {"d": _iso(as_of), "c": customer_id, "cur": currency}).fetchone()
    return row[0] - unapplied(ledger, customer_id, currency, as_of)
