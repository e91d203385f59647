"""Draft invoices (草稿): an invoice being prepared, editable per field on any device until it is issued.

A draft is an editable record (last writer wins per field, like a customer). Issuing it posts an ordinary
invoice through `invoices.add` (every rule of an invoice applies) and, in the same transaction, a
`draft_issues` event that records which field clocks the issue included. From then on the draft is closed
here; an edit made elsewhere that the issue did not include, or a second issue of the same draft on another
device while offline, is found by `conflicts` and flagged by the sync merge (DESIGN §4 "conflict queue").
"""
from __future__ import annotations

import json

from store.rules import money, validate
from store.write import customers, invoices, terms as termsbook
from store.errors import Conflict, InvalidInput, NotFound
from store.ledger.ids import uuid7

REF_LENGTH = 8  # drafts are shown and found by the last characters of their id


def ref(draft_id: str) -> str:
    return draft_id[-REF_LENGTH:]


def get(ledger, reference: str) -> dict:
    """A draft by its id or the end of it (as `draft list` shows)."""
    text = (reference or "").strip().lower()
    if len(text) < 4:
        raise InvalidInput(f"draft {reference!r}: give its reference as `duly draft list` shows it", field="draft")
    found = ledger.rows("SELECT * FROM drafts WHERE id = ? OR substr(id, -?) = ?", (text, len(text), text))
    if not found:
        raise NotFound(f"no draft {reference!r}: see `duly draft list`")
    if len(found) > 1:
        raise InvalidInput(f"draft {reference!r} matches {len(found)} drafts: give more of its id", field="draft")
    return found[0]


_ISSUES = ("SELECT i.id, i.number, d.seen FROM draft_issues d JOIN invoices i ON i.id = d.invoice_id "
           "WHERE d.draft_id = ? ORDER BY i.number")


def issued_as(ledger, draft_id: str) -> list[dict]:
    """The invoices a draft was issued as (more than one only when two devices issued it offline)."""
    return ledger.rows(_ISSUES, (draft_id,))


def _still_open(ledger, draft: dict) -> None:
    done = issued_as(ledger, draft["id"])
    if done:
        raise Conflict(f"draft {ref(draft['id'])} was issued as invoice {done[0]['number']}; a posted invoice is "
                       "never edited: use a credit note, or void it and issue a new one")
    if draft["archived"]:
        raise Conflict(f"draft {ref(draft['id'])} was deleted")


def _checked(ledger, customer: dict, draft: dict, given: dict) -> dict:
    """The columns to set from what was given (None = not given), checked against what the draft has."""
    out: dict = {}
    currency = draft.get("currency") or customer["currency"] or ledger.setting("currency", "CNY")
    if given.get("currency") is not None:
        new = money.check_currency(given["currency"])
        if new != currency and draft.get("amount") is not None and given.get("amount") is None:
            given["amount"] = money.to_decimal_str(draft["amount"], currency)  # the same amount, checked for `new`
        if new != currency and draft.get("lines") and not given.get("lines"):
            given["lines"] = json.loads(draft["lines"])  # the same lines, checked for `new`
        currency = new
    out["currency"] = currency
    if given.get("amount") is not None and given.get("lines"):
        raise InvalidInput("give either an amount or lines, not both", field="amount")
    if given.get("amount") is not None:
        amount = money.parse_amount(given["amount"], currency)
        if amount <= 0:
            raise InvalidInput(f"amount must be more than zero, got {given['amount']}", field="amount")
        out["amount"], out["lines"] = amount, None
    if given.get("lines"):
        for text in given["lines"]:
            invoices.parse_line(text, currency)
        out["lines"], out["amount"] = json.dumps(list(given["lines"]), ensure_ascii=False), None
    for key, label in (("date", "invoice date"), ("due", "due date")):
        if given.get(key) is not None:
            out["date" if key == "date" else "due_date"] = validate.iso_date(given[key], label)
    on, due = out.get("date", draft.get("date")), out.get("due_date", draft.get("due_date"))
    if on and due and due < on:
        raise InvalidInput(f"due date {due} is before the invoice date {on}", field="due")
    if given.get("terms") is not None:
        out["terms"] = termsbook.resolve(ledger, given["terms"].strip()).name
    if given.get("einvoice") is not None:
        out["einvoice"] = invoices.einvoice_number(given["einvoice"])
    if given.get("description") is not None:
        out["description"] = given["description"].strip() or None
    return {k: v for k, v in out.items() if draft.get(k) != v}


def add(ledger, customer_code: str, *, draft_id: str | None = None, **given) -> str:
    """A new draft for a customer; any of date, due, terms, currency, amount, lines, description, einvoice.
    `draft_id`: an id every device derives alike (a recurring occurrence), so two devices' drafts are one."""
    with ledger.writing() as tx:
        customer = customers.by_code(ledger, (customer_code or "").strip(), archived=False)
        draft_id = draft_id or uuid7()
        tx.set("drafts", draft_id, customer_id=customer["id"], archived=0, **_checked(ledger, customer, {}, given))
    return draft_id


def edit(ledger, reference: str, **given) -> dict:
    """Change fields of an open draft; returns {column: (old, new)}."""
    with ledger.writing() as tx:
        draft = get(ledger, reference)
        _still_open(ledger, draft)
        if given.get("customer") is not None:
            customer = customers.by_code(ledger, given.pop("customer").strip(), archived=False)
            given_customer = {"customer_id": customer["id"]} if customer["id"] != draft["customer_id"] else {}
        else:
            customer = ledger.row("SELECT * FROM customers WHERE id=?", (draft["customer_id"],))
            given_customer = {}
        changed = {**given_customer, **_checked(ledger, customer, draft, given)}
        if changed:
            tx.set("drafts", draft["id"], **changed)
    return {k: (draft.get(k), v) for k, v in changed.items()}


def delete(ledger, reference: str) -> None:
    with ledger.writing() as tx:
        draft = get(ledger, reference)
        _still_open(ledger, draft)
        tx.set("drafts", draft["id"], archived=1)


def issue(ledger, reference: str, *, number: str | None = None) -> invoices.Issued:
    """Post the draft as an invoice (every rule of `invoice add` applies) and close it, in one transaction."""
    with ledger.writing() as tx:
        draft = get(ledger, reference)
        _still_open(ledger, draft)
        if not draft["date"]:
            raise InvalidInput(f"draft {ref(draft['id'])} has no date: `duly draft edit {ref(draft['id'])} --date D`",
                               field="date")
        code = ledger.row("SELECT code FROM customers WHERE id=?", (draft["customer_id"],))["code"]
        amount = None if draft["amount"] is None else money.to_decimal_str(draft["amount"], draft["currency"])
        lines = json.loads(draft["lines"]) if draft["lines"] else None
        if amount is None and not lines:
            raise InvalidInput(f"draft {ref(draft['id'])} has neither an amount nor lines", field="amount")
        issued = invoices.add(ledger, code, draft["date"], amount=amount, lines=lines,
                              terms=draft["terms"], due=draft["due_date"], number=number,
                              currency=draft["currency"], einvoice=draft["einvoice"],
                              description=draft["description"])
        tx.event("draft_issues", draft_id=draft["id"], invoice_id=issued.id,
                 seen=json.dumps(_clocks(ledger.conn, draft["id"]), sort_keys=True))
    return issued


def _clocks(conn, draft_id: str) -> dict[str, str]:
    """Each field of the draft and the clock of the write that set it: the version of the draft."""
    return dict(conn.execute("SELECT col, hlc FROM field_clock WHERE tbl='drafts' AND row_id=?", (draft_id,)))


def _seen(text) -> dict:
    """The field clocks an issue included, as another device wrote them; anything unreadable counts as having
    seen nothing (a flag for a person, never an error that would stop every later sync)."""
    try:
        found = json.loads(text or "{}")
    except (TypeError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def listing(ledger, *, include_closed: bool = False, draft_id: str | None = None) -> list[dict]:
    """Drafts as people read them (open ones; all with include_closed; only `draft_id` when given)."""
    rows = ledger.rows(
        f"""SELECT d.id, c.code AS customer, c.name, d.date, d.due_date, d.terms, d.currency, d.amount, d.lines,
                  d.description, d.archived,
                  (SELECT group_concat(i.number, ' ') FROM draft_issues x JOIN invoices i ON i.id = x.invoice_id
                    WHERE x.draft_id = d.id) AS invoice
           FROM drafts d LEFT JOIN customers c ON c.id = d.customer_id {'WHERE d.id = ?' if draft_id else ''}
           ORDER BY d.id""", (draft_id,) if draft_id else ())
    out = []
    for row in rows:
        status = "issued" if row["invoice"] else "deleted" if row["archived"] else "draft"
        if status != "draft" and not include_closed:
            continue
        total = row["amount"]
        if total is None and row["lines"]:
            parsed = [invoices.parse_line(t, row["currency"]) for t in json.loads(row["lines"])]
            total = sum(line.amount + line.tax for line in parsed)
        out.append({"ref": ref(row["id"]), "id": row["id"], "customer": row["customer"], "name": row["name"],
                    "date": row["date"], "due_date": row["due_date"], "terms": row["terms"],
                    "currency": row["currency"],
                    "amount": None if total is None else money.to_decimal_str(total, row["currency"]),
                    "lines": json.loads(row["lines"]) if row["lines"] else [], "description": row["description"],
                    "status": status, "invoice": row["invoice"]})
    return out


def conflicts(conn, draft_ids: set[str]) -> list[tuple[str, str, str, str]]:
    """(kind, draft id, other, message) for each of these drafts that two devices disagree on after a merge:
    issued twice (two invoices from one draft), or holding a field write that no issue included (an edit made
    elsewhere, before or after the issue, that the posted invoice does not have)."""
    found = []
    for draft_id in sorted(draft_ids):
        issues = conn.execute(_ISSUES, (draft_id,)).fetchall()
        if not issues:
            continue
        if len(issues) > 1:
            numbers = ", ".join(n for _, n, _ in issues)
            found.append(("draft_issued_twice", draft_id, "",
                          f"draft {ref(draft_id)} was issued on two devices, as invoices {numbers}: both are posted; "
                          "void the one that should not exist"))
        included = [_seen(seen) for _, _, seen in issues]
        later = sorted(col for col, hlc in _clocks(conn, draft_id).items()
                       if not any(seen.get(col) == hlc for seen in included))
        if later:
            numbers = ", ".join(n for _, n, _ in issues)
            what = "deleted" if later == ["archived"] else f"edited ({', '.join(c for c in later if c != 'archived')})"
            found.append(("draft_edited_after_issue", draft_id, ",".join(later),
                          f"draft {ref(draft_id)} was {what} on a device that had not seen it issued as invoice "
                          f"{numbers}; the invoice is posted without that change: issue a credit note, or void it "
                          "and issue the draft's content again"))
    return found
