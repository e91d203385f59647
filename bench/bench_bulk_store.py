"""The demo's speed, the ledger file's size against the same book as an hledger journal, and `sync init`.

    python bench/bench_bulk_store.py [--sizes 20000,200000] [--customers 2000] [--before DIR] [--no-sync]
                                     [--tables] [--json]

For each size and each code tree (this one, and the old one at --before, e.g. `git archive COMMIT | tar -x -C
/tmp/before`): `duly demo --invoices N` into a fresh file, timed as a whole process (wall seconds, CPU seconds of
the process: user + system, and its peak RSS, from wait4); the file's size, and its ratio to the same book written by
`duly export hledger` (each tree's own book, exported by this tree: a demo changed between the trees may draw another
book); with --tables, the size of each table and index (the file decrypted to a plain copy, measured with SQLite's
dbstat), the share of the change log, the settlement cache and the documents, and what the file would be as a
ratio to the journal without the cache, without the change log, and without both; then `duly sync init` of that
book against a `duly serve` on loopback (push of the whole change log and the first snapshot), timed the same way.
The machine may be shared: CPU seconds say more than wall seconds there.
"""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))
PASSPHRASE = "bench passphrase"


def run(tree: Path, *argv: str, env: dict) -> dict:
    """One duly process from a code tree: wall and CPU seconds, peak RSS (MB)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-c", "import sys; from tui.cli.main import run; "
                                 "sys.argv[0] = 'duly'; run()", *argv], env={**env, "PYTHONPATH": str(tree)},
                                cwd=tree, stdout=subprocess.DEVNULL, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        took = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            raise SystemExit(f"duly {' '.join(argv)} failed in {tree}: {err.read().strip()[-2000:]}")
    return {"wall": round(took, 2), "cpu": round(usage.ru_utime + usage.ru_stime, 2),
            "rss_mb": usage.ru_maxrss // 1024}


def sizes(path: Path) -> dict[str, int]:
    """Bytes of each table and index of a ledger (decrypted to a plain copy, then SQLite's dbstat)."""
    from store.ledger import db

    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        plain = Path(tmp) / "plain.db"
        conn = db.connect(path, PASSPHRASE)
        try:
            conn.execute(f"ATTACH DATABASE '{plain}' AS plain KEY ''")
            conn.execute("SELECT sqlcipher_export('plain')")
            conn.execute("DETACH DATABASE plain")
        finally:
            conn.close()
        with sqlite3.connect(plain) as p:
            return dict(p.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"))


# What each part of the file is for: its tables and their indexes, by the table they belong to.
PARTS = {"change log": ("changes",), "settlement cache": ("doc_state",)}


def parts(path: Path, measured: dict[str, int]) -> dict[str, float]:
    """The share of the file (0-1) that the change log, the settlement cache, the posted documents (with their
    indexes) and the rest take, from the sizes of its tables and indexes."""
    from store.ledger import db, schema

    conn = db.connect(path, PASSPHRASE)
    try:
        owner = dict(conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"))
    finally:
        conn.close()
    total = sum(measured.values())
    shares = dict.fromkeys((*PARTS, "documents", "the rest"), 0.0)
    for name, size in measured.items():
        table = owner.get(name, name)
        part = next((p for p, tables in PARTS.items() if table in tables), None)
        part = part or ("documents" if table in schema.EVENTS else "the rest")
        shares[part] += size / total
    return shares


def sync_init(tree: Path, ledger: Path, env: dict) -> dict:
    from bench.bench_sync import Server

    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp), None)
        try:
            return run(tree, "--ledger", str(ledger), "sync", "init", "--server", server.url, "--name", "bench",
                       env=env)
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="20000")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--before", default=None, help="an older code tree to run the same way")
    parser.add_argument("--no-sync", action="store_true")
    parser.add_argument("--tables", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    env = {**os.environ, "DULY_PASSPHRASE": PASSPHRASE, "DULY_LANG": "en", "NO_COLOR": "1"}
    trees = [("after", HERE)] + ([("before", Path(args.before).resolve())] if args.before else [])
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-bulk-store-") as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            for label, tree in trees:
                ledger = Path(tmp) / f"{label}-{size}.duly"
                row = {"size": size, "tree": label,
                       "demo": run(tree, "--ledger", str(ledger), "demo", "--invoices", str(size), "--customers",
                                   str(args.customers), env=env)}
                journal = Path(tmp) / f"{label}-{size}.journal"  # its own book's: a changed demo draws another book
                run(HERE, "--ledger", str(ledger), "export", "hledger", str(journal), env=env)
                row["file_mb"] = round(ledger.stat().st_size / 1e6, 1)
                row["journal_mb"] = round(journal.stat().st_size / 1e6, 1)
                row["ratio"] = round(ledger.stat().st_size / journal.stat().st_size, 2)
                if args.tables:
                    measured = sizes(ledger)
                    row["tables_mb"] = {k: round(v / 1e6, 2) for k, v in measured.items() if v > 100_000}
                    row["parts"] = {k: round(v, 3) for k, v in parts(ledger, measured).items()}
                if not args.no_sync:
                    row["sync_init"] = sync_init(tree, ledger, env)
                results.append(row)
                print(json.dumps(row) if args.json else
                      f"{size:>8} {label:6} demo {row['demo']['wall']:7.1f} s wall {row['demo']['cpu']:7.1f} s cpu "
                      f"{row['demo']['rss_mb']:5} MB | file {row['file_mb']:7.1f} MB = {row['ratio']:.2f}x journal "
                      f"({row['journal_mb']} MB)"
                      + (f" | sync init {row['sync_init']['wall']:.1f} s wall {row['sync_init']['cpu']:.1f} s cpu "
                         f"{row['sync_init']['rss_mb']} MB" if "sync_init" in row else ""), flush=True)
                if args.tables and not args.json:
                    for name, mb in row["tables_mb"].items():
                        print(f"{'':17}{name:40} {mb:8.2f} MB")
                    share = row["parts"]
                    print(f"{'':17}" + ", ".join(f"{k} {v:.0%}" for k, v in share.items()))
                    for left_out in (("settlement cache",), ("change log",), ("settlement cache", "change log")):
                        kept = 1 - sum(share[k] for k in left_out)
                        print(f"{'':17}without the {' and the '.join(left_out)}: "
                              f"{row['ratio'] * kept:.2f}x journal")
                ledger.unlink()
                journal.unlink()
                for extra in (ledger.with_name(ledger.name + "-wal"), ledger.with_name(ledger.name + "-shm")):
                    extra.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
