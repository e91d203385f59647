"""A real SMTP server on loopback (aiosmtpd) that keeps every message it accepts."""
from __future__ import annotations

import email
import socket
from email import policy


class Inbox:
    def __init__(self):
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.port = 0

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content,
                                                                                policy=policy.default)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def smtp_settings(cli, inbox: Inbox) -> None:
    """Point the ledger's smtp.* settings at the inbox."""
    for key, value in (("smtp.host", "127.0.0.1"), ("smtp.port", str(inbox.port)), ("smtp.starttls", "false"),
                       ("smtp.from", "billing@yunfan.example")):
        assert cli("settings", "set", key, value).code == 0
