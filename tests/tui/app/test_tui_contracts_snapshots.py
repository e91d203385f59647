"""SVG snapshots of a customer's contracts in English and 简体中文 at 120x40 and 80x24: the Contracts tab (a file as
recorded, one changed since, one contract without a file), the new-contract form, a contract's detail with the
two files recorded on it (the initialled draft, then the signed copy), and the attach screen with a file picked (its SHA-256 shown). The files live in a folder of a
fixed name and the ledger's clock is fixed while they are recorded, so the pictures do not depend on the run.
Update after an intended change with `pytest --snapshot-update`, after looking at the pictures."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from textual.widgets import DataTable, DirectoryTree, Input, Static, TabbedContent

import store.ledger.ledger as ledger_module
from store.ledger.ledger import Ledger
from store.write import collections
from tests.support.app import hold_still, text_of, until
from tests.support.book import PASSPHRASE, TODAY, make_book
from tui.app.app import DulyApp
from tui.screens.contract import AttachFileScreen
from tui.screens.customer import CustomerScreen

SIZES = [(120, 40), (80, 24)]
FOLDER = Path(tempfile.gettempdir()) / "duly-contract-snapshots"


def put(path: Path, data: bytes) -> None:
    """Whole or not at all: two test workers may write the same file at once."""
    part = path.with_name(f"{path.name}.{os.getpid()}.part")
    part.write_bytes(data)
    os.replace(part, path)


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    path = make_book(tmp_path_factory.mktemp("contracts-snap") / "book.duly")
    FOLDER.mkdir(exist_ok=True)
    draft, signed = FOLDER / "HT-2026-01 草签.pdf", FOLDER / "HT-2026-01 采购合同.pdf"
    framework = FOLDER / "HT-2025-07 框架协议.pdf"
    put(draft, b"%PDF-1.4 HT-2026-01 initialled")
    put(signed, b"%PDF-1.4 HT-2026-01 as signed")
    put(framework, b"%PDF-1.4 HT-2025-07 as signed")
    with pytest.MonkeyPatch.context() as mp, Ledger.open(path, PASSPHRASE, actor="wang.li") as ledger:
        mp.setattr(ledger_module, "_utc_now", lambda: "2026-01-05T09:30:00.000Z")
        collections.add_contract(ledger, "BJ001", "HT-2025-07", "2025-07-01", start="2025-07-01", end="2026-06-30",
                                 terms="NET60", credit_limit="150000", file=str(framework))
        collections.add_contract(ledger, "BJ001", "HT-2026-01", "2026-01-05", start="2026-01-05", end="2026-12-31",
                                 terms="EOM30", credit_limit="200000", file=str(draft), notes="年度采购合同")
        collections.add_contract(ledger, "BJ001", "HT-2026-02", "2026-02-10", notes="补充协议，扫描件待收")
        mp.setattr(ledger_module, "_utc_now", lambda: "2026-02-12T14:05:00.000Z")
        collections.attach_contract_file(ledger, "BJ001", "HT-2026-01", str(signed))
    # the framework agreement's file was edited after it was recorded: shown as changed
    put(framework, b"%PDF-1.4 HT-2025-07 edited later")
    return path


async def on_contracts(pilot) -> None:
    await hold_still(pilot)
    pilot.app.push_screen(CustomerScreen("BJ001"))
    await hold_still(pilot)
    pilot.app.screen.query_one("#archive-tabs", TabbedContent).active = "tab-contracts"
    await hold_still(pilot)
    pilot.app.screen.query_one("#archive-contracts", DataTable).focus()
    await hold_still(pilot)


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_contracts_tab_snapshot(snap_compare, book, language, size):
    app = DulyApp(book, PASSPHRASE, today=TODAY, language=language)
    assert snap_compare(app, terminal_size=size, run_before=on_contracts)


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_new_contract_form_snapshot(snap_compare, book, language, size):
    app = DulyApp(book, PASSPHRASE, today=TODAY, language=language)

    async def before(pilot) -> None:
        await on_contracts(pilot)
        await pilot.press("g")
        await hold_still(pilot)
        await pilot.press(*"HT-2026-03", "enter", "enter", *"2026-04-01", "enter", *"2026-03-01", "enter")
        await pilot.press("ctrl+s")  # the end before the start: refused beside the end date
        await hold_still(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_contract_detail_snapshot(snap_compare, book, language, size):
    app = DulyApp(book, PASSPHRASE, today=TODAY, language=language)

    async def before(pilot) -> None:
        await on_contracts(pilot)
        await pilot.press("down", "enter")  # HT-2026-01: two files recorded
        await hold_still(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_attach_file_snapshot(snap_compare, book, language, size, monkeypatch):
    monkeypatch.chdir(FOLDER)  # the picker opens in the working directory
    app = DulyApp(book, PASSPHRASE, today=TODAY, language=language)

    async def before(pilot) -> None:
        await on_contracts(pilot)
        await pilot.press("down", "down", "f")  # HT-2026-02: no file yet
        await until(pilot, lambda: isinstance(pilot.app.screen, AttachFileScreen))
        screen = pilot.app.screen
        tree = screen.query_one("#contract-tree", DirectoryTree)
        await until(pilot, lambda: tree.last_line >= 3)  # the three files listed
        field = screen.query_one("#contract-file", Input)
        field.focus()
        await pilot.press(*str(FOLDER / "HT-2026-01 采购合同.pdf"), "enter")
        await until(pilot, lambda: "SHA-256" in text_of(screen.query_one("#contract-chosen", Static)))
        field.cursor_blink = False  # a steady cursor: the picture must not depend on the moment
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=before)
