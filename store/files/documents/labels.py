"""People's words for the codes a document shows (payment methods, kinds of line, aging buckets), in zh and en.

A document never shows a code: whatever has no word here is shown as the customer would say it, or not at all."""
from __future__ import annotations

import re

METHODS = {
    "bank_transfer": ("银行转账", "Bank transfer"), "cash": ("现金", "Cash"), "card": ("刷卡", "Card"),
    "alipay": ("支付宝", "Alipay"), "wechat": ("微信支付", "WeChat Pay"), "wechat_pay": ("微信支付", "WeChat Pay"),
    "cheque": ("支票", "Cheque"), "check": ("支票", "Cheque"), "acceptance": ("承兑汇票", "Bank acceptance bill"),
    "other": ("其他方式", "Other"),
}
LINE_KINDS = {
    "invoice": ("发票", "Invoice"), "credit_note": ("红字发票/贷项", "Credit note"), "payment": ("收款", "Payment"),
    "writeoff": ("核销", "Write-off"), "void": ("作废", "Cancelled"),
}
AGING = {"not_due": ("未到期", "Not due"), "unapplied": ("未核销款项", "Unapplied payments")}
WORDS = {
    "opening_balance": ("期初余额", "Opening balance"), "closing_balance": ("期末余额", "Closing balance"),
    "invoiced_amount": ("货款", "Goods and services"),
    "page": ("第 {page} 页 / 共 {pages} 页", "Page {page} of {pages}"),
}


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "zh" else pair[1]


def method(code: str | None, lang: str) -> str:
    """A payment method in words ('bank_transfer' -> 银行转账 / Bank transfer); an unknown one as 'other'."""
    return _pick(METHODS.get((code or "").strip().lower(), METHODS["other"]), lang)


def line_kind(kind: str, lang: str) -> str:
    return _pick(LINE_KINDS[kind], lang)


def aging_bucket(label: str, lang: str) -> str:
    """'not_due' -> 未到期, '31-60' -> 31–60 天 / 31–60 days, '120+' -> 120 天以上 / Over 120 days."""
    if label in AGING:
        return _pick(AGING[label], lang)
    if m := re.fullmatch(r"(\d+)-(\d+)", label):
        return f"{m[1]}–{m[2]} 天" if lang == "zh" else f"{m[1]}–{m[2]} days"
    if m := re.fullmatch(r"(\d+)\+", label):
        return f"{m[1]} 天以上" if lang == "zh" else f"Over {m[1]} days"
    return label


def word(key: str, lang: str, **kw) -> str:
    """A word or phrase; without kw a phrase's {fields} are left for the caller to fill."""
    text = _pick(WORDS[key], lang)
    return text.format(**kw) if kw else text
