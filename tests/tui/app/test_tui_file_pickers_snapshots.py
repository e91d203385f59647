"""SVG snapshots of the screens that import a file picked in a directory tree, in English and 简体中文 at 120x40 and
80x24: a bank statement with what a dry run would import, and a rates file the same way. Their footers are fitted to
the width like every screen's (below 120 columns: compact, without the palette's key and the set-up keys). The files
live in a folder of a fixed name, so the pictures do not depend on the run. Update after an intended change with
`pytest --snapshot-update`, after looking at the pictures."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from textual.widgets import DirectoryTree, Static

from tests.support.app import hold_still, text_of, until
from tests.support.book import PASSPHRASE, TODAY, make_book
from tui.app.app import DulyApp
from tui.screens.bank_import import BankImportScreen
from tui.screens.rates import RatesImportScreen

SIZES = [(120, 40), (80, 24)]
FOLDER = Path(tempfile.gettempdir()) / "duly-file-picker-snapshots"
STATEMENT = ("交易日期,贷方发生额,借方发生额,对方户名,摘要\n"
             "2026-03-31,\"88,000.00\",,北京华信科技有限公司,T1-000003\n"
             "2026-03-31,,12.00,,手续费\n")
WOULD = ("Preview:", "预览：", "2 rates would", "将导入 2 条")  # what a dry run shows first, bank and rates
RATES = "日期,币种,中间价\n2026-03-31,USD,7.1052\n2026-03-31,EUR,7.7215\n"


def put(path: Path, data: bytes) -> None:
    """Whole or not at all: two test workers may write the same file at once."""
    part = path.with_name(f"{path.name}.{os.getpid()}.part")
    part.write_bytes(data)
    os.replace(part, path)


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    FOLDER.mkdir(exist_ok=True)
    put(FOLDER / "march statement.csv", STATEMENT.encode("gbk"))
    put(FOLDER / "rates 2026-03.csv", RATES.encode("utf-8"))
    return make_book(tmp_path_factory.mktemp("pickers-snap") / "book.duly")


async def picked(pilot, screen, name: str, result_id: str) -> None:
    """The file chosen in the tree (Enter on it): its dry run shown."""
    tree = screen.query_one(DirectoryTree)
    await until(pilot, lambda: tree.last_line >= 2)  # the two files listed
    files = sorted(p.name for p in FOLDER.iterdir() if not p.name.endswith(".part"))
    await pilot.press(*["down"] * (files.index(name) + 1), "enter")
    await until(pilot, lambda: text_of(screen.query_one(result_id, Static)).strip().startswith(WOULD))
    await hold_still(pilot)


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_bank_import_snapshot(snap_compare, book, language, size):
    app = DulyApp(book, PASSPHRASE, today=TODAY, language=language)

    async def before(pilot) -> None:
        await hold_still(pilot)
        pilot.app.push_screen(BankImportScreen(FOLDER))
        await until(pilot, lambda: isinstance(pilot.app.screen, BankImportScreen))
        await picked(pilot, pilot.app.screen, "march statement.csv", "#bank-result")

    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_rates_import_snapshot(snap_compare, book, language, size):
    app = DulyApp(book, PASSPHRASE, today=TODAY, language=language)

    async def before(pilot) -> None:
        await hold_still(pilot)
        pilot.app.push_screen(RatesImportScreen(FOLDER))
        await until(pilot, lambda: isinstance(pilot.app.screen, RatesImportScreen))
        await picked(pilot, pilot.app.screen, "rates 2026-03.csv", "#rates-result")

    assert snap_compare(app, terminal_size=size, run_before=before)
