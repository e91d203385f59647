"""A statement of account with 2,000 lines: how long the HTML (template) and the A4 PDF take, and how many pages.

    python bench/bench_documents.py [--lines 2000] [--runs 3] [--json]

Makes a fresh ledger in a temporary directory: one customer with N invoices over a year and a payment for every
tenth, imported through `duly import` (one transaction). Then, in this process, times the statement of account
for that year (activity, every line) through store.files.documents.render: the figures and the HTML from the
template, then the PDF; and the whole process of `duly statement CODE --from .. --to .. --format pdf`.
Reports medians (CPU time beside wall time: steadier on a shared machine) and the page count (pdfinfo if it is
installed, else the count of /Type /Page objects).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

PASSPHRASE = "bench passphrase"


def _book(path: Path, lines: int, env: dict) -> None:
    duly = [sys.executable, "-m", "tui.cli.main"]

    def run(*argv):
        done = subprocess.run([*duly, *argv], env=env, cwd=HERE, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)}: {done.stderr.strip()}")

    run("init", "--series", "B1")
    run("customer", "add", "HD001", "--name", "上海恒达贸易有限公司", "--language", "zh")
    for key, value in (("company.legal_name", "上海云帆科技有限公司"), ("company.bank_name", "招商银行上海张江支行"),
                       ("company.bank_account", "6225 8801 2345 6789")):
        run("settings", "set", key, value)
    start = date(2025, 1, 1)
    invoices, payments = path / "invoices.csv", path / "payments.csv"
    n_pay = lines // 10
    with invoices.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["customer", "date", "amount", "description"])
        for i in range(lines - n_pay):
            out.writerow(["HD001", (start + timedelta(days=i * 365 // lines)).isoformat(), f"{100 + i}.{i % 100:02d}",
                          f"货物 {i} 批次"])
    with payments.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["customer", "date", "amount", "method", "reference"])
        for i in range(n_pay):
            out.writerow(["HD001", (start + timedelta(days=i * 365 // n_pay)).isoformat(), "500.00",
                          "bank_transfer", f"PAY-{i:05d}"])
    run("import", "invoices", str(invoices))
    run("import", "payments", str(payments))


def _pages(pdf: Path) -> int:
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        return int(re.search(r"Pages:\s+(\d+)", info)[1])
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))


def _timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from store.files.documents import render
    from store.ledger.ledger import Ledger
    from store.write import customers

    with tempfile.TemporaryDirectory(prefix="duly-bench-documents-") as tmp:
        tmp = Path(tmp)
        ledger = tmp / "bench.duly"
        env = {**os.environ, "DULY_LEDGER": str(ledger), "DULY_PASSPHRASE": PASSPHRASE, "PYTHONPATH": str(HERE)}
        _book(tmp, args.lines, env)
        html, pdf_times, pdf_cpu, html_cpu = [], [], [], []
        with Ledger.open(ledger, PASSPHRASE) as led:
            cid = customers.by_code(led, "HD001")["id"]
            for _ in range(args.runs):
                doc, wall, cpu = _timed(lambda: render.statement(led, cid, start=date(2025, 1, 1),
                                                                 end=date(2025, 12, 31)))
                html.append(wall)
                html_cpu.append(cpu)
                data, wall, cpu = _timed(doc.pdf)
                pdf_times.append(wall)
                pdf_cpu.append(cpu)
        pdf = tmp / "statement.pdf"
        pdf.write_bytes(data)
        lines = sum(1 for _ in re.finditer(r"<tr>", doc.html))
        whole = []
        for _ in range(args.runs):
            started = time.perf_counter()
            with pdf.with_suffix(".cli.pdf").open("wb") as out:
                subprocess.run([sys.executable, "-m", "tui.cli.main", "statement", "HD001", "--from", "2025-01-01",
                                "--to", "2025-12-31", "--format", "pdf"], env=env, cwd=HERE, stdout=out, check=True)
            whole.append(time.perf_counter() - started)
        result = {"lines": args.lines, "table_rows": lines, "pages": _pages(pdf), "pdf_bytes": len(data),
                  "html_s": statistics.median(html), "html_cpu_s": statistics.median(html_cpu),
                  "pdf_s": statistics.median(pdf_times), "pdf_cpu_s": statistics.median(pdf_cpu),
                  "whole_process_s": statistics.median(whole)}
    if args.json:
        print(json.dumps(result))
        return
    print(f"statement of {result['lines']} lines ({result['table_rows']} table rows): {result['pages']} A4 pages, "
          f"{result['pdf_bytes'] / 1024:.0f} KiB")
    print(f"  figures + HTML from the template  {result['html_s']:.2f} s (cpu {result['html_cpu_s']:.2f} s)")
    print(f"  PDF from that HTML                {result['pdf_s']:.2f} s (cpu {result['pdf_cpu_s']:.2f} s)")
    print(f"  `duly statement --format pdf`     {result['whole_process_s']:.2f} s whole process")


if __name__ == "__main__":
    main()
