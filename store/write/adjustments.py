"""Credit notes (红字/贷项通知) and write-offs (坏账核销): the other ways an invoice's open amount goes down."""
from __future__ import annotations

from store.read import open as openitems
from store.rules import money, validate
from store.write import customers, invoices
from store.ledger import schema
from store.errors import Conflict, InvalidInput
from store.ledger.ids import uuid7
from store.write.payments import Applied
from store.i18n import N_


def _credit_number(ledger) -> str:
    return ledger.next_number("credit", "credit_notes", schema.NUMBER_TEMPLATES["credit_notes"])


def _allocatable(ledger, invoice: dict, on: str) -> int:
    """What of an invoice may still be reduced by a document dated `on` (open then, and counting later ones)."""
    return max(0, min(openitems.invoice_open(ledger, invoice["id"], on),
                      openitems.invoice_open(ledger, invoice["id"], openitems.END)))


def add_credit(ledger, customer_code: str, credit_date: str, amount: str, reason: str, *,
               invoice_number: str | None = None, currency: str | None = None) -> Applied:
    """Issue a credit note; against an invoice it is applied to that invoice up to its open amount and the
    rest stays unapplied credit. One transaction."""
    on = validate.iso_date(credit_date, "credit note date")
    reason = validate.required_text(reason, "reason")
    with ledger.writing() as tx:
        customer = customers.by_code(ledger, (customer_code or "").strip())
        invoice = invoices.by_number(ledger, invoice_number) if invoice_number else None
        if invoice and invoice["customer_id"] != customer["id"]:
            raise Conflict(N_("invoice {number} belongs to another customer, not {code}"), number=invoice['number'],
                           code=customer['code'])
        cur = money.check_currency(currency or (invoice and invoice["currency"]) or customer["currency"]
                                   or ledger.setting("currency", "CNY"))
        if invoice and invoice["currency"] != cur:
            raise Conflict(N_("invoice {number} is in {currency}, the credit note in {cur}"),
                           number=invoice['number'], currency=invoice['currency'], cur=cur)
        minor = money.parse_amount(amount, cur)
        if minor <= 0:
            raise InvalidInput(N_("credit note amount must be more than zero"), field="amount")
        applied = 0
        if invoice:
            if invoice["date"] > on:
                raise InvalidInput(N_("credit note date {on} is before invoice {number}'s date {date}"),
                                   on=on, number=invoice['number'], date=invoice['date'], field="date")
            if invoices.void_of(ledger, "invoices", invoice["id"]):
                raise Conflict(N_("invoice {number} is voided; a credit note against it makes no sense"),
                               number=invoice['number'])
            applied = min(minor, _allocatable(ledger, invoice, on))
        number = _credit_number(ledger)
        credit_id = uuid7()
        tx.event("credit_notes", credit_id, number=number, customer_id=customer["id"], date=on, amount=minor,
                 currency=cur, invoice_id=invoice and invoice["id"], reason=reason)
        if applied:
            tx.event("allocations", invoice_id=invoice["id"], credit_id=credit_id, amount=applied, date=on)
    return Applied(credit_id, minor, cur, [(invoice["number"], applied)] if applied else [], minor - applied, number,
                   "credit note")


def write_off(ledger, number: str, on: str, reason: str, amount: str | None = None) -> tuple[str, int, str]:
    """Write off part or (by default) all of what an invoice has open on a date. Returns (id, amount, currency);
    the write-off's own number (WO-…) is `writeoff_number(ledger, id)`."""
    when = validate.iso_date(on, "write-off date")
    reason = validate.required_text(reason, "reason")
    with ledger.writing() as tx:
        invoice = invoices.by_number(ledger, number)
        cur = invoice["currency"]
        left = _allocatable(ledger, invoice, when)
        if left <= 0:
            raise Conflict(N_("invoice {number} has nothing open on {when} to write off"), number=invoice['number'],
                           when=when)
        minor = left if amount is None else money.parse_amount(amount, cur)
        if minor <= 0:
            raise InvalidInput(N_("write-off amount must be more than zero"), field="amount")
        if minor > left:
            raise Conflict(N_("write-off of {minor} is more than invoice {number}'s open amount {left}"),
                           minor=money.format_amount(minor, cur, symbol=True), number=invoice['number'],
                           left=money.format_amount(left, cur, symbol=True))
        row_id = tx.event("writeoffs", invoice_id=invoice["id"], date=when, amount=minor, reason=reason,
                          number=ledger.next_number("writeoff", "writeoffs", schema.NUMBER_TEMPLATES["writeoffs"]))
    return row_id, minor, cur


def writeoff_number(ledger, writeoff_id: str) -> str | None:
    row = ledger.row("SELECT number FROM writeoffs WHERE id=?", (writeoff_id,))
    return row and row["number"]


def credit_listing(ledger, *, customer_code: str | None = None) -> list[dict]:
    """Credit notes newest first with what each has applied."""
    where, params = "1=1", []
    if customer_code:
        where, params = "n.customer_id=?", [customers.by_code(ledger, customer_code)["id"]]
    rows = ledger.rows(
        f"""SELECT n.id, n.number, c.code AS customer, n.date, n.currency, n.amount, i.number AS invoice, n.reason,
              coalesce((SELECT sum(a.amount) FROM allocations a WHERE a.credit_id=n.id), 0) AS applied
            FROM credit_notes n LEFT JOIN customers c ON c.id=n.customer_id LEFT JOIN invoices i ON i.id=n.invoice_id
            WHERE {where} ORDER BY n.date DESC, n.number DESC""", params)
    for r in rows:
        r["unapplied"] = r["amount"] - r["applied"]
    return rows
