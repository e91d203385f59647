"""Bulk import: a book made by `duly demo` and written by `duly export csv`, imported into a fresh ledger.

    python bench/bench_import.py [--sizes 20000,200000] [--customers 2000] [--before DIR [--before-without-lines]]
                                 [--kinds ...] [--books DIR] [--floor] [--json]

For each size: `duly demo --invoices N` then `duly export csv` and `duly export hledger` (once; kept in --books to
be reused), then for each code tree (this one, and the old one checked out at --before, e.g. `git archive COMMIT |
tar -x -C /tmp/bulk-before`) a fresh `duly init` and `duly import customers`, `import invoices`, `import payments`
in that order, each timed as a whole process with its peak RSS (from wait4). `payments-auto` is the same payments
file with the invoice column emptied, so every payment is applied oldest due first (automatic allocation): it is
imported into a copy of the ledger as it was before `payments`. The peer, `hledger bal` (and `ledger bal` when
installed) reading the same book as a journal, is timed in the same run. Prints rows/s, rows per CPU-second
(user + system time of the process: the machine may be shared) and the before/after
ratios. --floor also times the floor under any import into this storage: the rows the import wrote, written
again into a fresh ledger the way the demo writes a new book, with no file read, no check and no change log.
--without-wiping also runs this code with SQLCipher's cipher_memory_security forced off (an import already
runs without it: store.ledger.db.BULK_COMMANDS).
The old tree runs with the same interpreter and PYTHONPATH pointing at it, so only the code differs; it imports the
same files, or with --before-without-lines the invoices without their lines column (for a Duly before that column:
then its invoice figures are for less work and are not comparable).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PASSPHRASE = "bench passphrase"
HERE = Path(__file__).resolve().parent.parent


def duly(tree: Path, *argv: str, env: dict, wipe: bool = True) -> tuple[float, int, float]:
    """Run duly from a code tree as a whole process: (seconds, peak RSS of that process in MB, CPU seconds (user +
    system), both from wait4; on a shared machine the CPU seconds say more than the wall time).
    wipe=False runs it without SQLCipher's memory security (for comparison only: Duly always turns it on)."""
    start = time.perf_counter()
    patch = "" if wipe else "import store.ledger.db as db; db.harden_process = lambda: None; "
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-c", f"import sys; {patch}from tui.cli.main import run; "
                                 "sys.argv[0] = 'duly'; run()", *argv], env={**env, "PYTHONPATH": str(tree)}, cwd=tree,
                                stdout=subprocess.DEVNULL, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        took = time.perf_counter() - start
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"duly {' '.join(argv)} failed in {tree}: {err.read().strip()[-2000:]}")
    return took, usage.ru_maxrss // 1024, usage.ru_utime + usage.ru_stime


def rows(path: Path) -> int:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return max(sum(1 for _ in csv.reader(f)) - 1, 0)


def book(books: Path, size: int, customers: int, env: dict) -> Path:
    out = books / f"x{size}"
    if not (out / "payments-auto.csv").exists():
        ledger = books / f"d{size}.duly"
        ledger.unlink(missing_ok=True)
        took, peak, _ = duly(HERE, "--ledger", str(ledger), "demo", "--invoices", str(size), "--customers",
                          str(customers), "--seed", "7", env=env)
        print(f"built the {size:,}-invoice book in {took:.1f} s (peak {peak} MB)", file=sys.stderr)
        duly(HERE, "--ledger", str(ledger), "export", "csv", str(out), env=env)
        duly(HERE, "--ledger", str(ledger), "export", "hledger", str(out / "book.journal"), env=env)
        with (out / "payments.csv").open(encoding="utf-8-sig", newline="") as src, \
                (out / "payments-auto.csv").open("w", encoding="utf-8", newline="") as dst:
            reader, writer = csv.reader(src), csv.writer(dst)
            header = next(reader)
            writer.writerow(header)
            at = header.index("invoice")
            for row in reader:
                row[at] = "-" if row[at] == "-" else ""  # kept unapplied as it was, else oldest due first
                writer.writerow(row)
    return out


def without_lines(csvs: Path) -> Path:
    """The book's files without the invoices' `lines` column, for an older Duly that does not read it."""
    out = csvs / "old-format"
    if not (out / "payments-auto.csv").exists():
        out.mkdir(exist_ok=True)
        for src in csvs.glob("*.csv"):
            with src.open(encoding="utf-8-sig", newline="") as fh, (out / src.name).open("w", encoding="utf-8",
                                                                                          newline="") as dst:
                reader, writer = csv.reader(fh), csv.writer(dst)
                header = next(reader)
                keep = [k for k, name in enumerate(header) if name != "lines"]
                writer.writerow([header[k] for k in keep])
                writer.writerows([row[k] for k in keep] for row in reader)
    return out


def peers(journal: Path) -> list[dict]:
    """`hledger bal` / `ledger bal` reading the book's journal, timed as whole processes with their peak RSS."""
    found = []
    for name in ("hledger", "ledger"):
        exe = shutil.which(name)
        if not exe:
            continue
        start = time.perf_counter()
        proc = subprocess.Popen([exe, "-f", str(journal), "bal", "Assets:Receivable", "Liabilities:Unapplied"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, _, usage = os.wait4(proc.pid, 0)
        found.append({"peer": f"{name} bal", "seconds": round(time.perf_counter() - start, 2),
                      "peak_rss_mb": usage.ru_maxrss // 1024})
    return found


def floor_write(src: str, dst: str) -> dict:
    """The floor under any import into this storage: the rows of the ledger `src` (a finished import) written into
    the fresh ledger `dst` as the demo writes a new book (one transaction, a rollback journal, executemany per
    table, the settlement cache rebuilt and the documents' indexes made once after the rows), with none of an
    import's own work: no file read, no row checked, no change log. Returns the seconds of that write alone."""
    sys.path.insert(0, str(HERE))
    from store.files.demo import DOCUMENT_TABLES
    from store.ledger import db, schema
    from store.ledger.ledger import Ledger

    book = Ledger.open(src, PASSPHRASE)
    tables = {}
    for name in schema.SYNCED:
        cols = [r[1] for r in book.conn.execute(f"PRAGMA table_info({name})")]
        found = book.conn.execute(f"SELECT {', '.join(cols)} FROM {name}").fetchall()
        if found:
            tables[name] = (cols, found)
    book.close()
    new = Ledger.create(dst, PASSPHRASE)
    start = time.perf_counter()
    with db.collecting_less(), db.rollback_journal(new.conn):
        new.conn.execute("BEGIN IMMEDIATE")
        with schema.doc_state_suspended(new.conn), schema.indexes_built_after(new.conn, DOCUMENT_TABLES):
            for name, (cols, found) in tables.items():
                new.conn.executemany(f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                                     found)
        new.conn.execute("COMMIT")
    took = time.perf_counter() - start
    new.close()
    return {"seconds": round(took, 2), "rows_written": sum(len(f) for _c, f in tables.values())}


def floor(src: str, env: dict) -> dict:
    """floor_write in a process of its own (this tree), so that its memory is its own."""
    with tempfile.TemporaryDirectory(prefix="duly-floor-") as work:
        proc = subprocess.run([sys.executable, __file__, "--floor-of", src, str(Path(work) / "floor.duly")], env=env,
                              capture_output=True, text=True, check=True)
        return json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--floor", action="store_true",
                        help="also time the floor: the imported rows written with none of an import's own work")
    parser.add_argument("--floor-of", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default="20000,200000")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--before", help="a checkout of the old code to run in the same run")
    parser.add_argument("--kinds", default="customers,invoices,payments,payments-auto")
    parser.add_argument("--books", default=None, help="where demo books and their CSV are kept between runs")
    parser.add_argument("--skip-before-over", type=int, default=0,
                        help="run the old code only on sizes up to this (its payments import is quadratic)")
    parser.add_argument("--without-wiping", action="store_true",
                        help="also run this code without SQLCipher's cipher_memory_security, to show what it costs")
    parser.add_argument("--before-without-lines", action="store_true",
                        help="feed the old tree the files without the invoices' lines column (a Duly before it)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.floor_of:
        print(json.dumps(floor_write(*args.floor_of)))
        return
    env = {k: v for k, v in os.environ.items() if not k.startswith("DULY_")}
    env["DULY_PASSPHRASE"] = PASSPHRASE
    books = Path(args.books or tempfile.mkdtemp(prefix="duly-bulk-"))
    books.mkdir(parents=True, exist_ok=True)
    trees = [("after", HERE, True)] + ([("before", Path(args.before).resolve(), True)] if args.before else [])
    if args.without_wiping:
        trees.append(("nowipe", HERE, False))
    results = []
    for size in [int(s) for s in args.sizes.split(",")]:
        csvs = book(books, size, args.customers, env)
        for peer in peers(csvs / "book.journal"):
            results.append({"size": size, **peer})
            print(f"{size:>8,} peer   {peer['peer']:<16} {peer['seconds']:8.1f} s  peak {peer['peak_rss_mb']:>5} MB",
                  file=sys.stderr)
        for label, tree, wipe in trees:
            if label == "before" and args.skip_before_over and size > args.skip_before_over:
                continue
            with tempfile.TemporaryDirectory(prefix="duly-import-") as work:
                ledger = str(Path(work) / "fresh.duly")
                duly(tree, "--ledger", ledger, "init", env=env, wipe=wipe)
                kinds = args.kinds.split(",")
                for kind in kinds:
                    src = (without_lines(csvs) if label == "before" and args.before_without_lines else csvs) \
                        / f"{kind}.csv"
                    target = ledger
                    if kind == "payments" and "payments-auto" in kinds:  # the auto run starts from this state
                        shutil.copyfile(ledger, Path(work) / "auto.duly")
                    if kind == "payments-auto":
                        target = str(Path(work) / "auto.duly")
                    took, peak, cpu = duly(tree, "--ledger", target, "import", kind.partition("-")[0], str(src),
                                           env=env, wipe=wipe)
                    n = rows(src)
                    results.append({"size": size, "code": label, "kind": kind, "rows": n, "seconds": round(took, 2),
                                    "rows_per_s": round(n / took), "cpu_seconds": round(cpu, 2),
                                    "rows_per_cpu_s": round(n / max(cpu, 1e-9)), "peak_rss_mb": peak})
                    print(f"{size:>8,} {label:<6} import {kind:<13} {n:>8,} rows {took:8.1f} s {n / took:9,.0f} rows/s "
                          f"{cpu:8.1f} CPU-s {n / max(cpu, 1e-9):9,.0f} rows/CPU-s  peak {peak:>5} MB", file=sys.stderr)
                if args.floor and label == "after":
                    whole = [r for r in results if r.get("code") == "after" and r["size"] == size
                             and r["kind"] in ("customers", "invoices", "payments-auto")]
                    n, took = sum(r["rows"] for r in whole), sum(r["seconds"] for r in whole)
                    below = floor(str(Path(work) / "auto.duly") if "payments-auto" in kinds else ledger, env)
                    fastest = min((r["seconds"] for r in results if r.get("peer") and r["size"] == size), default=None)
                    results.append({"size": size, "code": "floor", "rows": n, **below,
                                    "rows_per_s": round(n / below["seconds"]), "import_seconds": round(took, 2)})
                    print(f"{size:>8,} floor  the same rows written with no import work: {below['seconds']:.1f} s "
                          f"({n / below['seconds']:,.0f} file rows/s; {below['rows_written']:,} table rows); "
                          f"the import: {took:.1f} s ({n / took:,.0f} rows/s)"
                          + (f"; the fastest peer: {fastest:.1f} s" if fastest else ""), file=sys.stderr)
    if args.before:
        for r in results:
            if r.get("code") != "after":
                continue
            old = next((o for o in results if o.get("code") == "before" and o["size"] == r["size"]
                        and o["kind"] == r["kind"]), None)
            if old:
                r["speedup"] = round(old["seconds"] / r["seconds"], 1)
                r["cpu_speedup"] = round(old["cpu_seconds"] / max(r["cpu_seconds"], 1e-9), 1)
                print(f"{r['size']:>8,} import {r['kind']:<13} {old['seconds']:8.1f} s -> {r['seconds']:8.1f} s "
                      f"({r['speedup']}x), {old['cpu_seconds']:8.1f} -> {r['cpu_seconds']:8.1f} CPU-s "
                      f"({r['cpu_speedup']}x)", file=sys.stderr)
    if args.json:
        print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
