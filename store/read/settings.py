"""The settings in force: every key's value as it applies, set in this ledger or the default the code that reads
it falls back to."""
from __future__ import annotations

from store.read import alerts, reports
from store.rules import aging, dunning
from store.write import invoices, reconcile
from store.read.company import COMPANY_KEYS
from store.write.settings import all_settings, get


def defaults(ledger) -> dict[str, str | None]:
    """What each key means when it was never set: the values the code that reads it falls back to
    (None: nothing, e.g. no SMTP host)."""
    starttls = (ledger.setting("smtp.starttls") or "true") == "true"
    return {
        "currency": "CNY", "language": "zh", "company.name": "Duly", "invoice.series": None,
        **{key: None for key in COMPANY_KEYS if key != "company.name"},
        "aging.buckets": ",".join(map(str, aging.DEFAULT_EDGES)), "credit.enforce": "warn",
        "dunning.post_charges": "false",
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
