"""The TUI's sync through Pilot, against a real sync server on loopback: the header's indicator (not set up,
synced, pending, offline, need review), `ctrl+y` syncing in the background while the screen stays usable,
what another device changed showing up in the open list, the periodic sync, and the Sync screen's "Needs
review" list with an item marked as looked at."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
from textual.widgets import DataTable, Static

from store.write import customers, payments
from store.ledger.ledger import Ledger
from sync import client, merge
from sync.client import Sync
from tests.support.builders import Book
from tests.support.sync_server import running_server
from tests.support.app import settle, text_of
from tests.support.book import PASSPHRASE, TODAY, make_book
from tui.app.app import DulyApp
from tui.screens.customers import CustomersScreen
from sync.client.round import sync_round
from tui.screens.confirm import ConfirmScreen
from tui.screens.sync import SyncScreen

SIZE = (80, 24)
pytestmark = pytest.mark.anyio


@pytest.fixture
def server(tmp_path):
    with running_server("sqlite", tmp_path) as backend:
        yield backend


class Pair:
    """Two devices of one team: `laptop` (admin, the one the app opens) and `desk` (member)."""

    def __init__(self, tmp_path: Path, server):
        self.server = server
        self.laptop, self.desk = tmp_path / "laptop.duly", tmp_path / "desk.duly"
        with Ledger.create(self.laptop, PASSPHRASE, actor="tester", series="L1") as laptop:
            customers.add(laptop, "ZQ", "Zephyr Quill Trading")
            client.init(laptop, server.url, name="laptop")
            session = Sync(laptop)
            try:
                code = session.invite("member")
            finally:
                session.close()
        desk, _ = client.join(self.desk, PASSPHRASE, server.url, code, name="desk", actor="tester")
        desk.close()

    def add_device(self, path: Path, role: str, name: str) -> Path:
        with self.open("laptop") as laptop:
            session = Sync(laptop)
            try:
                code = session.invite(role)
            finally:
                session.close()
        ledger, _ = client.join(path, PASSPHRASE, self.server.url, code, name=name, actor="tester")
        ledger.close()
        return path

    def open(self, which: str) -> Ledger:
        return Ledger.open(self.laptop if which == "laptop" else self.desk, PASSPHRASE, actor="tester")

    def sync(self, which: str):
        with self.open(which) as ledger:
            session = Sync(ledger)
            try:
                return session.now()
            finally:
                session.close()


@pytest.fixture
def pair(tmp_path, server):
    return Pair(tmp_path, server)


def app_for(path, **options) -> DulyApp:
    """The app on a device's ledger; it syncs only when a test says so (the round at opening is tested alone)."""
    options.setdefault("sync_on_open", False)
    return DulyApp(path, PASSPHRASE, today=TODAY, language=options.pop("language", "en"), **options)


async def until(pilot, condition, timeout: float = 20.0) -> None:
    """Pause (the event loop runs) until condition() holds; never calls settle, which waits for the sync."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.02)


async def synced(pilot) -> None:
    """Until the running sync round has finished and what it started has settled."""
    await until(pilot, lambda: pilot.app._sync_future is None)
    await settle(pilot)


def notes(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


def codes(table: DataTable) -> list[str]:
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def test_an_unsynced_ledger_says_not_set_up_and_the_sync_key_says_so(tmp_path):
    app = app_for(make_book(tmp_path / "book.duly"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.sub_title == "book.duly · sync: not set up"
        await pilot.press("ctrl+y")
        await settle(pilot)
        assert app._sync_future is None  # nothing was started
        assert notes(app) == ["This ledger is not set up for sync: on the Sync screen (9), s starts a team; a new "
                              "device joins from the first-run screen (or `duly sync join`)."]
        await pilot.press("9")
        await settle(pilot)
        assert isinstance(app.screen, SyncScreen)
        assert "not set up for sync" in text_of(app.screen.query_one("#sync-details", Static))
        assert app.screen.query_one("#sync-review", DataTable).row_count == 0
        await pilot.press("2")  # the app carries on
        await settle(pilot)
        assert isinstance(app.screen, CustomersScreen) and app.is_running


async def test_a_change_from_another_device_reaches_the_open_list_by_the_sync_key(pair):
    with pair.open("laptop") as laptop:
        customers.add(laptop, "LP", "Laptop Local Co")  # made while "offline": queued
    app = app_for(pair.laptop)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.sub_title == "laptop.duly · synced just now · 1 pending"
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one("#customers", DataTable)
        assert codes(table) == ["LP", "ZQ"]
        with pair.open("desk") as desk:
            customers.add(desk, "HX", "Hexagon Tools")
        pair.sync("desk")
        await pilot.press("ctrl+y")
        await synced(pilot)
        # the list on screen reloaded with what arrived; the queued change went out
        assert codes(app.screen.query_one("#customers", DataTable)) == ["HX", "LP", "ZQ"]
        assert app.sub_title == "laptop.duly · synced just now"
        assert "Synced: 1 change(s) pulled (1 new), 1 pushed." in notes(app)
    pair.sync("desk")
    with pair.open("desk") as desk:
        assert desk.row("SELECT name FROM customers WHERE code='LP'")["name"] == "Laptop Local Co"


async def test_the_app_syncs_once_as_it_opens(pair):
    """What the team did while the app was closed arrives without a key press; what was queued goes out."""
    with pair.open("laptop") as laptop:
        customers.add(laptop, "LP", "Laptop Local Co")
    with pair.open("desk") as desk:
        customers.add(desk, "HX", "Hexagon Tools")
    pair.sync("desk")
    app = app_for(pair.laptop, sync_on_open=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.sub_title == "laptop.duly · synced just now")
        await pilot.press("2")
        await settle(pilot)
        assert codes(app.screen.query_one("#customers", DataTable)) == ["HX", "LP", "ZQ"]
        assert notes(app) == []  # a round nobody asked for is quiet when it goes well


async def test_offline_server_shows_in_the_indicator_and_the_app_keeps_working(pair):
    with pair.open("laptop") as laptop:
        laptop.set_meta("sync.server", "http://127.0.0.1:9")  # nothing listens there
        customers.add(laptop, "OF", "Offline Co")
        customers.add(laptop, "OG", "Offline Two")
    app = app_for(pair.laptop)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+y")
        await synced(pilot)
        assert app.sub_title == "laptop.duly · offline (server unreachable) · 2 pending"
        [note] = notes(app)
        assert note.startswith("Offline: cannot reach the sync server at http://127.0.0.1:9") and "queued" in note
        await pilot.press("2")
        await settle(pilot)
        assert codes(app.screen.query_one("#customers", DataTable)) == ["OF", "OG", "ZQ"]
        await pilot.press("9")
        await settle(pilot)
        state = text_of(app.screen.query_one("#sync-state", Static))
        assert "offline (server unreachable) · 2 pending" in state and "cannot reach" in state
        assert app.is_running
    with pair.open("laptop") as laptop:  # back online: the queue goes out
        laptop.set_meta("sync.server", pair.server.url)
    app = app_for(pair.laptop)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("9")  # the Sync screen follows the round while it is shown
        await settle(pilot)
        assert "Pending   2" in text_of(app.screen.query_one("#sync-details", Static))
        await pilot.press("ctrl+y")
        await synced(pilot)
        assert app.sub_title == "laptop.duly · synced just now"
        assert "Pending   0" in text_of(app.screen.query_one("#sync-details", Static))
        assert "synced just now" in text_of(app.screen.query_one("#sync-state", Static))


async def test_a_timer_round_that_stays_offline_says_so_once(pair, monkeypatch):
    import tui.app.app

    rounds = []

    def counted(*args):
        rounds.append(1)
        return sync_round(*args)

    monkeypatch.setattr(tui.app.app, "sync_round", counted)
    with pair.open("laptop") as laptop:
        laptop.set_meta("sync.server", "http://127.0.0.1:9")
    app = app_for(pair.laptop, sync_interval=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(rounds) >= 4 and app._sync_future is None)
        assert app.sub_title == "laptop.duly · offline (server unreachable)"
        assert len(notes(app)) == 1 and notes(app)[0].startswith("Offline: cannot reach")


async def test_the_sync_key_goes_through_the_keymap(tmp_path):
    app = DulyApp(make_book(tmp_path / "book.duly"), PASSPHRASE, today=TODAY, language="zh",
                  keymap={"sync_now": "f5"})
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.sub_title == "book.duly · 同步：未设置"
        await pilot.press("f5")
        await settle(pilot)
        assert notes(app) == ["此账本尚未设置同步：在同步页（9）按 s 建立团队；新设备在首次运行页加入团队（或用 `duly sync join`）。"]


async def test_a_flagged_payment_shows_in_needs_review_and_can_be_marked_looked_at(pair):
    with pair.open("laptop") as laptop:
        Book(laptop).invoice(laptop.row("SELECT id FROM customers WHERE code='ZQ'")["id"], "2026-03-01", 100000,
                             number="L1-000900")
    pair.sync("laptop")
    pair.sync("desk")
    with pair.open("laptop") as laptop:
        payments.add(laptop, "ZQ", "2026-03-10", "300.00", reference="BANK-778", auto=False)
    with pair.open("desk") as desk:
        payments.add(desk, "ZQ", "2026-03-12", "300.00", reference="BANK-778", auto=False)
    pair.sync("desk")
    app = app_for(pair.laptop)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        assert app.screen.query_one("#payments", DataTable).row_count == 1
        await pilot.press("ctrl+y")
        await synced(pilot)
        assert app.sub_title == "laptop.duly · synced just now · 1 need review"
        assert "1 new item(s) need review: key 9." in notes(app)
        assert app.screen.query_one("#payments", DataTable).row_count == 2  # both kept
        await pilot.press("9")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SyncScreen)
        table = screen.query_one("#sync-review", DataTable)
        assert [str(c) for c in table.get_row_at(0)][1] == "Duplicate payment"
        assert screen.query_one("#sync-review-title").render().plain == "Needs review (1)"
        message = text_of(screen.query_one("#sync-message", Static))
        assert "BANK-778" in message and "2026-03-12 by desk" in message
        details = text_of(screen.query_one("#sync-details", Static))
        assert pair.server.url in details and "laptop (" in details and "admin" in details
        await pilot.press("enter")  # asks first, saying what marking it does
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert table.row_count == 0
        assert "Review item 1 marked as looked at." in notes(app)
        assert text_of(screen.query_one("#sync-message", Static)).strip() == "Nothing needs review."
        assert app.sub_title == "laptop.duly · synced just now"
    with pair.open("laptop") as laptop:
        assert merge.open_flags(laptop) == []
        assert len(merge.open_flags(laptop, include_resolved=True)) == 1


async def test_a_refused_round_says_why_and_what_it_pulled_before_still_shows(pair, tmp_path):
    auditor = pair.add_device(tmp_path / "auditor.duly", "viewer", "auditor")
    with Ledger.open(auditor, PASSPHRASE, actor="tester") as ledger:
        customers.add(ledger, "AU", "Auditor's Own Note")  # a viewer's change the team will not take
    with pair.open("desk") as desk:
        customers.add(desk, "HX", "Hexagon Tools")
    pair.sync("desk")
    app = app_for(auditor)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        assert codes(app.screen.query_one("#customers", DataTable)) == ["AU", "ZQ"]
        await pilot.press("ctrl+y")
        await synced(pilot)
        assert app.sub_title.startswith("auditor.duly · sync refused (this device (")
        assert app.sub_title.endswith("…) · 1 pending")
        [note] = notes(app)
        assert note.startswith("Sync refused: this device (") and "is a viewer" in note
        # the pull happened before the refusal: the list shows it
        assert codes(app.screen.query_one("#customers", DataTable)) == ["AU", "HX", "ZQ"]
        assert app.is_running


class HeldTransport(httpx.HTTPTransport):
    """A slow server: every request waits until the test lets it through."""

    def __init__(self, gate: threading.Event, entered: threading.Event):
        super().__init__()
        self.gate, self.entered = gate, entered

    def handle_request(self, request):
        self.entered.set()
        assert self.gate.wait(30)
        return super().handle_request(request)


async def test_the_screen_and_the_database_thread_stay_free_while_a_sync_waits_on_the_server(pair):
    gate, entered = threading.Event(), threading.Event()
    with pair.open("desk") as desk:
        customers.add(desk, "HX", "Hexagon Tools")
    pair.sync("desk")
    app = app_for(pair.laptop, sync_transport=lambda: HeldTransport(gate, entered))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+y")
        await until(pilot, entered.is_set)  # the round is waiting on the server now
        await pilot.press("2")  # another mode, and its list read from the ledger
        await until(pilot, lambda: isinstance(app.screen, CustomersScreen)
                    and app.screen.query_one("#customers", DataTable).row_count == 1)
        assert app._sync_future is not None and not app._sync_future.done()
        assert "syncing…" in app.sub_title
        await pilot.press("ctrl+y")  # one sync at a time
        await pilot.pause()
        assert "A sync is already running." in notes(app)
        gate.set()
        await synced(pilot)
        assert codes(app.screen.query_one("#customers", DataTable)) == ["HX", "ZQ"]
        assert app.sub_title == "laptop.duly · synced just now"


async def test_the_app_syncs_by_itself_on_its_interval(pair):
    app = app_for(pair.laptop, sync_interval=0.3)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        with pair.open("desk") as desk:
            customers.add(desk, "HX", "Hexagon Tools")
        pair.sync("desk")
        await until(pilot, lambda: codes(app.screen.query_one("#customers", DataTable)) == ["HX", "ZQ"])
        await synced(pilot)
        assert not notes(app)  # a quiet round says nothing
