"""Encrypted local backups, a restore that checks before it replaces anything, and the checks themselves
(`duly check` runs the same ones on the live ledger)."""
from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from store.ledger import changes, db, schema
from store.i18n import N_
from store.read.open import END, INVOICE_OPEN
from store.errors import (BadBackup, DamagedLedger, DulyError, LedgerInUse, LedgerLocked,
                          OtherLedger, WrongPassphrase)


def page_problems(conn) -> list[str]:
    """What the page-level checks find: the b-trees (integrity_check) and every page's HMAC
    (cipher_integrity_check: integrity_check never reads a free page, the HMACs catch damage anywhere)."""
    try:
        found = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    except db.DatabaseError as exc:
        return [f"the file is damaged: {exc}"]
    if found != ["ok"]:
        return [f"the integrity check failed: {found[0]}" + (f" (and {len(found) - 1} more)" if len(found) > 1 else "")]
    try:
        damaged = [r[0] for r in conn.execute("PRAGMA cipher_integrity_check")]
    except db.DatabaseError as exc:
        return [f"the file is damaged: {exc}"]
    if damaged:
        return [f"the integrity check failed: {damaged[0]}"
                + (f" (and {len(damaged) - 1} more)" if len(damaged) > 1 else "")]
    return []


def ledger_problems(conn, *, pages: Callable[[Any], list[str]] = page_problems,
                    connect: Callable[[], Any] | None = None) -> list[str]:
    """Every check a ledger must pass: the pages, then (if they are sound) the hash chains of the change log
    and the ledger's invariants. The same for `duly check`, `duly restore` and a new device's restore.

    `pages` is the page check: all of page_problems unless the caller has a reason for a lighter one (a new
    device's restore: sync.client says why). With `connect` (opens another connection to the same file) the
    page check runs on that connection in a second thread while the rest runs on `conn`: every check only
    reads, and SQLite releases the GIL while it works, so the whole takes about as long as the longer part.
    A page problem is still the one said first, as when the checks run one after the other. The hash chains are
    recomputed on a third connection beside the invariants (decompressing and hashing a 200k-invoice book's log,
    267 MB of text, lets go of the GIL too), and said before them."""
    if connect is None:
        return pages(conn) or changes.verify(conn) + invariant_problems(conn)

    def on_its_own_connection(check) -> list[str]:
        other = connect()
        try:
            return check(other)
        finally:
            other.close()

    def chains(other) -> list[str]:
        try:
            return changes.verify(other)
        except db.DatabaseError as exc:  # a damaged page, which the page check names in its own words
            return [f"the file is damaged: {exc}"]

    with ThreadPoolExecutor(2, thread_name_prefix="duly-check") as pool:
        paged = pool.submit(on_its_own_connection, pages)
        chained = pool.submit(on_its_own_connection, chains)
        try:
            rest = invariant_problems(conn)
        except db.DatabaseError as exc:
            rest = [f"the file is damaged: {exc}"]
        return paged.result() or chained.result() + rest


def backup(ledger, target, progress=None) -> Path:
    """Write an encrypted copy of the open ledger to a new file, after checking the ledger's pages: a copy
    of a damaged file would only fail later, when it is needed. A failed copy leaves no partial file.
    `progress(done, total)`: (0, None) while the pages are checked (no measure of how far), then pages copied."""
    target = Path(target)
    db.must_be_new(target)
    if progress is not None:
        progress(0, None)
    problems = page_problems(ledger.conn)
    if problems:
        raise DamagedLedger(N_("ledger {path} is damaged, so no backup was written: {value} (`duly check` says "
                               "more; restore an earlier backup)"), path=ledger.path,
                            value=problems[0])
    try:
        db.backup_to(ledger.conn, target, ledger._passphrase, progress)
    except BaseException as exc:
        _remove(target)
        if db.out_of_space(exc):
            raise db.disk_full(target, exc) from None
        raise
    return target


def check(path, passphrase: str) -> dict:
    """Open a backup and prove it sound: passphrase, integrity, schema, hash chains, invariants."""
    try:
        conn = db.connect(path, passphrase)
    except DulyError as exc:
        raise BadBackup(N_("backup {path} cannot be opened: {exc}"), path=path, exc=exc) from None
    try:
        problems = page_problems(conn)
        if problems:
            raise BadBackup(N_("backup {path} is damaged: {value}"), path=path, value=problems[0])
        found = schema.version(conn)
        if found == 0 or found > schema.VERSION:
            raise BadBackup(N_("backup {path} has schema version {found}; this Duly reads 1..{version}"), path=path,
                            found=found, version=schema.VERSION)
        problems = changes.verify(conn) + invariant_problems(conn)
        if problems:
            raise BadBackup(N_("backup {path} fails its checks: {value}"), path=path, value=problems[0])
        return _summary(conn) | {"schema": found}
    finally:
        conn.close()


def _summary(conn) -> dict:
    meta = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('ledger_id', 'device_id')").fetchall())
    return {"customers": conn.execute("SELECT count(*) FROM customers").fetchone()[0],
            "changes": conn.execute("SELECT count(*) FROM changes").fetchone()[0],
            "ledger_id": meta.get("ledger_id")}


def invariant_problems(conn) -> list[str]:
    """Ledger invariants that any sound book keeps, the same for `duly restore` and a new device's restore.

    An invoice with more applied to it than its total (open below zero counting every document, by the rule of
    store.read.open) is damage, unless a sync merge put it there: two devices may each apply money to it
    offline, and the merge keeps both and puts the invoice on the review list (DESIGN §4), which travels with the
    book. So it is a problem only when that list does not name it."""
    problems = []
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "allocations" in tables:
        flagged = ("AND i.id NOT IN (SELECT subject FROM sync_review WHERE kind='over_allocated_invoice')"
                   if "sync_review" in tables else "")
        over = conn.execute(f"SELECT i.number FROM invoices i WHERE {INVOICE_OPEN} < 0 {flagged} LIMIT 1",
                            {"d": END}).fetchone()
        if over:
            problems.append(f"invoice {over[0]} has more allocated and written off than its total")
        orphan = conn.execute(
            "SELECT count(*) FROM allocations WHERE invoice_id NOT IN (SELECT id FROM invoices)"
        ).fetchone()[0]
        if orphan:
            problems.append(f"{orphan} allocations point at invoices that do not exist")
    if "doc_state" in tables:
        problems += schema.settled_cache_problems(conn)
    return problems


def safety_copy_path(target: Path, now: datetime | None = None) -> Path:
    """Where a restore keeps the file it replaces: beside it, named for the moment."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    path = target.with_name(f"{target.name}.before-restore-{stamp}")
    n = 1
    while path.exists():
        n += 1
        path = target.with_name(f"{target.name}.before-restore-{stamp}-{n}")
    return path


def _read_live(target: Path, passphrase: str) -> dict | None:
    """The live ledger's summary, or None when this passphrase cannot open it (damaged, or another ledger's)."""
    try:
        conn = db.connect(target, passphrase, timeout=0.2)
    except LedgerLocked:
        raise LedgerInUse(str(target)) from None
    except WrongPassphrase:
        return None
    try:
        return _summary(conn)
    except db.DatabaseError:
        return None
    finally:
        conn.close()


def _hold(target: Path, passphrase: str):
    """An exclusive hold on the live ledger, or LedgerInUse while another process has it open (leaving WAL
    mode needs every other connection closed; it also folds the -wal into the file). None when the file
    cannot be opened with this passphrase (damaged, or another ledger's)."""
    try:
        conn = db.connect(target, passphrase, timeout=0.2)
    except LedgerLocked:
        raise LedgerInUse(str(target)) from None
    except WrongPassphrase:
        return None
    try:
        try:
            mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
            if mode.lower() != "delete":
                raise db.OperationalError("database is locked")
            conn.execute("BEGIN EXCLUSIVE")
        except db.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise LedgerInUse(str(target)) from None
            raise
        return conn
    except BaseException:
        conn.close()
        raise


def plan_restore(source, target, passphrase: str, *, other_ledger: bool = False) -> dict:
    """Every check a restore makes before it asks, and what it would replace; nothing is changed. The backup's
    summary (check), with summary['replaces'] (the live ledger's, None when this passphrase cannot open it) and
    summary['safety_copy'] (where the live file would be kept) when there is a live ledger at `target`. Refuses a
    backup of another ledger (or a live file this passphrase cannot open) unless `other_ledger`."""
    source, target = Path(source), Path(target)
    if not source.exists():
        raise BadBackup(N_("no backup file at {source}"), source=source)
    summary = check(source, passphrase)
    if target.exists() and target.stat().st_size > 0:
        current = _read_live(target, passphrase)
        if current is None and not other_ledger:
            raise OtherLedger(N_("{target} cannot be opened with this passphrase (damaged, or another ledger), so it "
                               "cannot be told whether the backup is of it: nothing was replaced; to replace it "
                               "anyway, pass --other-ledger"), target=target)
        if current is not None and current["ledger_id"] != summary["ledger_id"] and not other_ledger:
            raise OtherLedger(N_("backup {source} is of another ledger (id {ledger_id}), not of {target} (id "
                               "{ledger_id2}): nothing was replaced; to replace it anyway, pass --other-ledger"),
                            source=source, ledger_id=summary['ledger_id'], target=target,
                            ledger_id2=current['ledger_id'])
        summary["replaces"], summary["safety_copy"] = current, str(safety_copy_path(target))
    return summary


def restore(source, target, passphrase: str, *, confirm=None, other_ledger: bool = False, progress=None) -> dict:
    """Check `source`, then put it in place of `target`, which is kept as a safety copy beside it.

    While the restore runs it holds the live ledger exclusively, and it refuses while another process has
    the ledger open (that process's later writes would go to the replaced file and be lost). It refuses a
    backup of another ledger (another ledger_id, or a live file this passphrase cannot open) unless
    `other_ledger`. `confirm(summary)` is asked before anything is replaced (summary['replaces'] describes
    the live ledger, summary['safety_copy'] where it will be kept); False cancels. Nothing is replaced when
    any step fails, and no partial file is left. `progress(done, total)`: (0, None) while the backup is checked,
    then its pages copied."""
    source, target = Path(source), Path(target)
    if progress is not None:
        progress(0, None)
    summary = plan_restore(source, target, passphrase, other_ledger=other_ledger)
    live = "safety_copy" in summary
    staging = target.with_name(target.name + ".restoring")
    safety = Path(summary["safety_copy"]) if live else None
    if live and confirm is not None and not confirm(summary):
        raise DulyError(N_("restore cancelled: {target} was not replaced"), target=target)
    hold = _hold(target, passphrase) if live else None
    replaced = False
    try:
        for leftover in (staging, Path(f"{staging}-wal"), Path(f"{staging}-shm"), Path(f"{staging}-journal")):
            leftover.unlink(missing_ok=True)
        src = db.connect(source, passphrase)
        try:
            dest = db.connect(staging, passphrase, create=True)
            try:
                dest.execute("PRAGMA journal_mode = DELETE")
                db.copy_pages(src, dest, progress)
            finally:
                dest.close()
        finally:
            src.close()
        db.fsync_file(staging)
        if live:
            _keep(target, safety)
        for side in (Path(f"{target}-wal"), Path(f"{target}-shm")):
            side.unlink(missing_ok=True)
        os.replace(staging, target)
        replaced = True
    except BaseException as exc:
        _remove(staging)
        if safety is not None and not replaced:
            safety.unlink(missing_ok=True)
        if db.out_of_space(exc):
            raise db.disk_full(target, exc) from None
        raise
    finally:
        if hold is not None:
            db.rollback(hold)
            if not replaced:
                hold.execute("PRAGMA journal_mode = WAL")  # the live ledger as it was
            hold.close()
    return summary


def _keep(target: Path, safety: Path) -> None:
    """The live file, kept under `safety` (a hard link: no copy, no extra space; a copy where links fail)."""
    try:
        os.link(target, safety)
    except OSError:
        fd = os.open(safety, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out, open(target, "rb") as src:
            shutil.copyfileobj(src, out)
            out.flush()
            os.fsync(out.fileno())


def _remove(path: Path) -> None:
    for part in (path, Path(f"{path}-journal"), Path(f"{path}-wal"), Path(f"{path}-shm")):
        part.unlink(missing_ok=True)
