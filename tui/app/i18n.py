"""The words a person reads, in 简体中文 and English, and how the language is chosen.

The words live in one gettext catalogue, read at run time with the standard library (store/i18n.py; it sits under
store/ because errors and documents made in the store are worded with it too):

    store/locale/en/LC_MESSAGES/duly.po    English        (edited by people)
    store/locale/zh/LC_MESSAGES/duly.po    简体中文        (edited by people)
    store/locale/<lang>/LC_MESSAGES/duly.mo   compiled from the .po by `./dev i18n`; committed, shipped in the wheel

How to add a string:
1. Write it in the code. In the app: `self.t("...", name=value)` (`self.app.t`); in the command line:
   `ctx.t("...", name=value)`. Where the words are chosen later: `N_("...")` from store.i18n keeps the id, e.g.
   an error: `raise NotFound(N_("customer {code} not found"), code=code)` (store/errors.py; the CLI and the app
   word it in the reader's language with err.text(language)). The id is either a key, `area.what` (as all
   the app's ids so far), or, for new messages, the English sentence itself ("customer {code} not found").
   Placeholders are named, `{name}`, str.format style, and the same in every language.
   An id the extractor cannot see (built from data: t(f"status.{value}"); a binding description, which is
   "key.<binding id>"; a t() inside an f-string) goes in ALSO_USED below.
2. Run `./dev i18n`: it extracts the ids (Babel, keywords t, N_, _n; babel.cfg), adds the new ones to both .po
   files with empty words, and compiles the .mo files. Nothing else writes the .mo.
3. Give the new ids their words in store/locale/zh/LC_MESSAGES/duly.po (and, for a key id, in en/…/duly.po;
   an English sentence id may keep msgstr "" in en), then `./dev i18n` again.
4. Check: `.venv/bin/python -m pytest tests/test_i18n.py -q`. It fails when a .mo is older than its .po, when
   an id the code uses has no words in a language, when a catalogue holds an id no code uses, or when a
   placeholder differs between the languages.
A third language: one more folder store/locale/<lang>/LC_MESSAGES/ (copy zh's duly.po, translate every msgstr)
and its code in store.i18n.LANGUAGES; no other code changes.
"""
from __future__ import annotations

import os
from collections.abc import Mapping

from store.errors import DulyError, Said
from store.i18n import LANGUAGES, N_, known, translate

__all__ = ["LANGUAGES", "LANGUAGE_RULE", "ALSO_USED", "Strings", "choose_language", "normalise"]

# Ids the code uses where the extractor cannot see them: built from data (t(f"status.{value}"), a binding's
# description is "key.<binding id>"), a t() inside an f-string, a table of ids passed to t() later. Listed here,
# so `./dev i18n` and tests/test_i18n.py count them as used.
ALSO_USED = (
    # documents from the app: the statement tab's period picker and keys, the letters, the templates screens
    N_("period.this_month"), N_("period.last_month"), N_("period.this_quarter"), N_("period.year_to_date"),
    N_("doc.save_statement"), N_("doc.save_confirmation"), N_("doc.save_dunning"), N_("doc.send_statement_q"),
    N_("doc.send_confirmation_q"), N_("doc.kind.statement"), N_("doc.kind.confirmation"), N_("key.statement_period"),
    N_("key.save_pdf"), N_("key.save_html"), N_("key.send_statement"), N_("key.mark_sent"),
    N_("key.confirmation_letter"), N_("key.dunning_letter"), N_("key.settings_templates"), N_("key.template_reset"),
    N_("key.cancel_pick"), N_("tpl.col.name"), N_("tpl.col.document"), N_("tpl.col.language"), N_("tpl.col.source"),
    N_("tpl.source.edited"), N_("tpl.source.default"), N_("setting.company.legal_name"), N_("setting.company.tax_id"),
    N_("setting.company.address"), N_("setting.company.phone"), N_("setting.company.email"),
    N_("setting.company.bank_name"), N_("setting.company.bank_account"), N_("setting.company.account_name"),
    N_("setting.dunning.post_charges"), N_("setting_hint.company.tax_id"), N_("setting_hint.company.bank_account"),
    # the command line's tables: column titles ("col.<column>") and values from a fixed list (tui/cli/context.py)
    N_("col.due_date"), N_("col.open_amount"), N_("col.receivable"), N_("col.not_due"), N_("col.open_invoices"),
    N_("col.customers"), N_("col.settlement_cycle"), N_("col.tags"), N_("col.archived"), N_("col.week"),
    N_("col.start"), N_("col.end"), N_("col.bucket"), N_("col.rate"), N_("col.provision"), N_("col.score"),
    N_("col.policy"), N_("col.seq"), N_("col.zh_name"), N_("col.legal_name"), N_("col.tax_id"),
    N_("col.expected"), N_("col.difference"), N_("col.id"), N_("col.note"), N_("col.language"),
    N_("col.invoice_date"),
    N_("bucket.1年以内"), N_("bucket.1-2年"), N_("bucket.2-3年"), N_("bucket.3年以上"),
    N_("cycle.per_order"), N_("cycle.monthly"), N_("cycle.quarterly"), N_("cycle.yearly"),
    N_("language.zh"), N_("language.en"),
    # recurring invoices (built from data or inside f-strings)
    N_("sync.kind.recurring_occurrence_differs"), N_("key.recurring"), N_("key.new_schedule"),
    N_("key.pause_resume"), N_("recur.col.number"), N_("recur.col.frequency"), N_("recur.col.start"),
    N_("recur.col.end"), N_("recur.col.currency"), N_("recur.col.amount"), N_("recur.col.mode"),
    N_("recur.col.status"), N_("recur.col.issued"), N_("recur.col.next"), N_("recur.mode.issue"),
    N_("recur.mode.draft"), N_("recur.status.active"), N_("recur.status.paused"), N_("recur.status.ended"),
    N_("recurf.frequency"), N_("recurf.frequency.hint"), N_("recurf.every"), N_("recurf.every.hint"),
    N_("recurf.day"), N_("recurf.day.hint"), N_("recurf.start"), N_("recurf.end"), N_("recurf.end.hint"),
    N_("recurf.count"), N_("recurf.count.hint"), N_("recurf.amount"), N_("recurf.terms"), N_("recurf.terms.hint"),
    N_("recurf.description"), N_("rep.recurring"),
    # the reports' charts
    N_("key.chart_currency"), N_("rep.trend"),
    N_("aging.bad_date"), N_("aging.basis"), N_("aging.basis.due"), N_("aging.basis.invoice"), N_("aging.title"),
    N_("alert.concentration"), N_("alert.limit"), N_("alert.no_payment"), N_("alert.overdue"), N_("alert.promise"),
    N_("alert.trend"),
    N_("arch.archived"), N_("arch.none"),
    N_("bucket.not_due"), N_("bucket.unapplied"),
    N_("channel.email"), N_("channel.legal"), N_("channel.letter"), N_("channel.other"), N_("channel.phone"),
    N_("channel.visit"), N_("channel.wechat"),
    N_("col.applied"), N_("col.asked"), N_("col.channel"), N_("col.days_overdue"), N_("col.email"), N_("col.field"),
    N_("col.level"), N_("col.new"), N_("col.next"), N_("col.old"), N_("col.phone"), N_("col.review"), N_("col.role"),
    N_("col.tax"), N_("col.text"), N_("col.unit_price"), N_("col.wechat"), N_("col.when"), N_("col.who"),
    N_("coll.alerts"), N_("coll.disputes"), N_("coll.follow"), N_("coll.plan"), N_("coll.promises"),
    N_("cust.none"), N_("cust.title"),
    N_("dash.customers"), N_("dash.not_due"), N_("dash.overdue"), N_("dash.receivable"), N_("dash.title"),
    N_("dash.unapplied"),
    N_("error.worker"),
    N_("field.address"), N_("field.archived"), N_("field.category"), N_("field.code"), N_("field.credit_limit"),
    N_("field.currency"), N_("field.email"), N_("field.language"), N_("field.legal_name"), N_("field.name"),
    N_("field.notes"), N_("field.phone"), N_("field.settlement_cycle"), N_("field.tags"), N_("field.tax_id"),
    N_("field.terms"),
    N_("inv.none"), N_("inv.show"), N_("inv.show.all"), N_("inv.show.open"), N_("inv.show.overdue"),
    N_("invd.credit"), N_("invd.writeoff"),
    N_("invf.amount"), N_("invf.amount.hint"), N_("invf.customer"), N_("invf.date"), N_("invf.description"),
    N_("invf.terms"), N_("invf.terms.hint"), N_("invf.currency"), N_("invf.currency.hint"), N_("payf.currency"),
    N_("key.sort_next"), N_("key.sort_flip"),
    N_("key.aging"), N_("key.apply_credit"), N_("key.as_of"), N_("key.back"), N_("key.basis"), N_("key.cancel"),
    N_("key.cancel_prompt"), N_("key.clear_allocations"), N_("key.collections"), N_("key.command_palette"),
    N_("key.customers"), N_("key.focus_next"), N_("key.focus_previous"), N_("key.copy_text"), N_("key.help_f1"),
    N_("key.dashboard"), N_("key.edit"), N_("key.help"), N_("key.invoice_filter"), N_("key.invoice_search"),
    N_("key.invoices"), N_("key.new_customer"), N_("key.new_invoice"), N_("key.open"), N_("key.payment_search"),
    N_("key.payments"), N_("key.quit"), N_("key.rec_accept"), N_("key.rec_reject"), N_("key.rec_by_hand"),
    N_("key.rec_reopen"), N_("key.rec_show_rejected"), N_("key.reconcile"),
    N_("key.record_payment"), N_("key.refresh"), N_("key.reports"), N_("key.save"), N_("key.search"),
    N_("key.suggest"), N_("key.sync"), N_("key.sync_now"), N_("key.sync_resolve"),
    N_("key.sync_setup"), N_("key.sync_invite"), N_("key.sync_recovery"), N_("key.invite_close"),
    N_("key.invite_copy"), N_("key.secret_close"), N_("key.join_team"), N_("key.sync_devices"),
    N_("key.devices_close"), N_("key.devices_remove"), N_("devices.col.this"), N_("devices.col.name"),
    N_("devices.col.role"), N_("devices.col.added"), N_("devices.col.removed"), N_("devices.col.id"), N_("key.unlock"),
    N_("key.void_invoice"),
    N_("method.alipay"), N_("method.bank_transfer"), N_("method.card"), N_("method.cash"), N_("method.other"),
    N_("method.wechat"),
    N_("pay.none"),
    N_("payf.amount"), N_("payf.customer"), N_("payf.date"), N_("payf.method"), N_("payf.reference"),
    N_("promise.broken"), N_("promise.kept"), N_("promise.pending"),
    N_("rec.col.answered"), N_("rec.col.apply"), N_("rec.col.as_of"), N_("rec.col.best"), N_("rec.col.difference"),
    N_("rec.col.id"), N_("rec.col.memo"), N_("rec.col.n"), N_("rec.col.ours"), N_("rec.col.payer"),
    N_("rec.col.reasons"), N_("rec.col.score"), N_("rec.col.theirs"), N_("rec.fee"),
    N_("rep.balance"), N_("rep.forecast"), N_("rep.open_invoices"), N_("rep.summary"),
    N_("status.applied"), N_("status.open"), N_("status.paid"), N_("status.unapplied"), N_("status.voided"),
    N_("status.written_off"),
    N_("sync.clock"), N_("sync.col.found"), N_("sync.col.id"), N_("sync.col.kind"), N_("sync.col.message"),
    N_("sync.device"), N_("sync.epoch"), N_("sync.head"), N_("sync.kind.draft_edited_after_issue"),
    N_("sync.kind.draft_issued_twice"), N_("sync.kind.duplicate_payment"), N_("sync.kind.over_allocated_credit_note"),
    N_("sync.kind.over_allocated_invoice"), N_("sync.kind.over_allocated_payment"),
    N_("sync.kind.setting_by_non_admin"), N_("sync.last_sync"), N_("sync.offline_note"), N_("sync.pending"),
    N_("sync.refused_note"), N_("sync.role"), N_("sync.role.admin"), N_("sync.role.member"), N_("sync.role.viewer"),
    N_("sync.server"),
    # recurring invoices (周期性账单): columns, modes, statuses and form fields named from data
    N_("key.recurring"), N_("key.new_schedule"), N_("key.pause_resume"), N_("sync.kind.recurring_occurrence_differs"),
    N_("recur.col.number"), N_("recur.col.frequency"), N_("recur.col.start"), N_("recur.col.end"),
    N_("recur.col.currency"), N_("recur.col.amount"), N_("recur.col.mode"), N_("recur.col.status"),
    N_("recur.col.issued"), N_("recur.col.next"), N_("recur.mode.issue"), N_("recur.mode.draft"),
    N_("recur.status.active"), N_("recur.status.paused"), N_("recur.status.ended"), N_("recurf.frequency"),
    N_("recurf.every"), N_("recurf.day"), N_("recurf.start"), N_("recurf.end"), N_("recurf.count"),
    N_("recurf.amount"), N_("recurf.terms"), N_("recurf.description"), N_("recurf.frequency.hint"),
    N_("recurf.every.hint"), N_("recurf.day.hint"), N_("recurf.end.hint"), N_("recurf.count.hint"),
    N_("recurf.terms.hint"), N_("rep.recurring"),
    # the day's jobs: binding descriptions and columns named from data
    N_("key.credit_note"), N_("key.write_off"), N_("key.unapply"), N_("key.dispute"), N_("key.promise"),
    N_("key.reminders"), N_("key.apply_unapplied"), N_("key.reallocate"), N_("key.void_payment"),
    N_("key.apply_save"), N_("key.apply_clear"), N_("key.add_contact"), N_("key.remove_contact"),
    N_("key.log_contact"), N_("key.show_credit"), N_("key.archive_customer"),
    N_("invd.rem.when"), N_("invd.rem.level"), N_("invd.rem.channel"), N_("invd.rem.outcome"),
    N_("arch.note.date"), N_("arch.note.channel"), N_("arch.note.text"), N_("arch.note.next"),
    N_("arch.credit.factor"), N_("arch.credit.weight"), N_("arch.credit.value"), N_("arch.credit.points"),
    N_("credit.factor.days_late"), N_("credit.factor.on_time_share"), N_("credit.factor.overdue_share"),
    N_("credit.factor.oldest_overdue"), N_("credit.factor.trend"), N_("credit.factor.disputes"),
    N_("credit.factor.limit_use"),
    # the set-up screens (first run, review queue, settings, drafts, terms): ids built from data and keys
    N_("col.decision"), N_("col.detail"), N_("col.invoices"), N_("coll.results"), N_("draft.col.amount"),
    N_("draft.col.currency"), N_("draft.col.customer"), N_("draft.col.date"), N_("draft.col.description"),
    N_("draft.col.due"), N_("draft.col.name"), N_("draft.col.ref"), N_("draft.col.terms"),
    N_("draft.currency_default"), N_("draft.field.amount"), N_("draft.field.currency"), N_("draft.field.customer"),
    N_("draft.field.date"), N_("draft.field.description"), N_("draft.field.due"), N_("draft.field.einvoice"),
    N_("draft.field.terms"), N_("draft.hint.date"), N_("draft.hint.due"), N_("draft.hint.einvoice"), N_("draft.none"),
    N_("draft.terms_default"), N_("key.create_demo"), N_("key.create_ledger"), N_("key.delete_draft"),
    N_("key.drafts"), N_("key.issue_draft"), N_("key.log_call"), N_("key.new_draft"), N_("key.new_terms"),
    N_("key.open_customer"), N_("key.quit_first_run"), N_("key.resolve_dispute"), N_("key.review_batch"),
    N_("key.review_close"), N_("key.review_hold"), N_("key.review_rest"), N_("key.review_send"),
    N_("key.review_skip"), N_("key.settings"), N_("key.settings_test_mail"), N_("key.terms"), N_("review.hold"),
    N_("review.outcome.failed"), N_("review.outcome.letter"), N_("review.outcome.sent"), N_("review.outcome.skipped"),
    N_("review.outcome.task"), N_("review.outcome.unknown"), N_("review.outcome.would_send"), N_("review.send"),
    N_("review.skip"), N_("review.todo"), N_("setting.aging.buckets"), N_("setting.alerts.concentration_pct"),
    N_("setting.alerts.no_payment_days"), N_("setting.alerts.overdue_days"), N_("setting.company.name"),
    N_("setting.currency"), N_("setting.dunning.levels"), N_("setting.invoice.series"), N_("setting.language"),
    N_("setting.provision.rates"), N_("setting.smtp.from"), N_("setting.smtp.host"), N_("setting.smtp.password"),
    N_("setting.smtp.port"), N_("setting.smtp.starttls"), N_("setting.smtp.user"), N_("setting_hint.aging.buckets"),
    N_("setting_hint.dunning.levels"), N_("setting_hint.invoice.series"), N_("setting_hint.provision.rates"),
    N_("setting_hint.smtp.password"), N_("settings.section.aging"), N_("settings.section.alerts"),
    N_("settings.section.company"), N_("settings.section.dunning"), N_("settings.section.smtp"),
    N_("terms.col.meaning"), N_("terms.col.name"), N_("terms.col.source"), N_("terms.field.discount"),
    N_("terms.field.late_interest"), N_("terms.field.lines"), N_("terms.field.name"), N_("terms.field.sample_amount"),
    N_("terms.field.sample_date"), N_("terms.hint.discount"), N_("terms.hint.late_interest"), N_("terms.hint.lines"),
    N_("terms.none"), N_("terms.source.builtin"), N_("terms.source.stored"),
    N_("key.import_bank"), N_("key.bank_preview"), N_("key.bank_import"), N_("bank.would"), N_("bank.done"),
    # an import's dry run: its columns and what each row would do (tui/cli/transfer.py)
    N_("col.line"), N_("col.action"), N_("col.key"), N_("col.fapiao"), N_("action.add"), N_("action.update"),
    N_("action.skip"), N_("action.invoice"), N_("action.credit note"), N_("action.void"),
    # exchange rates (f6), the base-currency view of the dashboard and aging, debit notes in the app
    N_("key.rates"), N_("key.add_rate"), N_("key.import_rates"), N_("key.rate_search"), N_("key.fx_next_tab"),
    N_("key.fx_dates"), N_("key.rates_preview"),
    N_("key.rates_import"), N_("key.in_base"), N_("key.debit_note"),
    N_("rates.as_of"), N_("rates.from"), N_("rates.to"), N_("rates.col.open"), N_("rates.col.booked_rate"),
    N_("rates.col.rate"), N_("rates.col.booked"), N_("rates.col.revalued"), N_("rates.col.difference"),
    N_("rates.col.payment"), N_("rates.col.date"), N_("rates.col.invoice"), N_("rates.col.customer"),
    N_("rates.col.amount"), N_("rates.col.invoice_rate"), N_("rates.col.payment_rate"),
    N_("rates.col.received"), N_("rates.none"), N_("rates.missing_invoices"), N_("rates.missing_payments"),
    # files and safety (tui/screens/files.py): binding descriptions and words chosen by data
    N_("key.files"), N_("key.files_customers"), N_("key.files_invoices"), N_("key.files_payments"),
    N_("key.files_fapiao"), N_("key.files_write"), N_("key.files_export"), N_("key.files_backup"),
    N_("key.files_restore"), N_("key.files_passphrase"), N_("key.group_import"), N_("key.go_to"),
    N_("key.group_post"), N_("key.group_follow_up"), N_("key.group_customer"), N_("key.group_statement"),
    N_("key.group_jobs"), N_("key.group_contracts"), N_("key.group_tab"), N_("key.next_tab"),
    N_("key.previous_tab"),
    N_("files.kind.customers"), N_("files.kind.invoices"), N_("files.kind.payments"), N_("files.kind.fapiao"),
    N_("files.action.add"), N_("files.action.update"), N_("files.action.skip"), N_("files.action.credit"),
    N_("files.action.void"), N_("files.count.update"), N_("files.count.credit"), N_("files.count.void"),
    N_("files.export.csv"), N_("files.export.xlsx"), N_("files.export.hledger"), N_("files.export.beancount"),
    N_("files.would"), N_("files.done"),
    # a customer's contracts (tui/screens/contract.py): binding descriptions and words chosen by data
    N_("key.new_contract"), N_("key.attach_contract_file"), N_("key.close_contract"), N_("key.contract_attach"),
    N_("contract.check.ok"), N_("contract.check.changed"), N_("contract.check.missing"),
    N_("contract.check.unreadable"), N_("contract.check.none"),
    N_("key.end_contract"), N_("key.cancel_contract"), N_("contract.state.pending"), N_("contract.state.in_force"),
    N_("contract.state.expired"), N_("contract.state.ended_on"), N_("contract.state.cancelled_on"),
    N_("contract.end_title"), N_("contract.cancel_title"), N_("contract.end_hint"), N_("contract.cancel_hint"),
    N_("contract.end_q"), N_("contract.cancel_q"), N_("contract.end_body"), N_("contract.cancel_body"),
    N_("contract.end_go"), N_("contract.cancel_go"), N_("contract.col.state"),
    N_("status.in_force"), N_("status.pending"), N_("status.expired"), N_("status.ended"), N_("status.cancelled"),
    N_("col.ended_on"), N_("col.end_reason"), N_("col.signed"), N_("col.start_date"), N_("col.end_date"),
    N_("col.file_path"), N_("col.file_sha256"), N_("col.file_check"),
    # the command line's records, sections and tables (tui/cli/context.py emit_record) and reminder outcomes
    N_("col.local_time"), N_("col.actor"), N_("col.subject"), N_("col.pos"), N_("col.tax_rate"), N_("col.payment"),
    N_("col.credit_note"), N_("col.contacts"), N_("col.history"), N_("col.lines"), N_("col.due_items"),
    N_("col.allocations"), N_("col.credit_notes"), N_("col.writeoffs"), N_("col.receivables"), N_("col.sales"),
    N_("col.days"), N_("col.dso"), N_("col.disputed"), N_("col.fee"), N_("col.interest"), N_("col.time"),
    N_("col.device_seq"), N_("col.what"), N_("col.address"), N_("col.notes"), N_("col.customer_name"),
    N_("col.contract"), N_("col.einvoice"), N_("col.occurrences"), N_("col.occurrence"), N_("col.invoice"),
    N_("col.draft"), N_("col.recurring_schedule"), N_("col.recurring_occurrence"), N_("col.debit_note_reverses"),
    N_("col.voided_on"), N_("col.void_reason"), N_("col.at"), N_("col.as_of"), N_("col.outcome"),
    # tables of the command line whose columns had no words: disputes, promises, notes, schedules, drafts, debit
    # notes, and the credit, CEI, days-to-pay and expected-payment reports
    N_("col.opened"), N_("col.resolved_on"), N_("col.holds"), N_("col.made_on"), N_("col.paid"),
    N_("col.next_action"), N_("col.frequency"), N_("col.count"), N_("col.mode"), N_("col.issued"),
    N_("col.resume_from"), N_("col.schedule"), N_("col.ref"), N_("col.reverses"), N_("col.days_late"),
    N_("col.on_time_share"), N_("col.overdue_share"), N_("col.oldest_overdue"), N_("col.trend"), N_("col.disputes"),
    N_("col.limit_use"), N_("col.beginning_ar"), N_("col.ending_ar"), N_("col.ending_current_ar"), N_("col.cei"),
    N_("col.paid_invoices"), N_("col.avg_days_to_pay"), N_("col.avg_days_late"), N_("col.recent_days_late"),
    N_("col.prior_days_late"), N_("col.trend_days"),
    N_("status.skipped"), N_("status.would_send"), N_("status.task"), N_("status.letter"), N_("status.sent"),
    N_("status.failed"), N_("status.unknown"),
    N_("source.set"), N_("source.default"), N_("source.not set"), N_("source.builtin"), N_("source.stored"),
    N_("source.edited"), N_("source.payment"), N_("source.credit"), N_("source.open_items"), N_("source.recurring"),
    N_("col.payer"), N_("col.memo"), N_("col.reasons"), N_("col.profile"), N_("col.columns"), N_("col.date_format"),
    N_("col.account"),
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


LANGUAGE_RULE = N_("the language: --lang, else $DULY_LANG, else this device's `language` setting "
                    "(`duly settings set language zh`), else the locale ($LC_ALL / $LC_MESSAGES / $LANG, e.g. "
                    "zh_CN.UTF-8), else English")


def choose_language(setting: str | None = None, env: Mapping[str, str] | None = None, *,
                    flag: str | None = None) -> str:
    """The one rule, the same in the command line and the app: `--lang` (flag), then DULY_LANG (one session, one
    terminal), then this device's `language` setting, then the locale (LC_ALL, LC_MESSAGES, LANG, e.g.
    zh_CN.UTF-8, as POSIX orders them), then English."""
    env = os.environ if env is None else env
    for candidate in (flag, env.get("DULY_LANG"), setting):
        found = normalise(candidate)
        if found:
            return found
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(var):
            return normalise(env[var]) or "en"
    return "en"


class Strings:
    """t('key', **values): the text for a key in one language, English when a translation is missing."""

    def __init__(self, language: str = "en"):
        self.language = language if language in LANGUAGES else "en"

    def __call__(self, key: str, **values) -> str:
        """The words for key; a value kept with its message id (an error, a store.errors.Said line) in them too."""
        worded = {name: value.text(self.language) if isinstance(value, (DulyError, Said)) else value
                  for name, value in values.items()}
        return translate(self.language, key, **worded)

    def error(self, error: BaseException) -> str:
        """An error's one line in this language (a DulyError carries its message id; anything else as it is)."""
        text = getattr(error, "text", None)
        return text(self.language) if callable(text) else str(error)

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
