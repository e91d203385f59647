"""One customer's archive (客户档案): details and contacts, open items and unapplied credit, payment history,
a statement preview (对账单) and the change history of every field, one tab each."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Header, Label, Markdown, Static, TabbedContent, TabPane

from store.files.documents import render
from store.read import statements
from store.write import customers, payments
from store.errors import DulyError
from store.rules.money import format_amount
from tui.screens.base import DulyScreen
from tui.screens.customer_form import FIELDS, CustomerFormScreen
from tui.widgets.table import DataTable, literal


PAYMENTS_SHOWN = 100


@dataclass
class Archive:
    record: dict
    contacts: list[dict]
    history: list[dict]
    statement: dict
    payments: list[dict] = field(default_factory=list)


def archive_data(ledger, code: str, as_of: date) -> Archive:
    """Everything the archive shows (runs on the database thread): the statement of what is outstanding as
    of the date holds the open items and unapplied credit per currency."""
    record = customers.by_code(ledger, code)
    return Archive(record, customers.contacts(ledger, record["id"]), customers.history(ledger, record["id"]),
                   statements.statement_of_account(ledger, record["id"], as_of=as_of),
                   payments.listing(ledger, customer_code=record["code"], limit=PAYMENTS_SHOWN))


class CustomerScreen(DulyScreen):
    BINDINGS = [
        Binding("e", "edit", "Edit", id="edit"),
        Binding("n", "new_invoice", "New invoice", id="new_invoice"),
        Binding("p", "new_payment", "Record payment", id="record_payment"),
        Binding("u", "apply_credit", "Apply credit", id="apply_credit"),
        Binding("R", "recurring", "Recurring", id="recurring"),
        Binding("escape", "back", "Back", id="back"),
        Binding("r", "refresh", "Refresh", id="refresh"),
    ]

    class Loaded(Message):
        def __init__(self, archive: Archive):
            super().__init__()
            self.archive = archive
            self.record = archive.record
            self.contacts = archive.contacts
            self.history = archive.history

    class Applied(Message):
        def __init__(self, text: str, error: bool):
            super().__init__()
            self.text = text
            self.error = error

    def __init__(self, code: str):
        super().__init__()
        self.code = code
        self.record: dict | None = None

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        yield Label(t("arch.title", code=self.code), id="archive-title")
        with TabbedContent(id="archive-tabs"):
            with TabPane(t("arch.details"), id="tab-details"):
                with Horizontal(id="archive"):
                    with VerticalScroll(id="archive-details"):
                        yield Static(t("dash.loading"), id="details")
                    with Vertical(id="archive-side"):
                        yield Label(t("arch.contacts"), classes="section")
                        yield DataTable(id="contacts", cursor_type="row")
            with TabPane(t("arch.open_items"), id="tab-open"):
                yield Static("", id="archive-balance")
                yield DataTable(id="open-items", cursor_type="row", zebra_stripes=True)
            with TabPane(t("arch.payments"), id="tab-payments"):
                yield DataTable(id="archive-payments", cursor_type="row", zebra_stripes=True)
            with TabPane(t("arch.statement"), id="tab-statement"):
                with VerticalScroll(id="statement-scroll"):
                    yield Markdown("", id="statement")
            with TabPane(t("arch.history"), id="tab-history"):
                yield DataTable(id="history", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        t = self.t
        contacts = self.query_one("#contacts", DataTable)
        for key in ("name", "role", "phone", "email", "wechat"):
            contacts.add_column(t(f"col.{key}"), key=key)
        history = self.query_one("#history", DataTable)
        for key in ("when", "field", "old", "new", "who"):
            history.add_column(t(f"col.{key}"), key=key)
        items = self.query_one("#open-items", DataTable)
        for key in ("number", "date", "due", "days_overdue", "currency"):
            items.add_column(t(f"col.{key}"), key=key)
        items.add_column(Text(t("col.open"), justify="right"), key="open")
        paid = self.query_one("#archive-payments", DataTable)
        for key in ("date", "method", "reference", "currency"):
            paid.add_column(t(f"col.{key}"), key=key)
        for key in ("amount", "applied", "unapplied"):
            paid.add_column(Text(t(f"col.{key}"), justify="right"), key=key)
        paid.add_column(t("col.status"), key="status")
        super().on_mount()

    def reload(self) -> None:
        super().reload()
        self.load(self.code)

    @work(exclusive=True, exit_on_error=False, group="customer")
    async def load(self, code: str) -> None:
        self.post_message(self.Loaded(await self.db(archive_data, code, self.app.today())))

    @on(Loaded)
    def show(self, message: Loaded) -> None:
        t, record = self.t, message.record
        self.record = record
        title = t("arch.title", code=record["code"]) + (f"  [{t('arch.archived')}]" if record["archived"] else "")
        self.query_one("#archive-title", Label).update(title)
        details = Table(box=None, show_header=False, padding=(0, 1))
        details.add_column(style="bold", no_wrap=True)
        details.add_column()
        for name in FIELDS:
            value = record.get(name)
            if name == "credit_limit" and value is not None:
                value = format_amount(value, record["currency"] or "CNY")
            details.add_row(t(f"field.{name}"), literal("" if value is None else str(value)))
        self.query_one("#details", Static).update(details)
        contacts = self.query_one("#contacts", DataTable)
        contacts.clear()
        for c in message.contacts:
            contacts.add_row(*(c.get(k) or "" for k in ("name", "role", "phone", "email", "wechat")), key=c["id"])
        history = self.query_one("#history", DataTable)
        history.clear()
        for h in reversed(message.history):  # newest first
            name = t(f"field.{h['field']}") if h["tbl"] == "customers" else f"{t('arch.contacts')}.{h['field']}"
            old, new = (self._value(h["field"], v, record) for v in (h["old"], h["new"]))
            history.add_row((h["at"] or "")[:16].replace("T", " "), name, old, new, h["actor"] or "")
        self._show_money(message.archive)

    def _show_money(self, archive: Archive) -> None:
        t, stmt = self.t, archive.statement
        items = self.query_one("#open-items", DataTable)
        items.clear()
        lines = []
        for section in stmt["sections"]:
            cur = section["currency"]
            for it in section["open_items"]:
                late = it["days_overdue"] > 0
                items.add_row(it["number"], it["date"].isoformat(), it["due_date"].isoformat(),
                              Text(str(it["days_overdue"]) if late else "", style="red", justify="right"), cur,
                              Text(format_amount(it["open_amount"], cur), justify="right", style="red" if late else ""),
                              key=f"{it['number']}/{it['due_date']}")
            lines.append(t("arch.balance_line", currency=cur, balance=format_amount(section["closing_balance"], cur),
                           unapplied=format_amount(section["unapplied"], cur)))
        self.query_one("#archive-balance", Static).update("\n".join(lines) or t("arch.nothing_open"))
        paid = self.query_one("#archive-payments", DataTable)
        paid.clear()
        for p in archive.payments:
            cur = p["currency"]
            paid.add_row(p["date"], t(f"method.{p['method']}"), p["reference"] or "", cur,
                         *(Text(format_amount(p[k], cur), justify="right") for k in ("amount", "applied", "unapplied")),
                         t(f"status.{p['status']}"), key=p["id"])
        self.query_one("#statement", Markdown).update(render.statement_markdown(stmt, self.t.language))

    @staticmethod
    def _value(field: str, value, record: dict) -> str:
        if value in (None, "", "null"):
            return ""
        if field == "credit_limit" and str(value).lstrip("-").isdigit():
            return format_amount(int(value), record["currency"] or "CNY")
        return str(value)

    def action_edit(self) -> None:
        if self.record is not None:
            self.app.push_screen(CustomerFormScreen(self.record), self._edited)

    def _edited(self, code: str | None) -> None:
        if code:
            self.code = code

    def action_new_invoice(self) -> None:
        from tui.screens.invoice_form import InvoiceFormScreen

        if self.record is not None:
            self.app.push_screen(InvoiceFormScreen(self.record["code"]), lambda _n: None)

    def action_new_payment(self) -> None:
        from tui.screens.payment_form import PaymentFormScreen

        if self.record is not None:
            self.app.push_screen(PaymentFormScreen(self.record["code"]), lambda _n: None)

    def action_recurring(self) -> None:
        from tui.screens.recurring import RecurringScreen

        if self.record is not None:
            self.app.push_screen(RecurringScreen(self.record["code"]))

    def action_apply_credit(self) -> None:
        if self.record is not None:
            self.apply_credit(self.record["code"], self.app.today().isoformat())

    @work(exclusive=True, exit_on_error=False, group="apply-credit")
    async def apply_credit(self, code: str, on: str) -> None:
        """Unapplied cash and credit notes go to the open items, oldest due first (store.write.payments.allocate)."""
        try:
            done = await self.db(payments.allocate, customer_code=code, on=on)
        except DulyError as exc:
            self.post_message(self.Applied(str(exc), True))
            return
        count = sum(len(a.allocations) for a in done)
        total = sum(part for a in done for _, part in a.allocations)
        cur = done[0].currency if done else ""
        self.post_message(self.Applied(self.t("arch.applied", count=count, amount=format_amount(total, cur),
                                              currency=cur), False))

    @on(Applied)
    def applied(self, message: Applied) -> None:
        if message.error:
            self.notify(message.text, severity="warning", timeout=8)
            return
        self.app.ledger_changed()
        self.notify(message.text)
        self.reload()

    @on(DataTable.RowSelected, "#open-items")
    def open_invoice(self, event: DataTable.RowSelected) -> None:
        from tui.screens.invoice import InvoiceScreen

        number = str(event.row_key.value).rsplit("/", 1)[0]
        if not number.startswith("("):
            self.app.push_screen(InvoiceScreen(number))

    def action_back(self) -> None:
        self.dismiss()

    def action_refresh(self) -> None:
        self.reload()
