"""Dunning (催收): reminder levels, which open invoice stands at which level as of a date, fees and interest.

Pure rules over plain dataclasses; store.write.collections gathers the facts from the ledger and records sends.
The open invoices and their open instalments are THE types of store.rules.openitems (OpenInvoice, OpenItem), as
store.read.open.position gives them.

- A level has an offset in days from the due date (negative = a friendly reminder before it is due).
  An invoice stands at the highest level whose offset its earliest open instalment has reached
  (days overdue = as_of - due date; due today is 0 days overdue).
- The amount asked is every open instalment that has reached min(offset, 1) days overdue: on a pre-due
  level the instalments falling due within the offset, on an overdue level everything overdue.
- Fee = fixed fee + asked × fee rate; interest = Σ open × yearly rate / 365 × days overdue over the overdue
  instalments; both in integer minor units, rounded half-up once. The level decides whether a reminder charges
  interest (its `interest` option); the rate is the one the customer agreed — the invoice's terms' late-interest
  rate — when the terms set one, else the level's.
- Left out: every invoice of a customer on hold (tagged `hold`: a "do not dun" customer), an invoice with an
  active dispute (opened, not resolved, review date not passed), with an
  unexpired promise to pay, or whose level was already sent (a level is sent at most once per invoice).
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from types import MappingProxyType

from store.errors import InvalidInput, Said, joined
from store.i18n import N_
from store.rules import money
from store.rules.openitems import OpenInvoice, OpenItem

CHANNELS = ("email", "phone", "letter", "wechat", "legal")
HOLD_TAG = "hold"  # a customer tagged so is left out of dunning (暂停催收)
OPTIONS = ("fee", "fee_pct", "interest", "template")
TEMPLATES = ("friendly", "first", "second", "final", "legal")

# Sensible defaults: a friendly e-mail 3 days before due, two e-mails, a call, a letter with interest,
# then legal. Fees are in the invoice's currency.
DEFAULT_LEVELS_TEXT = ("friendly:-3:email; first:7:email; second:30:email; call:45:phone; "
                       "final:60:letter:interest=12; legal:90:legal")

# What a level is called in each language (custom level names are shown as typed).
LEVEL_NAMES = {
    "friendly": ("友好提醒", "Friendly reminder"),
    "first": ("第一次催款", "First reminder"),
    "second": ("第二次催款", "Second reminder"),
    "call": ("电话催收", "Phone call"),
    "final": ("最后通知函", "Final notice"),
    "legal": ("法律程序", "Legal action"),
}
CHANNEL_NAMES = {
    "email": ("邮件", "e-mail"), "phone": ("电话", "phone"), "letter": ("信函", "letter"),
    "wechat": ("微信", "WeChat"), "legal": ("法务", "legal"),
}

_NAME = re.compile(r"^[\w\-]{1,24}$")
_PCT = re.compile(r"^\d{1,3}(\.\d{1,2})?%?$")


@dataclass(frozen=True)
class Level:
    name: str
    offset: int  # days from the due date; negative = before due
    channel: str
    template: str
    fee: str = "0"  # fixed fee as decimal text, in the invoice's currency
    fee_bp: int = 0  # fee as basis points of the amount asked
    interest_bp: int = 0  # yearly interest in basis points

    def title(self, language: str) -> str:
        names = LEVEL_NAMES.get(self.name)
        return (names[0] if language == "zh" else names[1]) if names else self.name

    def fixed_fee(self, currency: str) -> int:
        return _fixed_fee(self.fee, currency, self.name)


@lru_cache(maxsize=1024)
def _fixed_fee(fee: str, currency: str, name: str) -> int:
    """A level's fee text in minor units of the currency: parsed once per text and currency (a plan at 200k
    invoices asks it for every invoice). A text that is not an amount raises every time (nothing is kept)."""
    return money.parse_amount(fee, currency, field=f"dunning level {name}: fee")


@dataclass(frozen=True)
class Dispute:
    invoice_id: str
    opened: date
    amount: int | None  # None: the whole invoice
    review: date | None
    resolved_on: date | None
    reason: str = ""


@dataclass(frozen=True)
class Promise:
    invoice_id: str
    made_on: date
    date: date  # promised payment date
    amount: int
    payments: tuple[tuple[date, int], ...] = ()  # (date, amount) applied to the invoice
    open_on_date: int | None = None  # what the invoice had open on the promised date (0: settled)


@dataclass(frozen=True)
class PlanItem:
    invoice_id: str
    number: str
    customer_id: str
    currency: str
    level: Level
    due_date: date  # earliest open instalment
    days_overdue: int
    open_amount: int  # everything open on the invoice
    asked: int  # what this reminder asks for
    disputed: int  # taken off because part of it is disputed
    fee: int
    interest: int

    @property
    def total(self) -> int:
        return self.asked + self.fee + self.interest


@dataclass(frozen=True)
class Held:
    invoice_id: str
    number: str
    customer_id: str
    level: str
    reason: str


@dataclass
class Plan:
    as_of: date
    items: list[PlanItem] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)


# --- levels from the setting -----------------------------------------------------------------------------


def _percent_bp(text: str, where: str) -> int:
    value = text.strip()
    if not _PCT.match(value):
        raise InvalidInput(N_("{where}: {text} is not a percentage (expected e.g. 1.5 or 12%)"),
                           where=where, text=repr(text), field="dunning.levels")
    bp = int((Decimal(value.rstrip("%")) * 100).to_integral_value())
    if bp > 10000:
        raise InvalidInput(N_("{where}: {text} is more than 100%"), where=where,
                           text=repr(text), field="dunning.levels")
    return bp


def parse_levels(text: str) -> tuple[Level, ...]:
    """'friendly:-3:email; first:7:email:fee=50:fee_pct=1:interest=12:template=first; ...' -> levels.

    Each level is NAME:OFFSET:CHANNEL followed by optional key=value (fee, fee_pct, interest [yearly %],
    template); offsets must increase and names be unique. The template defaults to the name when it is a
    built-in one (friendly, first, second, final, legal), else 'first' for offsets > 0 and 'friendly' before.
    """
    levels: list[Level] = []
    parts = [p.strip() for p in (text or "").replace("；", ";").split(";") if p.strip()]
    if not parts:
        raise InvalidInput(N_("dunning levels: expected e.g. {default_levels_text}"),
                           default_levels_text=DEFAULT_LEVELS_TEXT, field="dunning.levels")
    for n, part in enumerate(parts, 1):
        where = Said(N_("dunning level {n} ({part})"), n=n, part=repr(part))
        fields = [f.strip() for f in part.split(":")]
        if len(fields) < 3:
            raise InvalidInput(N_("{where}: expected NAME:OFFSET:CHANNEL[:fee=A:fee_pct=P:interest=P:template=T]"),
                               where=where,
                               field="dunning.levels")
        name, offset_text, channel = fields[:3]
        if not _NAME.match(name):
            raise InvalidInput(N_("{where}: name {name} must be 1-24 letters, digits, '_' or '-'"), where=where,
                               name=repr(name),
                               field="dunning.levels")
        if not re.fullmatch(r"[+-]?\d{1,4}", offset_text):
            raise InvalidInput(N_("{where}: offset {offset_text} is not a whole number of days (e.g. -3 or 30)"),
                               where=where, offset_text=repr(offset_text),
                               field="dunning.levels")
        if channel not in CHANNELS:
            raise InvalidInput(N_("{where}: channel {channel} is not one of {channels}"), where=where,
                               channel=repr(channel), channels=', '.join(CHANNELS),
                               field="dunning.levels")
        offset = int(offset_text)
        opts: dict[str, str] = {}
        for option in fields[3:]:
            key, sep, value = option.partition("=")
            key = key.strip()
            if not sep or key not in OPTIONS or key in opts:
                raise InvalidInput(N_("{where}: {option} is not one of {value} (each at most once)"),
                                   where=where, option=repr(option),
                                   value=', '.join(o + '=...' for o in OPTIONS), field="dunning.levels")
            opts[key] = value.strip()
        fee = opts.get("fee", "0") or "0"
        money.parse_amount(fee, "CNY", field=f"{where}: fee")  # a plain non-negative amount with 2 decimals
        template = opts.get("template") or (name if name in TEMPLATES else ("first" if offset > 0 else "friendly"))
        if template not in TEMPLATES:
            raise InvalidInput(N_("{where}: template {template} is not one of {templates}"), where=where,
                               template=repr(template), templates=', '.join(TEMPLATES),
                               field="dunning.levels")
        level = Level(name, offset, channel, template, fee,
                      _percent_bp(opts["fee_pct"], f"{where}: fee_pct") if "fee_pct" in opts else 0,
                      _percent_bp(opts["interest"], f"{where}: interest") if "interest" in opts else 0)
        if levels and offset <= levels[-1].offset:
            raise InvalidInput(N_("{where}: offset {offset} must be more than the previous level's ({name}: "
                                  "{offset2})"), where=where,
                               offset=offset, name=levels[-1].name, offset2=levels[-1].offset, field="dunning.levels")
        if any(prev.name == name for prev in levels):
            raise InvalidInput(N_("{where}: level name {name} is used twice"), where=where,
                               name=repr(name), field="dunning.levels")
        levels.append(level)
    return tuple(levels)


def levels_text(levels: tuple[Level, ...]) -> str:
    """The normalised setting text for levels."""
    out = []
    for lv in levels:
        text = f"{lv.name}:{lv.offset}:{lv.channel}"
        if lv.fee not in ("0", ""):
            text += f":fee={lv.fee}"
        if lv.fee_bp:
            text += f":fee_pct={Decimal(lv.fee_bp) / 100}"
        if lv.interest_bp:
            text += f":interest={Decimal(lv.interest_bp) / 100}"
        if lv.template != lv.name:
            text += f":template={lv.template}"
        out.append(text)
    return "; ".join(out)


def check_levels(text: str) -> str:
    """Settings check for `dunning.levels`."""
    return levels_text(parse_levels(text))


# --- the rules -------------------------------------------------------------------------------------------


def level_for(days_overdue: int, levels: tuple[Level, ...]) -> Level | None:
    """The highest level whose offset the days overdue have reached; None before the first."""
    found = None
    for level in levels:
        if days_overdue >= level.offset:
            found = level
    return found


def _half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half-up (away from zero on .5), exact in integers."""
    q, r = divmod(abs(numerator), denominator)
    q += 1 if 2 * r >= denominator else 0
    return q if numerator >= 0 else -q


def interest(instalments: list[tuple[int, int]], yearly_bp: int) -> int:
    """Σ open × rate / 365 × days overdue over (open, days overdue) pairs, rounded half-up once."""
    weighted = sum(amount * days for amount, days in instalments if days > 0 and amount > 0)
    return _half_up(weighted * yearly_bp, 10000 * 365)


def fee(level: Level, asked: int, currency: str) -> int:
    """Fixed fee plus asked × fee rate (half-up)."""
    return level.fixed_fee(currency) + _half_up(asked * level.fee_bp, 10000)


def dispute_active(d: Dispute, as_of: date) -> bool:
    """Opened by as_of, not resolved by then, and its review date (if any) not yet passed."""
    return (d.opened <= as_of and (d.resolved_on is None or as_of < d.resolved_on)
            and (d.review is None or as_of <= d.review))


def promise_status(p: Promise, as_of: date) -> str:
    """'kept' once payments applied from the day it was made to the promised date reach its amount (or the
    invoice was settled by then); 'pending' until the promised date; 'broken' after it."""
    until = min(as_of, p.date)
    paid = sum(amount for when, amount in p.payments if p.made_on <= when <= until)
    if paid >= p.amount or (as_of >= p.date and p.open_on_date == 0):
        return "kept"
    return "pending" if as_of <= p.date else "broken"


def promise_holds(p: Promise, as_of: date) -> bool:
    """A promise keeps its invoice out of dunning from the day it was made to the promised date."""
    return p.made_on <= as_of <= p.date


def plan(invoices: list[OpenInvoice], items: list[OpenItem], levels: tuple[Level, ...], as_of: date, *,
         disputes: list[Dispute] = (), promises: list[Promise] = (),
         sent: set[tuple[str, str]] = frozenset(), customers_on_hold: set[str] = frozenset(),
         agreed_rates: Mapping[str, int] = MappingProxyType({})) -> Plan:
    """What is due for which level as of a date, and what was held back and why: `invoices` open as of the date
    and `items`, their open instalments (each names its invoice).

    agreed_rates: invoice id -> the yearly late-interest rate (basis points) of its terms, where they set one."""
    result = Plan(as_of)
    instalments: dict[str, list[tuple[date, int]]] = defaultdict(list)
    for it in items:
        if it.open_amount > 0:
            instalments[it.invoice_id].append((it.due_date, it.open_amount))
    active: dict[str, list[Dispute]] = {}
    for d in disputes:
        if dispute_active(d, as_of):
            active.setdefault(d.invoice_id, []).append(d)
    holding = {}
    for p in promises:
        if promise_holds(p, as_of):
            holding.setdefault(p.invoice_id, p)
    for inv in invoices:
        dues = sorted(instalments.get(inv.id, ()))
        if not dues:
            continue
        days = (as_of - dues[0][0]).days
        level = level_for(days, levels)
        if level is None:
            continue
        if inv.customer_id in customers_on_hold:
            result.held.append(Held(inv.id, inv.number, inv.customer_id, level.name,
                                    Said(N_("customer on hold (tag {tag})"), tag=HOLD_TAG)))
            continue
        if inv.id in holding:
            p = holding[inv.id]
            result.held.append(Held(inv.id, inv.number, inv.customer_id, level.name,
                                    Said(N_("promise to pay {amount} by {date}"),
                                         amount=money.to_decimal_str(p.amount, inv.currency), date=p.date)))
            continue
        if (inv.id, level.name) in sent:
            result.held.append(Held(inv.id, inv.number, inv.customer_id, level.name,
                                    Said(N_("level {level} already sent"), level=level.name)))
            continue
        threshold = min(level.offset, 1)
        reached = [(when, amount) for when, amount in dues if (as_of - when).days >= threshold]
        disputed = 0
        for d in active.get(inv.id, []):
            disputed += sum(a for _, a in dues) if d.amount is None else d.amount
        if disputed:
            # The disputed part comes off the latest instalments: the oldest debt stays asked for.
            left, kept = disputed, []
            for when, amount in reversed(reached):
                take = min(left, amount)
                left -= take
                if amount - take:
                    kept.append((when, amount - take))
            kept.reverse()
            if not kept:
                why = joined([Said(N_("disputed: {reason}"), reason=d.reason) if d.review is None else
                              Said(N_("disputed until {review}: {reason}"), review=d.review.isoformat(), reason=d.reason)
                              for d in active[inv.id]])
                result.held.append(Held(inv.id, inv.number, inv.customer_id, level.name, why))
                continue
            disputed = sum(a for _, a in reached) - sum(a for _, a in kept)
            reached = kept
        asked = sum(a for _, a in reached)
        result.items.append(PlanItem(
            inv.id, inv.number, inv.customer_id, inv.currency, level, dues[0][0], days,
            sum(a for _, a in dues), asked, disputed, fee(level, asked, inv.currency),
            interest([(a, (as_of - when).days) for when, a in reached],
                     (agreed_rates.get(inv.id) or level.interest_bp) if level.interest_bp else 0)))
    result.items.sort(key=lambda i: (i.customer_id, -i.days_overdue, i.number))
    return result
