"""Money as integer minor units (fen, cents) with an ISO 4217 currency; decimal strings at the edges."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from store.errors import InvalidInput

# Minor-unit exponents (ISO 4217). Currencies not listed here use 2.
EXPONENTS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "BHD": 3, "KWD": 3, "OMR": 3, "TND": 3, "JOD": 3}
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_AMOUNT = re.compile(r"^[+-]?(\d+(,\d{3})*|\d*)(\.\d*)?$")


# The largest amount a ledger holds, in minor units (10 trillion CNY): sums of many of them stay far inside
# SQLite's 64-bit integers (2^63 is about 9.2 * 10^18), so no report can overflow.
MAX_MINOR = 10**15


def exponent(currency: str) -> int:
    return EXPONENTS.get(currency, 2)


def check_currency(code: str) -> str:
    """Return the upper-cased ISO 4217 code, or raise InvalidInput."""
    code = (code or "").strip().upper()
    if not _CURRENCY.match(code):
        raise InvalidInput(f"currency {code!r} is not a three-letter ISO 4217 code", field="currency")
    return code


def parse_amount(text: str | int, currency: str, *, field: str = "amount", allow_negative: bool = False) -> int:
    """'1,234.56' CNY -> 123456. Refuses more decimals than the currency has (10.005 CNY)."""
    if isinstance(text, bool):
        raise InvalidInput(f"{field}: expected an amount, got {text!r}", field=field)
    if isinstance(text, int):
        return _in_range(text * 10 ** exponent(currency), text, currency, field)
    raw = str(text).strip().replace("¥", "").replace("￥", "").replace("$", "").replace("€", "").strip()
    if not raw or not _AMOUNT.match(raw) or raw in {".", "+", "-"}:
        raise InvalidInput(f"{field}: {text!r} is not an amount (expected e.g. 1234.56)", field=field)
    try:
        value = Decimal(raw.replace(",", ""))
    except InvalidOperation:
        raise InvalidInput(f"{field}: {text!r} is not an amount (expected e.g. 1234.56)", field=field) from None
    exp = exponent(currency)
    scaled = value.scaleb(exp)
    if scaled != scaled.to_integral_value():
        raise InvalidInput(
            f"{field}: {text!r} has more than {exp} decimal places, which {currency} does not allow", field=field
        )
    minor = int(scaled)
    if minor < 0 and not allow_negative:
        raise InvalidInput(f"{field}: {text!r} must not be negative", field=field)
    return _in_range(minor, text, currency, field)


def _in_range(minor: int, text, currency: str, field: str) -> int:
    if abs(minor) > MAX_MINOR:
        raise InvalidInput(f"{field}: {text!r} is more than a ledger holds (at most "
                           f"{format_amount(MAX_MINOR, currency)} {currency})", field=field)
    return minor


def to_decimal_str(minor: int, currency: str) -> str:
    """123456 CNY -> '1234.56' (the form used in JSON and CSV)."""
    exp = exponent(currency)
    if exp == 0:
        return str(minor)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**exp)
    return f"{sign}{whole}.{frac:0{exp}d}"


def format_amount(minor: int, currency: str | None = None, *, symbol: bool = False) -> str:
    """123456 -> '1,234.56' (thousands separators, for people)."""
    cur = currency or "CNY"
    exp = exponent(cur)
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**exp)
    text = f"{sign}{whole:,}" + (f".{frac:0{exp}d}" if exp else "")
    return f"{text} {cur}" if symbol and currency else text
