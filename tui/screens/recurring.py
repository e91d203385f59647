"""A customer's recurring invoices (周期性账单): the schedules with what each issued and its next date; a new
schedule through a form (nothing typed is lost on an error, nothing is written either); pause and resume."""
from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Checkbox, Footer, Header, Input, Label, Static

from store.errors import DulyError
from store.read import recurring as view
from store.write import customers, recurring
from tui.widgets.picker import Picker, terms_picker
from tui.screens.base import DulyScreen
from tui.widgets.table import DataTable

COLUMNS = ("number", "frequency", "start", "end", "currency", "amount", "mode", "status", "issued", "next")


def schedules_of(ledger, code: str) -> list[dict]:
    return view.listing(ledger, customer_id=customers.by_code(ledger, code)["id"])


class RecurringScreen(DulyScreen):
    BINDINGS = [
        Binding("a", "add", "New schedule", id="new_schedule"),
        Binding("space", "pause_resume", "Pause/resume", id="pause_resume"),
        Binding("escape", "back", "Back", id="back"),
        Binding("r", "refresh", "Refresh", id="refresh"),
    ]

    class Loaded(Message):
        def __init__(self, rows: list[dict]):
            super().__init__()
            self.rows = rows

    class Done(Message):
        def __init__(self, text: str, error: bool):
            super().__init__()
            self.text = text
            self.error = error

    def __init__(self, code: str):
        super().__init__()
        self.code = code
        self.rows: dict[str, dict] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label(self.t("recur.title", code=self.code), id="recurring-title")
        yield DataTable(id="recurring-list", cursor_type="row", zebra_stripes=True)
        yield Static("", id="recurring-status")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#recurring-list", DataTable)
        for key in COLUMNS:
            label = self.t(f"recur.col.{key}")
            table.add_column(Text(label, justify="right") if key in ("amount", "issued") else label, key=key)
        super().on_mount()
        table.focus()

    def reload(self) -> None:
        super().reload()
        self.load(self.code)

    @work(exclusive=True, exit_on_error=False, group="recurring")
    async def load(self, code: str) -> None:
        self.post_message(self.Loaded(await self.db(schedules_of, code)))

    @on(Loaded)
    def show(self, message: Loaded) -> None:
        t, table = self.t, self.query_one("#recurring-list", DataTable)
        cursor = table.cursor_row
        table.clear()
        self.rows = {r["number"]: r for r in message.rows}
        for r in message.rows:
            table.add_row(r["number"], t.error(r["frequency"]), r["start"], r["end"] or "", r["currency"],
                          Text(r["amount"], justify="right"), t(f"recur.mode.{r['mode']}"),
                          t(f"recur.status.{r['status']}"), Text(str(r["issued"]), justify="right"), r["next"] or "",
                          key=r["number"])
        if message.rows:
            table.move_cursor(row=min(cursor, table.row_count - 1))
        self.query_one("#recurring-status", Static).update("" if message.rows else t("recur.none"))

    def _selected(self) -> dict | None:
        table = self.query_one("#recurring-list", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.rows.get(str(key))

    def action_pause_resume(self) -> None:
        row = self._selected()
        if row is not None:
            self.pause_resume(row["number"], row["status"], self.app.today().isoformat())

    @work(exclusive=True, exit_on_error=False, group="recurring-pause")
    async def pause_resume(self, number: str, status: str, today: str) -> None:
        try:
            if status == "paused":
                await self.db(recurring.resume, number, today)
                text = self.t("recur.resumed", number=number, date=today)
            else:
                await self.db(recurring.pause, number)
                text = self.t("recur.paused", number=number)
        except DulyError as exc:
            self.post_message(self.Done(self.app.t.error(exc), True))
            return
        self.post_message(self.Done(text, False))

    @on(Done)
    def done(self, message: Done) -> None:
        if message.error:
            self.notify(message.text, severity="warning", timeout=8)
            return
        self.app.ledger_changed()
        self.notify(message.text)
        self.reload()

    def action_add(self) -> None:
        self.app.push_screen(RecurringFormScreen(self.code), lambda _number: None)

    def action_back(self) -> None:
        self.dismiss()

    def action_refresh(self) -> None:
        self.reload()


FIELDS = ("frequency", "every", "day", "start", "end", "count", "amount", "terms", "description")
# InvalidInput.field (or what a message is about) -> the form field it names
ERROR_FIELDS = {"frequency": "frequency", "every": "every", "day": "day", "start date": "start", "end date": "end",
                "end": "end", "count": "count", "amount": "amount", "line": "amount", "schedule": "start",
                "terms": "terms"}


def field_of(error: DulyError) -> str:
    found = ERROR_FIELDS.get(getattr(error, "field", None) or "")
    if found:
        return found
    text = str(error)
    return "terms" if "terms" in text else "end" if text.startswith("end") else "amount"


class RecurringFormScreen(DulyScreen):
    """Dismisses with the new schedule's number, or None when cancelled."""

    NAVIGATES = False  # digits type; the app's screen keys do not leave a form
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="save"),
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]

    class Saved(Message):
        def __init__(self, number: str):
            super().__init__()
            self.number = number

    class Rejected(Message):
        def __init__(self, field: str, text: str):
            super().__init__()
            self.field = field
            self.text = text

    def __init__(self, code: str):
        super().__init__()
        self.code = code
        self.saving = False

    def compose(self) -> ComposeResult:
        t = self.t
        defaults = {"frequency": "monthly", "start": self.app.today().isoformat()}
        yield Header()
        yield Label(t("recurf.title", code=self.code), id="form-title")
        yield Static("", id="form-error")
        with VerticalScroll(id="form"):
            for name in FIELDS:
                with Horizontal(classes="form-row", id=f"row-{name}"):
                    yield Label(t(f"recurf.{name}"), classes="form-label")
                    hint = t(f"recurf.{name}.hint") if t.has(f"recurf.{name}.hint") else ""
                    if name == "terms":  # the due dates shown are those of the first invoice, on the start date
                        yield terms_picker(self.app, placeholder=hint,
                                           invoice_date=lambda: self.query_one("#field-start", Input).value)
                    else:
                        yield Input(defaults.get(name, ""), id=f"field-{name}", compact=True, placeholder=hint)
                yield Static("", id=f"error-{name}", classes="field-error")
            yield Checkbox(t("recurf.draft"), id="field-draft")
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#field-amount", Input).focus()

    @on(Input.Changed, "#field-start")
    def start_changed(self) -> None:
        self.query_one("#picker-terms", Picker).refresh_detail()  # the due dates follow the start date

    def values(self) -> dict:
        found = {name: self.query_one(f"#field-{name}", Input).value.strip() for name in FIELDS}
        found["draft"] = self.query_one("#field-draft", Checkbox).value
        return found

    def _clear_errors(self) -> None:
        self.query_one("#form-error", Static).update("")
        for name in FIELDS:
            self.query_one(f"#error-{name}", Static).update("")
            self.query_one(f"#error-{name}", Static).remove_class("shown")
            self.query_one(f"#row-{name}").remove_class("invalid")

    @on(Input.Submitted)
    def submitted(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        if self.saving:
            return
        self._clear_errors()
        self.saving = True
        self.save(self.values())

    @work(exclusive=True, exit_on_error=False, group="save-recurring")
    async def save(self, v: dict) -> None:
        try:
            _, number = await self.db(
                recurring.add, self.code, frequency=v["frequency"], start=v["start"], every=v["every"] or None,
                day=v["day"] or None, end=v["end"] or None, count=v["count"] or None, amount=v["amount"] or None,
                description=v["description"] or None, terms=v["terms"] or None,
                mode="draft" if v["draft"] else "issue")
        except DulyError as exc:
            self.post_message(self.Rejected(field_of(exc), self.app.t.error(exc)))
            return
        finally:
            self.saving = False
        self.post_message(self.Saved(number))

    @on(Saved)
    def saved(self, message: Saved) -> None:
        self.app.ledger_changed()
        self.notify(self.t("recurf.saved", number=message.number))
        self.dismiss(message.number)

    @on(Rejected)
    def rejected(self, message: Rejected) -> None:
        self.query_one("#form-error", Static).update(self.t("form.fix"))
        self.query_one(f"#error-{message.field}", Static).update(message.text)
        self.query_one(f"#error-{message.field}", Static).add_class("shown")
        self.query_one(f"#row-{message.field}").add_class("invalid")
        field = self.query_one(f"#field-{message.field}")
        field.focus()
        self.query_one("#form", VerticalScroll).scroll_to_widget(field)

    def action_cancel(self) -> None:
        self.dismiss(None)
