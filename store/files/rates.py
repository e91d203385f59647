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
    table = importer.read_table(path)
    problems = importer.map_columns(table, RATE_COLUMNS, ("date", "currency", "rate"))
    if problems:
        raise importer.ImportProblems(problems)
    rows = []
    for line, cells in table.rows:
        value = {name: cells[i].strip() if i < len(cells) else "" for name, i in table.columns.items()}
        rows.append((table.where(line), value["currency"], value["date"], value["rate"]))
    return fx.set_rates(ledger, rows, per=per, source=Path(path).name)
