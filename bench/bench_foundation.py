"""Foundation costs: opening a ledger of 2,000 customers, and one customer write as a whole process.

    python bench/bench_foundation.py [--customers 2000] [--json]

(a) median of 5 `Ledger.open` (+close) and of 5 whole-process `duly customer list --format json > /dev/null`;
(b) median of 10 whole-process `duly customer add ...`.
For context it also times `duly --help` (interpreter + imports, no ledger) and the bare key derivation.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from store.ledger.ledger import Ledger
from store.ledger.ids import uuid7

PASSPHRASE = "bench passphrase"


def duly_exe() -> str:
    found = Path(sys.executable).with_name("duly")
    return str(found) if found.exists() else "duly"


def make_ledger(path: Path, n: int) -> None:
    with Ledger.create(path, PASSPHRASE) as led:
        with led.writing() as tx:
            tx.set("settings", "currency", value="CNY")
        with led.writing() as tx:  # one transaction, one change entry: fast to build
            for i in range(n):
                tx.set("customers", uuid7(), code=f"C{i:05d}", name=f"客户 {i} Trading Co., Ltd.",
                       currency="CNY", email=f"ar{i}@example.com", phone="+86 21 5555 0000",
                       tax_id="91350100M000100Y43", category="A", settlement_cycle="monthly",
                       credit_limit=100_000_00, archived=0)


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def run_process(argv: list[str], env: dict) -> None:
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duly"
        t0 = time.perf_counter()
        make_ledger(path, args.customers)
        build = time.perf_counter() - t0
        env = {**os.environ, "DULY_LEDGER": str(path), "DULY_PASSPHRASE": PASSPHRASE}
        exe = duly_exe()

        def kdf_only():
            import sqlcipher3

            conn = sqlcipher3.connect(str(path))
            conn.execute(f"PRAGMA key = '{PASSPHRASE}'")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            conn.close()

        opens = timed(lambda: Ledger.open(path, PASSPHRASE).close(), 5)
        kdf = timed(kdf_only, 5)
        helps = timed(lambda: run_process([exe, "--help"], env), 5)
        lists = timed(lambda: run_process([exe, "customer", "list", "--format", "json"], env), 5)
        counter = iter(range(10**6))
        adds = timed(lambda: run_process(
            [exe, "customer", "add", f"N{next(counter):05d}", "--name", "Bench Write Co", "--email", "b@example.com",
             "--tax-id", "91350100M000100Y43"], env), 10)
        with Ledger.open(path, PASSPHRASE) as led:
            assert led.conn.execute("SELECT count(*) FROM customers").fetchone()[0] == args.customers + 10

    ms = lambda xs: round(statistics.median(xs) * 1000, 1)  # noqa: E731
    result = {
        "customers": args.customers,
        "build_s": round(build, 2),
        "ledger_open_ms": ms(opens),
        "key_derivation_only_ms": ms(kdf),
        "process_duly_help_ms": ms(helps),
        "process_customer_list_json_ms": ms(lists),
        "process_customer_add_ms": ms(adds),
        "loadavg_1min": round(os.getloadavg()[0], 2),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:32} {value}")


if __name__ == "__main__":
    main()
