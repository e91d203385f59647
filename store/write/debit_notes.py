"""Debit notes (借项通知单 DN-…): a document that raises what a customer owes, for a fee or to reverse a credit note
(a posted credit note is never edited or deleted; a debit note undoes its effect).

A debit note is posted as an invoice row (number DN-…, due on its date unless given) plus a `debit_notes` row of
the same id saying what it is: so it is open in aging, on statements, in exports, can be paid like any invoice,
and is itself reversed by a credit note against it. Reversing a credit note applies whatever of that credit is
still unapplied to the debit note at once, so an unused credit and its reversal close each other; what the
credit already paid stays paid, and the debit note is owed again. A credit note is reversed at most once.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from store.errors import Conflict, InvalidInput, NotFound
from store.ledger import schema
from store.read import open as openitems
from store.rules import money, validate
from store.write import customers, invoices
from store.i18n import N_


@dataclass
class DebitNote:
    id: str
    number: str
    currency: str
    amount: int
    reverses: str | None  # the credit note's number
    applied_credit: int  # of the reversed credit's unapplied part, applied to this debit note
    warnings: list[str] = field(default_factory=list)


def _credit(ledger, number: str) -> dict:
    found = ledger.row("SELECT * FROM credit_notes WHERE number=? ORDER BY id LIMIT 1", ((number or "").strip(),))
    if found is None:
        raise NotFound(N_("unknown credit note {number}: see `duly credit list`"), number=repr(number))
    return found


def _invoice(ledger, number: str) -> dict:
    """The invoice a debit note is charged on: it exists and is not void."""
    found = ledger.row("SELECT * FROM invoices WHERE number=? ORDER BY id LIMIT 1", (number.strip(),))
    if found is None:
        raise NotFound(N_("unknown invoice {number}"), number=repr(number))
    if ledger.row("SELECT 1 AS x FROM voids WHERE doc_table='invoices' AND doc_id=?", (found["id"],)):
        raise Conflict(N_("invoice {number} is void: a debit note cannot be charged on it"), number=found["number"])
    return found


def add(ledger, customer_code: str | None, on: str, reason: str, *, amount: str | None = None,
        reverses: str | None = None, due: str | None = None, currency: str | None = None,
        doc_id: str | None = None, number: str | None = None, check_credit: bool = True,
        invoice: str | None = None) -> DebitNote:
    """Post a debit note (one transaction). With `reverses` (a credit note number) the customer, currency and
    amount (default: all of the credit note) come from it. With `invoice` (the number of the invoice it is
    charged on: a fee for that invoice) the customer and currency come from that invoice, and the reason says
    which invoice it is ("returned-cheque fee (T1-000003)"). `doc_id` and `number`: what every device derives
    alike for the same charge (a reminder's fee), so two devices posting it offline post one document.
    check_credit=False: a charge the customer already owes by agreement is not held to the credit limit."""
    when = validate.iso_date(on, "debit note date")
    reason = validate.required_text(reason, "reason")
    if amount is None and not reverses:
        raise InvalidInput(N_("give the amount of the debit note (or --reverses CN-… to reverse a credit note)"),
                           field="amount")
    with ledger.writing() as tx:
        credit = _credit(ledger, reverses) if reverses else None
        if credit:
            code = ledger.row("SELECT code FROM customers WHERE id=?", (credit["customer_id"],))["code"]
            if customer_code and customer_code.strip() != code:
                raise Conflict(N_("credit note {number} belongs to customer {code}, not {customer_code}"),
                               number=credit['number'], code=code, customer_code=customer_code)
            if currency and money.check_currency(currency) != credit["currency"]:
                raise Conflict(N_("credit note {number} is in {currency}, not {currency2}"), number=credit['number'],
                               currency=credit['currency'], currency2=currency)
            if when < credit["date"]:
                raise InvalidInput(N_("debit note date {when} is before credit note {number}'s date {date}"),
                                   when=when, number=credit['number'], date=credit['date'], field="date")
            done = ledger.row("SELECT i.number FROM debit_notes d JOIN invoices i ON i.id = d.invoice_id "
                              "WHERE d.credit_id=? AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.doc_id = i.id "
                              "AND v.doc_table = 'invoices')", (credit["id"],))
            if done:
                raise Conflict(N_("credit note {number} was already reversed by debit note {number2}"),
                               number=credit['number'], number2=done['number'])
            customer_code, cur = code, credit["currency"]
        elif (invoice or "").strip():
            on_invoice = _invoice(ledger, invoice)
            code = ledger.row("SELECT code FROM customers WHERE id=?", (on_invoice["customer_id"],))["code"]
            if customer_code and customer_code.strip() != code:
                raise Conflict(N_("invoice {number} belongs to customer {code}, not {customer_code}"),
                               number=on_invoice["number"], code=code, customer_code=customer_code)
            if currency and money.check_currency(currency) != on_invoice["currency"]:
                raise Conflict(N_("invoice {number} is in {currency}, not {currency2}"), number=on_invoice["number"],
                               currency=on_invoice["currency"], currency2=currency)
            customer_code, cur = code, on_invoice["currency"]
            reason = f"{reason} ({on_invoice['number']})"
        else:
            if not (customer_code or "").strip():
                raise InvalidInput(N_("give the customer (--customer CODE) or the credit note it reverses"),
                                   field="customer")
            customer = customers.by_code(ledger, customer_code.strip())
            cur = money.check_currency(currency or customer["currency"] or ledger.setting("currency", "CNY"))
        minor = money.parse_amount(amount, cur) if amount is not None else credit["amount"]
        if minor <= 0:
            raise InvalidInput(N_("debit note amount must be more than zero"), field="amount")
        if credit and minor > credit["amount"]:
            raise InvalidInput(N_("a reversal of credit note {number} is at most its amount {amount}"),
                               number=credit['number'],
                               amount=money.format_amount(credit['amount'], cur, symbol=True), field="amount")
        number = number or ledger.next_number("debit", "invoices", schema.NUMBER_TEMPLATES["debit_notes"])
        posted = invoices.add(ledger, customer_code, when, amount=money.to_decimal_str(minor, cur), due=due or when,
                              number=number, currency=cur, description=reason, doc_id=doc_id,
                              check_credit=check_credit)
        tx.event("debit_notes", posted.id, invoice_id=posted.id, credit_id=credit and credit["id"], reason=reason)
        applied = 0
        if credit:
            used = ledger.row("SELECT coalesce(sum(amount), 0) AS n FROM allocations WHERE credit_id=?",
                              (credit["id"],))["n"]
            applied = min(minor, credit["amount"] - used)
            if applied > 0:
                tx.event("allocations", invoice_id=posted.id, credit_id=credit["id"], amount=applied, date=when)
    return DebitNote(posted.id, number, cur, minor, credit and credit["number"], max(applied, 0), posted.warnings)


def listing(ledger, *, customer_code: str | None = None) -> list[dict]:
    """Debit notes newest first, with what each reverses and what is still open of it (store.read.open's
    formula, as of every posted document)."""
    where, params = "1=1", {"d": openitems.END}
    if customer_code:
        where, params["c"] = "i.customer_id = :c", customers.by_code(ledger, customer_code)["id"]
    return ledger.rows(
        f"""SELECT i.number, c.code AS customer, i.date, i.due_date, i.currency, i.total AS amount,
                   n.number AS reverses, d.reason,
                   CASE WHEN {openitems.INVOICE_VOIDED} THEN 0 ELSE {openitems.INVOICE_OPEN} END AS open
            FROM debit_notes d JOIN invoices i ON i.id = d.invoice_id
              LEFT JOIN customers c ON c.id = i.customer_id LEFT JOIN credit_notes n ON n.id = d.credit_id
            WHERE {where} ORDER BY i.date DESC, i.number DESC""", params)
