"""One invoice: header, lines, instalments (open per instalment), what was applied to it; void with a reason."""
from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Header, Label, Static

from store.write import invoices
from store.errors import DulyError
from store.rules.money import format_amount
from tui.screens.base import DulyScreen
from tui.widgets.cells import amount_cell
from tui.screens.prompt import PromptScreen
from tui.widgets.table import DataTable


class InvoiceScreen(DulyScreen):
    BINDINGS = [
        Binding("v", "void", "Void", id="void_invoice"),
        Binding("p", "pay", "Record payment", id="record_payment"),
        Binding("escape", "back", "Back", id="back"),
        Binding("r", "refresh", "Refresh", id="refresh"),
    ]

    class Loaded(Message):
        def __init__(self, detail: dict):
            super().__init__()
            self.detail = detail

    class Voided(Message):
        def __init__(self, error: str | None):
            super().__init__()
            self.error = error

    def __init__(self, number: str):
        super().__init__()
        self.number = number
        self.detail: dict | None = None

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        yield Label(t("invd.title", number=self.number), id="invoice-title")
        with VerticalScroll(id="invoice"):
            yield Static(t("dash.loading"), id="invoice-head")
            yield Label(t("invd.lines"), classes="section")
            yield DataTable(id="invoice-lines", cursor_type="row")
            yield Label(t("invd.due_items"), classes="section")
            yield DataTable(id="invoice-due", cursor_type="row")
            yield Label(t("invd.applied"), classes="section")
            yield DataTable(id="invoice-applied", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        t = self.t
        lines = self.query_one("#invoice-lines", DataTable)
        lines.add_column(t("col.description"), key="description")
        lines.add_column(Text(t("col.qty"), justify="right"), key="qty")
        for key in ("unit_price", "tax", "amount"):
            lines.add_column(Text(t(f"col.{key}"), justify="right"), key=key)
        due = self.query_one("#invoice-due", DataTable)
        due.add_column(t("col.due"), key="due")
        due.add_column(Text(t("col.amount"), justify="right"), key="amount")
        due.add_column(Text(t("col.open"), justify="right"), key="open")
        applied = self.query_one("#invoice-applied", DataTable)
        applied.add_column(t("col.date"), key="date")
        applied.add_column(t("col.source"), key="source")
        applied.add_column(Text(t("col.amount"), justify="right"), key="amount")
        super().on_mount()

    def reload(self) -> None:
        super().reload()
        self.load(self.number)

    @work(exclusive=True, exit_on_error=False, group="invoice")
    async def load(self, number: str) -> None:
        self.post_message(self.Loaded(await self.db(invoices.detail, number)))

    @on(Loaded)
    def show(self, message: Loaded) -> None:
        t, d = self.t, message.detail
        self.detail = d
        inv, cur = d["invoice"], d["invoice"]["currency"]
        head = Table(box=None, show_header=False, padding=(0, 1))
        head.add_column(style="bold", no_wrap=True)
        head.add_column()
        status = t(f"status.{inv['status']}")
        if d["void"]:
            status += f"  {d['void']['date']}: {d['void']['reason']}"
        for key, value in (("customer", f"{inv['customer']}  {inv['customer_name'] or ''}"),
                           ("date", inv["date"]), ("due", inv["due_date"]), ("terms", inv["terms"] or ""),
                           ("total", format_amount(inv["total"], cur) + f" {cur}"),
                           ("tax", format_amount(inv["tax"] or 0, cur)),
                           ("open", format_amount(inv["open"], cur)), ("status", status),
                           ("description", inv["description"] or "")):
            head.add_row(t(f"col.{key}"), str(value))
        self.query_one("#invoice-head", Static).update(head)
        lines = self.query_one("#invoice-lines", DataTable)
        lines.clear()
        for line in d["lines"]:
            lines.add_row(line["description"], Text(line["qty"], justify="right"),
                          amount_cell(line["unit_price"], cur), amount_cell(line["tax"], cur),
                          amount_cell(line["amount"] + line["tax"], cur))
        due = self.query_one("#invoice-due", DataTable)
        due.clear()
        for item in d["due_items"]:
            due.add_row(item["due_date"], amount_cell(item["amount"], cur), amount_cell(item["open"], cur))
        applied = self.query_one("#invoice-applied", DataTable)
        applied.clear()
        for a in d["allocations"]:
            source = t("invd.payment") if a["source"] == "payment" else f"{t('invd.credit')} {a['credit_note'] or ''}"
            applied.add_row(a["date"], source, amount_cell(a["amount"], cur))
        for w in d["writeoffs"]:
            applied.add_row(w["date"], f"{t('invd.writeoff')} {w['reason'] or ''}", amount_cell(w["amount"], cur))

    # -- actions ---------------------------------------------------------------------------------
    def action_void(self) -> None:
        self.app.push_screen(PromptScreen(self.t("invd.void_reason", number=self.number),
                                          hint=self.t("invd.void_hint")), self._void_with)

    def _void_with(self, reason: str | None) -> None:
        if reason:
            self.void(reason)

    @work(exclusive=True, exit_on_error=False, group="void-invoice")
    async def void(self, reason: str) -> None:
        today = self.app.today().isoformat()
        on = max(today, self.detail["invoice"]["date"]) if self.detail else today
        try:
            await self.db(invoices.void, self.number, reason, on)
        except DulyError as exc:
            self.post_message(self.Voided(self.app.t.error(exc)))
            return
        self.post_message(self.Voided(None))

    @on(Voided)
    def voided(self, message: Voided) -> None:
        if message.error:
            self.notify(message.error, severity="error", timeout=8)
            return
        self.app.ledger_changed()
        self.notify(self.t("invd.voided", number=self.number))
        self.reload()

    def action_pay(self) -> None:
        from tui.screens.payment_form import PaymentFormScreen

        if self.detail:
            self.app.push_screen(PaymentFormScreen(self.detail["invoice"]["customer"] or ""),
                                 lambda _done: self.reload())

    def action_back(self) -> None:
        self.dismiss()

    def action_refresh(self) -> None:
        self.reload()
