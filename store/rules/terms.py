"""Payment terms (账期): instalment lines, each with a delay rule that turns an invoice date into a due date.

The due-date formulas are data (a delay rule name + N), one function per rule, as in Odoo's
account_payment_term: the UI and the CLI only ever name a rule, never compute dates themselves.
Percentages are basis points (10000 = 100%); fixed portions are minor units of the invoice currency.
"""
from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from store.rules import money
from store.errors import InvalidInput, Said
from store.i18n import N_

FULL = 10000  # 100% in basis points
MAX_DAYS = 3660  # ten years: anything longer is a typo, and date arithmetic must not overflow
MAX_MONTHS = 120

KINDS = ("percent", "fixed", "balance")
DELAYS = ("days_after", "days_after_end_of_month", "days_after_end_of_next_month", "day_of_month")
DELAY_ALIASES = {
    "net": "days_after",
    "eom": "days_after_end_of_month",
    "eonm": "days_after_end_of_next_month",
    "dom": "day_of_month",
}


@dataclass(frozen=True)
class TermLine:
    kind: str  # 'percent' | 'fixed' | 'balance'
    value: int  # basis points for percent (10000 = 100%), minor units for fixed, 0 for balance
    delay: str  # 'days_after' | 'days_after_end_of_month' | 'days_after_end_of_next_month' | 'day_of_month'
    days: int  # N, or for day_of_month the day D
    months: int = 0  # for day_of_month: D after N months


@dataclass(frozen=True)
class Terms:
    name: str
    lines: tuple[TermLine, ...]
    discount_bp: int = 0  # 2/10 net 30 -> 200, 10
    discount_days: int = 0
    late_interest_bp: int = 0  # yearly


# --- the delay rules -------------------------------------------------------------------------------


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def days_after(d: date, n: int) -> date:
    """N days after the invoice date (net N)."""
    return d + timedelta(days=n)


def days_after_end_of_month(d: date, n: int) -> date:
    """月结N天: the last day of the invoice's month plus N days."""
    return _last_day(d.year, d.month) + timedelta(days=n)


def days_after_end_of_next_month(d: date, n: int) -> date:
    """The last day of the month after the invoice's month plus N days."""
    year, month = _add_months(d.year, d.month, 1)
    return _last_day(year, month) + timedelta(days=n)


def day_of_month(d: date, day: int, months: int) -> date:
    """Day D of the month N months after the invoice's month (29–31 capped at that month's length).

    A due date is never before the invoice date: day 15 of the same month (months=0) for an invoice
    dated the 20th is due on the 20th.
    """
    year, month = _add_months(d.year, d.month, months)
    target = date(year, month, min(day, calendar.monthrange(year, month)[1]))
    return max(target, d)


_RULES: dict[str, Callable[[date, TermLine], date]] = {
    "days_after": lambda d, line: days_after(d, line.days),
    "days_after_end_of_month": lambda d, line: days_after_end_of_month(d, line.days),
    "days_after_end_of_next_month": lambda d, line: days_after_end_of_next_month(d, line.days),
    "day_of_month": lambda d, line: day_of_month(d, line.days, line.months),
}


def due_date(line: TermLine, invoice_date: date) -> date:
    """The due date of one term line for an invoice dated invoice_date."""
    rule = _RULES.get(line.delay)
    if rule is None:
        raise InvalidInput(N_("unknown delay rule {delay} (expected one of {delays})"),
                           delay=repr(line.delay), delays=', '.join(DELAYS), field="delay")
    return rule(invoice_date, line)


# --- parsing ---------------------------------------------------------------------------------------

_PERCENT = re.compile(r"^(\d{1,3})(?:\.(\d{1,2}))?%$")
_INT = re.compile(r"^\d+$")


def _parse_percent(text: str) -> int | None:
    """'33.33%' -> 3333 basis points; None when text is not a percentage at all."""
    m = _PERCENT.match(text)
    if not m:
        return None
    whole, frac = m.group(1), (m.group(2) or "").ljust(2, "0")
    return int(whole) * 100 + int(frac)


def _parse_portion(portion: str, currency: str, where: str) -> tuple[str, int]:
    if portion.lower() in ("balance", "余款", "余额"):
        return "balance", 0
    if portion.endswith("%"):
        bp = _parse_percent(portion.replace(" ", ""))
        if bp is None:
            raise InvalidInput(
                N_("{where}: portion {portion} is not a percentage (expected e.g. 100%, 30% or 33.33%, at most two "
                   "decimals)"), where=where, portion=repr(portion),
                field="portion",
            )
        if not 0 < bp <= FULL:
            raise InvalidInput(N_("{where}: portion {portion} must be more than 0% and at most 100%"),
                               where=where, portion=portion, field="portion")
        return "percent", bp
    try:
        amount = money.parse_amount(portion, currency, field="portion")
    except InvalidInput as err:
        raise InvalidInput(
            N_("{where}: portion {portion} is not valid (expected a percentage like 30%, 'balance', or an amount "
               "like 500.00): {err}"), where=where, portion=repr(portion), err=err,
            field="portion",
        ) from None
    if amount <= 0:
        raise InvalidInput(N_("{where}: fixed portion {portion} must be more than zero"),
                           where=where, portion=portion, field="portion")
    return "fixed", amount


def _parse_count(text: str, what: str, where: str, low: int, high: int) -> int:
    if not _INT.match(text):
        raise InvalidInput(N_("{where}: {what} {text} is not a whole number (expected {low}–{high})"),
                           where=where, what=what, text=repr(text), low=low, high=high, field=what)
    value = int(text)
    if not low <= value <= high:
        raise InvalidInput(N_("{where}: {what} {value} is out of range (expected {low}–{high})"),
                           where=where, what=what, value=value, low=low, high=high, field=what)
    return value


def parse_term_line(text: str, currency: str = "CNY") -> TermLine:
    """'30%:days_after:0' -> TermLine; syntax PORTION:DELAY:N[:MONTHS] (MONTHS only for day_of_month)."""
    where = Said(N_("term line {text}"), text=repr(text))  # worded in the reader's language with the message
    parts = [p.strip() for p in (text or "").split(":")]
    if len(parts) not in (3, 4) or not all(parts):
        raise InvalidInput(
            N_("{where}: expected PORTION:DELAY:N[:MONTHS], e.g. 100%:days_after_end_of_month:30"),
            where=where, field="line"
        )
    portion, delay_text, n_text = parts[:3]
    kind, value = _parse_portion(portion, currency, where)
    delay = DELAY_ALIASES.get(delay_text.lower(), delay_text.lower())
    if delay not in DELAYS:
        raise InvalidInput(
            N_("{where}: delay {delay_text} is not a rule (expected one of {delays}, or {delay_aliases})"),
            where=where, delay_text=repr(delay_text), delays=', '.join(DELAYS),
            delay_aliases=', '.join(DELAY_ALIASES),
            field="delay",
        )
    if delay == "day_of_month":
        days = _parse_count(n_text, "day", where, 1, 31)
        months = _parse_count(parts[3], "months", where, 0, MAX_MONTHS) if len(parts) == 4 else 0
    else:
        if len(parts) == 4:
            raise InvalidInput(N_("{where}: MONTHS is only for day_of_month, not {delay}"),
                               where=where, delay=delay, field="months")
        days = _parse_count(n_text, "days", where, 0, MAX_DAYS)
        months = 0
    return TermLine(kind, value, delay, days, months)


def parse_discount(text: str) -> tuple[int, int]:
    """'2/10' (2% if paid within 10 days) -> (200, 10); '1.5/10' -> (150, 10)."""
    where = Said(N_("discount {text}"), text=repr(text))
    parts = [p.strip() for p in (text or "").split("/")]
    if len(parts) != 2:
        raise InvalidInput(N_("{where}: expected PERCENT/DAYS, e.g. 2/10"), where=where, field="discount")
    bp = _parse_percent(parts[0].rstrip("%") + "%")
    if bp is None or not 0 < bp < FULL:
        raise InvalidInput(
            N_("{where}: percent {value} is not valid (expected more than 0 and less than 100, at most two decimals)"),
            where=where, value=repr(parts[0]),
            field="discount",
        )
    days = _parse_count(parts[1], "days", where, 0, MAX_DAYS)
    return bp, days


# --- validation and splitting ----------------------------------------------------------------------


def _validate_line(line: TermLine, where: str) -> None:
    if line.kind not in KINDS:
        raise InvalidInput(N_("{where}: kind {kind} is not one of {kinds}"), where=where,
                           kind=repr(line.kind), kinds=', '.join(KINDS), field="kind")
    if line.kind == "percent" and not 0 < line.value <= FULL:
        raise InvalidInput(N_("{where}: percent must be more than 0% and at most 100%"), where=where, field="portion")
    if line.kind == "fixed" and line.value <= 0:
        raise InvalidInput(N_("{where}: fixed portion must be more than zero"), where=where, field="portion")
    if line.delay not in DELAYS:
        raise InvalidInput(N_("{where}: delay {delay} is not one of {delays}"), where=where,
                           delay=repr(line.delay), delays=', '.join(DELAYS), field="delay")
    if line.delay == "day_of_month":
        if not 1 <= line.days <= 31:
            raise InvalidInput(N_("{where}: day {days} is not a day of the month (1–31)"), where=where,
                               days=line.days, field="day")
        if not 0 <= line.months <= MAX_MONTHS:
            raise InvalidInput(N_("{where}: months {months} out of range (0–{max_months})"),
                               where=where, months=line.months, max_months=MAX_MONTHS, field="months")
    elif not 0 <= line.days <= MAX_DAYS:
        raise InvalidInput(N_("{where}: days {days} out of range (0–{max_days})"), where=where,
                           days=line.days, max_days=MAX_DAYS, field="days")


def validate_terms(terms: Terms, total: int | None = None) -> None:
    """Raise InvalidInput unless the lines make a whole.

    Percent lines total at most 100%; at most one balance line, and it is last; at least one line.
    Without a balance line the lines must cover the whole invoice: percent lines alone total exactly
    100%; with fixed lines the percent lines stay under 100%, and when a total is given, the fixed
    amounts plus the percent share must reach it.
    """
    where = Said(N_("terms {name}"), name=repr(terms.name))
    if not terms.lines:
        raise InvalidInput(N_("{where}: at least one line is needed"), where=where, field="lines")
    for i, line in enumerate(terms.lines, 1):
        _validate_line(line, Said(N_("{where} line {i}"), where=where, i=i))
    kinds = [line.kind for line in terms.lines]
    if kinds.count("balance") > 1:
        raise InvalidInput(N_("{where}: only one balance line is allowed"), where=where, field="lines")
    if "balance" in kinds and kinds[-1] != "balance":
        raise InvalidInput(N_("{where}: the balance line must be the last line"), where=where, field="lines")
    percent = sum(line.value for line in terms.lines if line.kind == "percent")
    if percent > FULL:
        raise InvalidInput(N_("{where}: percent lines total {percent}, more than 100%"), where=where,
                           percent=_bp_text(percent), field="lines")
    if "balance" not in kinds:
        fixed = sum(line.value for line in terms.lines if line.kind == "fixed")
        if not fixed and percent != FULL:
            raise InvalidInput(
                N_("{where}: percent lines total {percent}; without a balance line they must total 100%"),
                where=where, percent=_bp_text(percent),
                field="lines",
            )
        if fixed and percent >= FULL:
            raise InvalidInput(
                N_("{where}: percent lines already total 100%, so the fixed lines would never be due"),
                where=where, field="lines"
            )
        if fixed and total is not None and fixed * FULL < total * (FULL - percent):
            raise InvalidInput(
                N_("{where}: the lines do not cover the whole invoice; add a balance line"),
                where=where, field="lines"
            )
    if not 0 <= terms.discount_bp < FULL or terms.discount_days < 0:
        raise InvalidInput(N_("{where}: early-payment discount must be 0–100% within 0 or more days"),
                           where=where, field="discount")
    if terms.late_interest_bp < 0:
        raise InvalidInput(N_("{where}: late interest must not be negative"), where=where, field="late_interest")


def instalments(terms: Terms, total: int, invoice_date: date) -> list[tuple[date, int]]:
    """Split total into (due date, amount) items that sum to total exactly, merged by date and sorted.

    Percent lines round down to the minor unit; the remainder goes to the balance line, or else to the
    last line. Fixed lines are capped at what is left. Items of zero are left out.
    """
    if total < 0:
        raise InvalidInput(N_("terms {name}: cannot split a negative total"), name=repr(terms.name), field="amount")
    validate_terms(terms, total)
    amounts: list[int] = []
    left = total
    for line in terms.lines:
        if line.kind == "percent":
            amount = min(total * line.value // FULL, left)
        elif line.kind == "fixed":
            amount = min(line.value, left)
        else:
            amount = 0  # the balance is what is left at the end
        amounts.append(amount)
        left -= amount
    amounts[-1] += left  # the balance line, or the last line takes the rounding remainder
    merged: dict[date, int] = {}
    for line, amount in zip(terms.lines, amounts):
        if amount:
            when = due_date(line, invoice_date)
            merged[when] = merged.get(when, 0) + amount
    return sorted(merged.items())


def preview(terms: Terms, sample_date: date, total: int) -> list[tuple[date, int]]:
    """The due items a sample invoice would get, for showing before the terms are saved."""
    return instalments(terms, total, sample_date)


# --- words -----------------------------------------------------------------------------------------


def _bp_text(bp: int) -> str:
    whole, frac = divmod(bp, 100)
    return f"{whole}%" if not frac else f"{whole}.{frac:02d}".rstrip("0") + "%"


def _delay_en(line: TermLine) -> str:
    n = line.days
    if line.delay == "days_after":
        return "due on invoice date" if n == 0 else f"{n} days after invoice date"
    if line.delay == "days_after_end_of_month":
        return "end of month" if n == 0 else f"{n} days after end of month"
    if line.delay == "days_after_end_of_next_month":
        return "end of next month" if n == 0 else f"{n} days after end of next month"
    if line.months == 0:
        return f"on day {n} of the invoice month"
    if line.months == 1:
        return f"on day {n} of the next month"
    return f"on day {n}, {line.months} months later"


def _delay_zh(line: TermLine) -> str:
    n = line.days
    if line.delay == "days_after":
        return "开票当日" if n == 0 else f"开票后{n}天"
    if line.delay == "days_after_end_of_month":
        return "月底" if n == 0 else f"月结{n}天"
    if line.delay == "days_after_end_of_next_month":
        return "次月底" if n == 0 else f"次月底后{n}天"
    if line.months == 0:
        return f"当月{n}日"
    if line.months == 1:
        return f"次月{n}日"
    return f"{line.months}个月后的{n}日"


def describe(terms: Terms, lang: str = "en", currency: str = "CNY") -> str:
    """One line for people: '30 days after end of month' / '月结30天'."""
    zh = lang.lower().startswith("zh")
    delay = _delay_zh if zh else _delay_en
    lines = terms.lines
    if len(lines) == 1 and (lines[0].kind == "balance" or (lines[0].kind == "percent" and lines[0].value == FULL)):
        parts = [delay(lines[0])]
    else:
        parts = []
        for line in lines:
            if line.kind == "percent":
                portion = _bp_text(line.value)
            elif line.kind == "fixed":
                portion = money.format_amount(line.value, currency)
            else:
                portion = "余款" if zh else "balance"
            parts.append(f"{portion} {delay(line)}")
    if terms.discount_bp:
        pct = _bp_text(terms.discount_bp)
        parts.append(
            f"{terms.discount_days}天内付款折扣{pct}" if zh else f"{pct} discount if paid within {terms.discount_days} days"
        )
    if terms.late_interest_bp:
        pct = _bp_text(terms.late_interest_bp)
        parts.append(f"逾期年息{pct}" if zh else f"late interest {pct} a year")
    return ("，" if zh else ", ").join(parts)


def _single(name: str, delay: str, days: int, **extra: int) -> Terms:
    return Terms(name, (TermLine("percent", FULL, delay, days),), **extra)


BUILTIN_TERMS: dict[str, Terms] = {
    "NET30": _single("NET30", "days_after", 30),
    "NET60": _single("NET60", "days_after", 60),
    "EOM30": _single("EOM30", "days_after_end_of_month", 30),  # 月结30天
    "EOM60": _single("EOM60", "days_after_end_of_month", 60),  # 月结60天
    "COD": _single("COD", "days_after", 0),  # 货到付款 / 见票即付
    "2/10NET30": _single("2/10NET30", "days_after", 30, discount_bp=200, discount_days=10),
    "30/70": Terms(
        "30/70",
        (TermLine("percent", 3000, "days_after", 0), TermLine("balance", 0, "days_after", 60)),
    ),
}

# The built-in terms by the names Chinese bookkeepers use (月结30 is EOM30): accepted wherever terms are typed
# or imported, stored under the built-in's own name; `terms list` shows both.
BUILTIN_ZH: dict[str, str] = {
    "NET30": "票到30天", "NET60": "票到60天", "EOM30": "月结30", "EOM60": "月结60", "COD": "货到付款",
    "2/10NET30": "10天内付2%折扣30天", "30/70": "预付30%余款60天",
}
_ALIASES = {**{zh: name for name, zh in BUILTIN_ZH.items()}, "月结30天": "EOM30", "月结60天": "EOM60",
            "见票即付": "COD", "款到发货": "COD", "票到30天付款": "NET30", "票到60天付款": "NET60"}


_BUILTIN_UPPER = {name.upper(): name for name in BUILTIN_TERMS}


def builtin_name(text: str | None) -> str | None:
    """The built-in terms a person means: 'EOM30', 'eom30', '月结30' and '月结30天' are EOM30; None if none."""
    typed = (text or "").strip()
    if typed in BUILTIN_TERMS or not typed:
        return typed or None
    return _BUILTIN_UPPER.get(typed.upper()) or _ALIASES.get(typed.replace(" ", "").replace("\u3000", ""))


def terms_name(text: str | None) -> str:
    """What a person typed for terms, with a built-in's other names (月结30) given as the built-in's (EOM30)."""
    return builtin_name(text) or (text or "").strip()
