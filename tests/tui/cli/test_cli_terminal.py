"""At a terminal the command line pages long tables as git does and colours what needs attention; piped or with
NO_COLOR it prints plain text."""
from __future__ import annotations

import os
import pty
import select
import subprocess

import pytest

from store.ledger.ledger import Ledger
from tests.support.cli import PASSPHRASE, duly_exe, run_duly
from tests.support.terminal import read_until_closed
from tui.cli import output

RED, YELLOW = "\x1b[31m", "\x1b[33m"


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """40 customers; C00 has an overdue invoice and C01 an unapplied (negative) payment."""
    from store.write import customers, invoices, payments, settings

    path = tmp_path_factory.mktemp("terminal") / "t.duly"
    with Ledger.create(path, PASSPHRASE, actor="tester") as led:
        settings.put(led, "currency", "CNY")
        for i in range(40):
            customers.add(led, f"C{i:02d}", f"Customer {i}")
        invoices.add(led, "C00", "2026-01-05", amount="1000", due="2026-02-04")
        payments.add(led, "C01", "2026-01-10", "250", allocate=[])
    return path


def in_terminal(argv, book, tmp_path, **env) -> str:
    """Run `duly argv` with stdin, stdout and stderr on a pseudo-terminal 24 lines tall; what it showed."""
    master, slave = pty.openpty()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DULY_") and k not in ("NO_COLOR", "PAGER")}
    full_env.update({"DULY_LEDGER": str(book), "DULY_PASSPHRASE": PASSPHRASE, "LINES": "24", "COLUMNS": "120",
                     "TERM": "xterm", **env})
    proc = subprocess.Popen([duly_exe(), *argv], stdin=slave, stdout=slave, stderr=slave, env=full_env, cwd=tmp_path)
    os.close(slave)
    shown = read_until_closed(master)
    assert proc.wait(timeout=30) == 0
    return shown.decode("utf-8", "replace")


def pager_that_saves(tmp_path) -> str:
    return f"sh -c 'cat > {tmp_path}/paged'"


def test_a_long_table_at_a_terminal_goes_through_the_pager(book, tmp_path):
    shown = in_terminal(["customer", "list"], book, tmp_path, DULY_PAGER=pager_that_saves(tmp_path))
    paged = (tmp_path / "paged").read_text(encoding="utf-8")
    assert "C39" in paged and "C39" not in shown


def test_no_pager_option_and_an_empty_duly_pager_print_straight(book, tmp_path):
    shown = in_terminal(["customer", "list", "--no-pager"], book, tmp_path, DULY_PAGER=pager_that_saves(tmp_path))
    assert "C39" in shown and not (tmp_path / "paged").exists()
    shown = in_terminal(["customer", "list"], book, tmp_path, DULY_PAGER="")
    assert "C39" in shown


def test_a_short_table_is_not_paged(book, tmp_path):
    shown = in_terminal(["customer", "list", "--search", "Customer 3"], book, tmp_path,
                        DULY_PAGER=pager_that_saves(tmp_path))
    assert "C03" in shown and not (tmp_path / "paged").exists()


def test_without_a_setting_the_pager_is_less_with_LESS_FRX(book, tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "less").write_text(f'#!/bin/sh\necho "LESS=$LESS" > {tmp_path}/env\ncat > {tmp_path}/paged\n')
    (fake / "less").chmod(0o755)
    in_terminal(["customer", "list"], book, tmp_path, PATH=f"{fake}:{os.environ['PATH']}")
    assert (tmp_path / "env").read_text().strip() == "LESS=FRX"
    assert "C39" in (tmp_path / "paged").read_text(encoding="utf-8")


def test_PAGER_is_used_when_DULY_PAGER_is_not_set(book, tmp_path):
    in_terminal(["customer", "list"], book, tmp_path, PAGER=pager_that_saves(tmp_path))
    assert "C39" in (tmp_path / "paged").read_text(encoding="utf-8")


def test_never_paged_when_piped(book, tmp_path):
    result = run_duly("customer", "list", env={"DULY_LEDGER": str(book), "DULY_PASSPHRASE": PASSPHRASE,
                                               "DULY_PAGER": pager_that_saves(tmp_path)})
    assert result.code == 0 and "C39" in result.out and not (tmp_path / "paged").exists()


def test_overdue_and_negative_amounts_are_coloured_at_a_terminal(book, tmp_path):
    shown = in_terminal(["report", "aging", "--as-of", "2026-03-31", "--no-pager"], book, tmp_path)
    assert f"{YELLOW}" in shown and "1,000.00" in shown  # C00's invoice is 31-60 days late
    c01 = next(line for line in shown.splitlines() if "C01" in line)
    assert RED in c01 and "-250.00" in c01
    listed = in_terminal(["invoice", "list", "--as-of", "2026-03-31", "--no-pager"], book, tmp_path)
    assert YELLOW in listed


def test_no_colour_when_piped_or_with_NO_COLOR(book, tmp_path):
    env = {"DULY_LEDGER": str(book), "DULY_PASSPHRASE": PASSPHRASE}
    piped = run_duly("report", "aging", "--as-of", "2026-03-31", env=env)
    assert piped.code == 0 and "-250.00" in piped.out and "\x1b[" not in piped.out
    shown = in_terminal(["report", "aging", "--as-of", "2026-03-31", "--no-pager"], book, tmp_path, NO_COLOR="1")
    assert "-250.00" in shown and "\x1b[3" not in shown


def test_table_colours_only_negative_right_aligned_cells_and_named_overdue_cells():
    rows = [{"code": "-A", "amount": "-5.00", "late": "3.00"}, {"code": "B", "amount": "5.00", "late": ""}]
    plain = output.table(rows, ["code", "amount", "late"], right={"amount", "late"})
    painted = output.table(rows, ["code", "amount", "late"], right={"amount", "late"}, colour=True,
                           overdue=lambda r: ["late"])
    assert "\x1b" not in plain
    assert painted.count(output.RED) == 1 and painted.count(output.YELLOW) == 1  # '-A' is text, '' is nothing
    assert painted.replace(output.RED, "").replace(output.YELLOW, "").replace(output.RESET, "") == plain


def test_a_pager_setting_that_cannot_run_still_prints_the_table(book, tmp_path):
    for broken in ("no-such-pager-program", "less 'unbalanced"):
        shown = in_terminal(["customer", "list"], book, tmp_path, DULY_PAGER=broken)
        assert "C39" in shown, broken


def test_the_passphrase_prompt_is_in_the_readers_language(book, tmp_path):
    """At a terminal with no DULY_PASSPHRASE, `duly --lang zh` asks for the passphrase in Chinese."""
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DULY_")}
    env.update({"DULY_LEDGER": str(book), "DULY_PAGER": "", "TERM": "xterm"})
    proc = subprocess.Popen([duly_exe(), "--lang", "zh", "customer", "list", "--format", "csv"], stdin=slave,
                            stdout=slave, stderr=slave, env=env, cwd=tmp_path)
    os.close(slave)
    asked = b""
    while "的口令：".encode() not in asked:
        ready, _, _ = select.select([master], [], [], 20)
        if not ready:
            proc.kill()
            raise AssertionError(f"no Chinese passphrase prompt: {asked.decode('utf-8', 'replace')!r}")
        chunk = os.read(master, 4096)
        assert chunk, asked
        asked += chunk
    os.write(master, (PASSPHRASE + "\n").encode())
    shown = asked + read_until_closed(master)
    assert proc.wait(timeout=30) == 0
    text = shown.decode("utf-8", "replace")
    assert f"{book} 的口令：" in text and "Passphrase for" not in text and "C00,Customer 0" in text
