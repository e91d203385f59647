"""What is open, as plain values: THE open invoice, THE open item (one instalment with something open), unapplied
money, and the one rule that spreads an invoice's open amount over its instalments.

store.read.open computes the open amounts as of a date from the ledger; everything else (aging, allocation,
dunning, matching, statements, the app) takes these types from there.
"""
from __future__ import annotations

from datetime import date
from typing import NamedTuple

from store.rules.allocation import spread_over_instalments


class OpenInvoice(NamedTuple):
    """An invoice with something open (or, after a sync conflict, over-applied: negative) as of a date. These
    three types are named tuples, not frozen dataclasses: the open position of a 200k-invoice book makes some
    50,000 of them each time it is worked out (the dashboard's first figures wait for it), and a named tuple is
    made five times faster."""

    id: str
    number: str
    customer_id: str
    currency: str
    doc_date: date
    due_date: date
    total: int
    open_amount: int
    customer: str = ""  # the customer's code
    name: str = ""  # the customer's name
    einvoice: str = ""


class OpenItem(NamedTuple):
    """One instalment of an invoice with something open as of a date: what aging buckets, allocation fills
    and dunning asks for."""

    invoice_id: str
    number: str
    currency: str
    doc_date: date
    due_date: date
    open_amount: int
    customer: str = ""  # the customer's code
    name: str = ""


class Unapplied(NamedTuple):
    """Cash and credit of a customer in one currency not yet applied to invoices (a positive amount)."""

    customer: str
    name: str
    currency: str
    amount: int


OVER_ALLOCATED = "(over-allocated)"  # the number of the item that shows money applied beyond what was paid


def open_items(invoice: OpenInvoice, schedule: list[tuple[date, int]] | None) -> list[OpenItem]:
    """The invoice's open amount spread over its instalments, earliest due first (what was paid, total - open,
    pays the earliest instalments first). One item at the invoice's due date when there is no schedule of
    several instalments, when the schedule does not add up to the total, or when the invoice is over-applied."""

    def item(due: date, amount: int) -> OpenItem:
        return OpenItem(invoice.id, invoice.number, invoice.currency, invoice.doc_date, due, amount,
                        invoice.customer, invoice.name)

    paid = invoice.total - invoice.open_amount
    if (not schedule or len(schedule) == 1 or paid < 0 or invoice.open_amount < 0
            or sum(amount for _, amount in schedule) != invoice.total):
        return [item(invoice.due_date, invoice.open_amount)]
    return [item(due, left) for due, left in spread_over_instalments(paid, schedule) if left]


def by_invoice_date(invoice: OpenInvoice) -> OpenItem:
    """The whole invoice as one item (aging by invoice date: its instalments do not matter)."""
    return OpenItem(invoice.id, invoice.number, invoice.currency, invoice.doc_date, invoice.due_date,
                    invoice.open_amount, invoice.customer, invoice.name)
