"""The invoice screens through Pilot: filter the list (open / overdue / all, customer, dates), page through
it, issue an invoice with the due-date preview, a wrong amount that keeps the form, void with a reason."""
from __future__ import annotations

from datetime import timedelta

import pytest
from textual.widgets import DataTable, Input, Static, TextArea

from store.ledger.ledger import Ledger
from tests.support.app import SIZE, app_for, settle, text_of
from tests.support.book import PASSPHRASE, TODAY
from tui.screens.invoice import InvoiceScreen
from tui.screens.invoice_form import InvoiceFormScreen
from tui.screens.invoices import PAGE, InvoicesScreen
from tui.screens.prompt import PromptScreen

pytestmark = pytest.mark.anyio


def numbers(table: DataTable) -> list[str]:
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def to_invoices(pilot) -> DataTable:
    await settle(pilot)
    await pilot.press("3")
    await settle(pilot)
    assert isinstance(pilot.app.screen, InvoicesScreen)
    return pilot.app.screen.query_one("#invoices", DataTable)


async def test_filter_open_overdue_all_customer_and_dates(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        table = await to_invoices(pilot)
        # every invoice of the book is open (T1-000005 in part: 10,000.00 less 4,000.00), newest first
        assert numbers(table) == ["T1-000011", "T1-000003", "T1-000001", "T1-000009", "T1-000006", "T1-000004",
                                  "T1-000002", "T1-000010", "T1-000007", "T1-000005", "T1-000008"]
        assert (str(table.get_cell("T1-000005", "total")), str(table.get_cell("T1-000005", "open"))) == (
            "10,000.00", "6,000.00")
        assert (table.get_cell("T1-000005", "name"), table.get_cell("T1-000005", "currency")) == (
            "北京华信科技有限公司", "CNY")  # the customer's name beside its code, and the currency
        await pilot.press("f")  # overdue on 2026-03-31: due before it and still open
        await settle(pilot)
        assert numbers(table) == ["T1-000006", "T1-000004", "T1-000002", "T1-000010", "T1-000007", "T1-000005",
                                  "T1-000008"]
        await pilot.press("f")  # all
        await settle(pilot)
        assert table.row_count == 11
        await pilot.press("slash", *"BJ001", "enter")
        await settle(pilot)
        assert numbers(table) == ["T1-000003", "T1-000004", "T1-000005"]
        app.screen.query_one("#inv-customer", Input).value = ""
        app.screen.query_one("#inv-from", Input).value = "2026-01-01"
        app.screen.query_one("#inv-to", Input).value = "2026-02-28"
        app.screen.query_one("#inv-to", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert numbers(table) == ["T1-000006", "T1-000004", "T1-000002"]
        app.screen.query_one("#inv-from", Input).value = "2026-02-30"
        app.screen.query_one("#inv-from", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert any("from date '2026-02-30'" in str(n.message) for n in app._notifications)
        assert app.is_running


async def test_the_list_pages_from_sqlite(book):
    with Ledger.open(book, PASSPHRASE) as ledger:
        customer = ledger.row("SELECT id FROM customers WHERE code='SZ004'")["id"]
        with ledger.writing() as tx:
            for n in range(1, 231):
                day = (TODAY - timedelta(days=n)).isoformat()
                inv = tx.event("invoices", number=f"P-{n:04d}", customer_id=customer, date=day, due_date=day,
                               currency="CNY", total=100, tax=0, terms="NET0")
                tx.event("due_items", invoice_id=inv, seq=1, due_date=day, amount=100)
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        table = await to_invoices(pilot)
        assert table.row_count == PAGE  # one page, not 241 rows
        # newest first; P-0001 is dated 2026-03-30 like T1-000011, and 'T1' sorts after 'P-' (descending)
        assert numbers(table)[:3] == ["T1-000011", "P-0001", "P-0002"]
        last = numbers(table)[-1]
        await pilot.press("pagedown", "pagedown", "pagedown")  # towards the end of what is loaded
        await settle(pilot)
        assert PAGE < table.row_count
        assert numbers(table)[PAGE] != last and numbers(table).count(last) == 1  # keyset: no row twice
        for _ in range(12):
            await pilot.press("pagedown", "pagedown", "pagedown")
            await settle(pilot)
        assert table.row_count == 241
        assert "more" not in text_of(app.screen.query_one("#invoices-status", Static))


async def test_issue_an_invoice_with_the_due_date_preview(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await to_invoices(pilot)
        await pilot.press("n")
        form = app.screen
        assert isinstance(form, InvoiceFormScreen)
        await pilot.press(*"SZ004")
        form.query_one("#field-amount", Input).value = "1,000.00"
        await settle(pilot)
        # SZ004 has no terms of its own: NET30 from 2026-03-31 is due 2026-04-30
        preview = text_of(form.query_one("#invoice-preview", Static))
        assert "2026-04-30" in preview and "1,000.00" in preview and "NET30" in preview
        form.query_one("#field-amount", Input).value = ""
        form.query_one("#field-terms", Input).value = "NET60"
        form.query_one("#field-lines", TextArea).text = "咨询服务:2:1500.00:6%\nTravel:1:99.99"
        await settle(pilot)
        # 2 × 1,500.00 = 3,000.00 + 6% tax 180.00 + 99.99 = 3,279.99, due 60 days later on 2026-05-30
        preview = text_of(form.query_one("#invoice-preview", Static))
        assert "3,279.99" in preview and "2026-05-30" in preview
        await pilot.press("ctrl+s")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, InvoiceScreen)
        number = screen.number
        head = text_of(screen.query_one("#invoice-head", Static))
        assert "3,279.99 CNY" in head and "2026-05-30" in head
        assert screen.query_one("#invoice-lines", DataTable).row_count == 2
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, InvoicesScreen)
        assert numbers(app.screen.query_one("#invoices", DataTable))[0] == number  # the list reloaded
    with Ledger.open(book, PASSPHRASE) as ledger:
        row = ledger.row("SELECT total, tax, due_date, terms FROM invoices WHERE number=?", (number,))
    assert row == {"total": 327_999, "tax": 18_000, "due_date": "2026-05-30", "terms": "NET60"}


async def test_a_wrong_amount_keeps_the_form_and_writes_nothing(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await to_invoices(pilot)
        await pilot.press("n")
        form = app.screen
        await pilot.press(*"BJ001", "tab", "tab")
        await pilot.press(*"12x")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert form.query_one("#row-amount").has_class("invalid")
        assert "12x" in text_of(form.query_one("#error-amount", Static))
        assert form.query_one("#field-customer", Input).value == "BJ001"
        assert form.query_one("#field-amount", Input).value == "12x"
        assert app.focused is form.query_one("#field-amount", Input)
    with Ledger.open(book, PASSPHRASE) as ledger:
        assert ledger.row("SELECT count(*) AS n FROM invoices")["n"] == 11


async def test_void_with_a_reason_and_a_refusal_while_money_is_applied(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        table = await to_invoices(pilot)
        table.move_cursor(row=table.get_row_index("T1-000011"))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceScreen)
        await pilot.press("v")
        assert isinstance(app.screen, PromptScreen)
        await pilot.press("enter")  # no reason: refused, the prompt stays
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"wrong customer", "enter")
        await settle(pilot)
        head = text_of(app.screen.query_one("#invoice-head", Static))
        assert "voided" in head and "wrong customer" in head
        await pilot.press("escape")
        await settle(pilot)
        assert "T1-000011" not in numbers(table)  # no longer open
        table.move_cursor(row=table.get_row_index("T1-000005"))
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("v")  # money is applied: the app offers to unapply first; Esc leaves it all as it is
        await settle(pilot)
        assert "T1-000005 has 4,000.00 CNY of payments or credits applied" in str(
            app.screen.query_one("#confirm-title").render())
        await pilot.press("escape")
        await settle(pilot)
        assert "open" in text_of(app.screen.query_one("#invoice-head", Static))
    with Ledger.open(book, PASSPHRASE) as ledger:
        voids = ledger.rows("SELECT i.number, v.reason, v.date FROM voids v JOIN invoices i ON i.id = v.doc_id")
    assert voids == [{"number": "T1-000011", "reason": "wrong customer", "date": "2026-03-31"}]


async def test_a_credit_limit_warning_is_said_in_the_apps_language(book):
    """BJ001 owes 117,400.00 CNY against its 200,000.00 CNY limit: 100,000.00 more goes over by 17,400.00; the
    invoice is issued (credit.enforce warns by default) and the warning is in Chinese."""
    app = app_for(book, language="zh")
    async with app.run_test(size=SIZE) as pilot:
        await to_invoices(pilot)
        await pilot.press("n")
        form = app.screen
        assert isinstance(form, InvoiceFormScreen)
        await pilot.press(*"BJ001")
        form.query_one("#field-amount", Input).value = "100000"
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, InvoiceScreen)
        shown = [str(n.message) for n in app._notifications]
    assert any("BJ001 的信用额度为 200,000.00 CNY" in m and "超出 17,400.00 CNY" in m for m in shown), shown
    assert not any("credit limit" in m for m in shown), shown
