"""Draft invoices (草稿), paged from SQLite: n starts one, Enter edits it, I issues it as an invoice (every invoice
rule applies) and x deletes it, each asking first; the form marks every wrong field at once."""
from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Footer, Header, Input, Label, Static

from store.errors import DulyError, Said
from store.write import drafts
from tui.screens.ask import AskScreen
from tui.screens.base import PagedListScreen, localise_bindings
from tui.screens.form import FormScreen, field_row
from tui.widgets.picker import Picker, currency_picker, customer_picker, terms_picker
from tui.widgets.table import DataTable

PAGE = 100


class DraftsScreen(PagedListScreen):
    LIST_ID, PAGE_GROUP, EMPTY_KEY = "drafts", "drafts-page", "draft.none"
    BINDINGS = [
        Binding("n", "new_draft", "New draft", id="new_draft"),
        Binding("I", "issue", "Issue", id="issue_draft", key_display="I"),
        Binding("x", "delete", "Delete", id="delete_draft"),
        Binding("r", "refresh", "Refresh", id="refresh"),
    ]

    class PageLoaded(Message):
        def __init__(self, generation: int, rows: list[dict], more: bool):
            super().__init__()
            self.generation, self.rows, self.more = generation, rows, more

    class Done(Message):
        def __init__(self, text: str):
            super().__init__()
            self.text = text

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label(self.t("draft.title"), classes="section", id="drafts-title")
        yield DataTable(id="drafts", cursor_type="row", zebra_stripes=True)
        yield Static("", id="drafts-status", classes="status")
        yield Footer()

    def on_mount(self) -> None:
        t = self.t
        table = self.query_one("#drafts", DataTable)
        for key in ("ref", "customer", "name", "date", "due", "terms", "currency", "amount", "description"):
            label = t(f"draft.col.{key}")
            table.add_column(Text(label, justify="right") if key == "amount" else label, key=key)
        self.watch(table, "scroll_y", lambda _v: self._maybe_more(), init=False)
        table.focus()
        super().on_mount()

    def reload(self) -> None:
        super().reload()
        self.restart_pages()

    @work(exclusive=True, exit_on_error=False, group="drafts-page")
    async def fetch_page(self, generation: int, _query, after) -> None:
        rows = await self.db(drafts.page, after=after, limit=PAGE + 1)
        self.post_message(self.PageLoaded(generation, rows[:PAGE], len(rows) > PAGE))

    @on(PageLoaded)
    def page_loaded(self, message: PageLoaded) -> None:
        if message.generation != self.generation:
            return
        table = self.query_one("#drafts", DataTable)
        for r in message.rows:
            table.add_row(r["ref"], r["customer"] or "", r["name"] or "", r["date"] or "", r["due_date"] or "",
                          r["terms"] or "", r["currency"] or "", Text(r["amount"] or "", justify="right"),
                          r["description"] or "", key=r["id"])
        self.page_done(message.rows, message.more, message.rows[-1]["id"] if message.rows else None)

    @on(DataTable.RowHighlighted, "#drafts")
    def highlighted(self, _event) -> None:
        self._maybe_more()

    def _current(self) -> str | None:
        table = self.query_one("#drafts", DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value)

    def action_refresh(self) -> None:
        self.reload()

    def action_new_draft(self) -> None:
        self.app.push_screen(DraftFormScreen(None), self._saved)

    @on(DataTable.RowSelected, "#drafts")
    def edit(self, event: DataTable.RowSelected) -> None:
        self.open_form(str(event.row_key.value))

    @work(group="draft-open", exit_on_error=False)
    async def open_form(self, draft_id: str) -> None:
        [record] = await self.db(drafts.listing, draft_id=draft_id)
        self.app.push_screen(DraftFormScreen(record), self._saved)

    def _saved(self, saved: str | None) -> None:
        if saved:
            self.reload()

    def action_issue(self) -> None:
        draft_id = self._current()
        if draft_id is None:
            return
        row = self.query_one("#drafts", DataTable).get_row(draft_id)
        t = self.t

        def answered(yes: bool) -> None:
            if yes:
                self.issue(draft_id)
        self.app.push_screen(AskScreen(t("draft.issue_title", ref=row[0]),
                                       t("draft.issue_text", customer=row[1], amount=str(row[7]), currency=row[6],
                                         date=row[3] or "-"), yes=t("draft.issue_yes"), no=t("ask.no")), answered)

    @work(group="draft-act", exit_on_error=False)
    async def issue(self, draft_id: str) -> None:
        try:
            issued = await self.db(drafts.issue, draft_id)
        except DulyError as exc:
            self.notify(self.t.error(exc), severity="error", timeout=10)
            return
        self.post_message(self.Done(self.t("draft.issued", number=issued.number)))

    def action_delete(self) -> None:
        draft_id = self._current()
        if draft_id is None:
            return
        row = self.query_one("#drafts", DataTable).get_row(draft_id)
        t = self.t

        def answered(yes: bool) -> None:
            if yes:
                self.delete(draft_id)
        self.app.push_screen(AskScreen(t("draft.delete_title", ref=row[0]), t("draft.delete_text"),
                                       yes=t("draft.delete_yes"), no=t("ask.no")), answered)

    @work(group="draft-act", exit_on_error=False)
    async def delete(self, draft_id: str) -> None:
        try:
            await self.db(drafts.delete, draft_id)
        except DulyError as exc:
            self.notify(self.t.error(exc), severity="error", timeout=10)
            return
        self.post_message(self.Done(self.t("draft.deleted")))

    @on(Done)
    def done(self, message: Done) -> None:
        self.app.ledger_changed()
        self.notify(message.text, timeout=8)
        self.reload()


FIELDS = ("customer", "date", "amount", "currency", "terms", "due", "description", "einvoice")


def save_draft(ledger, draft_id: str | None, values: dict[str, str]) -> tuple[dict[str, str], str | None]:
    """Check every field, then add or edit (one transaction); ({field: reason}, None) when any is wrong."""
    wrong = drafts.problems(ledger, values)
    if wrong:
        return wrong, None
    given = {k: v.strip() for k, v in values.items() if k != "customer" and v.strip()}
    if draft_id is None:
        return {}, drafts.add(ledger, values["customer"].strip(), **given)
    drafts.edit(ledger, draft_id, customer=values["customer"].strip(), **given)
    return {}, draft_id


class DraftFormScreen(FormScreen):
    """Dismisses with the draft's id once saved, or None."""

    FIELDS = FIELDS
    BINDINGS = [Binding("ctrl+s", "save", "Save", id="save"), Binding("escape", "cancel", "Cancel", id="cancel")]

    class Result(Message):
        def __init__(self, problems: dict[str, str], draft_id: str | None):
            super().__init__()
            self.problems, self.draft_id = problems, draft_id

    def __init__(self, record: dict | None):
        super().__init__()
        self.record = record
        self.saving = False

    @property
    def t(self):
        return self.app.t

    def compose(self) -> ComposeResult:
        t, r = self.t, self.record or {}
        yield Header()
        yield Label(t("draft.edit_title", ref=r["ref"]) if r else t("draft.add_title"), id="form-title")
        yield Static("", id="form-error")
        with VerticalScroll(id="form"):
            for name in FIELDS:
                value = str(({"due": r.get("due_date")}.get(name, r.get(name)) if r else "") or "")
                if name == "customer":
                    widget = customer_picker(self.app, value)
                elif name == "currency":
                    widget = currency_picker(self.app, value, placeholder=t("draft.currency_default"))
                elif name == "terms":
                    widget = terms_picker(self.app, value, placeholder=t("draft.terms_default"),
                                          invoice_date=lambda: self.value("date"))
                else:
                    widget = Input(value, id=f"field-{name}", compact=True,
                                   placeholder=t(f"draft.hint.{name}") if t.has(f"draft.hint.{name}") else "")
                yield from field_row(name, t(f"draft.field.{name}") + (" *" if name in ("customer", "amount") else ""),
                                     widget)
            with Horizontal(classes="buttons"):
                yield Button(t("draft.save_button"), id="draft-save", variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        localise_bindings(self, self.t)
        self.app.refresh_bindings()
        self.field("customer").focus()

    @on(Input.Changed, "#field-date")
    def date_changed(self) -> None:
        self.query_one("#picker-terms", Picker).refresh_detail()  # the due dates follow the date

    @on(Button.Pressed, "#draft-save")
    def action_save(self) -> None:
        if self.saving:
            return
        self.saving = True
        self.save({name: self.value(name) for name in FIELDS})

    @work(group="draft-save", exit_on_error=False)
    async def save(self, values: dict[str, str]) -> None:
        try:
            wrong, draft_id = await self.app.db.run(save_draft, (self.record or {}).get("id"), values)
        except DulyError as exc:
            wrong, draft_id = {"customer": Said.of(exc)}, None
        self.post_message(self.Result(wrong, draft_id))

    @on(Result)
    def result(self, message: Result) -> None:
        self.saving = False
        if message.problems:
            self.show_problems(message.problems, self.t("draft.fix"))
            return
        self.app.ledger_changed()
        self.notify(self.t("draft.saved", ref=drafts.ref(message.draft_id)))
        self.dismiss(message.draft_id)
