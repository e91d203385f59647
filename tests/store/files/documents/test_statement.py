"""The statement of account (对账单) as the customer receives it: the issuing company on it, people's words for every
code, our own notes only when asked for, a terminal layout for --format table, and a file written is a preview,
not a statement sent."""
from __future__ import annotations

import pytest

from store.files.documents import engine
from tests.support.cli import assert_one_line_error
from tests.support.documents import COMPANY, HD001_BALANCE, HD001_OPEN, INTERNAL_NOTES, RAW_CODES
from tests.support.smtp_inbox import smtp_settings




@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("dates", [("--as-of", "2026-03-31"), ("--from", "2026-01-01", "--to", "2026-03-31")])
def test_statement_carries_the_company_and_no_code_or_internal_note(docs, lang, dates):
    page = docs("statement", "HD001", *dates, "--format", "html", "--doc-lang", lang).out
    for key in ("company.legal_name", "company.tax_id", "company.bank_account", "company.account_name"):
        assert COMPANY[key] in page, key
    assert "上海恒达贸易有限公司" in page and HD001_BALANCE in page
    for code in RAW_CODES:
        assert code not in page, code
    for note in INTERNAL_NOTES:
        assert note not in page, note
    assert ("银行转账" if lang == "zh" else "Bank transfer") in page or "--as-of" in dates
    assert ("未到期" if lang == "zh" else "Not due") in page


def test_internal_notes_only_when_asked_for(docs):
    page = docs("statement", "HD001", "--from", "2026-01-01", "--to", "2026-03-31", "--format", "html",
                "--internal-notes").out
    assert INTERNAL_NOTES[1] in page and INTERNAL_NOTES[2] in page


def test_the_customer_language_is_the_default(docs):
    assert "<h1>Statement of account</h1>" in docs("statement", "GL01", "--as-of", "2026-03-31", "--format",
                                                    "html").out
    assert "<h1>对账单</h1>" in docs("statement", "HD001", "--as-of", "2026-03-31", "--format", "html").out


@pytest.mark.parametrize(("lang", "title"), [("en", "<h1>Statement of account</h1>"), ("zh", "<h1>对账单</h1>")])
def test_a_customer_without_a_language_gets_the_language_set_for_the_ledger(docs, lang, title):
    """`language` is kept per device (not synced); a customer with none gets documents in the language set here,
    as its reminders are."""
    docs("customer", "add", "NL01", "--name", "Nolang Trading")
    docs("invoice", "add", "--customer", "NL01", "--date", "2026-03-01", "--amount", "100")
    docs("settings", "set", "language", lang)
    assert title in docs("statement", "NL01", "--as-of", "2026-03-31", "--format", "html").out


def test_format_table_is_a_terminal_layout_not_markdown(docs):
    out = docs("statement", "HD001", "--from", "2026-01-01", "--to", "2026-03-31").out
    assert "|" not in out and "#" not in out and "**" not in out
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("日期"))
    rule = lines[lines.index(header) + 1]
    assert set(rule) == {"-", " "}
    payment = next(line for line in lines if "HD-PAY-0220" in line)
    assert "银行转账" in payment and payment.rstrip().endswith("16,291.59")  # amounts flush right
    assert f"期末余额: {HD001_BALANCE} CNY" in out


def test_writing_files_is_a_preview_unless_marked_sent(docs, tmp_path):
    out = tmp_path / "print"
    written = docs("statement", "HD001", "--as-of", "2026-03-31", "--out", out, "--format", "json")
    assert written.code == 0, written.err
    [row] = written.json()
    assert row["outcome"].startswith("written") and (out / "HD001-2026-03-31.html").exists()
    assert docs("statement", "status", "--format", "json").json() == []  # nothing recorded as sent
    # writing it again is fine (a preview), and --mark-sent records it
    marked = docs("statement", "HD001", "--as-of", "2026-03-31", "--out", out, "--mark-sent", "--on", "2026-04-01",
                  "--format", "pdf")
    assert marked.code == 0, marked.err
    assert (out / "HD001-2026-03-31.pdf").read_bytes().startswith(b"%PDF-")
    [status] = docs("statement", "status", "--format", "json").json()
    assert (status["status"], status["channel"], status["sent_on"]) == ("sent", "print", "2026-04-01")



def test_emailed_statement_can_carry_the_pdf(docs, smtp, tmp_path):
    smtp_settings(docs, smtp)
    sent = docs("statement", "HD001", "--as-of", "2026-03-31", "--send", "--attach-pdf", "--on", "2026-04-01")
    assert sent.code == 0, sent.err
    [(_, msg)] = smtp.messages
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_filename() == "HD001-statement-2026-03-31.pdf"
    pdf = tmp_path / "attached.pdf"
    pdf.write_bytes(attachment.get_content())
    from tests.support.documents import pdftotext

    text = pdftotext(pdf)
    assert HD001_BALANCE in text and all(amount in text for amount in HD001_OPEN.values())
    assert docs("statement", "status", "--format", "json").json()[0]["status"] == "sent"


BROKEN = {
    "syntax": ("<h1>对账单</h1>\n{% for s in sections %}\n", "line 2"),
    "undefined": ("<h1>对账单</h1>\n<p>{{ customer.nickname }}</p>\n", "line 2"),
    "internals": ("<h1>对账单</h1>\n\n<p>{{ customer.__class__.__mro__ }}</p>\n", "line 3"),
    "loop": ("<h1>对账单</h1>\n{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}\n",
             "line 2"),
}


@pytest.mark.parametrize("kind", list(BROKEN))
def test_a_broken_template_sends_and_writes_nothing(docs, smtp, tmp_path, monkeypatch, kind):
    monkeypatch.setattr(engine, "RENDER_SECONDS", 0.5)
    smtp_settings(docs, smtp)
    source, line = BROKEN[kind]
    from store.ledger.ledger import Ledger
    from store.write import templates
    from tests.support.cli import PASSPHRASE

    with Ledger.open(docs.path, PASSPHRASE) as led:  # as a synced edit from another device would arrive
        with led.writing() as tx:
            tx.set("settings", templates.PREFIX + "statement.zh", value=source)
    out = tmp_path / "print"
    result = docs("statement", "--all", "--as-of", "2026-03-31", "--send", "--out", out, "--mark-sent")
    assert_one_line_error(result, 1, "template statement.zh", line)
    assert smtp.messages == [] and not out.exists()
    assert docs("statement", "status", "--format", "json").json() == []
    assert_one_line_error(docs("statement", "HD001", "--as-of", "2026-03-31", "--format", "html"), 1,
                          "template statement.zh", line)
