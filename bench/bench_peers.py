"""Duly against hledger, ledger and beancount on the same receivables (DESIGN §7), end to end in one command:

    python bench/bench_peers.py [--sizes 10000,100000,200000] [--customers 2000] [--runs 3] [--keep DIR]
                                [--peers hledger,ledger,bean-query]

For each size it builds the demo ledger (`duly demo --customers 2000 --invoices N`), exports it with
`duly export hledger` and `duly export beancount`, makes a plain-SQLite copy, checks that every tool gives
the same balance per customer (to the cent), then times whole processes (medians of --runs, with peak RSS
from /usr/bin/time):
- `duly report aging --as-of D` (table) and `--format json` (the per-customer balances, as data);
- `hledger bal` and `ledger bal` of Assets:Receivable and Liabilities:Unapplied up to D on the journal;
- `bean-query` of the same accounts' sums up to D on the beancount file;
- the aging SQL and a per-customer balance SQL on the encrypted ledger and on the plain copy (query time
  inside the process, after the key is derived, and the whole process).
Peers need: hledger and ledger (Debian packages), bean-query (PyPI beanquery, with beancount).
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_reports import PASS, plain_copy  # noqa: E402  (the same passphrase and plain-copy helper)

ACCOUNTS = ["^Assets:Receivable:", "^Liabilities:Unapplied:"]

# Per customer and currency: what is owed as of :d. Allocations move money between an invoice and a payment
# of the same customer, so they cancel out: invoices not voided by :d, less write-offs, payments not voided
# by :d and credit notes, each dated <= :d. It equals the aging total (checked below).
BALANCE_SQL = """
SELECT customer_id, currency, sum(amount) FROM (
  SELECT customer_id, currency, total AS amount FROM invoices i WHERE date <= :d
    AND id NOT IN (SELECT doc_id FROM voids WHERE doc_table = 'invoices' AND date <= :d)
  UNION ALL
  SELECT i.customer_id, i.currency, -w.amount FROM writeoffs w JOIN invoices i ON i.id = w.invoice_id
    WHERE w.date <= :d AND i.id NOT IN (SELECT doc_id FROM voids WHERE doc_table = 'invoices' AND date <= :d)
  UNION ALL
  SELECT customer_id, currency, -amount FROM payments WHERE date <= :d
    AND id NOT IN (SELECT doc_id FROM voids WHERE doc_table = 'payments' AND date <= :d)
  UNION ALL
  SELECT customer_id, currency, -amount FROM credit_notes WHERE date <= :d
) GROUP BY customer_id, currency HAVING sum(amount) != 0
"""

SQL_PROBE = r"""
import json, sys, time
from store.ledger import db
from store.read import open as openitems
from store.read import reports
kind, path, as_of, which = sys.argv[1:5]
if kind == "plain":
    import sqlite3
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA cache_size = -{db.CACHE_KIB}")
else:
    conn = db.connect(path, sys.argv[5])
start = time.perf_counter()
sqls = [openitems.OPEN_INVOICES_SQL, openitems.UNAPPLIED_SQL] if which == "aging" else [sys.argv[6]]
rows = [conn.execute(sql, {"d": as_of}).fetchall() for sql in sqls]
print(json.dumps({"seconds": time.perf_counter() - start, "rows": rows[-1] if which == "balance" else None}))
"""


def duly() -> str:
    found = Path(sys.executable).with_name("duly")
    return str(found) if found.exists() else "duly"


def tool(name: str) -> str | None:
    local = Path(sys.executable).with_name(name)
    return str(local) if local.exists() else shutil.which(name)


def measured(argv: list[str], env: dict) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, stdout) of one whole process."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as stats:
        start = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", stats.name, *argv], env=env,
                              capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if proc.returncode:
            raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()[:500]}")
        peak_kb = int(stats.read().strip().splitlines()[-1])
    return elapsed, peak_kb / 1024, proc.stdout


def medians(argv: list[str], env: dict, runs: int) -> dict:
    samples = [measured(argv, env) for _ in range(runs)]
    return {"s": statistics.median(s for s, _, _ in samples), "mb": max(m for _, m, _ in samples),
            "out": samples[-1][2]}


# --- reading each tool's answer as {(customer part, currency): Decimal} --------------------------------

def _customer(account: str) -> str:
    return account.split(":", 2)[2]


def _sum(pairs) -> dict:
    found = defaultdict(Decimal)
    for account, commodity, amount in pairs:
        found[(_customer(account), commodity)] += amount
    return {k: v for k, v in found.items() if v}


def parse_hledger_csv(text: str) -> dict:
    return _sum((r["account"], r["commodity"], Decimal(r["balance"]))
                for r in csv.DictReader(io.StringIO(text)) if r["account"] != "total")


def parse_ledger(text: str) -> dict:
    """`ledger bal --flat --no-total`: amount lines, the account on the last line of each block."""
    pairs, pending = [], []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        pending.append((Decimal(parts[0].replace(",", "")), parts[1]))
        if len(parts) >= 3:
            pairs += [(parts[2], cur, amount) for amount, cur in pending]
            pending = []
    return _sum(pairs)


def parse_bean_query(text: str) -> dict:
    pairs = []
    for row in csv.reader(io.StringIO(text)):
        if not row or row[0] == "account" or not row[0].startswith(("Assets", "Liabilities")):
            continue
        for position in row[1].split(","):
            if position.strip():
                amount, cur = position.split()
                pairs.append((row[0].strip(), cur, Decimal(amount)))
    return _sum(pairs)


def duly_balances(aging_json: str) -> dict:
    data = json.loads(aging_json)
    return {(r["customer"], r["currency"]): Decimal(r["total"]) for r in data["rows"] if Decimal(r["total"])}


def bean_part_map(codes: list[str]) -> dict[str, str]:
    from store.files.exporter import account_parts

    return account_parts(codes, beancount=True)


def probe(kind: str, path: Path, as_of: str, which: str, env: dict) -> tuple[float, float, float, list]:
    """(query seconds inside the process, whole process seconds, peak MB, rows)."""
    argv = [sys.executable, "-c", SQL_PROBE, kind, str(path), as_of, which, PASS, BALANCE_SQL]
    elapsed, mb, out = measured(argv, env)
    data = json.loads(out)
    return data["seconds"], elapsed, mb, data["rows"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,200000")
    ap.add_argument("--customers", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", help="build in this directory and keep it (ledgers and exports are reused)")
    ap.add_argument("--peers", default="hledger,ledger,bean-query")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args()
    peers = [p for p in args.peers.split(",") if p]
    missing = [p for p in peers if not tool(p)]
    if missing:
        raise SystemExit(f"missing peers: {', '.join(missing)} (apt-get install hledger ledger; pip install beanquery)")
    workdir = Path(args.keep or tempfile.mkdtemp(prefix="duly-peers-"))
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DULY_PASSPHRASE": PASS}
    env.pop("DULY_LEDGER", None)
    as_of = date.today().isoformat()
    end = (date.today() + timedelta(days=1)).isoformat()  # hledger/ledger end dates are exclusive
    results = []
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            path = workdir / f"demo-{size}.duly"
            journal, bean, plain = path.with_suffix(".journal"), path.with_suffix(".beancount"), \
                path.with_suffix(".plain.sqlite")
            base = [duly(), "--ledger", str(path)]
            info = {"invoices": size, "build": None, "export_hledger": None, "export_beancount": None}
            if not path.exists():
                info["build"] = measured([*base, "demo", "--customers", str(args.customers), "--invoices", str(size),
                                          "--seed", "1"], env)[0]
            if not journal.exists():
                info["export_hledger"] = measured([*base, "export", "hledger", str(journal)], env)[0]
            if not bean.exists():
                info["export_beancount"] = measured([*base, "export", "beancount", str(bean)], env)[0]
            if not plain.exists():
                plain_copy(path, plain)
            info["mb"] = {"duly": path.stat().st_size / 2**20, "journal": journal.stat().st_size / 2**20,
                          "beancount": bean.stat().st_size / 2**20}

            rows = {}
            rows["duly report aging"] = medians([*base, "report", "aging", "--as-of", as_of], env, args.runs)
            rows["duly report aging --format json"] = medians(
                [*base, "report", "aging", "--as-of", as_of, "--format", "json"], env, args.runs)
            truth = duly_balances(rows["duly report aging --format json"]["out"])
            answers = {}
            if "hledger" in peers:
                rows["hledger bal"] = medians([tool("hledger"), "-f", str(journal), "bal", *ACCOUNTS, "-e", end,
                                               "--flat", "-N", "-O", "csv", "--layout=bare"], env, args.runs)
                answers["hledger bal"] = parse_hledger_csv(rows["hledger bal"]["out"])
            if "ledger" in peers:
                rows["ledger bal"] = medians([tool("ledger"), "-f", str(journal), "bal", *ACCOUNTS, "-e", end,
                                              "--flat", "--no-total"], env, args.runs)
                answers["ledger bal"] = parse_ledger(rows["ledger bal"]["out"])
            if "bean-query" in peers:
                query = ("SELECT account, sum(position) WHERE date <= {d} AND (account ~ '^Assets:Receivable:' OR "
                         "account ~ '^Liabilities:Unapplied:') GROUP BY account ORDER BY account").format(d=as_of)
                rows["bean-query"] = medians([tool("bean-query"), "-f", "csv", str(bean), query], env, args.runs)
                answers["bean-query"] = parse_bean_query(rows["bean-query"]["out"])
            parts = bean_part_map(sorted({c for c, _ in truth}))
            for name, answer in answers.items():
                expected = {(parts[c] if name == "bean-query" else c, cur): v for (c, cur), v in truth.items()}
                if answer != expected:
                    wrong = sorted(set(answer.items()) ^ set(expected.items()))[:4]
                    raise SystemExit(f"{name} disagrees with duly at {size}: e.g. {wrong}")
            info["agree"] = f"{len(truth)} customer balances, equal in every tool"

            sql = {}
            for which in ("aging", "balance"):
                for kind, file in (("cipher", path), ("plain", plain)):
                    samples = [probe(kind, file, as_of, which, env) for _ in range(args.runs)]
                    sql[(which, kind)] = {"query": statistics.median(s[0] for s in samples),
                                          "s": statistics.median(s[1] for s in samples),
                                          "mb": max(s[2] for s in samples)}
                    if which == "balance":
                        rows_found = samples[-1][3]
                        total = sum(r[2] for r in rows_found)
                        want = sum(int(v * 100) for v in truth.values())  # demo currencies have 2 decimals
                        if total != want:
                            raise SystemExit(f"balance SQL total {total} != aging total {want} at {size}")
            results.append({"info": info, "rows": rows, "sql": sql})
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    print(f"as of {as_of}; {args.customers} customers; whole process wall time, median of {args.runs}; "
          f"peak RSS; {os.cpu_count()} CPU cores shared with other work (load {os.getloadavg()[0]:.1f})")
    for res in results:
        info, rows, sql = res["info"], res["rows"], res["sql"]
        base = rows["duly report aging"]["s"]
        made = [f"{k.replace('_', ' ')} {v:.1f} s" for k, v in info.items()
                if k in ("build", "export_hledger", "export_beancount") and v is not None]
        print(f"\n## {info['invoices']:,} invoices  (ledger {info['mb']['duly']:.0f} MB, journal "
              f"{info['mb']['journal']:.0f} MB, beancount {info['mb']['beancount']:.0f} MB; "
              + (", ".join(made) + "; " if made else "") + f"{info['agree']})")
        print(f"| {'command':34} | {'median s':>8} | {'peak MB':>7} | {'time / duly aging':>17} |")
        print(f"|{'-' * 36}|{'-' * 10}|{'-' * 9}|{'-' * 19}|")
        for name, r in rows.items():
            print(f"| {name:34} | {r['s']:8.2f} | {r['mb']:7.0f} | {r['s'] / base:16.1f}x |")
        print(f"\n| {'same SQL, SQLCipher vs plain SQLite':36} | {'cipher s':>8} | {'plain s':>8} | {'cipher/plain':>12} "
              f"| {'cipher process s':>16} | {'plain process s':>15} |")
        print(f"|{'-' * 38}|{'-' * 10}|{'-' * 10}|{'-' * 14}|{'-' * 18}|{'-' * 17}|")
        for which, title in (("aging", "aging (what `report aging` runs)"), ("balance", "per-customer balance (GROUP BY)")):
            c, p = sql[(which, "cipher")], sql[(which, "plain")]
            print(f"| {title:36} | {c['query']:8.3f} | {p['query']:8.3f} | {c['query'] / p['query']:11.2f}x "
                  f"| {c['s']:16.2f} | {p['s']:15.2f} |")
    if args.json:
        Path(args.json).write_text(json.dumps([{**r, "rows": {k: {x: y for x, y in v.items() if x != "out"}
                                                              for k, v in r["rows"].items()},
                                                "sql": {f"{a}/{b}": v for (a, b), v in r["sql"].items()}}
                                               for r in results], indent=2))


if __name__ == "__main__":
    main()
