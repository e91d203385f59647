"""Recurring invoice schedules (周期性账单) as people read them: the list, one schedule with what it issued, and
the invoices still to come (the forecast counts them on their own line, apart from open items)."""
from __future__ import annotations

import json
from datetime import date, timedelta

from store.errors import InvalidInput, NotFound, Said
from store.rules import money
from store.rules.recurrence import LAST_DAY, Rule, due_through, occurrence, within
from store.rules.terms import instalments
from store.write import invoices, terms as termsbook
from store.i18n import N_


def rule_of(row: dict) -> Rule:
    """The date rule of a stored schedule."""
    return Rule(row["unit"], int(row["every_n"]), date.fromisoformat(row["start_date"]), row["day_of_month"],
                date.fromisoformat(row["end_date"]) if row["end_date"] else None, row["occurrences"])


def lines_of(row: dict) -> list[str]:
    return json.loads(row["lines"]) if row["lines"] else []


def total_of(row: dict) -> int:
    """What one occurrence bills, tax included (minor units)."""
    if row["amount"] is not None:
        return row["amount"]
    return sum(line.amount + line.tax for line in (invoices.parse_line(t, row["currency"]) for t in lines_of(row)))


def describe(row: dict) -> Said:
    """'monthly on the last day', 'every 2 weeks', 'quarterly on day 15' ... (kept with its message ids: str is the
    English, .text(language) the words in a language)."""
    n, unit = int(row["every_n"]), row["unit"]
    if unit == "week":
        return Said(N_("weekly")) if n == 1 else Said(N_("every {n} weeks"), n=n)
    names = {1: N_("monthly"), 3: N_("quarterly"), 12: N_("yearly")}
    name = Said(names[n]) if n in names else Said(N_("every {n} months"), n=n)
    day = row["day_of_month"]
    when = (Said(N_("the last day")) if day == LAST_DAY
            else Said(N_("day {day}"), day=f"{day if day is not None else row['start_date'][8:]:0>2}"))
    return Said(N_("{frequency} on {day}"), frequency=name, day=when)


def get(ledger, reference: str) -> dict:
    """A schedule by its number (R-A7-0001) or id."""
    text = (reference or "").strip()
    found = ledger.row("SELECT * FROM recurring WHERE number=? OR id=? ORDER BY id LIMIT 1", (text, text.lower()))
    if found is None:
        raise NotFound(N_("unknown recurring schedule {reference}: see `duly recurring list`"),
                       reference=repr(reference))
    return found


def issued(ledger, schedule_id: str) -> list[dict]:
    """What a schedule issued, by occurrence: the invoice (or the draft, and the invoice once it is issued)."""
    return ledger.rows(
        """SELECT r.occurrence, r.date, r.invoice_id, r.draft_id,
                  coalesce(i.number, (SELECT j.number FROM draft_issues x JOIN invoices j ON j.id = x.invoice_id
                                      WHERE x.draft_id = r.draft_id ORDER BY j.number LIMIT 1)) AS invoice
           FROM recurring_issues r LEFT JOIN invoices i ON i.id = r.invoice_id
           WHERE r.schedule_id = ? ORDER BY r.occurrence""", (schedule_id,))


def next_due(ledger, row: dict) -> tuple[int, date] | None:
    """The next occurrence a run would issue: after the last issued one, not before resume_from."""
    last = ledger.row("SELECT max(occurrence) AS n FROM recurring_issues WHERE schedule_id=?", (row["id"],))["n"] or 0
    rule, n = rule_of(row), last + 1
    floor = date.fromisoformat(row["resume_from"]) if row["resume_from"] else None
    while within(rule, n):
        when = occurrence(rule, n)
        if floor is None or when >= floor:
            return n, when
        n += 1
    return None


def _view(ledger, row: dict, code: str | None, name: str | None) -> dict:
    upcoming = next_due(ledger, row) if row["status"] != "paused" else None
    count = ledger.row("SELECT count(*) AS n FROM recurring_issues WHERE schedule_id=?", (row["id"],))["n"]
    return {"number": row["number"], "id": row["id"], "customer": code, "name": name,
            "frequency": describe(row), "start": row["start_date"], "end": row["end_date"],
            "count": row["occurrences"], "currency": row["currency"],
            "amount": money.to_decimal_str(total_of(row), row["currency"]), "lines": lines_of(row),
            "description": row["description"], "terms": row["terms"], "mode": row["mode"], "status": row["status"],
            "resume_from": row["resume_from"], "issued": count,
            "next": upcoming[1].isoformat() if upcoming else None}


def listing(ledger, *, customer_id: str | None = None) -> list[dict]:
    rows = ledger.rows(
        f"""SELECT r.*, c.code AS _code, c.name AS _name FROM recurring r LEFT JOIN customers c ON c.id = r.customer_id
            {'WHERE r.customer_id = ?' if customer_id else ''} ORDER BY r.number""",
        (customer_id,) if customer_id else ())
    return [_view(ledger, r, r.pop("_code"), r.pop("_name")) for r in rows]


def detail(ledger, reference: str) -> dict:
    row = get(ledger, reference)
    customer = ledger.row("SELECT code, name FROM customers WHERE id=?", (row["customer_id"],)) or {}
    return {**_view(ledger, row, customer.get("code"), customer.get("name")), "occurrences": issued(ledger, row["id"])}


def scheduled_cash(ledger, as_of: date, through: date) -> list[tuple[date, str, int]]:
    """(expected date, currency, amount) of every instalment of the invoices that schedules will issue
    (occurrences not yet issued, dated on or before `through`; an ended schedule up to its end, a paused one
    nothing), expected on its due date, never before as_of."""
    out = []
    for row in ledger.rows("SELECT r.*, c.terms AS _customer_terms FROM recurring r "
                           "LEFT JOIN customers c ON c.id = r.customer_id WHERE r.status <> 'paused'"):
        # an occurrence waiting as a draft for review is not owed yet either: it stays on the schedule's rows
        done = {r["occurrence"] for r in ledger.rows(
            """SELECT r.occurrence FROM recurring_issues r LEFT JOIN drafts d ON d.id = r.draft_id
               WHERE r.schedule_id = ? AND (r.invoice_id IS NOT NULL OR coalesce(d.archived, 0) = 1
                 OR EXISTS (SELECT 1 FROM draft_issues x WHERE x.draft_id = r.draft_id))""", (row["id"],))}
        floor = row["resume_from"] or ""
        try:
            terms = termsbook.resolve(ledger, row["terms"] or row["_customer_terms"]
                                      or ledger.setting("terms.default") or invoices.DEFAULT_TERMS)
            total = total_of(row)
        except (InvalidInput, NotFound):
            continue  # the run reports what is wrong with the schedule; a forecast does not stop for it
        for n, when in due_through(rule_of(row), through):
            if n in done or when.isoformat() < floor:
                continue
            for due, part in instalments(terms, total, when):
                out.append((max(due, as_of), row["currency"], part))
    return out


def horizon(as_of: date, weeks: int) -> date:
    return as_of + timedelta(days=7 * weeks - 1)
