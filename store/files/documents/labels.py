"""People's words for the codes a document shows (payment methods, kinds of line, aging buckets) and the words of
the statement's plain layouts (terminal, Markdown), in the customer's language, from the one message catalogue
(store/i18n.py; how to add a string: tui/app/i18n.py's docstring).

A document never shows a code: a payment method the catalogue does not know is 'other'."""
from __future__ import annotations

import re

from store.i18n import N_, translate

METHODS = {
    "bank_transfer": N_("method.bank_transfer"), "cash": N_("method.cash"), "card": N_("method.card"),
    "alipay": N_("method.alipay"), "wechat": N_("method.wechat"), "other": N_("method.other"),
}
LINE_KINDS = {
    "invoice": N_("doc.kind.invoice"), "debit_note": N_("doc.kind.debit_note"),
    "credit_note": N_("doc.kind.credit_note"), "payment": N_("doc.kind.payment"),
    "writeoff": N_("doc.kind.writeoff"), "void": N_("doc.kind.void"),
}
AGING = {"not_due": N_("bucket.not_due"), "unapplied": N_("bucket.unapplied")}
WORDS = {
    "invoiced_amount": N_("doc.invoiced_amount"),
    "page": N_("doc.page"),  # "Page {page} of {pages}"
}
# The statement laid out for a terminal or in Markdown (the HTML and PDF say what their templates say).
STATEMENT_WORDS = {
    "title": N_("doc.stmt.title"), "outstanding": N_("doc.stmt.outstanding"), "period": N_("doc.stmt.period"),
    "currency": N_("doc.stmt.currency"), "number": N_("doc.stmt.number"), "date": N_("doc.stmt.date"),
    "due_date": N_("doc.stmt.due_date"), "days_overdue": N_("doc.stmt.days_overdue"), "amount": N_("doc.stmt.amount"),
    "kind": N_("doc.stmt.kind"), "doc": N_("doc.stmt.doc"), "text": N_("doc.stmt.text"),
    "debit": N_("doc.stmt.debit"), "credit": N_("doc.stmt.credit"), "balance": N_("doc.stmt.balance"),
    "opening": N_("doc.stmt.opening"), "closing": N_("doc.stmt.closing"), "unapplied": N_("doc.stmt.unapplied"),
    "aging": N_("doc.stmt.aging"), "nothing": N_("doc.stmt.nothing"),
}


def _capital(text: str, lang: str) -> str:
    """A cell of its own starts with a capital in English ('bank transfer' -> 'Bank transfer')."""
    return text[:1].upper() + text[1:] if lang == "en" else text


def method(code: str | None, lang: str) -> str:
    """A payment method in words ('bank_transfer' -> 银行转账 / Bank transfer); an unknown one as 'other'."""
    return _capital(translate(lang, METHODS.get((code or "").strip().lower(), METHODS["other"])), lang)


def line_kind(kind: str, lang: str) -> str:
    return translate(lang, LINE_KINDS[kind])


def aging_bucket(label: str, lang: str) -> str:
    """'not_due' -> 未到期, '31-60' -> 31–60 天 / 31–60 days, '120+' -> 120 天以上 / Over 120 days."""
    if label in AGING:
        return translate(lang, AGING[label])
    if m := re.fullmatch(r"(\d+)-(\d+)", label):
        return translate(lang, N_("doc.bucket.days"), low=m[1], high=m[2])
    if m := re.fullmatch(r"(\d+)\+", label):
        return translate(lang, N_("doc.bucket.over"), days=m[1])
    return label


def word(key: str, lang: str, **kw) -> str:
    """A word or phrase; without kw a phrase's {fields} are left for the caller to fill."""
    return translate(lang, WORDS[key], **kw)


def statement_words(lang: str) -> dict[str, str]:
    """The statement's words in a language, {placeholders} left in."""
    return {key: translate(lang, msgid) for key, msgid in STATEMENT_WORDS.items()}
