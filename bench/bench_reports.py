"""Benchmark the read side (DESIGN §7): whole-process `duly report aging` / `report summary` / `statement`
on demo ledgers, and the aging SQL on the encrypted file against a plain SQLite copy.

    python bench/bench_reports.py [--sizes 10000,200000] [--customers 2000] [--runs 5] [--keep DIR]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PASS = "bench"
SQL_PROBE = r"""
import sys, time
from store.ledger import db
from store.read import open as openitems
from store.read import reports
kind, path, as_of = sys.argv[1:4]
t = time.perf_counter()
if kind == "plain":
    import sqlite3
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA cache_size = -{db.CACHE_KIB}")
else:
    conn = db.connect(path, sys.argv[4])
opened = time.perf_counter()
for sql in (openitems.OPEN_INVOICES_SQL, openitems.UNAPPLIED_SQL):
    conn.execute(sql, {"d": as_of}).fetchall()
print(time.perf_counter() - opened)
"""


def duly() -> str:
    found = Path(sys.executable).with_name("duly")
    return str(found) if found.exists() else "duly"


def timed(argv: list[str], env: dict) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"{' '.join(argv)} failed: {proc.stderr.strip()}")
    return elapsed


def median(fn, runs: int) -> float:
    return statistics.median(fn() for _ in range(runs))


def plain_copy(path: Path, target: Path) -> None:
    import sqlcipher3

    conn = sqlcipher3.connect(str(path), isolation_level=None)
    conn.execute(f"PRAGMA key = '{PASS}'")
    conn.execute(f"ATTACH DATABASE '{target}' AS plain KEY ''")
    conn.execute("SELECT sqlcipher_export('plain')")
    conn.execute("DETACH DATABASE plain")
    conn.close()


def sql_time(kind: str, path: Path, as_of: str, env: dict) -> float:
    out = subprocess.run([sys.executable, "-c", SQL_PROBE, kind, str(path), as_of, PASS], env=env,
                         capture_output=True, text=True, check=True).stdout
    return float(out.strip())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="10000,200000")
    ap.add_argument("--customers", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keep", help="build ledgers in this directory and keep them (reused when present)")
    args = ap.parse_args()
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="duly-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DULY_PASSPHRASE": PASS}
    env.pop("DULY_LEDGER", None)
    from datetime import date, timedelta

    as_of = (date.today() - timedelta(days=30)).isoformat()
    results = []
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            path = workdir / f"demo-{size}.duly"
            build = None
            if not path.exists():
                build = timed([duly(), "--ledger", str(path), "demo", "--customers", str(args.customers),
                               "--invoices", str(size), "--seed", "1"], env)
            plain = workdir / f"demo-{size}.plain.sqlite"
            if not plain.exists():
                plain_copy(path, plain)
            base = [duly(), "--ledger", str(path)]
            row = {"invoices": size, "build": build}
            row["aging"] = median(lambda: timed([*base, "report", "aging", "--as-of", as_of], env), args.runs)
            row["aging_json"] = median(
                lambda: timed([*base, "report", "aging", "--as-of", as_of, "--format", "json"], env), args.runs)
            row["summary"] = median(lambda: timed([*base, "report", "summary", "--as-of", as_of], env), args.runs)
            row["statement"] = median(lambda: timed([*base, "statement", "C0001", "--from", "2000-01-01", "--to",
                                                     as_of, "--format", "html"], env), args.runs)
            row["sql_cipher"] = median(lambda: sql_time("cipher", path, as_of, env), args.runs)
            row["sql_plain"] = median(lambda: sql_time("plain", plain, as_of, env), args.runs)
            row["mb"] = path.stat().st_size / 2**20
            results.append(row)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    head = ["invoices", "file MB", "demo build s", "aging s", "aging json s", "summary s", "statement s",
            "aging SQL cipher s", "aging SQL plain s", "cipher/plain"]
    print(f"as of {as_of}, {args.customers} customers, medians of {args.runs} (whole process, cold start)")
    print(" | ".join(head))
    for r in results:
        print(" | ".join([
            f"{r['invoices']:,}", f"{r['mb']:.0f}", "-" if r["build"] is None else f"{r['build']:.1f}",
            f"{r['aging']:.2f}", f"{r['aging_json']:.2f}", f"{r['summary']:.2f}", f"{r['statement']:.2f}",
            f"{r['sql_cipher']:.3f}", f"{r['sql_plain']:.3f}", f"{r['sql_cipher'] / r['sql_plain']:.2f}x"]))


if __name__ == "__main__":
    main()
