"""PDF of the statement, read back with poppler (pdftotext -layout, pdfinfo, pdftoppm): tools nobody here wrote, so
the test reads what a customer's PDF viewer shows. Chinese text is set in STSong-Light, a font the viewer supplies,
so the PDF carries no font of ours."""
from __future__ import annotations

import csv
import re
import struct
from datetime import date

import pytest

from store.files.documents import render
from store.ledger.ledger import Ledger
from store.write import customers
from tests.support.cli import PASSPHRASE
from tests.support.documents import (COMPANY, GL01_BALANCE, GL01_OPEN, HD001_BALANCE, HD001_OPEN, INTERNAL_NOTES,
                                     RAW_CODES, page_one_png, pdf_pages, pdftotext)




def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize(("code", "lang", "open_items", "balance"), [
    ("HD001", "zh", HD001_OPEN, HD001_BALANCE), ("HD001", "en", HD001_OPEN, HD001_BALANCE),
    ("GL01", "en", GL01_OPEN, GL01_BALANCE), ("GL01", "zh", GL01_OPEN, GL01_BALANCE),
])
def test_statement_pdf_reads_back_with_company_customer_every_amount_and_total(docs, tmp_path, code, lang,
                                                                               open_items, balance):
    out = tmp_path / "pdf"
    assert docs("statement", code, "--as-of", "2026-03-31", "--out", out, "--format", "pdf", "--doc-lang", lang).code == 0
    pdf = out / f"{code}-2026-03-31.pdf"
    text = pdftotext(pdf)
    flat = _flat(text)
    for key in ("company.legal_name", "company.tax_id", "company.address", "company.bank_name",
                "company.bank_account"):
        assert _flat(COMPANY[key]) in flat, key
    assert ("上海恒达贸易有限公司" if code == "HD001" else "Greenleaf Trading Ltd") in text
    for number, amount in open_items.items():
        line = next(line for line in text.splitlines() if number in line)
        assert line.rstrip().endswith(amount), line  # right-aligned: the amount ends the line
    assert balance in text
    if code == "HD001":
        assert "-300.00" in text  # the unapplied payment
    assert ("第1页/共1页" if lang == "zh" else "Page1of1") in flat
    for word in RAW_CODES + INTERNAL_NOTES:
        assert word not in text, word


def _render(path, code: str, **kw):
    with Ledger.open(path, PASSPHRASE) as led:
        return render.statement(led, customers.by_code(led, code)["id"], **kw)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_activity_pdf_shows_people_words_and_no_internal_note(docs, tmp_path, lang):
    doc = _render(docs.path, "HD001", start=date(2026, 1, 1), end=date(2026, 3, 31), lang=lang,
                  issued=date(2026, 4, 1))
    pdf = tmp_path / "activity.pdf"
    pdf.write_bytes(doc.pdf())
    text = pdftotext(pdf)
    for word in (("银行转账", "微信支付", "期初余额", "作废") if lang == "zh" else
                 ("Bank transfer", "WeChat Pay", "Opening balance", "Cancelled")):
        assert word in text, word
    for amount in ("17,491.59", "8,800.00", "999.00", "10,000.00", "300.00", "0.50", "200.00", "16,291.59",
                   HD001_BALANCE):
        assert amount in text, amount
    for word in RAW_CODES + INTERNAL_NOTES:
        assert word not in text, word
    noted = tmp_path / "noted.pdf"
    noted.write_bytes(_render(docs.path, "HD001", start=date(2026, 1, 1), end=date(2026, 3, 31), lang=lang,
                              internal_notes=True).pdf())
    assert all(note in pdftotext(noted) for note in INTERNAL_NOTES)


def _png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_page_one_renders_to_an_a4_png(docs, tmp_path):
    pdf = tmp_path / "HD001.pdf"
    pdf.write_bytes(_render(docs.path, "HD001", as_of=date(2026, 3, 31)).pdf())
    width, height = _png_size(page_one_png(pdf, tmp_path))
    assert abs(height / width - 297 / 210) < 0.01  # A4, portrait


def test_a_2000_line_statement_repeats_the_table_header_on_every_page(docs, tmp_path):
    rows = tmp_path / "invoices.csv"
    with rows.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["customer", "date", "amount", "description"])
        for i in range(2000):
            out.writerow(["HD001", f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}", f"{100 + i}.{i % 100:02d}", f"货物 {i}"])
    assert docs("import", "invoices", rows).code == 0
    doc = _render(docs.path, "HD001", start=date(2025, 1, 1), end=date(2026, 3, 31), lang="zh")
    pdf = tmp_path / "long.pdf"
    pdf.write_bytes(doc.pdf())
    pages = pdf_pages(pdf)
    assert pages > 30
    texts = pdftotext(pdf).split("\f")[:pages]
    for n, page in enumerate(texts, 1):
        if n < pages:  # the last page may hold only the totals and the aging
            header = next((line for line in page.splitlines() if "借方（应收）" in line), None)
            assert header is not None and "余额" in header and "摘要" in header, n
        assert f"第{n}页/共{pages}页" in _flat(page)
    assert "货物 1999" in "".join(texts) and "2,099.99" in "".join(texts)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_emoji_in_a_name_leaves_the_rest_of_the_name_intact(docs, tmp_path, lang):
    """STSong-Light has no code for a character beyond the BMP: an emoji set in it shifted the rest of its run by a
    byte (上海 Party 😀 北京 came out as 上海 Party 㷞 京). It is drawn as □ and the rest reads back."""
    with Ledger.open(docs.path, PASSPHRASE) as led:
        customers.edit(led, "HD001", name="上海 Party 😀 北京 Trading")
    out = tmp_path / "pdf"
    assert docs("statement", "HD001", "--as-of", "2026-03-31", "--out", out, "--format", "pdf", "--doc-lang",
                lang).code == 0
    text = pdftotext(out / "HD001-2026-03-31.pdf")
    assert "上海Party□北京Trading" in _flat(text)
    for number, amount in HD001_OPEN.items():  # the lines after the name are untouched too
        line = next(line for line in text.splitlines() if number in line)
        assert line.rstrip().endswith(amount), line
