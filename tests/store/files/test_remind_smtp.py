"""`duly remind send` against a real SMTP server on loopback (aiosmtpd): one message per customer in its
language, each level at most once per invoice, also when the sender is killed half-way (kill -9) and run again."""
from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from store.write import customers, invoices, settings
from store.ledger.ledger import Ledger
from tests.support.cli import PASSPHRASE, duly_exe, run_duly
from tests.support.smtp import Inbox, free_port


@pytest.fixture
def smtp():
    started = []

    def start(inbox: Inbox, **kw) -> int:
        port = free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port, **kw)
        controller.start()
        started.append((controller, inbox))
        return port

    yield start
    for controller, inbox in started:
        inbox.release.set()
        controller.stop()


def make_book(path, port: int, *, user: str | None = None) -> None:
    """Three customers with e-mail (HD zh, AC en, ZZ zh), one invoice each due 2026-02-01 (30 days overdue on
    2026-03-03: level 'second'), and one without e-mail (NOMAIL)."""
    with Ledger.create(path, PASSPHRASE, series="T1") as ledger:
        for code, name, email, lang in [("AC", "Acme Trading Ltd", "ap@acme.example.com", "en"),
                                        ("HD", "上海恒达贸易有限公司", "caiwu@hengda.example.cn", "zh"),
                                        ("ZZ", "郑州中原机械有限公司", "zz@zhongyuan.example.cn", "zh"),
                                        ("NOMAIL", "无邮箱公司", None, "zh")]:
            customers.add(ledger, code, name, language=lang, **({"email": email} if email else {}))
        for n, code in enumerate(["AC", "HD", "ZZ", "NOMAIL"], 1):
            invoices.add(ledger, code, "2026-01-02", amount=f"{n}000.00", due="2026-02-01", number=f"INV-{n}")
        for key, value in [("smtp.host", "127.0.0.1"), ("smtp.port", str(port)), ("smtp.from", "ar@duly.example.com"),
                           ("smtp.starttls", "false"), ("company.name", "恒信会计")]:
            settings.put(ledger, key, value)
        if user:
            settings.put(ledger, "smtp.user", user)
            settings.put(ledger, "smtp.password", "s3cret")


def test_one_message_per_customer_in_its_language_and_never_twice(cli, smtp):
    inbox = Inbox()
    make_book(cli.path, smtp(inbox))
    first = cli("remind", "send", "--as-of", "2026-03-03", "--format", "json")
    assert first.code == 0, first.err
    assert [(o["customer"], o["status"]) for o in first.json()] == [
        ("AC", "sent"), ("HD", "sent"), ("NOMAIL", "skipped"), ("ZZ", "sent")]
    assert inbox.to() == ["ap@acme.example.com", "caiwu@hengda.example.cn", "zz@zhongyuan.example.cn"]
    en, zh = inbox.messages[0], inbox.messages[1]
    assert en["Subject"] == "[恒信会计] Second reminder: overdue invoices"
    assert zh["Subject"] == "【恒信会计】第二次催款通知"
    assert zh["From"] == "ar@duly.example.com"
    body = zh.get_body(("plain",)).get_content()
    assert body.startswith("上海恒达贸易有限公司，您好：")
    assert "INV-2 | 2026-01-02 | 2026-02-01 | 30 | 2,000.00 | 0.00 | 0.00 | 2,000.00 CNY" in body
    assert "总计: 2,000.00 CNY" in body
    en_text = en.get_body(("plain",)).get_content()
    assert "Dear Acme Trading Ltd," in en_text and "Grand total: 1,000.00 CNY" in en_text

    again = cli("remind", "send", "--as-of", "2026-03-03", "--format", "json")
    assert again.code == 0 and [o["customer"] for o in again.json()] == ["NOMAIL"]
    later = cli("remind", "send", "--as-of", "2026-03-10", "--format", "json")  # still level 'second'
    assert [o["status"] for o in later.json()] == ["skipped"]
    assert len(inbox.messages) == 3
    log = cli("remind", "log", "HD", "--format", "json").json()
    assert [(r["number"], r["level"], r["channel"], r["outcome"]) for r in log] == [
        ("INV-2", "second", "email", "sent")]
    notes = cli("note", "list", "HD", "--format", "json").json()
    assert [n["text"] for n in notes] == ["reminder (second) e-mailed to caiwu@hengda.example.cn: INV-2"]

    assert cli("settings", "set", "dunning.levels", "second:30:email; call:45:phone; last:60:email").code == 0
    nxt = cli("remind", "send", "--as-of", "2026-04-02", "--format", "json")  # 60 days: the next level goes out
    assert [(o["customer"], o["status"]) for o in nxt.json()] == [
        ("AC", "sent"), ("HD", "sent"), ("NOMAIL", "skipped"), ("ZZ", "sent")]
    assert len(inbox.messages) == 6


def test_reminder_e_mails_carry_the_users_dunning_template(cli, smtp, tmp_path):
    """The e-mail's HTML part is the dunning letter from the template in force: an edit the user made shows in
    what the customer reads; a template that breaks stops the run with nothing sent and nothing recorded."""
    inbox = Inbox()
    make_book(cli.path, smtp(inbox))
    own = tmp_path / "dunning.zh.html"
    own.write_text("<html><body><p>{{ customer.name }}：我司自定义催款函</p>{% for r in rows %}<p>{{ r.number }} "
                   "{{ r.total }}</p>{% endfor %}</body></html>", encoding="utf-8")
    assert cli("template", "edit", "dunning.zh", "--file", str(own)).code == 0
    sent = cli("remind", "send", "--as-of", "2026-03-03", "--format", "json")
    assert sent.code == 0, sent.err
    zh = next(m for m in inbox.messages if m["To"].addresses[0].addr_spec == "caiwu@hengda.example.cn")
    html = zh.get_body(("html",)).get_content()
    assert "上海恒达贸易有限公司：我司自定义催款函" in html and "INV-2 2,000.00" in html
    en = next(m for m in inbox.messages if m["To"].addresses[0].addr_spec == "ap@acme.example.com")
    assert "Payment reminder" in en.get_body(("html",)).get_content()  # the built-in English template
    assert not [p for p in zh.iter_attachments()]  # no PDF unless --attach-pdf

    assert cli("settings", "set", "dunning.levels", "second:30:email; last:60:email").code == 0
    with Ledger.open(cli.path, PASSPHRASE) as ledger:  # a broken template kept behind the check's back
        with ledger.writing() as tx:
            tx.set("settings", "template.dunning.zh", value="<p>{{ customer.nme }}</p>")
    broken = cli("remind", "send", "--as-of", "2026-04-02", "--format", "json")
    assert broken.code == 1 and "dunning.zh" in broken.err and "line 1" in broken.err, broken.err
    assert len(inbox.messages) == 3
    log = cli("remind", "log", "--format", "json").json()
    assert sorted(r["level"] for r in log) == ["second", "second", "second"]


def test_dry_run_sends_and_records_nothing(cli, smtp):
    inbox = Inbox()
    make_book(cli.path, smtp(inbox))
    dry = cli("remind", "send", "--as-of", "2026-03-03", "--dry-run", "--format", "json")
    assert [(o["customer"], o["status"]) for o in dry.json()] == [
        ("AC", "would_send"), ("HD", "would_send"), ("NOMAIL", "skipped"), ("ZZ", "would_send")]
    assert inbox.arrived == 0 and cli("remind", "log", "--format", "json").json() == []


def test_login_and_a_refused_login_sends_nothing_and_can_be_retried(cli, smtp):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"collector" and auth_data.password == b"s3cret"
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself

    inbox = Inbox()
    port = smtp(inbox, authenticator=authenticate, auth_require_tls=False)
    make_book(cli.path, port, user="collector")
    secret = cli.path.with_name("password.txt")
    secret.write_text("wrong\n")
    assert cli("settings", "set", "smtp.password", "--value-file", secret).code == 0
    refused = cli("remind", "send", "--as-of", "2026-03-03")
    assert refused.code == 1 and "refused the login of 'collector'" in refused.out
    assert "not confirmed (failed)" in refused.err and inbox.arrived == 0
    secret.write_text("s3cret\n")
    assert cli("settings", "set", "smtp.password", "--value-file", secret).code == 0
    retried = cli("remind", "send", "--as-of", "2026-03-03", "--format", "json")  # failed = certain: sent now
    assert retried.code == 0 and [o["status"] for o in retried.json()] == ["sent", "sent", "skipped", "sent"]
    assert len(inbox.messages) == 3


def test_missing_smtp_settings_are_named_before_anything_is_sent(cli):
    with Ledger.create(cli.path, PASSPHRASE, series="T1") as ledger:
        customers.add(ledger, "HD", "恒达", email="a@b.example.cn")
        invoices.add(ledger, "HD", "2026-01-02", amount="10", due="2026-02-01")
    result = cli("remind", "send", "--as-of", "2026-03-03")
    assert result.code == 1 and "need settings smtp.host and smtp.from" in result.err
    assert cli("remind", "log", "--format", "json").json() == []


def test_killed_half_way_and_run_again_sends_nothing_twice(tmp_path, smtp):
    """The server takes the first message, then hangs in DATA on the second; the sender is killed with SIGKILL
    while waiting, and run again against a server that answers: AC got one message, HD at most one (its outcome is
    unknown, so it is not sent again), ZZ one."""
    inbox = Inbox(block_from=2)
    path = tmp_path / "kill.duly"
    make_book(path, smtp(inbox))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DULY_")}
    env.update({"DULY_LEDGER": str(path), "DULY_PASSPHRASE": PASSPHRASE})
    proc = subprocess.Popen([duly_exe(), "remind", "send", "--as-of", "2026-03-03"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        assert inbox.blocked.wait(30), "the second message never reached the server"
        time.sleep(0.2)
        assert proc.poll() is None  # still waiting for the server's answer
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    assert inbox.to() == ["ap@acme.example.com"]
    inbox.release.set()  # the server answers again from now on

    second = run_duly("remind", "send", "--as-of", "2026-03-03", "--format", "json", env=env)
    assert second.code == 0, second.err
    assert [(o["customer"], o["status"]) for o in second.json()] == [("NOMAIL", "skipped"), ("ZZ", "sent")]
    third = run_duly("remind", "send", "--as-of", "2026-03-03", "--format", "json", env=env)
    assert [o["customer"] for o in third.json()] == ["NOMAIL"]
    assert inbox.to() == ["ap@acme.example.com", "zz@zhongyuan.example.cn"]
    assert inbox.arrived == 3  # AC, HD (hung, never accepted), ZZ: nothing reached the server twice
    log = {r["customer"]: r["outcome"] for r in run_duly("remind", "log", "--format", "json", env=env).json()}
    assert log == {"AC": "sent", "HD": "unknown (interrupted)", "ZZ": "sent"}
    held = run_duly("remind", "plan", "--as-of", "2026-03-03", "--held", "--format", "json", env=env).json()
    assert {"customer": "HD", "number": "INV-2", "level": "second",
            "reason": "level second already done (unknown)"} in held


def test_two_runs_racing_claim_each_invoice_level_once(tmp_path):
    """Two connections (as two `duly remind send` processes would) claim the same plan: the UNIQUE intent row lets
    only the first one have it, so only one of them would hand the message to the server."""
    from datetime import date

    from store.write import collections

    path = tmp_path / "race.duly"
    make_book(path, free_port())
    with Ledger.open(path, PASSPHRASE) as one, Ledger.open(path, PASSPHRASE) as two:
        as_of = date(2026, 3, 3)
        plan_one, plan_two = collections.reminder_plan(one, as_of), collections.reminder_plan(two, as_of)
        who = plan_one.customers[plan_one.plan.items[0].customer_id]
        items = [i for i in plan_one.plan.items if i.customer_id == who.customer_id]
        assert [i.number for i in collections.claim(one, "batch-1", who, "email", items, as_of)] == ["INV-1"]
        same = [i for i in plan_two.plan.items if i.customer_id == who.customer_id]  # planned before the claim
        assert collections.claim(two, "batch-2", who, "email", same, as_of) == []
        assert two.row("SELECT batch, status FROM remind_log") == {"batch": "batch-1", "status": "sending"}


def self_signed(tmp_path) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key (PEM files), made with `cryptography`."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_file), str(key_file)


def test_starttls_verifies_the_certificate_before_logging_in(cli, smtp, tmp_path, monkeypatch):
    import ssl

    cert, key = self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)

    class TlsInbox(Inbox):
        async def handle_DATA(self, server, session, envelope):
            self.tls = [session.ssl is not None, session.authenticated]
            return await super().handle_DATA(server, session, envelope)

    def authenticate(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=auth_data.login == b"collector" and auth_data.password == b"s3cret", handled=False)

    inbox = TlsInbox()
    port = smtp(inbox, tls_context=server_tls, require_starttls=True, authenticator=authenticate)
    make_book(cli.path, port, user="collector")
    assert cli("settings", "set", "smtp.starttls", "true").code == 0
    untrusted = cli("remind", "send", "--as-of", "2026-03-03")
    assert untrusted.code == 1 and "CERTIFICATE_VERIFY_FAILED" in untrusted.out and inbox.arrived == 0
    monkeypatch.setenv("SSL_CERT_FILE", cert)  # now the client trusts this certificate, and verifies it
    sent = cli("remind", "send", "--as-of", "2026-03-03", "--format", "json")
    assert sent.code == 0, sent.out + sent.err
    assert inbox.tls == [True, True] and len(inbox.messages) == 3


def test_a_name_with_a_line_break_is_sent_on_one_header_line(cli, smtp):
    """A customer name may hold a line break (a quoted cell of an imported CSV); a mail header may not. It was
    an internal error that left the level claimed ('unknown') although nothing was sent."""
    inbox = Inbox()
    make_book(cli.path, smtp(inbox))
    with Ledger.open(cli.path, PASSPHRASE) as ledger:
        customers.edit(ledger, "AC", name="Acme\nTrading Ltd")
    first = cli("remind", "send", "--as-of", "2026-03-03", "--format", "json")
    assert first.code == 0, first.err
    assert [(o["customer"], o["status"]) for o in first.json()] == [
        ("AC", "sent"), ("HD", "sent"), ("NOMAIL", "skipped"), ("ZZ", "sent")]
    assert str(inbox.messages[0]["To"]) == "Acme Trading Ltd <ap@acme.example.com>"
