"""Invoices (发票): issue one with lines, tax and instalments; void one; list and show them.

An issued invoice is a posted document: it is never edited, only voided (and reissued).
"""
from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from store.read import fx as fxread
from store.read import open as openitems
from store.rules import fx, money, validate
from store.write import customers, terms as termsbook
from store.rules.allocation import spread_over_instalments
from store.rules.contracts import contract_state
from store.rules.openitems import OpenInvoice, open_items
from store.errors import Conflict, DulyError, InvalidInput, NotFound, Said
from store.ledger.ids import IdPool, derived_id, uuid7
from store.rules.terms import instalments
from store.i18n import N_

_NUMBER = re.compile(r"^[\w][\w.\-/#]{0,39}$")
_EINVOICE = re.compile(r"^\d{20}$")
_QTY = re.compile(r"^\d+(\.\d{1,6})?$")
_TAX = re.compile(r"^(\d{1,3})(?:\.(\d{1,2}))?%?$")
DEFAULT_TERMS = "NET30"


@dataclass(frozen=True)
class Line:
    description: str
    qty: str  # decimal text, '2' or '1.5'
    unit_price: int  # minor units, before tax
    tax_bp: int  # 1300 = 13%
    # The tax as a document states it (a fapiao's 税额, rounded by the tax platform): kept as given, not recomputed.
    stated_tax: int | None = None

    @property
    def amount(self) -> int:
        """qty × unit price, rounded half-up to the minor unit."""
        if self.qty.isascii() and self.qty.isdigit():  # a whole quantity: nothing to round
            return int(self.qty) * self.unit_price
        return int((Decimal(self.qty) * self.unit_price).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    @property
    def tax(self) -> int:
        """amount × rate, rounded half-up to the minor unit (or the stated tax)."""
        if self.stated_tax is not None:
            return self.stated_tax
        return int((Decimal(self.amount) * self.tax_bp / 10000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass
class Issued:
    id: str
    number: str
    currency: str
    total: int
    tax: int
    due_items: list[tuple[str, int]]
    warnings: list[str] = field(default_factory=list)


# --- what a person types ---------------------------------------------------------------------------


def parse_qty(text: str, where: str = "quantity") -> str:
    """'2' -> '2', '1.50' -> '1.5'; more than zero, at most six decimals."""
    raw = (text or "").strip()
    if not _QTY.match(raw):
        raise InvalidInput(N_("{where}: {text} is not a quantity (expected e.g. 2 or 1.5)"), where=where,
                           text=repr(text), field="qty")
    value = Decimal(raw)
    if value <= 0:
        raise InvalidInput(N_("{where}: quantity must be more than zero"), where=where, field="qty")
    text = format(value.normalize(), "f")
    return text


def parse_tax(text: str, where: str = "tax") -> int:
    """'13%' or '13' -> 1300 basis points; 0–100%."""
    m = _TAX.match((text or "").strip())
    if not m:
        raise InvalidInput(N_("{where}: tax rate {text} is not a percentage (expected e.g. 13%)"),
                           where=where, text=repr(text), field="tax")
    bp = int(m.group(1)) * 100 + int((m.group(2) or "").ljust(2, "0"))
    if bp > 10000:
        raise InvalidInput(N_("{where}: tax rate {text} is more than 100%"), where=where,
                           text=repr(text), field="tax")
    return bp


def _is_qty(text: str) -> bool:
    try:
        Decimal(text.strip())
    except InvalidOperation:
        return False
    return bool(_QTY.match(text.strip()))


def parse_line(text: str, currency: str) -> Line:
    """'desc:qty:price[:tax%]' -> Line. Read from the right, so a description may hold colons; a bare
    last number counts as the tax rate when the two fields before it are a quantity and a price."""
    where = Said(N_("line {text}"), text=repr(text))  # worded in the reader's language with the message
    parts = (text or "").split(":")
    if len(parts) < 3:
        raise InvalidInput(N_("{where}: expected DESCRIPTION:QTY:PRICE[:TAX%], e.g. 咨询服务:10:1500.00:6%"), where=where,
                           field="line")
    tax_text = None
    if len(parts) >= 4 and (parts[-1].strip().endswith("%") or (_is_qty(parts[-3]) and _is_qty(parts[-1]))):
        tax_text = parts.pop()
    price_text, qty_text = parts.pop(), parts.pop()
    description = ":".join(parts).strip()
    if not description:
        raise InvalidInput(N_("{where}: the description must not be empty"), where=where, field="line")
    qty = parse_qty(qty_text, where)
    price = money.parse_amount(price_text, currency, field=Said(N_("{where}: price"), where=where))
    tax_bp = parse_tax(tax_text, where) if tax_text is not None else 0
    return Line(description, qty, price, tax_bp)


def einvoice_number(text: str) -> str:
    """数电票 number: exactly 20 digits."""
    value = (text or "").strip().replace(" ", "")
    if not _EINVOICE.match(value):
        raise InvalidInput(N_("e-invoice number {text} must be exactly 20 digits (数电票号码)"),
                           text=repr(text), field="einvoice")
    return value


def invoice_number(text: str) -> str:
    value = (text or "").strip()
    if not _NUMBER.match(value):
        raise InvalidInput(
            N_("invoice number {text} is not valid: up to 40 letters, digits, '-', '_', '.', '/' or '#', no spaces"),
            text=repr(text),
            field="number",
        )
    return value


# --- reading ---------------------------------------------------------------------------------------


def by_number(ledger, number: str) -> dict:
    found = ledger.row("SELECT * FROM invoices WHERE number=? ORDER BY id LIMIT 1", ((number or "").strip(),))
    if found is None:
        raise NotFound(N_("unknown invoice {number}"), number=repr(number))
    return found


def void_of(ledger, table: str, doc_id: str) -> dict | None:
    return ledger.row("SELECT * FROM voids WHERE doc_table=? AND doc_id=? ORDER BY date LIMIT 1", (table, doc_id))


def _next_number(ledger) -> str:
    return ledger.next_number("invoice", "invoices", "{prefix}-{n:06d}")


def _credit_check(issuing, customer: dict, currency: str, on: str, total: int) -> tuple[Said | None, bool]:
    """(message, breach): a message when this invoice takes the customer over its credit limit (breach), or
    when the limit could not be checked (no breach: a missing rate never refuses an invoice). The limit is in
    the customer's currency; what the customer owes in other currencies counts at each one's rate as of the
    invoice date (`duly rate`). `issuing` adds the invoices of its batch not yet written."""
    ledger = issuing.ledger
    limit = customer.get("credit_limit")
    if limit is None:
        return None, False
    home = customer.get("currency") or currency
    owed_in = {cur: issuing.balance(customer, cur, on) for cur in issuing.currencies_of(customer)}
    owed_in[currency] = owed_in.get(currency, 0) + total
    with_this, conv, missing, to_home = fxread.in_one_currency(ledger, home, date.fromisoformat(on), owed_in)
    left_out = Said(N_("; {currencies} not counted: no rate on or before {date} (`duly rate set CUR RATE --date D`)"),
                    currencies=", ".join(missing), date=on) if missing else ""
    if with_this <= limit:
        if missing:  # what could be counted is within the limit; what could not may not be
            return Said(N_("credit limit of {code} checked in part{left_out}"), code=customer["code"],
                        left_out=left_out), False
        return None, False
    this = to_home(total, currency) if currency not in missing else 0
    owed = with_this - this

    def amt(minor: int) -> str:
        return money.format_amount(minor, home, symbol=True)

    rates = "" if conv is None or not conv.used else Said(N_(" (at {rates})"), rates=", ".join(
        f"{cur} {fx.rate_text(r.rate)}" for cur, r in sorted(conv.used.items())))
    return Said(N_("credit limit of {code} is {limit}: balance {owed} + this invoice {amount} exceeds it by {over}"
                   "{rates}{left_out}"), code=customer["code"], limit=amt(limit), owed=amt(owed), amount=amt(this),
                over=amt(with_this - limit), rates=rates, left_out=left_out), True


def _currencies_of(ledger, customer: dict) -> set[str]:
    return {cur for (cur,) in ledger.conn.execute(
        "SELECT currency FROM invoices WHERE customer_id = :c UNION SELECT currency FROM payments WHERE customer_id = :c "
        "UNION SELECT currency FROM credit_notes WHERE customer_id = :c", {"c": customer["id"]})}


class Issuing:
    """What issuing invoices reads again and again, read once: for one invoice (`add`) or a batch of them
    (`add_many`, a bulk import), which must come out exactly as the same invoices issued one by one. It also
    remembers the invoices of the batch that are not yet written (their numbers, e-invoice numbers, and what they
    add to a customer's balance for the credit check)."""

    def __init__(self, ledger):
        self.ledger = ledger
        self._customers: dict[str, dict] = {}
        self._terms: dict[str, object] = {}
        self._contracts: dict[tuple[str, str], dict | None] = {}
        self.currency = ledger.setting("currency", "CNY")
        self.default_terms = ledger.setting("terms.default")
        self.enforce = ledger.setting("credit.enforce") or "warn"
        self.numbers: set[str] = set()  # numbers of this batch not yet written
        self.einvoices: dict[str, str] = {}  # e-invoice number -> invoice number, this batch
        self.issued: dict[tuple[str, str], list[tuple[str, int]]] = {}  # (customer id, currency) -> [(date, total)]
        # of the batch's numbers and e-invoice numbers, those the ledger already holds, read at once (add_many);
        # None: ask the ledger for each (add)
        self.numbers_taken: set[str] | None = None
        self.einvoices_taken: dict[str, str] | None = None
        self.new_id = uuid7  # a batch (add_many) takes its ids from an IdPool: made hundreds at a time

    def customer(self, code: str) -> dict:
        found = self._customers.get(code)
        if found is None:
            found = self._customers[code] = customers.by_code(self.ledger, code)
        return found

    def terms(self, name: str):
        found = self._terms.get(name)
        if found is None:
            found = self._terms[name] = termsbook.resolve(self.ledger, name)
        return found

    def contract(self, customer_id: str, number: str) -> dict | None:
        """The customer's recorded contract of that number (not archived), or None: a number Duly does not hold
        is the customer's or another system's, and stands as written."""
        key = (customer_id, number)
        if key not in self._contracts:
            self._contracts[key] = self.ledger.row(
                "SELECT number, signed, start_date, end_date, status, ended_on FROM contracts "
                "WHERE customer_id=? AND number=? AND coalesce(archived, 0) = 0", key)
        return self._contracts[key]

    def number_used(self, number: str) -> bool:
        if number in self.numbers:
            return True
        if self.numbers_taken is not None:
            return number in self.numbers_taken
        return bool(self.ledger.row("SELECT 1 AS x FROM invoices WHERE number=?", (number,)))

    def einvoice_on(self, einvoice: str) -> str | None:
        """The number of the invoice that already has this e-invoice number (in the ledger or this batch)."""
        if einvoice in self.einvoices:
            return self.einvoices[einvoice]
        if self.einvoices_taken is not None:
            return self.einvoices_taken.get(einvoice)
        return (self.ledger.row("SELECT number FROM invoices WHERE einvoice=?", (einvoice,)) or {}).get("number")

    def read_taken(self, batch: list[dict]) -> None:
        """Which of a batch's numbers and e-invoice numbers the ledger already holds, in a few queries instead of
        two per invoice (normalised as _issue does; one that is not valid is left to _issue to refuse)."""
        numbers, einvoices = set(), set()
        for row in batch:
            with contextlib.suppress(DulyError, ValueError):
                if row.get("number"):
                    numbers.add(invoice_number(row["number"]))
            with contextlib.suppress(DulyError, ValueError):
                if row.get("einvoice"):
                    einvoices.add(einvoice_number(row["einvoice"]))
        self.numbers_taken, self.einvoices_taken = set(), {}
        for column, wanted in (("number", sorted(numbers)), ("einvoice", sorted(einvoices))):
            for start in range(0, len(wanted), 400):
                chunk = wanted[start:start + 400]
                for r in self.ledger.rows(f"SELECT number, einvoice FROM invoices WHERE {column} IN "
                                          f"({','.join('?' * len(chunk))})", chunk):
                    if column == "number":
                        self.numbers_taken.add(r["number"])
                    else:
                        self.einvoices_taken.setdefault(r["einvoice"], r["number"])

    def next_number(self) -> str:
        while True:  # the series skips what is taken, in the ledger or earlier in this batch
            number = _next_number(self.ledger)
            if number not in self.numbers:
                return number

    def balance(self, customer: dict, currency: str, on: str) -> int:
        earlier = sum(total for when, total in self.issued.get((customer["id"], currency), ()) if when <= on)
        return openitems.balance(self.ledger, customer["id"], currency, on) + earlier

    def currencies_of(self, customer: dict) -> set[str]:
        return _currencies_of(self.ledger, customer) | {cur for cid, cur in self.issued if cid == customer["id"]}


def _issue(issuing: Issuing, customer_code: str, invoice_date: str, *, amount: str | None = None,
           lines: list[str | Line] | None = None, terms: str | None = None, due: str | None = None,
           number: str | None = None, currency: str | None = None, contract: str | None = None,
           einvoice: str | None = None, description: str | None = None, doc_id: str | None = None,
           check_credit: bool = True) -> tuple[Issued, list[tuple[str, dict]]]:
    """Check one invoice and make its documents: (what was issued, [(table, fields)] with the invoice first).
    `doc_id`: an id every device derives alike (a recurring occurrence); its lines and instalments get ids derived
    from it, so a second device's issue of the same document merges into one."""
    ledger = issuing.ledger
    if (amount is None) == (not lines):
        raise InvalidInput(N_("give either an amount or at least one line (DESCRIPTION:QTY:PRICE[:TAX%])"),
                           field="amount")
    on = validate.iso_date(invoice_date, "invoice date")
    customer = issuing.customer((customer_code or "").strip())
    if customer["archived"]:
        raise Conflict(N_("customer {code} is archived; restore it before invoicing"), code=repr(customer["code"]))
    cur = money.check_currency(currency or customer["currency"] or issuing.currency)
    if lines:
        parsed = [text if isinstance(text, Line) else parse_line(text, cur) for text in lines]
    else:
        total = money.parse_amount(amount, cur)
        parsed = [Line((description or "").strip() or "amount", "1", total, 0)]
    figures = [(line.amount, line.tax) for line in parsed]  # each worked out once
    total = sum(line_amount + line_tax for line_amount, line_tax in figures)
    if total > money.MAX_MINOR:
        raise InvalidInput(N_("invoice total {total} {cur} is more than a ledger holds (at most {max_minor} {cur})"),
                           total=money.to_decimal_str(total, cur), cur=cur,
                           max_minor=money.format_amount(money.MAX_MINOR, cur), field="amount")
    tax = sum(line_tax for _, line_tax in figures)
    if total <= 0:
        raise InvalidInput(N_("invoice total must be more than zero, got {total}"),
                           total=money.to_decimal_str(total, cur), field="amount")
    if due:
        due_on = validate.iso_date(due, "due date")
        if due_on < on:
            raise InvalidInput(N_("due date {due_on} is before the invoice date {on}"), due_on=due_on, on=on,
                               field="due")
        schedule, terms_name = [(due_on, total)], None
    else:
        found = issuing.terms((terms or customer["terms"] or issuing.default_terms or DEFAULT_TERMS).strip())
        schedule = [(d.isoformat(), a) for d, a in instalments(found, total, date.fromisoformat(on))]
        terms_name = found.name
    einvoice = einvoice_number(einvoice) if einvoice else None
    if einvoice:
        other = issuing.einvoice_on(einvoice)
        if other:
            raise Conflict(N_("e-invoice number {einvoice} is already on invoice {number}"), einvoice=einvoice,
                           number=other)
    if number:
        number = invoice_number(number)
        if issuing.number_used(number):
            raise Conflict(N_("invoice number {number} is already used"), number=number)
    else:
        number = issuing.next_number()
    contract = (contract or "").strip() or None
    warnings = [_contract_check(issuing, customer, contract, on)] if contract else []
    warning, breach = _credit_check(issuing, customer, cur, on, total) if check_credit else (None, False)
    if breach and issuing.enforce == "block":
        raise Conflict(N_("refused: {warning} (setting credit.enforce is 'block')"), warning=warning)
    warnings = [w for w in (*warnings, warning) if w]

    if doc_id and ledger.row("SELECT 1 AS x FROM invoices WHERE id=?", (doc_id,)):
        raise Conflict(N_("invoice {number} was already issued"), number=number)
    invoice_id = doc_id or issuing.new_id()
    docs = [("invoices", {"id": invoice_id, "number": number, "customer_id": customer["id"], "date": on,
                          "due_date": schedule[-1][0], "currency": cur, "total": total, "tax": tax,
                          "terms": terms_name, "contract": contract, "einvoice": einvoice,
                          "description": (description or "").strip() or None})]
    for pos, (line, (line_amount, line_tax)) in enumerate(zip(parsed, figures), 1):
        docs.append(("invoice_lines", {"invoice_id": invoice_id, "pos": pos, "description": line.description,
                                       "qty": line.qty, "unit_price": line.unit_price, "tax_bp": line.tax_bp,
                                       "amount": line_amount, "tax": line_tax}))
    for seq, (when, share) in enumerate(schedule, 1):
        docs.append(("due_items", {"invoice_id": invoice_id, "seq": seq, "due_date": when, "amount": share}))
    if doc_id:  # lines and instalments of a derived document get ids derived from it too
        for table, data in docs[1:]:
            data["id"] = derived_id(invoice_id, "line" if table == "invoice_lines" else "due",
                                    str(data["pos"] if table == "invoice_lines" else data["seq"]))
    issuing.numbers.add(number)
    if einvoice:
        issuing.einvoices[einvoice] = number
    issuing.issued.setdefault((customer["id"], cur), []).append((on, total))
    return Issued(invoice_id, number, cur, total, tax, schedule, warnings), docs


def _contract_check(issuing: Issuing, customer: dict, number: str, on: str) -> Said | None:
    """An invoice that names a recorded contract not in force on its date: refused when the contract was cancelled
    (it never applied) or ended early before that date (someone ended it); a warning when the date is before the
    contract starts or after its agreed end (business often runs on while a new one is signed). A number Duly does
    not hold passes as written."""
    found = issuing.contract(customer["id"], number)
    if found is None:
        return None
    state = contract_state(found, on)
    if state == "cancelled":
        raise Conflict(N_("contract {contract} of {code} was cancelled on {cancelled_on}: an invoice cannot name it"),
                       contract=number, code=customer["code"], cancelled_on=found["ended_on"])
    if state == "ended":
        raise Conflict(N_("contract {contract} of {code} was ended; its last day was {last_day}: an invoice dated "
                          "{on} cannot name it"), contract=number, code=customer["code"],
                       last_day=found["ended_on"], on=on)
    if state == "pending":
        return Said(N_("contract {contract} of {code} starts on {start}, after this invoice's date {on}"),
                    contract=number, code=customer["code"], start=found["start_date"] or found["signed"], on=on)
    if state == "expired":
        return Said(N_("contract {contract} of {code} ran until {end}, before this invoice's date {on}"),
                    contract=number, code=customer["code"], end=found["end_date"], on=on)
    return None


def add(ledger, customer_code: str, invoice_date: str, **fields) -> Issued:
    """Issue an invoice (one transaction). Give either amount or lines (text, or Line with a stated tax).
    Terms: due > terms > the customer's > setting terms.default > NET30. Raises Conflict on a breach of the credit
    limit when credit.enforce is 'block'; otherwise the breach comes back in Issued.warnings. Fields: amount,
    lines, terms, due, number, currency, contract, einvoice, description."""
    with ledger.writing() as tx:
        issued, docs = _issue(Issuing(ledger), customer_code, invoice_date, **fields)
        for table, data in docs:
            tx.event(table, data.pop("id", None), **data)
    return issued


class RowFailed(Exception):
    """A row of a batch was refused: `index` is its place in the batch, `error` the DulyError as `add` raises it."""

    def __init__(self, index: int, error: Exception):
        super().__init__(str(error))
        self.index, self.error = index, error


def add_many(ledger, batch: list[dict], issuing: Issuing | None = None) -> list[Issued]:
    """Issue a batch of invoices in the open write (a bulk import): each row is what `add` takes as keywords
    (customer_code, invoice_date, ...), checked by the same rules with the same outcome as issuing them one by one
    in order, and written with one executemany per table. A refused row raises RowFailed naming it."""
    issuing = issuing or Issuing(ledger)
    if issuing.new_id is uuid7:
        issuing.new_id = IdPool()
    new_id = issuing.new_id
    issuing.numbers.clear()
    issuing.einvoices.clear()
    issuing.issued.clear()
    issuing.read_taken(batch)
    results, by_table = [], {"invoices": [], "invoice_lines": [], "due_items": []}
    with ledger.writing() as tx:
        for index, row in enumerate(batch):
            row = dict(row)
            try:
                issued, docs = _issue(issuing, row.pop("customer_code"), row.pop("invoice_date"), **row)
            except (DulyError, ValueError) as exc:
                raise RowFailed(index, exc) from None
            results.append(issued)
            for table, data in docs:
                by_table[table].append((data.pop("id", None) or new_id(), data))
        for table, rows in by_table.items():
            tx.events(table, rows)
    return results


def applied(ledger, invoice_id: str) -> int:
    """Net of every allocation to the invoice, whatever its date."""
    row = ledger.row("SELECT coalesce(sum(amount), 0) AS n FROM allocations WHERE invoice_id=?", (invoice_id,))
    return row["n"]


def terms_for(ledger, customer: dict, given: str | None = None) -> str:
    """The terms a new invoice of the customer gets: given > the customer's > setting terms.default > NET30."""
    return (given or customer["terms"] or ledger.setting("terms.default") or DEFAULT_TERMS).strip()


def void(ledger, number: str, reason: str, on: str | None = None, *, unapply_first: bool = False) -> str:
    """Void an invoice as of a date (default today, never before the invoice date). Refused while money is
    applied to it, unless `unapply_first`: then what is applied goes back to the customer's unapplied money on
    the same date, in the same transaction. Returns the void's id."""
    reason = validate.required_text(reason, "reason")
    with ledger.writing() as tx:
        invoice = by_number(ledger, number)
        if unapply_first and applied(ledger, invoice["id"]) > 0:
            unapply(ledger, number, on)
        when = validate.iso_date(on, "void date") if on else max(date.today().isoformat(), invoice["date"])
        if when < invoice["date"]:
            raise InvalidInput(N_("void date {when} is before the invoice date {date}"), when=when,
                               date=invoice['date'], field="date")
        if (done := void_of(ledger, "invoices", invoice["id"])) is not None:
            raise Conflict(N_("invoice {number} was already voided on {date}"), number=invoice['number'],
                           date=done['date'])
        paid = applied(ledger, invoice["id"])
        if paid > 0:
            raise Conflict(
                N_("invoice {number} has {paid} of payments or credits applied; take them off first (`duly invoice "
                   "unapply {number}`)"), number=invoice['number'],
                paid=money.format_amount(paid, invoice['currency'], symbol=True)
            )
        return tx.event("voids", doc_table="invoices", doc_id=invoice["id"], date=when, reason=reason)


def unapply(ledger, number: str, on: str | None = None) -> list[dict]:
    """Take every payment and credit note off an invoice as of a date (default today, never before the last
    allocation): each net allocation is reversed by a negative one, and the money goes back to the customer's
    unapplied cash and credit. Returns what was taken off: [{source, id, number, amount}]."""
    with ledger.writing() as tx:
        invoice = by_number(ledger, number)
        nets = ledger.rows(
            """SELECT a.payment_id, a.credit_id, n.number AS credit_note, sum(a.amount) AS net, max(a.date) AS last
               FROM allocations a LEFT JOIN credit_notes n ON n.id = a.credit_id
               WHERE a.invoice_id=? GROUP BY a.payment_id, a.credit_id HAVING sum(a.amount) <> 0
               ORDER BY max(a.date), a.payment_id, a.credit_id""", (invoice["id"],))
        if not nets:
            raise Conflict(N_("invoice {number} has no payments or credits applied"), number=invoice['number'])
        latest = max(r["last"] for r in nets)
        when = validate.iso_date(on, "date") if on else max(date.today().isoformat(), latest)
        if when < latest:
            raise InvalidInput(N_("date {when} is before the last allocation to invoice {number} ({latest})"),
                               when=when, number=invoice['number'], latest=latest,
                               field="date")
        undone = []
        for r in nets:
            tx.event("allocations", invoice_id=invoice["id"], payment_id=r["payment_id"], credit_id=r["credit_id"],
                     amount=-r["net"], date=when)
            undone.append({"source": "payment" if r["payment_id"] else "credit",
                           "id": r["payment_id"] or r["credit_id"], "number": r["credit_note"], "amount": r["net"]})
    return undone


def status(open_amount: int, voided: bool, written_off: bool = False) -> str:
    if voided:
        return "voided"
    if open_amount > 0:
        return "open"
    return "written_off" if written_off else "paid"


def listing(ledger, *, customer_code: str | None = None, open_only: bool = False, overdue_only: bool = False,
            as_of: str | None = None, limit: int | None = None) -> list[dict]:
    """Invoices newest first with their open amount as of a date (without one: counting every document,
    overdue against today). Dated after as_of means not listed."""
    d = validate.iso_date(as_of, "as-of date") if as_of else openitems.END
    today = d if as_of else date.today().isoformat()
    where, params = ["i.date <= :d"], {"d": d, "today": today}
    if customer_code:
        where.append("i.customer_id = :c")
        params["c"] = customers.by_code(ledger, customer_code)["id"]
    sql = f"""SELECT * FROM (
        SELECT o.*, c.code AS customer, i.due_date,
          EXISTS (SELECT 1 FROM voids v WHERE v.doc_id = i.id AND v.doc_table='invoices' AND v.date <= :d) AS voided,
          EXISTS (SELECT 1 FROM writeoffs w WHERE w.invoice_id = i.id AND w.date <= :d) AS written_off
        FROM ({openitems.OPEN_SQL} WHERE {' AND '.join(where)}) o
        JOIN invoices i ON i.id = o.id LEFT JOIN customers c ON c.id = i.customer_id) x
      WHERE 1=1"""
    if open_only or overdue_only:
        sql += " AND x.open > 0"
    sql += " ORDER BY x.date DESC, x.number DESC"
    rows = ledger.rows(sql, params)
    if overdue_only:
        found = openitems.schedules(ledger, [r["id"] for r in rows])
        late = {item.invoice_id for r in rows
                for item in open_items(OpenInvoice(r["id"], r["number"], "", r["currency"], date.fromisoformat(r["date"]),
                                                   date.fromisoformat(r["due_date"]), r["total"], r["open"]),
                                       found.get(r["id"]))
                if item.due_date.isoformat() < today}
        rows = [r for r in rows if r["id"] in late]
    if limit:
        rows = rows[: int(limit)]
    for r in rows:
        r["status"] = status(r["open"], bool(r["voided"]), bool(r["written_off"]))
    return rows


def detail(ledger, number: str, as_of: str | None = None) -> dict:
    """One invoice with its lines, instalments (open per instalment), allocations, credit notes,
    write-offs and void, as of a date (default: counting every document)."""
    invoice = by_number(ledger, number)
    d = validate.iso_date(as_of, "as-of date") if as_of else openitems.END
    customer = ledger.row("SELECT code, name FROM customers WHERE id=?", (invoice["customer_id"],)) or {}
    open_now = openitems.invoice_open(ledger, invoice["id"], d)
    voided = void_of(ledger, "invoices", invoice["id"])
    schedule = [(date.fromisoformat(r["due_date"]), r["amount"]) for r in
                ledger.rows("SELECT due_date, amount FROM due_items WHERE invoice_id=? ORDER BY seq", (invoice["id"],))]
    written_off = ledger.row("SELECT 1 AS w FROM writeoffs WHERE invoice_id=? AND date<=?", (invoice["id"], d))
    remaining = spread_over_instalments(max(invoice["total"] - open_now, 0), schedule)
    due_rows = [{"seq": i, "due_date": when.isoformat(), "amount": amount, "open": left}
                for i, ((when, amount), (_, left)) in enumerate(zip(schedule, remaining), 1)]
    return {
        "invoice": {**invoice, "customer": customer.get("code"), "customer_name": customer.get("name"),
                    "open": open_now,
                    "status": status(open_now, bool(voided and voided["date"] <= d), bool(written_off))},
        "lines": ledger.rows("SELECT pos, description, qty, unit_price, tax_bp, amount, tax FROM invoice_lines "
                             "WHERE invoice_id=? ORDER BY pos", (invoice["id"],)),
        "due_items": due_rows,
        "allocations": ledger.rows(
            """SELECT a.id, a.date, a.amount, a.payment_id, p.number AS payment, n.number AS credit_note,
                      CASE WHEN a.payment_id IS NOT NULL THEN 'payment' ELSE 'credit' END AS source
               FROM allocations a LEFT JOIN credit_notes n ON n.id = a.credit_id
                 LEFT JOIN payments p ON p.id = a.payment_id
               WHERE a.invoice_id=? ORDER BY a.date, a.id""", (invoice["id"],)),
        "credit_notes": ledger.rows("SELECT id, number, date, amount, reason FROM credit_notes WHERE invoice_id=? "
                                    "ORDER BY date, number", (invoice["id"],)),
        "writeoffs": ledger.rows("SELECT id, number, date, amount, reason FROM writeoffs WHERE invoice_id=? "
                                 "ORDER BY date, id", (invoice["id"],)),
        "void": voided,
        # the recurring schedule and occurrence that issued it (directly or through a draft), if one did
        "recurring": ledger.row(
            """SELECT s.number AS schedule, r.occurrence
               FROM recurring_issues r JOIN recurring s ON s.id = r.schedule_id
               WHERE r.invoice_id = :i OR r.draft_id IN (SELECT draft_id FROM draft_issues WHERE invoice_id = :i)
               ORDER BY r.occurrence LIMIT 1""", {"i": invoice["id"]}),
        # a debit note (借项通知单): what it is, and the credit note it reverses
        "debit_note": ledger.row("SELECT d.reason, n.number AS reverses FROM debit_notes d "
                                 "LEFT JOIN credit_notes n ON n.id = d.credit_id WHERE d.id = ?", (invoice["id"],)),
    }
