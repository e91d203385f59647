"""When a recurring invoice (周期性账单) falls due: the date of its n-th occurrence.

The rule never drifts: occurrence n is computed from the start and n alone, never from the date of the
occurrence before it (or from when a run happened). A schedule on the 31st clamps to 28/29 February and is back
on 31 March; a catch-up after missed months issues exactly the dates an on-time run would have issued.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from store.i18n import N_

LAST_DAY = -1  # "day" of a monthly rule: the last day of each month (月末)

# What a person names and the rule behind it: (unit, how many units per step).
FREQUENCIES = {"monthly": ("month", 1), "quarterly": ("month", 3), "yearly": ("month", 12), "weekly": ("week", 1)}


@dataclass(frozen=True)
class Rule:
    """unit 'month' or 'week'; every `interval` units; for months, on `day` (1-31, or LAST_DAY; a day the month
    lacks clamps to its last day); from `start`; up to `end` (inclusive) and/or `count` occurrences."""

    unit: str
    interval: int
    start: date
    day: int | None = None
    end: date | None = None
    count: int | None = None


class BadRule(ValueError):
    """A rule that cannot be: named by what is wrong (a message id and its values, worded where it is shown)."""

    def __init__(self, message: str, /, **values):
        self.msgid, self.values = message, values
        super().__init__(message.format(**values))


def check(rule: Rule) -> Rule:
    if rule.unit not in ("month", "week"):
        raise BadRule(N_("unit {unit} is not month or week"), unit=repr(rule.unit))
    if rule.interval < 1:
        raise BadRule(N_("every {n}: must be 1 or more"), n=rule.interval)
    if rule.unit == "month" and rule.day is not None and rule.day != LAST_DAY and not 1 <= rule.day <= 31:
        raise BadRule(N_("day {day} is not a day of the month (1-31 or last)"), day=rule.day)
    if rule.unit == "week" and rule.day is not None:
        raise BadRule(N_("a weekly schedule falls on the start's weekday; it takes no day of the month"))
    if rule.end is not None and rule.end < rule.start:
        raise BadRule(N_("end {end} is before start {start}"), end=rule.end, start=rule.start)
    if rule.count is not None and rule.count < 1:
        raise BadRule(N_("count {n}: must be 1 or more"), n=rule.count)
    return rule


def _in_month(year: int, month: int, day: int) -> date:
    last = calendar.monthrange(year, month)[1]
    return date(year, month, last if day == LAST_DAY else min(day, last))


def _month_candidate(rule: Rule, k: int) -> date:
    """The rule's day in the k-th month after the start's month."""
    index = rule.start.year * 12 + rule.start.month - 1 + k
    return _in_month(index // 12, index % 12 + 1, rule.start.day if rule.day is None else rule.day)


def occurrence(rule: Rule, n: int) -> date:
    """The date of occurrence n (1 = the first on or after the start), whether or not the rule has ended."""
    if n < 1:
        raise BadRule(N_("occurrence {n}: occurrences count from 1"), n=n)
    if rule.unit == "week":
        return rule.start + timedelta(weeks=rule.interval * (n - 1))
    # The first occurrence is in the start's month when its day there is not before the start, else the next.
    first = 0 if _month_candidate(rule, 0) >= rule.start else 1
    return _month_candidate(rule, first + rule.interval * (n - 1))


def within(rule: Rule, n: int) -> bool:
    """Whether occurrence n belongs to the schedule (not past its count or its end)."""
    if rule.count is not None and n > rule.count:
        return False
    return rule.end is None or occurrence(rule, n) <= rule.end


def due_through(rule: Rule, as_of: date) -> list[tuple[int, date]]:
    """Every occurrence (n, date) of the schedule dated on or before as_of, in order."""
    out = []
    n = 1
    while within(rule, n) and (when := occurrence(rule, n)) <= as_of:
        out.append((n, when))
        n += 1
    return out


def upcoming(rule: Rule, after: date, through: date) -> list[tuple[int, date]]:
    """Occurrences dated after `after` and on or before `through` (for a forecast)."""
    return [(n, d) for n, d in due_through(rule, through) if d > after]


def next_after(rule: Rule, after: date) -> tuple[int, date] | None:
    """The first occurrence dated after `after`, or None when the schedule has ended by then."""
    n = 1
    while within(rule, n):
        when = occurrence(rule, n)
        if when > after:
            return n, when
        n += 1
    return None
