"""`duly export csv|xlsx|hledger|beancount`: the real hledger and bean-check read the journals, and their
receivable balance per customer equals Duly's aging total to the cent; CSV goes back in through import."""
from __future__ import annotations

import csv
import json
import subprocess
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from store.read import reports
from store.write import adjustments, customers, invoices, payments
from store.write import fx as fxwrite
from store.ledger.ledger import Ledger
from tests.support.cli import PASSPHRASE, assert_one_line_error
from tests.support.journals import hledger_balances, need

AS_OF = "2026-12-31"


@pytest.fixture
def book(cli):
    """Every kind of document, hand-worked. As of 2026-12-31:
    HD001 (CNY): A7-000001 1130.00 (2 x 500 + 13% tax) paid; A7-000002 2000.00 less 300 (P1) less 500 (P2,
    allocated later) less 100 (credit note) less 50 (write-off) = 1050.00, P3's 200 voided; A7-000003 voided;
    P1 leaves 70.00 unapplied: total 980.00.
    acme.us/1 (USD): A7-000004 1000.00 paid by 1200.00, 200.00 unapplied: total -200.00.
    ZERO (CNY): 10.00 invoiced and paid: nothing.
    EU1 (EUR): A7-000006 333.33 less 200.00 (paid 02-10, allocated 02-20) less 33.33 (03-03) = 100.00; a 50.00
    payment voided. Rates (CNY per unit), so foreign invoices are paid at other rates (fx-realised, half-up):
    USD 7.1234 from 01-01, 7.0567 from 01-30: A7-000004's 1000.00 booked 7123.40, received 7056.70: -66.70;
    EUR 7.8 from 01-01, 7.9321 from 02-01, 8.0155 from 03-01: the 200.00 booked 1560.00, received 1586.42:
    +26.42; the 33.33 booked 259.97 (259.974), received 267.16 (267.156615): +7.19 (reallocated on 03-20: taken
    off, -7.19, and put back, +7.19, each dated with the payment as fx-realised counts them); the voided 50.00: none.
    Total realised -33.09."""
    assert cli("init").code == 0
    with Ledger.open(cli.path, PASSPHRASE) as led:
        led.set_meta("series_prefix", "A7")
        customers.add(led, "HD001", '上海恒达 "HD" 贸易', email="ar@hengda.cn")
        customers.add(led, "acme.us/1", "Acme; Corp", currency="USD")
        customers.add(led, "ZERO", "Zero Co")
        invoices.add(led, "HD001", "2026-01-10", lines=["货物:2:500:13%"], due="2026-02-10")
        invoices.add(led, "HD001", "2026-01-20", amount="2000", due="2026-02-20")
        invoices.add(led, "HD001", "2026-01-25", amount="300")
        invoices.void(led, "A7-000003", "wrong customer", "2026-01-26")
        payments.add(led, "HD001", "2026-02-01", "1500", reference="TX-1",
                     allocate=["A7-000001=1130", "A7-000002=300"])
        p2 = payments.add(led, "HD001", "2026-02-05", "500", auto=False)
        payments.allocate(led, payment_id=p2.id, pairs=["A7-000002=500"], on="2026-02-10")
        adjustments.add_credit(led, "HD001", "2026-02-12", "100", "price", invoice_number="A7-000002")
        adjustments.write_off(led, "A7-000002", "2026-03-01", "small balance", amount="50")
        p3 = payments.add(led, "HD001", "2026-02-15", "200", allocate=["A7-000002=200"])
        payments.void(led, p3.id, "bounced", "2026-02-20")
        invoices.add(led, "acme.us/1", "2026-01-05", amount="1000", due="2026-02-04")
        payments.add(led, "acme.us/1", "2026-01-31", "1200", method_name="wire", reference="W 9")
        invoices.add(led, "ZERO", "2026-01-02", amount="10")
        payments.add(led, "ZERO", "2026-01-03", "10")
        for cur, on, rate in (("USD", "2026-01-01", "7.1234"), ("USD", "2026-01-30", "7.0567"),
                              ("EUR", "2026-01-01", "7.8"), ("EUR", "2026-02-01", "7.9321"),
                              ("EUR", "2026-03-01", "8.0155")):
            fxwrite.set_rate(led, cur, on, rate)
        customers.add(led, "EU1", "Euro GmbH", currency="EUR")
        invoices.add(led, "EU1", "2026-01-15", amount="333.33")
        early = payments.add(led, "EU1", "2026-02-10", "200", auto=False)
        payments.allocate(led, payment_id=early.id, pairs=["A7-000006=200"], on="2026-02-20")
        moved = payments.add(led, "EU1", "2026-03-03", "33.33")
        payments.reallocate(led, moved.id, ["A7-000006=33.33"], on="2026-03-20")  # off and on again: -7.19 +7.19
        bounced = payments.add(led, "EU1", "2026-03-05", "50")
        payments.void(led, bounced.id, "bounced", "2026-03-10")
    return cli.path


EXPECTED = {("HD001", "CNY"): Decimal("980.00"), ("acme.us/1", "USD"): Decimal("-200.00"),
            ("EU1", "EUR"): Decimal("100.00")}
REALISED = Decimal("-33.09")


def fx_realised(cli, start: str = "2026-01-01", end: str = AS_OF) -> Decimal:
    """`duly report fx-realised`'s total for the dates (CNY)."""
    result = cli("report", "fx-realised", "--from", start, "--to", end, "--format", "json")
    assert result.code == 0, result.err
    return Decimal(result.json()["difference"])


def aging_totals(path) -> dict[tuple[str, str], Decimal]:
    with Ledger.open(path, PASSPHRASE) as led:
        report = reports.aging(led, date.fromisoformat(AS_OF))
    return {(r["customer"], r["currency"]): Decimal(r["total"]).scaleb(-2) for r in report.rows}


def test_duly_aging_is_the_hand_worked_figure(book):
    assert aging_totals(book) == EXPECTED


def test_hledger_reads_the_journal_and_agrees_per_customer(cli, book, tmp_path):
    journal = tmp_path / "ar.journal"
    result = cli("export", "hledger", journal)
    assert result.code == 0 and "PLAINTEXT" in result.out, result.err
    balances = hledger_balances(journal, ["Assets:Receivable", "Liabilities:Unapplied"])
    per_customer: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for (account, commodity), amount in balances.items():
        per_customer[(account.split(":", 2)[2], commodity)] += amount
    assert {k: v for k, v in per_customer.items() if v} == EXPECTED == aging_totals(book)
    assert balances[("Liabilities:Unapplied:HD001", "CNY")] == Decimal("-70.00")
    assert balances[("Assets:Receivable:HD001", "CNY")] == Decimal("1050.00")
    # the whole journal balances: bank = everything received net of the voided payment
    assert hledger_balances(journal, ["Assets:Bank"]) == {("Assets:Bank", "CNY"): Decimal("2010.00"),
                                                          ("Assets:Bank", "USD"): Decimal("1200.00"),
                                                          ("Assets:Bank", "EUR"): Decimal("233.33")}
    assert hledger_balances(journal, ["Liabilities:Output-Tax"]) == {("Liabilities:Output-Tax", "CNY"):
                                                                    Decimal("-130.00")}


def test_hledger_books_the_realised_exchange_difference_as_fx_realised_reports_it(cli, book, tmp_path):
    """Each foreign payment's part applied at another rate than its invoice's is a base-currency transaction on
    the payment date: Income:Exchange-Difference holds fx-realised's figure (a gain as a credit), for the whole
    book and for any run of dates; the receivable's foreign balances are untouched and the journal balances
    (hledger refuses an unbalanced one, at the @@ costs)."""
    journal = tmp_path / "ar.journal"
    assert cli("export", "hledger", journal).code == 0
    assert fx_realised(cli) == REALISED
    assert hledger_balances(journal, ["Income:Exchange-Difference"]) == {
        ("Income:Exchange-Difference", "CNY"): -REALISED}
    for start, end, until in (("2026-01-01", "2026-01-31", "2026-02-01"), ("2026-02-01", "2026-02-28", "2026-03-01"),
                              ("2026-03-01", "2026-03-31", "2026-04-01")):
        in_hledger = hledger_balances(journal, ["Income:Exchange-Difference", "-b", start, "-e", until])
        assert -in_hledger.get(("Income:Exchange-Difference", "CNY"), Decimal(0)) == fx_realised(cli, start, end)
    assert [fx_realised(cli, *p) for p in (("2026-01-01", "2026-01-31"), ("2026-02-01", "2026-02-28"),
                                           ("2026-03-01", "2026-03-31"))] == [Decimal("-66.70"), Decimal("26.42"),
                                                                              Decimal("7.19")]
    # the pair of receivable postings moves the base value, not the foreign amount: each invoice keeps what is open
    assert hledger_balances(journal, ["Assets:Receivable", "tag:invoice=A7-000006"]) == {
        ("Assets:Receivable:EU1", "EUR"): Decimal("100.00")}
    assert hledger_balances(journal, ["Assets:Receivable", "tag:invoice=A7-000004"]) == {}
    # at cost, the receivable pairs carry the difference in the base currency: the other side of the account
    at_cost = hledger_balances(journal, ["Assets:Receivable:EU1", "tag:payment", "-B"])
    assert at_cost == {("Assets:Receivable:EU1", "CNY"): Decimal("33.61")}
    text = journal.read_text(encoding="utf-8")
    assert ("    Assets:Receivable:acme.us/1  1000.00 USD @@ 7056.70 CNY\n"
            "    Assets:Receivable:acme.us/1  -1000.00 USD @@ 7123.40 CNY\n"
            "    Income:Exchange-Difference  66.70 CNY\n") in text


def test_hledger_tags_carry_invoice_numbers_and_customer_codes(cli, book, tmp_path):
    journal = tmp_path / "ar.journal"
    assert cli("export", "hledger", journal).code == 0
    # by the invoice tag, each invoice's receivable postings sum to what it has open
    by_invoice = {n: hledger_balances(journal, ["Assets:Receivable", f"tag:invoice={n}"])
                  for n in ("A7-000001", "A7-000002", "A7-000003")}
    assert by_invoice["A7-000002"] == {("Assets:Receivable:HD001", "CNY"): Decimal("1050.00")}
    assert all(not v for v in by_invoice["A7-000001"].values())
    assert all(not v for v in by_invoice["A7-000003"].values())
    acme = hledger_balances(journal, ["tag:customer=acme.us/1", "Assets:Bank"])
    assert acme == {("Assets:Bank", "USD"): Decimal("1200.00")}


def test_bean_check_accepts_the_file_and_beancount_agrees_per_customer(cli, book, tmp_path):
    path = tmp_path / "ar.beancount"
    result = cli("export", "beancount", path)
    assert result.code == 0 and "PLAINTEXT" in result.out, result.err
    checked = subprocess.run([need("bean-check"), str(path)], capture_output=True, text=True)
    assert checked.returncode == 0 and not checked.stdout.strip() and not checked.stderr.strip(), checked.stderr

    from beancount import loader
    from beancount.core import data

    entries, errors, _ = loader.load_file(str(path))
    assert not errors
    balances: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    invoice_meta = set()
    for entry in entries:
        if isinstance(entry, data.Transaction):
            if "invoice" in entry.meta:
                invoice_meta.add((entry.meta["invoice"], entry.meta["customer"]))
            for posting in entry.postings:
                balances[(posting.account, posting.units.currency)] += posting.units.number
    per_customer: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for (account, cur), amount in balances.items():
        if account.startswith(("Assets:Receivable:", "Liabilities:Unapplied:")):
            per_customer[(account.split(":", 2)[2], cur)] += amount
    # acme.us/1 is not a valid account component: it becomes C-acme-us-1
    assert {k: v for k, v in per_customer.items() if v} == {("HD001", "CNY"): Decimal("980.00"),
                                                             ("C-acme-us-1", "USD"): Decimal("-200.00"),
                                                             ("EU1", "EUR"): Decimal("100.00")}
    # the realised exchange difference: fx-realised's total, in the base currency, and nothing else there
    assert balances[("Income:Exchange-Difference", "CNY")] == -fx_realised(cli) == -REALISED
    assert {c for (a, c), v in balances.items() if a == "Income:Exchange-Difference" and v} == {"CNY"}
    assert ("A7-000004", "acme.us/1") in invoice_meta and ("A7-000002", "HD001") in invoice_meta
    text = path.read_text(encoding="utf-8")
    assert '"上海恒达 \\"HD\\" 贸易"' in text


def test_account_components_stay_unique():
    from store.files.exporter import account_parts

    assert account_parts(["a.1", "a/1", "A-1", "9x"], beancount=True) == {
        "9x": "9x", "A-1": "A-1", "a.1": "C-a-1", "a/1": "C-a-1-2"}


def test_csv_export_goes_back_in_through_import(cli, tmp_path):
    """Customers, invoices (instalment terms) and payments (split, unapplied) round-trip to the same aging."""
    assert cli("init").code == 0
    with Ledger.open(cli.path, PASSPHRASE) as led:
        customers.add(led, "HD001", "恒达", credit_limit="5000", category="A", tags="vip,华东")
        customers.add(led, "B2", "Beta", currency="USD")
        invoices.add(led, "HD001", "2026-01-10", amount="1000", terms="30/70")
        invoices.add(led, "HD001", "2026-02-10", amount="500.50", due="2026-03-01")
        invoices.add(led, "B2", "2026-01-15", amount="80")
        payments.add(led, "HD001", "2026-02-15", "600")  # oldest due first: 300 + 300 of the first invoice
        payments.add(led, "B2", "2026-02-01", "100", auto=False, reference="R1")
        before = json.dumps(reports.aging(led, date(2026, 6, 30)).rows, default=str, sort_keys=True)
    out = tmp_path / "csv"
    result = cli("export", "csv", out)
    assert result.code == 0 and "PLAINTEXT" in result.out
    assert sorted(p.name for p in out.iterdir()) == ["credit_notes.csv", "customers.csv", "invoices.csv",
                                                     "payments.csv", "terms.csv", "voids.csv", "writeoffs.csv"]
    assert (out / "customers.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    other = tmp_path / "other.duly"
    assert cli("--ledger", other, "init").code == 0
    for kind in ("customers", "invoices", "payments"):
        imported = cli("--ledger", other, "import", kind, out / f"{kind}.csv")
        assert imported.code == 0, imported.err
    with Ledger.open(other, PASSPHRASE) as led:
        after = json.dumps(reports.aging(led, date(2026, 6, 30)).rows, default=str, sort_keys=True)
        row = customers.by_code(led, "HD001")
        schedule = led.rows("SELECT d.due_date, d.amount FROM due_items d JOIN invoices i ON i.id = d.invoice_id "
                            "WHERE i.customer_id = ? AND i.total = 100000 ORDER BY d.seq", (row["id"],))
    assert after == before
    assert (row["credit_limit"], row["tags"]) == (500_000, "vip,华东")
    assert schedule == [{"due_date": "2026-01-10", "amount": 30_000}, {"due_date": "2026-03-11", "amount": 70_000}]
    # and exporting again, then importing into the same ledger, adds nothing
    for kind in ("customers", "invoices", "payments"):
        again = cli("--ledger", other, "import", kind, out / f"{kind}.csv")
        assert "imported 0 new" in again.out, again.out


def test_xlsx_has_customers_open_items_and_aging_with_number_formats(cli, book, tmp_path):
    path = tmp_path / "ar.xlsx"
    result = cli("export", "xlsx", path, "--as-of", AS_OF)
    assert result.code == 0 and "PLAINTEXT" in result.out, result.err
    wb = load_workbook(path)
    assert wb.sheetnames == ["Customers", f"Open items {AS_OF}", f"Aging {AS_OF}"]
    items = wb[f"Open items {AS_OF}"]
    header = [c.value for c in items[1]]
    rows = {r[2].value: r for r in items.iter_rows(min_row=2)}
    hd = rows["A7-000002"]
    assert hd[header.index("open")].value == 1050 and hd[header.index("open")].number_format == "#,##0.00"
    assert hd[header.index("due_date")].value == datetime(2026, 2, 20)
    assert hd[header.index("due_date")].number_format == "yyyy-mm-dd"
    assert hd[header.index("days_overdue")].value == (date(2026, 12, 31) - date(2026, 2, 20)).days
    aging = wb[f"Aging {AS_OF}"]
    head = [c.value for c in aging[1]]
    found = {(r[0].value, r[2].value): r[head.index("total")].value for r in aging.iter_rows(min_row=2)}
    assert found[("HD001", "CNY")] == 980 and found[("acme.us/1", "USD")] == -200
    assert found[("TOTAL", "CNY")] == 980


def test_export_to_an_unwritable_place_is_one_line(cli, book, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = cli("export", "hledger", blocker / "sub" / "ar.journal")
    assert result.code == 1 and result.err.count("\n") == 1 and "cannot write" in result.err


@pytest.mark.parametrize("fmt", ["hledger", "beancount", "xlsx"])
def test_export_onto_a_directory_is_one_line_and_leaves_nothing(cli, book, tmp_path, fmt):
    taken = tmp_path / "taken"
    taken.mkdir()
    result = cli("export", fmt, taken)
    assert_one_line_error(result, 1, f"cannot write {taken}")
    assert taken.is_dir() and not list(taken.iterdir()) and not list(tmp_path.glob(".*.part"))


def test_csv_export_that_cannot_write_a_file_keeps_the_old_one_whole(cli, book, tmp_path):
    out = tmp_path / "csv"
    assert cli("export", "csv", out).code == 0
    before = (out / "customers.csv").read_bytes()
    (out / "payments.csv").unlink()
    (out / "payments.csv").mkdir()  # a file in the middle cannot be written
    assert_one_line_error(cli("export", "csv", out), 1, f"cannot write {out / 'payments.csv'}")
    assert (out / "customers.csv").read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["terms.csv", "customers.csv", "invoices.csv", "payments.csv", "credit_notes.csv", "writeoffs.csv",
         "voids.csv"])


FORMULAS = ['=HYPERLINK("http://x","y")', "@SUM(1)", "+cmd|' /C calc'!A0", "-2+3", "-", "'=quoted"]


def test_csv_and_xlsx_exports_never_carry_a_live_formula_and_csv_still_goes_back_in(cli, tmp_path):
    """A customer named like a formula is text in every export (OWASP: a leading quote in CSV, a quoted text
    cell in XLSX); amounts stay numbers, a negative one too; `export csv` -> `import` gives the same names back."""
    assert cli("init").code == 0
    with Ledger.open(cli.path, PASSPHRASE) as led:
        for n, name in enumerate(FORMULAS):
            customers.add(led, f"F{n}", name, phone="+86 138 0000 0000" if n == 0 else None)
        invoices.add(led, "F0", "2026-01-10", amount="100")
        payments.add(led, "F0", "2026-01-11", "150")  # 50.00 unapplied: a negative amount in the aging
    out = tmp_path / "csv"
    assert cli("export", "csv", out).code == 0
    with open(out / "customers.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        assert row["name"][0] not in "=+-@\t\r", row["name"]
    assert [r["name"] for r in rows] == ["'" + n for n in FORMULAS]
    assert rows[0]["phone"] == "'+86 138 0000 0000"
    with open(out / "payments.csv", encoding="utf-8-sig", newline="") as fh:
        assert [r["amount"] for r in csv.DictReader(fh)] == ["150.00"]
    other = tmp_path / "other.duly"
    assert cli("--ledger", other, "init").code == 0
    for kind in ("customers", "invoices", "payments"):
        imported = cli("--ledger", other, "import", kind, out / f"{kind}.csv")
        assert imported.code == 0, imported.err
    with Ledger.open(other, PASSPHRASE) as led:
        assert [r["name"] for r in led.rows("SELECT name FROM customers ORDER BY code")] == FORMULAS
        assert customers.by_code(led, "F0")["phone"] == "+86 138 0000 0000"

    path = tmp_path / "ar.xlsx"
    assert cli("export", "xlsx", path, "--as-of", "2026-06-30").code == 0
    import zipfile
    with zipfile.ZipFile(path) as z:
        assert not any(b"<f>" in z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))
    wb = load_workbook(path)
    names = [r[1].value for r in wb["Customers"].iter_rows(min_row=2)]
    assert names == FORMULAS
    assert all(r[1].data_type == "s" for r in wb["Customers"].iter_rows(min_row=2))
    aging = wb["Aging 2026-06-30"]
    head = [c.value for c in aging[1]]
    f0 = next(r for r in aging.iter_rows(min_row=2) if r[0].value == "F0")
    assert f0[head.index("unapplied")].value == -50 and f0[head.index("unapplied")].data_type == "n"


def test_a_cell_starting_with_tab_or_cr_is_quoted_and_a_plain_number_is_not():
    from store.rules.safetext import from_spreadsheet_cell, spreadsheet_cell

    for text in ("\tx", "\rx", "=1", "+1 (555)", "@x", "-x", "'=x", "''+x"):
        assert spreadsheet_cell(text) == "'" + text and from_spreadsheet_cell(spreadsheet_cell(text)) == text
    for text in ("-12.50", "+3", "12", "O'Brien", "'plain", ""):
        assert spreadsheet_cell(text) == text and from_spreadsheet_cell(text) == text


ESCAPED_NAME = "Evil\x1b]0;owned\x07\x1b[2J Co\x9b31m"


def test_journals_carry_names_and_references_without_control_characters(cli, tmp_path):
    """Issue 16: a name from a person or a file (customer, payer's reference) reaches an hledger or beancount
    journal with its control characters as visible escapes; hledger and bean-check still read the files."""
    assert cli("init").code == 0
    with Ledger.open(cli.path, PASSPHRASE) as led:
        customers.add(led, "EV1", ESCAPED_NAME)
        invoices.add(led, "EV1", "2026-01-10", amount="100", number="EV-1")
        payments.add(led, "EV1", "2026-01-20", "100", reference="TX\x1b[1m-9\x08")
    journal, bean = tmp_path / "ar.journal", tmp_path / "ar.beancount"
    assert cli("export", "hledger", journal).code == 0 and cli("export", "beancount", bean).code == 0
    for path in (journal, bean):
        text = path.read_text(encoding="utf-8")
        assert not [c for c in text if c != "\n" and (ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f)], path.name
    # hledger: `;` starts a comment there, so it becomes `,` as in any name
    assert "2026-01-10 * Evil\\x1b]0,owned\\x07\\x1b[2J Co\\x9b31m | Invoice EV-1" in journal.read_text("utf-8")
    assert "; reference: TX\\x1b[1m-9\\x08" in journal.read_text("utf-8")
    assert hledger_balances(journal, ["Assets:Receivable"]) == {}  # read whole: paid, nothing open
    checked = subprocess.run([need("bean-check"), str(bean)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr

    from beancount import loader
    from beancount.core import data

    entries, errors, _ = loader.load_file(str(bean))
    assert not errors
    read = {(e.payee, e.meta.get("reference")) for e in entries if isinstance(e, data.Transaction)}
    escaped = "Evil\\x1b]0;owned\\x07\\x1b[2J Co\\x9b31m"
    assert read == {(escaped, None), (escaped, "TX\\x1b[1m-9\\x08")}


def test_xlsx_export_writes_names_with_control_characters_escaped(cli, tmp_path):
    """A name holding ESC, accepted and shown escaped everywhere else, made `export xlsx` fail with an internal error
    (openpyxl refuses such a character in a cell); now the cell holds the visible escape."""
    assert cli("init").code == 0
    with Ledger.open(cli.path, PASSPHRASE) as led:
        customers.add(led, "EV1", ESCAPED_NAME)
        invoices.add(led, "EV1", "2026-01-10", amount="100", number="EV-1")
    out = tmp_path / "ar.xlsx"
    result = cli("export", "xlsx", out, "--as-of", "2026-02-01")
    assert result.code == 0, result.err
    cells = {str(c.value) for ws in load_workbook(out).worksheets for row in ws.iter_rows() for c in row}
    assert "Evil\\x1b]0;owned\\x07\\x1b[2J Co\x9b31m" in cells  # C1 \x9b is a character a cell may hold
