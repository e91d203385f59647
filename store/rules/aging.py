"""Aging (账龄): open items sorted into buckets by days past due (or days since invoice) as of a date.

Unapplied cash and credits stand in their own negative column, so a row's buckets plus its unapplied
amount always equal the customer's open balance in that currency.
"""
from __future__ import annotations

import calendar
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from store.rules import money
from store.rules.openitems import OpenItem, Unapplied
from store.errors import InvalidInput

DEFAULT_EDGES: tuple[int, ...] = (30, 60, 90, 120)
NOT_DUE = "not_due"
UNAPPLIED = "unapplied"
BASES = ("due", "invoice")
YEAR_LABELS = ["1年以内", "1-2年", "2-3年", "3年以上"]


@dataclass(frozen=True)
class AgingReport:
    as_of: date
    basis: str
    buckets: list[str]  # labels, in order; 'unapplied' is a separate column
    rows: list[dict[str, Any]]  # customer, name, currency, total, each label, 'unapplied' (<= 0)
    totals: dict[str, dict[str, int]]  # currency -> total, each label, 'unapplied'


def check_edges(edges: Sequence[int]) -> tuple[int, ...]:
    """Return edges as a tuple, or raise InvalidInput unless they are strictly increasing positive ints."""
    edges = tuple(edges)
    if not edges:
        raise InvalidInput("aging buckets: at least one edge is needed, e.g. 30,60,90,120", field="buckets")
    for e in edges:
        if isinstance(e, bool) or not isinstance(e, int) or e <= 0:
            raise InvalidInput(f"aging buckets: edge {e!r} is not a positive whole number of days", field="buckets")
    for a, b in zip(edges, edges[1:]):
        if b <= a:
            raise InvalidInput(f"aging buckets: edges must increase, but {b} follows {a}", field="buckets")
    return edges


def parse_edges(text: str) -> tuple[int, ...]:
    """'30,60,90,120' -> (30, 60, 90, 120)."""
    parts = [p.strip() for p in (text or "").split(",")]
    edges = []
    for p in parts:
        if not p.isdigit():
            raise InvalidInput(
                f"aging buckets {text!r}: {p!r} is not a whole number of days (expected e.g. 30,60,90,120)",
                field="buckets",
            )
        edges.append(int(p))
    return check_edges(edges)


def bucket_labels(edges: Sequence[int] = DEFAULT_EDGES, basis: str = "due") -> list[str]:
    """['not_due', '1-30', '31-60', ..., '120+'] for basis due; ['0-30', '31-60', ...] for basis invoice."""
    edges = check_edges(edges)
    first = "0" if basis == "invoice" else "1"
    labels = [] if basis == "invoice" else [NOT_DUE]
    labels.append(f"{first}-{edges[0]}")
    labels += [f"{a + 1}-{b}" for a, b in zip(edges, edges[1:])]
    labels.append(f"{edges[-1]}+")
    return labels


def days_past_due(due: date, as_of: date) -> int:
    """Days between the due date and as_of; 0 or less means not yet due."""
    return (as_of - due).days


def bucket_for(days_past_due: int, edges: Sequence[int] = DEFAULT_EDGES) -> str:
    """The due-basis label for an item that many days past due (due on or after as_of is 'not_due')."""
    labels = bucket_labels(edges)
    if days_past_due <= 0:
        return NOT_DUE
    return labels[1 + bisect_left(tuple(edges), days_past_due)]


def anniversary(when: date, years: int) -> date:
    """`when` moved by whole calendar years; 29 February becomes 28 February in a year that has none."""
    year = when.year + years
    if when.month == 2 and when.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return when.replace(year=year)


def year_edges(as_of: date) -> tuple[int, ...]:
    """The most days of age that still count as within 1, 2 and 3 years as of `as_of`.

    Years are calendar anniversaries, as Chinese aging disclosures read them ("1年以内（含1年）"): an item dated
    D is within n years while `as_of` is on or before D's n-th anniversary, so a year is 365 or 366 days
    depending on the 29 Februaries it spans. The edge is found once per report from `as_of` (the earliest date
    whose n-th anniversary is not before `as_of`), so classifying an item stays one bisect over day counts.
    """
    edges = []
    for n in (1, 2, 3):
        earliest = anniversary(as_of, -n)
        if anniversary(earliest, n) < as_of:  # as_of is 29 February: 28 February's anniversary falls short
            earliest += timedelta(days=1)
        edges.append((as_of - earliest).days)
    return tuple(edges)


def year_bucket(when: date, as_of: date) -> str:
    """1年以内 up to and including the first anniversary of `when`, 1-2年 up to the second, 2-3年 up to the
    third, 3年以上 after it (a date after `as_of` counts as 1年以内)."""
    return YEAR_LABELS[bisect_left(year_edges(as_of), max((as_of - when).days, 0))]


def _classifier(basis: str, edges: tuple[int, ...], years: tuple[int, ...] | None):
    """A function days -> label index into the report's labels, built once per report."""
    if years:
        if basis == "due":
            return lambda days: 0 if days <= 0 else 1 + bisect_left(years, days)
        return lambda days: bisect_left(years, max(days, 0))
    if basis == "due":
        return lambda days: 0 if days <= 0 else 1 + bisect_left(edges, days)
    return lambda days: bisect_left(edges, max(days, 0))


def age(
    items: Iterable[OpenItem],
    unapplied: Iterable[Unapplied],
    as_of: date,
    basis: str = "due",
    edges: Sequence[int] = DEFAULT_EDGES,
    years: bool = False,
) -> AgingReport:
    """Age open items as of a date; one row per (customer, currency), sorted by customer then currency.

    Basis 'due' ages by days past due: due on or after as_of is 'not_due', then 1–E1, E1+1–E2, ... En+.
    Basis 'invoice' ages by days since the invoice date and has no 'not_due' bucket: the first bucket is
    0–E1 (an invoice dated as_of is 0 days old; one dated later counts as 0 too).
    With years=True the buckets are YEAR_LABELS, counted in calendar anniversaries of the item's date (see
    year_edges: 1年以内 holds an item up to and including its first anniversary); on basis 'due' they are
    preceded by 'not_due', and '1年以内' then holds items past due up to the first anniversary of the due date.
    The caller passes what was open as of as_of; nothing is filtered out here. Rows whose every column
    is zero are left out. A row's total is its buckets plus its (negative) unapplied amount.
    """
    if basis not in BASES:
        raise InvalidInput(f"aging basis {basis!r} is not one of {', '.join(BASES)}", field="basis")
    edges = check_edges(edges)
    if years:
        labels = ([NOT_DUE] if basis == "due" else []) + list(YEAR_LABELS)
    else:
        labels = bucket_labels(edges, basis)
    classify = _classifier(basis, edges, year_edges(as_of) if years else None)
    as_of_ordinal = as_of.toordinal()
    width = len(labels)

    # Per (customer, currency): [name, buckets..., unapplied]; lists, not dicts, because this runs per item.
    acc: dict[tuple[str, str], list[Any]] = {}
    for item in items:
        key = (item.customer, item.currency)
        row = acc.get(key)
        if row is None:
            row = acc[key] = [item.name] + [0] * (width + 1)
        when = item.due_date if basis == "due" else item.doc_date
        row[1 + classify(as_of_ordinal - when.toordinal())] += item.open_amount
    for u in unapplied:
        if u.amount < 0:
            raise InvalidInput(
                f"unapplied amount for {u.customer} must be given as a positive number, got {u.amount}",
                field="amount",
            )
        key = (u.customer, u.currency)
        row = acc.get(key)
        if row is None:
            row = acc[key] = [u.name] + [0] * (width + 1)
        row[-1] -= u.amount

    rows: list[dict[str, Any]] = []
    totals: dict[str, dict[str, int]] = {}
    for (customer, currency), row in sorted(acc.items()):
        amounts = row[1:]
        if not any(amounts):
            continue
        out: dict[str, Any] = {"customer": customer, "name": row[0], "currency": currency, "total": sum(amounts)}
        out.update(zip(labels, amounts[:-1]))
        out[UNAPPLIED] = amounts[-1]
        rows.append(out)
        tot = totals.setdefault(currency, {"total": 0, **{label: 0 for label in labels}, UNAPPLIED: 0})
        for column in ("total", *labels, UNAPPLIED):
            tot[column] += out[column]
    return AgingReport(as_of, basis, labels, rows, dict(sorted(totals.items())))


def to_json(report: AgingReport) -> dict[str, Any]:
    """The `report aging --format json` shape of DESIGN §5: dates ISO, amounts as decimal strings."""
    columns = ("total", *report.buckets, UNAPPLIED)
    rows = []
    for row in report.rows:
        cur = row["currency"]
        out: dict[str, Any] = {"customer": row["customer"], "name": row["name"], "currency": cur}
        out.update({c: money.to_decimal_str(row[c], cur) for c in columns})
        rows.append(out)
    totals = {
        cur: {c: money.to_decimal_str(tot[c], cur) for c in columns} for cur, tot in report.totals.items()
    }
    return {
        "as_of": report.as_of.isoformat(),
        "basis": report.basis,
        "buckets": list(report.buckets),
        "rows": rows,
        "totals": totals,
    }
