"""Pure field rules for what a person types: codes, e-mails, tax ids, dates, categories."""
from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from functools import lru_cache

from store.errors import InvalidInput, Said
from store.i18n import N_

_CODE = re.compile(r"^[\w][\w.\-/]{0,31}$")
_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;.]{2,}$")
_PHONE = re.compile(r"^\+?[\d\s\-()]{5,20}$")

# 统一社会信用代码 (GB 32100-2015): 18 characters, the last a check character.
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_OLD_CN_TAX_ID = re.compile(r"^(\d{15}|\d{17}[\dX]|\d{20})$")
_EU_VAT = re.compile(r"^[A-Z]{2}[0-9A-Z]{2,13}$")
_US_EIN = re.compile(r"^\d{2}-\d{7}$")

CATEGORIES = {"A": "A", "B": "B", "C": "C", "VIP": "VIP", "普通": "普通", "NORMAL": "普通", "风险": "风险", "RISK": "风险"}
CYCLES = {
    "per_order": "per_order", "order": "per_order", "逐单": "per_order", "按单": "per_order",
    "monthly": "monthly", "月结": "monthly",
    "quarterly": "quarterly", "季结": "quarterly",
    "yearly": "yearly", "annual": "yearly", "年结": "yearly",
}
LANGUAGES = {"zh": "zh", "zh-cn": "zh", "中文": "zh", "en": "en", "english": "en"}


def code(value: str) -> str:
    value = (value or "").strip()
    if not _CODE.match(value):
        raise InvalidInput(
            N_("code {value} is not valid: use up to 32 letters, digits, '-', '_', '.' or '/', no spaces"),
            value=repr(value), field="code"
        )
    return value


def required_text(value: str | None, field: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(N_("{field_name} must not be empty"), field_name=field, field=field)
    return value


def email(value: str) -> str:
    value = (value or "").strip()
    if not _EMAIL.match(value):
        raise InvalidInput(N_("e-mail {value} is not an address like name@example.com"),
                           value=repr(value), field="email")
    return value


def phone(value: str) -> str:
    value = (value or "").strip()
    if not _PHONE.match(value):
        raise InvalidInput(N_("phone {value} is not a phone number (digits, spaces, +, -, parentheses)"),
                           value=repr(value), field="phone")
    return value


def uscc_check_char(first17: str) -> str:
    total = sum(_USCC_CHARS.index(ch) * w for ch, w in zip(first17, _USCC_WEIGHTS))
    return _USCC_CHARS[(31 - total % 31) % 31]


def tax_id(value: str) -> str:
    """A Chinese unified social credit code (checked), an older numeric 税号, an EU VAT or a US EIN."""
    value = (value or "").strip().upper().replace(" ", "")
    if len(value) == 18 and all(ch in _USCC_CHARS for ch in value):
        if uscc_check_char(value[:17]) != value[17]:
            raise InvalidInput(
                N_("tax id {value}: the check character is wrong (expected {value2} at the end)"), value=repr(value),
                value2=repr(uscc_check_char(value[:17])),
                field="tax_id",
            )
        return value
    if _OLD_CN_TAX_ID.match(value) or _EU_VAT.match(value) or _US_EIN.match(value):
        return value
    raise InvalidInput(
        N_("tax id {value} is not valid: expected an 18-character 统一社会信用代码, a 15/20-digit 税号, an EU VAT number or a "
           "US EIN"), value=repr(value),
        field="tax_id",
    )


def choice(value: str, options: dict[str, str], field: str) -> str:
    key = (value or "").strip()
    found = options.get(key) or options.get(key.upper()) or options.get(key.lower())
    if not found:
        allowed = ", ".join(sorted(set(options.values())))
        raise InvalidInput(N_("{field_name} {value} is not one of: {allowed}"), field_name=field,
                           value=repr(value), allowed=allowed, field=field)
    return found


# The dates a ledger holds. Terms, reminders and reports add days and years to a date (a due date, a payment
# window, a forecast), and Python's calendar ends at 9999-12-31: a document dated near it would fail later, in
# some report, for good. 1900-2999 leaves centuries of room either side.
FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(2999, 12, 31)


def in_range(day: date, field: str = "date", shown: str | None = None) -> date:
    """The date itself, or a clear refusal when it is outside FIRST_DATE..LAST_DATE."""
    if not FIRST_DATE <= day <= LAST_DATE:
        raise InvalidInput(N_("{field_name} {value} is outside the dates a ledger holds ({first} to {last})"),
                           field_name=field, value=repr(shown or day.isoformat()), first=FIRST_DATE.isoformat(),
                           last=LAST_DATE.isoformat(), field=field)
    return day


# Text already read as a date -> the ISO date (a bulk import reads the same few hundred dates again and again).
_ISO_DATES: dict[str, str] = {}


def iso_date(value: str, field: str = "date") -> str:
    """'2026-02-28' -> '2026-02-28'; a date that does not exist is named as such."""
    found = _ISO_DATES.get(value) if type(value) is str else None
    if found is not None:
        return found
    text = (value or "").strip().replace("/", "-")
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if not match:
        raise InvalidInput(N_("{field_name} {value} is not a date (expected YYYY-MM-DD)"),
                           field_name=field, value=repr(value), field=field)
    try:
        day = date(*map(int, match.groups()))
    except ValueError:
        raise InvalidInput(N_("{field_name} {value} does not exist in the calendar"),
                           field_name=field, value=repr(value), field=field) from None
    found = in_range(day, field, value).isoformat()
    if type(value) is str and len(_ISO_DATES) < 100_000:
        _ISO_DATES[value] = found
    return found


# Words a person may type for a date, as days from today.
RELATIVE_DAYS = {"today": 0, "yesterday": -1, "tomorrow": 1, "今天": 0, "昨天": -1, "明天": 1}


def relative_date(value: str, today: date) -> str:
    """'today', 'yesterday', 'tomorrow' (今天, 昨天, 明天) as the ISO date they mean; any other text unchanged."""
    days = RELATIVE_DAYS.get((value or "").strip().lower())
    return value if days is None else (today + timedelta(days=days)).isoformat()


def parse_date(value: str, field: str = "date") -> date:
    return date.fromisoformat(iso_date(value, field))


def tags(value: str | list[str]) -> str:
    items = value if isinstance(value, list) else str(value or "").replace("，", ",").split(",")
    return ",".join(sorted({t.strip() for t in items if t.strip()}))


# Legal forms that do not tell two companies apart, stripped from the end of a name before comparing.
_LEGAL_FORMS = ("股份有限公司", "有限责任公司", "有限公司", "公司", "company", "co", "corporation", "corp",
                "incorporated", "inc", "limited", "ltd", "llc", "plc", "gmbh", "ag", "sa", "bv", "pte")


@lru_cache(maxsize=65536)
def name_key(name: str) -> str:
    """What two spellings of one company name have in common: 'ACME Ltd.' and 'Acme Limited' give 'acme',
    '上海恒达贸易有限公司' and '上海恒达贸易（有限公司）' give '上海恒达贸易' (case, width, punctuation, spaces
    and a trailing legal form do not count)."""
    text = re.sub(r"[\W_]+", " ", unicodedata.normalize("NFKC", name or "").casefold()).strip()
    changed = True
    while changed and text:
        changed = False
        for form in _LEGAL_FORMS:
            ascii_form = form.isascii()
            if text.endswith(form) and (not ascii_form or text == form or text[-len(form) - 1] == " "):
                rest = text[: -len(form)].strip()
                if rest:
                    text, changed = rest, True
                    break
    return text.replace(" ", "")


MIN_PASSPHRASE = 10


# zxcvbn's warnings (its small, fixed set of English sentences), as Duly shows them: first letter lower case, no
# full stop; listed so that the catalogue has their words in every language.
ZXCVBN_WARNINGS = (
    N_("straight rows of keys are easy to guess"), N_("short keyboard patterns are easy to guess"),
    N_('repeats like "aaa" are easy to guess'),
    N_('repeats like "abcabcabc" are only slightly harder to guess than "abc"'),
    N_('sequences like "abc" or "6543" are easy to guess'), N_("recent years are easy to guess"),
    N_("dates are often easy to guess"), N_("this is a top-10 common password"),
    N_("this is a top-100 common password"), N_("this is a very common password"),
    N_("this is similar to a commonly used password"), N_("a word by itself is easy to guess"),
    N_("names and surnames by themselves are easy to guess"), N_("common names and surnames are easy to guess"),
    N_("it would be guessed quickly"),
)


def passphrase_weakness(passphrase: str, context: tuple[str, ...] = ()) -> Said | None:
    """Why a passphrase is too weak to protect a ledger (shorter than 10 characters, or guessable by the zxcvbn
    estimator: score below 3 of 4), or None. `context` holds words an attacker would try first (the file name).
    str() of the answer is English; .text(language) words it (zxcvbn's warnings are in the catalogue)."""
    if len(passphrase) < MIN_PASSPHRASE:
        return Said(N_("it is shorter than {n} characters"), n=MIN_PASSPHRASE)
    from zxcvbn import zxcvbn  # ~40 ms to load its word lists: only when a passphrase is chosen

    found = zxcvbn(passphrase, user_inputs=["duly", "ledger", *context])
    if found["score"] < 3:
        hint = found["feedback"].get("warning") or "it would be guessed quickly"
        return Said(hint[0].lower() + hint[1:].rstrip("."))
    return None
