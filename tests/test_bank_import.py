"""`duly import bank FILE [--profile NAME]`: bank files as banks give them (GBK with Chinese headers and a
preamble, UTF-8 with English headers, XLSX), debits kept, profiles by name, and a re-import that adds nothing."""
from __future__ import annotations

from datetime import datetime

import pytest
from openpyxl import Workbook

from store.files import bank
from store.errors import InvalidInput, NotFound
from tests.conftest import assert_one_line_error

# What an ICBC-style export looks like: a preamble, the header, lines, a footer. Saved in GBK.
GBK_STATEMENT = (
    "账号:6222000011112222,户名:杭州云帆科技有限公司\n"
    "起止日期:2026-03-01至2026-03-31\n"
    "交易日期,交易时间,借方发生额,贷方发生额,余额,对方户名,对方账号,摘要,附言\n"
    "20260302,10:00:01,,\"10,000.00\",\"10,000.00\",上海恒达贸易有限公司,6222 0001,货款,A7-000001\n"
    "20260303,11:00:00,,5000.00,\"15,000.00\",恒达,,货款,\n"
    "20260304,11:00:00,15.00,,\"14,985.00\",,,手续费,\n"
    "20260305,09:30:00,,1985.00,\"16,970.00\",Acme Trading Ltd,,payment,INV A7-000004\n"
    "合计,,15.00,\"16,985.00\",,,,,\n"
)


def write(path, text: str, encoding: str = "utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def test_gbk_file_with_chinese_headers_preamble_and_footer(ledger, tmp_path):
    parsed = bank.parse(write(tmp_path / "工行.csv", GBK_STATEMENT, "gbk"))
    assert parsed.encoding == "GB18030/GBK"
    got = [(b.line, b.date, b.amount, b.payer, b.payer_account, b.memo) for b in parsed.lines]
    assert got == [
        (4, "2026-03-02", 1_000_000, "上海恒达贸易有限公司", "6222 0001", "货款 A7-000001"),
        (5, "2026-03-03", 500_000, "恒达", "", "货款"),
        (6, "2026-03-04", -1_500, "", "", "手续费"),  # money out is kept, negative
        (7, "2026-03-05", 198_500, "Acme Trading Ltd", "", "payment INV A7-000004"),
    ]
    assert parsed.lines[0].balance == 1_000_000 and parsed.lines[0].currency == "CNY"


def test_utf8_bom_english_signed_amounts(tmp_path):
    text = ("Date,Amount,Currency,Payee,Reference,Description\n"
            "2026/03/02,+1200.50,USD,ACME Corp,TRX-1,Invoice A7-000009\n"
            "2026/03/03,-30.00,USD,Bank,TRX-2,Wire fee\n")
    parsed = bank.parse(write(tmp_path / "bank.csv", text, "utf-8-sig"))
    assert parsed.encoding == "UTF-8 with BOM"
    assert [(b.date, b.amount, b.currency, b.reference, b.memo) for b in parsed.lines] == [
        ("2026-03-02", 120_050, "USD", "TRX-1", "Invoice A7-000009"),
        ("2026-03-03", -3_000, "USD", "TRX-2", "Wire fee")]


def test_amount_with_a_direction_column(tmp_path):
    text = "记账日期,交易金额,借贷标志,对方户名,用途\n2026年3月2日,800.00,贷,恒达,货款\n2026年3月3日,20.00,借,,年费\n"
    parsed = bank.parse(write(tmp_path / "b.csv", text))
    assert [(b.date, b.amount) for b in parsed.lines] == [("2026-03-02", 80_000), ("2026-03-03", -2_000)]


def test_xlsx_with_date_cells(ledger, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["招商银行 交易明细"])
    sheet.append(["记账日期", "收入金额", "支出金额", "对方户名", "对方账号", "用途"])
    sheet.append([datetime(2026, 3, 2), 3200.5, None, "北京星河文化传媒有限公司", "1100 2200", "A7-000002 货款"])
    sheet.append([datetime(2026, 3, 6), None, 99, "", "", "短信服务费"])
    book.save(tmp_path / "招行.xlsx")
    found = bank.import_file(ledger, tmp_path / "招行.xlsx")
    assert found.encoding == "XLSX" and (found.credits, found.debits) == (1, 1)
    rows = ledger.rows("SELECT date, amount, payer, payer_account, memo, line FROM bank_lines ORDER BY date")
    assert rows == [
        {"date": "2026-03-02", "amount": 320_050, "payer": "北京星河文化传媒有限公司", "payer_account": "1100 2200",
         "memo": "A7-000002 货款", "line": 3},
        {"date": "2026-03-06", "amount": -9_900, "payer": "", "payer_account": "", "memo": "短信服务费", "line": 4}]


def test_reimport_adds_nothing_and_an_overlapping_export_adds_only_new_lines(ledger, tmp_path):
    first = bank.import_file(ledger, write(tmp_path / "march.csv", GBK_STATEMENT, "gbk"))
    assert (len(first.added), len(first.skipped)) == (4, 0)
    again = bank.import_file(ledger, tmp_path / "march.csv")
    assert (len(again.added), len(again.skipped)) == (0, 4)
    # The next export repeats the last line of March and brings one new line.
    later = ("交易日期,借方发生额,贷方发生额,对方户名,对方账号,摘要,附言\n"
             "20260305,,1985.00,Acme Trading Ltd,,payment,INV A7-000004\n"
             "20260401,,700.00,恒达,,货款,\n")
    overlap = bank.import_file(ledger, write(tmp_path / "april.csv", later))
    assert (len(overlap.added), len(overlap.skipped)) == (1, 1)
    assert ledger.row("SELECT count(*) AS n FROM bank_lines")["n"] == 5


def test_two_identical_lines_in_one_file_stay_two(ledger, tmp_path):
    text = "Date,Amount,Payee\n2026-03-02,100.00,Cash deposit\n2026-03-02,100.00,Cash deposit\n"
    found = bank.import_file(ledger, write(tmp_path / "b.csv", text))
    assert len(found.added) == 2 and found.added[0].id != found.added[1].id
    assert len(bank.import_file(ledger, tmp_path / "b.csv").added) == 0


def test_a_bad_amount_names_file_line_column_and_writes_nothing(ledger, tmp_path):
    text = "交易日期,贷方发生额,对方户名\n2026-03-02,100.00,恒达\n2026-03-03,一百元,恒达\n"
    with pytest.raises(InvalidInput) as err:
        bank.import_file(ledger, write(tmp_path / "bad.csv", text))
    assert str(err.value) == (f'{tmp_path / "bad.csv"} line 3, column "贷方发生额": \'一百元\' is not an amount '
                              "(expected e.g. 1,234.56)")
    assert ledger.row("SELECT count(*) AS n FROM bank_lines")["n"] == 0


def test_a_file_without_known_headers_asks_for_a_profile(ledger, tmp_path):
    text = "Buchungstag;Betrag;Auftraggeber;Verwendungszweck\n02.03.2026;1.200,00;Muster GmbH;RE A7-000003\n"
    src = write(tmp_path / "de.csv", text)
    with pytest.raises(InvalidInput, match="no header row found.*save a profile"):
        bank.import_file(ledger, src)
    with pytest.raises(NotFound, match="unknown bank profile 'sparkasse'"):
        bank.import_file(ledger, src, profile="sparkasse")


def test_saved_profile_maps_a_banks_own_headers(ledger, tmp_path):
    text = ("Buchungstag;Gutschrift;Lastschrift;Auftraggeber;Verwendungszweck\n"
            "02.03.2026;1200.00;;Muster GmbH;RE A7-000003\n")
    bank.save_profile(ledger, "sparkasse", ["date=Buchungstag", "credit=Gutschrift", "debit=Lastschrift",
                                            "payer=Auftraggeber", "memo=Verwendungszweck"],
                      date_format="%d.%m.%Y", currency="EUR", account="DE02 1234")
    found = bank.import_file(ledger, write(tmp_path / "de.csv", text), profile="sparkasse")
    assert [(b.date, b.amount, b.currency, b.payer, b.memo, b.account) for b in found.added] == [
        ("2026-03-02", 120_000, "EUR", "Muster GmbH", "RE A7-000003", "DE02 1234")]
    assert [p["name"] for p in bank.profiles(ledger)] == ["generic", "sparkasse"]


def test_profile_needs_a_date_and_an_amount(ledger):
    with pytest.raises(InvalidInput, match="at least date and amount"):
        bank.save_profile(ledger, "x", ["payer=Name"])
    with pytest.raises(InvalidInput, match="unknown field 'datum'"):
        bank.save_profile(ledger, "x", ["datum=Buchungstag"])


# --- the command line -----------------------------------------------------------------------------------------


def test_cli_import_bank_then_reimport_adds_nothing(cli, tmp_path):
    assert cli("init").code == 0
    src = write(tmp_path / "工行.csv", GBK_STATEMENT, "gbk")
    first = cli("import", "bank", src)
    assert first.code == 0, first.err
    assert "imported 4 new bank lines (3 in, 1 out), 0 already there" in first.out and "GB18030/GBK" in first.out
    again = cli("import", "bank", src, "--format", "json")
    assert again.code == 0 and (again.json()["added"], again.json()["skipped"]) == (0, 4)


def test_cli_dry_run_writes_nothing(cli, tmp_path):
    assert cli("init").code == 0
    src = write(tmp_path / "b.csv", GBK_STATEMENT, "gbk")
    dry = cli("import", "bank", src, "--dry-run")
    assert dry.code == 0 and "would import 4 new bank lines" in dry.out and "nothing was written" in dry.out
    assert "already there" not in dry.out.splitlines()[2]
    assert "imported 4 new" in cli("import", "bank", src).out


def test_cli_bad_file_is_one_line_error(cli, tmp_path):
    assert cli("init").code == 0
    src = write(tmp_path / "b.csv", "交易日期,贷方发生额\n2026-02-30,100\n")
    assert_one_line_error(cli("import", "bank", src), 1, "line 2", "交易日期", "2026-02-30", "not a date")


def test_cli_profile_add_and_use(cli, tmp_path):
    assert cli("init").code == 0
    added = cli("reconcile", "profile", "add", "boc", "--map", "date=交易时间", "--map", "credit=收入",
                "--map", "payer=付款人", "--map", "memo=备注", "--map", "memo=用途")
    assert added.code == 0, added.err
    src = write(tmp_path / "boc.csv", "交易时间,收入,付款人,备注,用途\n2026-03-02 09:00:00,50.00,王五,转账,A7-1\n")
    result = cli("import", "bank", src, "--profile", "boc", "--format", "json")
    assert result.code == 0, result.err
    assert result.json()["lines"][0]["memo"] == "转账 A7-1" and result.json()["profile"] == "boc"
    assert "boc" in cli("reconcile", "profile", "list").out


# --- OFX (ofxtools) ---------------------------------------------------------------------------------------------

OFX = """OFXHEADER:100
DATA:OFXSGML
VERSION:102
SECURITY:NONE
ENCODING:USASCII
CHARSET:1252
COMPRESSION:NONE
OLDFILEUID:NONE
NEWFILEUID:NONE

<OFX>
<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20260331120000<LANGUAGE>ENG</SONRS>
</SIGNONMSGSRSV1>
<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>
<STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>121000248<ACCTID>987654321<ACCTTYPE>CHECKING</BANKACCTFROM>
<BANKTRANLIST><DTSTART>20260301<DTEND>20260331
<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20260302120000<TRNAMT>1200.50<FITID>2026030201<NAME>ACME CORP<MEMO>INV A7-000009
</STMTTRN>
<STMTTRN><TRNTYPE>FEE<DTPOSTED>20260303<TRNAMT>-30.00<FITID>2026030301<NAME>WIRE FEE</STMTTRN>
</BANKTRANLIST><LEDGERBAL><BALAMT>1170.50<DTASOF>20260331</LEDGERBAL></STMTRS></STMTTRNRS></BANKMSGSRSV1>
</OFX>
"""


def test_ofx_statement_with_fitid_as_reference(ledger, tmp_path):
    found = bank.import_file(ledger, write(tmp_path / "chase.ofx", OFX))
    assert found.encoding == "OFX"
    assert [(b.date, b.amount, b.currency, b.payer, b.memo, b.reference, b.account) for b in found.added] == [
        ("2026-03-02", 120_050, "USD", "ACME CORP", "INV A7-000009", "2026030201", "987654321"),
        ("2026-03-03", -3_000, "USD", "WIRE FEE", "", "2026030301", "987654321")]
    assert len(bank.import_file(ledger, tmp_path / "chase.ofx").added) == 0


def test_broken_ofx_is_named(ledger, tmp_path):
    src = write(tmp_path / "broken.ofx", OFX.replace("<BANKTRANLIST>", "<BANKTRANLIST><STMTTRN>"))
    with pytest.raises(InvalidInput, match=r"broken.ofx is not a readable OFX statement"):
        bank.import_file(ledger, src)
    assert ledger.row("SELECT count(*) AS n FROM bank_lines")["n"] == 0
