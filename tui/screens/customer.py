"""One customer's archive (客户档案): details and contacts, open items and unapplied credit, payment history,
the communications log, the credit score with its reasons, the statement (对账单) over a period picked on its
tab and the change history of every field, one tab each. Its jobs: edit, contacts add / edit / remove, archive /
unarchive, log a contact with the next follow-up, a new invoice or payment, a debit note (借项通知单), apply
unapplied money; on the contracts tab (合同): a new contract, a file attached, a contract's detail
(tui/screens/contract.py); on the statement tab: save it as PDF or HTML, send it by e-mail, record it as sent, and
the balance confirmation and dunning letters (save or send). Documents are the CLI's (store.files.documents), in the
customer's language; saving a file is a preview and records nothing; sending records "sent" once the server took
the message."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.message import Message
from textual.widgets import Footer, Header, Input, Label, Select, Static, TabbedContent, TabPane

from store.files.documents import labels, render
from store.errors import DulyError
from store.ledger.ledger import Ledger
from store.read import credit, reports, statements
from store.rules import validate
from store.write import collections, confirmations, customers, payments
from store.rules.money import format_amount
from store.rules.stored_words import Stored
from tui.screens.base import DulyScreen
from tui.screens.apply import ApplyScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.contract import AttachFileScreen, ContractScreen, ask_to_close, check_text, contract_form, state_text
from tui.screens.dialog_form import DialogForm, Field
from tui.screens.customer_form import FIELDS, CustomerFormScreen
from tui.screens.ask import AskAfterPreview
from tui.screens.pick import PickScreen
from tui.screens.prompt import PromptScreen
from tui.widgets.bars import BarRow, Bars
from tui.widgets.table import DataTable, Pages, literal


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


# -- the statement tab: its period, its preview, its documents ---------------------------------------------------
QUICK_PERIODS = ("this_month", "last_month", "this_quarter", "year_to_date")


def quick_period(choice: str, today: date) -> tuple[date, date]:
    """The dates of a quick choice of the period picker, as seen on `today`."""
    if choice == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    if choice == "this_quarter":
        return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today
    if choice == "year_to_date":
        return date(today.year, 1, 1), today
    return today.replace(day=1), today


@dataclass
class StatementView:
    stmt: dict
    lang: str  # the customer's: what the documents are written in
    email: str | None


def statement_view(ledger, code: str, start: date, end: date) -> StatementView:
    """The statement over a period as the customer will read it (runs on the database thread)."""
    customer = customers.by_code(ledger, code)
    stmt = statements.statement_of_account(ledger, customer["id"], start=start, end=end)
    return StatementView(stmt, render.language_of(ledger, customer), customer["email"])


def statement_document(ledger, code: str, start: date, end: date, issued: date):
    customer = customers.by_code(ledger, code)
    return render.statement(ledger, customer["id"], start=start, end=end, issued=issued)


def confirmation_document(ledger, code: str, as_of: date, issued: date):
    return render.confirmation(ledger, customers.by_code(ledger, code)["id"], as_of, issued=issued)


def statement_mail_preview(ledger, code: str, start: date, end: date, issued: date) -> dict:
    """What the statement's e-mail says (to, subject, text, attachment), rendered from the templates in force;
    nothing is sent."""
    customer = customers.by_code(ledger, code)
    doc = render.statement(ledger, customer["id"], start=start, end=end, issued=issued)
    stmt = statements.statement_of_account(ledger, customer["id"], start=start, end=end)
    subject, text = confirmations.statement_words(doc, customer, stmt)
    return {"to": customer["email"] or "", "subject": subject, "text": text, "attachment": f"{doc.filename}.pdf"}


def confirmation_mail_preview(ledger, code: str, as_of: date, issued: date) -> dict:
    customer = customers.by_code(ledger, code)
    doc = render.confirmation(ledger, customer["id"], as_of, issued=issued)
    subject, text = confirmations.confirmation_words(doc, customer, as_of.isoformat())
    return {"to": customer["email"] or "", "subject": subject, "text": text, "attachment": f"{doc.filename}.pdf"}


def on_own_connection(app, fn, /, *args, **kwargs):
    """fn(ledger, ...) on a thread with a connection of its own: a send waits on the network, and the database
    thread stays free for the screens (as the review queue sends)."""
    path, passphrase = app.ledger_path, app.db.passphrase

    def run():
        with Ledger.open(path, passphrase) as ledger:
            return fn(ledger, *args, **kwargs)

    return asyncio.to_thread(run)


class CustomerScreen(DulyScreen):
    BINDINGS = [
        # the statement tab's own keys first, so its footer shows them (on the other tabs they are hidden)
        Binding("t", "period", "Period", id="statement_period"),
        Binding("w", "save('pdf')", "Save PDF", id="save_pdf"),
        Binding("h", "save('html')", "Save HTML", id="save_html"),
        Binding("m", "send_statement", "E-mail", id="send_statement"),
        Binding("k", "mark_sent", "Mark sent", id="mark_sent"),
        Binding("o", "confirmation_letter", "Confirmation", id="confirmation_letter"),
        Binding("d", "dunning_letter", "Dunning", id="dunning_letter"),
        # the contracts tab's own keys (Enter on a contract: its detail), first on that tab as the statement's on its
        Binding("g", "new_contract", "New contract", id="new_contract"),
        Binding("f", "attach_contract", "Attach file", id="attach_contract_file"),
        Binding("z", "end_contract", "End contract", id="end_contract"),
        Binding("v", "cancel_contract", "Cancel contract", id="cancel_contract"),
        Binding("n", "new_invoice", "New invoice", id="new_invoice"),
        Binding("p", "new_payment", "Record payment", id="record_payment"),
        Binding("b", "debit_note", "Debit note", id="debit_note"),
        Binding("a", "apply_credit", "Apply credit", id="apply_credit"),
        Binding("e", "edit", "Edit", id="edit"),
        Binding("c", "add_contact", "Add contact", id="add_contact"),
        Binding("delete", "remove_contact", "Remove contact", id="remove_contact", key_display="Del"),
        Binding("x", "archive", "Archive", id="archive_customer"),
        Binding("R", "recurring", "Recurring", id="recurring"),
        Binding("l", "log_contact", "Log contact", id="log_contact"),
        Binding("s", "show_credit", "Credit score", id="show_credit"),
        Binding("escape", "back", "Back", id="back"),
        Binding("r", "refresh", "Refresh", id="refresh"),
    ]
    _POST = frozenset({"new_invoice", "record_payment", "debit_note", "apply_credit"})
    _RECORD = frozenset({"edit", "add_contact", "remove_contact", "archive_customer", "recurring"})
    _FOLLOW_UP = frozenset({"log_contact", "show_credit"})
    FOOTER_GROUPS = (
        ("key.group_customer", _RECORD),
        ("key.group_follow_up", _FOLLOW_UP),
        ("key.group_post", _POST),
        ("key.group_statement", frozenset({"statement_period", "save_pdf", "save_html", "send_statement",
                                           "mark_sent", "confirmation_letter", "dunning_letter"})),
        ("key.group_jobs", _POST | _RECORD | _FOLLOW_UP),  # the statement tab at 80 columns: its keys, then these
        ("key.group_contracts", frozenset({"new_contract", "attach_contract_file", "end_contract",
                                            "cancel_contract"})),  # the contracts tab at 80
    )

    class Scored(Message):
        def __init__(self, found):
            super().__init__()
            self.found = found

    class Done(Message):
        def __init__(self, text: str, error: bool = False):
            super().__init__()
            self.text = text
            self.error = error

    class ContractsLoaded(Message):
        def __init__(self, rows: list[dict]):
            super().__init__()
            self.rows = rows

    class StatementLoaded(Message):
        def __init__(self, view: StatementView):
            super().__init__()
            self.view = view

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
        self.period: tuple[date, date] | None = None  # the statement's, set on mount from the quick choice
        self.statement: StatementView | None = None
        self.contract_rows: list[dict] | None = None  # the contracts tab's, as loaded last
        self.contract_files: dict[str, str | None] = {}  # contract number -> the file recorded on it now
        self.last_saved: str | None = None  # the file saved last: where a statement marked sent was printed from

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
                with Horizontal(id="period-bar"):
                    yield Select([(t(f"period.{q}"), q) for q in QUICK_PERIODS], value=QUICK_PERIODS[0],
                                 allow_blank=True, prompt=t("period.custom"), id="period-quick", compact=True)
                    yield Label(t("period.from"), classes="period-label")
                    yield Input(id="period-from", compact=True, placeholder="YYYY-MM-DD")
                    yield Label(t("period.to"), classes="period-label")
                    yield Input(id="period-to", compact=True, placeholder="YYYY-MM-DD")
                yield Static("", id="statement-head")
                lines = DataTable(id="statement-lines", cursor_type="row", zebra_stripes=True)
                self.statement_pages = Pages(lines)
                yield lines
            with TabPane(t("arch.contracts"), id="tab-contracts"):
                yield DataTable(id="archive-contracts", cursor_type="row", zebra_stripes=True)
                yield Static("", id="archive-contracts-status", classes="dim")
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
        self._put_period(*quick_period(QUICK_PERIODS[0], self.app.today()))
        super().on_mount()

    def reload(self) -> None:
        super().reload()
        self.load(self.code)
        self.load_contracts(self.code)

    @work(exclusive=True, exit_on_error=False, group="customer")
    async def load(self, code: str) -> None:
        """The archive first; the statement, the lateness chart and the credit score (a read of the whole book)
        once it is drawn (show): on the database thread meanwhile they would slow the first rows down."""
        self.post_message(self.Loaded(await self.db(archive_data, code, self.app.today())))

    def _after_first_rows(self) -> None:
        if self.period is not None:
            self.load_statement(self.code, *self.period)
        self.score(self.code)
        self.lateness(self.code)

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
        for name in FIELDS:  # each value as the history below words it (a cycle, a language, a limit)
            details.add_row(t(f"field.{name}"), literal(self._value(name, record.get(name), record)))
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
        self.call_after_refresh(self._after_first_rows)

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
        notes = self.query_one("#archive-notes", DataTable)
        notes.clear()
        for n in archive.notes:
            notes.add_row(n["at"], t(f"channel.{n['channel']}"), literal(t.error(Stored(n["text"]))),
                          n["next_action"] or "",
                          key=n["id"])

    def _value(self, field: str, value, record: dict) -> str:
        if value in (None, "", "null"):
            return ""
        if field == "credit_limit" and str(value).lstrip("-").isdigit():
            return format_amount(int(value), record["currency"] or "CNY")
        if field == "archived":  # stored as 1 / 0 (True / False in older changes): yes or no in words
            return self.t("yes") if str(value).lower() in ("1", "true") else self.t("no")
        kind = {"settlement_cycle": "cycle", "language": "language"}.get(field)  # a value from a fixed list: its word
        if kind and self.t.has(f"{kind}.{value}"):
            return self.t(f"{kind}.{value}")
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

    def action_debit_note(self) -> None:
        from tui.screens.debit_note import debit_note_form

        if self.record is not None:
            self.app.push_screen(debit_note_form(self, self.record["code"], self.record["currency"],
                                                 self.app.today().isoformat()),
                                 self._debited)

    def _debited(self, text: str | None) -> None:
        if text:
            self._done_text(text)
            self.query_one("#archive-tabs", TabbedContent).active = "tab-open"

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

    # -- the contracts tab (合同) -------------------------------------------------------------------------
    @work(exclusive=True, exit_on_error=False, group="customer-contracts")
    async def load_contracts(self, code: str) -> None:
        """The customer's contracts (a customer has a few: one query, each file checked against its hash)."""
        self.post_message(self.ContractsLoaded(await self.db(collections.list_contracts, code,
                                                             self.app.today().isoformat())))

    @on(ContractsLoaded)
    def show_contracts(self, message: ContractsLoaded) -> None:
        t, table = self.t, self.query_one("#archive-contracts", DataTable)
        kept = self._contract_number()
        self.contract_rows = message.rows
        self.contract_files = {k["number"]: k["file_path"] for k in message.rows}
        table.clear(columns=True)
        columns = ("number", "signed", "start", "end", "terms", "credit_limit", "state", "file")
        if self.app.size.width < 100:  # a narrower layout rather than a cut-off file check
            columns = tuple(c for c in columns if c not in ("signed", "start"))
        for key in columns:
            table.add_column(Text(t("contract.col.credit_limit"), justify="right") if key == "credit_limit"
                             else t(f"contract.col.{key}") if key in ("file", "state") else t(f"contract.f.{key}"),
                             key=key)
        for k in message.rows:
            limit = "" if k["credit_limit"] is None else format_amount(k["credit_limit"], k["currency"] or "CNY")
            # the end: the last day it applies (the day it was ended early on, else the agreed end)
            cells = {"number": literal(k["number"]), "signed": k["signed"], "start": k["start_date"] or "",
                     "end": k["last_day"] or "", "terms": literal(k["terms"] or ""),
                     "credit_limit": Text(limit, justify="right"), "state": state_text(t, k),
                     "file": check_text(t, k["file_check"])}
            table.add_row(*(cells[c] for c in columns), key=k["number"])
        if kept is not None and any(k["number"] == kept for k in message.rows):
            table.move_cursor(row=table.get_row_index(kept), animate=False)
        changed = sum(k["file_check"] not in ("ok", "none") for k in message.rows)
        status = t("contract.count", n=len(message.rows)) if message.rows else t("contract.none")
        if changed:
            status += "  " + t("contract.count_changed", n=changed)
        self.query_one("#archive-contracts-status", Static).update(status)

    def _contract_number(self) -> str | None:
        table = self.query_one("#archive-contracts", DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value)

    def action_new_contract(self) -> None:
        if self.record is None:
            return
        self.app.push_screen(contract_form(self, self.record["code"], self.record["currency"],
                                           self.app.today().isoformat()), self._done_text)

    def action_attach_contract(self) -> None:
        number = self._contract_number()
        if number is None or self.record is None:
            self.notify(self.t("contract.none_to_attach"), severity="warning")
            return
        # the file recorded now: the attach screen asks before replacing it
        self.app.push_screen(AttachFileScreen(self.record["code"], number, self.contract_files.get(number)),
                             self._done_text)

    def _contract_row(self) -> dict | None:
        number = self._contract_number()
        return next((k for k in self.contract_rows or () if k["number"] == number), None)

    def action_end_contract(self) -> None:
        self._close_contract("end")

    def action_cancel_contract(self) -> None:
        self._close_contract("cancel")

    def _close_contract(self, how: str) -> None:
        row = self._contract_row()
        if row is None or self.record is None:
            self.notify(self.t("contract.none_to_close"), severity="warning")
            return
        ask_to_close(self, self.record["code"], row, how, self._done_text)

    @on(DataTable.RowSelected, "#archive-contracts")
    def open_contract(self, event: DataTable.RowSelected) -> None:
        if self.record is not None:
            # a file attached there changed the ledger: this screen reloads when it is back on top
            self.app.push_screen(ContractScreen(self.record["code"], str(event.row_key.value)))

    # -- the statement tab -------------------------------------------------------------------------------
    STATEMENT_ACTIONS = frozenset({"period", "save", "send_statement", "mark_sent", "confirmation_letter",
                                   "dunning_letter"})
    CONTRACT_ACTIONS = frozenset({"new_contract", "attach_contract", "end_contract", "cancel_contract"})

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The statement's keys are shown and work on the statement tab only, the contracts' on theirs."""
        tab = {**dict.fromkeys(self.STATEMENT_ACTIONS, "tab-statement"),
               **dict.fromkeys(self.CONTRACT_ACTIONS, "tab-contracts")}.get(action)
        if tab is not None:
            try:
                return self.query_one("#archive-tabs", TabbedContent).active == tab
            except NoMatches:  # asked before the tabs exist
                return False
        return super().check_action(action, parameters)

    @on(TabbedContent.TabActivated, "#archive-tabs")
    def tab_changed(self, _event) -> None:
        self._fit_footer()  # the statement's keys come or go: group as the width needs
        self.refresh_bindings()

    def _put_period(self, start: date, end: date) -> None:
        self.period = (start, end)
        with self.prevent(Input.Changed):
            self.query_one("#period-from", Input).value = start.isoformat()
            self.query_one("#period-to", Input).value = end.isoformat()

    @on(Select.Changed, "#period-quick")
    def quick_chosen(self, event: Select.Changed) -> None:
        if event.value in QUICK_PERIODS:
            period = quick_period(str(event.value), self.app.today())
            if period == self.period:
                return  # the period shown already (the choice made on mount: its statement comes after the archive)
            self._put_period(*period)
            self.load_statement(self.code, *self.period)

    @on(Input.Submitted, "#period-from")
    @on(Input.Submitted, "#period-to")
    def dates_typed(self, event: Input.Submitted) -> None:
        t = self.t
        try:
            start = date.fromisoformat(validate.iso_date(self.query_one("#period-from", Input).value, "from date"))
            end = date.fromisoformat(validate.iso_date(self.query_one("#period-to", Input).value, "to date"))
        except DulyError as exc:
            self.notify(exc.text(self.app.language), severity="error", timeout=8)
            return
        if end < start:
            self.notify(t("period.backwards", start=start.isoformat(), end=end.isoformat()), severity="error")
            return
        match = next((q for q in QUICK_PERIODS if quick_period(q, self.app.today()) == (start, end)), None)
        with self.prevent(Select.Changed):
            quick = self.query_one("#period-quick", Select)
            if match:
                quick.value = match
            else:
                quick.clear()
        self.period = (start, end)
        if event.input.id == "period-from":
            self.query_one("#period-to", Input).focus()
        else:
            self.query_one("#statement-lines", DataTable).focus()
        self.load_statement(self.code, start, end)

    def action_period(self) -> None:
        self.query_one("#period-quick", Select).focus()

    @work(exclusive=True, exit_on_error=False, group="customer-statement")
    async def load_statement(self, code: str, start: date, end: date) -> None:
        self.post_message(self.StatementLoaded(await self.db(statement_view, code, start, end)))

    @on(StatementLoaded)
    def show_statement(self, message: StatementLoaded) -> None:
        t, view = self.t, message.view
        self.statement = view
        stmt, lang = view.stmt, view.lang
        w = labels.statement_words(lang)
        tables = render.statement_tables(stmt, lang)
        head = [t("stmt.head", title=tables["title"], subtitle=tables["subtitle"],
                  language=t(f"language.{lang}"), email=view.email or t("stmt.no_email"))]
        for section in tables["sections"]:
            head.append(f"{section['currency']}  {section['closing']}  ·  {section['aging']}")
        if not tables["sections"]:
            head.append(tables["nothing"])
        self.query_one("#statement-head", Static).update(literal("\n".join(head)))
        lines = self.query_one("#statement-lines", DataTable)
        lines.clear(columns=True)
        columns = ("currency", "date", "kind", "doc", "text", "debit", "credit", "balance")
        if len(tables["sections"]) <= 1:  # one currency: named in the heading, no column for it
            columns = columns[1:]
        if self.app.size.width < 100:  # a narrower layout rather than cut-off amounts
            columns = tuple(c for c in columns if c != "text")
        right = {"debit", "credit", "balance"}
        for key in columns:
            lines.add_column(Text(w[key], justify="right") if key in right else w[key], key=key)
        self.statement_pages.show(  # a page at a time: a customer with thousands of lines shows the first at once
            (tuple(Text(str(cells.get(k, "")), justify="right") if k in right else literal(str(cells.get(k, "")))
                   for k in columns), f"{section['currency']}/{n}")
            for section in tables["sections"]
            for n, cells in enumerate({**row, "doc": row.get("number", ""), "currency": section["currency"]}
                                      for row in section["rows"]))

    @on(DataTable.RowHighlighted, "#statement-lines")
    def statement_near_edge(self, _event) -> None:
        self.statement_pages.near_edge()

    @on(DataTable.Overrun, "#statement-lines")
    def statement_overrun(self, event: DataTable.Overrun) -> None:
        self.statement_pages.overrun(event.steps)

    @on(DataTable.EdgeWanted, "#statement-lines")
    def statement_edge(self, event: DataTable.EdgeWanted) -> None:
        self.statement_pages.edge(event.last)

    def on_resize(self) -> None:
        super().on_resize()
        if self.statement is not None:
            self.show_statement(self.StatementLoaded(self.statement))
        if self.contract_rows is not None:
            self.show_contracts(self.ContractsLoaded(self.contract_rows))

    def _default_path(self, kind: str, fmt: str) -> str:
        start, end = self.period
        stamp = f"{start.isoformat()}_{end.isoformat()}" if kind == "statement" else end.isoformat()
        return str(Path.cwd() / f"{self.code}-{kind}-{stamp}.{fmt}")

    def action_save(self, fmt: str) -> None:
        self._ask_path("statement", fmt)

    def _ask_path(self, kind: str, fmt: str) -> None:
        if self.period is None:
            return
        t = self.t
        self.app.push_screen(PromptScreen(t(f"doc.save_{kind}", fmt=fmt.upper()), self._default_path(kind, fmt),
                                          hint=t("doc.save_hint")),
                             lambda path: path and self.save_document(kind, fmt, path))

    @work(exit_on_error=False, group="customer-documents")
    async def save_document(self, kind: str, fmt: str, path: str) -> None:
        """Render on the database thread, lay out the PDF and write the file off it (0600, whole or not at all);
        nothing is recorded as sent."""
        t, (start, end), today = self.t, self.period, self.app.today()
        try:
            if kind == "statement":
                doc = await self.db(statement_document, self.code, start, end, today)
            elif kind == "confirmation":
                doc = await self.db(confirmation_document, self.code, end, today)
            else:
                doc = await self.db(collections.dunning_letter, self.code, today, issued=today)
            written = await asyncio.to_thread(render.save, doc, path, fmt)
        except DulyError as exc:
            self.notify(exc.text(self.app.language), severity="error", timeout=10)
            return
        self.last_saved = str(written)
        self._result(t("doc.saved", path=str(written)))

    def _result(self, text: str, error: bool = False) -> None:
        self.notify(text, severity="error" if error else "information", timeout=10)

    # sending: a preview of the message, asked once, then sent on a connection of its own
    def action_send_statement(self) -> None:
        if self.period is not None:
            self.preview_mail("statement")

    @work(exit_on_error=False, group="customer-documents")
    async def preview_mail(self, kind: str) -> None:
        t, (start, end), today = self.t, self.period, self.app.today()
        try:
            if kind == "statement":
                found = await self.db(statement_mail_preview, self.code, start, end, today)
            else:
                found = await self.db(confirmation_mail_preview, self.code, end, today)
        except DulyError as exc:
            self.notify(exc.text(self.app.language), severity="error", timeout=10)
            return
        if not found["to"]:
            self.notify(t("doc.no_email", code=self.code), severity="error", timeout=10)
            return
        head = t("doc.mail_preview", to=found["to"], subject=found["subject"], attachment=found["attachment"])
        self.app.push_screen(AskAfterPreview(t(f"doc.send_{kind}_q", code=self.code, end=end.isoformat()), head,
                                             found["text"], yes=t("doc.send_yes"), no=t("doc.send_no")),
                             lambda yes: yes and self.send_mail(kind))

    @work(exit_on_error=False, group="customer-documents")
    async def send_mail(self, kind: str) -> None:
        t, (start, end) = self.t, self.period
        self.notify(t("doc.sending"), timeout=4)
        try:
            if kind == "statement":
                results = await on_own_connection(self.app, confirmations.send, end.isoformat(), codes=[self.code],
                                                  email=True, start=start.isoformat(), attach_pdf=True, resend=True)
                result = results[0]
            else:
                result = await on_own_connection(self.app, confirmations.email_confirmation, self.code,
                                                 end.isoformat())
        except DulyError as exc:
            self._result(exc.text(self.app.language), True)
            return
        self.app.ledger_changed()
        if result.outcome == "sent":
            self._result(t("doc.sent", what=t(f"doc.kind.{kind}"), to=result.address or "", end=end.isoformat()))
        else:
            self._result(t("doc.not_sent", what=t(f"doc.kind.{kind}"), outcome=result.outcome), True)

    def action_mark_sent(self) -> None:
        if self.period is None:
            return
        t, end = self.t, self.period[1]
        self.app.push_screen(ConfirmScreen(t("doc.mark_sent_q", code=self.code, end=end.isoformat()),
                                           t("doc.mark_sent_body"), go=t("doc.mark_sent_go")),
                             lambda yes: yes and self.write(mark_statement_sent, self.code, end,
                                                            self.last_saved, t))

    # the letters
    def action_confirmation_letter(self) -> None:
        if self.period is None:
            return
        t = self.t
        self.app.push_screen(PickScreen(t("doc.confirmation_title", end=self.period[1].isoformat()), [
            (t("doc.save_pdf"), "pdf"), (t("doc.save_html"), "html"), (t("doc.send_mail"), "send")],
            t("doc.confirmation_text")), lambda how: self._letter("confirmation", how))

    def action_dunning_letter(self) -> None:
        t = self.t
        self.app.push_screen(PickScreen(t("doc.dunning_title", today=self.app.today().isoformat()), [
            (t("doc.save_pdf"), "pdf"), (t("doc.save_html"), "html"), (t("doc.send_mail"), "send")],
            t("doc.dunning_text")), lambda how: self._letter("dunning", how))

    def _letter(self, kind: str, how: str | None) -> None:
        if how in ("pdf", "html"):
            self._ask_path(kind, how)
        elif how == "send" and kind == "confirmation":
            self.preview_mail("confirmation")
        elif how == "send":
            self.preview_reminders()

    @work(exit_on_error=False, group="customer-documents")
    async def preview_reminders(self) -> None:
        t, today = self.t, self.app.today()
        try:
            groups = await self.db(collections.reminder_preview, self.code, today)
        except DulyError as exc:
            self.notify(exc.text(self.app.language), severity="error", timeout=10)
            return
        head = "\n".join(t("doc.reminder_preview", channel=t(f"channel.{g['channel']}"), to=g["to"] or "—",
                            invoices=", ".join(g["invoices"]), subject=g["subject"]) for g in groups)
        body = "\n\n".join(g["body"] for g in groups if g["channel"] == "email")
        self.app.push_screen(AskAfterPreview(t("doc.send_dunning_q", code=self.code), head, body,
                                             yes=t("doc.send_yes"), no=t("doc.send_no")),
                             lambda yes: yes and self.send_reminders())

    @work(exit_on_error=False, group="customer-documents")
    async def send_reminders(self) -> None:
        t = self.t
        self.notify(t("doc.sending"), timeout=4)
        try:
            outcomes = await on_own_connection(self.app, collections.send_customer, self.code, self.app.today())
        except DulyError as exc:
            self._result(exc.text(self.app.language), True)
            return
        self.app.ledger_changed()
        lines = [t("doc.reminder_outcome", channel=t(f"channel.{o.channel}"), invoices=", ".join(o.invoices),
                   outcome=t(f"review.outcome.{o.status}"), detail=o.detail) for o in outcomes]
        self._result("\n".join(lines) or t("doc.nothing_sent"),
                     any(o.status in ("failed", "unknown") for o in outcomes))

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


def mark_statement_sent(ledger, code: str, end: date, path: str | None, t) -> str:
    """The statement as of the period's end recorded as sent by hand (printed, posted, handed over)."""
    confirmations.mark_sent(ledger, code, end.isoformat(), channel="print", address=path)
    return t("doc.marked_sent", code=code, end=end.isoformat())
