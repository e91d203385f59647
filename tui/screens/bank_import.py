"""Import a bank statement from the app (导入银行流水): pick the file in a directory tree, choose the profile or let
it be detected, look at what a dry run would import, then import it (store.files.bank.import_file, what
`duly import bank` runs) and go on to Reconcile."""
from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Label, Select, Static

from store.errors import DulyError
from store.files import bank
from store.rules.money import format_amount
from tui.screens.base import FittedFooter
from tui.widgets.file_picker import FilePicker

SHOWN = 15  # lines of the dry run shown


def profile_names(ledger) -> list[str]:
    return [row["name"] for row in bank.profiles(ledger)]


def import_statement(ledger, path: str, profile: str | None, dry_run: bool) -> dict:
    found = bank.import_file(ledger, path, profile=profile, dry_run=dry_run)
    lines = sorted((*found.added, *found.skipped), key=lambda b: b.line)
    return {"found": found.found, "profile": found.profile, "encoding": found.encoding, "added": len(found.added),
            "skipped": len(found.skipped), "credits": found.credits, "debits": found.debits,
            "lines": [{"date": b.date, "amount": format_amount(b.amount, b.currency), "currency": b.currency,
                       "payer": b.payer or "", "memo": b.memo or "", "new": b in found.added}
                      for b in lines[:SHOWN]], "more": max(0, len(lines) - SHOWN)}


class BankImportScreen(FittedFooter, Screen[bool]):
    """Dismisses with True once a statement was imported."""

    NAVIGATES = False  # a path is typed here: digits type
    BINDINGS = [
        Binding("ctrl+r", "preview", "Preview", id="bank_preview"),
        Binding("ctrl+s", "import", "Import", id="bank_import"),
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]

    class Profiles(Message):
        def __init__(self, names: list[str]):
            super().__init__()
            self.names = names

    class Result(Message):
        def __init__(self, outcome: dict | None, error: str | None, dry_run: bool):
            super().__init__()
            self.outcome, self.error, self.dry_run = outcome, error, dry_run

    def __init__(self, start: Path | None = None):
        super().__init__()
        self.start = Path(start or Path.cwd())

    @property
    def t(self):
        return self.app.t

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        yield Label(t("bank.title"), id="form-title")
        with Horizontal(id="bank-body"):
            yield FilePicker(self.start, label=t("bank.file"), hint=t("bank.file_hint"), tree_id="bank-tree",
                             input_id="bank-file", id="bank-picker")
            with Vertical(id="bank-side"):
                yield Label(t("bank.profile"))
                yield Select([], prompt=t("bank.detect"), id="bank-profile", compact=True)
                with Horizontal(classes="buttons"):
                    yield Button(t("bank.preview_button"), id="bank-preview")
                    yield Button(t("bank.import_button"), id="bank-import", variant="primary")
                yield Static(t("bank.none_yet"), id="bank-result")
        yield Footer()

    def on_mount(self) -> None:
        self.set_up_footer()
        self.query_one("#bank-tree").focus()
        self.load_profiles()

    @work(group="bank-profiles", exit_on_error=False)
    async def load_profiles(self) -> None:
        self.post_message(self.Profiles(await self.app.db.run(profile_names)))

    @on(Profiles)
    def fill_profiles(self, message: Profiles) -> None:
        self.query_one("#bank-profile", Select).set_options([(n, n) for n in message.names])

    @on(FilePicker.Chosen)
    def picked(self, event: FilePicker.Chosen) -> None:
        self.action_preview()

    def _chosen(self) -> tuple[str, str | None]:
        select = self.query_one("#bank-profile", Select)
        return self.query_one(FilePicker).path, None if select.is_blank() else str(select.value)

    @on(Button.Pressed, "#bank-preview")
    def action_preview(self) -> None:
        self.run_import(*self._chosen(), True)

    @on(Button.Pressed, "#bank-import")
    def action_import(self) -> None:
        self.run_import(*self._chosen(), False)

    def run_import(self, path: str, profile: str | None, dry_run: bool) -> None:
        if not path:
            self.query_one("#bank-result", Static).update(Text(self.t("bank.pick_first"), style="red"))
            return
        self.query_one("#bank-result", Static).update(self.t("bank.reading"))
        self.read(path, profile, dry_run)

    @work(exclusive=True, group="bank-import", exit_on_error=False)
    async def read(self, path: str, profile: str | None, dry_run: bool) -> None:
        try:
            outcome = await self.app.db.run(import_statement, path, profile, dry_run)
        except DulyError as exc:
            self.post_message(self.Result(None, exc.text(self.app.language), dry_run))
            return
        except OSError as exc:
            self.post_message(self.Result(None, self.t("bank.unreadable", path=path, reason=exc.strerror or str(exc)),
                                          dry_run))
            return
        self.post_message(self.Result(outcome, None, dry_run))

    @on(Result)
    def show_result(self, message: Result) -> None:
        t, result = self.t, self.query_one("#bank-result", Static)
        if message.error:
            result.update(Text(message.error, style="red"))
            return
        o = message.outcome
        key = "bank.would" if message.dry_run else "bank.done"
        head = t(key, added=f"{o['added']:,}", credits=f"{o['credits']:,}",
                 debits=f"{o['debits']:,}", skipped=f"{o['skipped']:,}", profile=o["profile"], encoding=o["encoding"])
        rows = [f"{r['date']}  {r['amount']:>14} {r['currency']}  {r['payer'][:20]}  {r['memo'][:24]}"
                + ("" if r["new"] else "  (" + t("bank.already") + ")") for r in o["lines"]]
        if o["more"]:
            rows.append(t("bank.more", n=o["more"]))
        result.update("\n".join([head, *([o["found"]] if o["found"] else []), "", *rows]))
        if not message.dry_run:
            self.app.ledger_changed()
            self.notify(head, timeout=8)
            self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
