"""The ledger's own payment terms (账期模板), stored in the `terms` table next to the built-in ones.

A stored row keeps its lines as a JSON list of TermLine dicts; fixed portions are minor units of the
ledger's home currency (the `currency` setting).
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict

from store.rules import money, terms, validate
from store.errors import Conflict, InvalidInput, NotFound, Said
from store.ledger.ids import uuid7
from store.i18n import N_

_NAME = re.compile(r"^\S(.{0,30}\S)?$")
_RATE = re.compile(r"^(\d{1,3})(?:\.(\d{1,2}))?%?$")


def home_currency(ledger) -> str:
    return money.stored_currency(ledger.setting("currency", "CNY"))


def parse_rate(text: str, field: str) -> int:
    """'12%' or '12' or '7.5%' -> basis points (1200, 1200, 750)."""
    m = _RATE.match((text or "").strip())
    if not m:
        raise InvalidInput(N_("{field_name} {text} is not a percentage (expected e.g. 12% or 7.5%)"),
                           field_name=field, text=repr(text), field=field)
    bp = int(m.group(1)) * 100 + int((m.group(2) or "").ljust(2, "0"))
    if bp > 100 * terms.FULL:
        raise InvalidInput(N_("{field_name} {text} is more than 10000%"), field_name=field,
                           text=repr(text), field=field)
    return bp


def build(name: str, lines: list[str], *, discount: str | None = None, late_interest: str | None = None,
          currency: str = "CNY") -> terms.Terms:
    """Terms from what a person typed (--line, --discount 2/10, --late-interest 12%), checked."""
    name = (name or "").strip()
    if not _NAME.match(name):
        raise InvalidInput(N_("terms name {name} must be 1-32 characters with no spaces at either end"),
                           name=repr(name), field="name")
    if not lines:
        raise InvalidInput(N_("terms {name}: give at least one --line PORTION:DELAY:N"),
                           name=repr(name), field="lines")
    parsed = tuple(terms.parse_term_line(text, currency) for text in lines)
    discount_bp, discount_days = terms.parse_discount(discount) if discount else (0, 0)
    late_bp = parse_rate(late_interest, "late interest") if late_interest else 0
    found = terms.Terms(name, parsed, discount_bp, discount_days, late_bp)
    terms.validate_terms(found)
    return found


def problems(ledger, name: str, lines: list[str], *, discount: str | None = None,
             late_interest: str | None = None) -> dict[str, str]:
    """What is wrong with terms being typed, by part (name, lines, discount, late_interest), all at once; empty
    when `add` would take them."""
    currency, found = home_currency(ledger), {}
    checks = {"name": lambda: build(name, ["100%:days_after:0"], currency=currency),
              "lines": lambda: build("x", lines, currency=currency),
              "discount": lambda: terms.parse_discount(discount) if discount else None,
              "late_interest": lambda: parse_rate(late_interest, "late interest") if late_interest else None}
    for part, check in checks.items():
        try:
            check()
        except InvalidInput as exc:
            found[part] = Said.of(exc)
    if "name" not in found:
        if name.strip().upper() in {key.upper() for key in terms.BUILTIN_TERMS}:
            found["name"] = Said(N_("terms {name} is a built-in name; choose another"), name=repr(name.strip()))
        elif _stored(ledger, name.strip()) is not None:
            found["name"] = Said(N_("terms {name} already exist"), name=repr(name.strip()))
    return found


def from_row(row: dict) -> terms.Terms:
    lines = tuple(terms.TermLine(**line) for line in json.loads(row["lines"] or "[]"))
    return terms.Terms(row["name"], lines, row["discount_bp"] or 0, row["discount_days"] or 0,
                       row["late_interest_bp"] or 0)


def _stored(ledger, name: str) -> dict | None:
    return ledger.row(
        "SELECT * FROM terms WHERE name=? AND coalesce(archived,0)=0 ORDER BY id LIMIT 1", (name,)
    )


def add(ledger, name: str, lines: list[str], *, discount: str | None = None,
        late_interest: str | None = None) -> str:
    """Store new terms; the name must not be a built-in's or another stored terms'. Returns the row id."""
    found = build(name, lines, discount=discount, late_interest=late_interest, currency=home_currency(ledger))
    if terms.builtin_name(found.name):
        raise Conflict(N_("terms {name} is a built-in name; choose another"), name=repr(found.name))
    with ledger.writing() as tx:
        if ledger.row("SELECT 1 AS x FROM terms WHERE name=?", (found.name,)):
            raise Conflict(N_("terms {name} already exist"), name=repr(found.name))
        row_id = uuid7()
        tx.set("terms", row_id, name=found.name, lines=json.dumps([asdict(line) for line in found.lines]),
               discount_bp=found.discount_bp, discount_days=found.discount_days,
               late_interest_bp=found.late_interest_bp, archived=0)
    return row_id


def add_stored(ledger, row: dict) -> str:
    """Store terms as another ledger stored them (a row of `duly export csv`'s terms.csv: name, lines as JSON,
    discount_bp, discount_days, late_interest_bp, archived), checked as `add` checks them. Returns the row id."""
    try:
        found = from_row({"name": validate.required_text(row.get("name"), "name"), "lines": row.get("lines"),
                          **{k: int(row.get(k) or 0) for k in ("discount_bp", "discount_days", "late_interest_bp")}})
    except (TypeError, ValueError, KeyError) as exc:
        if isinstance(exc, InvalidInput):
            raise
        raise InvalidInput(N_("terms {name}: lines {lines} are not terms lines (expected the JSON that "
                              "`duly export csv` writes)"), name=repr(row.get("name")),
                           lines=repr(str(row.get("lines"))[:60]), field="lines") from None
    terms.validate_terms(found)
    if found.name.upper() in {key.upper() for key in terms.BUILTIN_TERMS}:
        raise Conflict(N_("terms {name} is a built-in name; choose another"), name=repr(found.name))
    with ledger.writing() as tx:
        if ledger.row("SELECT 1 AS x FROM terms WHERE name=?", (found.name,)):
            raise Conflict(N_("terms {name} already exist"), name=repr(found.name))
        row_id = uuid7()
        tx.set("terms", row_id, name=found.name, lines=json.dumps([asdict(line) for line in found.lines]),
               discount_bp=found.discount_bp, discount_days=found.discount_days,
               late_interest_bp=found.late_interest_bp, archived=1 if row.get("archived") else 0)
    return row_id


def resolve(ledger, name: str) -> terms.Terms:
    """Built-in or stored terms by name; NotFound names the command that adds them."""
    name = (name or "").strip()
    if name in terms.BUILTIN_TERMS:
        return terms.BUILTIN_TERMS[name]
    row = _stored(ledger, name)
    if row is None:
        builtin = terms.builtin_name(name)  # eom30, 月结30
        if builtin:
            return terms.BUILTIN_TERMS[builtin]
        raise NotFound(N_("unknown payment terms {name}: add them with `duly terms add`"), name=repr(name))
    return from_row(row)


def all_terms(ledger) -> list[tuple[terms.Terms, str]]:
    """Every usable terms, built-ins first: (Terms, 'builtin' | 'stored')."""
    found = [(t, "builtin") for t in terms.BUILTIN_TERMS.values()]
    rows = ledger.rows("SELECT * FROM terms WHERE coalesce(archived,0)=0 ORDER BY name")
    return found + [(from_row(r), "stored") for r in rows]


def page(ledger, *, after: str | None = None, limit: int = 100) -> list[tuple[terms.Terms, str]]:
    """The app's list a page at a time: the built-ins on the first page, then stored terms by name after `after`
    (None: from the start), at most `limit` of them."""
    found = [(t, "builtin") for t in terms.BUILTIN_TERMS.values()] if after is None else []
    rows = ledger.rows("SELECT * FROM terms WHERE coalesce(archived,0)=0 AND name > ? ORDER BY name LIMIT ?",
                       (after or "", limit))
    return found + [(from_row(r), "stored") for r in rows]


def preview(ledger, name: str | None, sample_date: str, amount: str | None = None, *,
            lines: list[str] | None = None) -> tuple[terms.Terms, str, list[tuple[str, int]]]:
    """(terms, currency, [(due date, amount)]) a sample invoice would get; `lines` previews unsaved terms."""
    currency = home_currency(ledger)
    when = validate.parse_date(sample_date)
    total = money.parse_amount(amount, currency) if amount is not None else 10000 * 10 ** money.exponent(currency)
    found = build(name or "preview", lines, currency=currency) if lines else resolve(ledger, name)
    return found, currency, [(d.isoformat(), a) for d, a in terms.preview(found, when, total)]
