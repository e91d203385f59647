"""Encrypted local backups, and a restore that checks before it replaces anything."""
from __future__ import annotations

import os
from pathlib import Path

from store.ledger import changes, db, schema
from store.errors import BadBackup, DulyError


def backup(ledger, target) -> Path:
    target = Path(target)
    db.backup_to(ledger.conn, target, ledger._passphrase)
    return target


def check(path, passphrase: str) -> dict:
    """Open a backup and prove it sound: passphrase, integrity, schema, hash chains, invariants."""
    try:
        conn = db.connect(path, passphrase)
    except DulyError as exc:
        raise BadBackup(f"backup {path} cannot be opened: {exc}") from None
    try:
        try:
            result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        except db.DatabaseError as exc:
            raise BadBackup(f"backup {path} is damaged: {exc}") from None
        if result != "ok":
            raise BadBackup(f"backup {path} failed the integrity check: {result}")
        # integrity_check walks the b-trees only; the page HMACs catch damage anywhere (free pages too).
        try:
            damaged = conn.execute("PRAGMA cipher_integrity_check").fetchone()
        except db.DatabaseError as exc:
            raise BadBackup(f"backup {path} is damaged: {exc}") from None
        if damaged:
            raise BadBackup(f"backup {path} failed the integrity check: {damaged[0]}")
        found = schema.version(conn)
        if found == 0 or found > schema.VERSION:
            raise BadBackup(f"backup {path} has schema version {found}; this Duly reads 1..{schema.VERSION}")
        problems = changes.verify(conn) + invariant_problems(conn)
        if problems:
            raise BadBackup(f"backup {path} fails its checks: {problems[0]}")
        customers = conn.execute("SELECT count(*) FROM customers").fetchone()[0]
        entries = conn.execute("SELECT count(*) FROM changes").fetchone()[0]
        return {"schema": found, "customers": customers, "changes": entries}
    finally:
        conn.close()


def invariant_problems(conn) -> list[str]:
    """Ledger invariants that any sound book keeps, the same for `duly restore` and a new device's restore.

    An invoice with more allocated to it than its total is damage, unless a sync merge put it there: two
    devices may each apply money to it offline, and the merge keeps both and puts the invoice on the review
    list (DESIGN §4), which travels with the book. So it is a problem only when that list does not name it."""
    problems = []
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "allocations" in tables:
        flagged = ("AND i.id NOT IN (SELECT subject FROM sync_review WHERE kind='over_allocated_invoice')"
                   if "sync_review" in tables else "")
        over = conn.execute(
            f"""SELECT i.number FROM invoices i
               JOIN (SELECT invoice_id, sum(amount) AS s FROM allocations GROUP BY invoice_id) a ON a.invoice_id=i.id
               WHERE a.s > i.total {flagged} LIMIT 1"""
        ).fetchone()
        if over:
            problems.append(f"invoice {over[0]} has more allocated to it than its total")
        orphan = conn.execute(
            "SELECT count(*) FROM allocations WHERE invoice_id NOT IN (SELECT id FROM invoices)"
        ).fetchone()[0]
        if orphan:
            problems.append(f"{orphan} allocations point at invoices that do not exist")
    if "doc_state" in tables:
        problems += schema.settled_cache_problems(conn)
    return problems


def restore(source, target, passphrase: str) -> dict:
    """Check `source`, then copy it over `target` atomically; `target` is untouched if a check fails."""
    source, target = Path(source), Path(target)
    if not source.exists():
        raise BadBackup(f"no backup file at {source}")
    summary = check(source, passphrase)
    staging = target.with_name(target.name + ".restoring")
    for leftover in (staging, Path(f"{staging}-wal"), Path(f"{staging}-shm")):
        leftover.unlink(missing_ok=True)
    src = db.connect(source, passphrase)
    try:
        dest = db.connect(staging, passphrase, create=True)
        try:
            dest.execute("PRAGMA journal_mode = DELETE")
            src.backup(dest)
        finally:
            dest.close()
    finally:
        src.close()
    for side in (Path(f"{target}-wal"), Path(f"{target}-shm")):
        side.unlink(missing_ok=True)
    os.replace(staging, target)
    return summary
