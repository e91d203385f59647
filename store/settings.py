"""Ledger settings: known keys, each with a check. Synced settings live in the `settings` table;
per-device ones (the invoice series) live in `meta`."""
from __future__ import annotations

import re

from store import money, validate
from store.errors import InvalidInput

DEVICE_LOCAL = {"invoice.series"}


def _series(value: str) -> str:
    value = value.strip().upper()
    if not re.fullmatch(r"[A-Z0-9]{1,6}", value):
        raise InvalidInput(f"invoice series {value!r}: use 1-6 letters or digits, e.g. A7", field="invoice.series")
    return value


def _port(value: str) -> str:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise InvalidInput(f"port {value!r} is not a number between 1 and 65535", field="smtp.port")
    return value


def _bool(value: str) -> str:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return "true"
    if lowered in ("0", "false", "no", "off"):
        return "false"
    raise InvalidInput(f"{value!r} is not true or false")


def _one_of(*options):
    def check(value: str) -> str:
        if value not in options:
            raise InvalidInput(f"{value!r} is not one of: {', '.join(options)}")
        return value
    return check


def _text(value: str) -> str:
    return value.strip()


def _rates(value: str) -> str:
    from store.reports import check_rates  # reports imports this module's neighbours; import late

    return check_rates(value)


def _terms_name(value: str) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput("the default terms need a name, e.g. NET30 or EOM30", field="terms.default")
    return value


def _edges(value: str) -> str:
    from store.aging import parse_edges

    return ",".join(str(e) for e in parse_edges(value))


def _dunning_levels(value: str) -> str:
    from store.dunning import check_levels

    return check_levels(value)


def _days(value: str) -> str:
    value = value.strip()
    if not value.isdigit() or not 0 < int(value) <= 3650:
        raise InvalidInput(f"{value!r} is not a whole number of days between 1 and 3650")
    return str(int(value))


def _percent(value: str) -> str:
    value = value.strip().rstrip("%")
    if not value.isdigit() or not 0 < int(value) <= 100:
        raise InvalidInput(f"{value!r} is not a whole percentage between 1 and 100")
    return str(int(value))


def _tolerance(value: str) -> str:
    """A bank fee that may be written off when a bank line is accepted, e.g. '20.00' (in the line's currency)."""
    return money.to_decimal_str(money.parse_amount(value, "CNY", field="reconcile.fee_tolerance"), "CNY")


def _score(value: str) -> str:
    value = value.strip()
    if not value.isdigit() or not 0 < int(value) <= 100:
        raise InvalidInput(f"{value!r} is not a whole score between 1 and 100")
    return str(int(value))


KNOWN: dict[str, callable] = {
    "currency": money.check_currency,
    "language": lambda v: validate.choice(v, validate.LANGUAGES, "language"),
    "company.name": _text,
    "invoice.series": _series,
    "aging.buckets": _edges,
    "credit.enforce": _one_of("warn", "block"),
    "provision.rates": _rates,
    "terms.default": _terms_name,
    "smtp.host": _text,
    "smtp.port": _port,
    "smtp.user": _text,
    "smtp.password": _text,
    "smtp.from": validate.email,
    "smtp.starttls": _bool,
    "dunning.levels": _dunning_levels,
    "alerts.overdue_days": _days,
    "alerts.no_payment_days": _days,
    "alerts.concentration_pct": _percent,
    "reconcile.fee_tolerance": _tolerance,
    "reconcile.min_score": _score,
}


def check(key: str, value: str) -> str:
    if key not in KNOWN:
        raise InvalidInput(f"unknown setting {key!r}; known settings: {', '.join(sorted(KNOWN))}", field=key)
    try:
        return KNOWN[key](value)
    except InvalidInput as exc:
        raise InvalidInput(f"setting {key}: {exc}", field=key) from None


def put(ledger, key: str, value: str) -> str:
    value = check(key, value)
    with ledger.writing() as tx:
        if key in DEVICE_LOCAL:
            ledger.set_meta("series_prefix" if key == "invoice.series" else key, value)
        else:
            tx.set("settings", key, value=value)
    return value


def get(ledger, key: str) -> str | None:
    if key not in KNOWN:
        raise InvalidInput(f"unknown setting {key!r}; known settings: {', '.join(sorted(KNOWN))}", field=key)
    if key == "invoice.series":
        return ledger.meta("series_prefix")
    return ledger.setting(key)


def all_settings(ledger) -> dict[str, str | None]:
    return {key: get(ledger, key) for key in sorted(KNOWN)}


def currency_problems(ledger) -> list[str]:
    """Where the ledger holds a currency code that is not ISO 4217 (kept from before codes were checked), each
    with what to do about it. Empty for a ledger in order."""
    problems = []
    home = ledger.setting("currency")
    if home and not money.is_iso_currency(home):
        meant = money.ALIASES.get(home.upper())
        problems.append(f"the ledger's currency {home!r} is not an ISO 4217 code: set the right one with "
                        f"`duly settings set currency {meant or 'CODE'}`")
    found: dict[str, list[str]] = {}
    for row in ledger.rows("SELECT code, currency FROM customers WHERE currency IS NOT NULL ORDER BY code"):
        if not money.is_iso_currency(row["currency"]):
            found.setdefault(row["currency"], []).append(row["code"])
    for code, customers in found.items():
        meant = money.ALIASES.get(code.upper()) or "CODE"
        shown = ", ".join(customers[:3]) + (f" and {len(customers) - 3} more" if len(customers) > 3 else "")
        problems.append(f"customer{'s' if len(customers) > 1 else ''} {shown} ha{'ve' if len(customers) > 1 else 's'}"
                        f" currency {code!r}, which is not an ISO 4217 code: new documents for "
                        f"{'them' if len(customers) > 1 else 'it'} are refused until it is fixed with "
                        f"`duly customer edit {customers[0]} --currency {meant}`")
    return problems


def defaults(ledger) -> dict[str, str | None]:
    """What each key means when it was never set: the values the code that reads it falls back to
    (None: nothing, e.g. no SMTP host)."""
    from store import aging, alerts, dunning, invoices, reconcile, reports  # they import this module's neighbours

    starttls = (ledger.setting("smtp.starttls") or "true") == "true"
    return {
        "currency": "CNY", "language": "zh", "company.name": "Duly", "invoice.series": None,
        "aging.buckets": ",".join(map(str, aging.DEFAULT_EDGES)), "credit.enforce": "warn",
        "provision.rates": reports.DEFAULT_RATES_TEXT, "terms.default": invoices.DEFAULT_TERMS,
        "smtp.host": None, "smtp.port": "587" if starttls else "25", "smtp.user": None, "smtp.password": None,
        "smtp.from": None, "smtp.starttls": "true", "dunning.levels": dunning.DEFAULT_LEVELS_TEXT,
        **{key: str(value) for key, value in alerts.DEFAULTS.items()},
        "reconcile.fee_tolerance": "0.00", "reconcile.min_score": str(reconcile.DEFAULT_MIN_SCORE),
    }


def in_force(ledger) -> list[dict]:
    """Every key with the value in force and where it comes from: 'set' in this ledger, the 'default', or
    'not set' (a key with no default, such as smtp.host)."""
    fallback = defaults(ledger)
    rows = []
    for key, value in all_settings(ledger).items():
        if value not in (None, ""):
            rows.append({"key": key, "value": value, "source": "set"})
        elif fallback.get(key) is not None:
            rows.append({"key": key, "value": fallback[key], "source": "default"})
        else:
            rows.append({"key": key, "value": None, "source": "not set"})
    return rows


def value_in_force(ledger, key: str) -> str | None:
    """One key's value as it applies: set, else its default."""
    value = get(ledger, key)
    return value if value not in (None, "") else defaults(ledger).get(key)
