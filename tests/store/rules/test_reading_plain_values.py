"""Amounts and dates as a program writes them ('1234.56', '2026-02-28') are read by a short path (a bulk import
reads millions): it gives exactly what the general reading gives, and refuses what it refuses."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from store.errors import InvalidInput
from store.rules import money, validate


def _by_decimal(text: str, currency: str) -> int | None:
    """What an amount is worth in minor units, read as a Decimal; None when the currency has fewer decimals."""
    scaled = Decimal(text).scaleb(money.exponent(currency))
    return int(scaled) if scaled == scaled.to_integral_value() else None


@given(whole=st.text("0123456789", min_size=1, max_size=17), dot=st.booleans(),
       frac=st.text("0123456789", max_size=5), currency=st.sampled_from(["CNY", "JPY", "KWD", "USD"]))
def test_a_plain_amount_is_worth_what_its_decimal_is(whole, dot, frac, currency):
    text = whole + ("." + frac if dot else "")
    want = _by_decimal(text, currency)
    if want is None or want > money.MAX_MINOR:
        with pytest.raises(InvalidInput):
            money.parse_amount(text, currency)
    else:
        assert money.parse_amount(text, currency) == want
        assert money.parse_amount(f" {text} ", currency) == want  # the same amount typed with spaces


@pytest.mark.parametrize("text", [".", "", "1.2.3", "-5.00", "12,3", "1e5"])
def test_what_is_not_a_plain_amount_is_read_as_before(text):
    with pytest.raises(InvalidInput):
        money.parse_amount(text, "CNY")


def test_an_amount_with_thousands_separators_or_a_symbol_still_reads():
    assert money.parse_amount("1,234.5", "CNY") == 123450
    assert money.parse_amount("¥12.", "CNY") == 1200


def test_a_date_read_again_is_the_same_date_and_a_bad_one_is_refused_every_time():
    assert validate.iso_date("2026-2-8") == validate.iso_date("2026-2-8") == "2026-02-08"
    for _ in range(2):
        with pytest.raises(InvalidInput, match="does not exist"):
            validate.iso_date("2026-02-30", "invoice date")
        with pytest.raises(InvalidInput, match="outside the dates"):
            validate.iso_date("3001-01-01")
