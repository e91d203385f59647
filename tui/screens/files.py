"""Files and safety (文件与安全), f5: what `duly import`, `duly export`, `duly backup`, `duly restore` and `duly passwd`
do, by keys, through the same store functions. An import is first a dry run shown as a preview (rows to add, rows
already there, every problem with its row; for a fapiao export the buyers that are no customer yet), and only `w`
writes it, in one transaction. Exports are plaintext files readable by their owner only (0600); a restore checks
the backup, says what it will replace and asks first; a new passphrase is typed twice with its strength shown."""
from __future__ import annotations

import asyncio
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Header, Input, Label, Static
from textual.worker import Worker, WorkerState

from store.errors import DulyError
from store.files import exporter
from store.ledger import backup as backups
from tui.app.jobs import import_file
from tui.screens.base import DulyScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.dialog_form import DialogForm, Field
from tui.screens.first_run import weakness
from tui.widgets.file_picker import FilePicker
from tui.widgets.job_progress import JobProgress

KINDS = ("customers", "invoices", "payments", "fapiao")  # what the import keys read a file as
EXPORTS = ("csv", "xlsx", "hledger", "beancount")  # what `duly export` writes (csv: a folder of files)
PROBLEMS_SHOWN = 20
IMPORT_GROUP = Binding.Group("Import", compact=True)  # c i p f: one label in the footer (80 columns hold it)
# A file from this size on is read (previewed or written) in a Duly process of its own (LedgerThread.run_apart):
# there SQLCipher does not wipe every buffer, which made the app's import 3-6x slower than the command line's. A
# smaller file is read on the database thread, whose ledger is open already: for a 200-row file the process's start
# and its opening of the ledger outweigh the wiping (0.5-0.7 s apart, 0.5-0.7 s here with an opening of its own);
# at this size (2,000 invoices) apart took 0.7-1.1 s against 1.7-2.2 s here.
APART_FROM_BYTES = 256 * 1024


def read_apart(path: str) -> bool:
    try:
        return Path(path).stat().st_size >= APART_FROM_BYTES
    except OSError:  # the import itself says what is wrong with the path
        return False


# -- on the database thread: thin layers over what the command line runs (an import's: tui.app.jobs) ----------
def export_to(ledger, fmt: str, path: str, progress=None) -> str:
    """`duly export FORMAT PATH`: the exporter's own function (each writes its files 0600, whole or not at all)."""
    # a line kept with its message id (store.errors.Said)
    return getattr(exporter, f"export_{fmt}")(ledger, path, progress=progress)


def backup_to(ledger, path: str, progress=None) -> str:
    return str(backups.backup(ledger, path, progress))


def restore_plan(ledger, source: str, passphrase: str, other_ledger: bool) -> dict:
    """What `duly restore` checks before it asks: the backup sound and of this ledger, and what it replaces."""
    return backups.plan_restore(source, ledger.path, passphrase, other_ledger=other_ledger)


class FilesScreen(DulyScreen):
    BINDINGS = [
        Binding("c", "preview('customers')", "Customers", id="files_customers", group=IMPORT_GROUP),
        Binding("i", "preview('invoices')", "Invoices", id="files_invoices", group=IMPORT_GROUP),
        Binding("p", "preview('payments')", "Payments", id="files_payments", group=IMPORT_GROUP),
        Binding("f", "preview('fapiao')", "Fapiao", id="files_fapiao", group=IMPORT_GROUP),
        Binding("w", "write", "Write", id="files_write"),
        Binding("e", "export", "Export", id="files_export"),
        Binding("b", "backup", "Backup", id="files_backup"),
        Binding("r", "restore", "Restore", id="files_restore"),
        Binding("k", "passphrase", "Passphrase", id="files_passphrase"),
    ]

    class Imported(Message):
        def __init__(self, path: str, kind: str, outcome: dict | None, error: str | None):
            super().__init__()
            self.path, self.kind, self.outcome, self.error = path, kind, outcome, error

    class Restored(Message):
        def __init__(self, summary: dict | None, error: str | None):
            super().__init__()
            self.summary, self.error = summary, error

    def __init__(self, start: Path | None = None):
        super().__init__()
        self.start = Path(start or ".")  # the working directory, shown as "." (its files by their relative names)
        self.kind = "invoices"
        self.previewed: tuple[str, str] | None = None  # (path, kind) of the last preview without problems
        self.busy = False

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group in ("files-import", "files-restore") \
                and event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self.busy = False  # a read that failed some other way (shown as an error) does not block the next one
            self.query_one(JobProgress).finish()
        super().on_worker_state_changed(event)

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        yield Label(t("files.title"), id="form-title")
        with Horizontal(id="files-body"):
            yield FilePicker(self.start, label=t("files.file"), hint=t("files.file_hint"), tree_id="files-tree",
                             input_id="files-file", id="files-picker")
            with VerticalScroll(id="files-side"):
                yield Static(self._kind_line(), id="files-kind")
                yield JobProgress(id="files-progress")
                yield Static(t("files.none_yet"), id="files-result")
                yield Static(t("files.jobs"), id="files-jobs", classes="dim")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#files-tree").focus()

    def _kind_line(self) -> str:
        return self.t("files.import_as", kind=self.t(f"files.kind.{self.kind}"))

    def _result(self, content) -> None:
        self.query_one("#files-result", Static).update(content)

    # -- import: a preview first, then `w` writes -------------------------------------------------------------
    @on(FilePicker.Chosen)
    def chosen(self, event: FilePicker.Chosen) -> None:
        if isinstance(self.focused, Input):  # a path typed: the keys go to the preview now (w, arrows to scroll)
            self.query_one("#files-side").focus()
        self.action_preview(self.kind)

    def action_preview(self, kind: str) -> None:
        self.kind = kind
        self.query_one("#files-kind", Static).update(self._kind_line())
        self._run_import(dry_run=True)

    def action_write(self) -> None:
        path = self.query_one(FilePicker).path
        if self.previewed != (path, self.kind):
            self._result(Text(self.t("files.preview_first"), style="bold red"))
            return
        self._run_import(dry_run=False)

    def _run_import(self, *, dry_run: bool) -> None:
        path = self.query_one(FilePicker).path
        if not path:
            self._result(Text(self.t("files.pick_first"), style="bold red"))
            return
        if self.busy:
            return
        self.busy = True
        self.previewed = None
        self._result(self.t("files.reading", path=path))
        self.query_one(JobProgress).start()
        self.read(path, self.kind, dry_run)

    @work(exclusive=True, group="files-import", exit_on_error=False)
    async def read(self, path: str, kind: str, dry_run: bool) -> None:
        run = self.app.db.run_apart if read_apart(path) else self.app.db.run
        try:
            outcome = await run(import_file, path, kind, dry_run, progress=self.query_one(JobProgress).reporter())
        except DulyError as exc:
            self.post_message(self.Imported(path, kind, None, self.t.error(exc)))
            return
        except OSError as exc:
            self.post_message(self.Imported(path, kind, None, self.t("files.unreadable", path=path,
                                                                       reason=exc.strerror or str(exc))))
            return
        self.post_message(self.Imported(path, kind, outcome, None))

    @on(Imported)
    def imported(self, message: Imported) -> None:
        self.busy = False
        self.query_one(JobProgress).finish()
        if message.error:
            self._result(Text(message.error, style="bold red"))
            return
        o = message.outcome
        if o["dry_run"] and not o["problems"]:
            self.previewed = (message.path, message.kind)
        self._result(self.describe(o))
        if not o["dry_run"]:
            self.app.ledger_changed()
            self.notify(self._counts_line(o), timeout=8)

    def _counts_line(self, o: dict) -> str:
        t, c = self.t, o["counts"]
        key = "files.would" if o["dry_run"] else "files.done"
        line = t(key, kind=t(f"files.kind.{o['kind']}"), add=f"{c['add']:,}", skip=f"{c['skip']:,}",
                 source=Path(o["source"]).name, encoding=o["encoding"])
        extra = [t(f"files.count.{a}", n=f"{c[a]:,}") for a in ("update", "credit", "void") if c[a]]
        return line + ("; " + ", ".join(extra) if extra else "")

    def describe(self, o: dict) -> Text:
        """The preview (or the result): the counts, the first rows, every problem where it is, unknown buyers."""
        t, name = self.t, Path(o["source"]).name

        def short(line: str) -> str:  # the file by its name: the whole path is in the picker's line above
            return line.replace(o["source"], name)

        out = Text()
        out.append(self._counts_line(o) + "\n", style="bold")
        if o["problems"]:
            out.append(t("files.problems", n=len(o["problems"])) + "\n", style="bold red")
            for problem in o["problems"][:PROBLEMS_SHOWN]:
                out.append(f"  {short(t.error(problem))}\n", style="red")
            if len(o["problems"]) > PROBLEMS_SHOWN:
                out.append("  " + t("files.more", n=len(o["problems"]) - PROBLEMS_SHOWN) + "\n", style="red")
        if o["unknown_buyers"]:
            out.append(t("files.unknown_buyers") + "\n", style="bold yellow")
            for buyer in o["unknown_buyers"]:
                tax = f" ({buyer['tax_id']})" if buyer["tax_id"] else ""
                out.append(f"  {buyer['name'] or '?'}{tax}  " + t("files.on_rows", rows=", ".join(
                    map(str, buyer["lines"]))) + "\n", style="yellow")
        if not o["problems"]:
            for row in o["rows"]:
                out.append(f"{row['line']:>5}  ", style="dim")
                out.append(f"{t('files.action.' + row['action']):<8} ",
                           style="green" if row["action"] != "skip" else "dim")
                out.append(f"{row['key']}  ")
                out.append(f"{t.error(row['detail'])}\n", style="dim")
            if o["more"]:
                out.append(t("files.more_rows", n=o["more"]) + "\n", style="dim")
            for warning in o["warnings"][:PROBLEMS_SHOWN]:
                out.append(f"{short(t.error(warning))}\n", style="yellow")
        out.append("\n")
        if o["dry_run"]:
            out.append(t("files.nothing_written_fix") if o["problems"] else t("files.nothing_written_yet"),
                       style="bold")
        return out

    # -- export, backup ---------------------------------------------------------------------------------------
    def action_export(self) -> None:
        t = self.t

        async def save(values: dict[str, str], progress) -> str:
            written = await self.db(export_to, values["format"], values["path"], progress)
            return t("files.exported", written=t.error(written))

        fields = [Field("format", t("files.export_format"), "hledger",
                        choices=[(t(f"files.export.{f}"), f) for f in EXPORTS]),
                  Field("path", t("files.export_path"), required=True, placeholder=t("files.export_path_hint"),
                        aliases=("target", "parent"))]
        self.app.push_screen(DialogForm(t("files.export_title"), fields, save, hint=t("files.plaintext"),
                                        form_id="files-export", progress=True), self._done)

    def action_backup(self) -> None:
        t = self.t

        async def save(values: dict[str, str], progress) -> str:
            target = await self.db(backup_to, values["path"], progress)
            return t("files.backed_up", target=target)

        default = self.start / f"{self.app.ledger_path.stem}-{self.app.today().isoformat()}.backup.duly"
        self.app.push_screen(DialogForm(t("files.backup_title"), [
            Field("path", t("files.backup_path"), str(default), required=True)], save,
            hint=t("files.backup_hint"), form_id="files-backup", progress=True), self._done)

    def _done(self, line: str | None) -> None:
        if line:
            self._result(Text(line, style="bold"))
            self.notify(line, timeout=8)

    # -- restore: checked, then asked, then done --------------------------------------------------------------
    def action_restore(self) -> None:
        t = self.t
        planned: dict = {}

        async def check(values: dict[str, str]) -> str:
            other = values["other"] == "yes"
            plan = await self.db(restore_plan, values["path"], self.app.db.passphrase, other)
            planned.update(plan=plan, source=values["path"], other=other)
            return "checked"

        def checked(result: str | None) -> None:
            if result:
                self.ask_restore(planned["source"], planned["plan"], planned["other"])

        self.app.push_screen(DialogForm(t("files.restore_title"), [
            Field("path", t("files.restore_path"), self.query_one(FilePicker).path, required=True,
                  aliases=("backup", "source")),
            Field("other", t("files.restore_other"), "no", choices=[(t("ask.no"), "no"), (t("ask.yes"), "yes")],
                  aliases=("other_ledger",))],
            check, hint=t("files.restore_hint"), form_id="files-restore"), checked)

    def ask_restore(self, source: str, plan: dict, other: bool) -> None:
        t = self.t
        now = plan.get("replaces")
        body = t("files.restore_body", ledger=str(self.app.ledger_path), source=source,
                 customers=plan["customers"], changes=plan["changes"],
                 now=t("files.restore_now", customers=now["customers"], changes=now["changes"]) if now
                 else t("files.restore_now_unknown"))
        undo = t("files.restore_undo", safety=plan.get("safety_copy") or "")

        def answered(yes: bool) -> None:
            if yes:
                self._result(t("files.restoring"))
                self.query_one(JobProgress).start()
                self.restore(source, plan, other)

        self.app.push_screen(ConfirmScreen(t("files.restore_q"), body, undo=undo, go=t("files.restore_go")),
                             answered)

    @work(exclusive=True, group="files-restore", exit_on_error=False)
    async def restore(self, source: str, plan: dict, other: bool) -> None:
        def same(summary: dict) -> bool:  # the backup and the ledger are still what the user was shown
            keys = ("ledger_id", "customers", "changes", "replaces")
            return all(summary.get(k) == plan.get(k) for k in keys)

        try:
            summary = await asyncio.wrap_future(self.app.db.restore(source, other_ledger=other, confirm=same,
                                                                    progress=self.query_one(JobProgress).reporter()))
        except DulyError as exc:
            self.post_message(self.Restored(None, self.t.error(exc)))
            return
        self.post_message(self.Restored(summary, None))

    @on(Restored)
    def restored(self, message: Restored) -> None:
        self.query_one(JobProgress).finish()
        if message.error:
            self._result(Text(message.error, style="bold red"))
            return
        s = message.summary
        line = self.t("files.restored", ledger=str(self.app.ledger_path), customers=s["customers"],
                      changes=s["changes"], safety=s.get("safety_copy") or "")
        self.app.ledger_changed()
        self._result(Text(line, style="bold"))
        self.notify(line, timeout=10)

    # -- passphrase -----------------------------------------------------------------------------------------
    def action_passphrase(self) -> None:
        self.app.push_screen(PassphraseForm(self.app.ledger_path), self._done)


class PassphraseForm(DialogForm):
    """`duly passwd` in a dialog: the current passphrase, the new one twice with its strength shown as it is
    typed (the first-run screen's check), and a choice to keep a weak one."""

    class Strength(Message):
        def __init__(self, passphrase: str, weakness: str | None):
            super().__init__()
            self.passphrase, self.weakness = passphrase, weakness

    def __init__(self, path: Path):
        self.path = Path(path)
        super().__init__("", [], self.change, form_id="files-passphrase")

    def compose(self) -> ComposeResult:
        t = self.app.t
        self.title_text, self.hint = t("files.passwd_title"), t("first.strength_none")
        self.fields = [Field("old", t("files.passwd_old"), required=True, password=True),
                       Field("new", t("files.passwd_new"), required=True, password=True),
                       Field("again", t("first.again"), required=True, password=True),
                       Field("weak_ok", t("files.passwd_weak_ok"), "no",
                             choices=[(t("ask.no"), "no"), (t("ask.yes"), "yes")])]
        yield from super().compose()

    @on(Input.Changed, "#field-new")
    def new_changed(self, event: Input.Changed) -> None:
        self.rate(event.value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="strength")
    def rate(self, passphrase: str) -> None:
        """zxcvbn off the event loop, as on the first-run screen."""
        self.post_message(self.Strength(passphrase, weakness(self.app.t, passphrase, self.path)
                                        if passphrase else None))

    @on(Strength)
    def show_strength(self, message: Strength) -> None:
        if message.passphrase != self.query_one("#field-new", Input).value:
            return  # typed on since
        t, line = self.app.t, self.query_one("#dialog-hint", Static)
        if not message.passphrase:
            line.update(t("first.strength_none"))
        elif message.weakness:
            line.update(t("first.strength_weak", reason=message.weakness))
        else:
            line.update(t("first.strength_ok"))
        line.set_class(bool(message.weakness), "warning")

    def _errors_for(self, values: dict[str, str]) -> dict[str, str]:
        t, errors = self.app.t, super()._errors_for(values)
        if values["new"] and "new" not in errors and values["weak_ok"] != "yes":
            reason = weakness(t, values["new"], self.path)
            if reason:
                errors["new"] = t("files.passwd_weak", reason=reason)
        if values["new"] and values["again"] and values["again"] != values["new"]:
            errors["again"] = t("first.err_again")
        return errors

    async def change(self, values: dict[str, str]) -> str:
        await asyncio.wrap_future(self.app.db.rekey(values["old"], values["new"]))
        return self.app.t("files.passwd_done", ledger=str(self.path))

