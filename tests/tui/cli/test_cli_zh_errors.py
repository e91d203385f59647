"""Every error path of the command line that a test can reach, run with --lang zh: no message is an English sentence.
What may stay as typed: codes, numbers, dates, paths, ids, option names and anything quoted ('…', "…", `…`).
Each path's lines (stderr, and a dry run's listed problems on stdout) are collected and checked together, so one
run names every English line left."""
from __future__ import annotations

import pytest

from tests.support.english import english_in

def test_the_detector_tells_a_sentence_from_what_is_typed():
    assert english_in("duly: customer 'NOPE' was not found") is not None
    assert english_in("duly: 未知客户 'NOPE'") is None
    assert english_in("duly: 文件 /tmp/a b/customers.csv 第 3 行：金额 'abc' 不是数字") is None
    assert english_in("duly: --per 0：必须是正数（见 `duly rate import --help`）") is None
    assert english_in("duly: a test message needs the SMTP host") == "test message needs the"
    assert english_in("duly: 未知的列（应为 code, name, tags, notes 之一）") is None


CUSTOMERS_BAD = "code,name,email\nC1,甲公司,not-an-address\nC2,,\nC3,丙公司,c3@example.com\nC3,丙公司,c3@example.com\n"
INVOICES_BAD = ("number,customer,date,amount\nINV-1,NOPE,2026-01-01,10\nINV-2,HD001,2026-02-30,10\n"
                "INV-3,HD001,2026-01-01,abc\nINV-4,HD001,2026-01-01,-5\n")
PAYMENTS_BAD = "customer,date,amount\nNOPE,2026-01-01,10\nHD001,someday,10\nHD001,2026-01-01,0\n"


def files(tmp_path) -> dict[str, str]:
    out = {}
    for name, text in {
        "customers_bad.csv": CUSTOMERS_BAD,
        "invoices_bad.csv": INVOICES_BAD,
        "payments_bad.csv": PAYMENTS_BAD,
        "unknown_column.csv": "code,name,colour\nC9,某公司,red\n",
        "no_header.csv": "\n\n",
        "unclosed.csv": 'code,name\nC1,"甲公司\nC2,乙公司\nC3,丙公司\n',
        "rates_bad.csv": "date,currency,rate\n2026-01-01,XYZ,7.1\n2026-13-01,USD,7.1\n2026-01-02,USD,abc\n",
        "wechat_bad.csv": "时间,说明\n2026-01-01,无\n",
        "not_excel.xlsx": "this is not a workbook",
        "empty.txt": "",
        "backup_bad.bak": "not a backup",
        "template.html": "{% for %}",
    }.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        out[name] = str(tmp_path / name)
    return out


def error_paths(f: dict[str, str], tmp_path) -> list[tuple[str, tuple]]:
    missing = str(tmp_path / "nowhere" / "x.csv")
    return [
        # customers
        ("unknown customer", ("customer", "show", "NOPE")),
        ("code with a space", ("customer", "add", "X 1", "--name", "某公司")),
        ("bad e-mail", ("customer", "add", "HD002", "--name", "某公司", "--email", "not-an-address")),
        ("code already used", ("customer", "add", "HD001", "--name", "又一个")),
        ("not a currency", ("customer", "edit", "HD001", "--currency", "XYZ")),
        ("unknown terms", ("customer", "edit", "HD001", "--terms", "NET45")),
        # invoices, payments, credit, debit, write-off
        ("invoice for nobody", ("invoice", "add", "--customer", "NOPE", "--date", "2026-01-01", "--amount", "10")),
        ("no such date", ("invoice", "add", "--customer", "HD001", "--date", "2026-02-30", "--amount", "10")),
        ("date out of range", ("invoice", "add", "--customer", "HD001", "--date", "1899-01-01", "--amount", "10")),
        ("not an amount", ("invoice", "add", "--customer", "HD001", "--date", "2026-01-01", "--amount", "abc")),
        ("zero invoice", ("invoice", "add", "--customer", "HD001", "--date", "2026-01-01", "--amount", "0")),
        ("unknown invoice", ("invoice", "show", "ZZ-000001")),
        ("zero payment", ("payment", "add", "--customer", "HD001", "--date", "2026-01-01", "--amount", "0")),
        ("void unknown payment", ("payment", "void", "nope", "--reason", "错了")),
        ("credit for nobody", ("credit", "add", "--customer", "NOPE", "--date", "2026-01-01", "--amount", "5",
                               "--reason", "退货")),
        ("debit without amount", ("debit", "add", "--customer", "HD001", "--date", "2026-01-01", "--reason", "费用")),
        ("debit reverses nothing", ("debit", "add", "--reverses", "CN-999999", "--date", "2026-01-01",
                                    "--reason", "冲回")),
        ("write off unknown", ("writeoff", "ZZ-1", "--date", "2026-01-01", "--reason", "坏账")),
        ("promise on unknown invoice", ("promise", "add", "ZZ-1", "--pay-by", "2026-02-01", "--amount", "5")),
        ("note for nobody", ("note", "add", "NOPE", "--channel", "phone", "--text", "打过电话")),
        ("resolve unknown dispute", ("dispute", "resolve", "nope", "--note", "好了")),
        # recurring
        ("recurring bad day", ("recurring", "add", "HD001", "--frequency", "monthly", "--start", "2026-01-01",
                               "--day", "40", "--amount", "10")),
        ("recurring weekly day", ("recurring", "add", "HD001", "--frequency", "weekly", "--start", "2026-01-01",
                                  "--day", "3", "--amount", "10")),
        ("recurring no amount", ("recurring", "add", "HD001", "--frequency", "monthly", "--start", "2026-01-01")),
        ("recurring end before start", ("recurring", "add", "HD001", "--frequency", "monthly", "--start",
                                        "2026-05-01", "--end", "2026-01-01", "--amount", "10")),
        ("pause unknown schedule", ("recurring", "pause", "RI-999")),
        # drafts, terms, settings
        ("draft zero", ("draft", "add", "--customer", "HD001", "--amount", "0")),
        ("built-in terms name", ("terms", "add", "EOM30", "--line", "100%:days_after:30")),
        ("bad terms line", ("terms", "add", "T1", "--line", "garbage")),
        ("unknown setting", ("settings", "set", "nope", "1")),
        ("bad port", ("settings", "set", "smtp.port", "99999")),
        ("control characters", ("settings", "set", "company.name", "甲\x07公司")),
        ("bank account", ("settings", "set", "company.bank_account", "12")),
        # reports, statements, letters, templates
        ("bad date word", ("report", "aging", "--as-of", "someday")),
        ("no rate for a currency", ("report", "aging", "--in", "USD")),
        ("statement for nobody", ("statement", "NOPE")),
        ("pdf on a terminal", ("statement", "HD001", "--format", "pdf")),
        ("dunning with nothing due", ("letter", "dunning", "HD001", "--as-of", "2026-01-01")),
        ("request with nothing open", ("letter", "request", "HD001", "--as-of", "2026-01-01")),
        ("unknown template", ("template", "show", "nope")),
        ("template that does not parse", ("template", "edit", "statement", "--file", f["template.html"])),
        ("template file missing", ("template", "edit", "statement", "--file", missing)),
        # rates
        ("rate per zero", ("rate", "import", f["rates_bad.csv"], "--per", "0")),
        ("rates with bad rows", ("rate", "import", f["rates_bad.csv"])),
        ("rate for the base currency", ("rate", "set", "CNY", "1", "--date", "2026-01-01")),
        # imports: files and rows
        ("no such file", ("import", "customers", missing)),
        ("customers with bad rows", ("import", "customers", "--dry-run", f["customers_bad.csv"])),
        ("invoices with bad rows", ("import", "invoices", "--dry-run", f["invoices_bad.csv"])),
        ("payments with bad rows", ("import", "payments", "--dry-run", f["payments_bad.csv"])),
        ("invoices with bad rows, for real", ("import", "invoices", f["invoices_bad.csv"])),
        ("unknown column", ("import", "customers", f["unknown_column.csv"])),
        ("no header row", ("import", "customers", f["no_header.csv"])),
        ("unclosed quote", ("import", "customers", f["unclosed.csv"])),
        ("not a workbook", ("import", "customers", f["not_excel.xlsx"])),
        ("wallet that is not one", ("import", "bank", "--profile", "wechat", f["wechat_bad.csv"])),
        ("bank file missing", ("import", "bank", missing)),
        # the ledger itself
        ("restore a bad backup", ("restore", "--yes", f["backup_bad.bak"])),
        ("backup into nowhere", ("backup", str(tmp_path / "nowhere" / "b.duly"))),
        ("accept an unknown bank line", ("reconcile", "accept", "nope")),
        ("sync with no server", ("sync", "status")),
        ("join a server that is not there", ("sync", "join", "--server", "http://127.0.0.1:9", "--invite", "abc")),
        ("send reminders without mail", ("remind", "send", "--as-of", "2026-01-01")),
        # argparse's own refusals
        ("unknown command", ("invoce",)),
        ("bad format", ("customer", "list", "--format", "xml")),
        ("missing argument", ("customer", "add")),
    ]


@pytest.fixture
def book(cli):
    assert cli("init").code == 0
    assert cli("customer", "add", "HD001", "--name", "上海恒达贸易有限公司").code == 0
    return cli


def test_no_error_of_the_command_line_is_english_in_chinese(book, tmp_path):
    found, refused = [], 0
    for what, argv in error_paths(files(tmp_path), tmp_path):
        result = book("--lang", "zh", *argv)
        lines = [line for line in result.err.splitlines() if line.strip()]
        if result.code != 0:
            refused += 1
        lines += [line for line in result.out.splitlines() if "line" in line or "行" in line]
        for line in lines:
            phrase = english_in(line)
            if phrase:
                found.append(f"{what}: {line}  [{phrase}]")
    assert refused >= 50
    assert not found, f"{len(found)} English lines in zh mode:\n" + "\n".join(found)


def test_what_the_commands_print_on_success_is_chinese_too(book, tmp_path):
    """The notes a command prints after it worked (an invoice issued, a payment applied, an import's summary)."""
    issued = book("--lang", "zh", "invoice", "add", "--customer", "HD001", "--date", "2026-01-05", "--amount", "100")
    assert issued.code == 0 and "已开具" in issued.out and "到期" in issued.out, issued.out
    paid = book("--lang", "zh", "payment", "add", "--customer", "HD001", "--date", "2026-01-09", "--amount", "150")
    assert paid.code == 0 and "已登记" in paid.out and "已核销到" in paid.out and "未核销" in paid.out, paid.out
    good = tmp_path / "good.csv"
    good.write_text("code,name\nC1,甲公司\n", encoding="utf-8")
    dry = book("--lang", "zh", "import", "customers", "--dry-run", str(good))
    assert dry.code == 0 and "将导入 1 条新的" in dry.out and "没有写入任何内容" in dry.out, dry.out
    for line in (issued.out + paid.out + dry.out).splitlines():
        assert english_in(line) is None, line


def test_the_everyday_output_of_each_command_group_is_chinese(book, tmp_path):
    """Records and their sections, an import's row details, an export's line, reminders skipped, a statement run,
    the credit report's note, an archive and a restore: what people read after the usual commands."""
    for argv in (("invoice", "add", "--customer", "HD001", "--date", "2026-01-05", "--line", "咨询:1:100:6%",
                  "--number", "INV-1"),
                 ("payment", "add", "--customer", "HD001", "--date", "2026-01-09", "--amount", "50",
                  "--reference", "REF-1"),
                 ("payment", "add", "--customer", "HD001", "--date", "2026-01-10", "--amount", "20", "--no-allocate"),
                 ("customer", "add", "SZ002", "--name", "深圳某公司", "--email", "ar@example.cn")):
        assert book(*argv).code == 0
    out = tmp_path / "out"
    journal = tmp_path / "book.journal"
    runs = {
        "customer show": ("customer", "show", "HD001"),
        "customer edit": ("customer", "edit", "HD001", "--phone", "021-1234"),
        "customer archive": ("customer", "archive", "SZ002"),
        "customer unarchive": ("customer", "unarchive", "SZ002"),
        "invoice show": ("invoice", "show", "INV-1"),
        "terms preview": ("terms", "preview", "NET30", "--date", "2026-01-31", "--amount", "100"),
        "terms add": ("terms", "add", "T45", "--line", "100%:days_after:45"),
        "note add": ("note", "add", "HD001", "--channel", "phone", "--text", "打过电话", "--date", "2026-01-20",
                     "--next", "2026-02-01"),
        "draft add": ("draft", "add", "--customer", "HD001", "--amount", "10"),
        "template reset": ("template", "reset", "statement.zh"),
        "payment allocate": ("payment", "allocate", "--customer", "HD001", "INV-1=10"),
        "settings": ("settings", "get"),
        "templates": ("template", "list"),
        "credit report": ("report", "credit", "--as-of", "2026-03-31"),
        "reminders": ("remind", "send", "--as-of", "2026-02-20", "--dry-run"),
        "statements": ("statement", "--all", "--as-of", "2026-03-31", "--mark-sent"),
        "export csv": ("export", "csv", str(out)),
        "export hledger": ("export", "hledger", str(journal)),
    }
    found = []
    results = {}
    for what, argv in runs.items():
        results[what] = result = book("--lang", "zh", *argv)
        assert result.code == 0, (what, result.err)
        for line in (result.out + result.err).splitlines():
            if english_in(line):
                found.append(f"{what}: {line}  [{english_in(line)}]")
    for kind in ("customers", "invoices", "payments"):  # a second import of what was exported: every row is there
        result = book("--lang", "zh", "import", kind, "--dry-run", str(out / f"{kind}.csv"))
        results[kind] = result
        assert result.code == 0, (kind, result.err)
        found += [f"import {kind}: {line}" for line in (result.out + result.err).splitlines() if english_in(line)]
    assert not found, "\n".join(found)
    assert "客户 SZ002 已从归档中恢复" in results["customer unarchive"].out
    assert "修改历史" in results["customer show"].out and "明细行" in results["invoice show"].out
    assert "False" not in results["customer show"].out and "已归档" in results["customer show"].out
    assert "已存在，无变化" in results["customers"].out and "已登记，参考号 REF-1" in results["payments"].out
    assert "笔交易，hledger 日记账" in results["export hledger"].out
    assert "账期 T45 已保存：开票后45天" in results["terms add"].out and "/" not in results["terms add"].out
    assert "已为 HD001 记录；下一步 2026-02-01" in results["note add"].out
    assert "模板 statement.zh 本来就是默认" in results["template reset"].out
    assert "收款 " in results["payment allocate"].out and "已核销到 INV-1" in results["payment allocate"].out
    assert "已跳过" in results["reminders"].out and "客户没有邮箱地址" in results["reminders"].out


def test_schedules_disputes_contracts_unapplied_money_and_rates_are_reported_in_chinese(book, tmp_path):
    contract = tmp_path / "合同.txt"
    contract.write_text("合同", encoding="utf-8")
    rates = tmp_path / "rates.csv"
    rates.write_text("date,currency,rate\n2026-01-02,USD,7.1\n", encoding="utf-8")
    for argv in (("invoice", "add", "--customer", "HD001", "--date", "2026-01-05", "--amount", "100", "--number",
                  "INV-1"),
                 ("payment", "add", "--customer", "HD001", "--date", "2026-01-09", "--amount", "60")):
        assert book(*argv).code == 0
    runs = [("recurring", "add", "HD001", "--frequency", "monthly", "--start", "2026-01-31", "--day", "last",
             "--amount", "10"),
            ("recurring", "list"),
            ("dispute", "open", "INV-1", "--reason", "数量不符"),
            ("contract", "add", "HD001", "--number", "HT-1", "--signed", "2026-01-01", "--file", str(contract)),
            ("invoice", "unapply", "INV-1"),
            ("rate", "import", str(rates))]
    said = {}
    for argv in runs:
        result = book("--lang", "zh", *argv)
        assert result.code == 0, (argv, result.err)
        said[argv[0] + " " + argv[1]] = result.out
        for line in (result.out + result.err).splitlines():
            assert english_in(line) is None, line
    assert "每月最后一天" in said["recurring add"] and "每月最后一天" in said["recurring list"]
    assert "直到争议解决" in said["dispute open"] and "未复制文件" in said["contract add"]
    assert "这些款项重新成为未核销" in said["invoice unapply"] and "导入 1 条汇率" in said["rate import"]


def test_reconciliation_explains_its_matches_in_chinese(book, tmp_path):
    assert book("invoice", "add", "--customer", "HD001", "--date", "2026-01-05", "--amount", "100", "--number",
                "INV-7").code == 0
    bank = tmp_path / "bank.csv"
    bank.write_text("日期,金额,付款人,摘要\n2026-02-03,100.00,上海恒达贸易有限公司,货款 INV-7\n"
                    "2026-02-04,55.00,某人,其他\n", encoding="utf-8")
    assert book("import", "bank", str(bank)).code == 0
    listed = book("--lang", "zh", "reconcile", "list")
    auto = book("--lang", "zh", "reconcile", "auto")
    assert listed.code == 0 and auto.code == 0, (listed.err, auto.err)
    assert "摘要中有发票号 INV-7" in listed.out and "金额等于 INV-7 的未收金额" in listed.out, listed.out
    assert "付款人 上海恒达贸易有限公司 即客户名称" in listed.out
    assert "没有候选" in auto.out and "银行流水" in auto.out, auto.out
    for line in (listed.out + listed.err + auto.out + auto.err).splitlines():
        assert english_in(line) is None, line
    assert "付款人" in listed.out.splitlines()[0] and "理由" in listed.out.splitlines()[0]  # the columns' titles too


def test_a_bad_cell_of_a_bank_file_is_placed_in_chinese(book, tmp_path):
    bad = tmp_path / "bank.csv"
    bad.write_text("交易日期,贷方发生额,借方发生额,对方户名,摘要\n2026-03-30,abc,,明辉,货款\n", encoding="utf-8")
    result = book("--lang", "zh", "import", "bank", str(bad))
    assert result.code == 1 and "bank.csv 第 2 行，\"贷方发生额\" 列" in result.err, result.err
    assert english_in(result.err) is None, result.err


@pytest.mark.parametrize(("argv", "said"), [
    (("invoice", "add", "--customer", "HD001", "--date", "2026-01-05", "--line", "咨询:abc:100"),
     "明细行 '咨询:abc:100'：'abc' 不是数量"),
    (("invoice", "add", "--customer", "HD001", "--date", "2026-01-05", "--line", "咨询:1:abc"),
     "明细行 '咨询:1:abc'：单价：'abc' 不是金额"),
    (("terms", "add", "BB", "--line", "balance:days_after:-5"), "账期行 'balance:days_after:-5'：天数 '-5' 不是整数"),
    (("terms", "add", "BB", "--line", "30%:days_after:0"), "账期 'BB'："),
    (("settings", "set", "dunning.levels", "friendly:-3:fax"), "催收第 1 级（'friendly:-3:fax'）："),
    (("settings", "set", "smtp.port", "99999"), "设置 smtp.port：端口 '99999' 不是 1 到 65535 之间的数字"),
    (("customer", "add", "X9", "--name", "某公司", "--cycle", "周结"), "结算周期 '周结' 不在可选范围内"),
    (("customer", "add", "X9", "--name", "某公司", "--language", "fr"), "语言 'fr' 不在可选范围内"),
    (("rate", "set", "USD", "-1"), "汇率：'-1' 必须是正数"),
])
def test_where_a_typed_line_went_wrong_is_said_in_chinese(book, argv, said):
    """The place in a typed line ("line '…'", "term line '…'", "price", "dunning level 1 (…)") was English inside
    the Chinese message: too short for the sentence detector, so each is read whole here."""
    result = book("--lang", "zh", *argv)
    assert result.code == 1 and said in result.err, result.err


def test_the_reports_and_lists_title_their_columns_in_chinese(book):
    """The credit, days-to-pay, expected-payment and CEI reports and the dispute, promise and note lists titled some
    columns with their keys (days_late, on_time_share, paid_invoices, avg_days_late, beginning_ar, made_on, ...)."""
    for argv in (("invoice", "add", "--customer", "HD001", "--date", "2026-01-05", "--amount", "100", "--number",
                  "INV-1"),
                 ("invoice", "add", "--customer", "HD001", "--date", "2026-01-06", "--amount", "100", "--number",
                  "INV-2"),
                 ("payment", "add", "--customer", "HD001", "--date", "2026-03-09", "--amount", "100"),
                 ("dispute", "open", "INV-2", "--reason", "数量不符", "--date", "2026-02-01"),
                 ("promise", "add", "INV-2", "--pay-by", "2026-04-10", "--amount", "50", "--made-on", "2026-03-10"),
                 ("note", "add", "HD001", "--channel", "phone", "--text", "打过电话", "--date", "2026-03-10",
                  "--next", "2026-04-01")):
        assert book(*argv).code == 0, argv
    for argv in (("report", "credit", "--as-of", "2026-03-31"), ("report", "days-to-pay", "--as-of", "2026-03-31"),
                 ("report", "expected", "--as-of", "2026-03-31"),
                 ("report", "cei", "--from", "2026-01-01", "--to", "2026-03-31"),
                 ("dispute", "list"), ("promise", "list"), ("note", "list")):
        result = book("--lang", "zh", *argv)
        assert result.code == 0, (argv, result.err)
        head = result.out.splitlines()[0]
        assert not [word for word in head.split() if word.isascii() and word.isalpha() or "_" in word], (argv, head)
