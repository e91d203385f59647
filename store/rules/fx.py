"""Foreign currency at a rate (汇率): the rules, pure.

- A rate says how many units of the ledger's base currency one unit of a currency is worth on a date
  (USD 7.1234 into CNY). Rates are exact decimals (at most 10 places, up to 10^9), never floats.
- The rate of a currency as of a date is the latest rate on or before that date; none before it is missing.
  The base currency's rate is 1 on every date.
- An amount converts from its minor units to the base currency's minor units at the rate, rounded half-up
  once, per amount: a converted table is the sum of converted cells, so it adds up as shown.
- Exchange difference of an open foreign amount between two dates: the amount at the later date's rate less
  the amount at the earlier one (positive: the receivable is worth more in the base currency, a gain).
"""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from store.errors import InvalidInput
from store.rules import money

MAX_PLACES = 10
MAX_RATE = Decimal(10) ** 9


def parse_rate(text: str | Decimal, *, per: int = 1, where: str = "rate") -> Decimal:
    """'7.1234' -> Decimal('7.1234'); with per=100 (a table quoted per 100 units, as the PBOC's is) the value
    is divided by 100. Refuses zero, negatives, more than 10 decimal places and absurd sizes."""
    raw = str(text).strip().replace(",", "")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise InvalidInput(f"{where}: {str(text).strip()!r} is not a number (e.g. 7.1234)", field="rate") from None
    if not value.is_finite() or value <= 0:
        raise InvalidInput(f"{where}: {raw!r} must be a positive number", field="rate")
    if per != 1:
        value = value / per
    value = value.normalize()
    if value.as_tuple().exponent < -MAX_PLACES or value >= MAX_RATE:
        raise InvalidInput(f"{where}: {raw!r} has more than {MAX_PLACES} decimal places or is too large",
                           field="rate")
    return value


def rate_text(rate: Decimal) -> str:
    """How a rate is stored and shown: plain decimal digits, no exponent, no trailing zeros."""
    return format(rate.normalize(), "f")


def convert(minor: int, currency: str, rate: Decimal, target: str) -> int:
    """minor units of `currency` -> minor units of `target` at `rate` (target units per unit), half-up once."""
    value = Decimal(minor) * rate * (Decimal(10) ** (money.exponent(target) - money.exponent(currency)))
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Rate:
    currency: str
    on: date
    rate: Decimal


class RateBook:
    """Every rate known, per currency in date order, to answer 'the rate of X as of D' without a query each."""

    def __init__(self, base: str, rates: Iterable[Rate]):
        self.base = base
        self._dates: dict[str, list[date]] = {}
        self._rates: dict[str, list[Rate]] = {}
        for r in sorted(rates, key=lambda r: (r.currency, r.on)):
            self._dates.setdefault(r.currency, []).append(r.on)
            self._rates.setdefault(r.currency, []).append(r)

    def as_of(self, currency: str, on: date) -> Rate | None:
        """The latest rate on or before `on` (the base currency: 1 on that date); None when there is none."""
        if currency == self.base:
            return Rate(currency, on, Decimal(1))
        dates = self._dates.get(currency)
        if not dates:
            return None
        i = bisect_right(dates, on)
        return self._rates[currency][i - 1] if i else None

    def convert(self, minor: int, currency: str, on: date) -> int | None:
        found = self.as_of(currency, on)
        return None if found is None else convert(minor, currency, found.rate, self.base)


def into(minor: int, currency: str, target: str, rates: Mapping[str, Rate | None], base: str) -> int | None:
    """Convert into any target currency through the base: amount × rate(currency) / rate(target)."""
    if currency == target:
        return minor
    src, dst = rates.get(currency), rates.get(target)
    if (src is None and currency != base) or (dst is None and target != base):
        return None
    rate = (src.rate if currency != base else Decimal(1)) / (dst.rate if target != base else Decimal(1))
    return convert(minor, currency, rate, target)
