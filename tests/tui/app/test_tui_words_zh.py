"""What the app shows from the ledger and from a run reads in the reader's language: a reminder's outcome on the
customer screen, yes / no in a customer's change history, the notes the app itself wrote (in English, as they
were always stored) worded in Chinese where they are shown."""
from __future__ import annotations

import socket

import pytest
from textual.widgets import DataTable, TabbedContent

from store.ledger.ledger import Ledger
from store.write import customers, settings
from tests.support.app import app_for, settle
from tests.support.book import PASSPHRASE
from tui.screens.customer import CustomerScreen

pytestmark = pytest.mark.anyio


def closed_port() -> int:
    """A loopback port nothing listens on (a connection to it is refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def open_customer(pilot, code: str, tab: str | None = None) -> CustomerScreen:
    await settle(pilot)
    pilot.app.push_screen(CustomerScreen(code))
    await settle(pilot)
    if tab:
        pilot.app.screen.query_one("#archive-tabs", TabbedContent).active = tab
        await settle(pilot)
    return pilot.app.screen


async def test_a_reminder_that_could_not_be_sent_is_told_in_chinese_on_the_customer_screen(book):
    with Ledger.open(book, PASSPHRASE) as ledger:
        settings.put_many(ledger, {"smtp.host": "127.0.0.1", "smtp.port": str(closed_port()),
                                   "smtp.from": "ar@hengxin.example.cn", "smtp.starttls": "false"})
    app = app_for(book, language="zh")
    async with app.run_test(size=(120, 40)) as pilot:
        await open_customer(pilot, "BJ001", "tab-statement")
        await pilot.press("d")
        await settle(pilot)
        await pilot.click("#pick-send")
        await settle(pilot)
        await pilot.click("#ask-yes")
        await settle(pilot)
        told = "\n".join(str(n.message) for n in app._notifications)
        assert "无法连接 SMTP 服务器 127.0.0.1" in told  # the outcome's detail, in the reader's words
        assert "cannot connect" not in told


async def test_archived_reads_yes_and_no_in_a_customers_history_in_chinese(book):
    with Ledger.open(book, PASSPHRASE, actor="tester") as ledger:
        customers.set_archived(ledger, "EU01", True)
        customers.set_archived(ledger, "EU01", False)
    app = app_for(book, language="zh")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_customer(pilot, "EU01", "tab-history")
        table = screen.query_one("#history", DataTable)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        archived = [row[2:4] for row in rows if row[1] == app.t("field.archived")]
        assert archived[:2] == [["是", "否"], ["否", "是"]]  # newest first: unarchived, then archived
