"""Payment terms (账期): every delay rule with hand-computed dates, parsing, validation and splitting."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from store.errors import InvalidInput
from store.rules.terms import (
    BUILTIN_TERMS,
    TermLine,
    Terms,
    day_of_month,
    days_after,
    days_after_end_of_month,
    days_after_end_of_next_month,
    describe,
    due_date,
    instalments,
    parse_discount,
    parse_term_line,
    preview,
    validate_terms,
)


def terms(*lines: str, name: str = "T", currency: str = "CNY") -> Terms:
    return Terms(name, tuple(parse_term_line(text, currency) for text in lines))


# --- days_after ------------------------------------------------------------------------------------


def test_net_30_counts_calendar_days_through_february():
    assert days_after(date(2026, 2, 10), 30) == date(2026, 3, 12)  # 18 left in Feb + 12


def test_net_30_in_leap_february_lands_a_day_earlier():
    assert days_after(date(2028, 2, 10), 30) == date(2028, 3, 11)  # 19 left in Feb + 11


def test_net_30_from_december_wraps_into_next_year():
    assert days_after(date(2026, 12, 15), 30) == date(2027, 1, 14)


def test_net_0_is_due_on_the_invoice_date():
    assert days_after(date(2026, 5, 20), 0) == date(2026, 5, 20)


# --- days_after_end_of_month (月结N天) ---------------------------------------------------------------


def test_end_of_month_30_days_crosses_into_march():
    # Jan 31 + 30 days: 28 days to Feb 28, then Mar 1, Mar 2.
    assert days_after_end_of_month(date(2026, 1, 15), 30) == date(2026, 3, 2)


def test_end_of_month_30_days_in_leap_year_lands_on_march_first():
    assert days_after_end_of_month(date(2028, 1, 15), 30) == date(2028, 3, 1)


def test_end_of_month_0_days_is_the_last_day_of_february():
    assert days_after_end_of_month(date(2026, 2, 1), 0) == date(2026, 2, 28)
    assert days_after_end_of_month(date(2028, 2, 1), 0) == date(2028, 2, 29)


def test_end_of_month_is_the_same_for_every_day_of_the_month():
    assert days_after_end_of_month(date(2026, 4, 1), 60) == days_after_end_of_month(date(2026, 4, 30), 60)
    assert days_after_end_of_month(date(2026, 4, 30), 60) == date(2026, 6, 29)  # Apr 30 + 31 (May) + 29


def test_end_of_month_from_december_wraps_into_next_year():
    assert days_after_end_of_month(date(2026, 12, 5), 30) == date(2027, 1, 30)


# --- days_after_end_of_next_month --------------------------------------------------------------------


def test_end_of_next_month_for_january_is_end_of_february():
    assert days_after_end_of_next_month(date(2026, 1, 15), 0) == date(2026, 2, 28)
    assert days_after_end_of_next_month(date(2028, 1, 15), 0) == date(2028, 2, 29)


def test_end_of_next_month_plus_days_from_december_is_in_february():
    assert days_after_end_of_next_month(date(2026, 12, 10), 15) == date(2027, 2, 15)  # Jan 31 + 15


def test_end_of_next_month_from_november_wraps_the_year():
    assert days_after_end_of_next_month(date(2026, 11, 30), 10) == date(2027, 1, 10)  # Dec 31 + 10


# --- day_of_month ----------------------------------------------------------------------------------


def test_day_31_one_month_after_january_31_is_february_28():
    assert day_of_month(date(2026, 1, 31), 31, 1) == date(2026, 2, 28)


def test_day_31_three_months_after_january_31_is_april_30():
    assert day_of_month(date(2026, 1, 31), 31, 3) == date(2026, 4, 30)


def test_day_30_in_leap_february_is_capped_at_29():
    assert day_of_month(date(2028, 1, 31), 30, 1) == date(2028, 2, 29)


def test_day_of_month_from_december_wraps_the_year():
    assert day_of_month(date(2026, 12, 20), 10, 1) == date(2027, 1, 10)
    assert day_of_month(date(2026, 11, 20), 15, 14) == date(2028, 1, 15)


def test_day_of_month_in_the_same_month_is_never_before_the_invoice():
    assert day_of_month(date(2026, 5, 20), 15, 0) == date(2026, 5, 20)
    assert day_of_month(date(2026, 5, 10), 25, 0) == date(2026, 5, 25)


# --- due_date dispatch -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (TermLine("percent", 10000, "days_after", 45), date(2026, 3, 1)),
        (TermLine("percent", 10000, "days_after_end_of_month", 30), date(2026, 3, 2)),
        (TermLine("percent", 10000, "days_after_end_of_next_month", 5), date(2026, 3, 5)),
        (TermLine("percent", 10000, "day_of_month", 31, 1), date(2026, 2, 28)),
    ],
)
def test_due_date_follows_the_lines_delay_rule(line, expected):
    assert due_date(line, date(2026, 1, 15)) == expected


def test_due_date_refuses_an_unknown_rule():
    with pytest.raises(InvalidInput, match="weekly"):
        due_date(TermLine("percent", 10000, "weekly", 1), date(2026, 1, 1))


# --- parse_term_line -------------------------------------------------------------------------------


def test_parse_full_month_end_line():
    assert parse_term_line("100%:days_after_end_of_month:30") == TermLine(
        "percent", 10000, "days_after_end_of_month", 30
    )


def test_parse_percent_balance_and_day_of_month_lines():
    assert parse_term_line("30%:days_after:0") == TermLine("percent", 3000, "days_after", 0)
    assert parse_term_line("33.33%:days_after:30") == TermLine("percent", 3333, "days_after", 30)
    assert parse_term_line("balance:days_after:60") == TermLine("balance", 0, "days_after", 60)
    assert parse_term_line("100%:day_of_month:15:1") == TermLine("percent", 10000, "day_of_month", 15, 1)


def test_parse_fixed_amount_uses_the_currency_minor_unit():
    assert parse_term_line("500.00:days_after:0") == TermLine("fixed", 50000, "days_after", 0)
    assert parse_term_line("500:days_after:0", "JPY") == TermLine("fixed", 500, "days_after", 0)


def test_parse_accepts_short_aliases():
    assert parse_term_line("100%:net:30").delay == "days_after"
    assert parse_term_line("100%:eom:30").delay == "days_after_end_of_month"
    assert parse_term_line("100%:eonm:0").delay == "days_after_end_of_next_month"
    assert parse_term_line("100%:DOM:10:2") == TermLine("percent", 10000, "day_of_month", 10, 2)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("100%:days_after", "PORTION:DELAY:N"),
        ("100%:days_after:30:1:2", "PORTION:DELAY:N"),
        ("abc:days_after:30", "portion 'abc'"),
        ("33.333%:days_after:30", "portion '33.333%'"),
        ("101%:days_after:30", "at most 100%"),
        ("0%:days_after:30", "more than 0%"),
        ("500.001:days_after:0", "portion '500.001'"),
        ("0.00:days_after:0", "more than zero"),
        ("100%:weekly:30", "delay 'weekly'"),
        ("100%:days_after:-1", "days '-1'"),
        ("100%:days_after:thirty", "days 'thirty'"),
        ("100%:days_after:30:1", "MONTHS is only for day_of_month"),
        ("100%:day_of_month:32:1", "day 32"),
        ("100%:day_of_month:0:1", "day 0"),
        ("100%:day_of_month:15:x", "months 'x'"),
    ],
)
def test_parse_names_the_wrong_part(text, says):
    with pytest.raises(InvalidInput) as err:
        parse_term_line(text)
    assert says in str(err.value)


# --- parse_discount --------------------------------------------------------------------------------


def test_parse_two_ten_net_thirty_discount():
    assert parse_discount("2/10") == (200, 10)


def test_parse_discount_with_decimals_and_percent_sign():
    assert parse_discount("1.5/15") == (150, 15)
    assert parse_discount("2%/10") == (200, 10)


@pytest.mark.parametrize("text", ["2", "x/10", "2/ten", "100/10", "0/10", "2/10/30"])
def test_parse_discount_refuses_malformed_text(text):
    with pytest.raises(InvalidInput, match="discount"):
        parse_discount(text)


# --- validate_terms --------------------------------------------------------------------------------


def test_terms_need_at_least_one_line():
    with pytest.raises(InvalidInput, match="at least one line"):
        validate_terms(Terms("empty", ()))


def test_percents_over_100_are_refused():
    with pytest.raises(InvalidInput, match="110%"):
        validate_terms(terms("60%:net:0", "50%:net:30", "balance:net:60"))


def test_percent_only_terms_must_total_exactly_100():
    with pytest.raises(InvalidInput, match="90%"):
        validate_terms(terms("50%:net:0", "40%:net:30"))
    validate_terms(terms("33.33%:net:0", "33.33%:net:30", "33.34%:net:60"))


def test_only_one_balance_line_and_it_comes_last():
    with pytest.raises(InvalidInput, match="only one balance"):
        validate_terms(terms("balance:net:0", "balance:net:30"))
    with pytest.raises(InvalidInput, match="last"):
        validate_terms(terms("balance:net:0", "50%:net:30"))


def test_fixed_lines_after_a_full_100_percent_are_refused():
    with pytest.raises(InvalidInput, match="never be due"):
        validate_terms(terms("100%:net:0", "500.00:net:30"))


def test_fixed_lines_without_balance_must_cover_the_invoice():
    t = terms("500.00:net:0", "50%:net:30")
    validate_terms(t, 100000)  # 500.00 + 500.00 covers 1000.00
    with pytest.raises(InvalidInput, match="balance line"):
        instalments(t, 100001, date(2026, 1, 1))


def test_every_builtin_term_is_valid():
    for t in BUILTIN_TERMS.values():
        validate_terms(t)
    assert set(BUILTIN_TERMS) == {"NET30", "NET60", "EOM30", "EOM60", "COD", "2/10NET30", "30/70"}


# --- instalments -----------------------------------------------------------------------------------


def test_thirds_of_100_put_the_rounding_cent_on_the_balance():
    t = terms("33.33%:net:0", "33.33%:net:30", "balance:net:60")
    assert instalments(t, 10000, date(2026, 1, 1)) == [
        (date(2026, 1, 1), 3333),
        (date(2026, 1, 31), 3333),
        (date(2026, 3, 2), 3334),
    ]


def test_percent_lines_round_down_and_last_line_takes_the_remainder():
    t = terms("50%:net:0", "50%:net:30")
    assert instalments(t, 101, date(2026, 1, 1)) == [(date(2026, 1, 1), 50), (date(2026, 1, 31), 51)]


def test_thirty_seventy_split_of_an_odd_amount():
    items = instalments(BUILTIN_TERMS["30/70"], 100001, date(2026, 12, 15))
    assert items == [(date(2026, 12, 15), 30000), (date(2027, 2, 13), 70001)]


def test_fixed_deposit_is_capped_at_the_invoice_total():
    t = terms("500.00:net:0", "balance:net:30")
    assert instalments(t, 30000, date(2026, 1, 1)) == [(date(2026, 1, 1), 30000)]


def test_fixed_deposit_then_balance():
    t = terms("500.00:net:0", "balance:eom:30")
    assert instalments(t, 120000, date(2026, 1, 15)) == [(date(2026, 1, 15), 50000), (date(2026, 3, 2), 70000)]


def test_items_due_the_same_day_are_merged():
    t = terms("50%:net:30", "balance:net:30")
    assert instalments(t, 99999, date(2026, 1, 1)) == [(date(2026, 1, 31), 99999)]


def test_items_are_sorted_by_due_date_not_line_order():
    t = terms("50%:net:60", "balance:net:0")
    assert instalments(t, 1000, date(2026, 1, 1)) == [(date(2026, 1, 1), 500), (date(2026, 3, 2), 500)]


def test_zero_total_has_no_items_and_negative_is_refused():
    assert instalments(BUILTIN_TERMS["NET30"], 0, date(2026, 1, 1)) == []
    with pytest.raises(InvalidInput, match="negative"):
        instalments(BUILTIN_TERMS["NET30"], -1, date(2026, 1, 1))


def test_preview_shows_the_same_items_as_instalments():
    t = BUILTIN_TERMS["EOM30"]
    assert preview(t, date(2026, 1, 15), 123456) == [(date(2026, 3, 2), 123456)]


_line = st.one_of(
    st.builds(TermLine, st.just("percent"), st.integers(1, 5000), st.just("days_after"), st.integers(0, 90)),
    st.builds(TermLine, st.just("fixed"), st.integers(1, 10**6), st.just("days_after_end_of_month"), st.integers(0, 90)),
)


@given(
    lines=st.lists(_line, min_size=0, max_size=4),
    balance_days=st.integers(0, 120),
    total=st.integers(0, 10**9),
    day=st.dates(date(2020, 1, 1), date(2035, 12, 31)),
)
def test_instalments_always_sum_to_the_total(lines, balance_days, total, day):
    lines = [line for line in lines if line.kind == "fixed"] + [line for line in lines if line.kind == "percent"][:2]
    t = Terms("P", (*lines, TermLine("balance", 0, "days_after", balance_days)))
    items = instalments(t, total, day)
    assert sum(amount for _, amount in items) == total
    assert all(amount > 0 for _, amount in items)
    dates = [d for d, _ in items]
    assert dates == sorted(set(dates))
    assert all(d >= day for d in dates)


# --- describe --------------------------------------------------------------------------------------


def test_describe_month_end_in_both_languages():
    assert describe(BUILTIN_TERMS["EOM30"]) == "30 days after end of month"
    assert describe(BUILTIN_TERMS["EOM30"], "zh") == "月结30天"


def test_describe_instalments_and_discount():
    assert describe(BUILTIN_TERMS["30/70"]) == "30% due on invoice date, balance 60 days after invoice date"
    assert describe(BUILTIN_TERMS["2/10NET30"]) == "30 days after invoice date, 2% discount if paid within 10 days"
    assert describe(BUILTIN_TERMS["2/10NET30"], "zh") == "开票后30天，10天内付款折扣2%"


def test_describe_day_of_month_and_fractional_percent():
    t = terms("33.33%:dom:15:1", "balance:eonm:0")
    assert describe(t) == "33.33% on day 15 of the next month, balance end of next month"
    assert describe(t, "zh") == "33.33% 次月15日，余款 次月底"
