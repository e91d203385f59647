"""Long jobs show their progress on stderr at a terminal (rows done, of how many), and nothing when stderr is
piped or the output is JSON for a script."""
from __future__ import annotations

import os
import re
import pty
import subprocess

import pytest

from store.ledger.ledger import Ledger
from store.write import customers, invoices
from tests.support.cli import PASSPHRASE, duly_exe, run_duly
from tests.support.terminal import read_until_closed


@pytest.fixture
def book(tmp_path):
    path = tmp_path / "p.duly"
    with Ledger.create(path, PASSPHRASE, actor="tester") as led:
        customers.add(led, "HD001", "Hengda", currency="CNY")
        for k in range(1, 31):
            invoices.add(led, "HD001", f"2026-01-{k:02d}", amount="200.00", number=f"F-{k}", terms="NET30")
    src = tmp_path / "pay.csv"
    src.write_text("customer,date,amount,invoice\n" + "".join(
        f"HD001,2026-03-01,100.00,F-{k}\n" for k in range(1, 31)), encoding="utf-8")
    return path, src


def env_for(path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DULY_") and k not in ("NO_COLOR", "TERM")}
    env.update({"DULY_LEDGER": str(path), "DULY_PASSPHRASE": PASSPHRASE, "TERM": "xterm", "COLUMNS": "120"})
    return env


def stderr_at_terminal(argv, path, cwd) -> tuple[int, str, str]:
    """Run duly with stderr on a pseudo-terminal and stdout piped: (exit code, stdout, what stderr showed)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([duly_exe(), *argv], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave,
                            env=env_for(path), cwd=cwd)
    os.close(slave)
    shown = read_until_closed(master)
    out = proc.stdout.read().decode()
    return proc.wait(timeout=60), out, plain(shown.decode("utf-8", "replace"))


def plain(shown: str) -> str:
    """What a terminal showed, without its colours and cursor moves."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown)


def test_an_import_shows_its_progress_at_a_terminal(book, tmp_path):
    path, src = book
    code, out, shown = stderr_at_terminal(["import", "payments", str(src)], path, tmp_path)
    assert code == 0, shown
    assert "importing payments" in shown and "30/30" in shown and "rows" in shown
    assert "imported 30 new payments" in out and "importing" not in out  # the result itself stays on stdout


def test_no_progress_when_piped_or_as_json(book, tmp_path):
    path, src = book
    piped = run_duly("import", "payments", str(src), env={"DULY_LEDGER": str(path), "DULY_PASSPHRASE": PASSPHRASE})
    assert piped.code == 0 and "imported 30 new payments" in piped.out
    assert piped.err == ""
    again = tmp_path / "again.csv"  # new rows, so that the JSON import writes as many as the piped one
    again.write_text(src.read_text(encoding="utf-8").replace("2026-03-01,100.00", "2026-03-02,0.50"), encoding="utf-8")
    code, out, shown = stderr_at_terminal(["import", "payments", str(again), "--format", "json"], path, tmp_path)
    assert code == 0 and '"added":30' in out
    assert "importing" not in shown and "\r" not in shown


def test_the_demo_shows_its_progress_at_a_terminal(tmp_path):
    code, out, shown = stderr_at_terminal(["demo", "--customers", "5", "--invoices", "40"], tmp_path / "d.duly",
                                          tmp_path)
    assert code == 0, shown
    assert "making the demo book" in shown and "40/40" in shown and "demo ledger" in out


def test_exports_show_their_progress_at_a_terminal(book, tmp_path):
    path, _ = book
    code, out, shown = stderr_at_terminal(["export", "csv", str(tmp_path / "out")], path, tmp_path)
    assert code == 0, shown
    written = sum(len((tmp_path / "out" / f).read_text(encoding="utf-8-sig").splitlines()) - 1
                  for f in os.listdir(tmp_path / "out"))
    assert "exporting csv" in shown and f"{written}/{written}" in shown and "rows" in shown
    code, out, shown = stderr_at_terminal(["export", "hledger", str(tmp_path / "b.journal")], path, tmp_path)
    assert code == 0, shown
    assert "exporting hledger" in shown and "30/30" in shown and "transactions" in shown
    assert "30 transactions" in out


def test_backup_and_restore_show_their_progress_at_a_terminal(book, tmp_path):
    path, _ = book
    code, out, shown = stderr_at_terminal(["backup", str(tmp_path / "b.duly")], path, tmp_path)
    assert code == 0, shown
    pages = re.search(r"(\d+)/(\d+)\s+pages", shown)
    assert "writing the backup" in shown and pages and pages[1] == pages[2] and int(pages[1]) > 1
    assert "encrypted backup written" in out
    code, out, shown = stderr_at_terminal(["restore", str(tmp_path / "b.duly"), "--yes"], path, tmp_path)
    assert code == 0, shown
    assert "restoring the backup" in shown and re.search(r"(\d+)/\1\s+pages", shown)
    assert "all checks passed" in out


def test_a_restore_that_asks_takes_its_bar_off_the_terminal_for_the_question(book, tmp_path):
    """stdin and stderr at a terminal: the bar shows while the backup is checked, makes way for the question
    (answered y), and shows again for the copy."""
    path, _ = book
    assert run_duly("backup", str(tmp_path / "b.duly"), env=env_for(path)).code == 0
    master, slave = pty.openpty()
    proc = subprocess.Popen([duly_exe(), "restore", str(tmp_path / "b.duly")], stdin=slave, stdout=subprocess.PIPE,
                            stderr=slave, env=env_for(path), cwd=tmp_path)
    os.close(slave)
    os.write(master, b"y\n")
    shown = plain(read_until_closed(master).decode("utf-8", "replace"))
    out = proc.stdout.read().decode()
    assert proc.wait(timeout=60) == 0, shown
    assert "Replace" in out and "restored" in out and "all checks passed" in out
    assert "restoring the backup" in shown and re.search(r"(\d+)/\1\s+pages", shown)


def test_sync_init_and_join_show_their_progress_at_a_terminal(book, tmp_path):
    """One bar for the whole job: the changes sent and the snapshot's chunks (init), the chunks fetched and the
    changes pulled (join)."""
    from tests.support.sync_server import running_server

    path, _ = book
    with running_server("sqlite", tmp_path) as server:
        code, out, shown = stderr_at_terminal(["sync", "init", "--server", server.url], path, tmp_path)
        assert code == 0, shown
        done, total = re.findall(r"(\d+)/(\d+)\s+steps", shown)[-1]  # the bar as it was last drawn
        assert "sending the book" in shown and done == total and int(total) >= 2
        assert "RECOVERY SECRET" in out
        invite = run_duly("sync", "invite", env={"DULY_LEDGER": str(path), "DULY_PASSPHRASE": PASSPHRASE})
        code_line = next(line for line in invite.out.splitlines() if "--invite" in line).split("--invite")[1].strip()
        code, out, shown = stderr_at_terminal(["sync", "join", "--server", server.url, "--invite", code_line],
                                              tmp_path / "second.duly", tmp_path)
        assert code == 0, shown
        assert "fetching the book" in shown and re.search(r"(\d+)/\1\s+steps", shown) and "joined team" in out
