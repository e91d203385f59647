"""Statements of account sent and confirmed (对账单): e-mail through a real SMTP server on loopback (aiosmtpd),
print-ready HTML for customers without an address, sent / confirmed / disputed with the difference shown until
resolved, and a monthly run that skips what was already sent."""
from __future__ import annotations

import email
import socket
from datetime import date
from email import policy

import pytest
from aiosmtpd.controller import Controller

from store.write import confirmations, customers, invoices
from store.errors import Conflict, InvalidInput
from tests.support.cli import assert_one_line_error


class Inbox:
    def __init__(self):
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content,
                                                                                policy=policy.default)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


@pytest.fixture
def books(cli, smtp):
    """HD001 (e-mail, owes 15,000.00), HD002 (no e-mail, owes 5,000.00), ZZ01 (e-mail, owes nothing)."""
    assert cli("init", "--series", "A7").code == 0
    for args in (("HD001", "--name", "上海恒达贸易有限公司", "--email", "ap@hengda.example.cn"),
                 ("HD002", "--name", "恒达科技有限公司"), ("ZZ01", "--name", "Zero Ltd", "--email", "ap@zero.example")):
        assert cli("customer", "add", *args).code == 0
    for code, amount in (("HD001", "10000"), ("HD001", "5000"), ("HD002", "5000")):
        assert cli("invoice", "add", "--customer", code, "--date", "2026-03-01", "--amount", amount).code == 0
    for key, value in (("smtp.host", "127.0.0.1"), ("smtp.port", str(smtp.port)), ("smtp.starttls", "false"),
                       ("smtp.from", "billing@yunfan.example"), ("company.name", "云帆科技")):
        assert cli("settings", "set", key, value).code == 0
    return cli


def test_statement_is_emailed_and_tracked_as_sent(books, smtp):
    result = books("statement", "HD001", "--as-of", "2026-03-31", "--send", "--on", "2026-04-01")
    assert result.code == 0, result.err
    assert "1 statement(s) sent as of 2026-03-31, 0 not" in result.out
    [(to, msg)] = smtp.messages
    assert to == ["ap@hengda.example.cn"]
    assert msg["Subject"] == "【云帆科技】对账单（截至 2026-03-31）— 上海恒达贸易有限公司"
    text = msg.get_body(("plain",)).get_content()
    assert "期末余额: 15,000.00 CNY" in text and "请核对以下对账单" in text
    page = msg.get_body(("html",)).get_content()
    assert "<h1>对账单</h1>" in page and "截至 2026-03-31 未结清款项" in page and "云帆科技" in page
    status = books("statement", "status", "--format", "json").json()
    assert [(r["customer"], r["status"], r["channel"], r["sent_on"], r["our_balance"]) for r in status] == [
        ("HD001", "sent", "email", "2026-04-01", "15000.00")]


def test_monthly_run_for_all_with_a_balance_prints_for_those_without_email(books, smtp, tmp_path):
    out = tmp_path / "print"
    result = books("statement", "--all", "--as-of", "2026-03-31", "--send", "--out", out, "--mark-sent",
                   "--format", "json")
    assert result.code == 0, result.err
    assert [(r["customer"], r["channel"], r["outcome"]) for r in result.json()] == [
        ("HD001", "email", "sent"), ("HD002", "print", "sent")]  # ZZ01 owes nothing: no statement
    assert [to for to, _ in smtp.messages] == [["ap@hengda.example.cn"]]
    html = (out / "HD002-2026-03-31.html").read_text(encoding="utf-8")
    assert "恒达科技有限公司" in html and "期末余额（CNY）" in html and "5,000.00" in html
    # The same run again sends nothing twice; --resend does.
    again = books("statement", "--all", "--as-of", "2026-03-31", "--send", "--out", out, "--mark-sent",
                  "--format", "json")
    today = date.today().isoformat()
    assert [r["outcome"] for r in again.json()] == [f"skipped: already sent on {today} (--resend sends it again)"] * 2
    assert len(smtp.messages) == 1
    assert books("statement", "HD001", "--as-of", "2026-03-31", "--send", "--resend").code == 0
    assert len(smtp.messages) == 2


def test_without_an_address_or_out_dir_the_customer_is_skipped(books, smtp):
    result = books("statement", "HD002", "--as-of", "2026-03-31", "--send")
    assert result.code == 0 and "skipped: no e-mail address (use --out DIR" in result.out
    assert smtp.messages == [] and books("statement", "status", "--format", "json").json() == []


def test_confirmed_and_disputed_with_the_difference_until_resolved(books):
    assert books("statement", "HD001", "--as-of", "2026-03-31", "--send", "--on", "2026-04-01").code == 0
    confirmed = books("statement", "confirm", "HD002", "--as-of", "2026-03-31", "--their-balance", "5000",
                      "--on", "2026-04-05")
    assert confirmed.code == 0 and "confirmed (5,000.00 CNY)" in confirmed.out
    disputed = books("statement", "confirm", "HD001", "--as-of", "2026-03-31", "--their-balance", "14,000.00",
                     "--on", "2026-04-06")
    assert disputed.code == 0
    assert "disputed: ours 15,000.00, theirs 14,000.00, difference 1,000.00 CNY" in disputed.out
    status = books("statement", "status", "--format", "json").json()
    assert [(r["customer"], r["status"], r["their_balance"], r["difference"], r["sent_on"], r["answered_on"])
            for r in status] == [("HD001", "disputed", "14000.00", "1000.00", "2026-04-01", "2026-04-06"),
                                 ("HD002", "confirmed", "5000.00", "0.00", None, "2026-04-05")]
    # Next month's statement does not hide March's open difference.
    assert books("statement", "confirm", "HD001", "--as-of", "2026-04-30", "--on", "2026-05-03").code == 0
    still = books("statement", "status", "HD001", "--open", "--format", "json").json()
    assert [(r["as_of"], r["difference"]) for r in still] == [("2026-03-31", "1000.00")]
    table = books("statement", "status", "HD001")
    assert "2026-04-30" in table.out and "2026-03-31" in table.out and "1,000.00" in table.out
    resolved = books("statement", "resolve", "HD001", "--as-of", "2026-03-31", "--note", "their payment of 03-30 "
                     "was still in transit")
    assert resolved.code == 0 and "difference of 1,000.00 CNY" in resolved.out
    assert books("statement", "status", "--open", "--format", "json").json() == []
    assert_one_line_error(books("statement", "resolve", "HD001", "--as-of", "2026-03-31", "--note", "x"), 1,
                          "resolved, not disputed")


def test_smtp_down_is_a_failed_send_that_can_be_retried(books, smtp):
    port = smtp.port
    assert books("settings", "set", "smtp.port", str(free_port())).code == 0
    failed = books("statement", "HD001", "--as-of", "2026-03-31", "--send")
    assert failed.code == 1 and "failed: cannot connect to SMTP server" in failed.out
    assert books("statement", "status", "--format", "json").json()[0]["status"] == "failed"
    assert books("settings", "set", "smtp.port", str(port)).code == 0
    retried = books("statement", "HD001", "--as-of", "2026-03-31", "--send")
    assert retried.code == 0 and len(smtp.messages) == 1
    assert books("statement", "status", "--format", "json").json()[0]["status"] == "sent"


def test_usage_errors(books):
    assert books("statement", "confirm", "HD001").code == 2
    assert books("statement", "--all", "--as-of", "2026-03-31").code == 2
    assert books("statement").code == 2
    # the statement itself still works as before
    shown = books("statement", "HD001", "--as-of", "2026-03-31", "--format", "md")
    assert shown.code == 0 and "**期末余额: 15,000.00 CNY**" in shown.out


def test_several_currencies_need_one_named(ledger):
    customers.add(ledger, "MX", "Mixed Ltd")
    invoices.add(ledger, "MX", "2026-03-01", amount="100")
    invoices.add(ledger, "MX", "2026-03-01", amount="70", currency="USD")
    with pytest.raises(InvalidInput, match="balances in CNY, USD as of 2026-03-31: give --currency"):
        confirmations.confirm(ledger, "MX", "2026-03-31", "100")
    row = confirmations.confirm(ledger, "MX", "2026-03-31", "60", currency="USD", on="2026-04-02")
    assert (row["status"], row["our_balance"], row["difference"]) == ("disputed", 7_000, 1_000)
    with pytest.raises(Conflict, match="not tracked, not disputed"):
        confirmations.resolve(ledger, "MX", "2026-03-31", "n/a", currency="CNY")


def test_sending_without_smtp_settings_says_what_to_set(cli):
    assert cli("init").code == 0
    assert cli("customer", "add", "HD001", "--name", "恒达", "--email", "ap@hd.example.cn").code == 0
    assert cli("invoice", "add", "--customer", "HD001", "--date", "2026-03-01", "--amount", "100").code == 0
    assert_one_line_error(cli("statement", "HD001", "--as-of", "2026-03-31", "--send"), 1,
                          "smtp.host and smtp.from", "--out DIR")


class Hangup(Inbox):
    """Takes the message, then drops the line before answering: the sender cannot know if it arrived."""

    async def handle_DATA(self, server, session, envelope):
        await super().handle_DATA(server, session, envelope)
        server.transport.close()
        return "250 OK"


def test_an_interrupted_send_is_not_sent_again_without_resend(books, smtp):
    hangup = Hangup()
    controller = Controller(hangup, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        assert books("settings", "set", "smtp.port", str(controller.port)).code == 0
        first = books("statement", "HD001", "--as-of", "2026-03-31", "--send", "--format", "json")
        assert first.code == 1 and first.json()[0]["outcome"].startswith("failed: connection lost while sending")
        assert books("statement", "status", "--format", "json").json()[0]["status"] == "sending"
        again = books("statement", "HD001", "--as-of", "2026-03-31", "--send", "--format", "json")
        assert again.json()[0]["outcome"].startswith("skipped: an earlier send was interrupted")
        assert len(hangup.messages) == 1
    finally:
        controller.stop()
    assert books("settings", "set", "smtp.port", str(smtp.port)).code == 0
    assert books("statement", "HD001", "--as-of", "2026-03-31", "--send", "--resend").code == 0
    assert len(smtp.messages) == 1
    assert books("statement", "status", "--format", "json").json()[0]["status"] == "sent"
