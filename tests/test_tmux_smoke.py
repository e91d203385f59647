"""The real `duly` in a real terminal (tmux): it draws a known customer, navigates, and quits on ctrl+q."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_tui_book import PASSPHRASE, make_book

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (CI installs it)")

TIMEOUT = 15.0
# The tmux server hands its environment to the pane; a COLUMNS/LINES left in the test process (pytest
# sets them) would override the real 120x40 pane size for the app.
ENV = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}


class Tmux:
    def __init__(self, socket: str):
        self.socket = socket

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["tmux", "-f", "/dev/null", "-L", self.socket, *args], check=check,
                              capture_output=True, text=True, timeout=10, env=ENV)

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "duly", check=False).stdout

    def wait_for(self, text: str, *, gone: bool = False) -> str:
        """Poll the pane until text is on it (or, with gone=True, off it); bounded by TIMEOUT."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            shown = self.screen()
            if (text in shown) != gone:
                return shown
            time.sleep(0.1)
        what = "did not go" if gone else "did not appear"
        raise AssertionError(f"{text!r} {what} within {TIMEOUT:.0f} s; the screen was:\n{self.screen()}")

    def alive(self) -> bool:
        return self("has-session", "-t", "duly", check=False).returncode == 0


def test_duly_draws_navigates_and_quits_in_tmux(tmp_path):
    ledger = make_book(tmp_path / "book.duly")
    secret = tmp_path / "passphrase"
    secret.write_text(PASSPHRASE + "\n", encoding="utf-8")
    done = tmp_path / "exit-code"
    duly = Path(sys.executable).with_name("duly")
    command = (f"env DULY_LANG=en DULY_TODAY=2026-03-31 {duly} --ledger {ledger} --passphrase-file {secret}; "
               f"echo $? > {done}")
    tmux = Tmux(f"duly-test-{os.getpid()}")
    try:
        # One invocation: the options hold from the start, and `window-size manual` keeps 120x40 whatever
        # size later (tty-less) tmux clients report.
        tmux("new-session", "-d", "-s", "duly", "-x", "120", "-y", "40", command, ";",
             "set", "-g", "escape-time", "0", ";", "set", "-g", "window-size", "manual")
        tmux.wait_for("Acme Trading Ltd")  # the dashboard's top overdue customers
        tmux("send-keys", "-t", "duly", "c")
        shown = tmux.wait_for("6 shown")  # the customer list (the dashboard names customers too)
        assert "深圳前海供应链管理有限公司" in shown
        tmux("send-keys", "-t", "duly", "/")
        # keys already queued for the list would not follow the focus: wait until the search has it
        tmux.wait_for("New customer", gone=True)
        tmux("send-keys", "-t", "duly", "-l", "GZ")
        tmux.wait_for("1 shown")
        tmux("send-keys", "-t", "duly", "Enter")  # leave the search for the list...
        tmux.wait_for("New customer")
        tmux("send-keys", "-t", "duly", "Enter")  # ...and open the one customer
        tmux.wait_for("Customer GZ003")
        tmux("send-keys", "-t", "duly", "C-q")
        deadline = time.monotonic() + TIMEOUT
        while tmux.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not tmux.alive(), "duly did not quit on ctrl+q"
        assert done.read_text().strip() == "0"
    finally:
        tmux("kill-server", check=False)
