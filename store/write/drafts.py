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
from store.errors import Conflict, InvalidInput, NotFound, Said
from store.ledger.ids import uuid7
from store.i18n import N_

REF_LENGTH = 8  # drafts are shown and found by the last characters of their id


def ref(draft_id: str) -> str:
    return draft_id[-REF_LENGTH:]


def get(ledger, reference: str) -> dict:
    """A draft by its id or the end of it (as `draft list` shows)."""
    text = (reference or "").strip().lower()
    if len(text) < 4:
        raise InvalidInput(N_("draft {reference}: give its reference as `duly draft list` shows it"),
                           reference=repr(reference), field="draft")
    found = ledger.rows("SELECT * FROM drafts WHERE id = ? OR substr(id, -?) = ?", (text, len(text), text))
    if not found:
        raise NotFound(N_("no draft {reference}: see `duly draft list`"), reference=repr(reference))
    if len(found) > 1:
        raise InvalidInput(N_("draft {reference} matches {count} drafts: give more of its id"),
                           reference=repr(reference), count=len(found), field="draft")
    return found[0]


_ISSUES = ("SELECT i.id, i.number, d.seen FROM draft_issues d JOIN invoices i ON i.id = d.invoice_id "
           "WHERE d.draft_id = ? ORDER BY i.number")


def issued_as(ledger, draft_id: str) -> list[dict]:
    """The invoices a draft was issued as (more than one only when two devices issued it offline)."""
    return ledger.rows(_ISSUES, (draft_id,))


def _still_open(ledger, draft: dict) -> None:
    done = issued_as(ledger, draft["id"])
    if done:
        raise Conflict(N_("draft {id} was issued as invoice {number}; a posted invoice is never edited: use a "
                          "credit note, or void it and issue a new one"), id=ref(draft['id']),
                       number=done[0]['number'])
    if draft["archived"]:
        raise Conflict(N_("draft {id} was deleted"), id=ref(draft['id']))


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
        raise InvalidInput(N_("give either an amount or lines, not both"), field="amount")
    if given.get("amount") is not None:
        amount = money.parse_amount(given["amount"], currency)
        if amount <= 0:
            raise InvalidInput(N_("amount must be more than zero, got {amount}"),
                               amount=given['amount'], field="amount")
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
        raise InvalidInput(N_("due date {due} is before the invoice date {on}"), due=due, on=on, field="due")
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
            raise InvalidInput(N_("draft {id} has no date: `duly draft edit {id} --date D`"), id=ref(draft['id']),
                               field="date")
        code = ledger.row("SELECT code FROM customers WHERE id=?", (draft["customer_id"],))["code"]
        amount = None if draft["amount"] is None else money.to_decimal_str(draft["amount"], draft["currency"])
        lines = json.loads(draft["lines"]) if draft["lines"] else None
        if amount is None and not lines:
            raise InvalidInput(N_("draft {id} has neither an amount nor lines"), id=ref(draft['id']), field="amount")
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


def page(ledger, *, after: str | None = None, limit: int = 100) -> list[dict]:
    """Open drafts in id order (made first, first), at most `limit`, after the draft id `after`: the app's list,
    a page at a time. Each row as `listing` gives it."""
    ids = [r[0] for r in ledger.conn.execute(
        """SELECT d.id FROM drafts d WHERE coalesce(d.archived, 0) = 0 AND d.id > ?
           AND NOT EXISTS (SELECT 1 FROM draft_issues x WHERE x.draft_id = d.id) ORDER BY d.id LIMIT ?""",
        (after or "", limit))]
    return [row for draft_id in ids for row in listing(ledger, draft_id=draft_id)]


def _positive(amount: int, text: str) -> int:
    if amount <= 0:
        raise InvalidInput(N_("amount must be more than zero, got {amount}"), amount=text, field="amount")
    return amount


def problems(ledger, values: dict[str, str]) -> dict[str, str]:
    """Every field of a draft form that is wrong, each with its reason (the form marks them all at once):
    customer, date, due, currency, amount, terms, einvoice. Empty strings are fields not given."""
    found: dict[str, str] = {}
    customer = None
    try:
        customer = customers.by_code(ledger, values.get("customer", "").strip(), archived=False)
    except (InvalidInput, NotFound) as exc:
        found["customer"] = Said.of(exc)
    currency = values.get("currency") or (customer or {}).get("currency") or ledger.setting("currency", "CNY")
    checks = {
        "date": lambda v: validate.iso_date(v, "invoice date"),
        "due": lambda v: validate.iso_date(v, "due date"),
        "currency": money.check_currency,
        "amount": lambda v: _positive(money.parse_amount(v, currency), v),
        "terms": lambda v: termsbook.resolve(ledger, v),
        "einvoice": invoices.einvoice_number,
    }
    for name, check in checks.items():
        if values.get(name, "").strip():
            try:
                check(values[name].strip())
            except (InvalidInput, NotFound) as exc:
                found[name] = Said.of(exc)
    if not values.get("amount", "").strip():
        found.setdefault("amount", Said(N_("give the amount of the invoice")))
    if "date" not in found and "due" not in found and values.get("date") and values.get("due") and \
            values["due"].strip() < values["date"].strip():
        found["due"] = Said(N_("due date {due} is before the invoice date {on}"), due=values["due"].strip(),
                            on=values["date"].strip())
    return found


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
            found.append(("draft_issued_twice", draft_id, "", str(Said(
                N_("draft {draft} was issued on two devices, as invoices {numbers}: both are posted; void the one "
                   "that should not exist"), draft=ref(draft_id), numbers=numbers))))
        included = [_seen(seen) for _, _, seen in issues]
        later = sorted(col for col, hlc in _clocks(conn, draft_id).items()
                       if not any(seen.get(col) == hlc for seen in included))
        if later:
            numbers = ", ".join(n for _, n, _ in issues)
            said = (Said(N_("draft {draft} was deleted on a device that had not seen it issued as invoice {numbers}; "
                            "the invoice is posted without that change: issue a credit note, or void it and issue "
                            "the draft's content again"), draft=ref(draft_id), numbers=numbers)
                    if later == ["archived"] else
                    Said(N_("draft {draft} was edited ({fields}) on a device that had not seen it issued as invoice "
                            "{numbers}; the invoice is posted without that change: issue a credit note, or void it "
                            "and issue the draft's content again"), draft=ref(draft_id),
                         fields=", ".join(c for c in later if c != "archived"), numbers=numbers))
            found.append(("draft_edited_after_issue", draft_id, ",".join(later), str(said)))
    return found
