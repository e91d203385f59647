"""Exchange-rate tables from a file (e.g. the central bank's published midpoint rates saved as CSV or XLSX):
columns date, currency and rate (or their Chinese names); every row is checked before any is written."""
from __future__ import annotations

from pathlib import Path

from store.files import importer
from store.write import fx

RATE_COLUMNS = {
    "date": ("日期", "发布日期"),
    "currency": ("币种", "货币", "币别", "code"),
    "rate": ("汇率", "中间价", "折算率", "midpoint"),
}


def import_file(ledger, path: str | Path, *, per: int = 1) -> int:
    """Every rate of the file written in one transaction, or none (the first bad row named); how many."""
    return fx.set_rates(ledger, _rows(path), per=per, source=Path(path).name)


def preview(ledger, path: str | Path, *, per: int = 1) -> list[tuple[str, str, str]]:
    """What import_file would write, checked the same way, with nothing written: (currency, date, rate) rows."""
    return fx.check_rates(ledger, _rows(path), per=per)


def _rows(path: str | Path) -> list[tuple[str, str, str, str]]:
    table = importer.read_table(path)
    problems = importer.map_columns(table, RATE_COLUMNS, ("date", "currency", "rate"))
    if problems:
        raise importer.ImportProblems(problems)
    rows = []
    for line, cells in table.rows:
        value = {name: cells[i].strip() if i < len(cells) else "" for name, i in table.columns.items()}
        rows.append((table.where(line), value["currency"], value["date"], value["rate"]))
    return rows
