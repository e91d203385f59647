"""SVG snapshots of every main screen, in English and 简体中文, at 120x40 (the lists at 80x24 too).

Deterministic: the fixed book of tests/support/book.py, a fixed as-of date, the ledger's file name (not its
directory) in the header. Update after an intended change with `pytest --snapshot-update`.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from store.write import customers
from store.ledger.ledger import Ledger
from sync.crypto import DeviceKeys
from tests.support.app import hold_still, settle
from tests.support.book import PASSPHRASE, TODAY, make_book
from tui.app.app import DulyApp


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    return make_book(tmp_path_factory.mktemp("snap") / "book.duly")


def run_before(*keys: str):
    async def before(pilot) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        await hold_still(pilot)
    return before


@pytest.mark.parametrize("language", ["en", "zh"])
def test_dashboard_snapshot(snap_compare, book, language):
    app = DulyApp(book, PASSPHRASE, today=TODAY, language=language)
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before())


@pytest.mark.parametrize("language", ["en", "zh"])
def test_customer_list_snapshot(snap_compare, book, language):
    app = DulyApp(book, PASSPHRASE, today=TODAY, language=language)

    async def before(pilot) -> None:
        await run_before("2")(pilot)
        await pilot.pause(1.0)  # the credit ratings come once the list has been still for a moment
        await settle(pilot)

    assert snap_compare(app, terminal_size=(120, 40), run_before=before)


# -- the screens of invoices, payments, the archive, aging drill-down and reports ------------------------
SCREENS = {
    "invoices": ("3",),
    "invoice_form": ("3", "n", *"SZ004", "tab", "tab", *"1000"),
    "payment_form": ("4", "n", *"BJ001", "tab", "tab", *"7000"),
    "archive_open_items": ("2", "down", "enter", "right"),
    "aging": ("5",),  # paged, sorted by code (▲), the totals last, the count and the order under it
    "aging_cell": ("5", "down", "down", "down", *["right"] * 8, "enter"),
    "reports": ("6",),
}


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("screen", sorted(SCREENS))
def test_screen_snapshot(snap_compare, book, screen, language):
    app = DulyApp(book, PASSPHRASE, today=TODAY, language=language)
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before(*SCREENS[screen]))


@pytest.mark.parametrize("language", ["en", "zh"])
def test_aging_at_80_by_24_snapshot(snap_compare, book, language):
    app = DulyApp(book, PASSPHRASE, today=TODAY, language=language)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before("5", *["right"] * 6))  # code, name fixed


@pytest.mark.parametrize("language", ["en", "zh"])
def test_invoices_at_80_by_24_snapshot(snap_compare, book, language):
    app = DulyApp(book, PASSPHRASE, today=TODAY, language=language)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before("3"))


@pytest.mark.parametrize("language", ["en", "zh"])
def test_payments_at_80_by_24_snapshot(snap_compare, book, language):
    app = DulyApp(book, PASSPHRASE, today=TODAY, language=language)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before("4"))


@pytest.mark.parametrize("language", ["en", "zh"])
def test_customer_list_at_80_by_24_snapshot(snap_compare, book, language):
    app = DulyApp(book, PASSPHRASE, today=TODAY, language=language)

    async def before(pilot) -> None:
        await run_before("2")(pilot)
        await pilot.pause(1.0)  # the credit ratings come once the list has been still for a moment
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=before)


# -- the Sync screen: a book that looks synced (fixed device, server, times; never contacted) --------------
DEVICE = "a1b2c3d4e5f60718"
SYNC_NOW = datetime(2026, 3, 31, 8, 12, tzinfo=timezone.utc)  # 12 minutes after the last sync below
REVIEW = [
    ("duplicate_payment", "p1", "p2", "payment of 3,000.00 CNY from customer BJ001 (reference BANK-778) was "
     "recorded twice: on 2026-03-28 by laptop and on 2026-03-29 by desk; both are kept: void one if it is the "
     "same payment", "2026-03-31T07:58:00Z"),
    ("over_allocated_invoice", "i7", "", "invoice T1-000007 has 50,000.00 CNY applied to a total of 45,600.00 CNY "
     "(4,400.00 CNY too much) after merging changes from two devices", "2026-03-31T07:58:00Z"),
]


@pytest.fixture(scope="module")
def synced_book(tmp_path_factory):
    path = make_book(tmp_path_factory.mktemp("sync") / "book.duly")
    with Ledger.open(path, PASSPHRASE) as ledger:
        ledger.conn.execute("UPDATE meta SET value=? WHERE key='device_id'", (DEVICE,))
    with Ledger.open(path, PASSPHRASE, actor="tester") as ledger:  # two changes of this device, not yet sent
        customers.edit(ledger, "SZ004", phone="0755-8888 0001")
        customers.edit(ledger, "EU01", email="ap@nordlicht.example.de")
        for key, value in {"sync.server": "https://sync.example.com", "sync.team": "0f1e2d3c4b5a6978",
                           "sync.device_keys": DeviceKeys.generate().secret(), "sync.role": "admin",
                           "sync.epoch": "2", "sync.cursor": "40", "sync.pushed": "0", "sync.head": "42",
                           "sync.clock_offset_ms": "-120", "sync.last_sync": "2026-03-31T08:00:00Z",
                           "sync.devices": json.dumps({DEVICE: "laptop", "0011223344556677": "desk"})}.items():
            ledger.set_meta(key, value)
        ledger.conn.executemany(
            "INSERT INTO sync_review (kind, subject, other, message, found_at) VALUES (?, ?, ?, ?, ?)", REVIEW)
    return path


@pytest.mark.parametrize("language", ["en", "zh"])
def test_sync_screen_at_80_by_24_snapshot(snap_compare, synced_book, language):
    # no round as it opens: the book's server is made up, and the screen is shown as the last sync left it
    app = DulyApp(synced_book, PASSPHRASE, today=TODAY, language=language, sync_on_open=False)
    app.now_fixed = SYNC_NOW
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before("9"))


# -- the screens of the day's jobs: one snapshot per screen, language and size ----------------------------------
JOB_SCREENS = {
    "payment_detail": ("4", "enter"),  # the newest payment: ALI-9, 100.00 unapplied
    "apply_dialog": ("4", "enter", "a"),  # where that 100.00 would go, oldest due first
    "credit_note_form": ("3", "enter", "c"),  # a dialog form on the newest invoice
    "confirm": ("2", "enter", "x"),  # archiving ACME asks first and says how to undo
}


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("screen", sorted(JOB_SCREENS))
def test_job_screen_snapshot(snap_compare, book, screen, language, size):
    app = DulyApp(book, PASSPHRASE, today=TODAY, language=language)
    assert snap_compare(app, terminal_size=size, run_before=run_before(*JOB_SCREENS[screen]))
