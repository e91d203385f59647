"""The TUI's words in 简体中文 and English, and how the language is chosen."""
from __future__ import annotations

import os
from collections.abc import Mapping

LANGUAGES = ("en", "zh")

EN: dict[str, str] = {
    # app and navigation (binding descriptions are keyed by binding id: "key.<id>")
    "app.title": "Duly",
    "key.quit": "Quit",
    "key.help": "Help",
    "key.dashboard": "Dashboard",
    "key.customers": "Customers",
    "key.aging": "Aging",
    "key.new_customer": "New customer",
    "key.open": "Open",
    "key.search": "Search",
    "key.back": "Back",
    "key.edit": "Edit",
    "key.save": "Save",
    "key.cancel": "Cancel",
    "key.basis": "Basis",
    "key.as_of": "As of",
    "key.refresh": "Refresh",
    "key.unlock": "Unlock",
    # passphrase
    "pass.title": "Unlock ledger",
    "pass.prompt": "Passphrase for {path}",
    "pass.placeholder": "passphrase",
    "pass.wrong": "wrong passphrase, try again",
    "pass.empty": "type the passphrase, then press Enter",
    "pass.opening": "opening…",
    # dashboard
    "dash.title": "Dashboard",
    "dash.as_of": "As of {date}",
    "dash.receivable": "Receivable",
    "dash.overdue": "Overdue",
    "dash.not_due": "Not due",
    "dash.unapplied": "Unapplied",
    "dash.customers": "Customers",
    "dash.aging": "Aging {currency}",
    "dash.top_overdue": "Top overdue customers",
    "dash.empty": "Nothing is owed yet: add customers and invoices.",
    "dash.loading": "Loading…",
    # customers
    "cust.title": "Customers",
    "cust.search": "Search code, name or tax id ( / )",
    "cust.count": "{shown} shown{more}",
    "cust.more": ", more below",
    "cust.none": "No customers match.",
    "col.code": "Code",
    "col.name": "Name",
    "col.currency": "Currency",
    "col.credit_limit": "Credit limit",
    "col.category": "Category",
    "col.terms": "Terms",
    "col.customer": "Customer",
    "col.total": "Total",
    "col.overdue": "Overdue",
    "col.field": "Field",
    "col.old": "Old",
    "col.new": "New",
    "col.when": "When",
    "col.who": "Who",
    "col.role": "Role",
    "col.phone": "Phone",
    "col.email": "E-mail",
    "col.wechat": "WeChat",
    # customer archive and form
    "arch.title": "Customer {code}",
    "arch.details": "Details",
    "arch.contacts": "Contacts",
    "arch.history": "Field history",
    "arch.none": "(none)",
    "arch.archived": "archived",
    "form.add_title": "New customer",
    "form.edit_title": "Edit customer {code}",
    "form.saved_add": "customer {code} added",
    "form.saved_edit": "customer {code} saved: {fields}",
    "form.unchanged": "nothing changed",
    "form.fix": "Fix the marked field and save again (nothing was written).",
    "field.code": "Code",
    "field.name": "Name",
    "field.legal_name": "Legal name",
    "field.tax_id": "Tax id (税号)",
    "field.address": "Address",
    "field.email": "E-mail",
    "field.phone": "Phone",
    "field.currency": "Currency",
    "field.terms": "Payment terms",
    "field.credit_limit": "Credit limit",
    "field.category": "Category",
    "field.settlement_cycle": "Settlement cycle",
    "field.language": "Language",
    "field.tags": "Tags",
    "field.notes": "Notes",
    "field.archived": "Archived",
    # aging
    "aging.title": "Aging",
    "aging.as_of": "As of (YYYY-MM-DD)",
    "aging.basis": "Basis",
    "aging.basis.due": "due date",
    "aging.basis.invoice": "invoice date",
    "aging.bad_date": "{value!r} is not a date (YYYY-MM-DD)",
    "aging.totals": "Total {currency}",
    "aging.empty": "Nothing open as of {date}.",
    "bucket.not_due": "Not due",
    "bucket.unapplied": "Unapplied",
    # help
    "help.title": "Keys",
    "help.screen": "This screen",
    "help.global": "Everywhere",
    "help.palette": "Command palette: ctrl+p (the current screen's actions)",
    "help.close": "Esc or ? closes this help.",
    # collections (催收)
    "key.collections": "Collections",
    "coll.as_of": "Collections as of {date}",
    "coll.plan": "Reminders due, by level",
    "coll.follow": "Follow-ups due",
    "coll.promises": "Promises to pay (pending and broken)",
    "coll.disputes": "Open disputes",
    "coll.alerts": "Risk alerts",
    "coll.all": "all",
    "col.level": "Level",
    "col.number": "Invoice",
    "col.days_overdue": "Days late",
    "col.asked": "Amount due",
    "col.channel": "Channel",
    "col.text": "Note",
    "col.next": "Next action",
    "col.date": "Date",
    "col.amount": "Amount",
    "col.status": "Status",
    "col.reason": "Reason",
    "col.review": "Review",
    "col.kind": "Alert",
    "channel.email": "e-mail", "channel.phone": "phone", "channel.letter": "letter", "channel.wechat": "WeChat",
    "channel.legal": "legal", "channel.visit": "visit", "channel.other": "other",
    "promise.pending": "pending", "promise.kept": "kept", "promise.broken": "broken",
    "alert.overdue": "long overdue", "alert.limit": "over limit", "alert.trend": "paying later",
    "alert.promise": "broken promise", "alert.no_payment": "no payment", "alert.concentration": "concentration",
    # errors
    "error.worker": "{error}",
}

ZH: dict[str, str] = {
    "app.title": "Duly 应收账款",
    "key.quit": "退出",
    "key.help": "帮助",
    "key.dashboard": "总览",
    "key.customers": "客户",
    "key.aging": "账龄",
    "key.new_customer": "新建客户",
    "key.open": "打开",
    "key.search": "搜索",
    "key.back": "返回",
    "key.edit": "编辑",
    "key.save": "保存",
    "key.cancel": "取消",
    "key.basis": "基准",
    "key.as_of": "截止日",
    "key.refresh": "刷新",
    "key.unlock": "解锁",
    "pass.title": "解锁账本",
    "pass.prompt": "账本 {path} 的密码",
    "pass.placeholder": "密码",
    "pass.wrong": "密码错误，请重试 (wrong passphrase, try again)",
    "pass.empty": "请输入密码后按回车",
    "pass.opening": "正在打开…",
    "dash.title": "总览",
    "dash.as_of": "截止 {date}",
    "dash.receivable": "应收合计",
    "dash.overdue": "已逾期",
    "dash.not_due": "未到期",
    "dash.unapplied": "未核销",
    "dash.customers": "客户数",
    "dash.aging": "账龄分布 {currency}",
    "dash.top_overdue": "逾期最多的客户",
    "dash.empty": "暂无应收：请先添加客户和发票。",
    "dash.loading": "加载中…",
    "cust.title": "客户",
    "cust.search": "搜索编码、名称或税号 ( / )",
    "cust.count": "已显示 {shown} 个{more}",
    "cust.more": "，下面还有",
    "cust.none": "没有匹配的客户。",
    "col.code": "编码",
    "col.name": "名称",
    "col.currency": "币种",
    "col.credit_limit": "信用额度",
    "col.category": "类别",
    "col.terms": "账期",
    "col.customer": "客户",
    "col.total": "合计",
    "col.overdue": "逾期",
    "col.field": "字段",
    "col.old": "原值",
    "col.new": "新值",
    "col.when": "时间",
    "col.who": "操作人",
    "col.role": "职务",
    "col.phone": "电话",
    "col.email": "邮箱",
    "col.wechat": "微信",
    "arch.title": "客户档案 {code}",
    "arch.details": "基本信息",
    "arch.contacts": "联系人",
    "arch.history": "变更记录",
    "arch.none": "（无）",
    "arch.archived": "已归档",
    "form.add_title": "新建客户",
    "form.edit_title": "编辑客户 {code}",
    "form.saved_add": "已添加客户 {code}",
    "form.saved_edit": "已保存客户 {code}：{fields}",
    "form.unchanged": "没有改动",
    "form.fix": "请修改标出的字段后再保存（未写入任何内容）。",
    "field.code": "编码",
    "field.name": "名称",
    "field.legal_name": "法定名称",
    "field.tax_id": "税号",
    "field.address": "地址",
    "field.email": "邮箱",
    "field.phone": "电话",
    "field.currency": "币种",
    "field.terms": "账期",
    "field.credit_limit": "信用额度",
    "field.category": "类别",
    "field.settlement_cycle": "结算周期",
    "field.language": "语言",
    "field.tags": "标签",
    "field.notes": "备注",
    "field.archived": "归档",
    "aging.title": "账龄分析",
    "aging.as_of": "截止日 (YYYY-MM-DD)",
    "aging.basis": "基准",
    "aging.basis.due": "到期日",
    "aging.basis.invoice": "发票日",
    "aging.bad_date": "{value!r} 不是日期 (YYYY-MM-DD)",
    "aging.totals": "合计 {currency}",
    "aging.empty": "截至 {date} 没有未结金额。",
    "bucket.not_due": "未到期",
    "bucket.unapplied": "未核销",
    "help.title": "快捷键",
    "help.screen": "当前页面",
    "help.global": "全局",
    "help.palette": "命令面板：ctrl+p（当前页面可用的操作）",
    "help.close": "按 Esc 或 ? 关闭帮助。",
    "key.collections": "催收",
    "coll.as_of": "催收工作 截止 {date}",
    "coll.plan": "待催收（按级别）",
    "coll.follow": "今日待跟进",
    "coll.promises": "付款承诺（待兑现与已违约）",
    "coll.disputes": "未解决争议",
    "coll.alerts": "风险预警",
    "coll.all": "全部",
    "col.level": "级别",
    "col.number": "发票号",
    "col.days_overdue": "逾期天数",
    "col.asked": "应收金额",
    "col.channel": "方式",
    "col.text": "记录",
    "col.next": "下次跟进",
    "col.date": "日期",
    "col.amount": "金额",
    "col.status": "状态",
    "col.reason": "原因",
    "col.review": "复核日",
    "col.kind": "预警",
    "channel.email": "邮件", "channel.phone": "电话", "channel.letter": "信函", "channel.wechat": "微信",
    "channel.legal": "法务", "channel.visit": "拜访", "channel.other": "其他",
    "promise.pending": "待兑现", "promise.kept": "已兑现", "promise.broken": "已违约",
    "alert.overdue": "严重逾期", "alert.limit": "超出额度", "alert.trend": "付款变慢",
    "alert.promise": "承诺违约", "alert.no_payment": "长期未付款", "alert.concentration": "集中度过高",
    "error.worker": "{error}",
}

# Reconcile (对账)
EN.update({
    "key.reconcile": "Reconcile", "key.rec_accept": "Accept", "key.rec_reject": "Reject",
    "rec.summary": "{count} bank line(s) waiting for a decision (import more with `duly import bank FILE`)",
    "rec.candidates": "Candidates (score, reasons)", "rec.none": "No candidate: match it by hand on the command line.",
    "rec.link": "link payment {payment}", "rec.fee": "bank fee",
    "rec.by_hand": "line {id} has no candidate: `duly reconcile accept {id} --customer CODE`",
    "rec.accepted": "line {id}: {amount} {currency} from {customer} accepted", "rec.rejected": "line {id} set aside",
    "rec.col.id": "Line", "rec.col.payer": "Payer", "rec.col.memo": "Memo", "rec.col.best": "Best match",
    "rec.col.score": "Score", "rec.col.n": "#", "rec.col.apply": "Applies to", "rec.col.reasons": "Reasons",
})
ZH.update({
    "key.reconcile": "对账", "key.rec_accept": "确认", "key.rec_reject": "排除",
    "rec.summary": "{count} 笔银行流水待处理（用 `duly import bank FILE` 导入更多）",
    "rec.candidates": "候选匹配（得分、理由）", "rec.none": "没有候选：请在命令行手工匹配。",
    "rec.link": "关联收款 {payment}", "rec.fee": "银行手续费",
    "rec.by_hand": "流水 {id} 没有候选：`duly reconcile accept {id} --customer CODE`",
    "rec.accepted": "流水 {id}：{customer} 的 {amount} {currency} 已确认", "rec.rejected": "流水 {id} 已排除",
    "rec.col.id": "流水", "rec.col.payer": "对方户名", "rec.col.memo": "摘要", "rec.col.best": "最佳匹配",
    "rec.col.score": "得分", "rec.col.n": "#", "rec.col.apply": "核销到", "rec.col.reasons": "理由",
})

CATALOGUES: dict[str, dict[str, str]] = {"en": EN, "zh": ZH}


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
        self.language = language if language in CATALOGUES else "en"
        self._catalogue = CATALOGUES[self.language]

    def __call__(self, key: str, **values) -> str:
        text = self._catalogue.get(key) or EN.get(key) or key
        return text.format(**values) if values else text

    def bucket(self, label: str) -> str:
        """Aging bucket labels: '1-30' reads the same in both languages; not_due/unapplied are words."""
        return self(f"bucket.{label}") if f"bucket.{label}" in EN else label
