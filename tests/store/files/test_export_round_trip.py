"""`duly export csv` writes everything a new ledger needs, and `duly import` takes it back: the same aging at every
date (terms of the ledger's own, invoices with lines and tax, payments with what they applied, credit notes,
write-offs, voids)."""
from __future__ import annotations

from datetime import date, timedelta

from store.files import exporter, importer
from store.ledger.ledger import Ledger
from store.read import reports
from store.write import adjustments, customers, invoices, payments, terms
from tests.support.cli import PASSPHRASE

ORDER = ("terms", "customers", "invoices", "payments", "credit_notes", "writeoffs", "voids")


def _book(ledger) -> None:
    terms.add(ledger, "HALF", ["40%:days_after:10", "balance:days_after:40"])
    customers.add(ledger, "A01", "恒达贸易有限公司", currency="CNY", terms="HALF")
    customers.add(ledger, "B02", "Bluepeak Ltd", currency="USD")
    customers.add(ledger, "C03", "Crescent GmbH", currency="CNY", terms="NET60")
    a1 = invoices.add(ledger, "A01", "2026-01-05", lines=["货物销售:2:1000.00:13%", "运输服务:1:300.00:9%"]).number
    a2 = invoices.add(ledger, "A01", "2026-01-20", amount="800.00").number
    a3 = invoices.add(ledger, "A01", "2026-02-01", amount="450.00", terms="EOM30").number
    b1 = invoices.add(ledger, "B02", "2026-01-10", lines=["Consulting:1.5:200.00"], due="2026-02-15").number
    b2 = invoices.add(ledger, "B02", "2026-02-10", amount="99.99").number
    c1 = invoices.add(ledger, "C03", "2026-01-15", amount="5000.00").number
    c2 = invoices.add(ledger, "C03", "2026-02-20", amount="700.00").number
    payments.add(ledger, "A01", "2026-01-25", "1000.00")  # oldest due first, over two instalments
    payments.add(ledger, "A01", "2026-02-25", "500.00", allocate=[f"{a2}=300.00", f"{a3}=200.00"])
    payments.add(ledger, "B02", "2026-02-20", "400.00", method_name="wire", reference="SWIFT-1",
                 allocate=[f"{b1}=300.00"])  # 100 left over
    payments.add(ledger, "C03", "2026-03-01", "250.00", auto=False)  # on account
    adjustments.add_credit(ledger, "A01", "2026-02-05", "100.00", "价格折让", invoice_number=a2)
    adjustments.add_credit(ledger, "C03", "2026-02-28", "60.00", "goodwill")  # unapplied credit
    adjustments.write_off(ledger, c1, "2026-03-10", "uncollectable", amount="1200.00")
    invoices.void(ledger, c2, "issued in error", "2026-02-22")
    invoices.void(ledger, b2, "duplicate", "2026-02-11")
    assert a1 and b1


def _aging(ledger, on: date) -> tuple:
    report = reports.aging(ledger, on)
    return report.rows, report.totals


def test_an_export_imported_into_a_new_ledger_gives_the_same_aging_at_every_date(tmp_path):
    with Ledger.create(tmp_path / "old.duly", PASSPHRASE, actor="tester") as old:
        _book(old)
        exporter.export_csv(old, tmp_path / "out")
        with Ledger.create(tmp_path / "new.duly", PASSPHRASE, actor="tester") as new:
            for kind in ORDER:
                importer.run(new, tmp_path / "out" / f"{kind}.csv", kind)
            day = date(2026, 1, 1)
            while day <= date(2026, 6, 30):
                assert _aging(new, day) == _aging(old, day), day
                day += timedelta(days=1)
            again = [importer.run(new, tmp_path / "out" / f"{kind}.csv", kind) for kind in ORDER]
            assert [o.count("add") for o in again] == [0] * len(ORDER)  # imported once: nothing twice
            assert new.row("SELECT count(*) AS n FROM invoice_lines")["n"] == old.row(
                "SELECT count(*) AS n FROM invoice_lines")["n"]
            assert new.row("SELECT sum(tax) AS t FROM invoices")["t"] == old.row("SELECT sum(tax) AS t FROM invoices")["t"]


def test_terms_of_the_ledgers_own_are_exported_so_invoices_that_use_them_import(tmp_path):
    with Ledger.create(tmp_path / "old.duly", PASSPHRASE, actor="tester") as old:
        terms.add(old, "M2", ["50%:days_after_end_of_month:30", "balance:days_after_end_of_month:60"])
        customers.add(old, "K1", "Kunde", terms="M2")
        invoices.add(old, "K1", "2026-03-03", amount="100.00")
        exporter.export_csv(old, tmp_path / "out")
        want = old.rows("SELECT due_date, amount FROM due_items ORDER BY seq")
    with Ledger.create(tmp_path / "new.duly", PASSPHRASE, actor="tester") as new:
        for kind in ("terms", "customers", "invoices"):
            importer.run(new, tmp_path / "out" / f"{kind}.csv", kind)
        assert new.rows("SELECT due_date, amount FROM due_items ORDER BY seq") == want
        assert [r["due_date"] for r in want] == ["2026-04-30", "2026-05-30"]  # 月结30天, then 60
