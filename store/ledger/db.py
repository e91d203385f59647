"""The encrypted SQLite file: SQLCipher 4 through sqlcipher3, one connection per thread."""
from __future__ import annotations

import contextlib
import errno
import gc
import os
from contextlib import contextmanager
from pathlib import Path

import sqlcipher3
from sqlcipher3 import dbapi2

from store.ledger.packing import sql_unpack
from store.errors import DiskFull, LedgerExists, LedgerIsFolder, LedgerLocked, LedgerNotFound, WrongPassphrase

DatabaseError = dbapi2.DatabaseError
IntegrityError = dbapi2.IntegrityError
OperationalError = dbapi2.OperationalError

# A big page cache keeps index walks on the encrypted file as fast as plain SQLite (DESIGN §7).
CACHE_KIB = 256 * 1024
# A bulk write (BULK_COMMANDS) streams its rows and looks up few pages again: there the cache was most of the
# process's memory (a 200k-invoice import peaked at 453 MB with 256 MiB), so it gets a quarter of it.
BULK_CACHE_KIB = 64 * 1024


# Jobs that write a whole book in one go (an import, the demo): SQLCipher's memory security locks (mlock) and
# unlocks every buffer it allocates, about 140 system calls of each kind per imported row; measured on a 2-core
# machine, a 2,000-invoice import took 8.8 s with it and 1.4 s without (20k payments: 170 s against 17 s). For
# these jobs the process is made undumpable and untraceable instead (core dumps off as always): what the wiping
# protects, SQLCipher's freed buffers, is in this process's memory only while the job runs, and the same
# plaintext rows pass through the job's own (Python) memory, which no setting wipes. An export reads the whole
# book to write it out as plaintext, on purpose: the wiping doubled its time (20k invoices, csv: 2.9 s of CPU with
# it, 1.2 s without) and protects nothing the file it writes does not hold.
# `sync init` reads the whole book twice (its change log to push, every page for the first snapshot) to send it out
# sealed under the team key, and `sync join` writes a whole book from a snapshot and checks it: bulk jobs too.
# With the wiping, SQLCipher's export for a 200k-invoice book's snapshot took 8.9 s of CPU against 4.1 s without,
# and a join of that book failed in the page check with SQLITE_NOMEM (three connections with big caches, every
# buffer locked and unlocked).
BULK_COMMANDS = ("import", "demo", "export", "sync init", "sync join")


def bulk_command(command: str | None, action: str | None = None) -> bool:
    """Whether `duly COMMAND [ACTION]` is one of BULK_COMMANDS (a command, or a command with its action)."""
    return command in BULK_COMMANDS or f"{command} {action}" in BULK_COMMANDS


def harden_process(*, bulk: bool = False) -> None:
    """For a Duly process (CLI or app), before any ledger is opened: no core dumps (a dump held the passphrase,
    the key and customer names), and SQLCipher wipes (and where the memory-lock limit allows, locks) every
    buffer it allocates, so keys and decrypted pages do not linger in freed memory. The wiping costs about
    1.15x on a whole `report aging` (bench/bench_memory_security.py), and 5-10x on a bulk write: with bulk=True
    (BULK_COMMANDS) the process is made undumpable and untraceable instead of wiping (see above)."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
    except (ImportError, ValueError, OSError):  # no such limit on this platform: nothing to turn off
        pass
    if bulk:
        global CACHE_KIB
        CACHE_KIB = BULK_CACHE_KIB
        _undumpable()
        return
    conn = sqlcipher3.connect(":memory:")
    try:
        conn.execute("PRAGMA cipher_memory_security = ON")  # process-wide in SQLCipher
    finally:
        conn.close()


def _undumpable() -> None:
    """No core dump and no ptrace attach by the user's other processes (Linux: PR_SET_DUMPABLE 0)."""
    import ctypes

    # Not Linux (no prctl): core dumps are off, as above, and that is all this platform offers here.
    with contextlib.suppress(OSError, AttributeError, ValueError, TypeError):  # Windows: CDLL(None) is a TypeError
        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _key(conn, passphrase: str) -> None:
    conn.execute(f"PRAGMA key = {_quote(passphrase)}")
    # SQLCipher otherwise logs to stderr, which garbles a terminal UI.
    conn.execute("PRAGMA cipher_log_level = NONE")


def _configure(conn) -> None:
    conn.execute("PRAGMA temp_store = MEMORY")  # no plaintext temp files
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    # ops_text(changes.ops): an envelope's operations as JSON text, whether stored compressed or not (packing.py)
    conn.create_function("ops_text", 1, sql_unpack, deterministic=True)


def must_be_new(path: str | os.PathLike) -> None:
    """Refuse a path where a new ledger (or backup) is to be written when something is there: a folder is named as
    one (its own message: the file's path was meant), anything else as a ledger not to be overwritten."""
    if Path(path).is_dir():
        raise LedgerIsFolder(str(path))
    if Path(path).exists():
        raise LedgerExists(str(path))


def connect(path: str | os.PathLike, passphrase: str, *, create: bool = False, timeout: float = 10.0):
    """Open (or, with create=True, create) the ledger file; raise a DulyError a person can read."""
    path = Path(path)
    if path.is_dir():
        raise LedgerIsFolder(str(path))
    exists = path.exists() and path.stat().st_size > 0
    if create and exists:
        raise LedgerExists(str(path))
    if not create and not exists:
        raise LedgerNotFound(str(path))
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
        # 0600 from the first byte: SQLite gives the -wal, -shm and -journal the same mode as the file
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        os.chmod(path, 0o600)
    # isolation_level=None: we issue BEGIN/COMMIT ourselves, so every write is exactly one transaction.
    conn = sqlcipher3.connect(str(path), timeout=timeout, isolation_level=None, check_same_thread=True)
    try:
        _key(conn, passphrase)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except DatabaseError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise LedgerLocked(str(path)) from None
            raise WrongPassphrase(str(path)) from None
        _configure(conn)
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    except BaseException:
        conn.close()
        if create and path.exists() and path.stat().st_size == 0:
            path.unlink()
        raise
    return conn


def connect_readonly(path: str | os.PathLike, passphrase: str):
    """A read-only connection to a ledger file, changing nothing in it: not its journal mode either (connect
    switches a file to WAL, which rewrites its header). For checking a scratch copy while it is read elsewhere:
    one pass over the file, so it gets the bulk jobs' cache, not the app's (in the app, a 200k-invoice book's
    snapshot check filled 256 MiB beside the ledger's own cache)."""
    from urllib.parse import quote

    conn = sqlcipher3.connect(f"file:{quote(str(Path(path).resolve()))}?mode=ro", uri=True, isolation_level=None,
                              check_same_thread=False)
    try:
        _key(conn, passphrase)
        conn.execute("PRAGMA temp_store = MEMORY")  # no plaintext temp files
        conn.execute(f"PRAGMA cache_size = -{min(CACHE_KIB, BULK_CACHE_KIB)}")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except BaseException:
        conn.close()
        raise
    return conn


# Thresholds of Python's collector while a bulk write makes its rows (collecting_less).
BULK_GC_THRESHOLDS = (100_000, 50, 100)


@contextmanager
def bulk_cache(conn):
    """Around a job that reads the whole file once on a connection that stays open after it (sync set-up started
    in the app): the connection's page cache is held to the bulk jobs' size while the job runs, so the pages of
    that one pass do not stay in memory afterwards; then the cache may grow again as it did before."""
    (before,) = conn.execute("PRAGMA cache_size").fetchone()
    if before >= -BULK_CACHE_KIB:  # already no larger (or a count of pages, which Duly never sets): leave it
        yield
        return
    conn.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA cache_size = {int(before)}")


@contextmanager
def collecting_less():
    """Around a bulk write that makes a million short-lived rows (the demo, an import): Python's collector runs a
    hundred times less often. The rows (dicts and tuples) live for a batch, long enough to be counted as old, and
    the collector walked every old object again and again: 1.8 s of a 200k-invoice demo's 19.6 s. The rows make no
    cycles (they are freed as soon as they are written); what else the write leaves in cycles is collected later.
    Not for a whole process: `sync init` with these thresholds kept garbage cycles of its requests and peaked at
    783 MB instead of 281 MB."""
    before = gc.get_threshold()
    gc.set_threshold(*BULK_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


@contextmanager
def rollback_journal(conn):
    """Around one bulk write into a new ledger (the demo), outside any transaction: a rollback journal instead of
    the WAL. In WAL mode every page of the write goes to the WAL and then again into the file at the checkpoint
    (a 200k-invoice demo wrote a 500 MB WAL, then the same pages once more); a rollback journal keeps only the
    pages as they were before the write, and a new file's pages were nothing, so each page is written once. A
    kill -9 still leaves the ledger as before: the next open rolls the journal back (SQLite's hot journal), then
    goes back to WAL (_configure). When another connection holds the file the mode cannot change, and the write
    simply goes through the WAL as always."""
    if conn.in_transaction:
        yield
        return
    timeout = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    conn.execute("PRAGMA busy_timeout = 0")  # no waiting for the others: then the WAL it is
    try:
        mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
    except OperationalError:  # another connection is reading or writing: keep the WAL
        mode = "wal"
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout)}")
    try:
        yield
    finally:
        if mode != "wal" and not conn.in_transaction:
            conn.execute("PRAGMA journal_mode = WAL")


def rollback(conn) -> None:
    """Roll back the open transaction, if there still is one: after a full disk SQLite has already rolled it
    back itself, and a second ROLLBACK would hide why ("cannot rollback - no transaction is active")."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")


@contextmanager
def transaction(conn, path=None):
    """One write transaction on a connection (BEGIN IMMEDIATE ... COMMIT; rolled back on any error): the only
    place Duly writes BEGIN. Inside an open transaction it joins it. A lock another process holds is
    LedgerLocked, a full disk DiskFull."""
    if conn.in_transaction:
        yield
        return
    try:
        conn.execute("BEGIN IMMEDIATE")
    except OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise LedgerLocked(str(path or "the ledger")) from exc
        raise
    try:
        yield
        conn.execute("COMMIT")
    except BaseException as exc:
        rollback(conn)
        if out_of_space(exc):
            raise disk_full(path or "the ledger", exc) from None
        raise


def out_of_space(exc: BaseException) -> bool:
    """Did this write fail because the disk (or the file size a process may write) is full?"""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
    # SQLITE_FULL, or SQLITE_IOERR_WRITE when the write could not even start (EFBIG/ENOSPC after a short one)
    return isinstance(exc, DatabaseError) and any(s in str(exc) for s in ("disk is full", "disk I/O error"))


def disk_full(path, exc: BaseException) -> DiskFull:
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return DiskFull(str(path), detail)


def rekey(conn, new_passphrase: str) -> None:
    """Change the passphrase in place (SQLCipher re-encrypts every page)."""
    # rekey does not work in WAL mode: switch to a rollback journal for the duration.
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute(f"PRAGMA rekey = {_quote(new_passphrase)}")
    conn.execute("PRAGMA journal_mode = WAL")


def rekey_scratch(conn, new_passphrase: str) -> None:
    """Re-encrypt a scratch file that no one else has open and that is thrown away if this fails (a restore
    being staged): no journal and no syncs, about a third of `rekey`'s time on a big ledger. The caller
    closes the connection and fsyncs the file before it moves it into place."""
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute(f"PRAGMA rekey = {_quote(new_passphrase)}")
    conn.execute("PRAGMA journal_mode = DELETE")


def fsync_file(path: str | os.PathLike) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


BACKUP_STEP_PAGES = 1024  # pages copied per step of the online backup (4 MB): progress is told after each step


def copy_pages(source, dest, progress=None) -> None:
    """SQLite's online backup of `source` into `dest`; `progress(pages copied, pages)` after each step."""
    if progress is None:
        source.backup(dest)
        return
    source.backup(dest, pages=BACKUP_STEP_PAGES,
                  progress=lambda _status, remaining, total: progress(total - remaining, total))


def backup_to(conn, target: str | os.PathLike, passphrase: str, progress=None) -> None:
    """Copy the open ledger into a new encrypted file with SQLite's online backup API."""
    target = Path(target)
    must_be_new(target)
    dest = connect(target, passphrase, create=True)
    try:
        dest.execute("PRAGMA journal_mode = DELETE")
        copy_pages(conn, dest, progress)
    finally:
        dest.close()
