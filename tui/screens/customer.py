"""One customer's archive (客户档案): details and contacts, open items and unapplied credit, payment history,
the communications log, the credit score with its reasons, a statement preview (对账单) and the change history
of every field, one tab each. Its jobs: edit, contacts add / edit / remove, archive / unarchive, log a contact
with the next follow-up, a new invoice or payment, apply unapplied money."""
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
from store.errors import DulyError
from store.read import credit, reports, statements
from store.rules import validate
from store.write import collections, customers, payments
from store.rules.money import format_amount
from tui.screens.base import DulyScreen
from tui.screens.apply import ApplyScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.dialog_form import DialogForm, Field
from tui.screens.customer_form import FIELDS, CustomerFormScreen
from tui.widgets.bars import BarRow, Bars
from tui.widgets.table import DataTable, literal


PAYMENTS_SHOWN = 100
LATENESS_SHOWN = 12  # the last paid invoices drawn on the credit tab, days late at payment


@dataclass
class Archive:
    record: dict
    contacts: list[dict]
    history: list[dict]
    statement: dict
    payments: list[dict] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)


def archive_data(ledger, code: str, as_of: date) -> Archive:
    """Everything the archive shows (runs on the database thread): the statement of what is outstanding as
    of the date holds the open items and unapplied credit per currency."""
    record = customers.by_code(ledger, code)
    return Archive(record, customers.contacts(ledger, record["id"]), customers.history(ledger, record["id"]),
                   statements.statement_of_account(ledger, record["id"], as_of=as_of),
                   payments.listing(ledger, customer_code=record["code"], limit=PAYMENTS_SHOWN),
                   collections.list_notes(ledger, record["code"]))


def credit_score(ledger, code: str, as_of: date):
    """The customer's credit score with its factors (scores the book: an idle job), or None when it has none
    (archived with nothing open)."""
    return next((s for s in credit.scores(ledger, as_of) if s.facts.code == code), None)


def check_date(text: str) -> None:
    validate.iso_date(text, "date")


class CustomerScreen(DulyScreen):
    BINDINGS = [
        Binding("e", "edit", "Edit", id="edit"),
        Binding("n", "new_invoice", "New invoice", id="new_invoice"),
        Binding("p", "new_payment", "Record payment", id="record_payment"),
        Binding("a", "apply_credit", "Apply credit", id="apply_credit"),
        Binding("c", "add_contact", "Add contact", id="add_contact"),
        Binding("delete", "remove_contact", "Remove contact", id="remove_contact", key_display="Del"),
        Binding("l", "log_contact", "Log contact", id="log_contact"),
        Binding("s", "show_credit", "Credit score", id="show_credit"),
        Binding("x", "archive", "Archive", id="archive_customer"),
        Binding("R", "recurring", "Recurring", id="recurring"),
        Binding("escape", "back", "Back", id="back"),
        Binding("r", "refresh", "Refresh", id="refresh"),
    ]

    class Scored(Message):
        def __init__(self, found):
            super().__init__()
            self.found = found

    class Done(Message):
        def __init__(self, text: str, error: bool = False):
            super().__init__()
            self.text = text
            self.error = error

    class Loaded(Message):
        def __init__(self, archive: Archive):
            super().__init__()
            self.archive = archive
            self.record = archive.record
            self.contacts = archive.contacts
            self.history = archive.history

    def __init__(self, code: str):
        super().__init__()
        self.code = code
        self.record: dict | None = None
        self.contacts: list[dict] = []

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
            with TabPane(t("arch.notes"), id="tab-notes"):
                yield DataTable(id="archive-notes", cursor_type="row", zebra_stripes=True)
            with TabPane(t("arch.credit"), id="tab-credit"):
                with VerticalScroll():
                    yield Static(t("dash.loading"), id="credit-score")
                    yield Bars(t("dash.loading"), id="lateness-chart", classes="chart")
                    yield DataTable(id="credit-factors", cursor_type="row")
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
        for key in ("number", "date", "method", "reference", "currency"):
            paid.add_column(t(f"col.{key}"), key=key)
        for key in ("amount", "applied", "unapplied"):
            paid.add_column(Text(t(f"col.{key}"), justify="right"), key=key)
        paid.add_column(t("col.status"), key="status")
        notes = self.query_one("#archive-notes", DataTable)
        for key in ("date", "channel", "text", "next"):
            notes.add_column(t(f"arch.note.{key}"), key=key)
        factors = self.query_one("#credit-factors", DataTable)
        for key in ("factor", "weight", "value", "points"):
            factors.add_column(Text(t(f"arch.credit.{key}"), justify="right") if key in ("weight", "points")
                               else t(f"arch.credit.{key}"), key=key)
        super().on_mount()

    def reload(self) -> None:
        super().reload()
        self.load(self.code)

    @work(exclusive=True, exit_on_error=False, group="customer")
    async def load(self, code: str) -> None:
        self.post_message(self.Loaded(await self.db(archive_data, code, self.app.today())))
        self.score(code)
        self.lateness(code)

    @work(exclusive=True, exit_on_error=False, group="customer-credit")
    async def score(self, code: str) -> None:
        self.post_message(self.Scored(await self.app.db.run_idle(credit_score, code, self.app.today())))

    class Lateness(Message):
        def __init__(self, rows: list[dict]):
            super().__init__()
            self.rows = rows

    @work(exclusive=True, exit_on_error=False, group="customer-lateness")
    async def lateness(self, code: str) -> None:
        self.post_message(self.Lateness(await self.app.db.run_background(lateness_data, code, self.app.today())))

    @on(Lateness)
    def show_lateness(self, message: Lateness) -> None:
        """Days late at payment, one bar per invoice, oldest first: a payer who pays later and later shows
        longer bars further down (early or on time: no bar)."""
        t, rows = self.t, message.rows
        chart = self.query_one("#lateness-chart", Bars)
        if not rows:
            chart.show(t("arch.lateness.none"), [])
            return

        def days(n: int) -> str:
            return t("chart.days_late", days=n) if n > 0 else t("chart.days_early", days=-n) if n < 0 \
                else t("chart.on_time")

        chart.show(t("arch.lateness", count=len(rows)),
                   [BarRow(r["number"], ((r["days_late"], "red" if r["days_late"] > 30 else "yellow"),),
                           (days(r["days_late"]), r["paid"].isoformat()),
                           figure_style="" if r["days_late"] > 0 else "green") for r in rows],
                   columns=(t("chart.late"), t("chart.paid_on")))

    @on(Scored)
    def scored(self, message: Scored) -> None:
        t, found = self.t, message.found
        factors = self.query_one("#credit-factors", DataTable)
        factors.clear()
        if found is None:
            self.query_one("#credit-score", Static).update(t("arch.credit.none"))
            return
        self.query_one("#credit-score", Static).update(t(
            "arch.credit.line", score=found.score, rating=found.rating, policy=found.policy(self.app.language)))
        for f in found.factors:
            factors.add_row(t(f"credit.factor.{f.name}"), Text(str(f.weight), justify="right"), f.value,
                            Text("—" if f.points is None else str(f.points), justify="right"), key=f.name)

    @on(Loaded)
    def show(self, message: Loaded) -> None:
        t, record = self.t, message.record
        self.record = record
        title = t("arch.title", code=record["code"]) + f" · {record['name']}" + (
            f"  [{t('arch.archived')}]" if record["archived"] else "")
        self.query_one("#archive-title", Label).update(literal(title))
        self.contacts = message.contacts
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
            paid.add_row(p["number"] or "", p["date"], t(f"method.{p['method']}"), p["reference"] or "", cur,
                         *(Text(format_amount(p[k], cur), justify="right") for k in ("amount", "applied", "unapplied")),
                         t(f"status.{p['status']}"), key=p["id"])
        self.query_one("#statement", Markdown).update(render.statement_markdown(stmt, self.t.language))
        notes = self.query_one("#archive-notes", DataTable)
        notes.clear()
        for n in archive.notes:
            notes.add_row(n["at"], t(f"channel.{n['channel']}"), literal(n["text"]), n["next_action"] or "",
                          key=n["id"])

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
        """Unapplied cash and credit notes to the open invoices of one's choosing (oldest due first to start)."""
        if self.record is not None:
            code = self.record["code"]
            self.app.push_screen(ApplyScreen(code, self.app.today().isoformat(),
                                             title=self.t("apply.title", code=code)), self._applied)

    def _applied(self, text: str | None) -> None:
        if text:
            self.app.ledger_changed()
            self.notify(text, timeout=8)
            self.reload()

    # -- contacts, the log, archiving ----------------------------------------------------------------
    def _contact_fields(self, contact: dict | None) -> list[Field]:
        t, c = self.t, contact or {}
        return [Field("name", t("col.name"), c.get("name") or "", required=True),
                Field("role", t("col.role"), c.get("role") or ""),
                Field("phone", t("col.phone"), c.get("phone") or ""),
                Field("email", t("col.email"), c.get("email") or "", aliases=("e-mail",)),
                Field("wechat", t("col.wechat"), c.get("wechat") or "")]

    def action_add_contact(self) -> None:
        if self.record is None:
            return
        t, code = self.t, self.record["code"]

        async def save(v: dict) -> str:
            await self.db(customers.add_contact, code, v.pop("name"), **v)
            return t("arch.contact_added", code=code)

        self.app.push_screen(DialogForm(t("arch.contact_add_title", code=code), self._contact_fields(None), save),
                             self._done_text)

    def _contact(self) -> dict | None:
        table = self.query_one("#contacts", DataTable)
        if not table.row_count or self.record is None:
            return None
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        return next((c for c in self.contacts if c["id"] == key), None)

    @on(DataTable.RowSelected, "#contacts")
    def edit_contact(self, _event: DataTable.RowSelected) -> None:
        contact = self._contact()
        if contact is None:
            return
        t = self.t

        async def save(v: dict) -> str:
            await self.db(customers.edit_contact, contact["id"], **v)
            return t("arch.contact_saved", name=v["name"])

        self.app.push_screen(DialogForm(t("arch.contact_edit_title", name=contact["name"]),
                                        self._contact_fields(contact), save), self._done_text)

    def action_remove_contact(self) -> None:
        contact = self._contact()
        if contact is None:
            self.notify(self.t("arch.no_contact"), severity="warning")
            return
        t = self.t
        self.app.push_screen(ConfirmScreen(t("arch.contact_remove_q", name=contact["name"]),
                                           undo=t("arch.contact_remove_undo")),
                             lambda yes: yes and self.write(remove_contact, contact["id"], t))

    def action_log_contact(self) -> None:
        if self.record is None:
            return
        t, code = self.t, self.record["code"]
        fields = [
            Field("channel", t("arch.note.channel"), "phone", required=True,
                  choices=[(t(f"channel.{c}"), c) for c in collections.NOTE_CHANNELS]),
            Field("text", t("arch.note.text"), required=True, aliases=("--text",)),
            Field("date", t("arch.note.date"), self.app.today().isoformat(), required=True, check=check_date),
            Field("next", t("arch.note.next"), placeholder="YYYY-MM-DD", check=check_date),
        ]

        async def save(v: dict) -> str:
            await self.db(collections.add_note, code, v["channel"], v["text"], next_action=v["next"] or None,
                          on=v["date"])
            return t("arch.logged", code=code, next=v["next"] or "—")

        self.app.push_screen(DialogForm(t("arch.log_title", code=code), fields, save), self._logged)

    def _logged(self, text: str | None) -> None:
        if text:
            self._done_text(text)
            self.query_one("#archive-tabs", TabbedContent).active = "tab-notes"

    def action_show_credit(self) -> None:
        self.query_one("#archive-tabs", TabbedContent).active = "tab-credit"

    def action_archive(self) -> None:
        if self.record is None:
            return
        t, code, archived = self.t, self.record["code"], bool(self.record["archived"])
        question = t("arch.unarchive_q", code=code) if archived else t("arch.archive_q", code=code)
        self.app.push_screen(ConfirmScreen(question, undo=t("arch.archive_undo")),
                             lambda yes: yes and self.write(set_archived, code, not archived, t))

    @work(exit_on_error=False, group="customer-write")
    async def write(self, fn, *args) -> None:
        try:
            text = await self.db(fn, *args)
        except DulyError as exc:
            self.post_message(self.Done(exc.text(self.app.language), True))
            return
        self.post_message(self.Done(text))

    def _done_text(self, text: str | None) -> None:
        if text:
            self.post_message(self.Done(text))

    @on(Done)
    def done(self, message: Done) -> None:
        if message.error:
            self.notify(message.text, severity="error", timeout=8)
            return
        self.app.ledger_changed()
        self.notify(message.text, timeout=8)
        self.reload()

    @on(DataTable.RowSelected, "#archive-payments")
    def open_payment(self, event: DataTable.RowSelected) -> None:
        from tui.screens.payment import PaymentScreen

        self.app.push_screen(PaymentScreen(str(event.row_key.value)))

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


def lateness_data(ledger, code: str, as_of: date) -> list[dict]:
    """How late the customer's last LATENESS_SHOWN paid invoices were paid, oldest first (database thread)."""
    return reports.last_paid_lateness(ledger, customers.by_code(ledger, code)["id"], as_of, LATENESS_SHOWN)


def remove_contact(ledger, contact_id: str, t) -> str:
    return t("arch.contact_removed", name=customers.remove_contact(ledger, contact_id)["name"])


def set_archived(ledger, code: str, archived: bool, t) -> str:
    customers.set_archived(ledger, code, archived)
    return t("arch.archived_done", code=code) if archived else t("arch.unarchived_done", code=code)
