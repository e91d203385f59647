"""Applying money to invoices (核销): oldest due first, never more than is open or than was paid."""
from __future__ import annotations

from datetime import date

from store.rules import money
from store.errors import Conflict, InvalidInput, NotFound
from store.i18n import N_


def auto_allocate(amount: int, dues: list) -> list[tuple[str, int]]:
    """(invoice id, amount) pairs for amount applied to open items (store.rules.openitems.OpenItem) oldest due
    first (ties by number), one pair per invoice."""
    if amount < 0:
        raise InvalidInput(N_("an amount to allocate must not be negative"), field="amount")
    left = amount
    applied: dict[str, int] = {}
    for due in sorted(dues, key=lambda d: (d.due_date, d.number)):
        if left <= 0:
            break
        take = min(due.open_amount, left)
        if take <= 0:
            continue
        applied[due.invoice_id] = applied.get(due.invoice_id, 0) + take
        left -= take
    return list(applied.items())


def check_allocations(
    payment_amount: int,
    requested: dict[str, int],
    open_by_invoice: dict[str, int],
    numbers: dict[str, str],
    currency: str = "CNY",
) -> None:
    """Raise Conflict when an allocation is not positive, exceeds its invoice's open amount, or the total
    exceeds the payment; NotFound when an invoice has no open amount known at all."""

    def amt(minor: int) -> str:
        return f"{money.to_decimal_str(minor, currency)} {currency}"

    for invoice, amount in sorted(requested.items(), key=lambda kv: numbers.get(kv[0], kv[0])):
        number = numbers.get(invoice, invoice)
        if amount <= 0:
            raise Conflict(N_("allocation to invoice {number} must be more than zero, got {amount}"), number=number,
                           amount=amt(amount))
        if invoice not in open_by_invoice:
            raise NotFound(N_("invoice {number} is not open for this customer"), number=number)
        if amount > open_by_invoice[invoice]:
            raise Conflict(
                N_("allocation to invoice {number} is {amount}, more than its open amount {value}"), number=number,
                amount=amt(amount), value=amt(open_by_invoice[invoice])
            )
    total = sum(requested.values())
    if total > payment_amount:
        raise Conflict(N_("allocations total {total}, more than the payment of {payment_amount}"), total=amt(total),
                       payment_amount=amt(payment_amount))


def spread_over_instalments(paid: int, instalments: list[tuple[date, int]]) -> list[tuple[date, int]]:
    """What remains open of each instalment, earliest due first, after paid is applied earliest-due first.

    Every instalment is returned (fully paid ones with 0), so the result lines up with the schedule;
    anything paid beyond the whole schedule is not this function's concern (it is unapplied).
    """
    if paid < 0:
        raise InvalidInput(N_("a paid amount must not be negative"), field="amount")
    left = paid
    remaining = []
    for when, amount in sorted(instalments, key=lambda item: item[0]):
        take = min(max(amount, 0), left)
        left -= take
        remaining.append((when, amount - take))
    return remaining
