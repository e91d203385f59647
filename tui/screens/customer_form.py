"""Add or edit a customer. A wrong field is marked next to it and nothing typed is lost."""
from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Label, Static
from textual.worker import Worker, WorkerState

from store.write import customers
from store.errors import Conflict, DulyError, NotFound
from store.rules.money import to_decimal_str
from store.rules import money, validate
from tui.screens.base import localise_bindings
from tui.screens.form_manners import FormManners, required
from tui.widgets.picker import currency_picker, terms_picker

FIELDS = (
    "code", "name", "legal_name", "tax_id", "address", "email", "phone", "currency", "terms",
    "credit_limit", "category", "settlement_cycle", "language", "tags", "notes",
)
REQUIRED = {"code", "name"}


def field_of(error: DulyError) -> str | None:
    """Which form field an error is about ('credit limit' -> credit_limit; a used code -> code)."""
    field = getattr(error, "field", None)
    if field:
        field = field.replace(" ", "_")
        return field if field in FIELDS else None
    text = str(error)
    if isinstance(error, Conflict) and "code" in text:
        return "code"
    if isinstance(error, NotFound) and "terms" in text:
        return "terms"
    return None


def shown(record: dict, name: str) -> str:
    """A stored value as the text a person would type."""
    value = record.get(name)
    if value is None:
        return ""
    if name == "credit_limit":
        return to_decimal_str(value, record.get("currency") or "CNY")
    return str(value)


class CustomerFormScreen(FormManners, Screen[str | None]):
    """Dismisses with the customer's code once saved, or None when cancelled."""

    NAVIGATES = False  # digits type; the app's screen keys do not leave a form
    FORM_FIELDS = FIELDS

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="save"),
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]

    class Saved(Message):
        def __init__(self, code: str, changed: list[str] | None):
            super().__init__()
            self.code = code
            self.changed = changed

    class Rejected(Message):
        def __init__(self, field: str | None, text: str):
            super().__init__()
            self.field = field
            self.text = text

    def __init__(self, record: dict | None = None):
        super().__init__()
        self.record = record  # None: a new customer
        self.saving = False

    @property
    def t(self):
        return self.app.t

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        title = t("form.edit_title", code=self.record["code"]) if self.record else t("form.add_title")
        yield Label(title, id="form-title")
        yield Static("", id="form-error")
        with VerticalScroll(id="form"):
            for name in FIELDS:
                with Horizontal(classes="form-row", id=f"row-{name}"):
                    yield Label(t(f"field.{name}") + (" *" if name in REQUIRED else ""), classes="form-label")
                    value = shown(self.record, name) if self.record else ""
                    if name == "terms":
                        yield terms_picker(self.app, value)
                    elif name == "currency":
                        yield currency_picker(self.app, value)
                    else:
                        yield Input(value, id=f"field-{name}", compact=True)
                yield Static("", id=f"error-{name}", classes="field-error")
        yield Footer()

    def on_mount(self) -> None:
        localise_bindings(self, self.t)
        self.refresh_bindings()
        self.query_one("#field-name" if self.record else "#field-code", Input).focus()
        self.remember_initial()

    def form_checks(self) -> dict:
        need = self.t("dialog.required")
        currency = (self.values().get("currency") or "").strip() or (self.record or {}).get("currency") or "CNY"

        def limit(text: str) -> None:
            money.parse_amount(text, money.check_currency(currency) if len(currency) == 3 else "CNY",
                               field="credit limit")
        return {"code": required(need), "name": required(need), "email": validate.email, "phone": validate.phone,
                "currency": money.check_currency, "credit_limit": limit}

    def values(self) -> dict[str, str]:
        return {name: self.query_one(f"#field-{name}", Input).value for name in FIELDS}

    def _clear_errors(self) -> None:
        self.query_one("#form-error", Static).update("")
        for name in FIELDS:
            self.query_one(f"#error-{name}", Static).update("")
            self.query_one(f"#error-{name}", Static).remove_class("shown")
            self.query_one(f"#row-{name}").remove_class("invalid")

    def action_save(self) -> None:
        if self.saving:
            return
        self._clear_errors()
        if not self.checks_pass():
            return
        values = self.values()
        if self.record is None:
            fields = {k: v.strip() for k, v in values.items() if v.strip()}
            self.saving = True
            self.save_new(values["code"], values["name"], fields)
        else:
            changed = {k: v.strip() for k, v in values.items() if v.strip() != shown(self.record, k)}
            if not changed:
                self.notify(self.t("form.unchanged"))
                self.dismiss(self.record["code"])
                return
            self.saving = True
            self.save_changes(self.record["code"], changed)

    @work(exclusive=True, exit_on_error=False, group="save-customer")
    async def save_new(self, code: str, name: str, fields: dict) -> None:
        fields = {k: v for k, v in fields.items() if k not in ("code", "name")}
        try:
            await self.app.db.run(customers.add, code, name, **fields)
        except DulyError as exc:
            self.post_message(self.Rejected(field_of(exc), self.app.t.error(exc)))
            return
        self.post_message(self.Saved(code.strip(), None))

    @work(exclusive=True, exit_on_error=False, group="save-customer")
    async def save_changes(self, code: str, fields: dict) -> None:
        try:
            changed = await self.app.db.run(customers.edit, code, **fields)
        except DulyError as exc:
            self.post_message(self.Rejected(field_of(exc), self.app.t.error(exc)))
            return
        self.post_message(self.Saved(fields.get("code", code), sorted(changed)))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "save-customer" and event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self.saving = False
        if event.state == WorkerState.ERROR:
            self.app.notify_error(event.worker.error)

    @on(Saved)
    def saved(self, message: Saved) -> None:
        self.saving = False
        self.app.ledger_changed()
        t = self.t
        if message.changed is None:
            self.notify(t("form.saved_add", code=message.code))
        elif message.changed:
            self.notify(t("form.saved_edit", code=message.code, fields=", ".join(message.changed)))
        else:
            self.notify(t("form.unchanged"))
        self.dismiss(message.code)

    @on(Rejected)
    def rejected(self, message: Rejected) -> None:
        """Keep every value; say what is wrong next to the field and put the cursor there."""
        self.saving = False
        self.query_one("#form-error", Static).update(self.t("form.fix"))
        if message.field:
            self.query_one(f"#error-{message.field}", Static).update(message.text)
            self.query_one(f"#error-{message.field}", Static).add_class("shown")
            self.query_one(f"#row-{message.field}").add_class("invalid")
            field = self.query_one(f"#field-{message.field}", Input)
            field.focus()
            self.query_one("#form", VerticalScroll).scroll_to_widget(field)
        else:
            self.query_one("#form-error", Static).update(message.text)
