"""`duly import fapiao` on a big export of the e-tax platform (发票查询统计 → 发票基础信息), in its real layout.

    python bench/bench_fapiao.py [--rows 100000] [--customers 2000] [--runs 3] [--keep DIR] [--json]

Builds once (kept in --keep): an .xlsx with the export's title line, its 19 columns in their order and its 合计
footer; ROWS invoices to CUSTOMERS buyers (each known by its 纳税人识别号), about 1 in 200 已作废 and 1 in 100
reversed in part by a red-letter (红字) invoice later in the file. Each run: a fresh `duly init`, `duly import
customers`, then `duly import fapiao` timed as a whole process with its peak RSS (wait4). Beside it, in the same
run: the same invoices as a journal read by `hledger bal` (and `ledger bal` when installed), and the same invoices
as Duly's own invoice CSV through `duly import invoices`, so the cost of reading the platform's layout is seen.
Prints medians of wall and CPU time; rows/s counts every data row of the export; and the load average before and
after (the machine may be shared: CPU time is the steadier figure).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from openpyxl import Workbook

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_import import HERE, PASSPHRASE  # noqa: E402
from store.rules.validate import uscc_check_char  # noqa: E402

HEADERS = ["序号", "发票代码", "发票号码", "数电发票号码", "销方识别号", "销方名称", "购方识别号", "购买方名称", "开票日期",
           "金额", "税额", "价税合计", "发票来源", "发票票种", "发票状态", "是否正数发票", "发票风险等级", "开票人", "备注"]
SELLER = ("91310115MA1H7T0000", "上海杜利软件有限公司")


def tax_id(n: int) -> str:
    """A valid 18-character unified social credit code (with its check character)."""
    body = f"91310000MA{n:07d}"
    return body + uscc_check_char(body)


def yuan(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    return f"{sign}{abs(minor) // 100}.{abs(minor) % 100:02d}"


def build(out: Path, rows: int, customers: int) -> dict:
    """The export, the customers CSV, the same invoices as an invoice CSV and as a journal; counts of each kind."""
    out.mkdir(parents=True, exist_ok=True)
    done = out / "counts.json"
    if done.exists():
        return json.loads(done.read_text())
    rng = random.Random(7)
    with (out / "customers.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["code", "name", "tax_id", "currency"])
        for c in range(1, customers + 1):
            w.writerow([f"C{c:05d}", f"客户{c:05d}贸易有限公司", tax_id(c), "CNY"])
    book = Workbook(write_only=True)
    sheet = book.create_sheet("发票基础信息")
    sheet.append(["发票基础信息（导出时间：2026-04-01 08:30:12）"])
    sheet.append(HEADERS)
    counts = {"rows": 0, "invoices": 0, "voided": 0, "red": 0}
    blue, totals = [], [0, 0, 0]
    with (out / "invoices.csv").open("w", encoding="utf-8", newline="") as inv, \
            (out / "book.journal").open("w", encoding="utf-8") as journal:
        w = csv.writer(inv)
        w.writerow(["number", "customer", "date", "amount", "currency", "einvoice"])
        for n in range(1, rows + 1):
            c = rng.randint(1, customers)
            day = (date(2025, 1, 1) + timedelta(days=(n * 364) // rows)).isoformat()  # in file order, as exported
            number = f"2531200000{n:010d}"
            if blue and n % 100 == 0:  # a red-letter invoice reversing part of an earlier one
                orig, oc, onet = blue[rng.randrange(len(blue))]
                net = -max(onet // 4, 100)
                tax = net * 13 // 100
                row = [n, "", "", number, *SELLER, tax_id(oc), f"客户{oc:05d}贸易有限公司", f"{day} 16:30:00",
                       yuan(net), yuan(tax), yuan(net + tax), "电子发票服务平台", "数电发票（增值税专用发票）", "正常", "否",
                       "正常", "王会计", f"被红冲蓝字数电发票号码：{orig} 红字发票信息确认单编号：3101152603120000{n:04d}"]
                counts["red"] += 1
            else:
                net = rng.randint(10_000, 5_000_000)
                tax = net * 13 // 100
                status = "已作废" if n % 200 == 7 else "正常"
                row = [n, "", "", number, *SELLER, tax_id(c), f"客户{c:05d}贸易有限公司", f"{day} 10:15:00", yuan(net),
                       yuan(tax), yuan(net + tax), "电子发票服务平台", "数电发票（增值税专用发票）", status, "是", "正常",
                       "王会计", ""]
                if status == "正常":
                    blue.append((number, c, net))
                    counts["invoices"] += 1
                    w.writerow([f"F{n:07d}", f"C{c:05d}", day, yuan(net + tax), "CNY", number])
                    journal.write(f"{day} * F{n:07d}\n    Assets:Receivable:C{c:05d}  {yuan(net + tax)} CNY\n"
                                  f"    Income:Sales\n\n")
                else:
                    counts["voided"] += 1
            totals = [totals[0] + net, totals[1] + tax, totals[2] + net + tax]
            sheet.append(row)
            counts["rows"] += 1
    sheet.append(["合计", "", "", "", "", "", "", "", "", *(yuan(t) for t in totals)])
    book.save(out / "发票查询统计.xlsx")
    done.write_text(json.dumps(counts))
    return counts


def timed(argv: list[str], env: dict | None = None) -> tuple[float, float, int]:
    """Run a whole process: (wall seconds, CPU seconds (user + system), peak RSS in MB), from wait4. CPU time is
    the steadier figure on a machine other jobs share."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(argv, env=env, cwd=HERE, stdout=subprocess.DEVNULL, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        took = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            raise SystemExit(f"{' '.join(argv)} failed: {err.read().strip()[-2000:]}")
    return took, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024


def duly(*argv: str, env: dict) -> tuple[float, float, int]:
    return timed([sys.executable, "-c", "import sys; from tui.cli.main import run; sys.argv[0] = 'duly'; run()",
                  *argv], {**env, "PYTHONPATH": str(HERE)})


def peers(journal: Path) -> list[tuple[str, tuple[float, float, int]]]:
    return [(f"{name} bal", timed([exe, "-f", str(journal), "bal"])) for name in ("hledger", "ledger")
            if (exe := shutil.which(name))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", default=None, help="where the sample files are kept between runs")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DULY_")}
    env["DULY_PASSPHRASE"] = PASSPHRASE
    files = Path(args.keep or tempfile.mkdtemp(prefix="duly-fapiao-")) / f"f{args.rows}"
    counts = build(files, args.rows, args.customers)
    print(f"export: {counts['rows']:,} rows ({counts['invoices']:,} invoices, {counts['red']:,} red-letter, "
          f"{counts['voided']:,} voided)", file=sys.stderr)
    timings: dict[str, list[tuple[float, float, int]]] = {}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="duly-fapiao-run-") as work:
        for run in range(args.runs):
            for label, argv, source in (("import fapiao", ("import", "fapiao"), "发票查询统计.xlsx"),
                                        ("import invoices (CSV)", ("import", "invoices"), "invoices.csv")):
                ledger = Path(work) / f"{run}-{len(timings)}.duly"
                duly("--ledger", str(ledger), "init", env=env)
                duly("--ledger", str(ledger), "import", "customers", str(files / "customers.csv"), env=env)
                timings.setdefault(label, []).append(duly("--ledger", str(ledger), *argv, str(files / source),
                                                          env=env))
                ledger.unlink()
            for name, figures in peers(files / "book.journal"):
                timings.setdefault(name, []).append(figures)
    load = [round(load_before[0], 2), round(os.getloadavg()[0], 2)]
    print(f"load average (1 min) before {load[0]}, after {load[1]} on {os.cpu_count()} CPUs: wall time varies with "
          f"it, CPU time much less", file=sys.stderr)
    report = []
    for label, runs in timings.items():
        seconds, cpu = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
        rows, peak = (counts["rows"] if label == "import fapiao" else counts["invoices"]), max(r[2] for r in runs)
        report.append({"job": label, "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "rows": rows,
                       "rows_per_s": round(rows / seconds), "rows_per_cpu_s": round(rows / cpu), "peak_rss_mb": peak,
                       "load_avg_1m": load})
        print(f"{label:<24} {seconds:8.2f} s wall {cpu:8.2f} s CPU  {rows / seconds:>9,.0f} rows/s "
              f"({rows / cpu:,.0f} per CPU s)  peak {peak:>5} MB", file=sys.stderr)
    if args.json:
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
