"""One customer's archive (客户档案): details, contacts and the change history of every field."""
from __future__ import annotations

from rich.table import Table
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Label, Static

from store import customers
from store.money import format_amount
from tui.screens.base import DulyScreen
from tui.screens.customer_form import FIELDS, CustomerFormScreen


def archive_data(ledger, code: str) -> tuple[dict, list[dict], list[dict]]:
    """(record, contacts, field history) of one customer (runs on the database thread)."""
    record = customers.by_code(ledger, code)
    return record, customers.contacts(ledger, record["id"]), customers.history(ledger, record["id"])


class CustomerScreen(DulyScreen):
    BINDINGS = [
        Binding("e", "edit", "Edit", id="edit"),
        Binding("escape", "back", "Back", id="back"),
        Binding("r", "refresh", "Refresh", id="refresh"),
    ]

    class Loaded(Message):
        def __init__(self, record: dict, contacts: list[dict], history: list[dict]):
            super().__init__()
            self.record = record
            self.contacts = contacts
            self.history = history

    def __init__(self, code: str):
        super().__init__()
        self.code = code
        self.record: dict | None = None

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        yield Label(t("arch.title", code=self.code), id="archive-title")
        with Horizontal(id="archive"):
            with VerticalScroll(id="archive-details"):
                yield Label(t("arch.details"), classes="section")
                yield Static(t("dash.loading"), id="details")
            with Vertical(id="archive-side"):
                yield Label(t("arch.contacts"), classes="section")
                yield DataTable(id="contacts", cursor_type="row")
                yield Label(t("arch.history"), classes="section")
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
        super().on_mount()

    def reload(self) -> None:
        super().reload()
        self.load(self.code)

    @work(exclusive=True, exit_on_error=False, group="customer")
    async def load(self, code: str) -> None:
        self.post_message(self.Loaded(*await self.app.db.run(archive_data, code)))

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
            details.add_row(t(f"field.{name}"), "" if value is None else str(value))
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

    def action_back(self) -> None:
        self.dismiss()

    def action_refresh(self) -> None:
        self.reload()
