"""The Reconcile screen through Pilot: open bank lines with their best match, the candidates and reasons of the
highlighted line, `y` accepts (a payment and its allocation are posted), `x` sets a line aside; disputed
statements with their difference below."""
from __future__ import annotations

import pytest
from textual.widgets import DataTable, Static

from store.files import bank
from store.read import open as openitems
from store.write import confirmations, invoices
from store.ledger.ledger import Ledger
from tests.support.app import SIZE, app_for, settle
from tests.support.book import PASSPHRASE, make_book
from tui.screens.confirm import ConfirmScreen
from tui.screens.prompt import PromptScreen
from tui.screens.reconcile import ReconcileScreen

pytestmark = pytest.mark.anyio


def cells(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_reconcile_screen_accepts_and_rejects(tmp_path):
    path = make_book(tmp_path / "book.duly")
    src = tmp_path / "bank.csv"
    src.write_bytes(("交易日期,贷方发生额,借方发生额,对方户名,摘要\n"
                     "2026-03-30,\"30,000.00\",,明辉,货款\n"
                     "2026-03-31,\"88,000.00\",,北京华信科技有限公司,T1-000003\n"
                     "2026-03-31,,12.00,,手续费\n").encode("gbk"))
    with Ledger.open(path, PASSPHRASE) as ledger:
        bank.import_file(ledger, src)
        # GZ003 owes 45,600.00 + 12,000.00 as of 2026-03-31 and says 50,000.00
        confirmations.confirm(ledger, "GZ003", "2026-03-31", "50000", on="2026-04-02")
        confirmations.confirm(ledger, "ACME", "2026-03-31", on="2026-04-02")  # agreed: not listed
    app = app_for(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("8")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReconcileScreen)
        lines = screen.query_one("#rec-lines", DataTable)
        # money out is not listed; best match and score per line (SH002: 明辉 in 上海明辉贸易 27 + the amount of
        # T1-000010 30 + paid 34 days after its due date 5; BJ001: number 45 + name 30 + amount 30, capped at 100)
        assert [row[1:] for row in cells(lines)] == [
            ["2026-03-30", "30,000.00 CNY", "明辉", "货款", "SH002", "62"],
            ["2026-03-31", "88,000.00 CNY", "北京华信科技有限公司", "T1-000003", "BJ001", "100"]]
        assert cells(screen.query_one("#rec-cands", DataTable))[0][:4] == ["1", "62", "SH002", "T1-000010 30,000.00"]
        assert cells(screen.query_one("#rec-disputes", DataTable)) == [
            ["GZ003", "2026-03-31", "CNY", "57,600.00 CNY", "50,000.00 CNY", "7,600.00 CNY", "2026-04-02"]]
        await pilot.press("down")
        await settle(pilot)
        reasons = str(screen.query_one("#rec-reasons", Static).render())
        assert reasons.startswith("1. BJ001 (100): invoice number T1-000003 in the memo; payer 北京华信科技有限公司 "
                                  "is the customer's name; amount equals the open amount of T1-000003")
        await pilot.press("a")  # accept asks first, saying what it posts and how it is undone
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "void that payment" in str(app.screen.query_one("#confirm-undo", Static).render())
        await pilot.press("escape")  # leave it: nothing is posted
        await settle(pilot)
        assert lines.row_count == 2
        await pilot.press("a", "enter")
        await settle(pilot)
        assert [row[4] for row in cells(lines)] == ["货款"]
        await pilot.press("x")  # reject takes a reason
        await settle(pilot)
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"not ours", "enter")
        await settle(pilot)
        assert lines.row_count == 0
    with Ledger.open(path, PASSPHRASE) as ledger:
        assert openitems.invoice_open(ledger, invoices.by_number(ledger, "T1-000003")["id"]) == 0
        assert openitems.invoice_open(ledger, invoices.by_number(ledger, "T1-000010")["id"]) == 3_000_000
        assert [r["status"] for r in ledger.rows("SELECT status FROM bank_matches ORDER BY status")] == [
            "accepted", "rejected"]
        assert ledger.row("SELECT note FROM bank_matches WHERE status='rejected'")["note"] == "not ours"


async def test_a_line_is_matched_by_hand_and_a_line_set_aside_is_reopened(tmp_path):
    """A line no rule recognises becomes the payment of the customer the user names (oldest due first); a line set
    aside by mistake is listed with `f` and brought back with `o`, then decided again."""
    path = make_book(tmp_path / "book.duly")
    src = tmp_path / "bank.csv"
    src.write_bytes(("交易日期,贷方发生额,借方发生额,对方户名,摘要\n"
                     "2026-03-30,\"1,234.00\",,张三,转账\n"
                     "2026-03-31,\"500.00\",,李四,退款\n").encode("gbk"))
    with Ledger.open(path, PASSPHRASE) as ledger:
        bank.import_file(ledger, src)
        oldest = ledger.row("""SELECT i.number, i.id FROM invoices i JOIN customers c ON c.id = i.customer_id
                               WHERE c.code='SH002' ORDER BY i.due_date, i.number LIMIT 1""")
        before = openitems.invoice_open(ledger, oldest["id"])
    app = app_for(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("8")
        await settle(pilot)
        screen = app.screen
        lines = screen.query_one("#rec-lines", DataTable)
        assert [row[3] for row in cells(lines)] == ["张三", "李四"]
        await pilot.press("m")  # by hand: who paid?
        await settle(pilot)
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"SH002", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)  # and it asks before posting
        assert "SH002" in str(app.screen.query_one("#confirm-title").render())
        await pilot.press("enter")
        await settle(pilot)
        assert [row[3] for row in cells(lines)] == ["李四"]
        await pilot.press("x", *"refund", "enter")
        await settle(pilot)
        assert lines.row_count == 0
        await pilot.press("f")  # the lines set aside
        await settle(pilot)
        assert [row[3] for row in cells(lines)] == ["李四"]
        assert "set aside" in str(screen.query_one("#rec-summary").render())
        await pilot.press("a")  # a line set aside is not accepted from here
        await settle(pilot)
        assert isinstance(app.screen, ReconcileScreen)
        await pilot.press("o")
        await settle(pilot)
        assert lines.row_count == 0
        await pilot.press("f")
        await settle(pilot)
        assert [row[3] for row in cells(lines)] == ["李四"]
    with Ledger.open(path, PASSPHRASE) as ledger:
        statuses = {r["payer"]: r["status"] for r in ledger.rows(
            "SELECT b.payer, coalesce(m.status, 'open') AS status FROM bank_lines b "
            "LEFT JOIN bank_matches m ON m.id = b.id")}
        assert statuses == {"张三": "accepted", "李四": "open"}
        paid = ledger.row("SELECT p.amount, c.code FROM payments p JOIN customers c ON c.id = p.customer_id "
                          "WHERE p.note LIKE '%张三%'")
        assert (paid["amount"], paid["code"]) == (123_400, "SH002")
        assert openitems.invoice_open(ledger, oldest["id"]) == max(before - 123_400, 0)


async def test_the_reasons_of_a_match_are_said_in_the_apps_language(tmp_path):
    path = make_book(tmp_path / "book.duly")
    src = tmp_path / "bank.csv"
    src.write_bytes(("交易日期,贷方发生额,借方发生额,对方户名,摘要\n"
                     "2026-03-31,\"88,000.00\",,北京华信科技有限公司,T1-000003\n").encode("gbk"))
    with Ledger.open(path, PASSPHRASE) as ledger:
        bank.import_file(ledger, src)
    app = app_for(path, language="zh")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("8")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReconcileScreen)
        reasons = str(screen.query_one("#rec-reasons", Static).render())
        assert reasons.startswith("1. BJ001 (100): 摘要中有发票号 T1-000003; 付款人 北京华信科技有限公司 即客户名称; "
                                  "金额等于 T1-000003 的未收金额"), reasons
        assert "摘要中有发票号 T1-000003" in cells(screen.query_one("#rec-cands", DataTable))[0][4]
