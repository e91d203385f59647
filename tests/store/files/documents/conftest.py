"""Fixtures of the document tests: the documents' book, and a real SMTP server on loopback."""
from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller

from tests.support.documents import document_book
from tests.support.smtp_inbox import Inbox, free_port


@pytest.fixture
def docs(cli):
    """`cli` over the book of tests.support.documents.document_book."""
    document_book(cli)
    return cli


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()
