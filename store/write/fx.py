"""Exchange rates (汇率) typed or imported: one row per currency and date, synced; a correction sets it again."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable

from store.errors import InvalidInput
from store.rules import fx, money, validate
from store.write.terms import home_currency
from store.i18n import N_


def row_id(currency: str, on: str) -> str:
    """The same currency and date is the same row on every device (two devices typing it merge as one)."""
    return hashlib.sha256(f"fx\n{currency}\n{on}".encode()).hexdigest()[:32]


def checked(ledger, currency: str, on: str, rate: str, *, per: int = 1, where: str = "rate") -> tuple[str, str, str]:
    """(currency, date, rate text) checked: a known ISO currency other than the base, a real date, a rate."""
    try:
        cur = money.check_currency(currency)
    except InvalidInput as exc:
        raise InvalidInput(N_("{where}: {exc}"), where=where, exc=exc, field="currency") from None
    base = home_currency(ledger)
    if cur == base:
        raise InvalidInput(N_("{where}: {cur} is the ledger's base currency; its rate is always 1"),
                           where=where, cur=cur, field="currency")
    day = validate.iso_date(on, f"{where}: date")
    return cur, day, fx.rate_text(fx.parse_rate(rate, per=per, where=where))


def set_rate(ledger, currency: str, on: str, rate: str, *, per: int = 1, source: str = "manual") -> dict:
    """Record the rate of `currency` on `on` (base-currency units per unit; per=100 for a table per 100)."""
    cur, day, text = checked(ledger, currency, on, rate, per=per)
    with ledger.writing() as tx:
        tx.set("fx_rates", row_id(cur, day), currency=cur, date=day, rate=text, source=source)
    return {"currency": cur, "date": day, "rate": text, "base": home_currency(ledger)}


def check_rates(ledger, rows: Iterable[tuple[str, str, str, str]], *, per: int = 1) -> list[tuple[str, str, str]]:
    """Every row of (where, currency, date, rate) checked, nothing written: the (currency, date, rate text) rows,
    or InvalidInput naming the first bad row by `where` (file and line) and how many more there are."""
    good, problems = [], []
    for where, currency, on, rate in rows:
        try:
            good.append(checked(ledger, currency, on, rate, per=per, where=where))
        except InvalidInput as exc:
            problems.append(exc)
    if problems:
        if len(problems) > 1:
            raise InvalidInput(N_("{first} (and {more} more); nothing was imported"), first=problems[0],
                               more=len(problems) - 1, field="file")
        raise InvalidInput(N_("{first}; nothing was imported"), first=problems[0], field="file")
    return good


def set_rates(ledger, rows: Iterable[tuple[str, str, str, str]], *, per: int = 1, source: str) -> int:
    """Many rates at once, (where, currency, date, rate) each, all or nothing: every row is checked before any
    is written, and a bad row is named by `where` (file and line)."""
    good = check_rates(ledger, rows, per=per)
    with ledger.writing() as tx:
        for cur, day, text in good:
            tx.set("fx_rates", row_id(cur, day), currency=cur, date=day, rate=text, source=source)
    return len(good)
