"""Drafts and terms through Pilot: a draft typed with every wrong field marked at once, saved, edited, issued as
an invoice after one question, another deleted; terms added with the due dates of a sample invoice following
what is typed."""
from __future__ import annotations

import pytest
from textual.widgets import DataTable

from store.ledger.ledger import Ledger
from store.write import drafts, terms as termsbook
from tests.support.app import SIZE, app_for, settle, text_of
from tests.support.book import PASSPHRASE, make_book
from tui.screens.ask import AskScreen
from tui.screens.drafts import DraftFormScreen, DraftsScreen
from tui.screens.terms import TermsFormScreen, TermsScreen

pytestmark = pytest.mark.anyio


def cells(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def error_of(app, field: str) -> str:
    return text_of(app.screen.query_one(f"#error-{field}")).strip()


async def test_draft_typed_saved_and_issued(tmp_path):
    path = make_book(tmp_path / "book.duly")
    app = app_for(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        assert isinstance(app.screen, DraftsScreen)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, DraftFormScreen)
        await pilot.press(*"NOPE", "enter", *"2026-02-30", "enter", *"-5", "ctrl+s")
        await settle(pilot)
        assert "unknown customer" in error_of(app, "customer")
        assert "does not exist in the calendar" in error_of(app, "date")
        assert "negative" in error_of(app, "amount")
        form = app.screen
        form.query_one("#field-customer").value = "BJ001"
        form.query_one("#field-date").value = "2026-03-30"
        form.query_one("#field-amount").value = "1234.50"
        form.query_one("#field-description").value = "咨询服务"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DraftsScreen)
        table = app.screen.query_one("#drafts", DataTable)
        assert [row[1:4] + row[7:9] for row in cells(table)] == [["BJ001", "北京华信科技有限公司", "2026-03-30",
                                                                 "1234.50", "咨询服务"]]
        await pilot.press("enter")  # edit it
        await settle(pilot)
        app.screen.query_one("#field-amount").value = "2000"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert cells(app.screen.query_one("#drafts", DataTable))[0][7] == "2000.00"
        await pilot.press("I")
        await settle(pilot)
        assert isinstance(app.screen, AskScreen)
        await pilot.click("#ask-yes")
        await settle(pilot)
        assert app.screen.query_one("#drafts", DataTable).row_count == 0
    with Ledger.open(path, PASSPHRASE) as ledger:
        [done] = drafts.listing(ledger, include_closed=True)
        assert done["status"] == "issued"
        invoice = ledger.row("SELECT total, date, description FROM invoices WHERE number = ?", (done["invoice"],))
        assert invoice == {"total": 200000, "date": "2026-03-30", "description": "咨询服务"}


async def test_draft_deleted_after_asking(tmp_path):
    path = make_book(tmp_path / "book.duly")
    with Ledger.open(path, PASSPHRASE) as ledger:
        kept = drafts.add(ledger, "ACME", amount="10")
        gone = drafts.add(ledger, "SH002", amount="20")
    app = app_for(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("down", "x")
        await settle(pilot)
        await pilot.click("#ask-no")  # not yet
        await settle(pilot)
        assert app.screen.query_one("#drafts", DataTable).row_count == 2
        await pilot.press("x")
        await settle(pilot)
        await pilot.click("#ask-yes")
        await settle(pilot)
        assert [row[1] for row in cells(app.screen.query_one("#drafts", DataTable))] == ["ACME"]
    with Ledger.open(path, PASSPHRASE) as ledger:
        assert [d["id"] for d in drafts.listing(ledger)] == [kept]
        assert [d["status"] for d in drafts.listing(ledger, include_closed=True) if d["id"] == gone] == ["deleted"]


async def test_terms_added_with_the_live_due_date_preview(tmp_path):
    path = make_book(tmp_path / "book.duly")
    app = app_for(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(app.screen, TermsScreen)
        names = [row[0] for row in cells(app.screen.query_one("#terms", DataTable))]
        assert "EOM30" in names and "NET30" in names
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, TermsFormScreen)
        await pilot.press(*"HALF", "enter", *"50%:days_after:0; balance:days_after_end_of_month:30")
        await settle(pilot)
        preview = text_of(app.screen.query_one("#terms-preview"))
        assert "1. 2026-03-31  5,000.00 CNY" in preview and "2. 2026-04-30  5,000.00 CNY" in preview
        await pilot.press("enter", *"2/x")  # a wrong discount
        app.screen.query_one("#field-late_interest").value = "lots"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "is not a whole number" in error_of(app, "discount")
        assert "not a percentage" in error_of(app, "late_interest")
        app.screen.query_one("#field-discount").value = "2/10"
        app.screen.query_one("#field-late_interest").value = "12%"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, TermsScreen)
        assert ["HALF", "this ledger's"] in [row[:2] for row in cells(app.screen.query_one("#terms", DataTable))]
    with Ledger.open(path, PASSPHRASE) as ledger:
        found = termsbook.resolve(ledger, "HALF")
        assert (found.discount_bp, found.discount_days, found.late_interest_bp) == (200, 10, 1200)
        assert [line.kind for line in found.lines] == ["percent", "balance"]


async def test_form_errors_are_worded_in_the_readers_language(tmp_path):
    """In Chinese, what a form says beside a wrong field is Chinese: the draft, terms and settings forms kept the
    store's English line (str of the error) and showed it as it was."""
    path = make_book(tmp_path / "book.duly")
    app = app_for(path, language="zh")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, DraftFormScreen)
        await pilot.press(*"NOPE", "enter", *"2026-02-30", "ctrl+s")
        await settle(pilot)
        assert "未知客户 'NOPE'" in error_of(app, "customer")
        assert "日历" in error_of(app, "date") and "calendar" not in error_of(app, "date")
        assert error_of(app, "amount") == "请填写发票金额"  # no amount typed
        await pilot.press("escape")
        await settle(pilot)
        if isinstance(app.screen, AskScreen):  # leave without saving
            await pilot.press("n")
            await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, TermsFormScreen)
        await pilot.press(*"EOM30", "enter", *"100%:days_after:30")
        app.screen.query_one("#field-late_interest").value = "lots"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "是内置名称" in error_of(app, "name") and "built-in" not in error_of(app, "name")
        assert "不是百分比" in error_of(app, "late_interest")
