"""Safety of the data at rest: nothing plaintext on disk, checked backups and restores, no UI imports
in the store, crash safety under SIGKILL, and concurrent writers."""
from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from functools import partial
from pathlib import Path

import pytest
import sqlcipher3

from store.ledger import changes
from store.write import customers
from store.ledger.ledger import Ledger
from tests.support.cli import PASSPHRASE, assert_one_line_error, sha256

REPO = Path(__file__).resolve().parents[3]
SECRET_NAME = "秘密客户ZZQX Trading"
SECRET_EMAIL = "zzqx.secret@example-zzqx.cn"
SECRET_TAX_ID = "91350100M000100Y43"


# -- nothing plaintext on disk ---------------------------------------------------------------------

def test_no_plaintext_in_ledger_wal_shm_journal_or_backup(ledger, cli, monkeypatch):
    monkeypatch.setenv("DULY_LEDGER", str(ledger.path))
    customers.add(ledger, "ZZQX", SECRET_NAME, email=SECRET_EMAIL, tax_id=SECRET_TAX_ID)
    customers.edit(ledger, "ZZQX", notes=SECRET_NAME + " notes")
    # the connection stays open, so the -wal holds the pages just written
    wal = Path(f"{ledger.path}-wal")
    assert wal.exists() and wal.stat().st_size > 0
    backup = ledger.path.with_name("backup.duly")
    assert cli("backup", backup).code == 0
    files = [p for p in ledger.path.parent.iterdir() if p.is_file()]
    assert ledger.path in files and backup in files and wal in files
    needles = [s.encode() for s in (SECRET_NAME, "秘密客户", "ZZQX", SECRET_EMAIL, SECRET_TAX_ID)]
    for path in files:  # the ledger, -wal, -shm, any -journal, the backup, anything else written
        data = path.read_bytes()
        for needle in needles:
            assert needle not in data, f"{needle!r} found in plaintext in {path.name}"
    # and the data is really there, under the key
    with Ledger.open(backup, PASSPHRASE) as copy:
        assert customers.by_code(copy, "ZZQX")["email"] == SECRET_EMAIL


# -- backup and restore ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def backup_template(tmp_path_factory):
    """(ledger with B1, a good backup of it taken before B2 was added)."""
    base = tmp_path_factory.mktemp("backup")
    path, good = base / "l.duly", base / "good.duly"
    with Ledger.create(path, PASSPHRASE, actor="tester") as led:
        customers.add(led, "B1", "In the backup")
        from store.ledger import backup as backups

        backups.backup(led, good)
        customers.add(led, "B2", "Only in the ledger")
    return path, good


@pytest.fixture
def restorable(cli, backup_template, tmp_path):
    path, good = backup_template
    shutil.copyfile(path, cli.path)
    shutil.copyfile(good, tmp_path / "good.duly")
    return cli, tmp_path / "good.duly"


def codes(path, passphrase=PASSPHRASE):
    with Ledger.open(path, passphrase) as led:
        return [r["code"] for r in led.rows("SELECT code FROM customers ORDER BY code")]


def test_restore_of_a_good_backup_replaces_the_ledger(restorable):
    cli, good = restorable
    assert codes(cli.path) == ["B1", "B2"]
    result = cli("restore", good, "--yes")
    assert result.code == 0, result.err
    assert codes(cli.path) == ["B1"]
    assert not Path(f"{cli.path}.restoring").exists()
    assert cli("audit", "verify").code == 0
    assert cli("customer", "add", "B3", "--name", "after restore").code == 0


def _flip_middle(path: Path) -> None:
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    for i in range(mid, mid + 32):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def _other_passphrase(path: Path) -> None:
    path.unlink()
    with Ledger.create(path, "a different passphrase") as other:
        customers.add(other, "X1", "other")


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def _plain_text(path: Path) -> None:
    path.write_text("code,name\nC1,not a ledger\n" * 50, encoding="utf-8")


def _plain_sqlite(path: Path) -> None:
    import sqlite3

    path.unlink()
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id, code)")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("spoil", [_flip_middle, _other_passphrase, _truncate, _plain_text, _plain_sqlite],
                         ids=["flipped-bytes", "other-passphrase", "truncated", "plain-text", "plain-sqlite"])
def test_restore_refuses_a_bad_backup_and_keeps_the_ledger(restorable, spoil):
    cli, bad = restorable
    spoil(bad)
    before = sha256(cli.path)
    assert_one_line_error(cli("restore", bad, "--yes"), 1, "backup")
    assert sha256(cli.path) == before
    assert not Path(f"{cli.path}.restoring").exists()
    assert codes(cli.path) == ["B1", "B2"]


def test_restore_refuses_a_missing_file(restorable, tmp_path):
    cli, _ = restorable
    before = sha256(cli.path)
    assert_one_line_error(cli("restore", tmp_path / "nope.duly", "--yes"), 1, "no backup")
    assert sha256(cli.path) == before


def test_backup_refuses_to_overwrite_a_file(restorable, tmp_path):
    cli, good = restorable
    before = sha256(good)
    assert_one_line_error(cli("backup", good), 1, "already exists")
    assert sha256(good) == before


def test_restore_detects_a_flipped_byte_on_a_free_page(cli, tmp_path):
    """integrity_check never reads a free page; the page HMACs (cipher_integrity_check) must catch it."""
    from store.ledger import backup as backups

    source, good = tmp_path / "src.duly", tmp_path / "freepages.duly"
    with Ledger.create(source, PASSPHRASE) as led:
        customers.add(led, "F1", "Free page test")
        led.conn.execute("CREATE TABLE scratch (x)")
        led.conn.execute("INSERT INTO scratch SELECT randomblob(3000) FROM "
                         "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20) SELECT i FROM n)")
        led.conn.execute("DROP TABLE scratch")
        assert led.conn.execute("PRAGMA freelist_count").fetchone()[0] > 0
        backups.backup(led, good)
    shutil.copyfile(source, cli.path)
    before = sha256(cli.path)
    data = bytearray(good.read_bytes())
    data[len(data) - 4096 + 100] ^= 0x01  # the last page is one of the free ones
    good.write_bytes(bytes(data))
    assert_one_line_error(cli("restore", good, "--yes"), 1, "backup")
    assert sha256(cli.path) == before


# -- layering: the store has no UI or network imports ----------------------------------------------

def test_store_and_sync_do_not_import_textual_and_store_not_httpx():
    script = textwrap.dedent("""
        import importlib, pkgutil, sys
        import store
        names = [m.name for m in pkgutil.walk_packages(store.__path__, "store.")]
        for name in names:
            importlib.import_module(name)
        bad = [m for m in ("textual", "httpx") if m in sys.modules]
        assert not bad, f"importing store modules {names} pulled in {bad}"
        import sync
        names = [m.name for m in pkgutil.walk_packages(sync.__path__, "sync.")]
        for name in names:
            importlib.import_module(name)
        assert "textual" not in sys.modules, f"importing sync modules {names} pulled in textual"
        print("ok", len(names))
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ok")


# -- crash safety ----------------------------------------------------------------------------------

WRITER = textwrap.dedent("""
    import sys
    from store.write import customers
    from store.ledger.ledger import Ledger
    path, passphrase, start = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ledger = Ledger.open(path, passphrase)
    sys.stdout.write("ready\\n"); sys.stdout.flush()
    i = start
    while True:
        code = f"K{i:06d}"
        customers.add(ledger, code, f"客户 {i} Crash Test Trading", email=f"k{i}@example.com")
        sys.stdout.write(code + "\\n"); sys.stdout.flush()  # only after COMMIT
        i += 1
""")


def test_sigkill_during_writes_loses_nothing_committed(ledger):
    path = ledger.path
    ledger.close()
    rng = random.Random(20260101)
    committed: set[str] = set()
    start, deadline = 0, time.monotonic() + 12
    for _round in range(5):
        if time.monotonic() > deadline:
            break
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), PASSPHRASE, str(start)], cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        # The kill falls at a random point of the writes, but after the first commit: on a loaded machine a fixed
        # delay after "ready" could end every round before anything was written, and test nothing.
        first = proc.stdout.readline()
        assert first.endswith("\n"), proc.stderr.read()
        time.sleep(rng.uniform(0.05, 0.6))
        os.kill(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        printed = [line for line in (first + out).split("\n")[:-1] if line]  # a cut-off last line is not counted
        committed.update(printed)
        with Ledger.open(path, PASSPHRASE) as led:
            assert led.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            present = {r[0] for r in led.conn.execute("SELECT code FROM customers")}
            assert committed <= present, sorted(committed - present)[:5]
            assert changes.verify(led.conn) == []
            assert led.conn.execute("SELECT count(*) FROM changes").fetchone()[0] == len(present)
            start = len(present) + 1000 * (_round + 1)
    assert len(committed) > 0


# -- concurrency -----------------------------------------------------------------------------------

def test_two_threads_with_their_own_connections_lose_nothing(ledger):
    per_thread, errors = 40, []

    def work(tag: str) -> None:
        try:
            with ledger.reopen() as mine:
                for i in range(per_thread):
                    customers.add(mine, f"{tag}{i:03d}", f"{tag} customer {i}")
        except Exception as exc:  # reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=work, args=(tag,)) for tag in ("T", "U")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    found = {r[0] for r in ledger.conn.execute("SELECT code FROM customers")}
    assert found == {f"{tag}{i:03d}" for tag in ("T", "U") for i in range(per_thread)}
    assert ledger.conn.execute("SELECT count(*) FROM changes").fetchone()[0] == 2 * per_thread
    seqs = [r[0] for r in ledger.conn.execute("SELECT device_seq FROM changes ORDER BY device_seq")]
    assert seqs == list(range(1, 2 * per_thread + 1))
    assert changes.verify(ledger.conn) == []


def test_restore_refuses_a_backup_whose_settlement_cache_disagrees_with_its_documents(tmp_path):
    from store.ledger import backup as backups
    from store.errors import BadBackup
    from tests.support.builders import Book

    ledger = Ledger.create(tmp_path / "l.duly", "pw")
    book = Book(ledger)
    cid = book.customer("K1")
    inv = book.invoice(cid, "2026-01-05", 10000)
    book.payment(cid, "2026-01-20", 10000, {inv: 10000})
    assert ledger.row("SELECT settled_on FROM doc_state WHERE id=?", (inv,))["settled_on"] == "2026-01-20"
    ledger.close()
    backups.check(tmp_path / "l.duly", "pw")  # sound as written
    raw = sqlcipher3.connect(str(tmp_path / "l.duly"))
    raw.execute("PRAGMA key = 'pw'")
    raw.execute("UPDATE doc_state SET settled_on = '2026-01-01' WHERE id = ?", (inv,))
    raw.commit()
    raw.close()
    with pytest.raises(BadBackup, match="settlement cache"):
        backups.check(tmp_path / "l.duly", "pw")


# -- hostile text on the way out -------------------------------------------------------------------

HOSTILE = "\x1b]2;pwned\x07\x1b[2JEvil\x9b31m"


def test_escape_sequences_in_names_are_shown_not_obeyed_by_the_cli(cli):
    assert cli("init").code == 0
    with Ledger.open(cli.path, PASSPHRASE) as led:
        customers.add(led, "EV1", HOSTILE)
    for argv in (("customer", "list"), ("customer", "show", "EV1")):
        result = cli(*argv)
        assert result.code == 0, result.err
        assert "\x1b" not in result.out and "\x07" not in result.out and "\x9b" not in result.out
        assert "\\x1b]2;pwned\\x07\\x1b[2JEvil\\x9b31m" in result.out
    assert "\x1b" not in cli("customer", "show", "EV1", "--format", "json").out  # json escapes them itself


# -- restore: a lock, a safety copy, a question, the same ledger -----------------------------------

def test_restore_without_a_terminal_needs_yes_and_replaces_nothing(restorable):
    cli, good = restorable
    before = sha256(cli.path)
    assert_one_line_error(cli("restore", good), 1, "--yes", "nothing was replaced")
    assert sha256(cli.path) == before and codes(cli.path) == ["B1", "B2"]
    assert not list(cli.path.parent.glob("*.before-restore-*")) and not Path(f"{cli.path}.restoring").exists()


@pytest.mark.parametrize("answer, replaced", [("n", False), ("", False), ("y", True)])
def test_restore_at_a_terminal_asks_first(restorable, monkeypatch, answer, replaced):
    cli, good = restorable
    asked = []
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or answer)
    result = cli("restore", good)
    assert len(asked) == 1 and "2 customers" in asked[0] and "1 customers" in asked[0]
    assert "before-restore-" in asked[0]
    if replaced:
        assert result.code == 0 and codes(cli.path) == ["B1"]
    else:
        assert_one_line_error(result, 1, "cancelled")
        assert codes(cli.path) == ["B1", "B2"]


def test_restore_keeps_the_replaced_ledger_as_a_safety_copy(restorable):
    cli, good = restorable
    result = cli("restore", good, "--yes")
    assert result.code == 0, result.err
    kept = list(cli.path.parent.glob(f"{cli.path.name}.before-restore-*"))
    assert len(kept) == 1 and str(kept[0]) in result.out
    assert codes(kept[0]) == ["B1", "B2"] and codes(cli.path) == ["B1"]


def test_restore_refuses_while_another_process_has_the_ledger_open(restorable):
    cli, good = restorable
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            sys.path.insert(0, {str(REPO)!r})
            from store.ledger.ledger import Ledger
            led = Ledger.open({str(cli.path)!r}, {PASSPHRASE!r})
            led.rows("SELECT * FROM customers")
            print("open", flush=True)
            sys.stdin.readline()
            from store.write import customers
            customers.add(led, "LATE", "written after the restore was tried")
            led.close()
            print("done", flush=True)
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        assert_one_line_error(cli("restore", good, "--yes"), 1, "open in another Duly", "nothing was replaced")
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "done"
    finally:
        holder.kill()
        holder.wait()
    assert codes(cli.path) == ["B1", "B2", "LATE"]  # the other process's write landed in the live ledger


def test_restore_refuses_a_backup_of_another_ledger_unless_told(restorable, tmp_path):
    cli, _ = restorable
    other = tmp_path / "other.duly"
    with Ledger.create(other, PASSPHRASE) as led:
        customers.add(led, "O1", "another ledger")
    before = sha256(cli.path)
    assert_one_line_error(cli("restore", other, "--yes"), 1, "another ledger", "--other-ledger")
    assert sha256(cli.path) == before
    assert cli("restore", other, "--yes", "--other-ledger").code == 0
    assert codes(cli.path) == ["O1"]


# -- duly check, and a backup of a damaged ledger --------------------------------------------------

def _damaged_on_a_free_page(path: Path) -> None:
    """A ledger whose last page (a free one) has 16 flipped bytes: it opens, reports and exports work."""
    with Ledger.create(path, PASSPHRASE) as led:
        customers.add(led, "D1", "Damaged")
        led.conn.execute("CREATE TABLE scratch (x)")
        led.conn.execute("INSERT INTO scratch SELECT randomblob(3000) FROM "
                         "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20) SELECT i FROM n)")
        led.conn.execute("DROP TABLE scratch")
    data = bytearray(path.read_bytes())
    for i in range(len(data) - 4096 + 200, len(data) - 4096 + 216):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def test_check_finds_flipped_bytes_in_a_page_and_backup_refuses_to_copy_them(cli, tmp_path):
    assert cli("init").code == 0
    ok = cli("check")
    assert ok.code == 0 and "is sound" in ok.out, ok.err
    cli.path.unlink()
    _damaged_on_a_free_page(cli.path)
    assert cli("customer", "list").code == 0  # it still opens and reads
    assert_one_line_error(cli("check"), 1, "fails its checks", "integrity check")
    target = tmp_path / "b.duly"
    assert_one_line_error(cli("backup", target), 1, "damaged", "no backup was written")
    assert not target.exists()
    verify = cli("audit", "verify")
    assert verify.code == 0 and "not the file's pages" in verify.out and "duly check" in verify.out


# -- files are private: 0600 ------------------------------------------------------------------------

def test_ledger_backup_exports_and_safety_copy_are_created_0600(cli, tmp_path):
    os.umask(0o022)
    assert cli("init").code == 0
    assert cli("customer", "add", "P1", "--name", "Private").code == 0
    with Ledger.open(cli.path, PASSPHRASE) as led:  # while open, the -wal and -shm exist
        customers.add(led, "P2", "Private too")
        sides = [Path(f"{cli.path}-wal"), Path(f"{cli.path}-shm")]
        assert all(p.exists() for p in sides)
        modes = {p.name: p.stat().st_mode & 0o777 for p in sides}
    assert cli("backup", tmp_path / "b.duly").code == 0
    assert cli("export", "csv", tmp_path / "csv").code == 0
    assert cli("export", "xlsx", tmp_path / "x.xlsx").code == 0
    assert cli("export", "hledger", tmp_path / "j.journal").code == 0
    assert cli("export", "beancount", tmp_path / "b.beancount").code == 0
    assert cli("restore", tmp_path / "b.duly", "--yes").code == 0
    files = [cli.path, tmp_path / "b.duly", *(tmp_path / "csv").iterdir(), tmp_path / "x.xlsx",
             tmp_path / "j.journal", tmp_path / "b.beancount", *cli.path.parent.glob("*.before-restore-*")]
    modes.update({p.name: p.stat().st_mode & 0o777 for p in files})
    assert modes == {name: 0o600 for name in modes}, modes


# -- a full disk -------------------------------------------------------------------------------------

def _duly_with_file_limit(limit: int, *argv) -> subprocess.CompletedProcess:
    """`duly ARGV` in a process that may not write a file beyond `limit` bytes (RLIMIT_FSIZE): for SQLite and
    Python a write beyond it fails as on a full disk (EFBIG, a short write: SQLITE_FULL / I/O error)."""
    code = textwrap.dedent(f"""
        import resource, signal, sys
        sys.path.insert(0, {str(REPO)!r})
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel kills the process at the limit
        resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
        from tui.cli.main import main
        sys.exit(main({[str(a) for a in argv]!r}))
    """)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "DULY_PASSPHRASE": PASSPHRASE, "DULY_USER": "tester"})


@pytest.fixture
def big_ledger(tmp_path):
    """A ledger of about 300 KB (after a checkpoint: no -wal)."""
    path = tmp_path / "big.duly"
    with Ledger.create(path, PASSPHRASE) as led:
        for n in range(60):
            customers.add(led, f"K{n:03d}", f"Customer {n}", notes="x" * 4000)
    assert path.stat().st_size > 200_000
    return path


def _one_line(proc, *words):
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])


def test_a_full_disk_while_writing_says_so_and_keeps_the_ledger(big_ledger):
    before = codes(big_ledger)
    proc = _duly_with_file_limit(60_000, "--ledger", big_ledger, "customer", "add", "FULL", "--name", "n",
                                 "--notes", "y" * 100_000)
    _one_line(proc, "the disk is full", "nothing was changed")
    assert codes(big_ledger) == before
    with Ledger.open(big_ledger, PASSPHRASE) as led:
        assert changes.verify(led.conn) == []


def test_a_full_disk_during_backup_or_restore_leaves_no_partial_file(big_ledger, tmp_path):
    target = tmp_path / "b.duly"
    _one_line(_duly_with_file_limit(60_000, "--ledger", big_ledger, "backup", target), "the disk is full")
    assert not target.exists() and not list(tmp_path.glob("b.duly*"))
    good = tmp_path / "good.duly"
    with Ledger.open(big_ledger, PASSPHRASE) as led:
        from store.ledger import backup as backups

        backups.backup(led, good)
        customers.add(led, "AFTER", "after the backup")
    before = codes(big_ledger)
    _one_line(_duly_with_file_limit(60_000, "--ledger", big_ledger, "restore", good, "--yes"), "the disk is full")
    assert codes(big_ledger) == before and "AFTER" in before  # not replaced (the held file's header may differ)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.duly", "good.duly"]


def test_a_duly_process_dumps_no_core_and_wipes_sqlcipher_memory(tmp_path):
    """A core dump of a Duly process held the passphrase and customer names."""
    code = textwrap.dedent(f"""
        import resource, sys
        sys.path.insert(0, {str(REPO)!r})
        hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
        resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))  # as permissive as this process may be
        from tui.cli.main import main
        main(["--ledger", {str(tmp_path / "x.duly")!r}, "init"])
        import sqlcipher3
        memsec = sqlcipher3.connect(":memory:").execute("PRAGMA cipher_memory_security").fetchone()[0]
        print(resource.getrlimit(resource.RLIMIT_CORE)[0], memsec)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "DULY_PASSPHRASE": PASSPHRASE}).stdout.splitlines()[-1]
    assert out == "0 1"


@pytest.mark.parametrize("job", [["import", "customers", "c.csv"], ["export", "csv", "out"]])
def test_a_bulk_process_dumps_no_core_and_cannot_be_traced_instead_of_wiping(tmp_path, job):
    """An import, an export or the demo runs without SQLCipher's wiping (2-10x its time:
    store.ledger.db.BULK_COMMANDS), so the process is made undumpable instead: no core, no ptrace by the user's
    other processes."""
    src = tmp_path / "c.csv"
    src.write_text("code,name\nK1,Kunde\n", encoding="utf-8")
    code = textwrap.dedent(f"""
        import resource, sys
        sys.path.insert(0, {str(REPO)!r})
        hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
        resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))
        from tui.cli.main import main
        main(["--ledger", {str(tmp_path / "x.duly")!r}, "init"])
        main(["--ledger", {str(tmp_path / "x.duly")!r}, *{[str(tmp_path / w) if "." in w or w == "out" else w
                                                             for w in job]!r}])
        import ctypes
        print(resource.getrlimit(resource.RLIMIT_CORE)[0], ctypes.CDLL(None).prctl(3, 0, 0, 0, 0))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "DULY_PASSPHRASE": PASSPHRASE}).stdout.splitlines()[-1]
    assert out == "0 0"  # PR_GET_DUMPABLE (3) is 0


@pytest.mark.parametrize("job, bulk", [(["sync", "join", "--server", "http://127.0.0.1:9", "--invite", "x.y.z"], True),
                                       (["sync", "init", "--server", "http://127.0.0.1:9"], True),
                                       (["sync", "status", "--offline"], False)])
def test_sync_init_and_join_run_as_bulk_jobs_and_the_other_sync_commands_wipe(tmp_path, job, bulk):
    """`sync init` sends a whole book and `sync join` writes and checks one: bulk jobs (undumpable instead of
    SQLCipher's wiping, which doubled the snapshot's export and made a 200k-invoice join fail with SQLITE_NOMEM);
    every other sync command wipes as before. The server here is not there: the command fails, after the
    process was set up."""
    ledger = tmp_path / ("new.duly" if job[1] == "join" else "x.duly")
    if job[1] != "join":  # a ledger made by a process of its own (the wiping, once on, stays on in a process)
        subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(REPO)!r}); from tui.cli.main "
                        f"import main; main(['--ledger', {str(ledger)!r}, 'init'])"], capture_output=True, timeout=60,
                       env={**os.environ, "DULY_PASSPHRASE": PASSPHRASE}, check=True)
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(REPO)!r})
        from tui.cli.main import main
        main(["--ledger", {str(ledger)!r}, *{job!r}])
        import ctypes, sqlcipher3
        memsec = sqlcipher3.connect(":memory:").execute("PRAGMA cipher_memory_security").fetchone()[0]
        print(ctypes.CDLL(None).prctl(3, 0, 0, 0, 0), memsec)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "DULY_PASSPHRASE": PASSPHRASE}).stdout.splitlines()[-1]
    assert out == ("0 0" if bulk else "1 1")


def test_the_ledger_checks_on_two_connections_at_once_find_what_they_find_one_after_the_other(tmp_path):
    """backup.ledger_problems with `connect` (the page check on a second connection, as a joining device runs
    it) says the same as the checks run in turn: nothing on a sound ledger, a damaged page first."""
    from store.ledger import backup, db

    sound, damaged = tmp_path / "sound.duly", tmp_path / "damaged.duly"
    with Ledger.create(sound, PASSPHRASE) as led:
        customers.add(led, "S1", "Sound")
    _damaged_on_a_free_page(damaged)
    for path, expected in ((sound, None), (damaged, "integrity check failed")):
        again = partial(db.connect, path, PASSPHRASE)
        conn = again()
        try:
            found = backup.ledger_problems(conn, connect=again)
            assert found == backup.ledger_problems(conn)
            assert (found == []) if expected is None else (expected in found[0])
        finally:
            conn.close()


def test_check_counts_write_offs_in_what_an_invoice_has_applied(ledger):
    # 800.00 paid and 300.00 written off on a 1,000.00 invoice (a write-off posted past the checks): open is
    # -100.00 by store.read.open's rule, as sync's over-allocation flag counts it, so the check calls it damage.
    from store.ledger import backup
    from tests.support.builders import Book

    book = Book(ledger)
    customer = book.customer("A")
    invoice = book.invoice(customer, "2026-01-10", 100000)
    book.payment(customer, "2026-02-01", 80000, {invoice: 80000})
    assert backup.invariant_problems(ledger.conn) == []
    book.writeoff(invoice, "2026-03-01", 30000)
    assert backup.invariant_problems(ledger.conn) == [
        "invoice T1-000001 has more allocated and written off than its total"]


def test_the_checks_on_three_connections_say_a_broken_hash_chain_as_the_checks_one_after_the_other_do(tmp_path):
    """With `connect`, the hash chains are recomputed on a connection of their own beside the invariants; what
    they find is said all the same, before the invariants' problems."""
    from store.ledger import backup, db

    path = tmp_path / "edited.duly"
    with Ledger.create(path, PASSPHRASE) as led:
        for n in range(3):
            customers.add(led, f"C{n}", f"Name {n}")
        led.conn.execute("UPDATE changes SET actor='mallory' WHERE device_seq=2")
    again = partial(db.connect, path, PASSPHRASE)
    conn = again()
    try:
        found = backup.ledger_problems(conn, connect=again)
        assert found == backup.ledger_problems(conn)
        assert found and "entry 2" in found[0]
    finally:
        conn.close()
