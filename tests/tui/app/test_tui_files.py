"""Files and safety (f5) through Pilot: an import previewed (a dry run) before `w` writes it, a bad file shown with
its rows and nothing written, a fapiao export's unknown buyers listed; exports written 0600; a backup restored
after asking; the passphrase changed so that only the new one opens the ledger."""
from __future__ import annotations

import os
import stat
from decimal import Decimal

import pytest
from textual.widgets import DirectoryTree, Input

from store.errors import WrongPassphrase
from store.ledger.ledger import Ledger
from tests.support.app import SIZE, app_for, text_of
from tests.support.book import PASSPHRASE
from tests.support.journals import hledger_balances
from tui.screens.confirm import ConfirmScreen
from tui.screens.dialog_form import DialogForm
from tui.screens.files import FilesScreen

pytestmark = pytest.mark.anyio

INVOICES = ("customer,date,amount,number,due_date\n"
            "BJ001,2026-03-10,1200.00,IMP-0001,2026-04-10\n"
            "SH002,2026-03-11,\"3,456.78\",IMP-0002,2026-04-11\n")
BAD_INVOICES = ("customer,date,amount,number\n"
                "BJ001,2026-03-10,1200.00,IMP-0101\n"
                "NOPE9,2026-03-11,99.00,IMP-0102\n"
                "SH002,2026-02-30,10.00,IMP-0103\n")


async def until(pilot, condition, tries: int = 200) -> None:
    """The directory tree keeps a loader worker running, so `settle` would wait forever: wait for what matters."""
    for _ in range(tries):
        await pilot.pause(0.05)
        if condition():
            return
    raise AssertionError("the screen never got there")


def result_text(app) -> str:
    return text_of(app.screen.query_one("#files-result"))


async def open_files(pilot, app) -> FilesScreen:
    await until(pilot, lambda: app.unlocked and app.current_mode == "dashboard")
    await pilot.press("f5")
    await until(pilot, lambda: isinstance(app.screen, FilesScreen))
    return app.screen


async def choose(pilot, screen: FilesScreen, path) -> None:
    """Type the file's path in the picker's line and press Enter (the tree is the other way)."""
    field = screen.query_one("#files-file", Input)
    field.value = str(path)
    field.focus()
    await pilot.press("enter")


@pytest.fixture(params=["on the database thread", "apart"])
def reading(request, monkeypatch):
    """Both ways the screen reads a file: a small one on the app's database thread, a big one in a Duly process of
    its own (here every file is big enough for that)."""
    if request.param == "apart":
        from tui.screens import files

        monkeypatch.setattr(files, "APART_FROM_BYTES", 0)
    return request.param


def count(path, sql: str, params=()) -> int:
    with Ledger.open(path, PASSPHRASE) as ledger:
        return ledger.conn.execute(sql, params).fetchone()[0]


async def test_invoices_picked_in_the_tree_are_previewed_then_written(book, tmp_path, monkeypatch, reading):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "march.csv").write_text(INVOICES, encoding="utf-8")
    monkeypatch.chdir(tmp_path / "in")  # the picker starts in the working directory
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_files(pilot, app)
        tree = screen.query_one("#files-tree", DirectoryTree)
        await until(pilot, lambda: tree.last_line >= 1)
        tree.focus()
        await pilot.press("down", "enter")  # the one file under the root, read as invoices (the default)
        await until(pilot, lambda: "Preview" in result_text(app))
        preview = result_text(app)
        assert "Preview of invoices from march.csv (UTF-8): 2 to add, 0 already there" in preview
        assert "IMP-0001" in preview and "IMP-0002" in preview and "press w to write" in preview
        assert count(book, "SELECT count(*) FROM invoices WHERE number LIKE 'IMP-%'") == 0  # a preview writes nothing
        revision = app.revision
        await pilot.press("w")
        await until(pilot, lambda: "Imported" in result_text(app))
        assert "Imported invoices from march.csv (UTF-8): 2 added, 0 already there" in result_text(app)
        assert app.revision > revision  # the other screens reload
        await pilot.press("w")  # a second w writes nothing more: the file must be previewed again
        await pilot.pause(0.2)
        assert "preview the file first" in result_text(app)
    with Ledger.open(book, PASSPHRASE) as ledger:
        rows = ledger.rows("SELECT i.number, c.code, i.total FROM invoices i JOIN customers c ON c.id = i.customer_id "
                           "WHERE i.number LIKE 'IMP-%' ORDER BY i.number")
    assert [(r["number"], r["code"], r["total"]) for r in rows] == [("IMP-0001", "BJ001", 120000),
                                                                   ("IMP-0002", "SH002", 345678)]


async def test_a_bad_file_shows_each_problem_with_its_row_and_writes_nothing(book, tmp_path, reading):
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD_INVOICES, encoding="utf-8")
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_files(pilot, app)
        await choose(pilot, screen, bad)
        await until(pilot, lambda: "problem" in result_text(app))
        shown = result_text(app)
        assert "2 problem(s)" in shown
        assert "bad.csv line 3" in shown and "NOPE9" in shown
        assert "bad.csv line 4" in shown
        assert "Nothing was written." in shown
        await pilot.press("w")  # refused: the preview had problems
        await pilot.pause(0.2)
        assert "preview the file first" in result_text(app)
    assert count(book, "SELECT count(*) FROM invoices WHERE number LIKE 'IMP-01%'") == 0


async def test_customers_and_payments_import_through_their_keys(book, tmp_path):
    people = tmp_path / "people.csv"
    people.write_text("code,name,email\nNEW01,新客户有限公司,ap@new.example.cn\nBJ001,北京华信科技有限公司,\n",
                      encoding="utf-8")
    money = tmp_path / "money.csv"
    money.write_text("customer,date,amount,method,reference\nGZ003,2026-03-30,500.00,bank_transfer,TT-77\n",
                     encoding="utf-8")
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_files(pilot, app)
        screen.query_one("#files-file", Input).value = str(people)
        screen.query_one("#files-tree").focus()
        await pilot.press("c")
        await until(pilot, lambda: "Preview of customers" in result_text(app))
        assert "1 to add" in result_text(app) and "NEW01" in result_text(app)
        await pilot.press("w")
        await until(pilot, lambda: "Imported customers" in result_text(app))
        screen.query_one("#files-file", Input).value = str(money)
        await pilot.press("p")
        await until(pilot, lambda: "Preview of payments" in result_text(app))
        assert "1 to add" in result_text(app)
        await pilot.press("w")
        await until(pilot, lambda: "Imported payments" in result_text(app))
    assert count(book, "SELECT count(*) FROM customers WHERE code = 'NEW01'") == 1
    assert count(book, "SELECT count(*) FROM payments WHERE reference = 'TT-77' AND amount = 50000") == 1


async def test_a_fapiao_export_lists_its_unknown_buyers_and_imports_once_they_are_known(book, tmp_path):
    from store.rules.validate import uscc_check_char

    stranger = "91440300MA5XYR123" + uscc_check_char("91440300MA5XYR123")
    headers = "数电发票号码,购方识别号,购买方名称,开票日期,金额,税额,价税合计,发票状态\n"
    known = "26312000000012345678,,北京华信科技有限公司,2026-03-02 10:15:00,10000.00,1300.00,11300.00,正常\n"
    unknown = f"26312000000012345679,{stranger},深圳新客户有限公司,2026-03-05 09:00:00,5000.00,300.00,5300.00,正常\n"
    export = tmp_path / "fapiao.csv"
    export.write_text(headers + known + unknown, encoding="utf-8")
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_files(pilot, app)
        screen.query_one("#files-file", Input).value = str(export)
        await pilot.press("f")
        await until(pilot, lambda: "Preview of fapiao" in result_text(app))
        shown = result_text(app)
        assert "Buyers that are no customer yet" in shown
        assert f"深圳新客户有限公司 ({stranger})  rows 3" in shown
        await pilot.press("w")
        await pilot.pause(0.2)
        assert "preview the file first" in result_text(app)
        export.write_text(headers + known, encoding="utf-8")  # the unknown buyer's row left for later
        await pilot.press("f")
        await until(pilot, lambda: "1 to add" in result_text(app))
        await pilot.press("w")
        await until(pilot, lambda: "Imported fapiao" in result_text(app))
    with Ledger.open(book, PASSPHRASE) as ledger:
        row = ledger.row("SELECT i.total, i.einvoice, c.code FROM invoices i JOIN customers c ON c.id = i.customer_id "
                         "WHERE i.einvoice = '26312000000012345678'")
    assert (row["total"], row["code"]) == (1130000, "BJ001")


async def fill_dialog(pilot, app, values: dict[str, str]) -> None:
    await until(pilot, lambda: isinstance(app.screen, DialogForm))
    for name, value in values.items():
        app.screen.query_one(f"#field-{name}").value = value
    await pilot.press("ctrl+s")


@pytest.mark.parametrize("fmt, name", [("hledger", "book.journal"), ("beancount", "book.beancount"),
                                       ("xlsx", "book.xlsx"), ("csv", "csv-out")])
async def test_an_export_is_written_readable_by_its_owner_only(book, tmp_path, fmt, name):
    target = tmp_path / "out" / name
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await open_files(pilot, app)
        await pilot.press("e")
        await fill_dialog(pilot, app, {"format": fmt, "path": str(target)})
        await until(pilot, lambda: isinstance(app.screen, FilesScreen) and "PLAINTEXT" in result_text(app))
        assert "Wrote" in result_text(app)
    files = sorted(target.iterdir()) if fmt == "csv" else [target]
    assert files and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    if fmt == "hledger":  # hledger itself reads the journal, and BJ001's receivable is what is open in the ledger
        from store.read.open import END, INVOICE_OPEN

        with Ledger.open(book, PASSPHRASE) as ledger:
            open_minor = ledger.conn.execute(
                f"SELECT sum({INVOICE_OPEN}) FROM invoices i JOIN customers c ON c.id = i.customer_id "
                "WHERE c.code = 'BJ001'", {"d": END}).fetchone()[0]
        assert hledger_balances(target, ["Assets:Receivable:BJ001"]) == {
            ("Assets:Receivable:BJ001", "CNY"): Decimal(open_minor) / 100}


async def test_an_export_to_a_place_that_cannot_be_written_says_so_in_the_form(book, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await open_files(pilot, app)
        await pilot.press("e")
        await fill_dialog(pilot, app, {"format": "hledger", "path": str(blocker / "sub" / "a.journal")})
        await until(pilot, lambda: "cannot write" in text_of(app.screen.query_one("#error-path")))
        assert isinstance(app.screen, DialogForm)  # the form stays filled


async def test_backup_then_restore_round_trip_asks_first_and_keeps_the_replaced_file(book, tmp_path):
    backup = tmp_path / "kept.backup.duly"
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await open_files(pilot, app)
        await pilot.press("b")
        await fill_dialog(pilot, app, {"path": str(backup)})
        await until(pilot, lambda: isinstance(app.screen, FilesScreen) and "backup written" in result_text(app))
        assert backup.exists()
        # the ledger changes after the backup: one more customer
        from store.write import customers

        await app.db.run(lambda ledger: customers.add(ledger, "LATE1", "Late Customer"))
        await pilot.press("r")
        await fill_dialog(pilot, app, {"path": str(backup)})
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        body = text_of(app.screen.query_one("#confirm-body"))
        assert "now 7 customers" in body and "(6 customers" in body and str(book) in body
        assert ".before-restore-" in text_of(app.screen.query_one("#confirm-undo"))
        await pilot.press("escape")  # leave it: nothing replaced
        await until(pilot, lambda: isinstance(app.screen, FilesScreen))
        assert await app.db.run(lambda l: l.conn.execute("SELECT count(*) FROM customers").fetchone()[0]) == 7
        await pilot.press("r")
        await fill_dialog(pilot, app, {"path": str(backup)})
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, FilesScreen) and "Restored" in result_text(app))
        assert "6 customers" in result_text(app)
        # the app goes on with the restored ledger
        assert await app.db.run(lambda l: l.conn.execute("SELECT count(*) FROM customers").fetchone()[0]) == 6
    assert count(book, "SELECT count(*) FROM customers WHERE code = 'LATE1'") == 0
    kept = [p for p in book.parent.iterdir() if ".before-restore-" in p.name]
    assert len(kept) == 1 and count(kept[0], "SELECT count(*) FROM customers WHERE code = 'LATE1'") == 1


async def test_restore_refuses_a_file_that_is_no_backup_and_replaces_nothing(book, tmp_path):
    junk = tmp_path / "junk.duly"
    junk.write_bytes(os.urandom(8192))
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await open_files(pilot, app)
        await pilot.press("r")
        await fill_dialog(pilot, app, {"path": str(junk)})
        await until(pilot, lambda: "cannot be opened" in text_of(app.screen.query_one("#error-path")))
        assert isinstance(app.screen, DialogForm)
    assert count(book, "SELECT count(*) FROM customers") == 6
    assert not [p for p in book.parent.iterdir() if ".before-restore-" in p.name]


async def test_passphrase_change_then_only_the_new_one_opens_the_ledger(book):
    new = "seven purple otters juggle quietly"
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await open_files(pilot, app)
        await pilot.press("k")
        await until(pilot, lambda: isinstance(app.screen, DialogForm))
        form = app.screen
        form.query_one("#field-new", Input).focus()
        await pilot.press(*"abc")
        await until(pilot, lambda: "weak" in text_of(form.query_one("#dialog-hint")))
        # a wrong current passphrase, a weak new one, and two that differ: every error at once, nothing changed
        await fill_dialog(pilot, app, {"old": "wrong one", "new": "abc", "again": "abd"})
        await pilot.pause(0.2)
        assert "weak" in text_of(form.query_one("#error-new"))
        assert "differ" in text_of(form.query_one("#error-again"))
        await fill_dialog(pilot, app, {"old": "wrong one", "new": new, "again": new})
        await until(pilot, lambda: "not the ledger's current passphrase" in text_of(form.query_one("#dialog-error")))
        await fill_dialog(pilot, app, {"old": PASSPHRASE, "new": new, "again": new})
        await until(pilot, lambda: isinstance(app.screen, FilesScreen) and "Passphrase changed" in result_text(app))
        # the session goes on: the ledger still reads
        assert await app.db.run(lambda l: l.conn.execute("SELECT count(*) FROM customers").fetchone()[0]) == 6
    with Ledger.open(book, new) as ledger:
        assert ledger.conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 6
    with pytest.raises(WrongPassphrase):
        Ledger.open(book, PASSPHRASE)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_files_screen_with_a_preview_snapshot(snap_compare, master, tmp_path, monkeypatch, language, size):
    """The screen with an import's preview: rows to add, one already there, the credit-limit warning."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "march.csv").write_text(INVOICES + "ACME,2026-03-21,12500.00,T1-000001,2026-04-20\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path / "in")  # the picker shows the working directory as "." and its files by name
    book = tmp_path / "book.duly"
    book.write_bytes(master.read_bytes())
    app = app_for(book, language=language)

    async def before(pilot) -> None:
        screen = await open_files(pilot, app)
        tree = screen.query_one("#files-tree", DirectoryTree)
        await until(pilot, lambda: tree.last_line >= 1)
        await choose(pilot, screen, "march.csv")
        await until(pilot, lambda: "IMP-0002" in result_text(app))
        for field in screen.query(Input):
            field.cursor_blink = False
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_f5_reaches_the_screen_from_anywhere_and_its_help_shows_no_key_twice(book, language):
    from tui.screens.help import HelpScreen

    app = app_for(book, language=language)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.unlocked and app.current_mode == "dashboard")
        await pilot.press("3")
        await until(pilot, lambda: app.current_mode == "invoices")
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, FilesScreen))
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        keys = [key for key, _ in app.screen.screen_keys + app.screen.global_keys]
        assert len(keys) == len(set(keys))
        assert {"c", "i", "p", "f", "w", "e", "b", "r", "k", "f5"} <= set(keys)


async def test_a_backup_of_another_ledger_is_refused_unless_the_form_says_so(book, tmp_path):
    from tests.support.book import make_book

    other = make_book(tmp_path / "other" / "other.duly")  # the same passphrase, another ledger id
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await open_files(pilot, app)
        await pilot.press("r")
        await fill_dialog(pilot, app, {"path": str(other)})
        await until(pilot, lambda: "another ledger" in text_of(app.screen.query_one("#error-other")))
        assert isinstance(app.screen, DialogForm)
        await fill_dialog(pilot, app, {"path": str(other), "other": "yes"})
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, FilesScreen) and "Restored" in result_text(app))
    with Ledger.open(book, PASSPHRASE) as ledger, Ledger.open(other, PASSPHRASE) as source:
        assert ledger.meta("ledger_id") == source.meta("ledger_id")


async def test_a_backup_shows_its_progress_in_its_dialog_and_a_restore_on_the_screen(book, tmp_path, monkeypatch):
    """A long job's bar is on the screen that started it while it runs (held half-way here), and gone after."""
    import threading

    from store.ledger import backup as backups
    from tui.screens import files
    from tui.widgets.job_progress import JobProgress

    reported, go = threading.Event(), threading.Event()

    def holding(progress):
        def report(done, total):
            progress(done, total)
            if total and not reported.is_set():  # the first page count: hold the job there
                reported.set()
                go.wait(30)
        return report

    real_backup, real_restore = files.backup_to, backups.restore
    monkeypatch.setattr(files, "backup_to", lambda ledger, path, progress: real_backup(ledger, path, holding(progress)))
    monkeypatch.setattr(backups, "restore", lambda *a, progress, **kw: real_restore(*a, progress=holding(progress), **kw))
    backup = tmp_path / "held.backup.duly"
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await open_files(pilot, app)
        assert not app.screen.query_one(JobProgress).has_class("running")
        await pilot.press("b")
        await fill_dialog(pilot, app, {"path": str(backup)})
        dialog = app.screen
        await until(pilot, lambda: reported.is_set() and dialog.query_one(JobProgress).total)
        bar = dialog.query_one(JobProgress)
        assert bar.has_class("running") and bar.display and 0 < bar.progress <= bar.total
        go.set()
        await until(pilot, lambda: isinstance(app.screen, FilesScreen) and "backup written" in result_text(app))
        reported.clear()
        go.clear()
        await pilot.press("r")
        await fill_dialog(pilot, app, {"path": str(backup)})
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("enter")
        await until(pilot, lambda: reported.is_set() and isinstance(app.screen, FilesScreen)
                    and app.screen.query_one(JobProgress).total)
        screen_bar = app.screen.query_one(JobProgress)
        assert screen_bar.has_class("running") and 0 < screen_bar.progress <= screen_bar.total
        go.set()
        await until(pilot, lambda: "Restored" in result_text(app))
        assert not screen_bar.has_class("running")
