"""A real SMTP server on loopback (aiosmtpd) for the tests that send mail: an Inbox handler that keeps what it
received (and can hold a message back, like a server that stops answering), a free port, a running server."""
from __future__ import annotations

import asyncio
import socket
import threading
from contextlib import contextmanager
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


class Inbox:
    """An aiosmtpd handler keeping what it received; `block_from` makes the n-th message (1-based) hang in DATA
    until `release` is set, like a server that stops answering after the first message."""

    def __init__(self, block_from: int | None = None):
        self.messages = []  # parsed messages accepted (250 sent back)
        self.arrived = 0  # messages whose DATA reached the server, accepted or not
        self.block_from = block_from
        self.blocked = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.arrived += 1
        if self.block_from is not None and self.arrived >= self.block_from and not self.release.is_set():
            self.blocked.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 try again later"
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def to(self) -> list[str]:
        return [m["To"].addresses[0].addr_spec for m in self.messages]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def smtp_server(inbox: Inbox, **kw):
    """An aiosmtpd server on 127.0.0.1 handing what arrives to inbox; yields its port."""
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kw)
    controller.start()
    try:
        yield port
    finally:
        inbox.release.set()
        controller.stop()
