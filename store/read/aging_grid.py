"""The aging grid the app pages through: the aging report (store.read.reports.aging, per currency or converted
into the base currency by store.read.fx.aging_in) worked out once, its rows put in the ledger's scratch database
(store.read.scratch: in memory, no write to the ledger) and read back a page at a time, sorted in SQL by any of
its columns. The totals per currency come after every customer's row, whichever way the rows are sorted.

A grid built for the same date, basis and currency with nothing written to the ledger since is kept as it is
(going back to the aging screen, or sorting it again, works nothing out anew)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from store.errors import InvalidInput
from store.i18n import N_
from store.read import fx as fxread
from store.read import reports
from store.read.scratch import book_state, scratch
from store.rules.aging import UNAPPLIED
from store.write.terms import home_currency

TEXT_COLUMNS = ("customer", "name", "currency")


@dataclass
class AgingGrid:
    as_of: date
    basis: str
    buckets: list[str]
    columns: list[str]  # the amount columns in order: the buckets, unapplied, total
    rows: int  # customer rows (the totals not counted)
    currencies: list[str]  # one totals row each
    conversion: fxread.Conversion | None = None  # in the base currency: the rates used, the currencies left out


def build(ledger, as_of: date, basis: str = "due", in_base: bool = False) -> AgingGrid:
    """Work the grid out (or keep the one built from the same ledger state) and put its rows in the scratch
    database: the customers' rows in the report's order (customer, currency), then one totals row per currency."""
    held = scratch(ledger)
    built_from = (as_of, basis, in_base, book_state(ledger))
    memo = held.memo.get("aging_grid")
    if memo is not None and memo[0] == built_from:
        return memo[1]
    report = reports.aging(ledger, as_of, basis=basis)
    conversion = None
    if in_base:
        report, conversion = fxread.aging_in(report, ledger, home_currency(ledger))
    columns = [*report.buckets, UNAPPLIED, "total"]
    amounts = [f"c{n}" for n in range(len(columns))]
    with held.conn:  # one transaction: the grid is whole or as it was
        held.conn.execute("DROP TABLE IF EXISTS aging_grid")
        held.conn.execute(f"""CREATE TABLE aging_grid (seq INTEGER PRIMARY KEY, is_total INTEGER NOT NULL,
            customer TEXT NOT NULL, name TEXT NOT NULL, currency TEXT NOT NULL,
            {', '.join(f'{a} INTEGER NOT NULL' for a in amounts)})""")
        marks = ", ".join("?" * (5 + len(amounts)))
        held.conn.executemany(
            f"INSERT INTO aging_grid VALUES ({marks})",
            [(n, 0, r["customer"], r["name"] or "", r["currency"], *(r[c] for c in columns))
             for n, r in enumerate(report.rows, 1)]
            + [(len(report.rows) + n, 1, "", "", cur, *(totals[c] for c in columns))
               for n, (cur, totals) in enumerate(report.totals.items(), 1)])
    grid = AgingGrid(report.as_of, basis, list(report.buckets), columns, len(report.rows), list(report.totals),
                     conversion)
    held.memo["aging_grid"] = (built_from, grid)
    return grid


def sort_expression(grid: AgingGrid, column: str) -> str:
    if column in TEXT_COLUMNS:
        return column
    if column in grid.columns:
        return f"c{grid.columns.index(column)}"
    raise InvalidInput(N_("cannot sort by {column}"), column=repr(column), field="sort")


def page(ledger, grid: AgingGrid, *, sort: str = "customer", descending: bool = False, after: tuple | None = None,
         limit: int = 100, backwards: bool = False) -> list[dict]:
    """Rows of the grid sorted by `sort` (a text column or an amount column) then by the report's order, the
    same way, at most `limit`, after `after` = (is_total, sort value, seq) of the last row shown; the totals
    after the customers' rows. backwards: the list read from its end (End): the totals first, then the rows,
    the sort the other way too (the caller passes `descending` already turned round). Each row: seq, is_total,
    customer, name, currency and each amount column by its name."""
    held = scratch(ledger)
    expr = sort_expression(grid, sort)
    way, op = ("DESC", "<") if descending else ("ASC", ">")
    totals_way, totals_op = ("DESC", "<") if backwards else ("ASC", ">")
    params: dict = {"n": int(limit)}
    where = "1=1"
    if after is not None:
        params["t"], params["v"], params["s"] = after
        where = (f"(is_total {totals_op} :t OR (is_total = :t AND ({expr} {op} :v OR ({expr} = :v AND seq {op} :s))))")
    amounts = ", ".join(f"c{n}" for n in range(len(grid.columns)))
    rows = held.rows(f"""SELECT seq, is_total, customer, name, currency, {amounts} FROM aging_grid WHERE {where}
                         ORDER BY is_total {totals_way}, {expr} {way}, seq {way} LIMIT :n""", params)
    for r in rows:
        for n, column in enumerate(grid.columns):
            r[column] = r.pop(f"c{n}")
        r["sort_value"] = r[sort]
    return rows
