"""The lines the app writes into the ledger by itself stay English in the ledger (devices, exports and scripts read
them so) and read in the reader's language where they are shown; what a person typed is shown as typed."""
from __future__ import annotations

import ast
from pathlib import Path

from store.files import bank
from store.read import audit
from store.rules import matching
from store.rules.stored_words import STORED, Stored, reword
from store.write import customers, invoices, reconcile, settings

STATEMENT = (  # a bank's export (GBK): a payment naming its invoice, one short of two invoices by a fee, one nobody's
    "交易日期,借方发生额,贷方发生额,对方户名,对方账号,摘要,附言\n"
    "20260302,,\"10,000.00\",上海恒达贸易有限公司,6222 0001,货款,A7-000001\n"
    "20260305,,1985.00,ACME Trading Ltd,,payment,\n"
    "20260306,,333.00,张三,,借款,\n"
)


def line_of(ledger, payer: str) -> dict:
    return next(r for r in reconcile.lines(ledger, status=None) if r["payer"] == payer and r["amount"] > 0)


def test_every_reason_a_match_gives_can_be_worded_again():
    tree = ast.parse(Path(matching.__file__).read_text(encoding="utf-8"))
    ids = {node.args[0].value for node in ast.walk(tree) if isinstance(node, ast.Call)
           and getattr(node.func, "id", None) == "N_" and isinstance(node.args[0], ast.Constant)}
    assert ids and ids <= set(STORED)


def test_a_stored_line_reads_in_chinese_part_by_part_and_stays_english_for_english():
    note = ("invoice number A7-000001 in the memo; payer 上海恒达贸易有限公司 is the customer's name; "
            "amount equals the open amount of A7-000001")
    assert reword(note, "zh") == "摘要中有发票号 A7-000001；付款人 上海恒达贸易有限公司 即客户名称；金额等于 A7-000001 的未收金额"
    assert reword(note, "en") == note and str(Stored(note)) == note
    assert reword("bank fee (bank line 0a1b2c3d)", "zh") == "银行手续费（银行流水 0a1b2c3d）"  # as stored before
    assert reword("bank line 0a1b2c3d 上海恒达 货款 A7-000001", "zh") == "银行流水 0a1b2c3d 上海恒达 货款 A7-000001"
    assert reword("reminder (first) e-mailed to ap@x.cn: A7-000001, A7-000002", "zh") == \
        "催款（first）已发邮件至 ap@x.cn：A7-000001, A7-000002"
    assert reword("客户说下周付; call back", "zh") == "客户说下周付; call back"  # typed by a person: as typed


def _book(ledger, tmp_path):
    customers.add(ledger, "HD001", "上海恒达贸易有限公司")
    customers.add(ledger, "HD002", "恒达科技有限公司")
    customers.add(ledger, "AC01", "Acme Trading Co., Ltd.")
    ledger.set_meta("series_prefix", "A7")
    for code, on, amount, due in (("HD001", "2026-02-01", "10000", "2026-03-01"),
                                  ("HD002", "2026-02-01", "5000", "2026-03-01"),
                                  ("HD001", "2026-02-03", "5000", "2026-03-03"),
                                  ("AC01", "2026-02-03", "1200", "2026-03-03"),
                                  ("AC01", "2026-02-04", "800", "2026-03-04")):
        invoices.add(ledger, code, on, amount=amount, due=due)
    src = tmp_path / "bank.csv"
    src.write_bytes(STATEMENT.encode("gbk"))
    bank.import_file(ledger, src)


def test_a_bank_lines_decision_is_stored_in_english_and_read_in_chinese(ledger, tmp_path):
    _book(ledger, tmp_path)
    settings.put(ledger, "reconcile.fee_tolerance", "20")
    reconcile.accept(ledger, line_of(ledger, "上海恒达贸易有限公司")["id"])
    reconcile.accept(ledger, line_of(ledger, "张三")["id"], customer_code="HD001")
    fee_line = line_of(ledger, "ACME Trading Ltd")
    reconcile.accept(ledger, fee_line["id"])
    notes = [r["note"] for r in ledger.rows("SELECT note FROM bank_matches WHERE status='accepted' ORDER BY id")]
    assert "matched by hand" in notes and any(n.startswith("invoice number A7-000001 in the memo; ") for n in notes)
    worded = [reword(n, "zh") for n in notes]
    assert "手工匹配" in worded and any(w.startswith("摘要中有发票号 A7-000001；") for w in worded)
    [reason] = [r["reason"] for r in ledger.rows("SELECT reason FROM writeoffs")]
    assert reason == f"bank fee (bank line {fee_line['id'][:8]})"  # the same words as ever in the ledger
    names = audit.Names(ledger)
    assert names.value("writeoffs", "x", "reason", reason, None).text("zh") == f"银行手续费（银行流水 {fee_line['id'][:8]}）"


def test_the_command_line_words_a_decision_and_a_reminders_note_for_a_chinese_reader(cli, tmp_path):
    assert cli("init", "--series", "A7").code == 0
    assert cli("customer", "add", "HD001", "--name", "上海恒达贸易有限公司").code == 0
    assert cli("invoice", "add", "--customer", "HD001", "--date", "2026-02-01", "--amount", "10000").code == 0
    src = tmp_path / "bank.csv"
    src.write_bytes(STATEMENT.encode("gbk"))
    assert cli("import", "bank", str(src)).code == 0
    line = next(r for r in cli("reconcile", "list", "--format", "json").json() if r["payer"] == "张三")
    assert cli("reconcile", "accept", line["id"][:8], "--customer", "HD001").code == 0
    listed = cli("--lang", "zh", "reconcile", "list", "--status", "accepted").out
    assert "手工匹配" in listed and "matched by hand" not in listed
    assert cli("reconcile", "list", "--status", "accepted").out.count("matched by hand") == 1  # English for English


def test_what_a_sync_flagged_for_review_reads_in_chinese_and_each_flag_is_made_from_its_id():
    from store.errors import Said
    from store.rules.stored_words import STORED_WHOLE

    made = Said(STORED_WHOLE[1], amount="3,000.00 CNY", customer="BJ001", reference="BANK-778", date="2026-03-28",
                device="laptop", other_date="2026-03-29", other_device="desk")
    assert str(made) == ("payment of 3,000.00 CNY from customer BJ001 (reference BANK-778) was recorded twice: on "
                         "2026-03-28 by laptop and on 2026-03-29 by desk; both are kept: void one if it is the same "
                         "payment")  # the English the ledger has always held
    assert reword(str(made), "zh") == ("客户 BJ001 的收款 3,000.00 CNY（参考号 BANK-778）被登记了两次：2026-03-28 由 "
                                       "laptop 登记，2026-03-29 由 desk 登记；两笔都保留：如是同一笔收款，请作废其中一笔")
    for source in ("sync/merge.py", "store/write/drafts.py"):  # every flag (it names devices) has its id here
        tree = ast.parse((Path(__file__).resolve().parents[3] / source).read_text(encoding="utf-8"))
        ids = {node.args[0].value for node in ast.walk(tree) if isinstance(node, ast.Call)
               and getattr(node.func, "id", None) == "N_" and "device" in node.args[0].value}
        assert ids and ids <= set(STORED_WHOLE), ids - set(STORED_WHOLE)
