"""Benchmark reconciliation: import a bank file, match every line (`reconcile list`), `reconcile auto`, on a demo
ledger, in-process (store functions) and as whole `duly` processes.

    python bench/bench_reconcile.py [--customers 2000] [--invoices 20000] [--lines 500] [--seed 1]

The bank file is made from the ledger's open invoices: a third name the invoice in the memo with the exact
amount and the customer's full name, a third pay the exact amount under a short form of the name, a third are
amounts no invoice adds up to from payers nobody knows; one line in ten is a debit.
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from store.files import bank, demo
from store.rules import money
from store.write import reconcile  # noqa: E402
from store.ledger.ledger import Ledger  # noqa: E402

PASS = "bench"


def bank_file(ledger, path: Path, lines: int, seed: int) -> None:
    rng = random.Random(seed)
    open_rows = ledger.rows(
        """SELECT d.number, d.open_all, d.date, c.name FROM doc_state d JOIN customers c ON c.id = d.customer_id
           WHERE d.kind = 'invoice' AND d.settled_on IS NULL AND d.open_all > 0 AND d.currency = 'CNY'""")
    rng.shuffle(open_rows)
    today = date.today().isoformat().replace("-", "")
    out = ["交易日期,借方发生额,贷方发生额,对方户名,摘要"]
    for n in range(lines):
        kind = n % 3
        if n % 10 == 9:
            out.append(f"{today},{rng.randint(1, 500)}.00,,,手续费")
            continue
        inv = open_rows[n % len(open_rows)]
        amount = money.to_decimal_str(inv["open_all"], "CNY")
        if kind == 0:
            out.append(f"{today},,{amount},{inv['name']},货款 {inv['number']}")
        elif kind == 1:
            out.append(f"{today},,{amount},{inv['name'][2:6]},货款")
        else:
            out.append(f"{today},,{rng.randint(1, 99999)}.{rng.randint(0, 99):02d},个人{n},转账")
    path.write_bytes("\n".join(out).encode("gbk"))


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=2000)
    ap.add_argument("--invoices", type=int, default=20000)
    ap.add_argument("--lines", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path, src = Path(tmp) / "b.duly", Path(tmp) / "bank.csv"
        with Ledger.create(path, PASS) as ledger:
            demo.build(ledger, customers=args.customers, invoices=args.invoices, seed=args.seed)
            bank_file(ledger, src, args.lines, args.seed)
        env = {**os.environ, "DULY_LEDGER": str(path), "DULY_PASSPHRASE": PASS}
        duly = str(Path(sys.executable).with_name("duly"))
        with Ledger.open(path, PASS) as ledger:
            t_import, found = timed(lambda: bank.import_file(ledger, src))
            t_reimport, again = timed(lambda: bank.import_file(ledger, src))
            t_list, listed = timed(lambda: reconcile.listing(ledger))
        start = time.perf_counter()
        subprocess.run([duly, "reconcile", "list", "--format", "json"], env=env, check=True, capture_output=True)
        t_list_process = time.perf_counter() - start
        with Ledger.open(path, PASS) as ledger:
            t_auto, run = timed(lambda: reconcile.auto(ledger, 70))
        print(f"ledger: {args.customers} customers, {args.invoices} invoices; bank file {args.lines} lines")
        print(f"import bank        {t_import:7.3f} s  ({len(found.added)} lines added)")
        print(f"re-import          {t_reimport:7.3f} s  ({len(again.added)} added, {len(again.skipped)} already there)")
        print(f"match (list)       {t_list:7.3f} s  ({sum(1 for _, c in listed if c)} of {len(listed)} open lines "
              "with a candidate)")
        print(f"duly reconcile list (whole process, json) {t_list_process:7.3f} s")
        print(f"auto --min-score 70 {t_auto:6.3f} s  ({len(run.accepted)} accepted, {len(run.left)} left)")


if __name__ == "__main__":
    main()
