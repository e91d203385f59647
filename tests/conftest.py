"""Shared fixtures: a fresh encrypted ledger, the `duly` command line run in-process, and Duly installed from its
wheel as a user installs it."""
from __future__ import annotations

from pathlib import Path

import pytest

from store.ledger.ledger import Ledger
from tests.support import install
from tests.support.cli import PASSPHRASE, Result


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from this checkout (once per test run, shared by the xdist workers)."""
    return install.install(tmp_path_factory).wheel


@pytest.fixture(scope="session")
def installed(tmp_path_factory) -> Path:
    """The `duly` of a fresh virtualenv holding the wheel, installed without -e (a laptop install: no server
    extra); once per test run, shared by the xdist workers."""
    return install.install(tmp_path_factory).duly


@pytest.fixture
def ledger(tmp_path):
    """An empty ledger at tmp_path/'l.duly' (passphrase PASSPHRASE), closed afterwards."""
    led = Ledger.create(tmp_path / "l.duly", PASSPHRASE, actor="tester")
    yield led
    led.close()


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
    monkeypatch.setenv("DULY_LANG", "en")  # the words the tests read, whatever the machine's locale
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
