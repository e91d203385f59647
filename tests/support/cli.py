"""Running `duly` as a user would, and what a test asserts of its answer: shared by the CLI tests."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from store.ledger.ledger import Ledger

PASSPHRASE = "correct horse 电池 staple"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


def duly_exe() -> str:
    """The installed `duly` script of this venv."""
    found = Path(sys.executable).with_name("duly")
    return str(found) if found.exists() else shutil.which("duly")


def run_duly(*argv, env: dict | None = None, input: str | None = None, timeout: float = 30, cwd=None) -> Result:
    """Run the real `duly` in a subprocess (stdin is not a terminal), in cwd if given."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DULY_")}
    full_env["DULY_LANG"] = "en"  # the words the tests read, whatever the machine's locale (env may change it)
    full_env.update(env or {})
    proc = subprocess.run(
        [duly_exe(), *map(str, argv)], env=full_env, capture_output=True, text=True, timeout=timeout, cwd=cwd,
        stdin=subprocess.DEVNULL if input is None else None, input=input,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def change_count(path, passphrase: str = PASSPHRASE) -> int:
    with Ledger.open(path, passphrase) as led:
        return led.conn.execute("SELECT count(*) FROM changes").fetchone()[0]


def assert_one_line_error(result: Result, code: int = 1, *words: str) -> None:
    """Exit `code`, exactly one non-empty line on stderr starting 'duly:', no traceback."""
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert result.code == code, (result.code, result.err)
    assert len(lines) == 1, result.err
    assert lines[0].startswith("duly: "), lines[0]
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err
    for word in words:
        assert word.lower() in lines[0].lower(), (word, lines[0])


def ok(result: Result) -> Result:
    assert result.code == 0, (result.code, result.err)
    return result
