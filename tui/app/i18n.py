"""The words a person reads, in 简体中文 and English, and how the language is chosen.

The words live in one gettext catalogue (store/i18n.py reads it; it sits under store/ because errors and documents
made in the store use it too):

    store/locale/en/LC_MESSAGES/duly.po   English
    store/locale/zh/LC_MESSAGES/duly.po   简体中文
    store/locale/<lang>/LC_MESSAGES/duly.mo   compiled from the .po; committed and shipped in the wheel

How to add a string:
1. In code, write `t("area.what", name=value)` in the app (`self.t` / `self.app.t`), or mark an id made elsewhere
   with `N_("area.what")` (store.i18n.N_). Placeholders are named, `{name}`, in str.format style.
   An id built from data (f"status.{value}", binding ids as "key.<binding id>") must also be listed in
   `BUILT_FROM_DATA` below, so the extractor sees it.
2. Add the id to BOTH .po files, with its English and its Chinese words:
       msgid "area.what"
       msgstr "Words with {name}"
3. Compile:  ./dev i18n      (runs `pybabel compile -d store/locale -D duly`; `./dev i18n extract` writes
   store/locale/duly.pot from the code with `pybabel extract -F babel.cfg`, to see what is new or gone)
4. Check:    .venv/bin/python -m pytest tests/test_i18n.py -q
   It fails when a .mo is older than its .po, when an id is missing from a language or not used by the code,
   or when a placeholder differs between the languages.

A third language is one more folder store/locale/<lang>/ (copy the zh .po, translate the msgstr lines) and its
code in store.i18n.LANGUAGES; no other code changes.
"""
from __future__ import annotations

import os
from collections.abc import Mapping

from store.i18n import LANGUAGES, N_, known, translate

__all__ = ["LANGUAGES", "BUILT_FROM_DATA", "Strings", "choose_language", "normalise"]

# Ids the code builds from data (binding ids, enum values, screen names): listed here so that the extractor
# (pybabel extract) and tests/test_i18n.py see them used. Add one when you write t(f"prefix.{value}").
BUILT_FROM_DATA = (
    N_("key.quit"), N_("key.help"), N_("key.dashboard"), N_("key.customers"), N_("key.aging"), N_("key.new_customer"),
    N_("key.open"), N_("key.search"), N_("key.back"), N_("key.edit"), N_("key.save"), N_("key.cancel"),
    N_("key.basis"), N_("key.as_of"), N_("key.refresh"), N_("key.unlock"), N_("key.invoices"), N_("key.payments"),
    N_("key.reports"), N_("key.invoice_filter"), N_("key.invoice_search"), N_("key.payment_search"),
    N_("key.new_invoice"), N_("key.void_invoice"), N_("key.record_payment"), N_("key.suggest"),
    N_("key.clear_allocations"), N_("key.apply_credit"), N_("key.cancel_prompt"), N_("key.collections"),
    N_("key.reconcile"), N_("key.rec_accept"), N_("key.rec_reject"), N_("key.sync"), N_("key.sync_now"),
    N_("key.sync_resolve"),
    N_("dash.title"),
    N_("cust.title"),
    N_("col.field"), N_("col.old"), N_("col.new"), N_("col.when"), N_("col.who"), N_("col.role"), N_("col.phone"),
    N_("col.email"), N_("col.wechat"), N_("col.unit_price"), N_("col.tax"), N_("col.applied"),
    N_("arch.none"),
    N_("field.code"), N_("field.name"), N_("field.legal_name"), N_("field.tax_id"), N_("field.address"),
    N_("field.email"), N_("field.phone"), N_("field.currency"), N_("field.terms"), N_("field.credit_limit"),
    N_("field.category"), N_("field.settlement_cycle"), N_("field.language"), N_("field.tags"), N_("field.notes"),
    N_("field.archived"),
    N_("aging.title"), N_("aging.basis.due"), N_("aging.basis.invoice"), N_("aging.bad_date"),
    N_("bucket.not_due"), N_("bucket.unapplied"),
    N_("inv.show.open"), N_("inv.show.overdue"), N_("inv.show.all"),
    N_("status.open"), N_("status.paid"), N_("status.voided"), N_("status.written_off"), N_("status.applied"),
    N_("status.unapplied"),
    N_("method.bank_transfer"), N_("method.cash"), N_("method.card"), N_("method.alipay"), N_("method.wechat"),
    N_("method.other"),
    N_("invf.customer"), N_("invf.date"), N_("invf.amount"), N_("invf.amount.hint"), N_("invf.terms"),
    N_("invf.terms.hint"), N_("invf.description"),
    N_("payf.customer"), N_("payf.date"), N_("payf.amount"), N_("payf.method"), N_("payf.reference"),
    N_("rep.summary"), N_("rep.forecast"),
    N_("coll.plan"), N_("coll.follow"), N_("coll.promises"), N_("coll.disputes"), N_("coll.alerts"),
    N_("channel.email"), N_("channel.phone"), N_("channel.letter"), N_("channel.wechat"), N_("channel.legal"),
    N_("channel.visit"), N_("channel.other"),
    N_("promise.pending"), N_("promise.kept"), N_("promise.broken"),
    N_("alert.overdue"), N_("alert.limit"), N_("alert.trend"), N_("alert.promise"), N_("alert.no_payment"),
    N_("alert.concentration"),
    N_("error.worker"),
    N_("sync.role.admin"), N_("sync.role.member"), N_("sync.role.viewer"), N_("sync.kind.duplicate_payment"),
    N_("sync.kind.over_allocated_invoice"), N_("sync.kind.over_allocated_payment"),
    N_("sync.kind.over_allocated_credit_note"), N_("sync.kind.setting_by_non_admin"),
    N_("sync.kind.draft_issued_twice"), N_("sync.kind.draft_edited_after_issue"),
)


def normalise(value: str | None) -> str | None:
    """'zh_CN.UTF-8', 'zh-cn', '中文' -> 'zh'; 'en_US' -> 'en'; anything else -> None."""
    text = (value or "").strip().lower()
    if not text:
        return None
    if text.startswith("zh") or text == "中文":
        return "zh"
    if text.startswith("en") or text in ("c", "posix", "english"):
        return "en"
    return None


def choose_language(setting: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """DULY_LANG wins (one session, one terminal); then the ledger's `language` setting; then the locale."""
    env = os.environ if env is None else env
    for candidate in (env.get("DULY_LANG"), setting):
        found = normalise(candidate)
        if found:
            return found
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(var):
            return "zh" if env[var].lower().startswith("zh") else "en"
    return "en"


class Strings:
    """t('key', **values): the text for a key in one language, English when a translation is missing."""

    def __init__(self, language: str = "en"):
        self.language = language if language in LANGUAGES else "en"

    def __call__(self, key: str, **values) -> str:
        return translate(self.language, key, **values)

    def has(self, key: str) -> bool:
        """Whether the catalogue has words for key (for ids built from data: f"sync.kind.{kind}")."""
        return known(key)

    @property
    def _catalogue(self) -> _Known:
        """`key in t._catalogue`, as screens wrote it when the words were a dict; new code: t.has(key)."""
        return _Known()

    def bucket(self, label: str) -> str:
        """Aging bucket labels: '1-30' reads the same in both languages; not_due/unapplied are words."""
        return self(f"bucket.{label}") if known(f"bucket.{label}") else label


class _Known:
    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and known(key)
