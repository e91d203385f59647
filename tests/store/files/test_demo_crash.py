"""kill -9 during `duly demo` (one transaction of many batches and change-log envelopes, written through a rollback
journal rather than the WAL, with the settlement cache's triggers suspended): the ledger is left empty, or holds the
whole book; it opens in WAL mode again and passes its checks."""
from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from store.ledger import changes, schema
from store.ledger.ledger import Ledger
from tests.support.cli import PASSPHRASE

REPO = Path(__file__).resolve().parents[3]
INVOICES = 600


def _demo_and_die_at(path: Path, kill_at: int | None) -> int:
    """Make a demo book in its own process, SIGKILLed at the kill_at-th invoice (None: let it finish)."""
    code = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(REPO)!r})
        from store.files import demo
        from store.ledger import ledger as ledger_module
        from store.ledger.ledger import Ledger
        demo.DOCS_PER_TRANSACTION = 200  # many batches written before the end
        ledger_module.OPS_PER_ENVELOPE = 100  # and several envelopes
        def progress(done, total):
            if done == {kill_at!r}:
                os.kill(os.getpid(), signal.SIGKILL)
        with Ledger.open({str(path)!r}, {PASSPHRASE!r}) as led:
            demo.build(led, customers=12, invoices={INVOICES}, seed=4, progress=progress)
    """)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120).returncode


def _state(path: Path) -> tuple:
    with Ledger.open(path, PASSPHRASE) as led:
        assert led.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert led.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert changes.verify(led.conn) == []
        assert schema.settled_cache_problems(led.conn) == []
        assert {row[0] for row in led.conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")} == {
            f"{table}_settled" for table in ("invoices", "payments", "credit_notes", "writeoffs", "allocations",
                                             "voids")}
        return tuple(led.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                     for t in ("customers", "invoices", "payments", "allocations", "doc_state", "changes"))


@pytest.mark.parametrize("kill_at", [150, 450, INVOICES])
def test_kill_9_during_the_demo_leaves_an_empty_ledger_that_then_takes_the_demo(tmp_path, kill_at):
    path = tmp_path / "demo.duly"
    Ledger.create(path, PASSPHRASE, actor="tester").close()
    empty = _state(path)
    assert _demo_and_die_at(path, kill_at) == -signal.SIGKILL
    assert _state(path) == empty
    assert not path.with_name(path.name + "-journal").exists()  # rolled back when it was opened
    assert _demo_and_die_at(path, None) == 0
    full = _state(path)
    assert full[1] == INVOICES and full[4] > INVOICES and full[5] > 3
