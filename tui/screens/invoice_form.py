"""Issue an invoice: customer, date, an amount or lines, terms; the due dates the terms give are previewed
before anything is saved. A wrong field is marked and nothing typed is lost (nothing is written either)."""
from __future__ import annotations

from rich.table import Table
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Header, Input, Label, Static, TextArea

from store.read import views
from store.write import invoices
from store.errors import DulyError, NotFound
from store.rules.money import format_amount
from store.rules import money, validate
from tui.screens.base import DulyScreen
from tui.screens.form_manners import FormManners, positive_amount, required
from tui.widgets.picker import Picker, currency_picker, customer_picker, terms_picker

FIELDS = ("customer", "date", "amount", "terms", "currency", "description")
# InvalidInput.field (or what a message names) -> the form field it is about
ERROR_FIELDS = {"amount": "amount", "invoice date": "date", "date": "date", "due": "terms", "line": "lines",
                "terms": "terms", "customer": "customer", "currency": "currency"}


def field_of(error: DulyError) -> str:
    field = getattr(error, "field", None)
    if field in ERROR_FIELDS:
        return ERROR_FIELDS[field]
    text = str(error)
    if isinstance(error, NotFound) and "customer" in text:
        return "customer"
    if "terms" in text:
        return "terms"
    if text.startswith("line ") or "price" in text:
        return "lines"
    return "amount"


class InvoiceFormScreen(FormManners, DulyScreen):
    """Dismisses with the new invoice's number, or None when cancelled."""
    NAVIGATES = False  # digits type; the app's screen keys do not leave a form
    FORM_FIELDS = FIELDS

    BINDINGS = [
        Binding("ctrl+s", "save", "Issue", id="save"),
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]

    class Previewed(Message):
        def __init__(self, preview: views.InvoicePreview | None, error: str | None):
            super().__init__()
            self.preview = preview
            self.error = error

    class Saved(Message):
        def __init__(self, issued: invoices.Issued):
            super().__init__()
            self.issued = issued

    class Rejected(Message):
        def __init__(self, field: str, text: str):
            super().__init__()
            self.field = field
            self.text = text

    def __init__(self, customer: str = ""):
        super().__init__()
        self.customer = customer
        self.saving = False

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        yield Label(t("invf.title"), id="form-title")
        yield Static("", id="form-error")
        with VerticalScroll(id="form"):
            for name in FIELDS:
                with Horizontal(classes="form-row", id=f"row-{name}"):
                    yield Label(t(f"invf.{name}"), classes="form-label")
                    value = self.customer if name == "customer" else (
                        self.app.today().isoformat() if name == "date" else "")
                    yield self._field(name, value)
                yield Static("", id=f"error-{name}", classes="field-error")
            with Horizontal(classes="form-row lines-row", id="row-lines"):
                yield Label(t("invf.lines"), classes="form-label")
                yield TextArea(id="field-lines", soft_wrap=False, show_line_numbers=False)
            yield Static("", id="error-lines", classes="field-error")
            yield Static(t("invf.lines.hint"), classes="dim form-hint")
            yield Label(t("invf.preview"), classes="section")
            yield Static("", id="invoice-preview")
        yield Footer()

    def _field(self, name: str, value: str):
        t = self.t
        hint = t(f"invf.{name}.hint") if t.has(f"invf.{name}.hint") else ""
        if name == "customer":
            return customer_picker(self.app, value, placeholder=hint)
        if name == "terms":
            return terms_picker(self.app, value, placeholder=hint,
                                invoice_date=lambda: self.query_one("#field-date", Input).value)
        if name == "currency":
            return currency_picker(self.app, value, placeholder=hint)
        return Input(value, id=f"field-{name}", compact=True, placeholder=hint)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#field-amount" if self.customer else "#field-customer", Input).focus()
        self.remember_initial()

    def form_checks(self) -> dict:
        return {"customer": required(self.t("dialog.required")), "date": lambda text: validate.iso_date(text, "date"),
                "amount": positive_amount, "currency": money.check_currency}

    def reload(self) -> None:
        super().reload()
        self._preview()

    def values(self) -> dict:
        found = {name: self.query_one(f"#field-{name}", Input).value.strip() for name in FIELDS}
        found["lines"] = [line.strip() for line in self.query_one("#field-lines", TextArea).text.splitlines()
                          if line.strip()]
        return found

    # -- the due-date preview --------------------------------------------------------------------
    @on(Input.Changed)
    @on(TextArea.Changed)
    def changed(self, event) -> None:
        if getattr(event, "input", None) is not None and event.input.id == "field-date":
            self.query_one("#picker-terms", Picker).refresh_detail()  # the due dates follow the date
        self._preview()

    def _preview(self) -> None:
        v = self.values()
        if v["customer"] and v["date"] and (v["amount"] or v["lines"]):
            self.preview(v)
        else:
            self.query_one("#invoice-preview", Static).update(self.t("invf.preview_needs"))

    @work(exclusive=True, exit_on_error=False, group="invoice-preview")
    async def preview(self, v: dict) -> None:
        try:
            found = await self.db(views.invoice_preview, v["customer"], v["date"], amount=v["amount"] or None,
                                  lines=v["lines"] or None, terms_name=v["terms"] or None,
                                  currency=v["currency"] or None)
        except DulyError as exc:
            self.post_message(self.Previewed(None, self.app.t.error(exc)))
            return
        self.post_message(self.Previewed(found, None))

    @on(Previewed)
    def previewed(self, message: Previewed) -> None:
        t, p = self.t, message.preview
        shown = self.query_one("#invoice-preview", Static)
        if p is None:
            shown.update(f"[dim]{message.error}[/]")
            return
        table = Table(box=None, padding=(0, 2), header_style="bold")
        table.add_column(t("col.due"))
        table.add_column(t("col.amount"), justify="right")
        for when, amount in p.schedule:
            table.add_row(when.isoformat(), format_amount(amount, p.currency))
        table.caption = t("invf.preview_line", name=p.name, terms=p.terms,
                          total=format_amount(p.total, p.currency), currency=p.currency)
        table.caption_justify = "left"
        shown.update(table)

    # -- saving ----------------------------------------------------------------------------------
    def _clear_errors(self) -> None:
        self.query_one("#form-error", Static).update("")
        for name in (*FIELDS, "lines"):
            self.query_one(f"#error-{name}", Static).update("")
            self.query_one(f"#error-{name}", Static).remove_class("shown")
            self.query_one(f"#row-{name}").remove_class("invalid")

    def action_save(self) -> None:
        if self.saving:
            return
        self._clear_errors()
        if not self.checks_pass():
            return
        self.saving = True
        self.save(self.values())

    @work(exclusive=True, exit_on_error=False, group="save-invoice")
    async def save(self, v: dict) -> None:
        try:
            issued = await self.db(invoices.add, v["customer"], v["date"], amount=v["amount"] or None,
                                   lines=v["lines"] or None, terms=v["terms"] or None,
                                   currency=v["currency"] or None, description=v["description"] or None)
        except DulyError as exc:
            self.post_message(self.Rejected(field_of(exc), self.app.t.error(exc)))
            return
        finally:
            self.saving = False
        self.post_message(self.Saved(issued))

    @on(Saved)
    def saved(self, message: Saved) -> None:
        issued = message.issued
        self.app.ledger_changed()
        self.notify(self.t("invf.saved", number=issued.number,
                           total=format_amount(issued.total, issued.currency), currency=issued.currency))
        for warning in issued.warnings:
            self.notify(self.t.error(warning), severity="warning", timeout=10)
        self.dismiss(issued.number)

    @on(Rejected)
    def rejected(self, message: Rejected) -> None:
        self.query_one("#form-error", Static).update(self.t("form.fix"))
        self.query_one(f"#error-{message.field}", Static).update(message.text)
        self.query_one(f"#error-{message.field}", Static).add_class("shown")
        self.query_one(f"#row-{message.field}").add_class("invalid")
        field = self.query_one(f"#field-{message.field}")
        field.focus()
        self.query_one("#form", VerticalScroll).scroll_to_widget(field)
