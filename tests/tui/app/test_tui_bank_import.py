"""Importing a bank statement from the app through Pilot: the file picked in the directory tree, what a dry run
would import shown before anything is written, then imported and reconciled on the Reconcile screen."""
from __future__ import annotations

import pytest
from textual.widgets import DataTable, DirectoryTree

from store.ledger.ledger import Ledger
from tests.support.app import SIZE, app_for, settle, text_of
from tests.support.book import PASSPHRASE, make_book
from tui.screens.bank_import import BankImportScreen
from tui.screens.reconcile import ReconcileScreen

pytestmark = pytest.mark.anyio

STATEMENT = ("交易日期,贷方发生额,借方发生额,对方户名,摘要\n"
             "2026-03-31,\"88,000.00\",,北京华信科技有限公司,T1-000003\n"
             "2026-03-31,,12.00,,手续费\n")


async def until(pilot, condition) -> None:
    """The directory tree keeps a loader worker running, so `settle` would wait forever: wait for what matters."""
    for _ in range(200):
        await pilot.pause(0.05)
        if condition():
            return
    raise AssertionError("the screen never got there")


async def statement_import(pilot, app) -> BankImportScreen:
    """From the dashboard: 8 (Reconcile), then b (import a bank statement)."""
    await settle(pilot)
    await pilot.press("8")
    await settle(pilot)
    await pilot.press("b")
    await until(pilot, lambda: isinstance(app.screen, BankImportScreen))
    return app.screen


async def test_pick_preview_import_then_reconcile(tmp_path, monkeypatch):
    path = make_book(tmp_path / "ledger" / "book.duly")
    (tmp_path / "statements").mkdir()
    (tmp_path / "statements" / "march.csv").write_bytes(STATEMENT.encode("gbk"))
    monkeypatch.chdir(tmp_path / "statements")  # the picker starts in the working directory
    app = app_for(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("8")
        await settle(pilot)
        assert isinstance(app.screen, ReconcileScreen)
        assert app.screen.query_one("#rec-lines", DataTable).row_count == 0
        await pilot.press("b")
        await until(pilot, lambda: isinstance(app.screen, BankImportScreen))
        screen = app.screen
        tree = screen.query_one("#bank-tree", DirectoryTree)
        await until(pilot, lambda: tree.last_line >= 1)
        tree.focus()
        await pilot.press("down", "enter")  # the one file under the root
        await until(pilot, lambda: "Preview" in text_of(screen.query_one("#bank-result")))
        preview = text_of(screen.query_one("#bank-result"))
        assert "Preview: 2 new bank lines (1 in, 1 out)" in preview and "nothing written yet" in preview
        assert "88,000.00" in preview
        with Ledger.open(path, PASSPHRASE) as ledger:
            assert ledger.rows("SELECT * FROM bank_lines") == []  # the preview wrote nothing
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ReconcileScreen))
        await settle(pilot)
        lines = app.screen.query_one("#rec-lines", DataTable)
        assert [str(c) for c in lines.get_row_at(0)][1:] == [
            "2026-03-31", "88,000.00 CNY", "北京华信科技有限公司", "T1-000003", "BJ001", "100"]
    with Ledger.open(path, PASSPHRASE) as ledger:
        assert ledger.conn.execute("SELECT count(*) FROM bank_lines").fetchone()[0] == 2


async def test_a_file_that_is_no_statement_says_why(tmp_path, monkeypatch):
    path = make_book(tmp_path / "book.duly")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "notes.csv").write_text("hello,world\n1,2\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path / "in")
    app = app_for(path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await statement_import(pilot, app)
        tree = screen.query_one("#bank-tree", DirectoryTree)
        await until(pilot, lambda: tree.last_line >= 1)
        tree.focus()
        await pilot.press("down", "enter")
        await until(pilot, lambda: "notes.csv" in text_of(screen.query_one("#bank-result")))
        await pilot.press("ctrl+s")
        await pilot.pause(0.5)
        assert app.screen is screen  # nothing imported: the screen stays with the reason


async def test_digits_do_not_leave_the_statement_import(tmp_path, monkeypatch):
    """A path is typed on this screen: a digit pressed anywhere on it (the tree focused too) does not go to another
    screen as it does from a list."""
    path = make_book(tmp_path / "book.duly")
    (tmp_path / "in").mkdir()
    monkeypatch.chdir(tmp_path / "in")
    app = app_for(path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await statement_import(pilot, app)
        screen.query_one("#bank-tree", DirectoryTree).focus()
        await pilot.press("2")
        await pilot.pause(0.3)
        assert app.screen is screen
