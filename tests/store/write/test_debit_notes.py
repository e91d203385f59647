"""Debit notes (借项通知单): raise what a customer owes (a fee, or the reversal of a credit note, which is otherwise
never undone), are open like an invoice in aging, statements and exports, and are reversed by a credit note."""
from __future__ import annotations

import subprocess
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest

from store.ledger.ledger import Ledger
from store.files.documents import render
from store.read import reports, statements
from store.write import adjustments, customers, debit_notes, invoices
from tests.support.cli import PASSPHRASE, assert_one_line_error, change_count, sha256
from tests.support.journals import hledger_balances, need

AS_OF = date(2026, 12, 31)


@pytest.fixture
def book(cli):
    """HD001: A7-000001 1000.00 with a credit note of 200.00 applied to it (CN-A7-000001), and an unapplied credit
    of 150.00 (CN-A7-000002): owes 650.00."""
    assert cli("init", "--series", "A7").code == 0
    with Ledger.open(cli.path, PASSPHRASE) as led:
        customers.add(led, "HD001", "上海恒达贸易")
        customers.add(led, "OTHER", "Other Co")
        invoices.add(led, "HD001", "2026-01-10", amount="1000", due="2026-02-10")
        adjustments.add_credit(led, "HD001", "2026-01-20", "200", "price", invoice_number="A7-000001")
        adjustments.add_credit(led, "HD001", "2026-01-25", "150", "goodwill")
    return cli


def balance(path) -> int:
    with Ledger.open(path, PASSPHRASE) as led:
        return sum(r["total"] for r in reports.aging(led, AS_OF).rows)


def test_a_fee_is_owed_in_aging_and_on_the_statement(book):
    assert balance(book.path) == 65000
    out = book("debit", "add", "--customer", "HD001", "--date", "2026-02-01", "--amount", "50",
               "--reason", "退票手续费", "--due", "2026-02-15")
    assert out.code == 0 and "debit note DN-A7-000001 of 50.00 CNY issued" in out.out, out.err
    assert balance(book.path) == 70000
    with Ledger.open(book.path, PASSPHRASE) as led:
        aged = reports.aging(led, AS_OF)
        customer_id = customers.by_code(led, "HD001")["id"]
        stmt = statements.statement_of_account(led, customer_id, start=date(2026, 1, 1), end=AS_OF)
        outstanding = statements.statement_of_account(led, customer_id, as_of=AS_OF)
    assert aged.rows[0]["total"] == 70000
    [section] = stmt["sections"]
    assert [(ln["type"], ln["number"], ln["debit"]) for ln in section["lines"] if ln["type"] == "debit_note"] == [
        ("debit_note", "DN-A7-000001", 5000)]
    assert section["closing_balance"] == 70000
    assert "DN-A7-000001" in [it["number"] for it in outstanding["sections"][0]["open_items"]]
    assert "借项通知单" in render.statement_markdown(stmt, "zh")
    assert "Debit note" in render.statement_markdown(stmt, "en")
    listed = book("debit", "list", "--format", "json").json()
    assert listed == [{"number": "DN-A7-000001", "customer": "HD001", "date": "2026-02-01", "due_date": "2026-02-15",
                       "currency": "CNY", "amount": "50.00", "open": "50.00", "reverses": None,
                       "reason": "退票手续费"}]


def test_reversing_a_credit_note_restores_what_it_took_off(book):
    # the applied credit: the invoice stays credited, the debit note is owed again
    out = book("debit", "add", "--reverses", "CN-A7-000001", "--date", "2026-03-01", "--reason", "issued in error")
    assert out.code == 0 and "reversing credit note CN-A7-000001" in out.out
    assert balance(book.path) == 85000
    # the unused credit: its reversal uses it up at once, so neither is left open
    out = book("debit", "add", "--reverses", "CN-A7-000002", "--date", "2026-03-01", "--reason", "withdrawn")
    assert "150.00 CNY of its unused credit applied to it" in out.out
    assert balance(book.path) == 100000  # as if neither credit note had been issued
    listed = {r["number"]: r for r in book("debit", "list", "--format", "json").json()}
    assert listed["DN-A7-000001"]["open"] == "200.00" and listed["DN-A7-000002"]["open"] == "0.00"
    assert listed["DN-A7-000002"]["reverses"] == "CN-A7-000002"
    shown = book("invoice", "show", "DN-A7-000002", "--format", "json").json()
    assert shown["debit_note_reverses"] == "CN-A7-000002" and shown["status"] == "paid"


def test_a_debit_note_is_confirmed_in_chinese_when_asked(book):
    out = book("debit", "add", "--customer", "HD001", "--date", "2026-02-01", "--amount", "50", "--reason", "fee",
               "--lang", "zh")
    assert out.code == 0 and "已开具借项通知单 DN-A7-000001" in out.out, out.out


def test_a_debit_note_is_reversed_by_a_credit_note(book):
    assert book("debit", "add", "--customer", "HD001", "--date", "2026-02-01", "--amount", "80",
                "--reason", "fee").code == 0
    assert book("credit", "add", "--customer", "HD001", "--date", "2026-02-03", "--amount", "80",
                "--invoice", "DN-A7-000001", "--reason", "fee waived").code == 0
    assert balance(book.path) == 65000
    assert book("debit", "list", "--format", "json").json()[0]["open"] == "0.00"


@pytest.mark.parametrize("argv, said", [
    (["--reverses", "CN-A7-000001", "--date", "2026-01-05", "--reason", "x"], "before credit note CN-A7-000001"),
    (["--reverses", "CN-A7-000001", "--date", "2026-03-01", "--amount", "201", "--reason", "x"], "at most its amount"),
    (["--reverses", "CN-A7-000001", "--customer", "OTHER", "--date", "2026-03-01", "--reason", "x"],
     "belongs to customer HD001"),
    (["--reverses", "CN-NOPE", "--date", "2026-03-01", "--reason", "x"], "unknown credit note"),
    (["--customer", "HD001", "--date", "2026-03-01", "--reason", "x"], "give the amount"),
    (["--customer", "HD001", "--date", "2026-03-01", "--amount", "0", "--reason", "x"], "more than zero"),
    (["--customer", "NOPE", "--date", "2026-03-01", "--amount", "5", "--reason", "x"], "unknown customer"),
    (["--customer", "HD001", "--date", "2026-02-30", "--amount", "5", "--reason", "x"], "does not exist"),
    (["--customer", "HD001", "--date", "2026-03-01", "--amount", "5", "--reason", " "], "reason"),
])
def test_bad_debit_notes_are_one_line_and_write_nothing(book, argv, said):
    before = sha256(book.path), change_count(book.path)
    result = book("debit", "add", *argv)
    assert_one_line_error(result, 1)
    assert said in result.err, result.err
    assert (sha256(book.path), change_count(book.path)) == before


def test_a_credit_note_is_reversed_at_most_once(book):
    assert book("debit", "add", "--reverses", "CN-A7-000002", "--date", "2026-03-01", "--reason", "x").code == 0
    before = change_count(book.path)
    result = book("debit", "add", "--reverses", "CN-A7-000002", "--date", "2026-03-02", "--reason", "again")
    assert_one_line_error(result, 1)
    assert "already reversed by debit note DN-A7-000001" in result.err
    assert change_count(book.path) == before


def test_exports_carry_debit_notes_and_still_agree_with_aging(book, tmp_path):
    with Ledger.open(book.path, PASSPHRASE) as led:
        debit_notes.add(led, "HD001", "2026-02-01", "fee", amount="50")
        debit_notes.add(led, None, "2026-03-01", "withdrawn", reverses="CN-A7-000002")
    journal, bean = tmp_path / "ar.journal", tmp_path / "ar.beancount"
    assert book("export", "hledger", journal).code == 0 and book("export", "beancount", bean).code == 0
    assert "Debit note DN-A7-000001" in journal.read_text(encoding="utf-8")
    balances = hledger_balances(journal, ["Assets:Receivable", "Liabilities:Unapplied"])
    per_customer: dict[str, Decimal] = defaultdict(Decimal)
    for (account, _), amount in balances.items():
        per_customer[account.split(":", 2)[2]] += amount
    assert {k: v for k, v in per_customer.items() if v} == {"HD001": Decimal("850.00")}
    assert balance(book.path) == 85000
    # the reversal takes back what the credit note put on sales returns: only CN-A7-000001's 200.00 is left there
    assert hledger_balances(journal, ["Income:Sales-Returns"]) == {("Income:Sales-Returns", "CNY"): Decimal("200.00")}
    checked = subprocess.run([need("bean-check"), str(bean)], capture_output=True, text=True)
    assert checked.returncode == 0 and not checked.stderr.strip(), checked.stderr


def test_a_fee_charged_on_an_invoice_takes_its_customer_and_currency_and_names_it(book):
    with Ledger.open(book.path, PASSPHRASE) as led:
        invoices.add(led, "OTHER", "2026-02-01", amount="300", currency="USD", due="2026-03-01")
    out = book("debit", "add", "--invoice", "A7-000002", "--date", "2026-03-10", "--amount", "25",
               "--reason", "late fee")
    assert out.code == 0 and "debit note DN-A7-000001 of 25.00 USD issued" in out.out, out.err
    [row] = book("debit", "list", "--format", "json").json()
    assert (row["customer"], row["currency"], row["amount"], row["reason"]) == (
        "OTHER", "USD", "25.00", "late fee (A7-000002)")
    before = change_count(book.path)
    wrong = book("debit", "add", "--invoice", "A7-000002", "--customer", "HD001", "--date", "2026-03-10",
                 "--amount", "25", "--reason", "late fee")
    assert_one_line_error(wrong, 1)
    assert "invoice A7-000002 belongs to customer OTHER, not HD001" in wrong.err
    assert_one_line_error(book("debit", "add", "--invoice", "NOPE-1", "--date", "2026-03-10", "--amount", "25",
                               "--reason", "x"), 1)
    assert change_count(book.path) == before
