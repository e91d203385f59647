"""`duly import fapiao FILE`: the e-tax platform's issued-invoice export (发票查询统计 → 发票基础信息) becomes invoices
with their tax split, credit notes for red-letter invoices, voids for 已作废 ones; buyers by tax id then name;
all rows or none; a re-import adds nothing. The sample files follow the export's column layout."""
from __future__ import annotations

from openpyxl import Workbook

from store.ledger.ledger import Ledger
from store.write import invoices
from store.rules.validate import uscc_check_char
from tests.support.cli import PASSPHRASE, assert_one_line_error

HD_TAX = "91310000MA1FL8XQ2" + uscc_check_char("91310000MA1FL8XQ2")  # 上海恒达贸易
ZX_TAX = "91110108MA01ABCD1" + uscc_check_char("91110108MA01ABCD1")  # 北京智讯科技 (not in its customer record)
NEW_TAX = "91440300MA5XYR123" + uscc_check_char("91440300MA5XYR123")  # a buyer that is no customer

# The columns of the 数电 export's 发票基础信息 sheet, in its order.
HEADERS = ["序号", "发票代码", "发票号码", "数电发票号码", "销方识别号", "销方名称", "购方识别号", "购买方名称", "开票日期",
           "金额", "税额", "价税合计", "发票来源", "发票票种", "发票状态", "是否正数发票", "发票风险等级", "开票人", "备注"]
SELLER = ("91310115MA1H7T0000", "上海杜利软件有限公司")
A = "26312000000012345678"  # 数电票 to 恒达, later partly reversed
B = "26312000000012345679"  # 数电票 to 智讯 (matched by name)
C = "26312000000012345680"  # 已作废 before it was ever booked
R = "26312000000012349999"  # the red-letter invoice reversing part of A


def row(n, number, tax_id, buyer, on, net, tax, total, status, remark="", code="", old_number=""):
    positive = "否" if str(total).startswith("-") else "是"
    kind = "数电发票（增值税专用发票）" if not code else "增值税电子普通发票"
    return [n, code, old_number, number, *SELLER, tax_id, buyer, on, net, tax, total, "电子发票服务平台", kind,
            status, positive, "正常", "王会计", remark]


def sample_rows():
    return [
        row(1, A, HD_TAX, "上海恒达贸易有限公司（总部）", "2026-03-02 10:15:00", "10000.00", "1300.00", "11300.00", "部分红冲"),
        row(2, B, ZX_TAX, "北京智讯科技有限公司", "2026-03-05 09:00:00", "5000.00", "300.00", "5300.00", "正常"),
        row(3, C, HD_TAX, "上海恒达贸易有限公司", "2026-03-06 11:00:00", "800.00", "104.00", "904.00", "已作废"),
        row(4, R, HD_TAX, "上海恒达贸易有限公司", "2026-03-20 16:30:00", "-2000.00", "-260.00", "-2260.00", "正常",
            f"被红冲蓝字数电发票号码：{A} 红字发票信息确认单编号：31011526031200000001"),
        row(5, "", HD_TAX, "上海恒达贸易有限公司", "2026-03-09", "100.00", "13.00", "113.00", "正常",
            code="044001900111", old_number="12345678"),
    ]


def xlsx(path, rows, *, title=True):
    book = Workbook()
    sheet = book.active
    sheet.title = "发票基础信息"
    if title:
        sheet.append(["发票基础信息（导出时间：2026-04-01 08:30:12）"])
    sheet.append(HEADERS)
    for r in rows:
        sheet.append(r)
    sheet.append(["合计", "", "", "", "", "", "", "", "", "13900.00", "1457.00", "15357.00"])
    book.save(path)
    return path


def customers(cli):
    assert cli("init").code == 0
    assert cli("customer", "add", "HD001", "--name", "上海恒达贸易有限公司", "--tax-id", HD_TAX).code == 0
    assert cli("customer", "add", "ZX002", "--name", "北京智讯科技有限公司").code == 0


def ledger_rows(path, sql, params=()):
    with Ledger.open(path, PASSPHRASE) as ledger:
        return ledger.rows(sql, params)


def test_export_becomes_invoices_with_tax_a_credit_note_and_skips_the_voided_one(cli, tmp_path):
    customers(cli)
    src = xlsx(tmp_path / "发票查询统计.xlsx", sample_rows())
    result = cli("import", "fapiao", src)
    assert result.code == 0, result.err
    assert "imported 3 invoices, 1 credit note (红字), 0 voided (已作废), 1 skipped" in result.out

    invs = {r["number"]: r for r in ledger_rows(cli.path, """SELECT i.*, c.code FROM invoices i
                                                             JOIN customers c ON c.id = i.customer_id""")}
    assert set(invs) == {A, B, "044001900111-12345678"}
    assert (invs[A]["code"], invs[A]["date"], invs[A]["total"], invs[A]["tax"], invs[A]["einvoice"]) == (
        "HD001", "2026-03-02", 1_130_000, 130_000, A)
    assert (invs[B]["code"], invs[B]["total"], invs[B]["tax"]) == ("ZX002", 530_000, 30_000)
    old = invs["044001900111-12345678"]
    assert (old["total"], old["tax"], old["einvoice"]) == (11_300, 1_300, None)
    lines = ledger_rows(cli.path, "SELECT amount, tax FROM invoice_lines WHERE invoice_id=?", (invs[A]["id"],))
    assert [(r["amount"], r["tax"]) for r in lines] == [(1_000_000, 130_000)]

    credit, = ledger_rows(cli.path, "SELECT * FROM credit_notes")
    assert (credit["amount"], credit["date"], credit["invoice_id"]) == (226_000, "2026-03-20", invs[A]["id"])
    assert R in credit["reason"] and A in credit["reason"]
    with Ledger.open(cli.path, PASSPHRASE) as ledger:
        assert invoices.detail(ledger, A)["invoice"]["open"] == 1_130_000 - 226_000

    again = cli("import", "fapiao", src)
    assert again.code == 0, again.err
    assert "imported 0 invoices, 0 credit notes (红字), 0 voided (已作废), 5 skipped" in again.out
    assert len(ledger_rows(cli.path, "SELECT id FROM invoices")) == 3
    assert len(ledger_rows(cli.path, "SELECT id FROM credit_notes")) == 1


def test_unknown_buyers_are_listed_and_nothing_is_imported(cli, tmp_path):
    customers(cli)
    rows = sample_rows() + [
        row(6, "26312000000012340001", NEW_TAX, "深圳新客户有限公司", "2026-03-21", "100.00", "13.00", "113.00", "正常"),
        row(7, "26312000000012340002", NEW_TAX, "深圳新客户有限公司", "2026-03-22", "200.00", "26.00", "226.00", "正常"),
        row(8, "26312000000012340003", "", "杭州散客", "2026-03-23", "50.00", "0.50", "50.50", "正常"),
    ]
    src = xlsx(tmp_path / "export.xlsx", rows)
    dry = cli("import", "fapiao", src, "--dry-run")
    assert dry.code == 1
    assert (f'row 8, column H "购买方名称" (buyer): buyer 深圳新客户有限公司 (纳税人识别号 {NEW_TAX}) is not a customer '
            "(also on row 9)") in dry.out
    assert f"--tax-id {NEW_TAX}" in dry.out
    assert 'row 10, column H "购买方名称" (buyer): buyer 杭州散客 is not a customer' in dry.out
    result = cli("import", "fapiao", src)
    assert result.code == 1
    assert_one_line_error(result)
    assert "深圳新客户有限公司" in result.err and "nothing was imported" in result.err
    assert ledger_rows(cli.path, "SELECT id FROM invoices") == []


def test_amounts_that_do_not_add_up_to_the_cent_name_file_row_and_column(cli, tmp_path):
    customers(cli)
    rows = sample_rows()
    rows[1][11] = "5300.01"
    src = xlsx(tmp_path / "export.xlsx", rows)
    result = cli("import", "fapiao", src)
    assert result.code == 1
    assert (f'{src} row 4, column L "价税合计" (total): 价税合计 5300.01 is not 金额 5000.00 + 税额 300.00 = 5300.00'
            in result.err)
    assert ledger_rows(cli.path, "SELECT id FROM invoices") == []


def test_a_later_export_voids_what_was_cancelled_and_adds_only_new_rows(cli, tmp_path):
    customers(cli)
    first = [row(1, B, ZX_TAX, "北京智讯科技有限公司", "2026-03-05", "5000.00", "300.00", "5300.00", "正常")]
    assert cli("import", "fapiao", xlsx(tmp_path / "march.xlsx", first)).code == 0
    later = [row(1, B, ZX_TAX, "北京智讯科技有限公司", "2026-03-05", "5000.00", "300.00", "5300.00", "已作废"),
             row(2, A, HD_TAX, "上海恒达贸易有限公司", "2026-03-02", "10000.00", "1300.00", "11300.00", "正常")]
    src = xlsx(tmp_path / "april.xlsx", later)
    result = cli("import", "fapiao", src)
    assert result.code == 0, result.err
    assert "imported 1 invoice, 0 credit notes (红字), 1 voided (已作废), 0 skipped" in result.out
    voided = ledger_rows(cli.path, """SELECT i.number FROM voids v JOIN invoices i ON i.id = v.doc_id""")
    assert [r["number"] for r in voided] == [B]
    again = cli("import", "fapiao", src)
    assert "imported 0 invoices, 0 credit notes (红字), 0 voided (已作废), 2 skipped" in again.out


def test_gbk_csv_newest_first_credits_the_invoice_further_down_the_same_file(cli, tmp_path):
    customers(cli)
    rows = [sample_rows()[3], sample_rows()[0]]  # the platform lists newest first: the red one comes first
    text = ",".join(HEADERS) + "\n" + "\n".join(",".join(str(c) for c in r) for r in rows) + "\n"
    src = tmp_path / "发票.csv"
    src.write_bytes(text.encode("gb18030"))
    dry = cli("import", "fapiao", src, "--dry-run")
    assert dry.code == 0, dry.err
    assert f"credit note against invoice {A}" in dry.out and "nothing was written" in dry.out
    assert ledger_rows(cli.path, "SELECT id FROM invoices") == []
    result = cli("import", "fapiao", src)
    assert result.code == 0, result.err
    assert "GB18030/GBK" in result.out
    credit, = ledger_rows(cli.path, """SELECT n.amount, i.number FROM credit_notes n
                                       JOIN invoices i ON i.id = n.invoice_id""")
    assert (credit["amount"], credit["number"]) == (226_000, A)


def test_a_file_that_is_not_a_fapiao_export_says_which_columns_are_missing(cli, tmp_path):
    customers(cli)
    src = tmp_path / "x.csv"
    src.write_text("日期,客户,金额\n2026-03-01,HD001,100\n", encoding="utf-8")
    result = cli("import", "fapiao", src)
    assert result.code == 1
    assert_one_line_error(result)
    assert "not a fapiao export" in result.err and "数电票号码" in result.err and "发票状态" in result.err


def test_the_export_saved_as_old_binary_excel_is_read(cli, tmp_path):
    import xlwt

    customers(cli)
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("发票基础信息")
    for r, cells in enumerate([HEADERS, *sample_rows()[:2]]):
        for c, value in enumerate(cells):
            sheet.write(r, c, value)
    book.save(str(tmp_path / "发票.xls"))
    result = cli("import", "fapiao", tmp_path / "发票.xls")
    assert result.code == 0, result.err
    assert "imported 2 invoices" in result.out and "XLS)" in result.out
    totals = {r["number"]: (r["total"], r["tax"]) for r in ledger_rows(cli.path, "SELECT * FROM invoices")}
    assert totals == {A: (1_130_000, 130_000), B: (530_000, 30_000)}


def test_a_row_the_store_refuses_inside_a_batch_is_named_and_nothing_is_imported(cli, tmp_path):
    """The invoices are written in batches; the one the ledger refuses (its buyer archived) is still named by its own
    row, and the rows before it in the same batch are not kept."""
    customers(cli)
    assert cli("customer", "archive", "ZX002").code == 0
    src = xlsx(tmp_path / "export.xlsx", sample_rows())
    result = cli("import", "fapiao", src)
    assert result.code == 1
    assert_one_line_error(result)
    assert f"{src} row 4" in result.err and "archived" in result.err and "nothing was imported" in result.err
    assert ledger_rows(cli.path, "SELECT id FROM invoices") == []


def test_the_export_saved_as_ods_is_read(cli, tmp_path):
    """The same export opened in LibreOffice or WPS and saved as .ods (its title row and 合计 footer kept)."""
    from tests.support.ods import write_ods

    customers(cli)
    src = write_ods(tmp_path / "发票查询统计.ods", [["发票基础信息（导出时间：2026-04-01 08:30:12）"], HEADERS,
                                                  *sample_rows(), ["合计", "", "", "", "", "", "", "", "", "13900.00"]])
    result = cli("import", "fapiao", src)
    assert result.code == 0, result.err
    assert "imported 3 invoices, 1 credit note (红字), 0 voided (已作废), 1 skipped" in result.out and "ODS" in result.out
    invs = {r["number"]: r for r in ledger_rows(cli.path, "SELECT number, total, tax FROM invoices")}
    assert (invs[A]["total"], invs[A]["tax"]) == (1_130_000, 130_000)


def raw_numbers(path, raw: dict[float, str]):
    """Write each placeholder number's cell as the file holds it in the real export: the text in <v> is what
    Excel or the platform wrote (a formula's binary leftovers, a 20-digit number), which openpyxl does not write."""
    import zipfile

    plain = path.with_name("plain-" + path.name)
    path.rename(plain)
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w") as out:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.startswith("xl/worksheets/"):
                for placeholder, text in raw.items():
                    old = f"<v>{placeholder}</v>".encode()
                    assert data.count(old) == 1, placeholder
                    data = data.replace(old, f"<v>{text}</v>".encode())
            out.writestr(item, data)
    return path


def test_amount_cells_stored_as_numbers_come_out_to_the_cent_as_the_file_shows_them(cli, tmp_path):
    """Amounts in number cells, as a sheet that computed them holds them: 价税合计 =金额+税额 is
    <v>1129.9999999999998</v> (shown 1130.00), 0.1+0.2+0.03 is <v>0.33000000000000007</v> (shown 0.33); a large
    amount keeps its last cent. Read as the cell shows it (15 significant digits), never off by a cent or refused
    for its decimals."""
    customers(cli)
    numbers = ["26312000000012340011", "26312000000012340012", "26312000000012340013", "26312000000012340014"]
    cells = [(1000, 9101.5, 9102.5), (8765.43, 1139.51, 9103.5), (98765432109.87, 12839506174.28, 111604938284.15),
             (0.3, 0.03, 9104.5)]
    rows = [row(n + 1, number, HD_TAX, "上海恒达贸易有限公司", "2026-03-02", *amounts, "正常")
            for n, (number, amounts) in enumerate(zip(numbers, cells))]
    src = raw_numbers(xlsx(tmp_path / "export.xlsx", rows), {
        9101.5: "129.99999999999997", 9102.5: "1129.9999999999998", 9103.5: "9904.9399999999987",
        9104.5: "0.33000000000000007"})
    result = cli("import", "fapiao", src)
    assert result.code == 0, result.err
    assert "imported 4 invoices" in result.out
    got = {r["number"]: (r["total"], r["tax"]) for r in ledger_rows(cli.path, "SELECT number, total, tax FROM invoices")}
    assert got == {numbers[0]: (113_000, 13_000), numbers[1]: (990_494, 113_951),
                   numbers[2]: (11_160_493_828_415, 1_283_950_617_428), numbers[3]: (33, 3)}
    lines = ledger_rows(cli.path, "SELECT l.amount FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id "
                                  "ORDER BY i.number")
    assert [r["amount"] for r in lines] == [100_000, 876_543, 9_876_543_210_987, 30]


def test_a_20_digit_fapiao_number_in_a_number_cell_is_read_digit_for_digit(cli, tmp_path):
    """A sheet written by a program can hold the 数电票号码 as a number with all its 20 digits; a float keeps 15 of
    them, and 26312000000012345678 read as one would be another valid-looking number (26312000000012300000)."""
    customers(cli)
    rows = [row(1, 9201, HD_TAX, "上海恒达贸易有限公司", "2026-03-02", "10000.00", "1300.00", "11300.00", "正常")]
    src = raw_numbers(xlsx(tmp_path / "export.xlsx", rows), {9201: A})
    result = cli("import", "fapiao", src)
    assert result.code == 0, result.err
    assert [r["einvoice"] for r in ledger_rows(cli.path, "SELECT einvoice FROM invoices")] == [A]


def test_the_summary_and_each_rows_detail_are_said_in_chinese(cli, tmp_path):
    from tests.support.english import english_in

    customers(cli)
    src = xlsx(tmp_path / "发票查询统计.xlsx", sample_rows())
    dry = cli("--lang", "zh", "import", "fapiao", "--dry-run", src)
    assert dry.code == 0, dry.err
    assert "将导入：发票 3 张，红字发票 1 张（贷项通知单），作废 0 张，跳过 1 行" in dry.out, dry.out
    assert "冲减发票 26312000000012345678 的贷项通知单" in dry.out  # the red-letter row's detail
    assert "平台上已作废；账本中没有，不导入" in dry.out
    done = cli("--lang", "zh", "import", "fapiao", src)
    assert done.code == 0 and "已导入：发票 3 张，红字发票 1 张（贷项通知单），作废 0 张，跳过 1 行" in done.out, done.out
    for line in (dry.out + dry.err + done.out + done.err).splitlines():
        assert english_in(line) is None, line
