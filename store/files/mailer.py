"""Reminder e-mails and letters in the customer's language (zh / en), and sending them through SMTP (smtplib).

Settings: smtp.host, smtp.port (default 587 with STARTTLS, else 25; 465 means implicit TLS), smtp.user,
smtp.password, smtp.from, smtp.starttls (default true). One connection per run, one message per customer.
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from store.rules import money
from store.rules.dunning import PlanItem
from store.write import settings
from store.errors import DulyError, InvalidInput
from store.i18n import N_

# Per template and language: subject and opening paragraph; {company} and {customer} are filled in.
TEMPLATES = {
    "friendly": {
        "zh": ("【{company}】付款提醒：以下发票即将到期",
               "{customer}，您好：\n\n以下发票即将到期，请按时安排付款。如已付款，请忽略本邮件。"),
        "en": ("[{company}] Friendly reminder: invoices falling due",
               "Dear {customer},\n\nThe invoices below fall due shortly. Please arrange payment on time; if you "
               "have already paid, please disregard this message."),
    },
    "first": {
        "zh": ("【{company}】逾期付款提醒", "{customer}，您好：\n\n经核对，以下发票已逾期未付，请尽快安排付款。"),
        "en": ("[{company}] Payment reminder: overdue invoices",
               "Dear {customer},\n\nOur records show the invoices below are overdue. Please arrange payment "
               "as soon as possible."),
    },
    "second": {
        "zh": ("【{company}】第二次催款通知", "{customer}，您好：\n\n以下发票仍未付款，已多次提醒。请在 7 日内付清，或与我们联系。"),
        "en": ("[{company}] Second reminder: overdue invoices",
               "Dear {customer},\n\nThe invoices below remain unpaid despite our earlier reminder. Please pay "
               "within 7 days or contact us."),
    },
    "final": {
        "zh": ("【{company}】最后付款通知", "{customer}：\n\n以下款项严重逾期。若 10 日内仍未付清，我们将采取进一步措施，并按约定收取费用及逾期利息。"),
        "en": ("[{company}] Final notice before further action",
               "Dear {customer},\n\nThe amounts below are seriously overdue. Unless paid within 10 days we will "
               "take further steps, and charge the fees and late interest shown."),
    },
    "legal": {
        "zh": ("【{company}】法律程序通知", "{customer}：\n\n以下款项经多次催收仍未支付，本案将移交法务处理。"),
        "en": ("[{company}] Notice of legal action",
               "Dear {customer},\n\nThe amounts below remain unpaid after repeated reminders; the matter is being "
               "passed to our legal counsel."),
    },
}
HEADINGS = {
    "zh": ("发票号", "开票日", "到期日", "逾期天数", "应付金额", "费用", "利息", "合计", "总计", "此致\n{company}"),
    "en": ("Invoice", "Date", "Due", "Days late", "Amount", "Fee", "Interest", "Total", "Grand total",
           "Kind regards,\n{company}"),
}


@dataclass(frozen=True)
class Recipient:
    customer_id: str
    code: str
    name: str
    email: str | None
    language: str  # zh | en
    phone: str | None = None  # for phone / WeChat tasks


def render(recipient: Recipient, items: list[PlanItem], company: str, doc_dates: dict[str, str]) -> tuple[str, str]:
    """(subject, body) listing the items, in the recipient's language; the template of the highest level."""
    lang = recipient.language if recipient.language in ("zh", "en") else "zh"
    top = max(items, key=lambda i: i.level.offset).level
    subject, opening = TEMPLATES[top.template][lang]
    heads = HEADINGS[lang]
    lines = [opening.format(company=company, customer=recipient.name), ""]
    lines.append(" | ".join(heads[:8]))
    totals: dict[str, int] = {}
    for it in items:
        cur = it.currency
        amt = lambda m: money.format_amount(m, cur)  # noqa: E731
        lines.append(" | ".join([it.number, doc_dates.get(it.invoice_id, ""), it.due_date.isoformat(),
                                 str(max(it.days_overdue, 0)), amt(it.asked), amt(it.fee), amt(it.interest),
                                 f"{amt(it.total)} {cur}"]))
        totals[cur] = totals.get(cur, 0) + it.total
    lines.append("")
    for cur, total in sorted(totals.items()):
        lines.append(f"{heads[8]}: {money.format_amount(total, cur)} {cur}")
    lines += ["", heads[9].format(company=company)]
    return subject.format(company=company), "\n".join(lines) + "\n"


def message(sender: str, recipient: Recipient, subject: str, body: str, message_id: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    # A name may hold a line break (a quoted cell of an imported file); a header may not.
    msg["To"] = formataddr((" ".join(recipient.name.split()), recipient.email or ""))
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    # The same id for the same send, so a mail client can tell a copy from a second reminder.
    msg["Message-ID"] = message_id
    msg["Content-Language"] = "zh-CN" if recipient.language == "zh" else "en"
    msg.set_content(body, charset="utf-8")
    return msg


def test_message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    """A plain message to check the SMTP settings (Settings' "send a test message")."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg.set_content(body, charset="utf-8")
    return msg


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str | None
    password: str | None
    sender: str
    starttls: bool

    @classmethod
    def from_ledger(cls, ledger) -> "SmtpSettings":
        host, sender = ledger.setting("smtp.host"), ledger.setting("smtp.from")
        if not host or not sender:
            raise InvalidInput(N_("e-mail reminders need settings smtp.host and smtp.from (`duly settings set "
                                  "smtp.host mail.example.com`)"), field="smtp.host")
        starttls = (ledger.setting("smtp.starttls") or "true") == "true"
        port = int(ledger.setting("smtp.port") or (587 if starttls else 25))
        return cls(host, port, ledger.setting("smtp.user"), settings.get(ledger, "smtp.password"), sender, starttls)


class SendFailed(DulyError):
    """The server refused the message: it was certainly not delivered (safe to try again later)."""


class ConnectFailed(SendFailed):
    """No session with the server (refused, unreachable, login refused): nothing was handed over."""


class SendUncertain(DulyError):
    """The connection broke while the message was being handed over: it may or may not have been delivered."""


class Smtp:
    """One SMTP session for a run; connects on the first message."""

    def __init__(self, settings: SmtpSettings, timeout: float = 60):
        self.settings = settings
        self.timeout = timeout
        self._conn: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            if s.port == 465:
                conn = smtplib.SMTP_SSL(s.host, s.port, timeout=self.timeout, context=ssl.create_default_context())
            else:
                conn = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
                if s.starttls:
                    conn.starttls(context=ssl.create_default_context())
            if s.user:
                conn.login(s.user, s.password or "")
        except smtplib.SMTPAuthenticationError:
            raise ConnectFailed(N_("SMTP server {host}:{port} refused the login of {user}"), host=s.host,
                                port=s.port, user=repr(s.user)) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise ConnectFailed(N_("cannot connect to SMTP server {host}:{port}: {exc}"), host=s.host,
                                port=s.port, exc=exc) from None
        return conn

    def send(self, msg: EmailMessage) -> None:
        """Hand one message over; SendFailed when it was refused, SendUncertain when the outcome is unknown."""
        if self._conn is None:
            self._conn = self._connect()
        try:
            refused = self._conn.send_message(msg)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError,
                smtplib.SMTPHeloError, smtplib.SMTPNotSupportedError) as exc:
            raise SendFailed(N_("SMTP server refused the message to {to}: {exc}"), to=msg['To'], exc=exc) from None
        except (smtplib.SMTPException, OSError) as exc:
            self._conn = None
            raise SendUncertain(N_("connection lost while sending to {to}: {exc}"), to=msg['To'], exc=exc) from None
        if refused:
            raise SendFailed(N_("SMTP server refused recipient(s) {refused}"), refused=', '.join(refused))

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (smtplib.SMTPException, OSError):
                self._conn.close()  # the server hung up first: nothing left to say goodbye to
            self._conn = None
