"""Read-only views the terminal app pages through: invoice and payment lists a page at a time (keyset),
per-customer balance and overdue for one page of customers, the invoices behind one aging cell, and the
due dates an invoice being typed would get.

The open amounts and the rules come from store.read.open (the lists read its doc_state form: open counting every
posted document, kept by triggers) / store.rules.aging / store.rules.terms; nothing here writes. The lists say
CROSS JOIN to keep SQLite walking invoices / payments in date order by index (a page is then a range read);
left to itself it drives from doc_state and sorts every row (200k invoices: 3.9 s a page).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from store.rules import aging as agelib
from store.read import reports
from store.read.paging import keyset
from store.rules import money, validate
from store.write import customers, invoices, payments, terms as termsbook
from store.errors import InvalidInput
from store.rules.allocation import auto_allocate
from store.rules.openitems import by_invoice_date
from store.read.open import allocatable_items, open_ever_sql, overdue_sql, position, unapplied
from store.rules.terms import BUILTIN_ZH, describe, instalments
from store.i18n import N_

INVOICE_FILTERS = ("open", "overdue", "all")

# An invoice's open amount counting every document and what of it is past due on :today (store.read.open).
OPEN_EVER, OVERDUE = open_ever_sql("s"), overdue_sql("i", "s")


# The columns the invoice and payment lists sort by (in SQL), each an expression that is never NULL.
INVOICE_SORTS = {"number": "i.number", "date": "i.date", "due": "i.due_date", "customer": "coalesce(c.code, '')",
                 "name": "coalesce(c.name, '')", "currency": "i.currency", "total": "i.total",
                 "open": f"coalesce({OPEN_EVER}, 0)"}
PAYMENT_SORTS = {"number": "coalesce(p.number, '')", "date": "p.date", "customer": "coalesce(c.code, '')",
                 "name": "coalesce(c.name, '')", "currency": "p.currency", "method": "coalesce(p.method, '')",
                 "reference": "coalesce(p.reference, '')", "amount": "p.amount", "unapplied": "coalesce(s.open_all, 0)"}


def sort_value(row: dict, column: str):
    """The value a row is sorted by (for the next page's keyset), as the list's SQL compares it."""
    key = {"due": "due_date", "customer": "customer", "name": "customer_name",
           "unapplied": "open_all"}.get(column, column)  # a payment's open_all: its unapplied before a void
    value = row.get(key)
    return value if value is not None else (0 if column in ("open", "total", "amount", "unapplied") else "")


def invoice_page(ledger, *, show: str = "all", customer: str | None = None, start: str | None = None,
                 end: str | None = None, after: tuple | None = None, limit: int = 100,
                 today: date | None = None, sort: str = "date", descending: bool = True) -> list[dict]:
    """Invoices sorted by `sort` (INVOICE_SORTS; default newest first), then number in the same direction, at
    most `limit`, the page after the (sort value, number) `after`. show: open (something still open, counting
    every document), overdue (open and something past due on `today`) or all. Each row: id, number, date,
    due_date, currency, total, customer, customer_name, open, overdue, status (open / paid / voided /
    written_off)."""
    if show not in INVOICE_FILTERS:
        raise InvalidInput(N_("invoice filter {show} is not one of {invoice_filters}"), show=repr(show),
                           invoice_filters=', '.join(INVOICE_FILTERS),
                                    field="show")
    params: dict = {"today": (today or date.today()).isoformat(), "n": int(limit)}
    where = ["1=1"]
    if customer:
        where.append("i.customer_id = :c")
        params["c"] = customers.by_code(ledger, customer.strip())["id"]
    if start:
        where.append("i.date >= :start")
        params["start"] = validate.iso_date(start, "from date")
    if end:
        where.append("i.date <= :end")
        params["end"] = validate.iso_date(end, "to date")
    if sort not in INVOICE_SORTS:
        raise InvalidInput(N_("cannot sort by {column}"), column=repr(sort), field="sort")
    page_after, order = keyset(INVOICE_SORTS[sort], "i.number", descending, tuple(after) if after else None, params)
    if page_after:
        where.append(page_after)
    if show in ("open", "overdue"):
        where.append("s.settled_on IS NULL")
    if show == "overdue":
        where.append(f"{OVERDUE} > 0")
    rows = ledger.rows(
        f"""SELECT i.id, i.number, i.date, i.due_date, i.currency, i.total, i.terms, c.code AS customer,
                   c.name AS customer_name, {OPEN_EVER} AS open, {OVERDUE} AS overdue,
                   EXISTS (SELECT 1 FROM voids v WHERE v.doc_id = i.id AND v.doc_table = 'invoices') AS voided,
                   EXISTS (SELECT 1 FROM writeoffs w WHERE w.invoice_id = i.id) AS written_off
            FROM invoices i CROSS JOIN doc_state s ON s.id = i.id AND s.kind = 'invoice'
            LEFT JOIN customers c ON c.id = i.customer_id
            WHERE {' AND '.join(where)} ORDER BY {order} LIMIT :n""", params)
    for r in rows:
        r["status"] = invoices.status(r["open"], bool(r["voided"]), bool(r["written_off"]))
    return rows


def payment_page(ledger, *, customer: str | None = None, after: tuple | None = None,
                 limit: int = 100, sort: str = "date", descending: bool = True) -> list[dict]:
    """Payments sorted by `sort` (PAYMENT_SORTS; default newest first), then id in the same direction, a page
    after (sort value, id): what each applied and has left."""
    params: dict = {"n": int(limit)}
    where = ["1=1"]
    if customer:
        where.append("p.customer_id = :c")
        params["c"] = customers.by_code(ledger, customer.strip())["id"]
    if sort not in PAYMENT_SORTS:
        raise InvalidInput(N_("cannot sort by {column}"), column=repr(sort), field="sort")
    page_after, order = keyset(PAYMENT_SORTS[sort], "p.id", descending, tuple(after) if after else None, params)
    if page_after:
        where.append(page_after)
    rows = ledger.rows(
        f"""SELECT p.id, p.number, p.date, p.currency, p.amount, p.method, p.reference, c.code AS customer,
                   c.name AS customer_name, s.open_all AS unapplied, s.open_all,
                   (SELECT v.date FROM voids v WHERE v.doc_id = p.id AND v.doc_table = 'payments') AS voided_on
            FROM payments p CROSS JOIN doc_state s ON s.id = p.id AND s.kind = 'payment'
            LEFT JOIN customers c ON c.id = p.customer_id
            WHERE {' AND '.join(where)} ORDER BY {order} LIMIT :n""", params)
    for r in rows:
        if r["voided_on"]:
            r["unapplied"] = 0
        r["applied"] = 0 if r["voided_on"] else r["amount"] - r["unapplied"]
        r["status"] = "voided" if r["voided_on"] else ("unapplied" if r["unapplied"] > 0 else "applied")
    return rows


def customer_positions(ledger, customer_ids: list[str], today: date | None = None) -> dict[str, dict]:
    """{customer id: {currency, balance, overdue}} for a page of customers, as of today, in each customer's own
    currency (several currencies: '*'): the same position (store.read.open) as the dashboard and the reports,
    so a document dated after today counts nowhere yet. balance = receivable + unapplied (which is negative);
    overdue = what of the open instalments is past due."""
    if not customer_ids:
        return {}
    as_of = today or date.today()
    found = {cid: {"currency": None, "balance": 0, "overdue": 0} for cid in customer_ids}
    pos = position(ledger, as_of, customer_ids=customer_ids)
    by_code = {inv.customer: inv.customer_id for inv in pos.invoices}
    by_code.update({r["code"]: r["id"] for r in ledger.rows(
        f"SELECT id, code FROM customers WHERE id IN ({','.join('?' * len(customer_ids))})", customer_ids)})
    for item in pos.items:
        _add(found[by_code[item.customer]], item.currency, item.open_amount,
             item.open_amount if item.due_date < as_of else 0)
    for u in pos.unapplied:
        _add(found[by_code[u.customer]], u.currency, -u.amount, 0)
    return found


def _add(row: dict, currency: str, amount: int, late: int) -> None:
    """Sum per customer in one currency; a second currency shows as 'several' (None amounts)."""
    if row["currency"] not in (None, currency):
        row.update(currency="*", balance=None, overdue=None)
        return
    if row["currency"] == "*":
        return
    row["currency"] = currency
    row["balance"] += amount or 0
    row["overdue"] += late or 0


def aging_cell(ledger, as_of: date, basis: str, customer: str, currency: str, label: str) -> list[dict]:
    """The open items behind one cell of the aging report (customer code × currency × bucket label), each
    classified by store.rules.aging itself: [{number, date, due_date, open}] oldest due first."""
    record = customers.by_code(ledger, customer)
    pos = position(ledger, as_of, customer_id=record["id"])
    edges = reports.default_edges(ledger)
    if basis == "invoice":
        items = [by_invoice_date(i) for i in pos.invoices]
    else:
        items = list(pos.items)
    found = []
    for item in items:
        if item.currency != currency:
            continue
        report = agelib.age([item], [], as_of, basis, edges)
        if report.rows and report.rows[0].get(label):
            found.append({"number": item.number, "date": item.doc_date, "due_date": item.due_date,
                          "open": item.open_amount})
    return sorted(found, key=lambda r: (r["due_date"], r["number"]))


@dataclass
class InvoicePreview:
    customer: str
    name: str
    currency: str
    terms: str
    total: int
    schedule: list[tuple[date, int]]


def invoice_preview(ledger, customer_code: str, invoice_date: str, *, amount: str | None = None,
                    lines: list[str] | None = None, terms_name: str | None = None,
                    currency: str | None = None) -> InvoicePreview:
    """What issuing this invoice would post: total and due dates by its terms (nothing is written).
    The terms are chosen by invoices.terms_for, as invoices.add chooses them; the currency is the customer's
    unless one is given."""
    on = validate.parse_date(invoice_date, "invoice date")
    record = customers.by_code(ledger, (customer_code or "").strip())
    cur = (money.check_currency(currency) if currency
           else money.stored_currency(record["currency"] or ledger.setting("currency", "CNY")))
    if lines:
        total = sum(line.amount + line.tax for line in (invoices.parse_line(text, cur) for text in lines))
    else:
        total = money.parse_amount(amount or "", cur)
    name = invoices.terms_for(ledger, record, terms_name)
    found = termsbook.resolve(ledger, name)
    schedule = instalments(found, total, on) if total > 0 else []
    return InvoicePreview(record["code"], record["name"], cur, found.name, total, schedule)


@dataclass
class PaymentPlan:
    customer: str
    name: str
    currency: str
    amount: int
    items: list[dict]  # {invoice, number, due_date, open, suggested}, earliest due first
    unapplied_before: int  # the customer's cash and credit not yet applied, before this payment


def payment_plan(ledger, customer_code: str, paid_on: str, amount: str | None,
                 currency: str | None = None) -> PaymentPlan:
    """The customer's open items in `currency` (the customer's unless given) a payment dated paid_on may go to
    (one row per invoice, earliest due first) with the store's oldest-due-first suggestion for `amount`."""
    on = validate.iso_date(paid_on, "payment date")
    record = customers.by_code(ledger, (customer_code or "").strip())
    cur = (money.check_currency(currency) if currency
           else money.stored_currency(record["currency"] or ledger.setting("currency", "CNY")))
    minor = money.parse_amount(amount, cur) if (amount or "").strip() else 0
    dues = allocatable_items(ledger, record["id"], cur, on)
    items: dict[str, dict] = {}
    for d in dues:
        row = items.setdefault(d.invoice_id, {"invoice": d.invoice_id, "number": d.number, "due_date": d.due_date,
                                           "open": 0, "suggested": 0})
        row["open"] += d.open_amount
    for invoice_id, part in auto_allocate(max(minor, 0), dues):
        items[invoice_id]["suggested"] = part
    return PaymentPlan(record["code"], record["name"], cur, minor, list(items.values()),
                       unapplied(ledger, record["id"], cur, on))


@dataclass
class AllocationChoices:
    customer: str
    currency: str
    on: str
    available: int  # the money to place
    items: list[dict]  # {number, due_date, open, suggested}: per invoice, earliest due first


def allocation_choices(ledger, customer_code: str, on: str, *, payment: str | None = None,
                       reallocate: bool = False) -> AllocationChoices:
    """Where unapplied money may go on a date, with the oldest-due-first suggestion: one payment's (by number
    or id), or the customer's unapplied cash and credit. With `reallocate`, the payment as if taken off the
    invoices it is on (they are listed with what it has on them added back)."""
    record = customers.by_code(ledger, (customer_code or "").strip())
    cur = money.stored_currency(record["currency"] or ledger.setting("currency", "CNY"))
    back: dict[str, int] = {}
    if payment:
        found = payments.detail(ledger, payment)
        cur = found["payment"]["currency"]
        available = found["unapplied"]
        if reallocate:
            back = found["on_invoices"]
            available = found["payment"]["amount"] if not found["void"] else 0
    else:
        available = unapplied(ledger, record["id"], cur, on)
    per: dict[str, dict] = {}
    for item in allocatable_items(ledger, record["id"], cur, on):
        row = per.setdefault(item.number, {"number": item.number, "due_date": item.due_date.isoformat(), "open": 0})
        row["open"] += item.open_amount
        row["due_date"] = min(row["due_date"], item.due_date.isoformat())
    for number, amount in back.items():
        row = per.get(number)
        if row is None:
            inv = invoices.by_number(ledger, number)
            row = per[number] = {"number": number, "due_date": inv["due_date"] or inv["date"], "open": 0}
        row["open"] += amount
    items = sorted(per.values(), key=lambda r: (r["due_date"], r["number"]))
    left = available
    for row in items:
        row["suggested"] = min(row["open"], max(left, 0))
        left -= row["suggested"]
    return AllocationChoices(record["code"], cur, on, available, items)


def customer_ratings(ledger, as_of: date) -> dict[str, tuple[int, str]]:
    """{customer code: (score, rating A-D)} from store.rules.credit, for every scored customer."""
    from store.read import credit

    return {s.facts.code: (s.score, s.rating) for s in credit.scores(ledger, as_of)}


# -- what the forms' pickers offer (tui/widgets/picker.py) ---------------------------------------------------

def customer_choices(ledger, query: str, limit: int = 8) -> list[dict]:
    """At most `limit` customers a search finds (code, name, legal name, tax id, pinyin whole or by initials;
    store/rules/search.py), by code: [{code, name, currency}]. A range read in the customer_search index."""
    return [{"code": r["code"], "name": r["name"], "currency": r["currency"]}
            for r in customers.listing(ledger, search=query or None, limit=limit)]


def ledger_currencies(ledger) -> list[str]:
    """The currencies this ledger uses: its own first, then its customers' (most customers first)."""
    home = money.stored_currency(ledger.setting("currency", "CNY"))
    rows = ledger.rows("SELECT currency, count(*) AS n FROM customers WHERE currency IS NOT NULL AND currency != '' "
                       "GROUP BY currency ORDER BY n DESC, currency")
    found = [home]
    for r in rows:
        code = money.stored_currency(r["currency"])
        if code not in found:
            found.append(code)
    return found


def terms_choices(ledger, lang: str, invoice_date: date | None) -> list[dict]:
    """Every usable terms (built-ins first) with both names of a built-in (EOM30 / 月结30), what they mean in
    `lang`, and the due dates an invoice of `invoice_date` would get: [{name, other, meaning, due: [date]}]."""

    currency = termsbook.home_currency(ledger)
    found = []
    for terms, _source in termsbook.all_terms(ledger):
        due = sorted({d for d, _ in instalments(terms, 10000, invoice_date)}) if invoice_date else []
        found.append({"name": terms.name, "other": BUILTIN_ZH.get(terms.name, ""),
                      "meaning": describe(terms, lang, currency), "due": due})
    return found
