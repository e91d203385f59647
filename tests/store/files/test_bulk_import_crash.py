"""kill -9 during a bulk import (a stream written batch after batch, several change-log envelopes, all in one
transaction): the ledger is as it was before, or holds the whole file; never part of it, and it passes its checks."""
from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from store.ledger import changes, schema
from store.ledger.ledger import Ledger
from store.write import customers
from tests.support.cli import PASSPHRASE

REPO = Path(__file__).resolve().parents[3]
ROWS = 300
BATCHES = 10  # BATCH_ROWS = ROWS / BATCHES in the importing process


def _import_and_die_at(ledger_path: Path, kind: str, source: Path, kill_at: int | None) -> int:
    """Run an import in its own process and SIGKILL it at the kill_at-th progress report (one after each batch is
    written; the last one after every batch, before COMMIT); None lets it finish. Returns its exit status."""
    code = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(REPO)!r})
        from store.files import importer
        from store.ledger import ledger as ledger_module
        from store.ledger.ledger import Ledger
        importer.BATCH_ROWS = {ROWS // BATCHES}
        ledger_module.OPS_PER_ENVELOPE = 50  # several envelopes before the end
        calls = 0
        def progress(done, total):
            global calls
            calls += 1
            if calls == {kill_at!r}:
                os.kill(os.getpid(), signal.SIGKILL)
        with Ledger.open({str(ledger_path)!r}, {PASSPHRASE!r}) as led:
            importer.run(led, {str(source)!r}, {kind!r}, progress=progress)
    """)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120).returncode


def _state(path: Path) -> tuple:
    with Ledger.open(path, PASSPHRASE) as led:
        assert led.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert changes.verify(led.conn) == []
        assert schema.settled_cache_problems(led.conn) == []
        return tuple(led.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                     for t in ("invoices", "due_items", "payments", "allocations", "changes", "import_log"))


@pytest.mark.parametrize("kill_at", [1, 4, BATCHES, BATCHES + 1, None])
def test_kill_9_during_a_bulk_import_leaves_the_ledger_as_before_or_complete(tmp_path, kill_at):
    path = tmp_path / "l.duly"
    with Ledger.create(path, PASSPHRASE, actor="tester") as led:
        for k in range(5):
            customers.add(led, f"K{k}", f"Kunde {k}", currency="CNY")
    invoices_csv = tmp_path / "inv.csv"
    invoices_csv.write_text("number,customer,date,amount,terms\n" + "".join(
        f"F-{k:04d},K{k % 5},2026-{1 + k % 12:02d}-{1 + k % 28:02d},{100 + k}.00,{'30/70' if k % 3 else 'NET30'}\n"
        for k in range(ROWS)), encoding="utf-8")
    payments_csv = tmp_path / "pay.csv"
    payments_csv.write_text("customer,date,amount,reference\n" + "".join(
        f"K{k % 5},2026-{1 + k % 12:02d}-28,{150 + k}.00,R{k}\n" for k in range(ROWS)), encoding="utf-8")
    for kind, source in (("invoices", invoices_csv), ("payments", payments_csv)):
        before = _state(path)
        status = _import_and_die_at(path, kind, source, kill_at)
        after = _state(path)
        if kill_at is None:
            assert status == 0
        else:
            assert status == -signal.SIGKILL
        assert after == before or status == 0, f"{kind}: a killed import left part of itself"
        if after == before:
            assert _import_and_die_at(path, kind, source, None) == 0  # and the file imports afterwards
        complete = _state(path)
        assert complete[0] == ROWS and (kind == "invoices" or complete[2] == ROWS)
        assert _import_and_die_at(path, kind, source, None) == 0 and _state(path) == complete  # nothing twice
