"""`duly terms|invoice|payment|credit|writeoff` end to end through tui.cli.main."""
from __future__ import annotations

import json
from decimal import Decimal
import os
import subprocess
import sys

import pytest

from store.write import customers
from store.ledger.ledger import Ledger
from tui.cli.main import main


@pytest.fixture
def book(tmp_path, monkeypatch):
    path = tmp_path / "l.duly"
    with Ledger.create(path, "pw", series="A7") as ledger:
        customers.add(ledger, "HD001", "上海恒达贸易有限公司", terms="EOM30", credit_limit="20000")
    monkeypatch.setenv("DULY_LEDGER", str(path))
    monkeypatch.setenv("DULY_PASSPHRASE", "pw")
    return path


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv):
    code, out, err = run(capsys, *argv, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def changes(path) -> int:
    with Ledger.open(path, "pw") as ledger:
        return ledger.row("SELECT count(*) AS n FROM changes")["n"]


def test_terms_add_list_preview(book, capsys):
    code, out, _ = run(capsys, "terms", "add", "定金30", "--line", "30%:days_after:0",
                       "--line", "balance:days_after_end_of_month:30", "--discount", "2/10", "--late-interest", "12%")
    assert code == 0 and "balance 30 days after end of month" in out  # in the reader's language (English here)
    code, out, _ = run(capsys, "--lang", "zh", "terms", "preview", "定金30", "--date", "2026-01-31", "--amount", "100")
    assert code == 0 and "余款 月结30天" in out and "balance" not in out
    listed = run_json(capsys, "terms", "list")
    mine = [t for t in listed if t["name"] == "定金30"]
    assert mine == [{"name": "定金30", "zh_name": "", "source": "stored",
                     "en": "30% due on invoice date, balance 30 days after end of month, "
                           "2% discount if paid within 10 days, late interest 12% a year",
                     "zh": "30% 开票当日，余款 月结30天，10天内付款折扣2%，逾期年息12%"}]
    assert {t["name"] for t in listed} >= {"NET30", "EOM30", "30/70"}
    # 2026-01-15: 30% now; the rest 2026-01-31 + 30 days = 2026-03-02
    preview = run_json(capsys, "terms", "preview", "定金30", "--date", "2026-01-15", "--amount", "1000.01")
    assert preview["due_items"] == [{"seq": 1, "due_date": "2026-01-15", "amount": "300.00"},
                                    {"seq": 2, "due_date": "2026-03-02", "amount": "700.01"}]
    code, _, err = run(capsys, "terms", "add", "EOM30", "--line", "100%:days_after:1")
    assert code == 1 and "built-in" in err and err.count("\n") == 1


def test_invoice_payment_credit_writeoff_tour(book, capsys):
    issued = run_json(capsys, "invoice", "add", "--customer", "HD001", "--date", "2026-01-15",
                      "--line", "咨询服务:10:1500.00:6%", "--einvoice", "26312000000012345678")
    # 10 × 1500 = 15000.00; 6% tax = 900.00; EOM30: due 2026-03-02
    assert issued["number"] == "A7-000001"
    assert (issued["total"], issued["tax"]) == ("15900.00", "900.00")
    assert issued["due_items"] == [{"due_date": "2026-03-02", "amount": "15900.00"}]
    run_json(capsys, "invoice", "add", "--customer", "HD001", "--date", "2026-01-20", "--amount", "3000",
             "--terms", "30/70")
    paid = run_json(capsys, "payment", "add", "--customer", "HD001", "--date", "2026-03-01", "--amount", "8000",
                    "--method", "银行转账", "--reference", "20260301-88")
    # oldest due first: A7-000002's 900.00 due 01-20, then 7100.00 of A7-000001 due 03-02
    assert paid["allocations"] == [{"invoice": "A7-000002", "amount": "900.00"},
                                   {"invoice": "A7-000001", "amount": "7100.00"}]
    assert paid["unapplied"] == "0.00"
    credit = run_json(capsys, "credit", "add", "--customer", "HD001", "--date", "2026-03-05", "--amount", "500",
                      "--invoice", "A7-000001", "--reason", "价格折让")
    assert credit["number"] == "CN-A7-000001" and credit["unapplied"] == "0.00"
    code, out, err = run(capsys, "writeoff", "A7-000001", "--date", "2026-12-31", "--reason", "bad debt",
                         "--amount", "8300.01")
    assert code == 1 and "more than invoice A7-000001's open amount 8,300.00 CNY" in err
    off = run_json(capsys, "writeoff", "A7-000001", "--date", "2026-12-31", "--reason", "bad debt")
    assert off["amount"] == "8300.00"  # 15900 - 7100 - 500

    listed = run_json(capsys, "invoice", "list", "--customer", "HD001")
    assert [(r["number"], r["total"], r["open"], r["status"]) for r in listed] == [
        ("A7-000002", "3000.00", "2100.00", "open"), ("A7-000001", "15900.00", "0.00", "written_off")]
    assert run_json(capsys, "invoice", "list", "--open", "--as-of", "2026-03-04")[1]["open"] == "8800.00"
    overdue = run_json(capsys, "invoice", "list", "--overdue", "--as-of", "2026-03-10")
    assert [r["number"] for r in overdue] == ["A7-000001"]

    shown = run_json(capsys, "invoice", "show", "A7-000002")
    assert shown["open"] == "2100.00" and shown["terms"] == "30/70"
    assert shown["due_items"] == [{"seq": 1, "due_date": "2026-01-20", "amount": "900.00", "open": "0.00"},
                                  {"seq": 2, "due_date": "2026-03-21", "amount": "2100.00", "open": "2100.00"}]
    shown = run_json(capsys, "invoice", "show", "A7-000001")
    assert [c["number"] for c in shown["credit_notes"]] == ["CN-A7-000001"]
    assert [w["amount"] for w in shown["writeoffs"]] == ["8300.00"]
    assert shown["lines"][0]["qty"] == "10" and shown["lines"][0]["tax_rate"] == "6%"
    code, out, _ = run(capsys, "invoice", "show", "A7-000001")
    assert code == 0 and "15,900.00" in out and "咨询服务" in out


def test_bad_input_is_one_line_exit_1_and_writes_nothing(book, capsys):
    run_json(capsys, "invoice", "add", "--customer", "HD001", "--date", "2026-01-15", "--amount", "100")
    before = changes(book)
    for argv, words in [
        (("invoice", "add", "--customer", "HD001", "--date", "2026-01-15", "--amount", "10.005"),
         "more than 2 decimal places"),
        (("invoice", "add", "--customer", "HD001", "--date", "2026-01-15", "--amount", "1", "--number",
          "A7-000001"), "already used"),
        (("invoice", "add", "--customer", "NOPE", "--date", "2026-01-15", "--amount", "1"), "unknown customer"),
        (("invoice", "add", "--customer", "HD001", "--date", "2026-13-01", "--amount", "1"), "does not exist"),
        (("invoice", "add", "--customer", "HD001", "--date", "2026-01-15", "--amount", "1", "--einvoice", "123"),
         "20 digits"),
        (("payment", "add", "--customer", "HD001", "--date", "2026-02-01", "--amount", "500",
          "--allocate", "A7-000001=100.01"), "more than its open amount 100.00 CNY"),
        (("payment", "add", "--customer", "HD001", "--date", "2026-02-01", "--amount", "50",
          "--allocate", "A7-000001=60"), "more than the payment of 50.00 CNY"),
        (("payment", "add", "--customer", "HD001", "--date", "2026-02-01", "--amount", "5", "--method", "cheque"),
         "payment method"),
    ]:
        code, out, err = run(capsys, *argv)
        assert code == 1, argv
        assert words in err and err.startswith("duly: ") and err.count("\n") == 1, err
    code, _, err = run(capsys, "invoice", "add", "--customer", "HD001", "--date", "2026-01-15", "--amount", "1",
                       "--line", "x:1:1")
    assert code == 2
    assert changes(book) == before


def test_credit_limit_warns_then_blocks(book, capsys):
    code, out, err = run(capsys, "invoice", "add", "--customer", "HD001", "--date", "2026-01-15", "--amount", "20000.01")
    assert code == 0 and "A7-000001" in out
    assert "warning: credit limit of HD001 is 20,000.00 CNY" in err and "exceeds it by 0.01 CNY" in err
    assert run(capsys, "settings", "set", "credit.enforce", "block")[0] == 0
    code, out, err = run(capsys, "invoice", "add", "--customer", "HD001", "--date", "2026-01-16", "--amount", "1")
    assert code == 1 and "balance 20,000.01 CNY + this invoice 1.00 CNY exceeds it by 1.01 CNY" in err
    assert [r["number"] for r in run_json(capsys, "invoice", "list")] == ["A7-000001"]


def test_allocate_later_then_void_payment_then_void_invoice(book, capsys):
    run_json(capsys, "invoice", "add", "--customer", "HD001", "--date", "2026-01-15", "--amount", "1000")
    paid = run_json(capsys, "payment", "add", "--customer", "HD001", "--date", "2026-01-20", "--amount", "400",
                    "--no-allocate", "--method", "wechat")
    assert paid["allocations"] == [] and paid["unapplied"] == "400.00"
    done = run_json(capsys, "payment", "allocate", paid["id"], "A7-000001=250", "--date", "2026-01-25")
    assert done[0]["allocations"] == [{"invoice": "A7-000001", "amount": "250.00"}]
    assert done[0]["unapplied"] == "150.00"
    done = run_json(capsys, "payment", "allocate", "--customer", "HD001", "--date", "2026-01-26")
    assert done[0]["allocations"] == [{"invoice": "A7-000001", "amount": "150.00"}]
    listed = run_json(capsys, "payment", "list", "--customer", "HD001")
    assert [(p["method"], p["applied"], p["unapplied"], p["status"]) for p in listed] == [
        ("wechat", "400.00", "0.00", "applied")]
    code, _, err = run(capsys, "invoice", "void", "A7-000001", "--reason", "wrong", "--date", "2026-02-01")
    assert code == 1 and "400.00 CNY of payments or credits applied" in err
    code, out, _ = run(capsys, "payment", "void", paid["id"], "--reason", "bounced", "--date", "2026-02-01")
    assert code == 0 and "reopened A7-000001 400.00" in out
    assert run(capsys, "invoice", "void", "A7-000001", "--reason", "wrong", "--date", "2026-02-01")[0] == 0
    rows = run_json(capsys, "invoice", "list")
    assert [(r["open"], r["status"]) for r in rows] == [("0.00", "voided")]
    # the day before the void the payment still counted: 1000 - 400
    assert run_json(capsys, "invoice", "list", "--as-of", "2026-01-31")[0]["open"] == "600.00"


def test_cli_as_a_process_with_global_options_after_the_subcommand(book):
    env = {**os.environ, "DULY_LEDGER": "", "DULY_PASSPHRASE": "pw"}
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli.main", "invoice", "add", "--customer", "HD001", "--date", "2026-01-15",
         "--amount", "99.50", "--ledger", str(book), "--format", "json"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["total"] == "99.50"


def test_credited_invoice_is_unapplied_then_voided_and_the_credit_stays_with_the_customer(book, capsys):
    run_json(capsys, "invoice", "add", "--customer", "HD001", "--date", "2026-03-02", "--amount", "800")
    run_json(capsys, "invoice", "add", "--customer", "HD001", "--date", "2026-03-05", "--amount", "500")
    run_json(capsys, "credit", "add", "--customer", "HD001", "--date", "2026-03-10", "--amount", "300",
             "--invoice", "A7-000001", "--reason", "price")
    run_json(capsys, "payment", "add", "--customer", "HD001", "--date", "2026-03-12", "--amount", "200",
             "--allocate", "A7-000001=200")
    code, _, err = run(capsys, "invoice", "void", "A7-000001", "--reason", "issued in error", "--date", "2026-03-20")
    assert code == 1 and "duly invoice unapply A7-000001" in err
    code, _, err = run(capsys, "invoice", "unapply", "A7-000001", "--date", "2026-03-11")
    assert code == 1 and "before the last allocation" in err and "2026-03-12" in err
    undone = run_json(capsys, "invoice", "unapply", "A7-000001", "--date", "2026-03-20")
    assert sorted((u["source"], u["amount"]) for u in undone["unapplied"]) == [("credit", "300.00"),
                                                                            ("payment", "200.00")]
    assert run(capsys, "invoice", "void", "A7-000001", "--reason", "issued in error", "--date", "2026-03-20")[0] == 0
    # the customer now owes 500 on A7-000002 and holds 500 of unapplied cash and credit: balance 0
    aging = run_json(capsys, "report", "aging", "--as-of", "2026-03-20")
    row = aging["rows"][0]
    assert (row["total"], row["unapplied"]) == ("0.00", "-500.00")
    # before the unapply, the old picture holds: 800 - 300 - 200 open on A7-000001
    assert run_json(capsys, "invoice", "list", "--as-of", "2026-03-19")[1]["open"] == "300.00"
    # the freed money pays the other invoice
    done = run_json(capsys, "payment", "allocate", "--customer", "HD001", "--date", "2026-03-21")
    assert sum(Decimal(a["amount"]) for d in done for a in d["allocations"]) == Decimal("500.00")
    assert [(r["number"], r["status"]) for r in run_json(capsys, "invoice", "list")] == [
        ("A7-000002", "paid"), ("A7-000001", "voided")]


def test_a_written_off_invoice_says_so(book, capsys):
    run_json(capsys, "invoice", "add", "--customer", "HD001", "--date", "2025-01-10", "--amount", "900")
    run_json(capsys, "payment", "add", "--customer", "HD001", "--date", "2025-02-10", "--amount", "100")
    assert run(capsys, "writeoff", "A7-000001", "--date", "2026-01-10", "--reason", "bankrupt")[0] == 0
    assert [(r["open"], r["status"]) for r in run_json(capsys, "invoice", "list")] == [("0.00", "written_off")]
    assert run_json(capsys, "invoice", "list", "--as-of", "2025-12-31")[0]["status"] == "open"
    assert run_json(capsys, "invoice", "show", "A7-000001")["status"] == "written_off"
