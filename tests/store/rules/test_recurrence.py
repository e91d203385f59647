"""The date of a recurring invoice's n-th occurrence (store.rules.recurrence): computed from the start and n alone, so
it never depends on when runs happened; the 31st clamps to February and comes back; the last day of the month;
every N weeks; end and count."""
from __future__ import annotations

import calendar
from datetime import date, timedelta

from hypothesis import given, settings, strategies as st

from store.rules.recurrence import LAST_DAY, Rule, due_through, occurrence


# --- the date rule --------------------------------------------------------------------------------------------

def test_the_31st_clamps_to_february_and_returns_to_the_31st():
    rule = Rule("month", 1, date(2027, 1, 31), 31)
    assert [occurrence(rule, n) for n in range(1, 5)] == [
        date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30)]
    leap = Rule("month", 1, date(2028, 1, 31))  # the start's day
    assert occurrence(leap, 2) == date(2028, 2, 29) and occurrence(leap, 3) == date(2028, 3, 31)


def test_last_day_of_the_month_is_every_months_last_day():
    rule = Rule("month", 1, date(2026, 1, 1), LAST_DAY)
    assert [occurrence(rule, n).day for n in range(1, 13)] == [
        calendar.monthrange(2026, m)[1] for m in range(1, 13)]


def test_a_day_before_the_start_in_its_month_begins_the_next_month():
    rule = Rule("month", 1, date(2026, 1, 20), 10)
    assert occurrence(rule, 1) == date(2026, 2, 10)
    assert occurrence(Rule("month", 3, date(2026, 1, 5), 5), 3) == date(2026, 7, 5)  # quarterly
    assert occurrence(Rule("month", 12, date(2024, 2, 29)), 2) == date(2025, 2, 28)  # yearly, leap day clamps
    assert occurrence(Rule("month", 12, date(2024, 2, 29)), 5) == date(2028, 2, 29)  # and comes back


def test_every_n_weeks_falls_on_the_starts_weekday():
    rule = Rule("week", 2, date(2026, 3, 2))
    dates = [occurrence(rule, n) for n in range(1, 6)]
    assert dates == [date(2026, 3, 2) + timedelta(weeks=2 * i) for i in range(5)]
    assert {d.weekday() for d in dates} == {0}


def test_end_and_count_bound_the_schedule():
    assert [d for _, d in due_through(Rule("month", 1, date(2026, 1, 15), count=3), date(2030, 1, 1))] == [
        date(2026, 1, 15), date(2026, 2, 15), date(2026, 3, 15)]
    assert len(due_through(Rule("week", 1, date(2026, 1, 1), end=date(2026, 1, 29)), date(2030, 1, 1))) == 5


rules = st.builds(
    Rule,
    unit=st.sampled_from(["month", "week"]),
    interval=st.integers(1, 12),
    start=st.dates(date(2000, 1, 1), date(2040, 12, 31)),
    day=st.none(),
    end=st.none(),
    count=st.none() | st.integers(1, 40),
).flatmap(lambda r: st.builds(
    lambda day: Rule(r.unit, r.interval, r.start, day if r.unit == "month" else None, None, r.count),
    st.none() | st.just(LAST_DAY) | st.integers(1, 31)))


@settings(max_examples=200, deadline=None)
@given(rule=rules, steps=st.lists(st.integers(0, 400), min_size=1, max_size=8))
def test_occurrences_never_depend_on_when_runs_happened(rule, steps):
    """Runs at any sequence of dates issue exactly the occurrences one run at the last date issues, each once,
    strictly in date order, and each monthly one on its day (or the month's last day when shorter)."""
    issued: dict[int, date] = {}
    when = rule.start
    for step in steps:
        when += timedelta(days=step)
        for n, d in due_through(rule, when):
            issued.setdefault(n, d)
    assert issued == dict(due_through(rule, when))
    dates = [issued[n] for n in sorted(issued)]
    assert dates == sorted(set(dates)) and all(d >= rule.start for d in dates)
    if rule.unit == "month":
        wanted = rule.start.day if rule.day is None else rule.day
        for d in dates:
            last = calendar.monthrange(d.year, d.month)[1]
            assert d.day == (last if wanted == LAST_DAY else min(wanted, last))
