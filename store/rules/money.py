"""Money as integer minor units (fen, cents) with an ISO 4217 currency; decimal strings at the edges."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from store.errors import InvalidInput
from store.i18n import N_

# Currencies are ISO 4217 codes with the minor units the standard gives them, read from the iso4217 package
# (which ships the maintenance agency's table). The currencies most books use are listed here too, so that
# formatting an amount never has to load the table (~20 ms); a test checks they agree with the standard.
COMMON_MINOR_UNITS = {"CNY": 2, "USD": 2, "EUR": 2, "HKD": 2, "GBP": 2, "JPY": 0, "KRW": 0, "SGD": 2, "TWD": 2,
                      "MOP": 2, "AUD": 2, "CAD": 2, "CHF": 2}
# What people write for a currency that is not its code.
ALIASES = {"RMB": "CNY", "人民币": "CNY", "RMB¥": "CNY"}
_AMOUNT = re.compile(r"^[+-]?(\d+(,\d{3})*|\d*)(\.\d*)?$")
# The plain form a file written by a program holds ('1234.56'): read without Decimal (a bulk import reads millions).
_PLAIN = re.compile(r"([0-9]{1,18})(?:\.([0-9]*))?")
_exponents = dict(COMMON_MINOR_UNITS)  # every code looked up so far
_iso_table: dict[str, int] | None = None


def iso_minor_units() -> dict[str, int]:
    """{code: minor units} of every ISO 4217 currency that has minor units (not gold, SDR or test codes)."""
    global _iso_table
    if _iso_table is None:
        import iso4217

        _iso_table = {code: int(entry["CcyMnrUnts"]) for code, entry in iso4217.raw_table.items()
                      if code and (entry.get("CcyMnrUnts") or "").isdigit()}
    return _iso_table


def iso_currency_names() -> dict[str, str]:
    """{code: English name} of the ISO 4217 currencies iso_minor_units() holds, by code."""
    import iso4217

    table = iso_minor_units()
    return {code: str(iso4217.raw_table[code].get("CcyNm") or "") for code in sorted(table)}


# The largest amount a ledger holds, in minor units (10 trillion CNY): sums of many of them stay far inside
# SQLite's 64-bit integers (2^63 is about 9.2 * 10^18), so no report can overflow.
MAX_MINOR = 10**15


def exponent(currency: str) -> int:
    """Minor units of a currency (CNY 2, JPY 0, KWD 3). A code that is not ISO 4217, kept in a ledger from
    before currencies were checked, counts 2 decimals as it always did."""
    found = _exponents.get(currency)
    if found is None:
        found = _exponents[currency] = iso_minor_units().get(currency, 2)
    return found


def is_iso_currency(code: str) -> bool:
    return code in COMMON_MINOR_UNITS or code in iso_minor_units()


def stored_currency(code: str | None) -> str:
    """A currency as a ledger holds it, read without refusing: a ledger kept from before currencies were checked
    may hold a code that is not ISO 4217 and must still open (`settings.currency_problems` says what to fix)."""
    code = (code or "CNY").strip().upper()
    return ALIASES.get(code, code)


def check_currency(code: str) -> str:
    """Return the ISO 4217 code a person means ('usd' -> USD, 'RMB' -> CNY), or raise InvalidInput."""
    code = (code or "").strip().upper()
    code = ALIASES.get(code, code)
    if not is_iso_currency(code):
        raise InvalidInput(N_("currency {code} is not an ISO 4217 currency code (e.g. CNY, USD, EUR, JPY)"),
                           code=repr(code),
                           field="currency")
    return code


def parse_amount(text: str | int, currency: str, *, field: str = "amount", allow_negative: bool = False) -> int:
    """'1,234.56' CNY -> 123456. Refuses more decimals than the currency has (10.005 CNY)."""
    plain = _PLAIN.fullmatch(text) if type(text) is str else None
    if plain is not None:  # the same value as below, by integer arithmetic (most amounts a file holds: 1234.56)
        whole, frac = plain.groups()
        exp = _exponents.get(currency)
        if exp is None:
            exp = exponent(currency)
        if frac is None:
            minor = int(whole) * 10**exp
        elif len(frac) == exp:
            minor = int(whole + frac)
        elif len(frac) < exp:
            minor = int(whole + frac) * 10 ** (exp - len(frac))
        else:
            minor = None  # more decimals than the currency has: said below (or 1.000 read as 1.00)
        if minor is not None:
            return minor if minor <= MAX_MINOR else _in_range(minor, text, currency, field)
    if isinstance(text, bool):
        raise InvalidInput(N_("{field_name}: expected an amount, got {text}"), field_name=field,
                           text=repr(text), field=field)
    if isinstance(text, int):
        return _in_range(text * 10 ** exponent(currency), text, currency, field)
    raw = str(text).strip().replace("¥", "").replace("￥", "").replace("$", "").replace("€", "").strip()
    if not raw or not _AMOUNT.match(raw) or raw in {".", "+", "-"}:
        raise InvalidInput(N_("{field_name}: {text} is not an amount (expected e.g. 1234.56)"),
                           field_name=field, text=repr(text), field=field)
    try:
        value = Decimal(raw.replace(",", ""))
    except InvalidOperation:
        raise InvalidInput(N_("{field_name}: {text} is not an amount (expected e.g. 1234.56)"),
                           field_name=field, text=repr(text), field=field) from None
    exp = exponent(currency)
    scaled = value.scaleb(exp)
    if scaled != scaled.to_integral_value():
        raise InvalidInput(
            N_("{field_name}: {text} has more than {exp} decimal places, which {currency} does not allow"),
            field_name=field, text=repr(text), exp=exp, currency=currency, field=field
        )
    minor = int(scaled)
    if minor < 0 and not allow_negative:
        raise InvalidInput(N_("{field_name}: {text} must not be negative"), field_name=field,
                           text=repr(text), field=field)
    return _in_range(minor, text, currency, field)


def _in_range(minor: int, text, currency: str, field: str) -> int:
    if abs(minor) > MAX_MINOR:
        raise InvalidInput(N_("{field_name}: {text} is more than a ledger holds (at most {max_minor} {currency})"),
                           field_name=field, text=repr(text),
                           max_minor=format_amount(MAX_MINOR, currency), currency=currency, field=field)
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
