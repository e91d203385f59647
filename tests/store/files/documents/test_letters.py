"""The letters a bookkeeper signs and sends (`duly letter confirmation | dunning | request`), in zh and en, read back
from the PDF with pdftotext: the company, the customer, every amount and total, the reply slip of the balance
confirmation (and its reply taken by `statement confirm`), a dunning letter per level with its fees and interest,
and the payment request with the account to pay into. Page 1 of each document is rendered to PNG; with
DULY_WRITE_ARTEFACTS=1 those PNGs are kept in tests/artefacts/ so a person can look at the layout."""
from __future__ import annotations

import os
import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from store.files.documents import render
from store.ledger.ledger import Ledger
from store.rules import dunning as dunning_rules
from store.write import customers
from tests.support.cli import PASSPHRASE, assert_one_line_error
from tests.support.documents import (COMPANY, GL01_BALANCE, GL01_OPEN, HD001_BALANCE, HD001_OPEN, INTERNAL_NOTES,
                                     RAW_CODES, page_one_png, pdftotext)
from tests.support.smtp_inbox import smtp_settings

ARTEFACTS = Path(__file__).resolve().parents[3] / "artefacts"
LEVELS = ("friendly:-3:email; first:7:email:fee=50; second:30:email:fee_pct=1; "
          "final:60:letter:fee=200:interest=12; legal:90:legal:fee=500:interest=12")


@pytest.fixture
def docs(docs):
    assert docs("settings", "set", "dunning.levels", LEVELS).code == 0
    return docs


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _letter(cli, tmp_path, *argv) -> tuple[Path, str]:
    out = tmp_path / "letters"
    result = cli("letter", *argv, "--format", "pdf", "--out", out, "--on", "2026-04-20")
    assert result.code == 0, result.err
    written = Path(result.err.split(" written")[0])
    assert written.parent == out and written.suffix == ".pdf"
    return written, pdftotext(written)


def _keep(png: Path, name: str) -> None:
    if os.environ.get("DULY_WRITE_ARTEFACTS") == "1":
        ARTEFACTS.mkdir(exist_ok=True)
        shutil.copy(png, ARTEFACTS / name)


def _common(text: str) -> None:
    flat = _flat(text)
    for key in ("company.legal_name", "company.address", "company.phone", "company.email"):
        assert _flat(COMPANY[key]) in flat, key
    for word in RAW_CODES + INTERNAL_NOTES:
        assert word not in text, word


@pytest.mark.parametrize(("code", "lang"), [("HD001", "zh"), ("HD001", "en"), ("GL01", "en"), ("GL01", "zh")])
def test_confirmation_letter_with_its_reply_slip(docs, tmp_path, code, lang):
    pdf, text = _letter(docs, tmp_path, "confirmation", code, "--as-of", "2026-03-31", "--doc-lang", lang,
                        "--reply-by", "2026-04-30")
    _common(text)
    assert ("上海恒达贸易有限公司" if code == "HD001" else "Greenleaf Trading Ltd") in text
    opened, balance = (HD001_OPEN, HD001_BALANCE) if code == "HD001" else (GL01_OPEN, GL01_BALANCE)
    for number, amount in opened.items():
        line = next(line for line in text.splitlines() if number in line)
        assert line.rstrip().endswith(amount), line
    assert text.count(balance) >= 3  # the balance asked about, the details' total, and on the reply slip
    flat = _flat(text)
    if lang == "zh":
        for words in ("往来款项询证函", "回执", "信息证明无误", "信息不符", "贵司记录的金额", "差异原因",
                      "（公司盖章）",
                      "经办人签字", "2026-04-30"):
            assert _flat(words) in flat, words
    else:
        for words in ("Balance confirmation", "Reply slip", "agrees with our records", "does not agree",
                      "Balance in our books", "Reason for the difference", "(Company stamp)", "Signature",
                      "by 2026-04-30"):
            assert _flat(words) in flat, words
    if code == "HD001":
        _keep(page_one_png(pdf, tmp_path), f"confirmation.{lang}.png")


def test_the_reply_to_a_confirmation_letter_feeds_statement_tracking(docs, tmp_path):
    result = docs("letter", "confirmation", "HD001", "--as-of", "2026-03-31", "--mark-sent", "--on", "2026-04-01",
                  "--out", tmp_path)
    assert result.code == 0, result.err
    [row] = docs("statement", "status", "--format", "json").json()
    assert (row["status"], row["channel"], row["sent_on"], row["our_balance"]) == (
        "sent", "letter", "2026-04-01", "15791.09")
    # the customer's slip says they show 15,491.09: disputed, with the difference shown until resolved
    assert docs("statement", "confirm", "HD001", "--as-of", "2026-03-31", "--their-balance", "15491.09",
                "--note", "payment of 03-30 not booked").code == 0
    [row] = docs("statement", "status", "--open", "--format", "json").json()
    assert (row["status"], row["difference"]) == ("disputed", "300.00")
    # without --mark-sent a letter is a preview
    assert docs("letter", "confirmation", "GL01", "--as-of", "2026-03-31", "--out", tmp_path).code == 0
    assert [r["customer"] for r in docs("statement", "status", "--format", "json").json()] == ["HD001"]


# A7-000001 falls due 2026-02-09: each date puts it at one level (A7-000002, due 03-07, may stand lower).
LEVEL_DATES = {"friendly": "2026-02-07", "first": "2026-02-17", "second": "2026-03-12", "final": "2026-04-10",
               "legal": "2026-05-11"}
LEVEL_WORDS = {
    "zh": {"friendly": "付款提醒函", "first": "已超过约定付款期限", "second": "7 日内付清", "final": "逾期利息",
           "legal": "移交法务"},
    "en": {"friendly": "Payment reminder", "first": "past their due date", "second": "within 7 days",
           "final": "Final notice", "legal": "legal counsel"},
}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("level", list(LEVEL_DATES))
def test_dunning_letter_per_level_with_fees_and_interest_as_lines(docs, tmp_path, lang, level):
    as_of = LEVEL_DATES[level]
    plan = [r for r in docs("remind", "plan", "--as-of", as_of, "--format", "json").json()["items"]
            if r["customer"] == "HD001"]
    order = [lv.name for lv in dunning_rules.parse_levels(LEVELS)]
    assert max((r["level"] for r in plan), key=order.index) == level
    pdf, text = _letter(docs, tmp_path, "dunning", "HD001", "--as-of", as_of, "--doc-lang", lang)
    _common(text)
    assert _flat(LEVEL_WORDS[lang][level]) in _flat(text)
    for row in plan:  # every figure of the plan is on the letter, on the invoice's line
        line = next(line for line in text.splitlines() if row["number"] in line)
        for key in ("asked", "fee", "interest", "total"):
            if key in ("asked", "total") or row[key] != "0.00":
                assert f"{float(row[key]):,.2f}" in line, (key, line)
        assert line.rstrip().endswith(f"{float(row['total']):,.2f}")
    totals = next(line for line in text.splitlines() if ("应付合计" if lang == "zh" else "Total to pay") in line)
    assert totals.rstrip().endswith(f"{sum(float(r['total']) for r in plan):,.2f}")
    assert _flat(COMPANY["company.bank_account"]) in _flat(text)
    if level == "final":
        assert "12%" in text
        _keep(page_one_png(pdf, tmp_path), f"dunning.{lang}.png")


def test_a_dunning_letter_needs_something_due(docs):
    assert_one_line_error(docs("letter", "dunning", "HD001", "--as-of", "2026-01-15"), 1, "no invoice is due")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_payment_request_lists_lines_totals_and_the_account(docs, tmp_path, lang):
    pdf, text = _letter(docs, tmp_path, "request", "HD001", "--as-of", "2026-03-31", "--doc-lang", lang)
    _common(text)
    for key in ("company.bank_name", "company.bank_account", "company.account_name", "company.tax_id"):
        assert _flat(COMPANY[key]) in _flat(text), key
    for words in ("软件年费", "实施服务", "12,000.00", "1,500.50", "12,720.00", "4,771.59", "17,491.59", "990.09",
                  "8,800.00"):
        assert words in text, words
    for number, amount in HD001_OPEN.items():
        assert amount in text, number
    total = next(line for line in text.splitlines() if "CNY" in line and "16,091.09" in line)
    assert total.rstrip().endswith("16,091.09")
    assert ("货款" if lang == "zh" else "Goods and services") in text  # an invoice of one amount, in words
    _keep(page_one_png(pdf, tmp_path), f"payment_request.{lang}.png")
    named = docs("letter", "request", "HD001", "--as-of", "2026-03-31", "--invoice", "A7-000002")
    assert named.code == 0 and "A7-000001" not in named.out and "8,599.50" in named.out
    assert_one_line_error(docs("letter", "request", "HD001", "--as-of", "2026-03-31", "--invoice", "A7-000003"), 1,
                          "A7-000003", "not open")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_statement_page_one_png(docs, tmp_path, lang):
    with Ledger.open(docs.path, PASSPHRASE) as led:
        doc = render.statement(led, customers.by_code(led, "HD001")["id"], start=date(2026, 1, 1),
                               end=date(2026, 3, 31), lang=lang, issued=date(2026, 4, 1))
    pdf = tmp_path / f"statement.{lang}.pdf"
    pdf.write_bytes(doc.pdf())
    png = page_one_png(pdf, tmp_path)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    _keep(png, f"statement.{lang}.png")


def test_an_edited_template_shows_in_the_pdf_too(docs, tmp_path):
    mine = tmp_path / "mine.html"
    mine.write_text(docs("template", "show", "dunning.zh").out.replace("此致", "顺颂商祺"), encoding="utf-8")
    assert docs("template", "edit", "dunning.zh", "--file", mine).code == 0
    _, text = _letter(docs, tmp_path, "dunning", "HD001", "--as-of", "2026-04-10")
    assert "顺颂商祺" in text and "此致" not in text



def test_remind_send_writes_pdf_letters_and_attaches_the_letter_to_emails(docs, smtp, tmp_path):
    smtp_settings(docs, smtp)
    letters = tmp_path / "letters"
    sent = docs("remind", "send", "--as-of", "2026-04-10", "--letters", letters, "--letter-format", "pdf",
                "--attach-pdf", "--format", "json")
    assert sent.code == 0, sent.err
    outcomes = {(o["customer"], o["channel"]): o for o in sent.json()}
    assert outcomes[("HD001", "letter")]["status"] == "letter"
    assert outcomes[("HD001", "email")]["status"] == "sent"
    letter = pdftotext(letters / "HD001-2026-04-10.pdf")
    assert "A7-000001" in letter and "A7-000002" not in letter and "催款函" in letter
    [(to, msg)] = smtp.messages
    [attachment] = list(msg.iter_attachments())
    attached = tmp_path / "attached.pdf"
    attached.write_bytes(attachment.get_content())
    text = pdftotext(attached)
    assert "A7-000002" in text and "A7-000001" not in text and _flat(COMPANY["company.bank_account"]) in _flat(text)


def test_a_broken_dunning_template_sends_nothing(docs, smtp, tmp_path):
    smtp_settings(docs, smtp)
    with Ledger.open(docs.path, PASSPHRASE) as led:
        with led.writing() as tx:
            tx.set("settings", "template.dunning.zh", value="<h1>催款函</h1>\n{{ level.colour }}\n")
    letters = tmp_path / "letters"
    result = docs("remind", "send", "--as-of", "2026-04-10", "--letters", letters, "--letter-format", "pdf",
                  "--attach-pdf")
    assert_one_line_error(result, 1, "template dunning.zh", "line 2")
    assert smtp.messages == [] and not letters.exists()
    assert docs("remind", "log", "--format", "json").json() == []
