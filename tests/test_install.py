"""What a user gets from a normal install: the wheel, installed without `-e` into a fresh virtualenv, run from
outside the checkout. The editable install that the other tests use cannot see a file left out of the wheel."""
from __future__ import annotations

import json
import os
import subprocess
import tomllib
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from tests.support.tmux import Tmux, need_tmux

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-06-30"


def _run(cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)


@pytest.fixture()
def user_env(tmp_path) -> dict:
    """A user's environment: their own HOME, no checkout on the path, a ledger of their own."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "COLUMNS", "LINES")}
    env.update(HOME=str(tmp_path), DULY_LEDGER=str(tmp_path / "books.duly"), DULY_PASSPHRASE="demo",
               DULY_LANG="en", DULY_TODAY=AS_OF)
    return env


def test_wheel_carries_every_file_the_program_reads(wheel):
    tracked = _run(["git", "ls-files", "store", "sync", "tui"], cwd=ROOT).stdout.split()
    data = [name for name in tracked if not name.endswith(".py")]
    assert any(name.endswith(".tcss") for name in data)  # the stylesheet whose absence crashed every normal install
    names = set(zipfile.ZipFile(wheel).namelist())
    assert [name for name in data if name not in names] == []
    assert not any(name.startswith("tests/") for name in names)


def test_installed_duly_runs_demo_and_report_from_outside_the_checkout(installed, user_env, tmp_path):
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    shown = _run([str(installed), "--version"], cwd=tmp_path, env=user_env)
    assert (shown.returncode, shown.stdout.strip()) == (0, f"duly {version}")

    where = _run([str(installed.with_name("python")), "-c", "import tui; print(tui.__file__)"],
                 cwd=tmp_path, env=user_env)
    assert str(installed.parents[1]) in where.stdout, "the installed duly must not run the checkout's code"

    demo = _run([str(installed), "demo", "--customers", "12", "--invoices", "200"], cwd=tmp_path, env=user_env)
    assert demo.returncode == 0, demo.stderr
    aging = _run([str(installed), "report", "aging", "--as-of", AS_OF, "--format", "json"],
                 cwd=tmp_path, env=user_env)
    assert aging.returncode == 0, aging.stderr
    report = json.loads(aging.stdout)
    assert report["rows"] and report["totals"]
    # a statement as PDF: the default templates travel as package data, reportlab's CJK font needs no file of ours
    code = report["rows"][0]["customer"]
    out = tmp_path / "statements"
    made = _run([str(installed), "statement", code, "--as-of", AS_OF, "--format", "pdf", "--out", str(out)],
                cwd=tmp_path, env=user_env)
    assert made.returncode == 0, made.stderr
    assert (out / f"{code}-{AS_OF}.pdf").read_bytes().startswith(b"%PDF-")


def test_laptop_install_serve_says_how_to_get_the_server(installed, user_env, tmp_path):
    served = _run([str(installed), "serve", "--data", str(tmp_path / "srv")], cwd=tmp_path, env=user_env)
    assert served.returncode == 1
    assert "duly[server]" in served.stderr and "Traceback" not in served.stderr
    assert len(served.stderr.strip().splitlines()) == 1


def test_plain_duly_without_a_terminal_says_so_and_exits_2(installed, user_env, tmp_path):
    piped = _run([str(installed)], cwd=tmp_path, env=user_env, stdin=subprocess.DEVNULL)
    assert piped.returncode == 2
    assert "terminal" in piped.stderr and piped.stdout == ""


def test_installed_app_opens_in_a_real_terminal_and_shows_the_numbers(installed, user_env, tmp_path):
    need_tmux()
    demo = _run([str(installed), "demo", "--customers", "12", "--invoices", "200"], cwd=tmp_path, env=user_env)
    assert demo.returncode == 0, demo.stderr
    summary = json.loads(_run([str(installed), "report", "summary", "--as-of", AS_OF, "--format", "json"],
                              cwd=tmp_path, env=user_env).stdout)
    overdue = f"{Decimal(summary['currencies']['CNY']['overdue']):,.2f}"
    env = " ".join(f"{k}={v}" for k, v in user_env.items() if k.startswith(("DULY_", "HOME")))
    tmux = Tmux(f"duly-install-{os.getpid()}")
    try:
        tmux.start(f"cd {tmp_path} && env {env} {installed}")
        shown = tmux.wait_for(overdue)  # the dashboard's overdue figure, the same as the CLI's
        assert "Overdue" in shown
        tmux("send-keys", "-t", "duly", "C-q")
        assert tmux.wait_until_gone(), "duly did not quit on ctrl+q"
    finally:
        tmux.kill()


def test_installed_app_imports_a_big_file_in_a_process_of_its_own(installed, user_env, tmp_path):
    """A file big enough that the app reads it in a Duly process of its own (tui.app.apart): the installed Python
    finds that module, the preview and the write come back to the screen, and the command line then sees the rows."""
    from tui.screens.files import APART_FROM_BYTES

    need_tmux()
    demo = _run([str(installed), "demo", "--customers", "12", "--invoices", "20"], cwd=tmp_path, env=user_env)
    assert demo.returncode == 0, demo.stderr
    listed = _run([str(installed), "customer", "list", "--format", "json"], cwd=tmp_path, env=user_env)
    codes = [c["code"] for c in json.loads(listed.stdout)]
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    big = incoming / "history.csv"
    rows = 2400
    big.write_text("customer,date,amount,number,due_date,description\n" + "".join(
        f"{codes[n % len(codes)]},2026-05-{1 + n % 28:02d},{1000 + n}.25,OLD-{n:05d},2026-06-30,"
        f"{'migrated from the old books, row ' + str(n):<70}\n" for n in range(rows)), encoding="utf-8")
    assert big.stat().st_size >= APART_FROM_BYTES
    env = " ".join(f"{k}={v}" for k, v in user_env.items() if k.startswith(("DULY_", "HOME")))
    tmux = Tmux(f"duly-install-import-{os.getpid()}")
    try:
        tmux.start(f"cd {incoming} && env {env} {installed}")
        tmux.wait_for("Overdue")
        tmux.keys("F5")
        tmux.wait_for("history.csv")
        tmux.keys("Down", "Enter")  # the one file in the working directory, read as invoices
        tmux.wait_for(f"Preview of invoices from history.csv (UTF-8): {rows:,} to add")
        tmux.keys("w")
        tmux.wait_for(f"Imported invoices from history.csv (UTF-8): {rows:,} added")
        tmux.keys("C-q")
        assert tmux.wait_until_gone(), "duly did not quit on ctrl+q"
    finally:
        tmux.kill()
    listed = _run([str(installed), "invoice", "list", "--limit", "10000", "--format", "json"], cwd=tmp_path,
                  env=user_env)
    assert listed.returncode == 0, listed.stderr
    imported = {i["number"]: i["total"] for i in json.loads(listed.stdout) if i["number"].startswith("OLD-")}
    assert len(imported) == rows and imported["OLD-02399"] == "3399.25"
