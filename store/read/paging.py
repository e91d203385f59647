"""Lists paged by a keyset in any column a person sorts by: ORDER BY (column, tie-breaker) in one direction,
and the next page is the rows after the last one shown, (value, tie) compared as a pair. The sort runs in SQLite;
the same query with the direction flipped gives the last page first (End on a long list)."""
from __future__ import annotations


def keyset(expr: str, tie: str, descending: bool, after: tuple | None, params: dict) -> tuple[str | None, str]:
    """(a WHERE condition for the page after `after` = (value, tie value), or None; the ORDER BY clause).
    `expr` and `tie` are SQL expressions that are never NULL (coalesce them); the values go into `params`."""
    op, way = ("<", "DESC") if descending else (">", "ASC")
    order = f"{expr} {way}, {tie} {way}"
    if after is None:
        return None, order
    params["after_value"], params["after_tie"] = after
    return (f"({expr} {op} :after_value OR ({expr} = :after_value AND {tie} {op} :after_tie))", order)
