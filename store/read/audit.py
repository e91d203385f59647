"""The change log read as an audit trail: each change names the document it touched (invoice number, customer
code, a contact by name), shows amounts as money and times in local time."""
from __future__ import annotations

from datetime import datetime

from store.errors import Said, joined
from store.i18n import N_, known, translate
from store.rules import money
from store.rules.stored_words import Stored

# Fields holding minor units; shown as money in the currency of the document they belong to.
AMOUNT_FIELDS = {"amount", "total", "tax", "unit_price", "credit_limit", "fee", "our_balance", "their_balance",
                 "difference", "balance"}
# Fields that point at another row: shown as what a person calls that row.
_REFERENCES = {"customer_id": "customers", "invoice_id": "invoices", "payment_id": "payments",
               "credit_id": "credit_notes"}
_SECRET = {("settings", "smtp.password")}
# What a row of a table is called, with its label (number, code): English as scripts have always read it, worded
# in the reader's language where it is shown (a line of the trail is a store.errors.Said).
_DOCUMENT = {"invoices": N_("invoice {label}"), "payments": N_("payment {label}"),
             "credit_notes": N_("credit note {label}"), "writeoffs": N_("write-off {label}"),
             "customers": N_("customer {label}"), "contacts": N_("contact {label}"), "settings": N_("setting {label}"),
             "voids": N_("void {label}"), "allocations": N_("allocation {label}"), "terms": N_("terms {label}"),
             "contracts": N_("contract {label}"), "disputes": N_("dispute {label}"), "promises": N_("promise {label}"),
             "notes": N_("note {label}"), "reminders": N_("reminder {label}"), "drafts": N_("draft {label}"),
             "bank_lines": N_("bank line {label}"), "bank_matches": N_("bank match {label}"),
             "draft_issues": N_("draft issued {label}")}
# Rows that belong to an invoice and are described with it.
_PARTS = {"invoice_lines", "due_items"}


class Column(Said):
    """A field's name in a line of the trail: as it is in English (credit_limit, as scripts read it), the
    catalogue's word for the column in another language."""

    def __new__(cls, name: str) -> Column:
        return str.__new__(cls, name)

    def text(self, language: str = "en") -> str:
        key = f"col.{self}"
        return translate(language, key) if language != "en" and known(key) else str(self)


class Word(Said):
    """A value from a fixed list (per_order, bank_transfer) in a line of the trail: as stored in English, the
    catalogue's word for it ("<kind>.<value>") in another language."""

    def __new__(cls, kind: str, value: str) -> Word:
        said = str.__new__(cls, value)
        said.kind = kind
        return said

    def text(self, language: str = "en") -> str:
        key = f"{self.kind}.{self}"
        return translate(language, key) if language != "en" and known(key) else str(self)


# columns whose values come from a fixed list, and the catalogue's prefix for their words
_WORDED = {"settlement_cycle": "cycle", "method": "method", "channel": "channel", "language": "language"}


def listed(parts: list, more: bool = False) -> Said | str:
    """'a, b, c' (and ' …' when more were left out), each part worded in the reader's language."""
    if not parts:
        return Said(N_("{what} …"), what="") if more else ""
    line = parts[-1]
    for part in reversed(parts[:-1]):
        line = Said(N_("{first}, {rest}"), first=part, rest=line)
    return Said(N_("{what} …"), what=line) if more else line


def local_time(at: str | None) -> str:
    """'2026-01-05T23:59:59.999Z' -> '2026-01-06 07:59:59' in this machine's time zone."""
    if not at:
        return ""
    try:
        moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return at
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


class Names:
    """What a person calls a row (customer code, invoice number ...), looked up once per row."""

    def __init__(self, ledger, *, machine: bool = False):
        self.ledger = ledger
        self.machine = machine  # amounts as decimal strings ('1234.50'), for json and csv
        self._cache: dict[tuple[str, str], dict | None] = {}

    def row(self, table: str, row_id: str | None) -> dict | None:
        if not row_id:
            return None
        key = (table, row_id)
        if key not in self._cache:
            columns = {"customers": "code, name, currency", "contacts": "name, customer_id",
                       "invoices": "number, currency, customer_id", "payments": "number, currency, customer_id",
                       "credit_notes": "number, currency, customer_id", "writeoffs": "number, invoice_id",
                       }.get(table)
            self._cache[key] = self.ledger.row(f"SELECT {columns} FROM {table} WHERE id=?", (row_id,)) \
                if columns else None
        return self._cache[key]

    def name(self, table: str, row_id: str | None, data: dict | None = None) -> str:
        """'invoice A7-000001', 'customer C1', 'contact 王会计 of customer C1', 'payment …a1b2c3'."""
        data = data or {}
        found = self.row(table, row_id) or {}
        tail = "…" + (row_id or "")[-6:]
        if table == "customers":
            label = data.get("code") or found.get("code")
        elif table == "contacts":
            owner = self.name("customers", data.get("customer_id") or found.get("customer_id"))
            return Said(N_("contact {name} of {owner}"), name=data.get("name") or found.get("name") or tail,
                        owner=owner)
        elif table == "settings":
            label = row_id
        else:
            label = data.get("number") or found.get("number")
        if table not in _DOCUMENT:
            return f"{table} {label or tail}"
        return Said(_DOCUMENT[table], label=label or tail)

    def currency(self, table: str, row_id: str | None, data: dict) -> str | None:
        """The currency amounts of this row are in."""
        if data.get("currency"):
            return data["currency"]
        for column, target in _REFERENCES.items():
            if data.get(column) and target != "customers":
                found = self.row(target, data[column])
                if found and found.get("currency"):
                    return found["currency"]
        if table in ("invoices", "payments", "credit_notes", "customers"):
            found = self.row(table, row_id)
            if found and found.get("currency"):
                return found["currency"]
        if table == "writeoffs":
            found = self.row("writeoffs", row_id)
            return self.currency("invoices", found and found["invoice_id"], {})
        if data.get("customer_id"):
            found = self.row("customers", data["customer_id"])
            return found and found.get("currency")
        return None

    def value(self, table: str, row_id: str, column: str, value, currency: str | None) -> str:
        """A field's value as a person reads it."""
        if (table, row_id) in _SECRET:
            return "********"
        if value is None:
            return Said(N_("(empty)"))
        if column in AMOUNT_FIELDS and isinstance(value, (int, str)) and str(value).lstrip("-").isdigit():
            cur = money.stored_currency(currency)
            if self.machine:
                return money.to_decimal_str(int(value), cur)
            return f"{money.format_amount(int(value), cur)} {cur}"
        if column in _REFERENCES:
            return self.name(_REFERENCES[column], value)
        if column in _WORDED and isinstance(value, str):
            return Word(_WORDED[column], value)
        if column in ("note", "reason", "text") and isinstance(value, str):  # the app's own lines worded for a reader
            return Stored(value)
        if column == "archived":
            return Said(N_("yes")) if str(value) in ("1", "True") else Said(N_("no"))
        return str(value)


def describe(ledger, ops: list[dict], *, names: Names | None = None, limit: int = 3) -> str:
    """One line for one change: 'invoice A7-000001 posted: customer C1, total 1,000.00 CNY; ...'."""
    names = names or Names(ledger)
    groups: dict[tuple[str, str, str], dict] = {}
    parts_of: dict[str, int] = {}
    for op in ops:
        table, row_id = op.get("t"), op.get("id")
        if table in _PARTS:
            owner = (op.get("d") or {}).get("invoice_id")
            parts_of[owner] = parts_of.get(owner, 0) + 1
            continue
        fields = groups.setdefault((op.get("op"), table, row_id), {})
        if op.get("op") == "set":
            fields[op.get("c")] = op.get("v")
        else:
            fields.update(op.get("d") or {})
    out = []
    for (kind, table, row_id), fields in groups.items():
        if len(out) == limit:
            break
        out.append(_one(names, kind, table, row_id, fields))
    more = len(groups) - len(out)
    line = joined(out)
    return Said(N_("{what} (+{more} more)"), what=line, more=more) if more > 0 else line


def _one(names: Names, kind: str, table: str, row_id: str, fields: dict) -> str:
    subject = names.name(table, row_id, fields if kind == "event" or table != "contacts" else {})
    currency = names.currency(table, row_id, fields)
    if table == "settings":
        return Said(N_("{subject} = {value}"), subject=subject,
                    value=names.value(table, row_id, "value", fields.get("value"), None))
    if kind == "event":
        if table == "allocations":
            source = (names.name("payments", fields["payment_id"]) if fields.get("payment_id")
                      else names.name("credit_notes", fields.get("credit_id")))
            return Said(N_("{amount} of {source} applied to {invoice} on {date}"),
                        amount=names.value(table, row_id, "amount", fields.get("amount"), currency), source=source,
                        invoice=names.name("invoices", fields.get("invoice_id")), date=fields.get("date"))
        if table == "voids":
            target = names.name(fields.get("doc_table") or "", fields.get("doc_id"))
            reason = (fields.get("reason") or "").rstrip(": ")
            if reason:
                return Said(N_("{target} voided on {date}: {reason}"), target=target, date=fields.get("date"),
                            reason=reason)
            return Said(N_("{target} voided on {date}"), target=target, date=fields.get("date"))
        shown = [_field(names, table, row_id, c, v, currency, " ") for c, v in _money_first(fields)
                 if c not in ("number", "currency") and v not in (None, "")]
        return Said(N_("{subject} posted: {fields}"), subject=subject, fields=listed(shown[:5], len(shown) > 5))
    shown = [_field(names, table, row_id, c, v, currency, " = ") for c, v in _money_first(fields)
             if not (table == "customers" and c == "code" and "name" in fields)
             and not (table == "contacts" and c == "customer_id")]
    return Said(N_("{subject}: {fields}"), subject=subject, fields=listed(shown[:5], len(shown) > 5))


def _money_first(fields: dict) -> list[tuple[str, object]]:
    """Amounts first, then who, then the rest: what an auditor looks for first."""
    return sorted(fields.items(), key=lambda kv: (kv[0] not in ("total", "amount"), kv[0] not in AMOUNT_FIELDS,
                                                   kv[0] not in _REFERENCES))


def _field(names: Names, table: str, row_id: str, column: str, value, currency, joiner: str) -> str:
    shown = names.value(table, row_id, column, value, currency)
    if column in _REFERENCES and value:
        return shown
    return Said(N_("{field} = {value}") if joiner == " = " else N_("{field} {value}"), field=Column(column),
                value=shown)


def field_history(ledger, customer_id: str, *, machine: bool = False) -> list[dict]:
    """Each field change of a customer and of its contacts, the contact's named as the contact's: subject,
    field, old, new (amounts as money; decimal strings for machines), at (UTC), local time, actor."""
    names = Names(ledger, machine=machine)
    customer = names.row("customers", customer_id) or {}
    rows = ledger.rows(
        """SELECT h.tbl, h.row_id, h.col AS field, h.old, h.new, h.at, h.actor, h.device
           FROM field_history h
           WHERE (h.tbl='customers' AND h.row_id=:id)
              OR (h.tbl='contacts' AND h.row_id IN (SELECT id FROM contacts WHERE customer_id=:id))
           ORDER BY h.hlc, h.id""", {"id": customer_id})
    for row in rows:
        table = row.pop("tbl")
        row_id = row.pop("row_id")
        if table == "contacts":
            contact = names.row("contacts", row_id) or {}
            row["subject"] = Said(N_("contact {name}"), name=contact.get("name") or "…" + row_id[-6:])
        else:
            row["subject"] = Said(N_("subject.customer"))
        for side in ("old", "new"):
            if row[side] is not None and (row["field"] in AMOUNT_FIELDS or row["field"] in _REFERENCES
                                          or row["field"] == "archived"):
                row[side] = names.value(table, row_id, row["field"], row[side], customer.get("currency"))
        row["local_time"] = local_time(row["at"])
    return rows
