"""SVG snapshots of the set-up and daily-work screens (first run, the reminder review queue, settings, drafts,
terms, bank import) in English and 简体中文, at 120x40 and 80x24. Update after an intended change with
`pytest --snapshot-update`, after looking at the pictures."""
from __future__ import annotations

import pytest
from tests.support.app import hold_still
from tests.support.book import PASSPHRASE, TODAY, make_book
from tui.app.app import DulyApp

SIZES = [(120, 40), (80, 24)]


settle = hold_still  # a blinking cursor would make the picture depend on the moment


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_first_run_snapshot(snap_compare, tmp_path, monkeypatch, language, size):
    monkeypatch.chdir(tmp_path)  # the screen names the path: a relative one keeps the picture the same
    app = DulyApp("new.duly", today=TODAY, language=language)

    async def before(pilot) -> None:
        await settle(pilot)
        await pilot.press(*"abc")  # a weak passphrase: the strength hint says why
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    return make_book(tmp_path_factory.mktemp("setup-snap") / "book.duly")


def keys_then(*keys: str, focus: str | None = None):
    async def before(pilot) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
    return before


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_review_queue_snapshot(snap_compare, book, language, size):
    app = DulyApp(book, PASSPHRASE, today=TODAY, language=language)
    # Collections, into the queue: skip the first row, hold the second's customer, then look at the next one
    assert snap_compare(app, terminal_size=size, run_before=keys_then("7", "tab", "x", "h"))


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_reminder_preview_snapshot(snap_compare, book, language, size):
    app = DulyApp(book, PASSPHRASE, today=TODAY, language=language)
    assert snap_compare(app, terminal_size=size, run_before=keys_then("7", "tab", "down", "down", "down", "down",
                                                                      "enter"))


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_settings_snapshot(snap_compare, book, language, size):
    app = DulyApp(book, PASSPHRASE, today=TODAY, language=language)

    async def before(pilot) -> None:
        await keys_then("f2")(pilot)
        pilot.app.screen.query_one("#field-smtp_port").value = "99999"  # a wrong port, marked after ctrl+s
        await pilot.press("ctrl+s")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_drafts_snapshot(snap_compare, book, language, size):
    app = DulyApp(book, PASSPHRASE, today=TODAY, language=language)
    # the drafts list, then a new draft with two wrong fields marked
    assert snap_compare(app, terminal_size=size, run_before=keys_then("f3", "n", *"BJ001", "enter", *"2026-02-30",
                                                                      "enter", "-", "5", "ctrl+s"))


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_terms_snapshot(snap_compare, book, language, size):
    app = DulyApp(book, PASSPHRASE, today=TODAY, language=language)
    assert snap_compare(app, terminal_size=size, run_before=keys_then(
        "f4", "n", *"HALF", "enter", *"50%:days_after:0;balance:days_after_end_of_month:30"))


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_terms_list_snapshot(snap_compare, book, language, size):
    app = DulyApp(book, PASSPHRASE, today=TODAY, language=language)
    assert snap_compare(app, terminal_size=size, run_before=keys_then("f4"))
