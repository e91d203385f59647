"""A real terminal for the app: a tmux server of the test's own, polled until the screen shows what a person
would wait for."""
from __future__ import annotations

import os
import subprocess
import time

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

    def start(self, command: str, width: int = 120, height: int = 40) -> None:
        """One invocation: the options hold from the start, and `window-size manual` keeps the size whatever
        size later (tty-less) tmux clients report."""
        self("new-session", "-d", "-s", "duly", "-x", str(width), "-y", str(height), command, ";",
             "set", "-g", "escape-time", "0", ";", "set", "-g", "window-size", "manual")

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

    def wait_until_gone(self) -> bool:
        deadline = time.monotonic() + TIMEOUT
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        return not self.alive()

    def kill(self) -> None:
        self("kill-server", check=False)
