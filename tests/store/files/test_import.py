"""`duly import customers|invoices|payments FILE [--dry-run]`: encodings, Chinese headers, XLSX, all rows or
none, errors that say file/line/column/value/expected, and re-import adding nothing."""
from __future__ import annotations

import argparse
import json
from datetime import date, datetime

import pytest
from hypothesis import given, settings, strategies as st
from openpyxl import Workbook

from store.files import importer
from store.write import customers, invoices, payments
from store.ledger.ledger import Ledger
from tests.support.cli import PASSPHRASE, assert_one_line_error, change_count


def write(path, text: str, encoding: str = "utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


CUSTOMERS_ZH = (
    "客户编号,客户名称,税号,邮箱,电话,币种,账期,信用额度,类别\n"
    "HD001,上海恒达贸易有限公司,91310000MA1FL8XQ24,ar@hengda.cn,021-5555 0101,CNY,EOM30,\"20,000.00\",A\n"
    "ACME,Acme Corp,,billing@acme.example,,USD,NET30,5000,VIP\n"
)


@pytest.fixture
def led(cli):
    """An initialised CLI ledger; returns its path."""
    assert cli("init").code == 0
    return cli.path


def customer_rows(path):
    with Ledger.open(path, PASSPHRASE) as ledger:
        return {r["code"]: r for r in ledger.rows("SELECT * FROM customers")}


def test_customers_with_chinese_headers_in_gbk_are_detected_and_imported(cli, led, tmp_path):
    src = write(tmp_path / "客户.csv", CUSTOMERS_ZH, "gbk")
    result = cli("import", "customers", src)
    assert result.code == 0, result.err
    assert "imported 2 new customers, 0 already there" in result.out and "GB18030/GBK" in result.out
    rows = customer_rows(led)
    assert rows["HD001"]["name"] == "上海恒达贸易有限公司"
    assert rows["HD001"]["tax_id"] == "91310000MA1FL8XQ24"
    assert rows["HD001"]["credit_limit"] == 2_000_000 and rows["HD001"]["terms"] == "EOM30"
    assert rows["ACME"]["currency"] == "USD" and rows["ACME"]["credit_limit"] == 500_000
    assert rows["ACME"]["category"] == "VIP" and rows["ACME"]["tax_id"] is None


@pytest.mark.parametrize("encoding,label", [("utf-8-sig", "UTF-8 with BOM"), ("utf-8", "UTF-8"),
                                            ("gb18030", "GB18030/GBK"), ("utf-16", "UTF-16")])
def test_each_encoding_reads_the_same_names(cli, led, tmp_path, encoding, label):
    src = write(tmp_path / "c.csv", CUSTOMERS_ZH, encoding)
    result = cli("import", "customers", src)
    assert result.code == 0, result.err
    assert label in result.out
    assert customer_rows(led)["HD001"]["name"] == "上海恒达贸易有限公司"


def test_semicolon_csv_and_english_field_names(cli, led, tmp_path):
    src = write(tmp_path / "c.csv", "code;name;Credit Limit;settlement_cycle\nX1;Xi Co;1000.5;月结\n")
    assert cli("import", "customers", src).code == 0
    row = customer_rows(led)["X1"]
    assert (row["credit_limit"], row["settlement_cycle"]) == (100_050, "monthly")


@pytest.fixture
def book(led, cli, tmp_path):
    src = write(tmp_path / "customers.csv", CUSTOMERS_ZH)
    assert cli("import", "customers", src).code == 0
    return led


INVOICES_ZH = (
    "发票号,客户,日期,到期日,金额,摘要\n"
    "F-1,HD001,2026-01-10,2026-02-10,1000.00,货款\n"
    "F-2,HD001,2026-01-20,,\"2,500.50\",服务费\n"
    "F-3,ACME,2026-01-05,2026-02-04,300,consulting\n"
)


def test_invoices_import_with_due_dates_and_terms(cli, book, tmp_path):
    src = write(tmp_path / "inv.csv", INVOICES_ZH)
    result = cli("import", "invoices", src)
    assert result.code == 0, result.err
    with Ledger.open(book, PASSPHRASE) as ledger:
        f1 = invoices.by_number(ledger, "F-1")
        f2 = invoices.by_number(ledger, "F-2")
        f3 = invoices.by_number(ledger, "F-3")
    assert (f1["total"], f1["due_date"], f1["description"]) == (100_000, "2026-02-10", "货款")
    # no due date: HD001's terms EOM30 -> 2026-01-31 + 30 days = 2026-03-02
    assert (f2["total"], f2["due_date"], f2["terms"]) == (250_050, "2026-03-02", "EOM30")
    assert (f3["currency"], f3["total"]) == ("USD", 30_000)


def test_invoices_with_amount_tax_and_total_columns_keep_the_tax_split(cli, book, tmp_path):
    src = write(tmp_path / "inv.csv", "发票号码,客户,开票日期,金额,税率,税额,价税合计\n"
                                      "T-1,HD001,2026-03-01,\"10,000.00\",13%,1300.00,\"11,300.00\"\n"
                                      "T-2,HD001,2026-03-02,100.00,6%,6.00,106.00\n", "gbk")
    result = cli("import", "invoices", src)
    assert result.code == 0, result.err
    with Ledger.open(book, PASSPHRASE) as ledger:
        t1 = invoices.by_number(ledger, "T-1")
        line, = ledger.rows("SELECT amount, tax, tax_bp FROM invoice_lines WHERE invoice_id=?", (t1["id"],))
        t2 = invoices.by_number(ledger, "T-2")
    assert (t1["total"], t1["tax"]) == (1_130_000, 130_000)
    assert (line["amount"], line["tax"], line["tax_bp"]) == (1_000_000, 130_000, 1300)
    assert (t2["total"], t2["tax"]) == (10_600, 600)
    assert "0 new invoices, 2 already there" in cli("import", "invoices", src).out


def test_invoices_with_only_amount_and_tax_total_their_sum(cli, book, tmp_path):
    src = write(tmp_path / "inv.csv", "number,customer,date,amount,tax\nS-1,HD001,2026-03-01,200.00,26.00\n")
    result = cli("import", "invoices", src)
    assert result.code == 0, result.err
    with Ledger.open(book, PASSPHRASE) as ledger:
        s1 = invoices.by_number(ledger, "S-1")
    assert (s1["total"], s1["tax"]) == (22_600, 2_600)


def test_invoice_amount_and_tax_that_miss_the_total_by_a_cent_are_refused(cli, book, tmp_path):
    src = write(tmp_path / "inv.csv", "发票号码,客户,开票日期,金额,税额,价税合计\n"
                                      "T-1,HD001,2026-03-01,100.00,13.00,113.01\n")
    result = cli("import", "invoices", src)
    assert_one_line_error(result, 1, "inv.csv line 2", '"价税合计"', "total 113.01 is not the amount before tax "
                          "100.00 + tax 13.00 = 113.00", "nothing was imported")
    with Ledger.open(book, PASSPHRASE) as ledger:
        assert ledger.rows("SELECT id FROM invoices") == []


def test_xlsx_first_sheet_with_date_cells_and_numbers(cli, book, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["客户编号", "开票日期", "价税合计", "发票号码", "到期日"])
    ws.append(["HD001", datetime(2026, 3, 1), 1234.56, "X-1", date(2026, 3, 31)])
    ws.append([None, None, None, None, None])
    ws.append(["ACME", "2026-03-02", 99, "X-2", None])
    wb.create_sheet("ignored").append(["nothing"])
    wb.save(tmp_path / "inv.xlsx")
    result = cli("import", "invoices", tmp_path / "inv.xlsx")
    assert result.code == 0, result.err
    assert "imported 2 new invoices" in result.out and "XLSX" in result.out
    with Ledger.open(book, PASSPHRASE) as ledger:
        x1, x2 = invoices.by_number(ledger, "X-1"), invoices.by_number(ledger, "X-2")
    assert (x1["date"], x1["total"], x1["due_date"]) == ("2026-03-01", 123_456, "2026-03-31")
    assert (x2["date"], x2["total"], x2["due_date"]) == ("2026-03-02", 9_900, "2026-04-01")  # ACME NET30


def test_xlsx_errors_name_the_row_and_column_letter(cli, book, tmp_path):
    wb = Workbook()
    wb.active.append(["customer", "date", "amount"])
    wb.active.append(["HD001", "2026-01-01", 10.005])
    wb.save(tmp_path / "bad.xlsx")
    result = cli("import", "invoices", tmp_path / "bad.xlsx")
    assert_one_line_error(result, 1, "bad.xlsx row 2", 'column C "amount"', "10.005", "more than 2 decimal places")


@pytest.mark.parametrize("epoch", ["1900", "1904"])
def test_xlsx_cells_read_as_openpyxl_reads_them(tmp_path, epoch):
    """The .xlsx reader (calamine) gives every kind of cell as the text openpyxl gave: dates, times, yes/no,
    percentages, negative and large amounts, empty cells in a row, a table that starts below and right of A1."""
    from datetime import time, timedelta

    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    wb = Workbook()
    if epoch == "1904":
        wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    ws["B2"] = "发票基础信息（导出时间：2026-04-01 08:30:12）"
    ws.append([None, "客户", "日期", "时间", "金额", "税率", "是否", "备注", None, "数量"])
    ws.append([None, " 上海恒达 ", datetime(2026, 3, 1), datetime(2026, 3, 1, 16, 30, 5), -2260.5, 0.13, True,
               None, None, 3])
    ws.append([None, "北京", date(2026, 12, 31), time(9, 5), 111604938284.15, 0.06, False, "=1+2", None, 1e15 - 1])
    ws.append([])
    ws.append([None, "x", datetime(1999, 1, 1, 0, 0), timedelta(hours=30), 0.1, 1, None, "", None, 10.005])
    ws["C4"].number_format = "yyyy-mm-dd"
    ws["D5"].number_format = "h:mm"
    ws["D7"].number_format = "[h]:mm:ss"
    ws["F4"].number_format = "0%"
    wb.save(tmp_path / "cells.xlsx")
    data = (tmp_path / "cells.xlsx").read_bytes()
    rows, expected = importer.xlsx_rows(data, "cells.xlsx")
    got = list(rows)
    want, _ = importer._openpyxl_rows(data, "cells.xlsx")
    assert got == list(want)
    assert expected == 7 and got[1] == (2, ["", "发票基础信息（导出时间：2026-04-01 08:30:12）"] + [""] * 8)
    assert got[3][1][1:6] == [" 上海恒达 ", "2026-03-01", "2026-03-01 16:30:05", "-2260.5", "0.13"]
    assert got[4][1][2:5] == ["2026-12-31", "09:05:00", "111604938284.15"]


def test_an_error_cell_is_read_as_the_error_it_shows_not_as_an_empty_cell(cli, book, tmp_path):
    """#N/A in a due-date cell is a problem to name, not an empty due date that the terms would fill in."""
    wb = Workbook()
    wb.active.append(["customer", "date", "amount", "number", "due_date"])
    wb.active.append(["HD001", "2026-03-01", 100, "E-1", "#N/A"])
    wb.save(tmp_path / "err.xlsx")
    result = cli("import", "invoices", tmp_path / "err.xlsx")
    assert_one_line_error(result, 1, "err.xlsx row 2", 'column E "due_date"', "#N/A")
    with Ledger.open(book, PASSPHRASE) as ledger:
        assert ledger.rows("SELECT id FROM invoices") == []


def test_an_xlsx_table_that_starts_at_column_c_names_columns_by_their_letters(cli, book, tmp_path):
    wb = Workbook()
    wb.active["C3"], wb.active["D3"], wb.active["E3"] = "customer", "date", "amount"
    wb.active["C4"], wb.active["D4"], wb.active["E4"] = "HD001", "2026-01-01", 10.005
    wb.save(tmp_path / "right.xlsx")
    result = cli("import", "invoices", tmp_path / "right.xlsx")
    assert_one_line_error(result, 1, "right.xlsx row 4", 'column E "amount"', "10.005")


def test_a_file_named_xlsx_that_is_no_workbook_is_refused_with_the_reason(cli, book, tmp_path):
    (tmp_path / "notes.xlsx").write_text("customer,date,amount\n")
    assert_one_line_error(cli("import", "invoices", tmp_path / "notes.xlsx"), 1, "notes.xlsx",
                          "not a readable .xlsx workbook", "not a zip archive")
    import zipfile

    with zipfile.ZipFile(tmp_path / "other.xlsx", "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    assert_one_line_error(cli("import", "invoices", tmp_path / "other.xlsx"), 1, "other.xlsx",
                          "not a readable .xlsx workbook")


@pytest.mark.parametrize("kind", ["invoices", "fapiao", "bank"])
def test_an_encrypted_xlsx_is_refused_with_the_reason(cli, book, tmp_path, kind):
    """A workbook saved with a password (Excel: File > Info > Protect Workbook > Encrypt with Password) is no zip
    but a compound file holding the encrypted package: refused, saying why and what to do, for every importer."""
    import io

    from msoffcrypto.format.ooxml import OOXMLFile

    wb = Workbook()
    wb.active.append(["customer", "date", "amount"])
    wb.active.append(["HD001", "2026-01-01", 100])
    plain = io.BytesIO()
    wb.save(plain)
    plain.seek(0)
    with (tmp_path / "locked.xlsx").open("wb") as out:
        OOXMLFile(plain).encrypt("secret", out)
    result = cli("import", kind, tmp_path / "locked.xlsx")
    assert_one_line_error(result, 1, "locked.xlsx is password-protected (encrypted)", "remove the password")
    with Ledger.open(book, PASSPHRASE) as ledger:
        assert ledger.rows("SELECT id FROM invoices") == []


def test_a_bulk_import_refuses_an_e_invoice_number_already_on_another_invoice(cli, book, tmp_path):
    """The batch reads which of its numbers the ledger holds in a few queries; the ones the ledger already has
    (from an earlier file, in another batch) are still found, and a new number in the same batch still passes."""
    einv = "26312000000012345678"
    first = write(tmp_path / "a.csv", f"发票号,客户,日期,金额,数电票号码\nE-1,HD001,2026-03-01,100.00,{einv}\n")
    assert cli("import", "invoices", first).code == 0
    other = "26312000000012345679"
    again = write(tmp_path / "b.csv", f"发票号,客户,日期,金额,数电票号码\nE-2,HD001,2026-03-02,200.00,{other}\n"
                                      f"E-3,HD001,2026-03-03,300.00,{einv}\n")
    assert_one_line_error(cli("import", "invoices", again), 1, "b.csv line 3",
                          f"e-invoice number {einv} is already on invoice E-1", "nothing was imported")
    with Ledger.open(book, PASSPHRASE) as ledger:
        assert [r["number"] for r in ledger.rows("SELECT number FROM invoices")] == ["E-1"]


def test_one_bad_row_imports_nothing_and_names_file_line_column_value(cli, book, tmp_path):
    before = change_count(book)
    src = write(tmp_path / "inv.csv", INVOICES_ZH + "F-4,HD001,2026-02-30,,10.00,坏日期\n")
    result = cli("import", "invoices", src)
    assert_one_line_error(result, 1, "inv.csv line 5", 'column "日期" (date)', "'2026-02-30'",
                          "does not exist in the calendar", "nothing was imported")
    assert change_count(book) == before
    with Ledger.open(book, PASSPHRASE) as ledger:
        assert ledger.row("SELECT count(*) AS n FROM invoices")["n"] == 0


@pytest.mark.parametrize("row,words", [
    ("F-9,HD001,2026-01-10,,12.345,x", ['line 2, column "金额" (amount)', "'12.345'", "more than 2 decimal places"]),
    ("F-9,NOBODY,2026-01-10,,12.00,x", ['line 2, column "客户" (customer)', "'NOBODY'", "unknown customer",
                                       "expected the code of an existing customer"]),
    ("F-9,HD001,2026-01-10,2026-01-01,12.00,x", ['column "到期日" (due_date)', "before the invoice date"]),
    ("F-9,HD001,20260110,,12.00,x", ['column "日期" (date)', "'20260110'", "expected YYYY-MM-DD"]),
    ("F-9,HD001,2026-01-10,,-5,x", ['column "金额" (amount)', "'-5'", "must not be negative"]),
])
def test_bad_values_are_named(cli, book, tmp_path, row, words):
    src = write(tmp_path / "one.csv", "发票号,客户,日期,到期日,金额,摘要\n" + row + "\n")
    assert_one_line_error(cli("import", "invoices", src), 1, "one.csv", *words)


def test_duplicate_invoice_numbers_in_the_file_and_in_the_ledger(cli, book, tmp_path):
    src = write(tmp_path / "dup.csv", INVOICES_ZH + "F-1,ACME,2026-01-11,,5.00,again\n")
    assert_one_line_error(cli("import", "invoices", src), 1, "dup.csv line 5", 'column "发票号" (number)',
                          "duplicate invoice number 'F-1'", "already on line 2")
    assert cli("import", "invoices", write(tmp_path / "ok.csv", INVOICES_ZH)).code == 0
    clash = write(tmp_path / "clash.csv", "number,customer,date,amount\nF-2,HD001,2026-01-20,2500.51\n")
    assert_one_line_error(cli("import", "invoices", clash), 1, "clash.csv line 2", "duplicate invoice number 'F-2'",
                          "the ledger already has it for HD001 dated 2026-01-20, 2500.50 CNY")


def test_every_problem_is_listed_by_dry_run(cli, book, tmp_path):
    src = write(tmp_path / "bad.csv", "发票号,客户,日期,金额\nA,NOBODY,2026-01-01,1\nB,HD001,2026-13-01,1\n"
                                      "C,HD001,2026-01-01,1.001\n")
    result = cli("import", "invoices", src)
    assert_one_line_error(result, 1, "bad.csv line 2", "(and 2 more problems")
    dry = cli("import", "invoices", src, "--dry-run")
    assert dry.code == 1
    assert [line.replace(f"{tmp_path}/", "").split(":")[0] for line in dry.out.splitlines()] == [
        'bad.csv line 2, column "客户" (customer)', 'bad.csv line 3, column "日期" (date)',
        'bad.csv line 4, column "金额" (amount)']


def test_headers_unknown_repeated_or_missing(cli, book, tmp_path):
    assert_one_line_error(cli("import", "invoices", write(tmp_path / "a.csv", "customer,date,amount,colour\nHD001,2026-01-01,1,red\n")),
                          1, 'a.csv line 1, column "colour"', "unknown column")
    assert_one_line_error(cli("import", "invoices", write(tmp_path / "b.csv", "客户,日期\nHD001,2026-01-01\n")),
                          1, "b.csv line 1", "amount/金额", "is missing")
    assert_one_line_error(cli("import", "invoices", write(tmp_path / "c.csv", "客户,customer,日期,金额\nA,A,2026-01-01,1\n")),
                          1, 'column "customer"', "same field (customer)")


def test_dry_run_writes_nothing_then_import_then_reimport_adds_nothing(cli, book, tmp_path):
    src = write(tmp_path / "inv.csv", INVOICES_ZH)
    before = change_count(book)
    dry = cli("import", "invoices", src, "--dry-run")
    assert dry.code == 0, dry.err
    assert "would import 3 new invoices" in dry.out and "nothing was written" in dry.out
    assert "F-2" in dry.out and change_count(book) == before
    assert cli("import", "invoices", src).code == 0
    assert change_count(book) == before + 1  # one file, one transaction, one change-log entry
    again = cli("import", "invoices", src)
    assert again.code == 0 and "imported 0 new invoices, 3 already there" in again.out
    assert change_count(book) == before + 1


def test_unnumbered_invoices_are_recognised_by_their_source_row(cli, book, tmp_path):
    text = "客户,日期,金额\nHD001,2026-01-10,100\nHD001,2026-01-10,100\n"
    src = write(tmp_path / "n.csv", text)
    assert "imported 2 new invoices" in cli("import", "invoices", src).out
    assert "imported 0 new invoices, 2 already there" in cli("import", "invoices", src).out
    # the same two rows plus a third identical one: only the third is new
    more = write(tmp_path / "n2.csv", text + "HD001,2026-01-10,100\n")
    assert "imported 1 new invoices, 2 already there" in cli("import", "invoices", more).out
    with Ledger.open(book, PASSPHRASE) as ledger:
        assert ledger.row("SELECT sum(total) AS n FROM invoices")["n"] == 30_000


def test_customer_reimport_updates_only_what_changed(cli, book, tmp_path):
    changed = CUSTOMERS_ZH.replace("ar@hengda.cn", "finance@hengda.cn")
    result = cli("import", "customers", write(tmp_path / "c2.csv", changed), "--dry-run")
    assert "HD001" in result.out and "changes email" in result.out and "0 new customers, 1 updated, 1 already" in result.out
    assert cli("import", "customers", write(tmp_path / "c2.csv", changed)).code == 0
    rows = customer_rows(book)
    assert rows["HD001"]["email"] == "finance@hengda.cn" and rows["HD001"]["name"] == "上海恒达贸易有限公司"
    with Ledger.open(book, PASSPHRASE) as ledger:
        history = customers.history(ledger, rows["HD001"]["id"])
    assert [(h["field"], h["old"], h["new"]) for h in history if h["field"] == "email"][-1] == (
        "email", "ar@hengda.cn", "finance@hengda.cn")


def test_customer_file_problems(cli, book, tmp_path):
    src = write(tmp_path / "c.csv", "客户编号,客户名称,邮箱\nN1,New One,not-an-email\nN1,Again,a@b.cn\nN2,,x@y.cn\n")
    dry = cli("import", "customers", src, "--dry-run")
    assert dry.code == 1
    lines = [line.replace(f"{tmp_path}/", "") for line in dry.out.splitlines()]
    assert lines[0].startswith('c.csv line 2, column "邮箱" (email)') and "'not-an-email'" in lines[0]
    assert lines[1].startswith('c.csv line 3, column "客户编号" (code)') and "already on line 2" in lines[1]
    assert lines[2].startswith('c.csv line 4, column "客户名称" (name)') and "name must not be empty" in lines[2]


@pytest.fixture
def invoiced(cli, book, tmp_path):
    assert cli("import", "invoices", write(tmp_path / "inv.csv", INVOICES_ZH)).code == 0
    return book


def open_amounts(path) -> dict[str, int]:
    with Ledger.open(path, PASSPHRASE) as ledger:
        return {r["number"]: r["open"] for r in invoices.listing(ledger)}


def test_payments_named_split_unapplied_and_oldest_first(cli, invoiced, tmp_path):
    src = write(tmp_path / "pay.csv",
                "客户,日期,金额,付款方式,流水号,发票号\n"
                "HD001,2026-02-01,400.00,银行转账,TX1,F-1\n"           # 400 to F-1
                "HD001,2026-02-02,700.00,现金,,F-1=600;F-2=100\n"      # named split
                "HD001,2026-02-03,50.00,支付宝,,-\n"                   # kept unapplied
                "HD001,2026-02-04,1000.00,微信,,\n"                    # oldest due first: F-2 (F-1 is paid)
                "ACME,2026-02-01,100,wire,W-77,\n")
    result = cli("import", "payments", src)
    assert result.code == 0, result.err
    assert open_amounts(invoiced) == {"F-1": 0, "F-2": 250_050 - 100_00 - 1000_00, "F-3": 20_000}
    with Ledger.open(invoiced, PASSPHRASE) as ledger:
        rows = {(r["customer"], r["date"]): r for r in payments.listing(ledger)}
    assert rows[("HD001", "2026-02-03")]["unapplied"] == 5_000
    assert rows[("HD001", "2026-02-01")]["method"] == "bank_transfer" and rows[("HD001", "2026-02-02")]["method"] == "cash"
    assert rows[("ACME", "2026-02-01")]["reference"] == "W-77"
    again = cli("import", "payments", src)
    assert "imported 0 new payments, 5 already there" in again.out
    assert open_amounts(invoiced)["F-2"] == 140_050


def test_two_identical_payments_stay_two_and_a_known_reference_is_not_doubled(cli, invoiced, tmp_path):
    with Ledger.open(invoiced, PASSPHRASE) as ledger:
        payments.add(ledger, "ACME", "2026-02-10", "30", reference="W-1", auto=False)
    src = write(tmp_path / "p.csv", "customer,date,amount,reference,invoice\n"
                                    "HD001,2026-02-01,10,,-\nHD001,2026-02-01,10,,-\nACME,2026-02-10,30,W-1,-\n")
    result = cli("import", "payments", src, "--dry-run")
    assert "would import 2 new payments, 1 already there" in result.out
    assert "already recorded with reference W-1" in result.out
    assert cli("import", "payments", src).code == 0
    with Ledger.open(invoiced, PASSPHRASE) as ledger:
        assert ledger.row("SELECT count(*) AS n, sum(amount) AS s FROM payments") == {"n": 3, "s": 5_000}


def test_a_reference_the_file_repeats_in_later_batches_is_not_taken_for_one_there_before(cli, invoiced, tmp_path,
                                                                                        monkeypatch):
    monkeypatch.setattr(importer, "BATCH_ROWS", 1)  # each row in a batch of its own, written before the next
    with Ledger.open(invoiced, PASSPHRASE) as ledger:
        payments.add(ledger, "ACME", "2026-02-10", "30", reference="W-1", auto=False)
    src = write(tmp_path / "p.csv", "customer,date,amount,reference,invoice\n"
                                    "HD001,2026-02-01,10,W-7,-\nHD001,2026-02-01,10,W-7,-\nACME,2026-02-10,30,W-1,-\n"
                                    "ACME,2026-02-10,30,W-1,-\n")
    result = cli("import", "payments", src)
    assert result.code == 0 and "imported 2 new payments, 2 already there" in result.out
    with Ledger.open(invoiced, PASSPHRASE) as ledger:
        assert ledger.row("SELECT count(*) AS n, sum(amount) AS s FROM payments") == {"n": 3, "s": 5_000}
    assert "imported 0 new payments, 4 already there" in cli("import", "payments", src).out


def test_an_invoice_paid_oldest_due_first_in_an_earlier_batch_is_named_with_what_it_has_open(cli, invoiced,
                                                                                               tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "BATCH_ROWS", 1)
    src = write(tmp_path / "p.csv", "customer,date,amount,invoice\n"
                                    "HD001,2026-03-01,10,F-1\n"      # F-1: 990.00 left
                                    "HD001,2026-03-02,990,\n"        # oldest due first: the rest of F-1
                                    "HD001,2026-03-03,50,F-1\n")     # nothing left on F-1
    assert_one_line_error(cli("import", "payments", src), 1, "p.csv line 4", 'column "invoice"',
                          "50.00 CNY allocated to invoice F-1", "more than its open amount 0.00 CNY")
    assert open_amounts(invoiced)["F-1"] == 1000_00


@pytest.mark.parametrize("row,words", [
    ("HD001,2026-02-01,1000.01,F-1", ['column "invoice"', "1000.01 CNY allocated to invoice F-1",
                                      "more than its open amount 1000.00 CNY"]),
    ("HD001,2026-02-01,10,F-3", ["invoice F-3 belongs to ACME, not HD001"]),
    ("HD001,2026-02-01,10,F-99", ["unknown invoice 'F-99'"]),
    ("HD001,2026-02-01,10,F-1=6;F-2=5", ["allocations total 11.00, more than the payment of 10.00"]),
    ("HD001,2026-02-01,10,F-1=abc", ["allocation to F-1", "'abc' is not an amount"]),
])
def test_payment_allocation_problems(cli, invoiced, tmp_path, row, words):
    src = write(tmp_path / "p.csv", "customer,date,amount,invoice\n" + row + "\n")
    assert_one_line_error(cli("import", "payments", src), 1, "p.csv line 2", *words)
    with Ledger.open(invoiced, PASSPHRASE) as ledger:
        assert ledger.row("SELECT count(*) AS n FROM payments")["n"] == 0


def test_two_rows_together_beyond_an_invoice_are_refused(cli, invoiced, tmp_path):
    src = write(tmp_path / "p.csv", "customer,date,amount,invoice\nHD001,2026-02-01,600,F-1\nHD001,2026-02-02,600,F-1\n")
    assert_one_line_error(cli("import", "payments", src), 1, "p.csv line 3", "more than its open amount 400.00 CNY")
    assert open_amounts(invoiced)["F-1"] == 100_000


def test_a_store_rule_found_while_writing_still_names_the_line_and_rolls_back(cli, invoiced, tmp_path):
    # F-1 is dated 2026-01-10: a payment dated before it cannot be applied to it (the store's rule).
    src = write(tmp_path / "p.csv", "customer,date,amount,invoice\nACME,2026-02-01,1,\nHD001,2026-01-05,10,F-1\n")
    result = cli("import", "payments", src)
    assert_one_line_error(result, 1, "p.csv line 3", "F-1", "nothing was imported")
    with Ledger.open(invoiced, PASSPHRASE) as ledger:
        assert ledger.row("SELECT count(*) AS n FROM payments")["n"] == 0


def test_unreadable_files(cli, book, tmp_path):
    assert_one_line_error(cli("import", "customers", tmp_path / "missing.csv"), 1, "cannot read", "missing.csv")
    bad = tmp_path / "bin.csv"
    bad.write_bytes(b"code,name\nA,\xff\xfe\xff\n")
    assert_one_line_error(cli("import", "customers", bad), 1, "bin.csv line 2", "neither UTF-8 nor GBK")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0rest")
    assert_one_line_error(cli("import", "customers", tmp_path / "old.xls"), 1, "old.xls", "not an Excel workbook")
    (tmp_path / "report.xls").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj")
    assert_one_line_error(cli("import", "customers", tmp_path / "report.xls"), 1, "report.xls", "not an Excel workbook")


def test_old_binary_excel_is_read(cli, led, tmp_path):
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("客户")
    for col, text in enumerate(["客户编号", "客户名称", "信用额度", "税号"]):
        sheet.write(0, col, text)
    for col, value in enumerate(["HD001", "上海恒达贸易有限公司", 20000, "91310000MA1FL8XQ24"]):
        sheet.write(1, col, value)
    sheet.write(2, 0, "ACME")
    sheet.write(2, 1, "Acme Corp")
    sheet.write(2, 2, 1234.5)
    book.save(str(tmp_path / "客户.xls"))
    result = cli("import", "customers", tmp_path / "客户.xls")
    assert result.code == 0, result.err
    assert "imported 2 new customers" in result.out and "XLS)" in result.out
    rows = customer_rows(led)
    assert (rows["HD001"]["name"], rows["HD001"]["credit_limit"]) == ("上海恒达贸易有限公司", 2_000_000)
    assert rows["ACME"]["credit_limit"] == 123_450


def test_the_import_command_and_all_its_kinds_are_built_by_one_module():
    from tui.cli import transfer

    common = argparse.ArgumentParser(add_help=False)
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    transfer.register(sub, common)
    assert parser.parse_args(["import", "bank", "x.csv", "--profile", "icbc"]).kind == "bank"
    assert parser.parse_args(["import", "fapiao", "f.xlsx"]).kind == "fapiao"
    assert parser.parse_args(["import", "payments", "p.csv", "--dry-run"]).dry_run is True


def test_the_check_is_pure_over_a_known_snapshot():
    table = importer.Table("t.csv", "UTF-8", ["customer", "date", "amount"],
                           [(2, ["C1", "2026-01-01", "5"]), (3, ["C2", "2026-01-01", "5"])])
    assert importer.map_columns(table, importer.INVOICE_COLUMNS, ("customer", "date", "amount")) == []
    known = importer.Known(customers={"C1": {"code": "C1", "currency": "JPY", "archived": 0}})
    docs, problems = importer.check_invoices(table, known)
    assert [(d.line, d.action, d.fields["amount"], d.fields["currency"]) for d in docs] == [(2, "add", "5", "JPY")]
    assert problems == ["t.csv line 3, column \"customer\": unknown customer 'C2' (expected the code of an existing "
                        "customer; import the customers file first)"]


def test_json_output_for_scripts(cli, book, tmp_path):
    src = write(tmp_path / "inv.csv", INVOICES_ZH)
    dry = cli("import", "invoices", src, "--dry-run", "--format", "json").json()
    assert (dry["ok"], dry["dry_run"], dry["added"], dry["skipped"], dry["encoding"]) == (True, True, 3, 0, "UTF-8")
    assert [(r["line"], r["action"], r["key"]) for r in dry["rows"]] == [(2, "add", "F-1"), (3, "add", "F-2"),
                                                                         (4, "add", "F-3")]
    bad = cli("import", "invoices", write(tmp_path / "b.csv", "客户,日期,金额\nHD001,2026-01-01,x\n"), "--dry-run",
              "--format", "json")
    assert bad.code == 1 and bad.json()["ok"] is False
    assert bad.json()["problems"] == [f"{tmp_path}/b.csv line 2, column \"金额\" (amount): amount: 'x' is not an amount "
                                      "(expected e.g. 1234.56)"]


def test_xlsx_numbers_are_read_as_the_cell_shows_them(cli, book, tmp_path):
    """Excel stores a formula's result in full binary precision: =1000*1.13 is <v>1129.9999999999998</v> in the
    file and shows as 1130.00; 0.1+0.2 is 0.30000000000000004 and shows 0.3. Read as shown (Excel's 15
    significant digits), not as binary leftovers that have too many decimals."""
    import zipfile

    wb = Workbook()
    wb.active.append(["customer", "date", "amount", "number"])
    for n, placeholder in ((1, 111.5), (2, 222.5), (3, 1e12)):
        wb.active.append(["HD001", "2026-03-01", placeholder, f"X-{n}"])
    wb.save(tmp_path / "plain.xlsx")
    with zipfile.ZipFile(tmp_path / "plain.xlsx") as src, zipfile.ZipFile(tmp_path / "f.xlsx", "w") as out:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<v>111.5</v>", b"<v>1129.9999999999998</v>")
                data = data.replace(b"<v>222.5</v>", b"<v>0.30000000000000004</v>")
                assert b"1129.9999999999998" in data and b"0.30000000000000004" in data
            out.writestr(item, data)
    result = cli("import", "invoices", tmp_path / "f.xlsx")
    assert result.code == 0, result.err
    with Ledger.open(book, PASSPHRASE) as ledger:
        totals = [invoices.by_number(ledger, n)["total"] for n in ("X-1", "X-2", "X-3")]
    assert totals == [113_000, 30, 10**14]
    assert importer._cell_text(10.005) == "10.005" and importer._cell_text(1e-05) == "0.00001"
    assert importer._cell_text(1e16) == "10000000000000000"


def test_a_utf8_file_with_rows_pasted_in_gbk_is_refused_not_read_as_mojibake(cli, led, tmp_path):
    """Read as GBK, the UTF-8 name 上海恒达贸易有限公司 becomes 涓婃捣鎭掕揪璐告槗鏈夐檺鍏...: refuse, name the line."""
    mixed = tmp_path / "mixed.csv"
    mixed.write_bytes("code,name\nC1,上海恒达贸易有限公司\n".encode() + "C2,北京科技\n".encode("gbk"))
    assert_one_line_error(cli("import", "customers", mixed), 1, "mixed.csv line 3", "is not UTF-8",
                          "save it again as UTF-8")
    assert customer_rows(led) == {}
    # the same rows all in GBK, or all in UTF-8, are read as they were written
    text = "code,name\nC1,上海恒达贸易有限公司\nC2,北京科技\n"
    assert importer.decode(text.encode("gbk"), "g.csv") == (text, "GB18030/GBK")
    assert importer.decode(text.encode(), "u.csv") == (text, "UTF-8")


# -- files that used to be imported wrong, with exit 0 ------------------------------------------------

def test_an_unterminated_quote_is_refused_not_swallowing_the_rows_after_it(cli, led, tmp_path):
    path = write(tmp_path / "q.csv", 'code,name\nC1,"Acme\nC2,Beta\nC3,Gamma\n')
    assert_one_line_error(cli("import", "customers", path), 1, "q.csv line 2, column 2", '"name"',
                          "quote", "not closed")
    assert customer_rows(led) == {}
    # a quoted cell that holds a line break (an address) is still fine
    ok = write(tmp_path / "ok.csv", 'code,name,address\nC1,Acme,"Line 1\nLine 2"\nC2,Beta,\n')
    assert cli("import", "customers", ok).code == 0
    assert customer_rows(led)["C1"]["address"] == "Line 1\nLine 2"


def test_a_latin1_file_is_refused_not_read_as_gbk_mojibake(cli, led, tmp_path):
    path = write(tmp_path / "l1.csv", "code,name\nC1,Acme\nC2,Müller GmbH\n", "latin-1")
    result = cli("import", "customers", path)
    assert_one_line_error(result, 1, "l1.csv line 3, column 2", "Latin-1", "UTF-8")
    assert customer_rows(led) == {}


@pytest.mark.parametrize("text, where", [
    ("code,name\nC1,台北貿易有限公司\nC2,高雄電子股份有限公司\n", "line 2, column 2"),
    ("客戶編號,客戶名稱\nC1,台北貿易有限公司\n", "line 1, column 1"),
])
def test_a_big5_file_is_refused_naming_where_not_reported_as_having_no_header(cli, led, tmp_path, text, where):
    path = write(tmp_path / "b5.csv", text, "big5")
    assert_one_line_error(cli("import", "customers", path), 1, f"b5.csv {where}", "Big5", "UTF-8")
    assert customer_rows(led) == {}


def test_gbk_with_a_rare_character_is_still_read(cli, led, tmp_path):
    text = "客户编号,客户名称\nC1,北京华信科技有限公司\nC2,王喆\nC3,堃昇商贸有限公司\n"
    assert importer.decode(text.encode("gbk"), "g.csv") == (text, "GB18030/GBK")


def test_an_xlsx_true_is_not_an_amount_of_one(cli, book, tmp_path):
    wb = Workbook()
    wb.active.append(["customer", "date", "amount"])
    wb.active.append(["HD001", "2026-01-01", True])
    wb.save(tmp_path / "bool.xlsx")
    assert_one_line_error(cli("import", "invoices", tmp_path / "bool.xlsx"), 1, "bool.xlsx row 2",
                          'column C "amount"', "TRUE", "not an amount")
    # and a TRUE in the archived column is a yes
    wb = Workbook()
    wb.active.append(["code", "name", "archived"])
    wb.active.append(["ARC", "Archived Ltd", True])
    wb.save(tmp_path / "arch.xlsx")
    assert cli("import", "customers", tmp_path / "arch.xlsx").code == 0
    assert customer_rows(book)["ARC"]["archived"]


def test_a_100kb_first_line_is_sniffed_in_bounded_time(cli, led, tmp_path):
    import time

    path = write(tmp_path / "wide.csv", "code,name," + '"x" ;' * 20_000 + "\nC1,Acme,\n")
    started = time.monotonic()
    result = cli("import", "customers", path)
    assert time.monotonic() - started < 5
    assert_one_line_error(result, 1, "wide.csv line 1", "unknown column")


def test_ods_first_sheet_with_date_cells_and_numbers(cli, book, tmp_path):
    """An OpenDocument sheet (LibreOffice, WPS) reads as an XLSX does: dates, numbers as shown, blank rows skipped."""
    from tests.support.ods import write_ods

    write_ods(tmp_path / "inv.ods", [["客户编号", "开票日期", "价税合计", "发票号码", "到期日"],
                                      ["HD001", date(2026, 3, 1), 1234.56, "X-1", date(2026, 3, 31)],
                                      [None, None, None, None, None],
                                      ["ACME", "2026-03-02", 99, "X-2", None]])
    result = cli("import", "invoices", tmp_path / "inv.ods")
    assert result.code == 0, result.err
    assert "imported 2 new invoices" in result.out and "ODS" in result.out
    with Ledger.open(book, PASSPHRASE) as ledger:
        x1, x2 = invoices.by_number(ledger, "X-1"), invoices.by_number(ledger, "X-2")
    assert (x1["date"], x1["total"], x1["due_date"]) == ("2026-03-01", 123_456, "2026-03-31")
    assert (x2["date"], x2["total"], x2["due_date"]) == ("2026-03-02", 9_900, "2026-04-01")


def test_ods_errors_name_the_row_and_column_letter_and_a_broken_one_says_why(cli, book, tmp_path):
    from tests.support.ods import write_ods

    write_ods(tmp_path / "bad.ods", [["customer", "date", "amount"], ["HD001", "2026-01-01", 10.005]])
    result = cli("import", "invoices", tmp_path / "bad.ods")
    assert_one_line_error(result, 1, "bad.ods row 2", 'column C "amount"', "10.005", "more than 2 decimal places")
    (tmp_path / "broken.ods").write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    result = cli("import", "customers", tmp_path / "broken.ods")
    assert_one_line_error(result, 1, "broken.ods is not a readable .ods spreadsheet")


def test_a_rows_fingerprint_is_the_one_earlier_imports_stored():
    """import_log keeps each imported row's fingerprint: a re-import of an old file must find the same ones (the
    hex values below are what Duly computed before the fingerprint was made in one pass; the log now keeps their
    first 16 bytes, and the migration to it cut the ones logged before to the same)."""
    def key(hex_text):
        return bytes.fromhex(hex_text)[:16]

    rows = importer._Rows(None, "payments")
    values = {"customer": "恒达", "date": "2026-01-10", "amount": 12345, "currency": "CNY", "method": "cash",
              "reference": "", "invoice": [["F-1", 12345]]}
    assert rows.occurrence(values) == key("05d271486df62cbb10b18b60642a3b19509262a173be1cfbe6e29c75fad68e05")
    assert rows.occurrence(dict(values)) == key("5767493b215744f1a0030574c7637514069a535618ff8add0fe15f48fcc79aae")
    assert importer._Rows(None, "invoices").occurrence({"customer": "A", "tax": None}) == key(
        "98d4e931440fb79ed6e90c2a3d659b8bb523ce2e349d04350d5cda12080c9019")
    assert rows.occurrence(values) == importer.fingerprint("payments", values, 3)


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_AMOUNT = st.integers(min_value=-10**15, max_value=10**15)


@settings(max_examples=300, deadline=None)
@given(customer=_TEXT, on=_TEXT, total=_AMOUNT, currency=_TEXT, due=_TEXT, terms=_TEXT, description=_TEXT,
       number=_TEXT, tax=st.none() | _AMOUNT, method=_TEXT, reference=_TEXT,
       invoice=st.just("-") | st.lists(st.tuples(_TEXT, _AMOUNT), max_size=3))
def test_a_rows_json_is_the_one_the_json_module_writes(customer, on, total, currency, due, terms, description, number,
                                                       tax, method, reference, invoice):
    """A row's fingerprint hashes its values as json.dumps(sort_keys=True, ensure_ascii=False) writes them: the
    checks write that text themselves (quotes, control characters and Chinese included), or every row imported
    before would be imported again."""
    def dumps(values):
        return json.dumps(values, sort_keys=True, ensure_ascii=False)

    values = {"customer": customer, "date": on, "amount": total, "currency": currency, "due": due, "terms": terms,
              "description": description, "number": number}
    if tax is not None:
        values["tax"] = tax
    assert importer._invoice_row_json(customer, on, total, currency, due, terms, description, number, tax) == dumps(
        values)
    assert importer._row_json(values) == dumps(values)
    pairs = invoice if invoice == "-" else [[n, p] for n, p in invoice]
    values = {"customer": customer, "date": on, "amount": total, "currency": currency, "method": method,
              "reference": reference, "invoice": pairs}
    assert importer._payment_row_json(customer, on, total, currency, method, reference, pairs) == dumps(values)
    assert importer._row_json(values) == dumps(values)
    assert importer._row_json({**values, "archived": True, "rate": 1.5}) == dumps({**values, "archived": True,
                                                                                  "rate": 1.5})
