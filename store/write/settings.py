"""Ledger settings: known keys, each with a check. Synced settings live in the `settings` table;
per-device ones (the invoice series) live in `meta`.

Secrets (the SMTP password) are per device too: they live in `meta` under `secret.<key>`, so they never enter
the change log, never reach another device (a viewer included) and never show in `duly audit`; they are shown
masked. An older Duly kept the SMTP password as a synced setting: store.ledger.device_secrets.move_secrets takes such a value into this
device's `meta` and clears the synced one (that change, to an empty value, is all that is synced of it from then
on). The change-log entries that carried it before stay as they are (the log is hash-chained): `duly audit`
masks their values, but they are in the file, in backups, and on the sync server (encrypted) as before."""
from __future__ import annotations

import re

from store.rules import money, validate
from store.errors import InvalidInput, Said, joined
from store.ledger.device_secrets import SECRETS, secret_meta_key
from store.i18n import N_

# The language is a person's: each device has its own (a team may read Chinese and English). A ledger written
# before kept it as a synced setting; that value still applies on a device that never set its own.
DEVICE_LOCAL = {"invoice.series", "language", *SECRETS}
MASK = "********"


def _meta_key(key: str) -> str:
    if key == "invoice.series":
        return "series_prefix"
    return "device.language" if key == "language" else secret_meta_key(key)


def masked(key: str, value):
    """What a person is shown of a setting's value: a secret only as set or not."""
    return (MASK if value else value) if key in SECRETS else value


def _series(value: str) -> str:
    value = value.strip().upper()
    if not re.fullmatch(r"[A-Z0-9]{1,6}", value):
        raise InvalidInput(N_("invoice series {value}: use 1-6 letters or digits, e.g. A7"),
                           value=repr(value), field="invoice.series")
    return value


def _port(value: str) -> str:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise InvalidInput(N_("port {value} is not a number between 1 and 65535"),
                           value=repr(value), field="smtp.port")
    return value


def _bool(value: str) -> str:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return "true"
    if lowered in ("0", "false", "no", "off"):
        return "false"
    raise InvalidInput(N_("{value} is not true or false"), value=repr(value))


def _one_of(*options):
    def check(value: str) -> str:
        if value not in options:
            raise InvalidInput(N_("{value} is not one of: {options}"), value=repr(value), options=', '.join(options))
        return value
    return check


def _text(value: str) -> str:
    return value.strip()


def _line(value: str) -> str:
    """One line of text for a letterhead: no line breaks or control characters, at most 200 characters."""
    value = " ".join((value or "").split())
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise InvalidInput(N_("control characters are not allowed"))
    if len(value) > 200:
        raise InvalidInput(N_("{count} characters is too long (at most 200)"), count=len(value))
    return value


def _address(value: str) -> str:
    """An address may take several lines (at most 4 of 200 characters)."""
    lines = [_line(part) for part in (value or "").replace("\\n", "\n").splitlines() if part.strip()]
    if len(lines) > 4:
        raise InvalidInput(N_("an address has at most 4 lines"))
    return "\n".join(lines)


def _bank_account(value: str) -> str:
    """A bank account number (账号): 6-34 letters or digits (an IBAN has letters), grouped by spaces as typed."""
    value = " ".join((value or "").split()).upper()
    bare = value.replace(" ", "").replace("-", "")
    if not re.fullmatch(r"[0-9A-Z]{6,34}", bare) or not any(ch.isdigit() for ch in bare):
        raise InvalidInput(N_("{value} is not a bank account number (6-34 digits or letters, spaces allowed)"),
                           value=repr(value))
    return value


def _or_empty(check):
    """A company detail may be cleared with an empty value; anything else must pass its check."""
    def checked(value: str) -> str:
        return "" if not (value or "").strip() else check(value)
    return checked


def _rates(value: str) -> str:
    from store.read.reports import check_rates  # reports imports this module's neighbours; import late

    return check_rates(value)


def _terms_name(value: str) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput(N_("the default terms need a name, e.g. NET30 or EOM30"), field="terms.default")
    return value


def _edges(value: str) -> str:
    from store.rules.aging import parse_edges

    return ",".join(str(e) for e in parse_edges(value))


def _dunning_levels(value: str) -> str:
    from store.rules.dunning import check_levels

    return check_levels(value)


def _days(value: str) -> str:
    value = value.strip()
    if not value.isdigit() or not 0 < int(value) <= 3650:
        raise InvalidInput(N_("{value} is not a whole number of days between 1 and 3650"), value=repr(value))
    return str(int(value))


def _percent(value: str) -> str:
    value = value.strip().rstrip("%")
    if not value.isdigit() or not 0 < int(value) <= 100:
        raise InvalidInput(N_("{value} is not a whole percentage between 1 and 100"), value=repr(value))
    return str(int(value))


def _tolerance(value: str) -> str:
    """A bank fee that may be written off when a bank line is accepted, e.g. '20.00' (in the line's currency)."""
    return money.to_decimal_str(money.parse_amount(value, "CNY", field="reconcile.fee_tolerance"), "CNY")


def _score(value: str) -> str:
    value = value.strip()
    if not value.isdigit() or not 0 < int(value) <= 100:
        raise InvalidInput(N_("{value} is not a whole score between 1 and 100"), value=repr(value))
    return str(int(value))


KNOWN: dict[str, callable] = {
    "currency": money.check_currency,
    "language": lambda v: validate.choice(v, validate.LANGUAGES, "language"),
    "company.name": _line,
    # The company profile every outbound document carries (letterhead, bank details to pay into).
    "company.legal_name": _line,
    "company.tax_id": _or_empty(validate.tax_id),  # 统一社会信用代码
    "company.address": _address,
    "company.phone": _or_empty(validate.phone),
    "company.email": _or_empty(validate.email),
    "company.bank_name": _line,  # 开户行
    "company.bank_account": _or_empty(_bank_account),  # 账号
    "company.account_name": _line,  # 户名
    "invoice.series": _series,
    "aging.buckets": _edges,
    "credit.enforce": _one_of("warn", "block"),
    "dunning.post_charges": _one_of("true", "false"),
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
        raise InvalidInput(N_("unknown setting {key}; known settings: {known}"), key=repr(key),
                           known=', '.join(sorted(KNOWN)), field=key)
    try:
        return KNOWN[key](value)
    except InvalidInput as exc:
        raise InvalidInput(N_("setting {key}: {exc}"), key=key, exc=exc, field=key) from None


def put(ledger, key: str, value: str) -> str:
    value = check(key, value)
    with ledger.writing() as tx:
        if key in DEVICE_LOCAL:
            ledger.set_meta(_meta_key(key), value)
            if key in SECRETS and ledger.setting(key) is not None:
                tx.set("settings", key, value=None)  # an older Duly's synced copy: cleared for every device
        else:
            tx.set("settings", key, value=value)
    return value


def put_many(ledger, values: dict[str, str]) -> dict[str, str]:
    """Check every value first and raise one InvalidInput naming each wrong key (`problems`: {key: reason}), then
    write them all in one transaction: nothing is written when any is wrong."""
    checked, problems = {}, {}
    for key, value in values.items():
        try:
            checked[key] = check(key, value)
        except InvalidInput as exc:
            problems[key] = Said.of(exc)
    if problems:
        said = joined(list(problems.values())).error  # worded in the reader's language where it is shown
        error = InvalidInput(said.msgid, field=next(iter(problems)), **said.values)
        error.problems = problems
        raise error
    with ledger.writing():
        for key, value in checked.items():
            put(ledger, key, value)
    return checked


def first_settings(ledger, *, currency: str, company: str | None = None, language: str | None = None) -> None:
    """What `duly init` (and the app's first run) writes into a new ledger: its home currency, and the company
    name and language when given."""
    values = {"currency": currency}
    if company:
        values["company.name"] = company
    if language:
        values["language"] = language
    put_many(ledger, values)


def get(ledger, key: str) -> str | None:
    if key not in KNOWN:
        raise InvalidInput(N_("unknown setting {key}; known settings: {known}"), key=repr(key),
                           known=', '.join(sorted(KNOWN)), field=key)
    if key in DEVICE_LOCAL:
        found = ledger.meta(_meta_key(key))
        # until `move_secrets` has run on this device, a secret an older Duly synced still works; so does the
        # language an older Duly kept as a synced setting
        return found if found is not None or key not in (*SECRETS, "language") else ledger.setting(key)
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
