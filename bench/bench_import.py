"""Bulk import: a book made by `duly demo` and written by `duly export csv`, imported into a fresh ledger.

    python bench/bench_import.py [--sizes 20000,200000] [--customers 2000] [--before DIR] [--kinds ...]
                                 [--books DIR] [--json]

For each size: `duly demo --invoices N` then `duly export csv` (once; kept in --books to be reused), then for each
code tree (this one, and the old one checked out at --before, e.g. `git worktree add /tmp/bulk-before bf50a0f`)
a fresh `duly init` and `duly import customers`, `import invoices`, `import payments` in that order, each timed as
a whole process with its peak RSS (from wait4). Prints rows/s and the before/after ratios. --without-wiping
also runs this code with SQLCipher's cipher_memory_security off (Duly never does; it shows what the wiping and
locking of every allocation costs a write-heavy job).
The old tree runs with the same interpreter and PYTHONPATH pointing at it, so only the code differs.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PASSPHRASE = "bench passphrase"
HERE = Path(__file__).resolve().parent.parent


def duly(tree: Path, *argv: str, env: dict, wipe: bool = True) -> tuple[float, int]:
    """Run duly from a code tree as a whole process: (seconds, peak RSS of that process in MB, from wait4).
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
    return took, usage.ru_maxrss // 1024


def rows(path: Path) -> int:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return max(sum(1 for _ in csv.reader(f)) - 1, 0)


def book(books: Path, size: int, customers: int, env: dict) -> Path:
    out = books / f"x{size}"
    if not (out / "payments.csv").exists():
        ledger = books / f"d{size}.duly"
        ledger.unlink(missing_ok=True)
        took, _ = duly(HERE, "--ledger", str(ledger), "demo", "--invoices", str(size), "--customers", str(customers),
                       "--seed", "7", env=env)
        print(f"built the {size:,}-invoice book in {took:.1f} s", file=sys.stderr)
        duly(HERE, "--ledger", str(ledger), "export", "csv", str(out), env=env)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="20000,200000")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--before", help="a checkout of the old code to run in the same run")
    parser.add_argument("--kinds", default="customers,invoices,payments")
    parser.add_argument("--books", default=None, help="where demo books and their CSV are kept between runs")
    parser.add_argument("--skip-before-over", type=int, default=0,
                        help="run the old code only on sizes up to this (its payments import is quadratic)")
    parser.add_argument("--without-wiping", action="store_true",
                        help="also run this code without SQLCipher's cipher_memory_security, to show what it costs")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
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
        for label, tree, wipe in trees:
            if label == "before" and args.skip_before_over and size > args.skip_before_over:
                continue
            with tempfile.TemporaryDirectory(prefix="duly-import-") as work:
                ledger = str(Path(work) / "fresh.duly")
                duly(tree, "--ledger", ledger, "init", env=env, wipe=wipe)
                for kind in args.kinds.split(","):
                    src = csvs / f"{kind}.csv"
                    took, peak = duly(tree, "--ledger", ledger, "import", kind, str(src), env=env, wipe=wipe)
                    n = rows(src)
                    results.append({"size": size, "code": label, "kind": kind, "rows": n, "seconds": round(took, 2),
                                    "rows_per_s": round(n / took), "peak_rss_mb": peak})
                    print(f"{size:>8,} {label:<6} import {kind:<9} {n:>8,} rows {took:8.1f} s "
                          f"{n / took:9,.0f} rows/s  peak {peak:>5} MB", file=sys.stderr)
    if args.before:
        for r in results:
            if r["code"] != "after":
                continue
            old = next((o for o in results if o["code"] == "before" and o["size"] == r["size"]
                        and o["kind"] == r["kind"]), None)
            if old:
                r["speedup"] = round(old["seconds"] / r["seconds"], 1)
                print(f"{r['size']:>8,} import {r['kind']:<9} {old['seconds']:8.1f} s -> {r['seconds']:8.1f} s "
                      f"({r['speedup']}x)", file=sys.stderr)
    if args.json:
        print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
