"""Statements of account (对账单): outstanding and activity views, and they tie to the aging."""
from __future__ import annotations

from datetime import date

import pytest

from store.files.documents import render
from store.read import reports, statements
from store.errors import InvalidInput


def test_outstanding_lists_open_items_and_unapplied(book):
    stmt = statements.statement_of_account(book.ledger, book.ids["a"], as_of=date(2026, 3, 31))
    [cny] = stmt["sections"]
    assert [(i["number"], i["open_amount"]) for i in cny["open_items"]] == [("T1-000001", 35000),
                                                                           ("T1-000002", 30000)]
    assert cny["unapplied"] == 10000 and cny["closing_balance"] == 55000
    assert cny["aging"]["31-60"] == 35000


@pytest.mark.parametrize(("start", "end"), [("2026-01-01", "2026-03-31"), ("2026-02-15", "2026-07-31"),
                                            ("2026-03-02", "2026-03-10"), ("2025-01-01", "2026-12-31")])
def test_activity_closing_balance_ties_to_the_aging(book, start, end):
    start, end = date.fromisoformat(start), date.fromisoformat(end)
    aging = reports.aging(book.ledger, end)
    for code in ("A", "B"):
        stmt = statements.statement_of_account(book.ledger, book.ids[code.lower()], start=start, end=end)
        for section in stmt["sections"]:
            rows = [r for r in aging.rows if r["customer"] == code and r["currency"] == section["currency"]]
            assert section["closing_balance"] == section["aging_total"] == (rows[0]["total"] if rows else 0)
            running = section["opening_balance"]
            for line in section["lines"]:
                running += line["debit"] - line["credit"]
                assert line["balance"] == running


def test_activity_shows_each_document_in_date_order(book):
    stmt = statements.statement_of_account(book.ledger, book.ids["a"], start=date(2026, 1, 1),
                                           end=date(2026, 12, 31))
    [cny] = stmt["sections"]
    kinds = [(line["date"].isoformat(), line["type"]) for line in cny["lines"]]
    assert kinds == [("2026-01-10", "invoice"), ("2026-02-01", "invoice"), ("2026-02-20", "payment"),
                     ("2026-03-01", "invoice"), ("2026-03-05", "void"), ("2026-03-15", "payment"),
                     ("2026-03-20", "credit_note"), ("2026-05-01", "writeoff"), ("2026-07-05", "payment")]
    assert cny["opening_balance"] == 0 and cny["closing_balance"] == 35000


def test_renderings_escape_and_keep_cjk(book):
    with book.ledger.writing() as tx:
        tx.set("customers", book.ids["a"], name="<b>恒达</b> & Co | 1")
    stmt = statements.statement_of_account(book.ledger, book.ids["a"], start=date(2026, 1, 1),
                                           end=date(2026, 6, 30))
    with book.ledger.writing() as tx:
        tx.set("customers", book.ids["a"], legal_name="<b>恒达</b> & Co | 1")
    page = render.statement(book.ledger, book.ids["a"], stmt=stmt, lang="zh").html
    assert "&lt;b&gt;恒达&lt;/b&gt; &amp; Co" in page and "<b>恒达" not in page
    assert "@media print" in page and 'charset="utf-8"' in page
    md = render.statement_markdown(stmt, "zh")
    assert "恒达" in md and "\\|" in md
    data = statements.to_json(stmt)
    assert data["sections"][0]["closing_balance"] == "450.00" and data["from"] == "2026-01-01"


def test_statement_needs_one_kind_of_dates(book):
    with pytest.raises(InvalidInput):
        statements.statement_of_account(book.ledger, book.ids["a"])
    with pytest.raises(InvalidInput):
        statements.statement_of_account(book.ledger, book.ids["a"], start=date(2026, 2, 1), end=date(2026, 1, 1))


def test_cli_report_and_statement(cli):
    assert cli("demo", "--customers", "8", "--invoices", "120", "--seed", "3").code == 0
    out = cli("report", "aging", "--as-of", "2026-01-31", "--format", "json")
    data = out.json()
    assert set(data) == {"as_of", "basis", "buckets", "rows", "totals"} and data["as_of"] == "2026-01-31"
    assert cli("report", "aging", "--as-of", "2026-01-31", "--years", "--basis", "invoice").code == 0
    assert cli("report", "aging", "--buckets", "15,45").code == 0
    for name in ("summary", "dso", "forecast", "provision"):
        assert cli("report", name, "--as-of", "2026-01-31").code == 0, name
    assert cli("report", "cei", "--from", "2025-07-01", "--to", "2025-12-31", "--format", "json").code == 0
    code = data["rows"][0]["customer"] if data["rows"] else "C0001"
    html = cli("statement", code, "--from", "2025-01-01", "--to", "2026-01-31", "--format", "html")
    assert html.code == 0 and html.out.startswith("<!DOCTYPE html>")
    assert cli("statement", code, "--as-of", "2026-01-31", "--format", "md").code == 0
    assert cli("statement", code, "--as-of", "2026-01-31").code == 0
    assert cli("statement", code).code == 2
    assert cli("demo").code == 1  # the ledger exists now
