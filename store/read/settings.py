"""The settings in force: every key's value as it applies, set in this ledger or the default the code that reads
it falls back to."""
from __future__ import annotations

from store.read import alerts, reports
from store.rules import aging, dunning
from store.write import invoices, reconcile
from store.write.settings import all_settings, get

# The company profile (letterhead and bank details) every outbound document carries, in the order it is shown.
COMPANY_KEYS = ("company.name", "company.legal_name", "company.tax_id", "company.address", "company.phone",
                "company.email", "company.bank_name", "company.bank_account", "company.account_name")


def defaults(ledger) -> dict[str, str | None]:
    """What each key means when it was never set: the values the code that reads it falls back to
    (None: nothing, e.g. no SMTP host)."""
    starttls = (ledger.setting("smtp.starttls") or "true") == "true"
    return {
        "currency": "CNY", "language": "zh", "company.name": "Duly", "invoice.series": None,
        **{key: None for key in COMPANY_KEYS if key != "company.name"},
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


def company_profile(ledger) -> dict[str, str]:
    """The issuing company as documents show it: {name, legal_name, tax_id, address, phone, email, bank_name,
    bank_account, account_name}; a key never set is ''. The legal name falls back to the name, the account name
    to the legal name (what a bank statement would show)."""
    found = {key.partition(".")[2]: (get(ledger, key) or "") for key in COMPANY_KEYS}
    found["name"] = found["name"] or found["legal_name"] or "Duly"
    found["legal_name"] = found["legal_name"] or found["name"]
    found["account_name"] = found["account_name"] or found["legal_name"]
    return found
