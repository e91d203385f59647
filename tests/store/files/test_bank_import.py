"""`duly import bank FILE [--profile NAME]`: bank files as banks give them (GBK with Chinese headers and a
preamble, UTF-8 with English headers, XLSX), debits kept, profiles by name, and a re-import that adds nothing."""
from __future__ import annotations

from datetime import datetime

import pytest
from openpyxl import Workbook

from store.files import bank
from store.errors import InvalidInput, NotFound
from tests.support.bank_files import OFX
from tests.support.cli import assert_one_line_error

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
    assert [p["name"] for p in bank.profiles(ledger)] == ["generic", "wechat", "alipay", "icbc", "ccb", "cmb", "abc",
                                                          "boc", "sparkasse"]


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


# --- WeChat Pay and Alipay bills, as their apps export them --------------------------------------------------------

WECHAT_BILL = "\n".join([
    "微信支付账单明细,,,,,,,,,,",
    "微信昵称：[杭州云帆],,,,,,,,,,",
    "起始时间：[2026-03-01 00:00:00] 终止时间：[2026-03-31 23:59:59],,,,,,,,,,",
    "导出类型：[全部],,,,,,,,,,",
    "导出时间：[2026-04-01 09:12:33],,,,,,,,,,",
    ",,,,,,,,,,",
    "共6笔记录,,,,,,,,,,",
    "收入：4笔 4480.00元,,,,,,,,,,",
    "支出：2笔 110.00元,,,,,,,,,,",
    "中性交易：0笔 0.00元,,,,,,,,,,",
    "注：,,,,,,,,,,",
    "1. 充值/提现/理财通购买/零钱通存取/信用卡还款等交易，将计入中性交易,,,,,,,,,,",
    ",,,,,,,,,,",
    "----------------------微信支付账单明细列表--------------------,,,,,,,,,,",
    "交易时间,交易类型,交易对方,商品,收/支,金额(元),支付方式,当前状态,交易单号,商户单号,备注",
    "2026-03-02 10:11:12,转账,上海恒达贸易有限公司,/,收入,¥1000.00,/,已收钱,1000050001202603021234567890123\t,/,A7-000001",
    "2026-03-03 14:00:00,二维码收款,张三,收款方备注:二维码收款,收入,\"¥2,500.00\",/,已收钱,"
    "1000039901202603031400000000001\t,10001071012026030300001\t,/",
    "2026-03-04 09:00:00,商户消费,美团,外卖订单,支出,¥60.00,零钱,支付成功,4200001234202603040000000001\t,"
    "mt20260304001\t,/",
    "2026-03-05 16:20:00,二维码收款,李四,收款方备注:二维码收款,收入,¥800.00,/,已全额退款,"
    "1000039901202603051620000000002\t,/,/",
    "2026-03-06 11:00:00,转账-退款,张三,/,支出,¥50.00,零钱,已退款,1000050001202603061100000000003\t,/,/",
    "2026-03-07 12:00:00,转账,王五,/,收入,¥180.00,/,待接收,1000050001202603071200000000004\t,/,/",
]) + "\n"

ALIPAY_BILL = "\n".join([
    "------------------------------------------------------------------------------------",
    "导出信息：",
    "姓名：杭州云帆科技有限公司",
    "支付宝账户：finance@yunfan.example",
    "起始时间：[2026-03-01 00:00:00]    终止时间：[2026-03-31 23:59:59]",
    "导出交易类型：[全部]",
    "导出时间：[2026-04-01 10:00:00]",
    "共4笔记录",
    "收入：2笔 3300.00元",
    "支出：1笔 99.00元",
    "不计收支：1笔 500.00元",
    "特别提示：",
    "1. 本回单内容可表明支付宝受理了相关交易申请，不代表交易的最终状态；",
    "----------------------------支付宝（中国）网络技术有限公司  电子客户回单------------------------",
    "交易时间,交易分类,交易对方,对方账号,商品说明,收/支,金额,收/付款方式,交易状态,交易订单号,商家订单号,备注,",
    "2026-03-10 11:22:33,转账红包,北京智讯科技有限公司,zhixun@example.cn,转账,收入,3000.00,,交易成功,"
    "2026031022001400001234567890\t,\t,A7-000003,",
    "2026-03-11 08:00:00,商业服务,赵六,zhao***@163.com,服务费,收入,300.00,,交易关闭,"
    "2026031122001400001234567891\t,\t,,",
    "2026-03-12 20:00:00,日用百货,淘宝,tb***@taobao.com,办公用品,支出,99.00,余额,交易成功,"
    "2026031222001400001234567892\t,T200P1234\t,,",
    "2026-03-13 09:00:00,投资理财,余额宝,,余额宝-转入,不计收支,500.00,余额,交易成功,"
    "2026031322001400001234567893\t,\t,,",
]) + "\n"


@pytest.fixture
def cli_ledger(cli):
    assert cli("init").code == 0
    return cli


def bank_rows(cli):
    from store.ledger.ledger import Ledger
    from tests.support.cli import PASSPHRASE

    with Ledger.open(cli.path, PASSPHRASE) as ledger:
        return ledger.rows("SELECT * FROM bank_lines ORDER BY line")


def test_wechat_bill_imports_income_received_and_refunds_as_money_out_and_counts_the_rest(cli_ledger, tmp_path):
    cli = cli_ledger
    src = write(tmp_path / "微信支付账单(20260301-20260331).csv", WECHAT_BILL, "utf-8-sig")
    result = cli("import", "bank", src)
    assert result.code == 0, result.err
    assert ("WeChat Pay bill: 6 rows, 2 income received, 1 refund paid out (money out); left out: 1 money out, "
            "1 not completed (已全额退款), 1 not completed (待接收)") in result.out
    assert "imported 3 new bank lines (2 in, 1 out)" in result.out and "profile wechat" in result.out
    lines = bank_rows(cli)
    assert [(b["date"], b["amount"], b["payer"], b["reference"], b["account"]) for b in lines] == [
        ("2026-03-02", 100_000, "上海恒达贸易有限公司", "1000050001202603021234567890123", "微信支付"),
        ("2026-03-03", 250_000, "张三", "1000039901202603031400000000001", "微信支付"),
        ("2026-03-06", -5_000, "张三", "1000050001202603061100000000003", "微信支付")]
    assert "A7-000001" in lines[0]["memo"] and "转账" in lines[0]["memo"]
    assert "退款" in lines[2]["memo"]
    again = cli("import", "bank", src)
    assert "imported 0 new bank lines (0 in, 0 out), 3 already there" in again.out
    assert len(bank_rows(cli)) == 3


def test_what_a_wallet_bill_was_recognised_as_and_left_out_is_said_in_chinese(cli_ledger, tmp_path):
    from tests.support.english import english_in

    src = write(tmp_path / "微信支付账单(20260301-20260331).csv", WECHAT_BILL, "utf-8-sig")
    result = cli_ledger("--lang", "zh", "import", "bank", "--dry-run", src)
    assert result.code == 0, result.err
    assert ("微信支付账单：6 行，其中收入 2 笔，1 笔退款（支出）；未导入：1 支出, 1 未完成（已全额退款）, "
            "1 未完成（待接收）") in result.out, result.out
    profiles = cli_ledger("--lang", "zh", "reconcile", "profile", "list")
    assert "工商银行对账单（内置，自动识别）" in profiles.out and "微信支付账单（内置，自动识别）" in profiles.out
    for line in (result.out + result.err + profiles.out).splitlines():
        assert english_in(line) is None, line


def test_a_refund_paid_out_is_a_debit_line_that_is_never_matched_and_one_still_pending_is_left_out(ledger, tmp_path):
    from store.write import reconcile

    pending = WECHAT_BILL.replace("¥50.00,零钱,已退款,", "¥50.00,零钱,退款中,")
    found = bank.import_file(ledger, write(tmp_path / "bill.csv", pending, "utf-8-sig"))
    assert (found.credits, found.debits) == (2, 0) and found.ignored["not completed (退款中)"] == 1
    found = bank.import_file(ledger, write(tmp_path / "bill2.csv", WECHAT_BILL, "utf-8-sig"))
    assert (len(found.added), found.debits) == (1, 1)
    refund, = reconcile.lines(ledger, status="debit")
    assert (refund["amount"], refund["payer"]) == (-5_000, "张三")


def test_alipay_bill_in_gb18030_with_its_preamble(cli_ledger, tmp_path):
    cli = cli_ledger
    src = write(tmp_path / "alipay_record_20260401.csv", ALIPAY_BILL, "gb18030")
    result = cli("import", "bank", src, "--dry-run")
    assert result.code == 0, result.err
    assert ("Alipay bill: 4 rows, 1 income received; left out: 1 money out, 1 neither in nor out (不计收支), "
            "1 not completed (交易关闭)") in result.out
    assert "GB18030/GBK" in result.out and "nothing was written" in result.out
    assert bank_rows(cli) == []
    assert cli("import", "bank", src).code == 0
    line, = bank_rows(cli)
    assert (line["amount"], line["payer"], line["payer_account"], line["reference"], line["account"]) == (
        300_000, "北京智讯科技有限公司", "zhixun@example.cn", "2026031022001400001234567890", "支付宝")


def test_a_bank_file_named_as_a_wallet_bill_is_refused_with_the_reason(cli_ledger, tmp_path):
    cli = cli_ledger
    src = write(tmp_path / "icbc.csv", GBK_STATEMENT, "gbk")
    result = cli("import", "bank", src, "--profile", "alipay")
    assert_one_line_error(result, 1, "is not an Alipay bill", "交易订单号")


# --- the big banks' own exports, detected by their headers ----------------------------------------------------------

ICBC_CORPORATE = (
    "明细查询\n"
    "账号：1202020209000123456,户名：杭州云帆科技有限公司,币种：人民币\n"
    "凭证号,本方账号,对方账号,交易时间,借/贷,借方发生额,贷方发生额,对方行号,摘要,用途,对方单位名称,余额,个性化信息\n"
    ",1202020209000123456,31001234567890,2026-03-02 10:00:01,贷,,\"10,000.00\",105290000000,货款,A7-000001,"
    "上海恒达贸易有限公司,\"10,000.00\",\n"
    ",1202020209000123456,,2026-03-04 11:00:00,借,15.00,,,手续费,,,\"9,985.00\",\n"
    "合计,,,,,15.00,\"10,000.00\",,,,,,\n"
)
CMB_CORPORATE = (
    "交易日,交易时间,起息日,交易类型,借方金额,贷方金额,余额,摘要,流水号,流程实例号,业务名称,用途,业务参考号,业务摘要,"
    "其它摘要,收/付方分行名,收/付方名称,收/付方帐号\n"
    "20260306,10:12:13,20260306,汇入汇款,,2260.00,12260.00,货款,G1234567890123,,,A7-000004,,,,上海,"
    "上海恒达贸易有限公司,31001234\n"
)
BOC_CORPORATE = (
    "交易类型[ Transaction Type ],业务类型[ Business type ],付款人开户行号[ Payer account bank ],"
    "付款人开户行名[ Payer account bank ],付款人账号[ Debit Account No. ],付款人名称[ Payer's Name ],"
    "收款人开户行行号[ Beneficiary account bank ],收款人开户行名[ Beneficiary account bank ],"
    "收款人账号[ Payee's Account Number ],收款人名称[ Payee's Name ],交易日期[ Transaction Date ],"
    "交易时间[ Transaction time ],交易货币[ Trade Currency ],交易金额[ Trade Amount ],"
    "交易后余额[ After-transaction balance ],起息日期[ Value Date ],汇率[ Exchange rate ],"
    "交易流水号[ Transaction reference number ],摘要[ Reference ],用途[ Purpose ],交易附言[ Remark ],备注[ Remarks ]\n"
    "来账,汇入汇款,104100000004,中国银行北京分行,3400001111,北京智讯科技有限公司,104331000000,中国银行杭州分行,"
    "3500002222,杭州云帆科技有限公司,20260308,09:00:00,CNY,3000.00,13000.00,20260308,,"
    "BOC20260308000001,货款,A7-000003,,\n"
    "往账,手续费,104331000000,中国银行杭州分行,3500002222,杭州云帆科技有限公司,,,,,20260308,09:00:01,CNY,-20.00,"
    "12980.00,20260308,,BOC20260308000002,手续费,,,\n"
)


def xlsx_of(path, rows):
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    return path


def ccb_xlsx(path):
    return xlsx_of(path, [
        ["中国建设银行 账户明细"],
        ["账号", "账户名称", "交易时间", "借方发生额（支取）", "贷方发生额（收入）", "余额", "币种", "对方户名", "对方账号",
         "对方开户机构", "记账日期", "摘要", "备注", "账户明细编号-交易流水号", "企业流水号", "凭证种类", "凭证号"],
        ["33050161234500000123", "杭州云帆科技有限公司", "20260305 09:30:00", 0, 5000, 15000, "人民币",
         "北京智讯科技有限公司", "6217000011112222", "中国建设银行北京分行", "20260305", "转账", "A7-000003",
         "330501612345000001230001", "", "", ""],
    ])


def abc_xlsx(path):
    return xlsx_of(path, [
        ["账户名称：杭州云帆科技有限公司", "账号：19000101040012345"],
        ["交易时间", "收入金额", "支出金额", "本次余额", "手续费总额", "交易方式", "交易行名", "交易类别", "对方省市",
         "对方账号", "对方户名", "交易说明", "交易摘要", "交易附言"],
        ["2026-03-07 14:00:00", 800, None, 8800, 0, "网银", "农行杭州分行", "转账", "浙江省杭州市", "6228480001",
         "杭州散客", "货款", "转账", "A7-000005"],
        ["2026-03-07 15:00:00", None, 5.5, 8794.5, 0, "网银", "农行杭州分行", "收费", "", "", "", "手续费", "", ""],
    ])


@pytest.mark.parametrize("name,make,label,expected", [
    ("icbc.csv", lambda p: write(p, ICBC_CORPORATE, "gb18030"), "工商银行 (ICBC) statement: 2 lines",
     [("2026-03-02", 1_000_000, "上海恒达贸易有限公司", "货款 A7-000001"), ("2026-03-04", -1_500, "", "手续费")]),
    ("ccb.xlsx", ccb_xlsx, "建设银行 (CCB) statement: 1 line",
     [("2026-03-05", 500_000, "北京智讯科技有限公司", "转账 A7-000003")]),
    ("cmb.csv", lambda p: write(p, CMB_CORPORATE), "招商银行 (CMB) statement: 1 line",
     [("2026-03-06", 226_000, "上海恒达贸易有限公司", "货款 A7-000004")]),
    ("abc.xlsx", abc_xlsx, "农业银行 (ABC) statement: 2 lines",
     [("2026-03-07", 80_000, "杭州散客", "货款 转账 A7-000005"), ("2026-03-07", -550, "", "手续费")]),
    ("boc.csv", lambda p: write(p, BOC_CORPORATE, "gb18030"), "中国银行 (BOC) statement: 2 lines",
     [("2026-03-08", 300_000, "北京智讯科技有限公司", "货款 A7-000003"),
      ("2026-03-08", -2_000, "杭州云帆科技有限公司", "手续费")]),
])
def test_each_big_banks_export_is_detected_and_read(cli_ledger, tmp_path, name, make, label, expected):
    cli = cli_ledger
    src = make(tmp_path / name)
    result = cli("import", "bank", src)
    assert result.code == 0, result.err
    assert label in result.out and f"profile {name.split('.')[0]}" in result.out
    assert [(b["date"], b["amount"], b["payer"], b["memo"]) for b in bank_rows(cli)] == expected
    assert "0 new bank lines" in cli("import", "bank", src).out


def test_a_bank_profile_can_be_named_on_the_command_line(cli_ledger, tmp_path):
    cli = cli_ledger
    text = CMB_CORPORATE.replace("收/付方名称", "对方名称")  # a header changed: no longer recognised by itself
    src = write(tmp_path / "cmb.csv", text)
    result = cli("import", "bank", src, "--profile", "cmb")
    assert result.code == 0, result.err
    assert "招商银行 (CMB) statement: 1 line" in result.out
    assert [b["amount"] for b in bank_rows(cli)] == [226_000]


def test_an_xls_bank_export_with_its_preamble_and_footer(cli_ledger, tmp_path):
    import xlwt

    cli = cli_ledger
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("明细", cell_overwrite_ok=True)
    lines = [row.split(",") for row in ICBC_CORPORATE.replace('"10,000.00"', "10000.00").replace(
        '"9,985.00"', "9985.00").splitlines()]
    for r, cells in enumerate(lines):
        for c, text in enumerate(cells):
            sheet.write(r, c, float(text) if text.replace(".", "").isdigit() and "." in text else text)
    sheet.write(3, 3, datetime(2026, 3, 2, 10, 0, 1), xlwt.easyxf(num_format_str="yyyy-mm-dd hh:mm:ss"))
    book.save(str(tmp_path / "工行.xls"))
    result = cli("import", "bank", tmp_path / "工行.xls")
    assert result.code == 0, result.err
    assert "工商银行 (ICBC) statement: 2 lines" in result.out and "XLS" in result.out
    assert [(b["date"], b["amount"], b["payer"]) for b in bank_rows(cli)] == [
        ("2026-03-02", 1_000_000, "上海恒达贸易有限公司"), ("2026-03-04", -1_500, "")]


def test_an_ods_bank_export_with_date_cells(ledger, tmp_path):
    from tests.support.ods import write_ods

    write_ods(tmp_path / "招行.ods", [["招商银行 交易明细"],
                                       ["记账日期", "收入金额", "支出金额", "对方户名", "对方账号", "用途"],
                                       [datetime(2026, 3, 2).date(), 3200.5, None, "北京星河文化传媒有限公司",
                                        "1100 2200", "A7-000002 货款"],
                                       [datetime(2026, 3, 6).date(), None, 99, "", "", "短信服务费"]])
    found = bank.import_file(ledger, tmp_path / "招行.ods")
    assert found.encoding == "ODS" and (found.credits, found.debits) == (1, 1)
    rows = ledger.rows("SELECT date, amount, payer, memo, line FROM bank_lines ORDER BY date")
    assert rows == [
        {"date": "2026-03-02", "amount": 320_050, "payer": "北京星河文化传媒有限公司", "memo": "A7-000002 货款", "line": 3},
        {"date": "2026-03-06", "amount": -9_900, "payer": "", "memo": "短信服务费", "line": 4}]
