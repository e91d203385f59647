"""SVG snapshots of every main screen, in English and 简体中文, at 120x40 (the invoice list at 80x24 too).

Deterministic: the fixed book of test_tui_book, a fixed as-of date, the ledger's file name (not its
directory) in the header. Update after an intended change with `pytest --snapshot-update`.
"""
from __future__ import annotations

import pytest

from tests.test_tui_book import PASSPHRASE, TODAY, make_book
from tui.app import DulyApp


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    return make_book(tmp_path_factory.mktemp("snap") / "book.duly")


async def settle(pilot) -> None:
    app = pilot.app
    for _ in range(50):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if all(worker.is_finished for worker in app.workers):
            return


def run_before(*keys: str):
    async def before(pilot) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
    return before


@pytest.mark.parametrize("language", ["en", "zh"])
def test_dashboard_snapshot(snap_compare, book, language):
    app = DulyApp(book, PASSPHRASE, today=TODAY, language=language)
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before())


@pytest.mark.parametrize("language", ["en", "zh"])
def test_customer_list_snapshot(snap_compare, book, language):
    app = DulyApp(book, PASSPHRASE, today=TODAY, language=language)

    async def before(pilot) -> None:
        await run_before("c")(pilot)
        await pilot.pause(1.0)  # the credit ratings come once the list has been still for a moment
        await settle(pilot)

    assert snap_compare(app, terminal_size=(120, 40), run_before=before)


# -- the screens of invoices, payments, the archive, aging drill-down and reports ------------------------
SCREENS = {
    "invoices": ("i",),
    "invoice_form": ("i", "n", *"SZ004", "tab", "tab", *"1000"),
    "payment_form": ("p", "n", *"BJ001", "tab", "tab", *"7000"),
    "archive_open_items": ("c", "down", "enter", "right"),
    "aging_cell": ("a", "down", "down", "down", *["right"] * 8, "enter"),
    "reports": ("s",),
}


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("screen", sorted(SCREENS))
def test_screen_snapshot(snap_compare, book, screen, language):
    app = DulyApp(book, PASSPHRASE, today=TODAY, language=language)
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before(*SCREENS[screen]))


@pytest.mark.parametrize("language", ["en", "zh"])
def test_invoices_at_80_by_24_snapshot(snap_compare, book, language):
    app = DulyApp(book, PASSPHRASE, today=TODAY, language=language)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before("i"))
