"""What SQLCipher's `PRAGMA cipher_memory_security = ON` costs (it locks and wipes every buffer SQLCipher
allocates, so keys and decrypted pages do not linger in freed memory, swap or a core dump).

One demo ledger; the same probe, alternately with and without the pragma, in fresh processes: open the ledger
(key derivation included) and compute the aging report, as `duly report aging` does. Prints the medians and
their ratio.

    python bench/bench_memory_security.py [--invoices 20000] [--customers 500] [--runs 7] [--keep DIR]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PASS = "bench"
PROBE = r"""
import sys, time
from datetime import date
started = time.perf_counter()
import sqlcipher3
from store.read import reports
from store.ledger.ledger import Ledger
sqlcipher3.connect(":memory:").execute(f"PRAGMA cipher_memory_security = {sys.argv[2]}")
with Ledger.open(sys.argv[1], sys.argv[3]) as led:
    opened = time.perf_counter()
    reports.aging(led, date(2026, 6, 30))
    done = time.perf_counter()
print(opened - started, done - opened, done - started)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="keep the demo ledger in this directory")
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[1]
    work = args.keep or Path(tempfile.mkdtemp(prefix="duly-memsec-"))
    work.mkdir(parents=True, exist_ok=True)
    ledger = work / f"demo-{args.invoices}.duly"
    env = {**os.environ, "DULY_PASSPHRASE": PASS, "PYTHONPATH": str(root)}
    if not ledger.exists():
        duly = Path(sys.executable).with_name("duly")
        subprocess.run([str(duly), "--ledger", str(ledger), "demo", "--customers", str(args.customers),
                        "--invoices", str(args.invoices), "--seed", "7"], check=True, env=env,
                       capture_output=True)
    times: dict[str, list[tuple[float, float, float]]] = {"OFF": [], "ON": []}
    for _ in range(args.runs):
        for setting in ("OFF", "ON"):  # alternate, so drift on a shared machine hits both alike
            out = subprocess.run([sys.executable, "-c", PROBE, str(ledger), setting, PASS], check=True, env=env,
                                 capture_output=True, text=True).stdout.split()
            times[setting].append(tuple(map(float, out)))
    print(f"ledger: {args.invoices} invoices, {args.customers} customers; {args.runs} runs each, medians")
    print(f"{'memory security':<16} {'open (s)':>9} {'aging (s)':>10} {'total (s)':>10}")
    med = {}
    for setting, rows in times.items():
        med[setting] = [statistics.median(r[i] for r in rows) for i in range(3)]
        print(f"{setting:<16} {med[setting][0]:>9.3f} {med[setting][1]:>10.3f} {med[setting][2]:>10.3f}")
    print(f"ratio ON/OFF: open {med['ON'][0] / med['OFF'][0]:.2f}x, aging {med['ON'][1] / med['OFF'][1]:.2f}x, "
          f"total {med['ON'][2] / med['OFF'][2]:.2f}x")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
