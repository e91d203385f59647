"""A bulk import (read as a stream, checked and written in batches, payments planned on store.read.openbook's
in-memory open items) gives exactly the tables that the store's own one-by-one writes give for the same rows:
invoices.add and payments.add, each reading the ledger as it is after the rows before."""
from __future__ import annotations

import csv
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from store.errors import DulyError
from store.files import importer
from store.read import openbook
from store.ledger.ledger import Ledger
from store.write import customers, invoices, payments
from tests.support.cli import PASSPHRASE

CODES = ("A01", "B02", "C03")


def _day(k: int) -> str:
    return f"2026-{1 + k // 28:02d}-{1 + k % 28:02d}"


@st.composite
def books(draw):
    """Invoice rows and payment rows of a few customers (each row unique: a re-import would skip a repeat)."""
    invoice_rows = []
    for k in range(draw(st.integers(1, 14))):
        code = draw(st.sampled_from(CODES))
        numbered = draw(st.booleans())
        invoice_rows.append({
            "number": f"F-{k:03d}" if numbered else "", "customer": code, "date": _day(draw(st.integers(0, 60))),
            "amount": f"{draw(st.integers(1, 400))}.{draw(st.integers(0, 99)):02d}",
            "currency": "", "terms": draw(st.sampled_from(["", "30/70", "NET60"])),
            "description": f"row {k}"})
    payment_rows = []
    for k in range(draw(st.integers(1, 18))):
        code = draw(st.sampled_from(CODES))
        numbers = [r["number"] for r in invoice_rows if r["number"] and r["customer"] == code]
        how = draw(st.sampled_from(["auto", "auto", "auto", "named", "split", "none"]))
        invoice = ""
        if how == "none":
            invoice = "-"
        elif how in ("named", "split") and numbers:
            picked = draw(st.lists(st.sampled_from(numbers), min_size=1, max_size=2, unique=True))
            invoice = picked[0] if how == "named" else ";".join(f"{n}={draw(st.integers(1, 90))}.00" for n in picked)
        payment_rows.append({
            "customer": code, "date": _day(draw(st.integers(0, 120))),
            "amount": f"{draw(st.integers(1, 500))}.00", "currency": "",
            "reference": f"R{k}", "invoice": invoice})
    return invoice_rows, payment_rows


def _write(path: Path, rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.DictWriter(fh, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerows(rows)
    return path


def _new_ledger(path: Path) -> Ledger:
    ledger = Ledger.create(path, PASSPHRASE, actor="tester", series="T1")
    customers.add(ledger, "A01", "Alpha", currency="CNY")
    customers.add(ledger, "B02", "Beta", currency="CNY", credit_limit="500.00")
    customers.add(ledger, "C03", "Gamma", currency="USD", terms="30/70")
    return ledger


def _one_by_one(kind: str):
    """The post of `kind` as the store's one-document writes, each reading the ledger as it is."""
    def post(ledger, docs, posting, known):
        done = []
        for index, doc in enumerate(docs):
            f = doc.fields
            try:
                if kind == "invoices":
                    issued = invoices.add(ledger, f["customer"], f["date"], amount=f["amount"], terms=f["terms"],
                                          due=f["due"], number=f["number"], currency=f["currency"],
                                          contract=f["contract"], einvoice=f["einvoice"],
                                          description=f["description"])
                    done.append(("invoices", issued.id, "; ".join(issued.warnings)))
                else:
                    applied = payments.add(ledger, f["customer"], f["date"], f["amount"], method_name=f["method"],
                                           reference=f["reference"], note=f["note"], currency=f["currency"],
                                           allocate=f["allocate"], auto=f["auto"])
                    done.append(("payments", applied.id, ""))
            except DulyError as exc:
                raise invoices.RowFailed(index, exc) from None
        return done
    return post


def _import(ledger, path: Path, kind: str) -> str:
    """'ok' or the first problem (the import then wrote nothing)."""
    try:
        importer.run(ledger, path, kind)
        return "ok"
    except DulyError as exc:
        return str(exc).split(":", 1)[-1]


def _tables(ledger) -> dict[str, list]:
    """Every table an import writes, by the documents' numbers instead of their random ids."""
    q = ledger.rows
    return {
        "invoices": q("""SELECT i.number, c.code, i.date, i.due_date, i.currency, i.total, i.tax, i.terms,
                                i.description FROM invoices i JOIN customers c ON c.id = i.customer_id
                         ORDER BY i.number"""),
        "lines": q("""SELECT i.number, l.pos, l.description, l.qty, l.unit_price, l.tax_bp, l.amount, l.tax
                      FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id ORDER BY i.number, l.pos"""),
        "due_items": q("""SELECT i.number, d.seq, d.due_date, d.amount FROM due_items d
                          JOIN invoices i ON i.id = d.invoice_id ORDER BY i.number, d.seq"""),
        "payments": q("""SELECT p.number, c.code, p.date, p.amount, p.currency, p.method, p.reference, p.note
                         FROM payments p JOIN customers c ON c.id = p.customer_id ORDER BY p.number"""),
        "allocations": q("""SELECT i.number AS invoice, p.number AS payment, a.amount, a.date FROM allocations a
                            JOIN invoices i ON i.id = a.invoice_id JOIN payments p ON p.id = a.payment_id
                            ORDER BY 2, 1"""),
        "doc_state": q("""SELECT d.kind, coalesce(i.number, p.number) AS number, d.settled_on, d.open_all, d.last_on
                          FROM doc_state d LEFT JOIN invoices i ON i.id = d.id LEFT JOIN payments p ON p.id = d.id
                          ORDER BY 1, 2"""),
        "import_log": q("SELECT fingerprint, kind, doc_table FROM import_log ORDER BY fingerprint"),
    }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books())
def test_a_file_imported_in_one_go_gives_the_tables_of_its_rows_written_one_by_one(book):
    invoice_rows, payment_rows = book
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch:
        tmp = Path(tmp)
        inv_file, pay_file = _write(tmp / "inv.csv", invoice_rows), _write(tmp / "pay.csv", payment_rows)
        patch.setattr(importer, "BATCH_ROWS", 4)  # several batches: the open items are carried between them
        patch.setattr(openbook, "MAX_INVOICES", 3)  # and forgotten between them, read again as needed
        with _new_ledger(tmp / "bulk.duly") as bulk:
            outcomes = [_import(bulk, inv_file, "invoices"), _import(bulk, pay_file, "payments")]
            want = _tables(bulk)
        patch.setitem(importer.KINDS, "invoices", replace(importer.KINDS["invoices"], post=_one_by_one("invoices")))
        patch.setitem(importer.KINDS, "payments", replace(importer.KINDS["payments"], post=_one_by_one("payments")))
        with _new_ledger(tmp / "rows.duly") as rows:
            got = []
            for kind, header_rows in (("invoices", invoice_rows), ("payments", payment_rows)):
                results = [_import(rows, _write(tmp / f"{kind}-{k}.csv", [row]), kind)
                           for k, row in enumerate(header_rows)]
                got.append(next((r for r in results if r != "ok"), "ok"))
            if outcomes == ["ok", "ok"]:
                assert got == ["ok", "ok"]
                assert _tables(rows) == want
