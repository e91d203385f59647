"""A real terminal for the app: a tmux server of the test's own, polled until the screen shows what a person
would wait for.

Keys sent in one burst reach the app faster than a person types, and Textual routes each key to the widget that
has the focus when the key *arrives*: text typed right after an Enter that moves to the next field can land in
the field before it. So a script waits for the terminal's cursor (which the app puts in the focused text box)
to be on the field's row before it types (`type_into`), and for the screen to show what a key did before the next
one, the way a person looks before typing on."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time

TIMEOUT = 15.0
# The tmux server hands its environment to the pane; a COLUMNS/LINES left in the test process (pytest
# sets them) would override the real 120x40 pane size for the app.
ENV = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}


def need_tmux() -> str:
    """tmux, which CI installs (.ci/run): missing means the test fails, it is never skipped."""
    found = shutil.which("tmux")
    assert found, "tmux is not installed (apt-get install tmux; .ci/run installs it)"
    return found


def labelled(line: str, label: str) -> bool:
    """Whether a screen line is the row of the field labelled so: the label, then the gap before the box (so
    "Passphrase" is not the row of "Passphrase again")."""
    return re.search(re.escape(label) + r"( {2,}|$)", line.rstrip()) is not None


class Tmux:
    def __init__(self, socket: str, timeout: float = TIMEOUT):
        self.socket = socket
        self.timeout = timeout

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

    def keys(self, *keys: str) -> None:
        """Keys by tmux's names (Enter, Tab, BTab, Escape, Space, C-s, F2, Down...), one after the other."""
        self("send-keys", "-t", "duly", *keys)

    def text(self, text: str) -> None:
        """Text typed as it is (no key names)."""
        self("send-keys", "-t", "duly", "-l", text)

    def cursor_line(self) -> str:
        """The screen's line where the terminal's cursor is (the app puts it in the focused text box)."""
        y = self.cursor_row()
        lines = self.screen().splitlines()
        return lines[y] if 0 <= y < len(lines) else ""

    def _poll(self, done, what: str, timeout: float | None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < deadline:
            found = done()
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError(f"{what} within {timeout or self.timeout:.0f} s; the screen was:\n{self.screen()}")

    def wait_until(self, done, what: str, timeout: float | None = None):
        """Poll done() until it gives something true (a file written, say) and return it; `what` names it."""
        return self._poll(done, f"{what} did not happen", timeout)

    def wait_for(self, text: str, *, gone: bool = False, timeout: float | None = None) -> str:
        """Poll the pane until text is on it (or, with gone=True, off it); returns the screen."""
        def seen():
            shown = self.screen()
            return shown if (text in shown) != gone else None
        return self._poll(seen, f"{text!r} {'did not go' if gone else 'did not appear'}", timeout)

    def wait_for_all(self, *texts: str, timeout: float | None = None) -> str:
        """Poll until every text is on the screen at once; returns the screen."""
        def seen():
            shown = self.screen()
            return shown if all(t in shown for t in texts) else None
        return self._poll(seen, f"{texts!r} were not all shown", timeout)

    def wait_in_field(self, label: str, timeout: float | None = None) -> str:
        """Until the cursor is in the text box on the row labelled `label` (the field has the focus)."""
        return self._poll(lambda: (line := self.cursor_line()) and labelled(line, label) and line,
                          f"the cursor did not come to the field {label!r}", timeout)

    def type_into(self, label: str, text: str, *, replace: bool = False, secret: bool = False,
                  timeout: float | None = None) -> None:
        """Type into the field labelled `label` once it has the focus (replace: clear what it holds first), and
        wait until its row shows the text (a secret: as many dots)."""
        before = self.wait_in_field(label, timeout)
        if replace:
            self.keys("End", "C-u")
            # ctrl+u is a key binding, run after the keys already on their way: wait for the field to empty
            self._poll(lambda: (line := self.cursor_line()) != before and labelled(line, label),
                       f"the field {label!r} was not emptied", timeout)
        self.text(text)
        shown = "\u2022" * len(text) if secret else text
        self._poll(lambda: (line := self.cursor_line()) and labelled(line, label) and shown in line,
                   f"{text!r} did not show in the field {label!r}", timeout)

    def cursor_row(self) -> int:
        return int(self("display-message", "-p", "-t", "duly", "#{cursor_y}").stdout.strip() or -1)

    def wait_focused(self, button: str, timeout: float | None = None) -> None:
        """Until the button labelled so has the focus (Textual draws a focused button's label in reverse video),
        so that Enter presses it."""
        def drawn_focused() -> bool:
            raw = self("capture-pane", "-p", "-e", "-t", "duly", check=False).stdout
            for styles in re.findall(r"((?:\x1b\[[0-9;]*m)+) " + re.escape(button) + " ", raw):
                if any("7" in codes.split(";") for codes in re.findall(r"\x1b\[([0-9;]*)m", styles)):
                    return True
            return False
        self._poll(drawn_focused, f"the button {button!r} did not get the focus", timeout)

    def alive(self) -> bool:
        return self("has-session", "-t", "duly", check=False).returncode == 0

    def wait_until_gone(self, timeout: float | None = None) -> bool:
        deadline = time.monotonic() + (timeout or self.timeout)
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        return not self.alive()

    def kill(self) -> None:
        self("kill-server", check=False)
