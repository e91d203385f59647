"""Shared fixtures: a fresh encrypted ledger, and the `duly` command line run in-process."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from store.ledger.ledger import Ledger

PASSPHRASE = "correct horse 电池 staple"


@pytest.fixture
def ledger(tmp_path):
    """An empty ledger at tmp_path/'l.duly' (passphrase PASSPHRASE), closed afterwards."""
    led = Ledger.create(tmp_path / "l.duly", PASSPHRASE, actor="tester")
    yield led
    led.close()


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    """`cli(*argv)` runs tui.cli.main.main in-process against tmp_path/'cli.duly' and returns a Result.

    DULY_LEDGER and DULY_PASSPHRASE are set; `cli.path` is the ledger file (not created yet).
    """
    from tui.cli.main import main

    path = tmp_path / "cli.duly"
    monkeypatch.setenv("DULY_LEDGER", str(path))
    monkeypatch.setenv("DULY_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("DULY_USER", "tester")
    monkeypatch.delenv("DULY_NEW_PASSPHRASE", raising=False)
    monkeypatch.delenv("DULY_DEBUG", raising=False)

    def run(*argv: str) -> Result:
        capsys.readouterr()
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse: --help, bad usage
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return Result(code, out, err)

    run.path = path
    return run


def duly_exe() -> str:
    """The installed `duly` script of this venv."""
    found = Path(sys.executable).with_name("duly")
    return str(found) if found.exists() else shutil.which("duly")


def run_duly(*argv, env: dict | None = None, input: str | None = None, timeout: float = 30) -> Result:
    """Run the real `duly` in a subprocess (stdin is not a terminal)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DULY_")}
    full_env.update(env or {})
    proc = subprocess.run(
        [duly_exe(), *map(str, argv)], env=full_env, capture_output=True, text=True, timeout=timeout,
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
