"""A small book for the documents a customer is sent, and reading a PDF back with poppler (pdftotext, pdftoppm):
tools nobody here wrote, so a test sees what a reader of the PDF sees."""
from __future__ import annotations

import atexit
import shutil
import subprocess
import tempfile
from pathlib import Path

COMPANY = {
    "company.name": "云帆科技", "company.legal_name": "上海云帆科技有限公司",
    "company.tax_id": "91310000MA1FL8KQ3E", "company.address": "上海市浦东新区张江路 88 号",
    "company.phone": "+86 21 5080 1234", "company.email": "ar@yunfan.example",
    "company.bank_name": "招商银行上海张江支行", "company.bank_account": "6225 8801 2345 6789",
    "company.account_name": "上海云帆科技有限公司",
}
# Our own notes on documents: a customer must never read them unless we ask for them.
INTERNAL_NOTES = ("wrong customer keyed", "bad debt per CFO", "goodwill for late delivery")
# Codes a person must never read on a document.
RAW_CODES = ("bank_transfer", "not_due", "unapplied", "credit_note", "writeoff", "wechat", "120+")


_BUILT: list[Path] = []  # the book made once per test process, copied for each test (25 commands take 10 s)


def document_book(cli) -> None:
    """HD001 上海恒达贸易有限公司 (zh, e-mail) and GL01 Greenleaf Trading Ltd (en, USD): invoices with lines, a
    payment by bank transfer and one by WeChat Pay, a voided invoice, a write-off and a credit note, each with a
    reason that is our own note."""
    target = Path(cli.path)
    if _BUILT:
        for found in _BUILT[0].iterdir():
            shutil.copy2(found, target.with_name(found.name.replace("book", target.stem, 1)))
        return
    _build(cli)
    keep = Path(tempfile.mkdtemp(prefix="duly-document-book-"))
    atexit.register(shutil.rmtree, keep, True)
    for found in target.parent.glob(target.name + "*"):
        shutil.copy2(found, keep / found.name.replace(target.stem, "book", 1))
    _BUILT.append(keep)


def _build(cli) -> None:
    assert cli("init", "--series", "A7").code == 0
    for key, value in COMPANY.items():
        assert cli("settings", "set", key, value).code == 0, key
    assert cli("customer", "add", "HD001", "--name", "上海恒达贸易有限公司", "--email", "ap@hengda.example.cn",
               "--address", "上海市静安区南京西路 1266 号", "--language", "zh").code == 0
    assert cli("customer", "add", "GL01", "--name", "Greenleaf Trading Ltd", "--language", "en",
               "--currency", "USD", "--address", "12 Harbour Road, Wan Chai, Hong Kong").code == 0
    for argv in (
        ("invoice", "add", "--customer", "HD001", "--date", "2026-01-10", "--line", "软件年费:1:12000:6",
         "--line", "实施服务:3:1500.50:6"),  # 12,720.00 + 4,771.59 = 17,491.59
        ("invoice", "add", "--customer", "HD001", "--date", "2026-02-05", "--amount", "8800"),
        ("invoice", "add", "--customer", "HD001", "--date", "2026-02-06", "--amount", "999"),
        ("invoice", "void", "A7-000003", "--date", "2026-02-07", "--reason", INTERNAL_NOTES[0]),
        ("payment", "add", "--customer", "HD001", "--date", "2026-02-20", "--amount", "10000", "--method",
         "bank_transfer", "--reference", "HD-PAY-0220", "--allocate", "A7-000001=10000"),
        ("payment", "add", "--customer", "HD001", "--date", "2026-03-02", "--amount", "300", "--method", "wechat",
         "--no-allocate"),
        ("writeoff", "A7-000002", "--date", "2026-03-10", "--amount", "0.50", "--reason", INTERNAL_NOTES[1]),
        ("credit", "add", "--customer", "HD001", "--date", "2026-03-15", "--amount", "200", "--invoice",
         "A7-000002", "--reason", INTERNAL_NOTES[2]),
        ("invoice", "add", "--customer", "GL01", "--date", "2026-02-01", "--line", "Consulting:10:250"),
        ("invoice", "add", "--customer", "GL01", "--date", "2026-03-01", "--amount", "1234.56"),
    ):
        result = cli(*argv)
        assert result.code == 0, (argv, result.err)


# HD001 as of 2026-03-31: A7-000001 open 7,491.59; A7-000002 8,800.00 - 0.50 - 200.00 = 8,599.50; unapplied 300.00
HD001_OPEN = {"A7-000001": "7,491.59", "A7-000002": "8,599.50"}
HD001_BALANCE = "15,791.09"
GL01_OPEN = {"A7-000004": "2,500.00", "A7-000005": "1,234.56"}
GL01_BALANCE = "3,734.56"


def pdftotext(path: Path) -> str:
    assert shutil.which("pdftotext"), "pdftotext (poppler-utils) is needed: .ci/run installs it"
    done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def pdf_pages(path: Path) -> int:
    done = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return int(next(line.split()[-1] for line in done.stdout.splitlines() if line.startswith("Pages:")))


def page_one_png(pdf: Path, out_dir: Path, resolution: int = 60) -> Path:
    """Page 1 rendered to PNG by pdftoppm (a person can look at the layout)."""
    assert shutil.which("pdftoppm"), "pdftoppm (poppler-utils) is needed: .ci/run installs it"
    stem = out_dir / pdf.stem
    done = subprocess.run(["pdftoppm", "-png", "-r", str(resolution), "-f", "1", "-l", "1", "-singlefile",
                           str(pdf), str(stem)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return Path(f"{stem}.png")
