"""Collections from the command line: the reminder plan on a hand-built book, disputes, promises, the
communications log, contracts, tasks and letters, and what a bad input leaves behind (nothing)."""
from __future__ import annotations

import hashlib

import pytest

from store.write import collections, customers
from store.ledger.ledger import Ledger
from tests.support.cli import PASSPHRASE, assert_one_line_error, change_count


@pytest.fixture
def book(cli):
    """HD (zh, e-mail) with A1..A4, AC (en, no e-mail) with A5 (paid) and A6; as of 2026-03-05 by default
    levels: A1 32 days overdue -> second, A2 4 -> friendly, A3 -3 -> friendly, A4 -4 -> none, A6 94 -> legal."""
    with Ledger.create(cli.path, PASSPHRASE, series="T1") as ledger:
        customers.add(ledger, "HD", "上海恒达贸易有限公司", email="ar@hengda.example.cn", language="zh",
                      phone="+86 21 5555 1234")
        customers.add(ledger, "AC", "Acme Trading Ltd", language="en")
    for number, code, due, amount in [("A1", "HD", "2026-02-01", "1000"), ("A2", "HD", "2026-03-01", "500"),
                                      ("A3", "HD", "2026-03-08", "200"), ("A4", "HD", "2026-03-09", "100"),
                                      ("A5", "AC", "2026-01-01", "300"), ("A6", "AC", "2025-12-01", "800")]:
        assert cli("invoice", "add", "--customer", code, "--date", "2025-11-01", "--amount", amount, "--due", due,
                   "--number", number).code == 0
    assert cli("payment", "add", "--customer", "AC", "--date", "2026-02-01", "--amount", "300",
               "--allocate", "A5=300").code == 0
    return cli


def plan(cli, day: str) -> list[tuple[str, str, int]]:
    result = cli("remind", "plan", "--as-of", day, "--format", "json")
    assert result.code == 0, result.err
    return [(r["number"], r["level"], r["days_overdue"]) for r in result.json()["items"]]


def test_plan_puts_each_invoice_at_its_level(book):
    assert plan(book, "2026-03-05") == [("A6", "legal", 94), ("A1", "second", 32), ("A2", "friendly", 4),
                                        ("A3", "friendly", -3)]
    row = book("remind", "plan", "--as-of", "2026-03-05", "--format", "json").json()["items"][0]
    assert row == {"customer": "AC", "name": "Acme Trading Ltd", "level": "legal", "channel": "legal", "number": "A6",
                   "currency": "CNY", "due_date": "2025-12-01", "days_overdue": 94, "open": "800.00",
                   "asked": "800.00", "disputed": "0.00", "fee": "0.00", "interest": "0.00", "total": "800.00",
                   "email": None}
    assert plan(book, "2026-03-06")[-1] == ("A4", "friendly", -3)  # A4 enters three days before it is due


def test_customer_tagged_hold_is_out_of_the_plan_until_the_tag_goes(book):
    assert book("customer", "edit", "AC", "--tags", "hold,export").code == 0
    assert plan(book, "2026-03-05") == [("A1", "second", 32), ("A2", "friendly", 4), ("A3", "friendly", -3)]
    held = book("remind", "plan", "--as-of", "2026-03-05", "--held", "--format", "json").json()
    assert held == [{"customer": "AC", "number": "A6", "level": "legal", "reason": "customer on hold (tag hold)"}]
    assert book("customer", "edit", "AC", "--tags", "export").code == 0
    assert plan(book, "2026-03-05")[0] == ("A6", "legal", 94)


def test_plan_uses_the_levels_setting_with_fee_and_interest(book):
    assert book("settings", "set", "dunning.levels", "first:1:email:fee=20:interest=10; last:60:phone").code == 0
    items = book("remind", "plan", "--as-of", "2026-03-05", "--format", "json").json()["items"]
    # A1: 1,000.00 × 10% / 365 × 32 = 8.767 -> 8.77; A2: 500 × 10% / 365 × 4 = 0.548 -> 0.55; fee 20 each
    assert [(r["number"], r["level"], r["fee"], r["interest"], r["total"]) for r in items] == [
        ("A6", "last", "0.00", "0.00", "800.00"), ("A1", "first", "20.00", "8.77", "1028.77"),
        ("A2", "first", "20.00", "0.55", "520.55")]
    bad = book("settings", "set", "dunning.levels", "first:1:email; second:1:phone")
    assert_one_line_error(bad, 1, "dunning.levels", "offset 1 must be more than")


def test_dispute_holds_until_review_date_and_resolve_brings_it_back(book):
    opened = book("dispute", "open", "A1", "--reason", "数量不符", "--review", "2026-03-10", "--date", "2026-03-02")
    assert opened.code == 0 and "out of dunning until 2026-03-10" in opened.out
    assert "A1" not in [n for n, _, _ in plan(book, "2026-03-05")]
    held = book("remind", "plan", "--as-of", "2026-03-05", "--held", "--format", "json").json()
    assert held == [{"customer": "HD", "number": "A1", "level": "second",
                     "reason": "disputed until 2026-03-10: 数量不符"}]
    assert ("A1", "second", 37) not in plan(book, "2026-03-10")
    assert ("A1", "second", 38) in plan(book, "2026-03-11")  # review date passed: back in view
    listed = book("dispute", "list", "--as-of", "2026-03-05", "--format", "json").json()
    assert [(d["number"], d["status"], d["holds"], d["amount"]) for d in listed] == [("A1", "open", True, "all")]
    again = book("dispute", "open", "A1", "--reason", "again")
    assert_one_line_error(again, 1, "already has an open dispute")
    assert book("dispute", "resolve", "A1", "--note", "客户确认数量", "--date", "2026-03-06").code == 0
    assert ("A1", "second", 34) in plan(book, "2026-03-07")
    assert ("A1", "second", 32) not in plan(book, "2026-03-05")  # before it was resolved it was still held
    resolved = book("dispute", "list", "--status", "resolved", "--format", "json").json()
    assert [(d["note"], d["resolved_on"]) for d in resolved] == [("客户确认数量", "2026-03-06")]


def test_partial_dispute_leaves_the_rest_in_dunning(book):
    assert book("dispute", "open", "A1", "--amount", "250", "--reason", "one crate damaged",
                "--date", "2026-03-01").code == 0
    (a1,) = [r for r in book("remind", "plan", "--as-of", "2026-03-05", "--format", "json").json()["items"]
             if r["number"] == "A1"]
    assert (a1["open"], a1["disputed"], a1["asked"]) == ("1000.00", "250.00", "750.00")
    too_much = book("dispute", "open", "A2", "--amount", "500.01", "--reason", "x")
    assert_one_line_error(too_much, 1, "amount 500.01", "at most", "500.00")


def test_promise_kept_or_broken_from_payments_and_broken_one_alerts(book):
    assert book("promise", "add", "A6", "--date", "2026-03-10", "--amount", "300", "--made-on", "2026-03-05").code == 0
    assert book("promise", "add", "A2", "--date", "2026-03-10", "--amount", "500", "--made-on", "2026-03-05").code == 0
    assert "A6" not in [n for n, _, _ in plan(book, "2026-03-06")]  # held by the promise
    assert book("payment", "add", "--customer", "AC", "--date", "2026-03-08", "--amount", "200",
                "--allocate", "A6=200").code == 0
    assert book("payment", "add", "--customer", "HD", "--date", "2026-03-09", "--amount", "500",
                "--allocate", "A2=500").code == 0
    status = {r["number"]: (r["status"], r["paid"]) for r in
              book("promise", "list", "--as-of", "2026-03-10", "--format", "json").json()}
    assert status == {"A6": ("pending", "200.00"), "A2": ("kept", "500.00")}
    later = book("promise", "list", "--as-of", "2026-03-11", "--format", "json").json()
    status = {r["number"]: r["status"] for r in later}
    assert status == {"A6": "broken", "A2": "kept"}
    assert ("A6", "legal", 100) in plan(book, "2026-03-11")  # the broken promise no longer holds it
    alerts = book("report", "alerts", "--as-of", "2026-03-11", "--format", "json").json()["alerts"]
    assert {"customer": "AC", "name": "Acme Trading Ltd", "kind": "promise",
            "reason": "promise made 2026-03-05 to pay 300.00 CNY of invoice A6 by 2026-03-10 was broken "
                      "(200.00 CNY paid by then)"} in alerts
    assert not [a for a in alerts if a["kind"] == "promise" and a["customer"] == "HD"]


def test_notes_due_today_until_the_follow_up_is_logged(book):
    assert book("note", "add", "HD", "--channel", "phone", "--text", "王经理答应月底付款", "--next", "2026-03-31",
                "--date", "2026-03-05").code == 0
    assert book("note", "add", "AC", "--channel", "visit", "--text", "met CFO", "--date", "2026-03-06").code == 0
    assert book("note", "list", "--due", "2026-03-30", "--format", "json").json() == []
    due = book("note", "list", "--due", "2026-03-31", "--format", "json").json()
    assert [(n["customer"], n["text"]) for n in due] == [("HD", "王经理答应月底付款")]
    assert book("note", "add", "HD", "--channel", "phone", "--text", "已付一半", "--date", "2026-03-31").code == 0
    assert book("note", "list", "--due", "2026-03-31", "--format", "json").json() == []
    assert [n["text"] for n in book("note", "list", "HD", "--format", "json").json()] == ["已付一半", "王经理答应月底付款"]
    bad = book("note", "add", "HD", "--channel", "phone", "--text", "x", "--next", "2026-02-30")
    assert_one_line_error(bad, 1, "--next", "does not exist")


def test_contract_file_recorded_by_path_and_hash_and_checked(book, tmp_path):
    pdf = tmp_path / "合同 HD-2026.pdf"
    pdf.write_bytes(b"%PDF-1.4 contract body")
    added = book("contract", "add", "HD", "--number", "HT-2026-01", "--signed", "2026-01-05", "--terms", "EOM30",
                 "--credit-limit", "50000", "--file", pdf)
    assert added.code == 0, added.err
    (row,) = book("contract", "list", "HD", "--format", "json").json()
    assert (row["number"], row["credit_limit"], row["file_path"], row["file_sha256"], row["file_check"]) == (
        "HT-2026-01", "50000.00", str(pdf), hashlib.sha256(b"%PDF-1.4 contract body").hexdigest(), "ok")
    pdf.write_bytes(b"%PDF-1.4 altered")
    assert book("contract", "list", "--format", "json").json()[0]["file_check"] == "changed"
    pdf.unlink()
    assert book("contract", "list", "--format", "json").json()[0]["file_check"] == "missing"
    before = change_count(book.path)
    assert_one_line_error(book("contract", "add", "HD", "--number", "HT-2026-01", "--signed", "2026-01-05"), 1,
                          "already has a contract HT-2026-01")
    assert_one_line_error(book("contract", "add", "HD", "--number", "HT-2", "--signed", "2026-01-05",
                               "--file", tmp_path / "nope.pdf"), 1, "no such file")
    assert change_count(book.path) == before


def test_contract_attach_records_a_new_file_and_keeps_the_one_before_in_its_history(book, tmp_path):
    first, second = tmp_path / "HT-1.pdf", tmp_path / "HT-1 补充协议.pdf"
    first.write_bytes(b"%PDF-1.4 first")
    second.write_bytes(b"%PDF-1.4 amended")
    assert book("contract", "add", "HD", "--number", "HT-1", "--signed", "2026-01-05").code == 0
    (row,) = book("contract", "list", "HD", "--format", "json").json()
    assert (row["file_path"], row["file_check"]) == (None, "none")
    for scan in (first, second):
        done = book("contract", "attach", "HD", "HT-1", "--file", scan)
        assert done.code == 0, done.err
        assert hashlib.sha256(scan.read_bytes()).hexdigest() in done.out
    (row,) = book("contract", "list", "HD", "--format", "json").json()
    assert (row["file_path"], row["file_sha256"], row["file_check"]) == (
        str(second), hashlib.sha256(b"%PDF-1.4 amended").hexdigest(), "ok")
    with Ledger.open(book.path, PASSPHRASE) as ledger:
        files = collections.contract(ledger, "HD", "HT-1")["files"]
    assert [f["file_path"] for f in files] == [str(first), str(second)]
    before = change_count(book.path)
    assert_one_line_error(book("contract", "attach", "HD", "HT-2", "--file", first), 1, "has no contract HT-2")
    assert_one_line_error(book("contract", "attach", "HD", "HT-1", "--file", tmp_path / "nope.pdf"), 1,
                          "no such file")
    assert change_count(book.path) == before


def test_a_contract_ended_early_stands_ended_after_its_last_day_and_is_not_ended_twice(book):
    assert book("contract", "add", "HD", "--number", "HT-1", "--signed", "2026-01-05", "--start", "2026-02-01",
                "--end", "2026-12-31", "--terms", "EOM30", "--credit-limit", "50000").code == 0
    before = change_count(book.path)
    for argv, words in ((("--on", "2026-01-31"), ("starts on 2026-02-01", "before it starts")),
                        (("--on", "2027-01-01"), ("runs until 2026-12-31", "not on 2027-01-01")),
                        (("--on", "2026-02-30"), ("--on", "does not exist"))):
        assert_one_line_error(book("contract", "end", "HD", "HT-1", *argv), 1, *words)
    assert_one_line_error(book("contract", "end", "HD", "HT-9", "--on", "2026-06-30"), 1, "has no contract HT-9")
    assert change_count(book.path) == before  # nothing written by a refused end
    done = book("contract", "end", "HD", "HT-1", "--on", "2026-06-30", "--reason", "客户停业")
    assert done.code == 0, done.err
    assert done.out.strip() == ("contract HT-1 of HD ended: its last day is 2026-06-30; its terms and credit limit "
                                "apply no longer after it")
    assert change_count(book.path) == before + 1  # one transaction in the change log
    with Ledger.open(book.path, PASSPHRASE) as ledger:
        ops = ledger.conn.execute("SELECT ops FROM changes ORDER BY seq DESC LIMIT 1").fetchone()[0]
    assert '"t":"contracts"' in ops and '"ended"' in ops and "客户停业" in ops
    for day, status in (("2026-01-15", "pending"), ("2026-06-30", "in_force"), ("2026-07-01", "ended")):
        (row,) = book("contract", "list", "HD", "--as-of", day, "--format", "json").json()
        assert (row["status"], row["ended_on"], row["end_reason"], row["end_date"], row["credit_limit"]) == (
            status, "2026-06-30", "客户停业", "2026-12-31", "50000.00"), day
    assert_one_line_error(book("contract", "end", "HD", "HT-1", "--on", "2026-05-31"), 1,
                          "already ended (its last day: 2026-06-30)")
    assert_one_line_error(book("contract", "cancel", "HD", "HT-1", "--reason", "x"), 1, "already ended")
    assert change_count(book.path) == before + 1


def test_a_cancelled_contract_never_applied_and_needs_a_reason(book):
    assert book("contract", "add", "HD", "--number", "HT-2", "--signed", "2026-01-05", "--end", "2026-03-31").code == 0
    before = change_count(book.path)
    assert book("contract", "cancel", "HD", "HT-2").code == 2  # --reason is required
    assert_one_line_error(book("contract", "cancel", "HD", "HT-2", "--reason", "  "), 1, "--reason", "empty")
    assert_one_line_error(book("contract", "cancel", "HD", "HT-2", "--reason", "x", "--date", "2026-04-31"), 1,
                          "--date", "does not exist")
    assert change_count(book.path) == before
    done = book("contract", "cancel", "HD", "HT-2", "--reason", "签错了", "--date", "2026-02-01")
    assert done.code == 0, done.err
    assert done.out.strip() == "contract HT-2 of HD cancelled on 2026-02-01: it never applied"
    for day in ("2026-01-10", "2026-03-01", "2026-05-01"):  # never in force, on any day
        (row,) = book("contract", "list", "HD", "--as-of", day, "--format", "json").json()
        assert (row["status"], row["ended_on"], row["end_reason"], row["last_day"]) == (
            "cancelled", "2026-02-01", "签错了", None)
    assert_one_line_error(book("contract", "end", "HD", "HT-2", "--on", "2026-02-01"), 1,
                          "already cancelled (on 2026-02-01)")


def test_contracts_end_and_cancel_in_chinese(book):
    for number in ("HT-1", "HT-2"):
        assert book("contract", "add", "HD", "--number", number, "--signed", "2026-01-05", "--end",
                    "2026-12-31").code == 0
    ended = book("--lang", "zh", "contract", "end", "HD", "HT-1", "--on", "2026-06-30")
    assert ended.out.strip() == "HD 的合同 HT-1 已提前终止：最后一天为 2026-06-30；此后其账期和信用额度不再适用"
    cancelled = book("--lang", "zh", "contract", "cancel", "HD", "HT-2", "--reason", "作废重签", "--date", "2026-02-01")
    assert cancelled.out.strip() == "HD 的合同 HT-2 已于 2026-02-01 作废：视为从未生效"
    assert_one_line_error(book("--lang", "zh", "contract", "end", "HD", "HT-1", "--on", "2026-05-01"), 1,
                          "HD 的合同 HT-1 已终止（最后一天：2026-06-30）")
    assert_one_line_error(book("--lang", "zh", "contract", "cancel", "HD", "HT-2", "--reason", "x"), 1,
                          "HD 的合同 HT-2 已于 2026-02-01 作废")
    listed = book("--lang", "zh", "contract", "list", "HD", "--as-of", "2026-07-01")
    assert listed.code == 0, listed.err
    assert "状态" in listed.out and "已终止" in listed.out and "已作废" in listed.out and "终止原因" in listed.out
    assert "生效中" in book("--lang", "zh", "contract", "list", "HD", "--as-of", "2026-03-01").out


def test_bad_dispute_and_promise_write_nothing(book):
    before = change_count(book.path)
    assert_one_line_error(book("dispute", "open", "NOPE", "--reason", "x"), 1, "unknown invoice 'NOPE'")
    assert_one_line_error(book("dispute", "open", "A5", "--reason", "x"), 1, "nothing open")
    assert_one_line_error(book("dispute", "open", "A1", "--reason", "x", "--date", "2026-03-05",
                               "--review", "2026-03-01"), 1, "review date 2026-03-01 is before")
    assert_one_line_error(book("promise", "add", "A1", "--date", "2026-03-01", "--amount", "1",
                               "--made-on", "2026-03-05"), 1, "on or after it was made")
    assert_one_line_error(book("promise", "add", "A1", "--date", "2026-03-10", "--amount", "1000.001",
                               "--made-on", "2026-03-05"), 1,
                          "more than 2 decimal places")
    assert_one_line_error(book("dispute", "resolve", "A2", "--note", "x"), 1, "no dispute 'A2'")
    assert change_count(book.path) == before


def test_tasks_and_letters_are_made_once_and_logged(book, tmp_path):
    letters = tmp_path / "letters"
    assert book("settings", "set", "dunning.levels", "call:30:phone; final:60:letter:interest=12").code == 0
    # as of 2026-03-05: A6 94 days -> final (letter); A1 32 days -> call (phone task)
    first = book("remind", "send", "--as-of", "2026-03-05", "--letters", letters, "--format", "json")
    assert first.code == 0, first.err
    assert [(o["customer"], o["channel"], o["invoices"], o["status"], o["detail"]) for o in first.json()] == [
        ("AC", "letter", "A6", "letter", str(letters / "AC-2026-03-05.txt")),
        ("HD", "phone", "A1", "task", "+86 21 5555 1234")]  # the task says whom to call
    assert "plaintext" in first.err
    text = (letters / "AC-2026-03-05.txt").read_text(encoding="utf-8")
    # English customer; interest 800.00 × 12% / 365 × 94 = 24.72
    assert "Final notice" in text and "A6 | 2025-11-01 | 2025-12-01 | 94 | 800.00 | 0.00 | 24.72 | 824.72 CNY" in text
    second = book("remind", "send", "--as-of", "2026-03-06", "--letters", letters, "--format", "json")
    assert second.code == 0 and second.json() == []
    log = book("remind", "log", "HD", "--format", "json").json()
    assert [(r["number"], r["level"], r["outcome"]) for r in log] == [("A1", "call", "task")]
    notes = book("note", "list", "AC", "--format", "json").json()
    assert [n["text"] for n in notes] == ["reminder (final) letter written: A6"]


def test_a_letter_that_cannot_be_written_is_failed_and_made_on_the_next_run(book, tmp_path):
    assert book("settings", "set", "dunning.levels", "final:60:letter").code == 0
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    first = book("remind", "send", "--as-of", "2026-03-05", "--letters", blocker, "--format", "json")
    assert first.code == 1 and "Traceback" not in first.err and "internal error" not in first.err, first.err
    assert [(o["customer"], o["invoices"], o["status"]) for o in first.json()] == [("AC", "A6", "failed")]
    assert f"cannot write a letter into {blocker}" in first.json()[0]["detail"]
    # nothing was made, so the level is not spent: the next run writes the letter
    letters = tmp_path / "letters"
    second = book("remind", "send", "--as-of", "2026-03-05", "--letters", letters, "--format", "json")
    assert second.code == 0, second.err
    assert [(o["customer"], o["invoices"], o["status"]) for o in second.json()] == [("AC", "A6", "letter")]
    assert sorted(p.name for p in letters.iterdir()) == ["AC-2026-03-05.txt"]


def test_a_letter_is_0600_and_carries_names_without_control_characters(book, tmp_path):
    """Issue 16: a letter is a plaintext export (0600, like the others), and a customer's or the company's name
    from a person or a file reaches it with its control characters as visible escapes, never raw."""
    with Ledger.open(book.path, PASSPHRASE) as led:
        customers.edit(led, "AC", name="Acme\x1b]0;owned\x07\x1b[2J Ltd\x9b31m")
        # `settings set company.name` refuses control characters now; an older Duly's value arrives as it was
        with led.writing() as tx:
            tx.set("settings", "company.name", value="Our\x1b[5m Co")
    assert book("settings", "set", "company.name", "Our\x1b[5m Co").code == 1
    assert book("settings", "set", "dunning.levels", "final:60:letter").code == 0
    letters = tmp_path / "letters"
    sent = book("remind", "send", "--as-of", "2026-03-05", "--letters", letters, "--format", "json")
    assert sent.code == 0, sent.err
    letter = letters / "AC-2026-03-05.txt"
    assert letter.stat().st_mode & 0o777 == 0o600
    text = letter.read_text(encoding="utf-8")
    assert not [c for c in text if c != "\n" and (ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f)]
    assert text.startswith("Acme\\x1b]0;owned\\x07\\x1b[2J Ltd\\x9b31m\n2026-03-05\n")
    assert "Our\\x1b[5m Co" in text and "A6 | 2025-11-01 | 2025-12-01 | 94 | 800.00" in text
    assert [p.name for p in letters.iterdir()] == [letter.name]  # no .part left beside it


def test_the_customers_agreed_late_interest_rate_governs_the_reminders_interest(book):
    """`terms add … --late-interest 24%` is the rate the customer agreed: the final level's letter charges 24%,
    not the level's 12%; an invoice on terms without a rate keeps the level's 12%."""
    assert book("terms", "add", "月结30逾期24", "--line", "100%:days_after_end_of_month:30",
                "--late-interest", "24%").code == 0
    for number, terms in (("R24", "月结30逾期24"), ("R12", "NET30")):
        assert book("invoice", "add", "--customer", "HD", "--date", "2025-12-01", "--amount", "1000",
                    "--terms", terms, "--number", number).code == 0
    # R24: due 2025-12-31 + 30 = 2026-01-30; R12: due 2025-12-31. On 2026-03-31: 60 and 90 days overdue.
    items = {r["number"]: r for r in book("remind", "plan", "--as-of", "2026-03-31", "--format", "json").json()["items"]}
    assert (items["R24"]["level"], items["R24"]["days_overdue"]) == ("final", 60)
    assert items["R24"]["interest"] == "39.45"  # 1,000.00 × 24% / 365 × 60 = 39.452…
    # the same letter on an invoice whose terms set no rate: the level's 12%
    items = {r["number"]: r for r in book("remind", "plan", "--as-of", "2026-03-01", "--format", "json").json()["items"]}
    assert (items["R12"]["level"], items["R12"]["interest"]) == ("final", "19.73")  # × 12% / 365 × 60 = 19.726…
    # a level without interest charges none, whatever the terms say
    items = {r["number"]: r for r in book("remind", "plan", "--as-of", "2026-04-30", "--format", "json").json()["items"]}
    assert (items["R24"]["level"], items["R24"]["interest"]) == ("legal", "0.00")


def test_a_sent_reminders_fee_and_interest_are_posted_once_as_a_debit_note(cli, tmp_path):
    """With dunning.post_charges on, the letter of the final level (interest 12%) posts what it announced as a
    debit note numbered after the invoice and level; it is open in aging; sending again or a second device
    posting the same charge adds nothing; a credit note against it reverses it."""
    from datetime import date

    from store.read import reports
    from store.write import collections

    with Ledger.create(cli.path, PASSPHRASE, series="T1") as ledger:
        customers.add(ledger, "AC", "Acme Trading Ltd", language="en")
    assert cli("invoice", "add", "--customer", "AC", "--date", "2025-11-01", "--amount", "800", "--due", "2025-12-01",
               "--number", "A6").code == 0
    assert cli("settings", "set", "dunning.post_charges", "true").code == 0
    letters = tmp_path / "letters"
    letters.mkdir()
    sent = cli("remind", "send", "--as-of", "2026-02-01", "--letters", str(letters))
    assert sent.code == 0, sent.err
    # 62 days overdue at the final level: 800.00 × 12% / 365 × 62 = 16.306… -> 16.31, no fee
    [note] = cli("debit", "list", "--format", "json").json()
    assert (note["number"], note["amount"], note["open"]) == ("DN-A6-final", "16.31", "16.31")
    with Ledger.open(cli.path, PASSPHRASE) as ledger:
        assert reports.aging(ledger, date(2026, 2, 1)).totals["CNY"]["total"] == 816_31
    assert cli("remind", "send", "--as-of", "2026-02-02", "--letters", str(letters)).code == 0
    assert len(cli("debit", "list", "--format", "json").json()) == 1  # the level went once, and so did its charge
    with Ledger.open(cli.path, PASSPHRASE) as ledger:  # another device recording the same reminder: nothing more
        plan_item = collections.reminder_plan(ledger, date(2026, 2, 1))
        assert plan_item.plan.items == []  # already sent
        assert ledger.row("SELECT count(*) AS n FROM invoices WHERE number = 'DN-A6-final'")["n"] == 1
    assert cli("credit", "add", "--customer", "AC", "--date", "2026-02-03", "--amount", "16.31",
               "--invoice", "DN-A6-final", "--reason", "fee waived").code == 0
    assert cli("debit", "list", "--format", "json").json()[0]["open"] == "0.00"


def test_without_the_setting_a_reminder_posts_no_charge(cli, tmp_path):
    with Ledger.create(cli.path, PASSPHRASE, series="T1") as ledger:
        customers.add(ledger, "AC", "Acme Trading Ltd", language="en")
    assert cli("invoice", "add", "--customer", "AC", "--date", "2025-11-01", "--amount", "800", "--due", "2025-12-01",
               "--number", "A6").code == 0
    assert cli("remind", "send", "--as-of", "2026-02-01", "--letters", str(tmp_path)).code == 0
    assert cli("debit", "list", "--format", "json").json() == []
