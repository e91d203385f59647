"""The reminder review queue on the Collections screen through Pilot, sending to a real SMTP server on loopback
(aiosmtpd): each proposed reminder looked at and marked skip / hold / send, the message previewed, one question
for the whole batch, the outcome of each send shown; and a dispute resolved and a call logged from today's rows."""
from __future__ import annotations

import asyncio

import pytest
from textual.widgets import DataTable

from store.ledger.ledger import Ledger
from store.write import collections, customers, settings
from tests.support.app import SIZE, app_for, settle, text_of
from tests.support.book import PASSPHRASE, make_book
from tests.support.smtp import Inbox, smtp_server
from tui.screens.ask import AskScreen
from tui.screens.collections import CollectionsScreen
from tui.screens.prompt import PromptScreen
from tui.screens.review import ReminderPreviewScreen

pytestmark = pytest.mark.anyio


def cells(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def until_sent(pilot, screen: CollectionsScreen) -> None:
    for _ in range(200):
        await settle(pilot)
        if not screen.sending:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the batch never finished")


async def test_review_queue_skip_hold_preview_and_send_the_batch(tmp_path):
    path = make_book(tmp_path / "book.duly")
    inbox = Inbox()
    with smtp_server(inbox) as port:
        with Ledger.open(path, PASSPHRASE) as ledger:
            for key, value in [("smtp.host", "127.0.0.1"), ("smtp.port", str(port)), ("smtp.starttls", "false"),
                               ("smtp.from", "ar@duly.example.com"), ("company.name", "恒信会计")]:
                settings.put(ledger, key, value)
        app = app_for(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("7")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, CollectionsScreen)
            plan = screen.query_one("#coll-plan", DataTable)
            plan.focus()
            assert [row[2:4] for row in cells(plan)] == [
                ["BJ001", "T1-000005"], ["GZ003", "T1-000008"], ["GZ003", "T1-000007"], ["ACME", "T1-000002"],
                ["SH002", "T1-000010"], ["BJ001", "T1-000004"], ["EU01", "T1-000006"]]
            await pilot.press("x")  # skip BJ001's legal step; the cursor moves on
            await settle(pilot)
            await pilot.press("h")  # hold GZ003: both its rows
            await settle(pilot)
            await pilot.press("down", "x")  # skip the call to ACME
            await settle(pilot)
            await pilot.press("enter")  # look at SH002's reminder before deciding
            await settle(pilot)
            preview = app.screen
            assert isinstance(preview, ReminderPreviewScreen)
            assert "ar@minghui.example.cn" in text_of(preview.query_one("#preview-head"))
            assert "【恒信会计】第二次催款通知" in text_of(preview.query_one("#preview-head"))
            await pilot.press("space")  # send it
            await settle(pilot)
            assert app.screen is screen
            await pilot.press("space")  # and BJ001's first reminder
            await settle(pilot)
            assert [row[0] for row in cells(plan)] == ["skip", "hold", "hold", "skip", "send", "send", "to decide"]
            assert "2 to send, 2 skipped, 2 held, 1 to decide" in text_of(screen.query_one("#coll-plan-status"))

            await pilot.press("ctrl+s")
            await settle(pilot)
            ask = app.screen
            assert isinstance(ask, AskScreen)  # one question for the whole batch, with the first message
            text = text_of(ask.query_one("#ask-text"))
            assert "2 reminder(s) in 2 message(s)" in text
            assert "caiwu@huaxin.example.cn" in text and "ar@minghui.example.cn" in text
            assert "GZ003" in text and "上海明辉贸易有限公司" in text  # held, and the first message (SH002)
            assert inbox.messages == []
            await pilot.click("#ask-yes")
            await until_sent(pilot, screen)
            results = cells(screen.query_one("#coll-results", DataTable))
            assert sorted((r[0], r[3]) for r in results) == [("BJ001", "sent"), ("SH002", "sent")]
            assert sorted(inbox.to()) == ["ar@minghui.example.cn", "caiwu@huaxin.example.cn"]
            # sent and held reminders leave the queue; skipped ones stay skipped
            assert [(row[2], row[0]) for row in cells(plan)] == [("BJ001", "skip"), ("ACME", "skip"),
                                                                 ("EU01", "to decide")]
    with Ledger.open(path, PASSPHRASE) as ledger:
        sent = ledger.rows("SELECT i.number, r.level, r.outcome FROM reminders r JOIN invoices i "
                           "ON i.id = r.invoice_id ORDER BY i.number")
        assert sent == [{"number": "T1-000004", "level": "first", "outcome": "sent"},
                        {"number": "T1-000010", "level": "second", "outcome": "sent"}]
        assert "hold" in customers.by_code(ledger, "GZ003")["tags"].split(",")


async def test_a_refused_connection_is_shown_per_reminder_and_nothing_is_recorded(tmp_path):
    path = make_book(tmp_path / "book.duly")
    with Ledger.open(path, PASSPHRASE) as ledger:
        for key, value in [("smtp.host", "127.0.0.1"), ("smtp.port", "9"), ("smtp.starttls", "false"),
                           ("smtp.from", "ar@duly.example.com")]:
            settings.put(ledger, key, value)
    app = app_for(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        screen = app.screen
        screen.query_one("#coll-plan", DataTable).focus()
        await pilot.press("down", "down", "down", "down", "space")  # SH002's e-mail
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.click("#ask-yes")
        await until_sent(pilot, screen)
        results = cells(screen.query_one("#coll-results", DataTable))
        assert [(r[0], r[3]) for r in results] == [("SH002", "failed")]
        assert "cannot connect" in results[0][4]
    with Ledger.open(path, PASSPHRASE) as ledger:
        assert ledger.rows("SELECT * FROM reminders") == []


async def test_resolve_a_dispute_and_log_a_call_from_todays_rows(tmp_path):
    path = make_book(tmp_path / "book.duly")
    with Ledger.open(path, PASSPHRASE) as ledger:
        collections.open_dispute(ledger, "T1-000008", "价格争议", on="2026-03-01")
    app = app_for(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        screen = app.screen
        disputes = screen.query_one("#coll-disputes", DataTable)
        assert cells(disputes)[0][:2] == ["GZ003", "T1-000008"]
        disputes.focus()
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"agreed a 5% discount", "enter")
        await settle(pilot)
        assert disputes.row_count == 0
        # T1-000008 is back in the queue
        assert "T1-000008" in [row[3] for row in cells(screen.query_one("#coll-plan", DataTable))]
        screen.query_one("#coll-plan", DataTable).focus()
        await pilot.press("l")
        await settle(pilot)
        await pilot.press(*"will pay Friday", "enter")
        await settle(pilot)
        await pilot.press(*"2026-04-03", "enter")
        await settle(pilot)
    with Ledger.open(path, PASSPHRASE) as ledger:
        dispute = collections.list_disputes(ledger, as_of="2026-03-31")[0]
        assert dispute["status"] == "resolved" and dispute["note"] == "agreed a 5% discount"
        notes = collections.list_notes(ledger)
        assert [(n["customer"], n["channel"], n["text"], n["next_action"]) for n in notes
                if n["text"] == "will pay Friday"] == [("BJ001", "phone", "will pay Friday", "2026-04-03")]
