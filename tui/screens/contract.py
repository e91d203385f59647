"""A customer's contracts (合同) in the app, over what `duly contract add|attach|end|cancel|list` run
(store.write.collections): the form that records one, a contract's detail with every file recorded on it, the screen
that attaches a file picked in the app's file picker, and ending a contract early or cancelling it (asked first, then
its last day and reason, or the reason it is cancelled). A file is recorded by its absolute path and SHA-256, never
copied; its hash is shown before it is recorded, and a file recorded before is replaced only after asking (it stays in
the detail)."""
from __future__ import annotations

import asyncio
from pathlib import Path

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header, Label, Static

from store.errors import DulyError, InvalidInput
from store.i18n import N_
from store.rules import money, validate
from store.rules.money import format_amount
from store.rules.safetext import terminal_text
from store.write import collections
from tui.screens.base import FittedFooter
from tui.screens.confirm import ConfirmScreen
from tui.screens.dialog_form import DialogForm, Field
from tui.widgets.file_picker import FilePicker
from tui.widgets.picker import terms_picker

CHECKS = ("ok", "changed", "missing", "unreadable", "none")  # a recorded file against its hash (file_check)


def add_contract(ledger, code: str, v: dict, t) -> str:
    """Record it (on the database thread) and return the line the screen shows."""
    if v["file"] and not Path(v["file"]).expanduser().is_file():  # in the form's words, not the command line's
        raise InvalidInput(N_("{field_name}: there is no file {file}"), field_name=t("contract.f.file"),
                           file=v["file"], field="file")
    record = collections.add_contract(ledger, code, v["number"], v["signed"], start=v["start"] or None,
                                      end=v["end"] or None, terms=v["terms"] or None,
                                      credit_limit=v["credit_limit"] or None, file=v["file"] or None,
                                      notes=v["notes"] or None)
    if record["file_path"]:
        return t("contract.added_file", number=record["number"], code=code, path=record["file_path"],
                 sha256=record["file_sha256"])
    return t("contract.added", number=record["number"], code=code)


def date_check(label: str):
    """A date field's check, its error naming the field by its label in the form."""
    def check(text: str) -> None:
        validate.iso_date(text, label)
    return check


def contract_form(screen, code: str, currency: str | None, today: str) -> DialogForm:
    """The fields `duly contract add` takes, for `screen` (a DulyScreen) to push; its save records the contract.
    Every error names the form's own fields (not the command line's --start, --end)."""
    t, shown = screen.t, currency or "CNY"
    limit_label = t("contract.f.credit_limit", currency=shown)

    def limit_check(text: str) -> None:
        money.parse_amount(text, shown, field=limit_label)

    def across(v: dict) -> dict[str, str]:
        """An end before the start, beside the end, before anything is written."""
        try:
            start, end = validate.iso_date(v["start"], "start"), validate.iso_date(v["end"], "end")
        except DulyError:
            return {}  # an empty or wrong date: its own field says so
        if end < start:
            return {"end": t("contract.end_before_start", end_label=t("contract.f.end"), end=end,
                             start_label=t("contract.f.start"), start=start)}
        return {}

    fields = [
        Field("number", t("contract.f.number"), required=True, aliases=("--number", "contract")),
        Field("signed", t("contract.f.signed"), today, required=True, check=date_check(t("contract.f.signed")),
              aliases=("--signed",)),
        Field("start", t("contract.f.start"), placeholder="YYYY-MM-DD", check=date_check(t("contract.f.start")),
              aliases=("--start",)),
        Field("end", t("contract.f.end"), placeholder="YYYY-MM-DD", check=date_check(t("contract.f.end")),
              aliases=("--end",)),
        Field("terms", t("contract.f.terms"), make=lambda app, value: terms_picker(app, value)),
        Field("credit_limit", limit_label, check=limit_check, aliases=("--credit-limit",)),
        Field("file", t("contract.f.file"), placeholder=t("contract.f.file_hint"), aliases=("--file",)),
        Field("notes", t("contract.f.notes")),
    ]

    async def save(v: dict) -> str:
        return await screen.db(add_contract, code, v, t)

    return DialogForm(t("contract.add_title", code=code), fields, save, hint=t("contract.add_hint"),
                      form_id="contract-form", check=across)


# -- ending a contract early (提前终止) or cancelling it (作废) -----------------------------------------------------

def end_contract(ledger, code: str, number: str, v: dict, t) -> str:
    done = collections.end_contract(ledger, code, number, v["on"], v["reason"] or None)
    return t("contract.ended", number=number, code=code, on=done["ended_on"])


def cancel_contract(ledger, code: str, number: str, v: dict, t) -> str:
    done = collections.cancel_contract(ledger, code, number, v["reason"], v["on"])
    return t("contract.cancelled", number=number, code=code, on=done["ended_on"])


def closed_text(t, record: dict) -> str | None:
    """Why a contract can be ended or cancelled no more (it was already), or None."""
    if record.get("status") == "ended":
        return t("contract.already_ended", number=record["number"], on=record["ended_on"])
    if record.get("status") == "cancelled":
        return t("contract.already_cancelled", number=record["number"], on=record["ended_on"])
    return None


def ask_to_close(screen, code: str, record: dict, how: str, done) -> None:
    """End (how="end") or cancel (how="cancel") a contract: asked first, then the form that takes the day and the
    reason (required to cancel); done(line) once written, done(None) when left. `record` is the contract's row."""
    t, app, number = screen.app.t, screen.app, record["number"]
    refused = closed_text(t, record)
    if refused:
        app.notify(refused, severity="warning")
        return
    today = app.today().isoformat()

    def form(yes: bool | None) -> None:
        if not yes:
            return
        day_label = t("contract.f.last_day") if how == "end" else t("contract.f.cancelled_on")
        fields = [Field("on", day_label, today, required=True, check=date_check(day_label)),
                  Field("reason", t("contract.f.reason"), required=how == "cancel")]
        write = end_contract if how == "end" else cancel_contract

        async def save(v: dict) -> str:
            return await app.db.run(write, code, number, v, t)

        app.push_screen(DialogForm(t(f"contract.{how}_title", number=number, code=code), fields, save,
                                   hint=t(f"contract.{how}_hint"), form_id="contract-close"), done)

    app.push_screen(ConfirmScreen(t(f"contract.{how}_q", number=number, code=code), t(f"contract.{how}_body"),
                                  undo=t("contract.no_undo"), go=t(f"contract.{how}_go")), form)


def state_text(t, record: dict) -> Text:
    """Where a contract stands, in words: in force (until the day it was ended early on), not yet in force, expired,
    ended on its last day, or cancelled on the day it was."""
    state = record["state"]
    if state in ("ended", "cancelled"):
        words = t(f"contract.state.{state}_on", on=record["ended_on"])
    elif state == "in_force" and record.get("status") == "ended":
        words = t("contract.state.ending", on=record["ended_on"])
    else:
        words = t(f"contract.state.{state}")
    return Text(words, style="dim" if state in ("ended", "cancelled", "expired") else "")


def check_text(t, check: str) -> Text:
    """A file's check in words, red where the file is not what was recorded."""
    return Text(t(f"contract.check.{check}"), style="" if check in ("ok", "none") else "bold red")


class ContractScreen(FittedFooter, ModalScreen[bool]):
    """One contract: its fields, where it stands, the file recorded now checked against its hash, and every file
    recorded on it before. f attaches a file, z ends it early, v cancels it; dismisses with True when it changed
    (the list below reloads)."""

    BINDINGS = [
        Binding("f", "attach", "Attach file", id="attach_contract_file"),
        Binding("z", "end_contract", "End contract", id="end_contract"),
        Binding("v", "cancel_contract", "Cancel contract", id="cancel_contract"),
        Binding("escape", "close", "Close", id="close_contract"),
    ]
    DEFAULT_CSS = """
    ContractScreen { align: center middle; }
    #contract { width: 100; max-width: 100%; height: auto; max-height: 90%; border: thick $primary;
                background: $surface; padding: 0 1; }
    #contract-body { height: auto; max-height: 100%; }
    """

    class Loaded(Message):
        def __init__(self, record: dict | None, error: str | None = None):
            super().__init__()
            self.record, self.error = record, error

    def __init__(self, code: str, number: str):
        super().__init__()
        self.code, self.number = code, number
        self.record: dict | None = None
        self.attached = False

    @property
    def t(self):
        return self.app.t

    def compose(self) -> ComposeResult:
        t = self.t
        with Vertical(id="contract"):
            yield Label(t("contract.title", number=self.number, code=self.code), classes="section",
                        id="contract-title", markup=False)
            with VerticalScroll(id="contract-body"):
                yield Static(t("dash.loading"), id="contract-fields")
                yield Label(t("contract.files"), classes="section")
                yield Static("", id="contract-files")
        yield Footer()

    def on_mount(self) -> None:
        self.set_up_footer()
        self.load()

    @work(exclusive=True, exit_on_error=False, group="contract-detail")
    async def load(self) -> None:
        try:
            found = await self.app.db.run(collections.contract, self.code, self.number,
                                          self.app.today().isoformat())
        except DulyError as exc:
            self.post_message(self.Loaded(None, exc.text(self.app.language)))
            return
        self.post_message(self.Loaded(found))

    @on(Loaded)
    def show(self, message: Loaded) -> None:
        t = self.t
        if message.error:
            self.query_one("#contract-fields", Static).update(Text(message.error, style="red"))
            return
        k = self.record = message.record
        fields = Table(box=None, show_header=False, padding=(0, 1))
        fields.add_column(style="bold", no_wrap=True)
        fields.add_column(overflow="fold")
        limit = format_amount(k["credit_limit"], k["currency"] or "CNY") if k["credit_limit"] is not None else ""
        for key, value in (("number", k["number"]), ("signed", k["signed"]), ("start", k["start_date"]),
                           ("end", k["end_date"]), ("terms", k["terms"]), ("credit_limit", limit),
                           ("notes", k["notes"])):
            label = t("contract.f.credit_limit", currency=k["currency"] or "CNY") if key == "credit_limit" \
                else t(f"contract.f.{key}")
            fields.add_row(label, Text(terminal_text(value or "—")))
        fields.add_row(t("contract.f.state"), state_text(t, k))
        if k.get("status") in ("ended", "cancelled"):
            fields.add_row(t("contract.f.reason"), Text(terminal_text(k["end_reason"] or "—")))
        fields.add_row(t("contract.f.check"), check_text(t, k["file_check"]))  # of the file on top of the list
        self.query_one("#contract-fields", Static).update(fields)
        files = Table(box=None, padding=(0, 1))
        files.add_column(t("contract.col.at"), no_wrap=True)
        files.add_column(t("contract.col.file"), overflow="fold")
        for n, f in enumerate(reversed(k["files"])):  # newest first: the one recorded now on top
            files.add_row(Text((f["at"] or "")[:16].replace("T", " ") + "\n" + terminal_text(f["actor"] or "")),
                          Text(terminal_text(f["file_path"]) + ("" if n else "  " + t("contract.now"))
                               + f"\nSHA-256 {f['file_sha256'] or ''}"))
        self.query_one("#contract-files", Static).update(files if k["files"] else t("contract.no_file"))

    def action_attach(self) -> None:
        if self.record is not None:
            self.app.push_screen(AttachFileScreen(self.code, self.number, self.record["file_path"]), self._attached)

    def _attached(self, text: str | None) -> None:
        if text:
            self.attached = True
            self.app.ledger_changed()
            self.notify(text, timeout=10)
            self.load()

    def action_end_contract(self) -> None:
        if self.record is not None:
            ask_to_close(self, self.code, self.record, "end", self._attached)

    def action_cancel_contract(self) -> None:
        if self.record is not None:
            ask_to_close(self, self.code, self.record, "cancel", self._attached)

    def action_close(self) -> None:
        self.dismiss(self.attached)


def hash_file(path: str) -> dict:
    """What the attach screen shows of a chosen file before it is recorded (off the event loop: a file read)."""
    resolved = Path(path).expanduser().resolve()
    return {"path": str(resolved), "size": resolved.stat().st_size, "sha256": collections.file_sha256(resolved)}


class AttachFileScreen(FittedFooter, Screen[str | None]):
    """Pick the contract's file in the app's file picker: its SHA-256 is shown, ctrl+s records it (asking first when
    it replaces a file recorded before). Dismisses with the line saying what was recorded, or None."""

    NAVIGATES = False  # a path is typed here: digits type
    BINDINGS = [
        Binding("ctrl+s", "attach", "Attach", id="contract_attach"),
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]

    class Hashed(Message):
        def __init__(self, found: dict | None, error: str | None):
            super().__init__()
            self.found, self.error = found, error

    def __init__(self, code: str, number: str, recorded: str | None, start: Path | None = None):
        super().__init__()
        self.code, self.number, self.recorded = code, number, recorded
        self.start = Path(start or Path.cwd())
        self.chosen: dict | None = None  # the file hashed last: what ctrl+s records

    @property
    def t(self):
        return self.app.t

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        yield Label(t("contract.attach_title", number=self.number, code=self.code), id="form-title", markup=False)
        with Horizontal(id="bank-body"):
            yield FilePicker(self.start, label=t("contract.attach_file"), hint=t("contract.attach_hint"),
                             tree_id="contract-tree", input_id="contract-file", id="contract-picker")
            with Vertical(id="bank-side"):
                yield Static(t("contract.recorded_now", path=self.recorded) if self.recorded
                             else t("contract.no_file"), id="contract-recorded", markup=False)
                yield Static(t("contract.pick_a_file"), id="contract-chosen", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.set_up_footer()
        self.query_one("#contract-tree").focus()

    @on(FilePicker.Chosen)
    def picked(self, event: FilePicker.Chosen) -> None:
        self.chosen = None
        self.query_one("#contract-chosen", Static).update(self.t("contract.hashing", path=event.path))
        self.hash(event.path)

    @work(exclusive=True, group="contract-hash", exit_on_error=False)
    async def hash(self, path: str) -> None:
        try:
            found = await asyncio.to_thread(hash_file, path)
        except OSError as exc:
            self.post_message(self.Hashed(None, self.t("bank.unreadable", path=path, reason=exc.strerror or str(exc))))
            return
        self.post_message(self.Hashed(found, None))

    @on(Hashed)
    def show_hash(self, message: Hashed) -> None:
        shown = self.query_one("#contract-chosen", Static)
        if message.error:
            shown.update(Text(message.error, style="red"))
            return
        self.chosen = f = message.found
        shown.update(self.t("contract.chosen", path=f["path"], size=f"{f['size']:,}", sha256=f["sha256"]))

    def action_attach(self) -> None:
        t = self.t
        if self.chosen is None:
            self.query_one("#contract-chosen", Static).update(Text(t("contract.pick_first"), style="red"))
            return
        path = self.chosen["path"]
        if not self.recorded:
            self.record(path)
            return
        self.app.push_screen(ConfirmScreen(t("contract.replace_q", number=self.number, path=self.recorded),
                                           t("contract.replace_body", path=path), go=t("contract.replace_go")),
                             lambda yes: yes and self.record(path))

    @work(exclusive=True, group="contract-attach", exit_on_error=False)
    async def record(self, path: str) -> None:
        t = self.t
        try:
            done = await self.app.db.run(collections.attach_contract_file, self.code, self.number, path)
        except DulyError as exc:
            self.query_one("#contract-chosen", Static).update(Text(exc.text(self.app.language), style="red"))
            return
        self.dismiss(t("contract.attached", number=self.number, path=done["file_path"], sha256=done["file_sha256"]))

    def action_cancel(self) -> None:
        self.dismiss(None)
