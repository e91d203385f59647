"""Recurring invoices (周期性账单: rent, retainers, service fees, 月结 customers): schedules, and the run that issues
every occurrence due up to a date exactly once.

Exactly once, on one device and on several:
- occurrence n of a schedule has a date computed from the start and n (store.rules.recurrence), never from the
  previous run, so a catch-up issues exactly what on-time runs would have;
- each occurrence is issued in its own transaction with a `recurring_issues` event; the event, the invoice, its
  lines and instalments (or the draft) all have ids derived from (schedule, n), and the invoice number is the
  schedule's number and n (R-A7-0001-003). A second run finds the event and issues nothing; a crash leaves each
  occurrence issued whole or not at all. Two devices that run offline post the same ids: events are inserted
  once, so after a sync the ledger holds the occurrence once. Should the two copies differ (the schedule was
  edited on one device while the other ran it), the sync flags it for review (sync.merge).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from store.errors import Conflict, DulyError, InvalidInput, Said
from store.ledger.ids import derived_id, uuid7
from store.read import recurring as view
from store.rules import money, validate
from store.rules.recurrence import FREQUENCIES, LAST_DAY, BadRule, Rule, check, due_through
from store.write import customers, drafts, invoices, terms as termsbook
from store.i18n import N_

NUMBER_TEMPLATE = "R-{prefix}-{n:04d}"
MODES = ("issue", "draft")


def parse_day(text) -> int | None:
    """'last' / '月末' -> LAST_DAY; '1'..'31' -> the day; None or '' -> None (the start's day)."""
    if text is None or str(text).strip() == "":
        return None
    raw = str(text).strip().lower()
    if raw in ("last", "月末", "-1"):
        return LAST_DAY
    if raw.isdigit() and 1 <= int(raw) <= 31:
        return int(raw)
    raise InvalidInput(N_("day {text} is not a day of the month: give 1-31 or 'last' (月末)"),
                       text=repr(text), field="day")


def _positive(text, what: str) -> int | None:
    if text is None or str(text).strip() == "":
        return None
    raw = str(text).strip()
    if not raw.isdigit() or int(raw) < 1:
        raise InvalidInput(N_("{what} {text} must be a whole number of 1 or more"), what=what,
                           text=repr(text), field=what)
    return int(raw)


def add(ledger, customer_code: str, *, frequency: str, start: str, every=None, day=None, end: str | None = None,
        count=None, amount: str | None = None, lines: list[str] | None = None, currency: str | None = None,
        description: str | None = None, terms: str | None = None, mode: str = "issue") -> tuple[str, str]:
    """A new schedule; returns (id, number). Everything is checked before anything is written."""
    if frequency not in FREQUENCIES:
        raise InvalidInput(N_("frequency {frequency} is not one of {frequencies}"),
                           frequency=repr(frequency), frequencies=', '.join(FREQUENCIES), field="frequency")
    if mode not in MODES:
        raise InvalidInput(N_("mode {mode} is not one of {modes}"), mode=repr(mode),
                           modes=', '.join(MODES), field="mode")
    if (amount is None) == (not lines):
        raise InvalidInput(N_("give either an amount or at least one line (DESCRIPTION:QTY:PRICE[:TAX%])"),
                           field="amount")
    unit, step = FREQUENCIES[frequency]
    n = _positive(every, "every") or 1
    start_on = validate.iso_date(start, "start date")
    end_on = validate.iso_date(end, "end date") if end else None
    rule = Rule(unit, step * n, date.fromisoformat(start_on), parse_day(day) if unit == "month" else None,
                date.fromisoformat(end_on) if end_on else None, _positive(count, "count"))
    if unit == "week" and day not in (None, ""):
        raise InvalidInput(N_("a weekly schedule falls on the start date's weekday; --day is for monthly, quarterly "
                              "and yearly schedules"), field="day")
    try:
        check(rule)
    except BadRule as exc:
        raise InvalidInput(exc.msgid, **exc.values, field="schedule") from None
    if rule.end is not None and not due_through(rule, rule.end):
        raise InvalidInput(N_("the schedule has no occurrence between {start_on} and {end_on}"),
                           start_on=start_on, end_on=end_on, field="end")
    with ledger.writing() as tx:
        customer = customers.by_code(ledger, (customer_code or "").strip(), archived=False)
        cur = money.check_currency(currency or customer["currency"] or ledger.setting("currency", "CNY"))
        fields: dict = {"amount": None, "lines": None}
        if lines:
            parsed = [invoices.parse_line(text, cur) for text in lines]
            if sum(line.amount + line.tax for line in parsed) <= 0:
                raise InvalidInput(N_("the lines add up to zero; a recurring invoice bills more than that"), field="line")
            fields["lines"] = json.dumps(list(lines), ensure_ascii=False)
        else:
            fields["amount"] = money.parse_amount(amount, cur)
            if fields["amount"] <= 0:
                raise InvalidInput(N_("amount must be more than zero, got {amount}"), amount=amount, field="amount")
        terms_name = termsbook.resolve(ledger, terms).name if terms else None
        schedule_id = uuid7()
        number = ledger.next_number("recurring", "recurring", NUMBER_TEMPLATE)
        tx.set("recurring", schedule_id, number=number, customer_id=customer["id"], currency=cur,
               description=(description or "").strip() or None, unit=rule.unit, every_n=rule.interval,
               day_of_month=rule.day, start_date=start_on, end_date=end_on, occurrences=rule.count,
               terms=terms_name, mode=mode, status="active", resume_from=None, **fields)
    return schedule_id, number


def pause(ledger, reference: str) -> dict:
    with ledger.writing() as tx:
        row = view.get(ledger, reference)
        if row["status"] != "active":
            raise Conflict(N_("schedule {number} is {status}, not active"), number=row['number'],
                           status=row['status'])
        tx.set("recurring", row["id"], status="paused")
    return row


def resume(ledger, reference: str, from_date: str | None = None) -> dict:
    """Active again; occurrences dated before `from_date` (default today) that were not issued are skipped."""
    when = validate.iso_date(from_date, "resume date") if from_date else date.today().isoformat()
    with ledger.writing() as tx:
        row = view.get(ledger, reference)
        if row["status"] != "paused":
            raise Conflict(N_("schedule {number} is {status}, not paused"), number=row['number'],
                           status=row['status'])
        tx.set("recurring", row["id"], status="active", resume_from=max(when, row["resume_from"] or ""))
    return row


def end(ledger, reference: str, on: str | None = None) -> dict:
    """No occurrence after `on` (default today) is issued; those on or before it still are, by a run."""
    when = validate.iso_date(on, "end date") if on else date.today().isoformat()
    with ledger.writing() as tx:
        row = view.get(ledger, reference)
        if row["status"] == "ended":
            raise Conflict(N_("schedule {number} has already ended (on {end_date})"), number=row['number'],
                           end_date=row['end_date'])
        if when < row["start_date"]:
            raise InvalidInput(N_("end date {when} is before the schedule's start {start_date}"),
                               when=when, start_date=row['start_date'], field="end")
        tx.set("recurring", row["id"], status="ended", end_date=min(when, row["end_date"] or when))
    return row


# --- the run ------------------------------------------------------------------------------------------------

@dataclass
class RunReport:
    issued: list[dict] = field(default_factory=list)  # {schedule, occurrence, date, invoice | draft, warnings}
    problems: list[str] = field(default_factory=list)  # one line per schedule that stopped


def occurrence_ids(schedule_id: str, n: int, when: date) -> dict[str, str]:
    """The ids of occurrence n's record, invoice and draft: the same on every device."""
    ms = int(datetime(when.year, when.month, when.day, tzinfo=timezone.utc).timestamp() * 1000)
    return {kind: derived_id(schedule_id, kind, str(n), ms=ms) for kind in ("occurrence", "invoice", "draft")}


def occurrence_number(schedule_number: str, n: int) -> str:
    return f"{schedule_number}-{n:03d}"


def _issue_one(ledger, row: dict, code: str, n: int, when: date) -> dict | None:
    """Issue occurrence n in one transaction; None when it was issued already (here or by a synced device)."""
    ids = occurrence_ids(row["id"], n, when)
    with ledger.writing() as tx:
        if ledger.row("SELECT 1 AS x FROM recurring_issues WHERE id=? OR (schedule_id=? AND occurrence=?)",
                      (ids["occurrence"], row["id"], n)):
            return None
        amount = None if row["amount"] is None else money.to_decimal_str(row["amount"], row["currency"])
        lines = view.lines_of(row) or None
        out = {"schedule": row["number"], "occurrence": n, "date": when.isoformat(), "invoice": None, "draft": None,
               "warnings": []}
        if row["mode"] == "draft":
            drafts.add(ledger, code, draft_id=ids["draft"], date=when.isoformat(), terms=row["terms"],
                       currency=row["currency"], amount=amount, lines=lines, description=row["description"])
            out["draft"] = drafts.ref(ids["draft"])
            tx.event("recurring_issues", ids["occurrence"], schedule_id=row["id"], occurrence=n,
                     date=when.isoformat(), invoice_id=None, draft_id=ids["draft"])
        else:
            done = invoices.add(ledger, code, when.isoformat(), amount=amount, lines=lines, terms=row["terms"],
                                number=occurrence_number(row["number"], n), currency=row["currency"],
                                description=row["description"], doc_id=ids["invoice"])
            out["invoice"], out["warnings"] = done.number, done.warnings
            tx.event("recurring_issues", ids["occurrence"], schedule_id=row["id"], occurrence=n,
                     date=when.isoformat(), invoice_id=ids["invoice"], draft_id=None)
    return out


def run(ledger, as_of: str | None = None, *, only: str | None = None) -> RunReport:
    """Issue every occurrence of every active schedule dated on or before as_of (default today) that was not
    issued yet, oldest first, each in its own transaction. A schedule whose occurrence is refused (a credit
    limit that blocks, an archived customer) stops there with one line in the report; the others go on."""
    through = date.fromisoformat(validate.iso_date(as_of, "as-of date") if as_of else date.today().isoformat())
    report = RunReport()
    rows = [view.get(ledger, only)] if only else ledger.rows("SELECT * FROM recurring ORDER BY number")
    for row in rows:
        if row["status"] == "paused":
            continue
        code = ledger.row("SELECT code FROM customers WHERE id=?", (row["customer_id"],))
        done = {r["occurrence"] for r in ledger.rows(
            "SELECT occurrence FROM recurring_issues WHERE schedule_id=?", (row["id"],))}
        floor = row["resume_from"] or ""
        for n, when in due_through(view.rule_of(row), through):
            if n in done or when.isoformat() < floor:
                continue
            try:
                issued = _issue_one(ledger, row, code["code"] if code else "", n, when)
            except DulyError as exc:
                report.problems.append(Said(N_("schedule {number} occurrence {n} ({date}): {reason}"),
                                            number=row["number"], n=n, date=when, reason=exc))
                break
            if issued:
                report.issued.append(issued)
    return report
