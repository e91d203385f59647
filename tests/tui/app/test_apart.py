"""A bulk job the app hands to a Duly process of its own (tui.app.apart): it runs there without SQLCipher's memory
wiping, writes what it would have written on the app's database thread, reports its progress as it goes, and
comes back with the same result or the same error, worded in the reader's language; a child that dies mid-write
leaves the ledger as it was."""
from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from store.errors import DulyError, InvalidInput
from store.files.importer import ImportProblems
from store.ledger import changes
from store.ledger.ledger import Ledger
from tests.support.book import PASSPHRASE
from tui.app.apart import on_ledger, run_apart
from tui.app.jobs import import_file

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def tests_importable(monkeypatch):
    """The probes below are this module's functions: the child finds them as the tests do."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))))


def where_it_ran(ledger) -> tuple[int, int, int]:
    import sqlcipher3

    wiping = sqlcipher3.connect(":memory:").execute("PRAGMA cipher_memory_security").fetchone()[0]
    return os.getpid(), int(wiping), ledger.conn.execute("SELECT count(*) FROM customers").fetchone()[0]


def write_then_die(ledger) -> None:
    with ledger.writing() as tx:
        tx.set("customers", "half-written", code="HALF1", name="Never kept", currency="CNY",
               settlement_cycle="per_order", archived=0)
        os.kill(os.getpid(), signal.SIGKILL)


def refuse(ledger, reason: str) -> None:
    raise InvalidInput("customer {code} not found", code=reason, field="customer")


def count(path, sql: str) -> int:
    with Ledger.open(path, PASSPHRASE) as ledger:
        return ledger.conn.execute(sql).fetchone()[0]


def invoices_csv(path: Path, rows: int) -> Path:
    codes = ("BJ001", "SH002", "GZ003")
    path.write_text("customer,date,amount,number,due_date\n" + "".join(
        f"{codes[n % 3]},2026-03-{1 + n % 28:02d},{100 + n}.50,APT-{n:05d},2026-04-30\n" for n in range(rows)),
        encoding="utf-8")
    return path


def test_the_job_runs_in_another_process_without_the_wiping_the_app_has_on(book):
    """From a process hardened as the app's is (the wiping on for its life), the job runs in one that is not."""
    import json
    import subprocess
    import sys

    script = ("import json, os, sqlcipher3\n"
              "from store.ledger.db import harden_process\n"
              "harden_process()\n"
              "from tui.app.apart import on_ledger, run_apart\n"
              "from tests.tui.app.test_apart import where_it_ran\n"
              "wiping = sqlcipher3.connect(':memory:').execute('PRAGMA cipher_memory_security').fetchone()[0]\n"
              f"print(json.dumps([os.getpid(), int(wiping), run_apart(on_ledger, {str(book)!r}, {PASSPHRASE!r}, "
              "where_it_ran)]))\n")
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    app_pid, app_wiping, (job_pid, job_wiping, customers) = json.loads(ran.stdout)
    assert app_wiping == 1 and job_wiping == 0  # the job's process: undumpable instead (db.harden_process)
    assert job_pid != app_pid
    assert customers == count(book, "SELECT count(*) FROM customers")


def test_a_module_lying_in_the_working_directory_is_not_run_by_the_child(book, tmp_path, monkeypatch):
    """The app starts where the user is (where the picker opens): a store.py there must not see the passphrase."""
    planted = tmp_path / "downloads"
    planted.mkdir()
    (planted / "store.py").write_text(f"open({str(tmp_path / 'ran')!r}, 'w').write('the job')\n", encoding="utf-8")
    monkeypatch.chdir(planted)
    assert run_apart(on_ledger, str(book), PASSPHRASE, where_it_ran)[2] == count(book, "SELECT count(*) FROM customers")
    assert not (tmp_path / "ran").exists()


def test_a_child_that_cannot_start_is_said_as_such(book, monkeypatch):
    import sys

    monkeypatch.setattr(sys, "executable", str(Path(sys.executable).with_name("no-such-python")))
    with pytest.raises(DulyError) as refused:
        run_apart(on_ledger, str(book), PASSPHRASE, where_it_ran)
    assert "cannot start a Duly process for this job" in str(refused.value)
    assert "无法为此任务启动" in refused.value.text("zh")


def test_an_import_apart_writes_what_the_database_thread_would_and_reports_its_progress(book, tmp_path):
    source = invoices_csv(tmp_path / "many.csv", 3000)
    seen = []
    outcome = run_apart(on_ledger, str(book), PASSPHRASE, import_file, str(source), "invoices", False,
                        progress=lambda done, total: seen.append((done, total)))
    assert outcome["counts"]["add"] == 3000 and outcome["problems"] == []
    assert seen and seen[-1] == (3000, 3000)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert count(book, "SELECT count(*) FROM invoices WHERE number LIKE 'APT-%'") == 3000
    assert count(book, "SELECT sum(total) FROM invoices WHERE number LIKE 'APT-%'") \
        == sum((100 + n) * 100 + 50 for n in range(3000))
    with Ledger.open(book, PASSPHRASE) as ledger:  # written under the chain, as the app's own write is
        assert changes.verify(ledger.conn) == []


def test_an_error_comes_back_as_its_own_class_worded_in_either_language(book, tmp_path):
    with pytest.raises(InvalidInput) as raised:
        run_apart(on_ledger, str(book), PASSPHRASE, refuse, "NOPE9")
    here = InvalidInput("customer {code} not found", code="NOPE9", field="customer")
    assert (raised.value.text("zh"), raised.value.text("en"), raised.value.field) == (here.text("zh"), str(here),
                                                                                      "customer")
    bad = tmp_path / "bad.csv"
    bad.write_text("customer,date,amount,number\nNOPE9,2026-03-11,99.00,APT-1\n", encoding="utf-8")
    with pytest.raises(ImportProblems) as problems:
        run_apart(on_ledger, str(book), PASSPHRASE, import_file, str(bad), "invoices", False)
    with Ledger.open(book, PASSPHRASE) as ledger, pytest.raises(ImportProblems) as same:
        import_file(ledger, str(bad), "invoices", False)
    assert problems.value.text("zh") == same.value.text("zh") and "NOPE9" in problems.value.text("zh")
    assert count(book, "SELECT count(*) FROM invoices WHERE number = 'APT-1'") == 0


def test_a_child_killed_mid_write_keeps_nothing_and_says_the_job_stopped(book):
    before = count(book, "SELECT count(*) FROM changes")
    with pytest.raises(DulyError) as stopped:
        run_apart(on_ledger, str(book), PASSPHRASE, write_then_die)
    assert "the job stopped before it ended" in str(stopped.value)
    assert "任务" in stopped.value.text("zh")
    assert count(book, "SELECT count(*) FROM customers WHERE code = 'HALF1'") == 0
    assert count(book, "SELECT count(*) FROM changes") == before
    with Ledger.open(book, PASSPHRASE) as ledger:
        assert changes.verify(ledger.conn) == []


def test_a_wrong_passphrase_is_the_usual_error(book):
    from store.errors import WrongPassphrase

    with pytest.raises(WrongPassphrase):
        run_apart(on_ledger, str(book), "not the passphrase", where_it_ran)
