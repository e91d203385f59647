"""Recurring invoices (周期性账单): a run issues each occurrence due exactly once (after missed months, twice in a
row, after a crash), bad input is one line and writes nothing, the forecast shows the schedules' invoices on rows of
their own, and the hledger export still balances. The date rule itself: tests/store/rules/test_recurrence.py."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import date
from decimal import Decimal

import pytest

from store.errors import DulyError
from store.ledger.ledger import Ledger
from store.read import recurring as view, reports
from store.rules.recurrence import due_through
from store.write import customers, invoices, recurring
from tests.support.cli import PASSPHRASE, assert_one_line_error, change_count, duly_exe, sha256


# --- the run ---------------------------------------------------------------------------------------------------

@pytest.fixture
def rent(ledger):
    ledger.set_meta("series_prefix", "A7")
    customers.add(ledger, "HD001", "上海恒达贸易")
    schedule_id, number = recurring.add(ledger, "HD001", frequency="monthly", day="last", start="2026-01-31",
                                        amount="8000", description="月租")
    return ledger, number


def _invoices(ledger) -> list[tuple[str, str, int]]:
    return [(r["number"], r["date"], r["total"]) for r in
            ledger.rows("SELECT number, date, total FROM invoices ORDER BY date, number")]


def test_a_catch_up_after_missed_months_issues_what_on_time_runs_would_have(rent):
    ledger, number = rent
    report = recurring.run(ledger, "2026-05-15")
    assert [(i["occurrence"], i["date"], i["invoice"]) for i in report.issued] == [
        (1, "2026-01-31", "R-A7-0001-001"), (2, "2026-02-28", "R-A7-0001-002"), (3, "2026-03-31", "R-A7-0001-003"),
        (4, "2026-04-30", "R-A7-0001-004")]
    assert not report.problems
    recurring.run(ledger, "2026-06-30")
    assert _invoices(ledger)[-2:] == [("R-A7-0001-005", "2026-05-31", 800000), ("R-A7-0001-006", "2026-06-30", 800000)]
    assert view.detail(ledger, number)["next"] == "2026-07-31"


def test_a_second_run_issues_nothing_and_writes_nothing(rent):
    ledger, _ = rent
    assert len(recurring.run(ledger, "2026-03-31").issued) == 3
    changes = ledger.conn.execute("SELECT count(*) FROM changes").fetchone()[0]
    assert recurring.run(ledger, "2026-03-31").issued == []
    assert ledger.conn.execute("SELECT count(*) FROM changes").fetchone()[0] == changes
    assert len(_invoices(ledger)) == 3


def test_issued_invoices_name_their_schedule_and_occurrence(rent):
    ledger, number = rent
    recurring.run(ledger, "2026-02-28")
    shown = view.detail(ledger, number)
    assert [(o["occurrence"], o["date"], o["invoice"]) for o in shown["occurrences"]] == [
        (1, "2026-01-31", "R-A7-0001-001"), (2, "2026-02-28", "R-A7-0001-002")]
    row = ledger.row("SELECT i.description, r.occurrence FROM invoices i "
                     "JOIN recurring_issues r ON r.invoice_id = i.id "
                     "WHERE i.number = 'R-A7-0001-002'")
    assert row == {"description": "月租", "occurrence": 2}
    assert invoices.detail(ledger, "R-A7-0001-002")["recurring"] == {"schedule": number, "occurrence": 2}


def test_an_invoice_issued_from_a_recurring_draft_names_its_schedule(cli):
    _ready(cli)
    assert cli("recurring", "add", "C1", "--frequency", "monthly", "--start", "2026-01-05", "--amount", "100",
               "--draft").code == 0
    [issued] = cli("recurring", "run", "--as-of", "2026-01-31", "--format", "json").json()
    assert cli("draft", "issue", issued["draft"]).code == 0
    shown = cli("invoice", "show", "A7-000001", "--format", "json").json()
    assert (shown["recurring_schedule"], shown["recurring_occurrence"]) == ("R-A7-0001", 1)
    assert cli("recurring", "show", "R-A7-0001", "--format", "json").json()["occurrences"][0]["invoice"] == "A7-000001"


def test_an_exception_between_occurrences_leaves_each_issued_once_or_not_and_a_rerun_completes(rent, monkeypatch):
    ledger, _ = rent
    real, calls = recurring._issue_one, []

    def failing(*args):
        calls.append(args[3])
        if len(calls) == 3:
            raise RuntimeError("power cut")
        return real(*args)

    monkeypatch.setattr(recurring, "_issue_one", failing)
    with pytest.raises(RuntimeError):
        recurring.run(ledger, "2026-06-30")
    assert [n for n, _, _ in _invoices(ledger)] == ["R-A7-0001-001", "R-A7-0001-002"]
    monkeypatch.setattr(recurring, "_issue_one", real)
    assert [i["occurrence"] for i in recurring.run(ledger, "2026-06-30").issued] == [3, 4, 5, 6]
    assert len(_invoices(ledger)) == 6 == ledger.row("SELECT count(*) AS n FROM recurring_issues")["n"]


def test_a_failure_inside_an_occurrence_writes_none_of_it(rent, monkeypatch):
    ledger, _ = rent
    from store.write import invoices

    real = invoices.add

    def breaks_after_posting(*args, **kwargs):
        real(*args, **kwargs)
        raise DulyError("disk trouble")

    monkeypatch.setattr(invoices, "add", breaks_after_posting)
    report = recurring.run(ledger, "2026-03-31")
    assert report.issued == [] and "occurrence 1 (2026-01-31): disk trouble" in report.problems[0]
    for table in ("invoices", "invoice_lines", "due_items", "recurring_issues"):
        assert ledger.row(f"SELECT count(*) AS n FROM {table}")["n"] == 0, table


def test_a_paused_schedule_issues_nothing_and_resuming_skips_the_paused_months(rent):
    ledger, number = rent
    recurring.run(ledger, "2026-01-31")
    recurring.pause(ledger, number)
    assert recurring.run(ledger, "2026-04-30").issued == []
    recurring.resume(ledger, number, "2026-04-15")
    assert [i["date"] for i in recurring.run(ledger, "2026-05-31").issued] == ["2026-04-30", "2026-05-31"]
    recurring.end(ledger, number, "2026-07-15")
    assert [i["date"] for i in recurring.run(ledger, "2026-12-31").issued] == ["2026-06-30"]


def test_draft_mode_issues_drafts_for_review(ledger):
    customers.add(ledger, "C1", "Client")
    recurring.add(ledger, "C1", frequency="weekly", every="2", start="2026-03-02", count="3",
                  lines=["Cleaning:1:600:6%"], mode="draft")
    report = recurring.run(ledger, "2026-12-31")
    assert [i["date"] for i in report.issued] == ["2026-03-02", "2026-03-16", "2026-03-30"]
    assert ledger.row("SELECT count(*) AS n FROM invoices")["n"] == 0
    drafts = ledger.rows("SELECT date, lines FROM drafts ORDER BY date")
    assert [d["date"] for d in drafts] == ["2026-03-02", "2026-03-16", "2026-03-30"]
    assert recurring.run(ledger, "2026-12-31").issued == []
    # waiting for review, they are not owed yet: the forecast counts them on the schedule's rows until issued
    forecast = reports.forecast(ledger, date(2026, 3, 1))
    assert sum(r["amount"] for r in forecast if r["source"] == "recurring") == 3 * 63600
    assert sum(r["amount"] for r in forecast if r["source"] == "open_items") == 0


def test_the_forecast_counts_the_schedules_invoices_apart_from_open_items(rent):
    ledger, _ = rent
    recurring.run(ledger, "2026-04-30")  # four open invoices of 8000.00, due 30 days after each
    rows = reports.forecast(ledger, date(2026, 5, 1))
    by_source: dict[str, int] = {}
    for row in rows:
        by_source[row["source"]] = by_source.get(row["source"], 0) + row["amount"]
    # the 13 weeks end on 2026-07-30: the schedule issues on 05-31 (due 06-30, week 9) and 06-30 (due 07-30, week 13)
    assert by_source == {"open_items": 4 * 800000, "recurring": 2 * 800000}
    recurring_weeks = {r["week"]: r["amount"] for r in rows if r["source"] == "recurring" and r["amount"]}
    assert recurring_weeks == {"9": 800000, "13": 800000}


# --- the command line ----------------------------------------------------------------------------------------

def _ready(cli) -> None:
    assert cli("init", "--series", "A7").code == 0
    assert cli("customer", "add", "C1", "--name", "Client").code == 0


def test_recurring_from_the_command_line(cli):
    _ready(cli)
    out = cli("recurring", "add", "C1", "--frequency", "monthly", "--day", "last", "--start", "2026-01-31",
              "--amount", "8000")
    assert out.code == 0 and "R-A7-0001" in out.out and "monthly on the last day" in out.out
    listed = cli("recurring", "list", "--format", "json").json()
    assert listed[0]["next"] == "2026-01-31" and listed[0]["status"] == "active"
    run = cli("recurring", "run", "--as-of", "2026-03-31", "--format", "json")
    assert [r["invoice"] for r in run.json()] == ["R-A7-0001-001", "R-A7-0001-002", "R-A7-0001-003"]
    again = cli("recurring", "run", "--as-of", "2026-03-31")
    assert again.code == 0 and "nothing due" in again.out
    shown = cli("recurring", "show", "R-A7-0001", "--format", "json").json()
    assert shown["issued"] == 3 and shown["occurrences"][2]["invoice"] == "R-A7-0001-003"
    assert cli("recurring", "pause", "R-A7-0001").code == 0
    assert cli("recurring", "resume", "R-A7-0001", "--from", "2026-06-01").code == 0
    assert "ends on 2026-12-31" in cli("recurring", "end", "R-A7-0001", "--on", "2026-12-31").out
    forecast = cli("report", "forecast", "--as-of", "2026-06-01", "--format", "json").json()
    assert {r["source"] for r in forecast} == {"open_items", "recurring"}


def test_the_command_line_speaks_chinese_when_asked(cli):
    _ready(cli)
    out = cli("recurring", "add", "C1", "--frequency", "monthly", "--start", "2026-01-05", "--amount", "100",
              "--lang", "zh")
    assert out.code == 0 and "周期账单 R-A7-0001 已保存" in out.out, out.out
    assert cli("recurring", "run", "--as-of", "2026-01-31").code == 0
    assert "没有到期的账单" in cli("recurring", "run", "--as-of", "2026-01-31", "--lang", "zh").out
    assert "周期账单 R-A7-0001 已暂停" in cli("recurring", "pause", "R-A7-0001", "--lang", "zh").out


@pytest.mark.parametrize("argv, said", [
    (["--frequency", "monthly", "--day", "32", "--start", "2026-01-01", "--amount", "1"], "day '32'"),
    (["--frequency", "monthly", "--start", "2026-03-01", "--end", "2026-01-01", "--amount", "1"],
     "end 2026-01-01 is before start 2026-03-01"),
    (["--frequency", "monthly", "--start", "2026-03-01", "--amount", "1", "--terms", "NOPE"], "unknown payment terms"),
    (["--frequency", "weekly", "--day", "3", "--start", "2026-03-01", "--amount", "1"], "--day is for monthly"),
    (["--frequency", "monthly", "--start", "2026-02-30", "--amount", "1"], "does not exist"),
    (["--frequency", "weekly", "--every", "0", "--start", "2026-03-01", "--amount", "1"], "every '0'"),
    (["--frequency", "monthly", "--start", "2026-03-01"], "either an amount or"),
    (["--frequency", "monthly", "--start", "2026-03-01", "--amount", "0"], "more than zero"),
    (["--frequency", "monthly", "--start", "2026-03-01", "--amount", "-5"], "must not be negative"),
])
def test_bad_schedules_are_one_line_and_write_nothing(cli, argv, said):
    _ready(cli)
    before = sha256(cli.path), change_count(cli.path)
    result = cli("recurring", "add", "C1", *argv)
    assert_one_line_error(result, 1)
    assert said in result.err, result.err
    assert (sha256(cli.path), change_count(cli.path)) == before


def test_an_unknown_customer_or_schedule_is_one_line(cli):
    _ready(cli)
    result = cli("recurring", "add", "NOPE", "--frequency", "monthly", "--start", "2026-03-01", "--amount", "1")
    assert_one_line_error(result, 1)
    assert "unknown customer 'NOPE'" in result.err
    for argv in (["show", "R-X"], ["pause", "R-X"], ["run", "--schedule", "R-X"]):
        assert_one_line_error(cli("recurring", *argv), 1)


def test_a_run_refused_by_the_credit_limit_says_which_schedule_and_exits_non_zero(cli):
    _ready(cli)
    assert cli("customer", "edit", "C1", "--credit-limit", "10000").code == 0
    assert cli("settings", "set", "credit.enforce", "block").code == 0
    assert cli("recurring", "add", "C1", "--frequency", "monthly", "--start", "2026-01-10",
               "--amount", "4000").code == 0
    result = cli("recurring", "run", "--as-of", "2026-06-30", "--format", "json")
    assert result.code == 1 and [r["occurrence"] for r in result.json()] == [1, 2]
    assert "schedule R-A7-0001 occurrence 3 (2026-03-10)" in result.err and "credit limit" in result.err


def test_kill_9_mid_run_leaves_each_occurrence_whole_or_absent_and_a_rerun_completes(cli, tmp_path):
    _ready(cli)
    # every week since 2000: about 1,400 occurrences, each its own transaction; killed part way through
    assert cli("recurring", "add", "C1", "--frequency", "weekly", "--start", "2000-01-03", "--line",
               "Service:1:100:6%").code == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("DULY_")}
    env.update(DULY_LEDGER=str(cli.path), DULY_PASSPHRASE=PASSPHRASE)
    proc = subprocess.Popen([duly_exe(), "recurring", "run", "--as-of", "2026-11-30"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    issued = 0
    while time.monotonic() < deadline and issued < 50:
        time.sleep(0.2)
        try:
            with Ledger.open(cli.path, PASSPHRASE) as led:
                issued = led.row("SELECT count(*) AS n FROM recurring_issues")["n"]
        except DulyError:
            continue
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with Ledger.open(cli.path, PASSPHRASE) as led:
        _each_occurrence_whole(led)
        done = led.row("SELECT count(*) AS n FROM recurring_issues")["n"]
        expected = len(due_through(view.rule_of(led.row("SELECT * FROM recurring")), date(2026, 11, 30)))
    assert 0 < done < expected
    assert cli("recurring", "run", "--as-of", "2026-11-30").code == 0
    with Ledger.open(cli.path, PASSPHRASE) as led:
        _each_occurrence_whole(led)
        assert led.row("SELECT count(*) AS n FROM recurring_issues")["n"] == expected
        assert [r["occurrence"] for r in led.rows("SELECT occurrence FROM recurring_issues ORDER BY occurrence")] == \
            list(range(1, expected + 1))


def _each_occurrence_whole(led) -> None:
    """Every recorded occurrence has its invoice, one line and one instalment; no invoice without its record."""
    broken = led.rows(
        """SELECT r.occurrence FROM recurring_issues r LEFT JOIN invoices i ON i.id = r.invoice_id
           WHERE i.id IS NULL OR (SELECT count(*) FROM invoice_lines l WHERE l.invoice_id = i.id) <> 1
              OR (SELECT count(*) FROM due_items d WHERE d.invoice_id = i.id) <> 1""")
    assert broken == []
    count = lambda table: led.row(f"SELECT count(*) AS n FROM {table}")["n"]  # noqa: E731
    assert count("invoices") == count("recurring_issues")


def test_the_hledger_export_balances_with_recurring_invoices(cli, tmp_path):
    from tests.support.journals import hledger_balances

    _ready(cli)
    assert cli("recurring", "add", "C1", "--frequency", "quarterly", "--day", "last", "--start", "2026-01-01",
               "--line", "Retainer:1:1000:6%").code == 0
    assert cli("recurring", "run", "--as-of", "2026-12-31").code == 0
    assert cli("payment", "add", "--customer", "C1", "--date", "2026-05-01", "--amount", "1060").code == 0
    journal = tmp_path / "ar.journal"
    assert cli("export", "hledger", journal).code == 0
    balances = hledger_balances(journal, ["Assets:Receivable"])
    assert balances == {("Assets:Receivable:C1", "CNY"): Decimal("3180.00")}  # 4 x 1060.00 less one paid
    with Ledger.open(cli.path, PASSPHRASE) as led:
        aging = reports.aging(led, date(2026, 12, 31))
    assert [(r["customer"], r["total"]) for r in aging.rows] == [("C1", 318000)]
