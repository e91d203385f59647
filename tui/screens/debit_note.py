"""The debit note form (借项通知单): amount, reason, date and the invoice it is charged on, posted through
store.write.debit_notes (what `duly debit add` runs). Opened from an invoice (the invoice filled in) or from a
customer (the invoice optional: a charge on the account)."""
from __future__ import annotations

from store.rules import money, validate
from store.errors import InvalidInput
from store.rules.money import format_amount
from store.write import debit_notes
from store.i18n import N_
from tui.screens.dialog_form import DialogForm, Field


def post_debit_note(ledger, customer: str, on: str, amount: str, reason: str, invoice: str | None,
                    currency: str | None, t) -> str:
    """Post it (on the database thread) and return the line the screen shows."""
    note = debit_notes.add(ledger, customer, on, reason, amount=amount, invoice=invoice,
                           currency=None if invoice else currency)
    text = t("debit.done", number=note.number, amount=format_amount(note.amount, note.currency),
             currency=note.currency)
    return "\n".join([text, *map(t.error, note.warnings)])


def debit_note_form(screen, customer: str, currency: str | None, on: str, invoice: str | None = None) -> DialogForm:
    """The form, for `screen` (a DulyScreen) to push; its save posts the debit note. currency None: the
    customer's has none set (the ledger's is used; CNY's decimals are checked before)."""
    t, shown = screen.t, currency or "CNY"

    def amount_check(text: str) -> None:
        if money.parse_amount(text, shown) <= 0:
            raise InvalidInput(N_("debit note amount must be more than zero"), field="amount")

    def date_check(text: str) -> None:
        validate.iso_date(text, "date")

    fields = [
        Field("amount", t("invd.f.amount", currency=shown), required=True, check=amount_check),
        Field("reason", t("invd.f.reason"), required=True),
        Field("date", t("col.date"), on, required=True, check=date_check),
        Field("invoice", t("debit.f.invoice"), invoice or "", placeholder=t("debit.f.invoice_hint")),
    ]

    async def save(v: dict) -> str:
        return await screen.db(post_debit_note, customer, v["date"], v["amount"], v["reason"], v["invoice"] or None,
                               currency, t)

    title = t("debit.title_invoice", number=invoice) if invoice else t("debit.title_customer", code=customer)
    return DialogForm(title, fields, save, hint=t("debit.hint"))
