"""Record a payment (收款) and allocate it (核销): the customer's open items come up with the store's
oldest-due-first suggestion; Enter on a row changes its amount; what is left stays unapplied."""
from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Header, Input, Label, Static

from store.read import views
from store.rules import money
from store.write import payments
from store.errors import DulyError, NotFound
from store.rules.money import format_amount
from store.rules import validate
from tui.screens.base import DulyScreen
from tui.screens.form_manners import FormManners, positive_amount, required
from tui.widgets.cells import amount_cell
from tui.widgets.picker import currency_picker, customer_picker
from tui.screens.prompt import PromptScreen
from tui.widgets.table import DataTable

FIELDS = ("customer", "date", "amount", "currency", "method", "reference")
ERROR_FIELDS = {"amount": "amount", "payment date": "date", "date": "date", "method": "method",
                "allocate": "amount", "customer": "customer", "currency": "currency"}


class PaymentFormScreen(FormManners, DulyScreen):
    """Dismisses with the new payment's id, or None when cancelled."""
    NAVIGATES = False  # digits type; the app's screen keys do not leave a form
    FORM_FIELDS = FIELDS

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="save"),
        Binding("ctrl+o", "suggest", "Oldest due first", id="suggest"),
        Binding("ctrl+l", "clear_allocations", "Leave unapplied", id="clear_allocations"),
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]

    class Planned(Message):
        def __init__(self, plan: views.PaymentPlan | None, error: str | None):
            super().__init__()
            self.plan = plan
            self.error = error

    class Saved(Message):
        def __init__(self, applied: payments.Applied):
            super().__init__()
            self.applied = applied

    class Rejected(Message):
        def __init__(self, field: str, text: str):
            super().__init__()
            self.field = field
            self.text = text

    def __init__(self, customer: str = ""):
        super().__init__()
        self.customer = customer
        self.plan: views.PaymentPlan | None = None
        self.chosen: dict[str, int] = {}  # invoice number -> amount to apply
        self.saving = False

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        yield Label(t("payf.title"), id="form-title")
        yield Static("", id="form-error")
        with VerticalScroll(id="form"):
            for name in FIELDS:
                with Horizontal(classes="form-row", id=f"row-{name}"):
                    yield Label(t(f"payf.{name}"), classes="form-label")
                    value = {"customer": self.customer, "date": self.app.today().isoformat(),
                             "method": t("method.bank_transfer")}.get(name, "")  # in words: 银行转账
                    if name == "customer":
                        yield customer_picker(self.app, value)
                    elif name == "currency":
                        yield currency_picker(self.app, value, placeholder=t("payf.currency.hint"))
                    else:
                        yield Input(value, id=f"field-{name}", compact=True)
                yield Static("", id=f"error-{name}", classes="field-error")
            yield Label(t("payf.allocate"), classes="section")
            yield DataTable(id="allocations", cursor_type="row", zebra_stripes=True)
            yield Static("", id="payment-status")
        yield Footer()

    def on_mount(self) -> None:
        t = self.t
        table = self.query_one("#allocations", DataTable)
        table.add_column(t("col.number"), key="number")
        table.add_column(t("col.due"), key="due")
        table.add_column(Text(t("col.open"), justify="right"), key="open")
        table.add_column(Text(t("col.apply"), justify="right"), key="apply")
        super().on_mount()
        self.query_one("#field-amount" if self.customer else "#field-customer", Input).focus()
        self.remember_initial()

    def form_checks(self) -> dict:
        return {"customer": required(self.t("dialog.required")), "date": lambda text: validate.iso_date(text, "date"),
                "amount": required(self.t("dialog.required"), positive_amount), "method": payments.method,
                "currency": money.check_currency}

    def reload(self) -> None:
        super().reload()
        self._plan()

    def values(self) -> dict:
        return {name: self.query_one(f"#field-{name}", Input).value.strip() for name in FIELDS}

    # -- the open items and the suggestion -------------------------------------------------------
    @on(Input.Changed, "#field-customer, #field-date, #field-amount, #field-currency")
    def changed(self) -> None:
        self._plan()

    def _plan(self) -> None:
        v = self.values()
        if v["customer"] and v["date"]:
            self.load_plan(v["customer"], v["date"], v["amount"], v["currency"])

    @work(exclusive=True, exit_on_error=False, group="payment-plan")
    async def load_plan(self, customer: str, on: str, amount: str, currency: str = "") -> None:
        try:
            plan = await self.db(views.payment_plan, customer, on, amount, currency or None)
        except DulyError as exc:
            self.post_message(self.Planned(None, self.app.t.error(exc)))
            return
        self.post_message(self.Planned(plan, None))

    @on(Planned)
    def planned(self, message: Planned) -> None:
        if message.plan is None:
            self.plan, self.chosen = None, {}
            self.query_one("#allocations", DataTable).clear()
            self.query_one("#payment-status", Static).update(f"[dim]{message.error}[/]")
            return
        self.plan = message.plan
        self.chosen = {item["number"]: item["suggested"] for item in self.plan.items}
        self._show()

    def _show(self) -> None:
        t, plan = self.t, self.plan
        table = self.query_one("#allocations", DataTable)
        cursor = table.cursor_row
        table.clear()
        if plan is None:
            return
        cur = plan.currency
        for item in plan.items:
            part = self.chosen.get(item["number"], 0)
            table.add_row(item["number"], item["due_date"].isoformat(), amount_cell(item["open"], cur),
                          amount_cell(part, cur, "bold green" if part else ""), key=item["number"])
        table.measure_now()
        if plan.items:
            table.move_cursor(row=min(cursor, len(plan.items) - 1))
        applied = sum(self.chosen.values())
        status = t("payf.status", name=plan.name, applied=format_amount(applied, cur),
                   unapplied=format_amount(plan.amount - applied, cur), currency=cur)
        if plan.unapplied_before:
            status += "\n" + t("payf.credit_before", amount=format_amount(plan.unapplied_before, cur), currency=cur)
        if not plan.items:
            status += "\n" + t("payf.nothing_open")
        self.query_one("#payment-status", Static).update(status)

    @on(DataTable.RowSelected, "#allocations")
    def edit_row(self, event: DataTable.RowSelected) -> None:
        if self.plan is None:
            return
        number = str(event.row_key.value)
        cur = self.plan.currency
        self.app.push_screen(
            PromptScreen(self.t("payf.apply_to", number=number), money.to_decimal_str(self.chosen.get(number, 0), cur),
                         hint=self.t("payf.apply_hint")),
            lambda text: self._set(number, text))

    def _set(self, number: str, text: str | None) -> None:
        if text is None or self.plan is None:
            return
        try:
            self.chosen[number] = money.parse_amount(text, self.plan.currency, field=f"allocation to {number}")
        except DulyError as exc:
            self.notify(self.app.t.error(exc), severity="error", timeout=8)
            return
        self._show()

    def action_suggest(self) -> None:
        self._plan()

    def action_clear_allocations(self) -> None:
        self.chosen = {number: 0 for number in self.chosen}
        self._show()

    # -- saving ----------------------------------------------------------------------------------
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
        v = self.values()
        cur = self.plan.currency if self.plan else None
        pairs = [f"{number}={money.to_decimal_str(part, cur)}" for number, part in self.chosen.items() if part]
        self.saving = True
        self.save(v, pairs)

    @work(exclusive=True, exit_on_error=False, group="save-payment")
    async def save(self, v: dict, pairs: list[str]) -> None:
        try:
            applied = await self.db(payments.add, v["customer"], v["date"], v["amount"],
                                    method_name=v["method"] or None, reference=v["reference"] or None,
                                    currency=v["currency"] or None,
                                    allocate=pairs or None, auto=bool(pairs))
        except DulyError as exc:
            field = ERROR_FIELDS.get(getattr(exc, "field", None) or "", "amount")
            if isinstance(exc, NotFound) and "customer" in str(exc):
                field = "customer"
            self.post_message(self.Rejected(field, self.app.t.error(exc)))
            return
        finally:
            self.saving = False
        self.post_message(self.Saved(applied))

    @on(Saved)
    def saved(self, message: Saved) -> None:
        a = message.applied
        self.app.ledger_changed()
        self.notify(self.t("payf.saved", amount=format_amount(a.amount, a.currency), currency=a.currency,
                           count=len(a.allocations), unapplied=format_amount(a.unapplied, a.currency)))
        self.dismiss(a.id)

    @on(Rejected)
    def rejected(self, message: Rejected) -> None:
        self.query_one("#form-error", Static).update(self.t("form.fix"))
        self.query_one(f"#error-{message.field}", Static).update(message.text)
        self.query_one(f"#error-{message.field}", Static).add_class("shown")
        self.query_one(f"#row-{message.field}").add_class("invalid")
        self.query_one(f"#field-{message.field}", Input).focus()
