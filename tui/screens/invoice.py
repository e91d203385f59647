"""One invoice: header, lines, instalments (open per instalment), what was applied to it, its disputes,
promises and reminders; and the day's jobs on it, each a key: record a payment, a credit note (against it or
on account), a write-off, unapply, void (offering to unapply first), open or resolve a dispute, a promise to
pay, a debit note charged on it (a fee: 借项通知单). Each writes through the same store function as the CLI;
decisive ones take a reason and say how to undo."""
from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Header, Label, Static

from store.rules import money, validate
from store.write import adjustments, collections, invoices
from store.errors import DulyError, InvalidInput
from store.rules.money import format_amount
from store.rules.stored_words import Stored
from store.i18n import N_
from tui.screens.base import DulyScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.dialog_form import DialogForm, Field
from tui.widgets.cells import amount_cell
from tui.screens.prompt import PromptScreen
from tui.widgets.table import DataTable


def invoice_page(ledger, number: str, today: str) -> dict:
    """Everything the invoice screen shows (on the database thread): the detail, and the invoice's disputes,
    promises to pay (kept or broken as of today) and reminders."""
    d = invoices.detail(ledger, number)
    code = d["invoice"]["customer"]
    d["disputes"] = [r for r in collections.list_disputes(ledger, customer_code=code, as_of=today)
                     if r["number"] == number]
    d["promises"] = [r for r in collections.list_promises(ledger, today, customer_code=code) if r["number"] == number]
    d["reminders"] = [r for r in collections.reminder_log(ledger, code) if r["number"] == number]
    return d


def amount_check(currency: str):
    def check(text: str) -> None:
        if money.parse_amount(text, currency) <= 0:
            raise InvalidInput(N_("must be more than zero"), field="amount")
    return check


def date_check(text: str) -> None:
    validate.iso_date(text, "date")


class InvoiceScreen(DulyScreen):
    BINDINGS = [
        Binding("p", "pay", "Record payment", id="record_payment"),
        Binding("c", "credit", "Credit note", id="credit_note"),
        Binding("n", "debit_note", "Debit note", id="debit_note"),
        Binding("w", "write_off", "Write off", id="write_off"),
        Binding("u", "unapply", "Unapply", id="unapply"),
        Binding("v", "void", "Void", id="void_invoice"),
        Binding("d", "dispute", "Dispute", id="dispute"),
        Binding("m", "promise", "Promise", id="promise"),
        Binding("h", "reminders", "Reminders", id="reminders"),
        Binding("escape", "back", "Back", id="back"),
        Binding("r", "refresh", "Refresh", id="refresh"),
    ]
    FOOTER_GROUPS = (
        ("key.group_follow_up", frozenset({"dispute", "promise", "reminders"})),
        ("key.group_post", frozenset({"record_payment", "credit_note", "debit_note", "write_off", "unapply",
                                      "void_invoice"})),
    )

    class Loaded(Message):
        def __init__(self, detail: dict):
            super().__init__()
            self.detail = detail

    class Done(Message):
        """A write finished: the line to show, or the error."""

        def __init__(self, text: str, error: bool = False):
            super().__init__()
            self.text = text
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
            yield Label(t("invd.collections"), classes="section")
            yield DataTable(id="invoice-collections", cursor_type="row")
            yield Label(t("invd.reminders"), classes="section", id="invoice-reminders-title")
            yield DataTable(id="invoice-reminders", cursor_type="row")
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
        held = self.query_one("#invoice-collections", DataTable)
        held.add_column(t("col.date"), key="date")
        held.add_column(t("invd.what"), key="what")
        held.add_column(Text(t("col.amount"), justify="right"), key="amount")
        held.add_column(t("col.status"), key="status")
        reminders = self.query_one("#invoice-reminders", DataTable)
        for key in ("when", "level", "channel", "outcome"):
            reminders.add_column(t(f"invd.rem.{key}"), key=key)
        super().on_mount()

    def reload(self) -> None:
        super().reload()
        self.load(self.number)

    @work(exclusive=True, exit_on_error=False, group="invoice")
    async def load(self, number: str) -> None:
        self.post_message(self.Loaded(await self.db(invoice_page, number, self.app.today().isoformat())))

    @on(Loaded)
    def show(self, message: Loaded) -> None:
        t, d = self.t, message.detail
        self.detail = d
        self.run_deferred()
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
            applied.add_row(w["date"], f"{t('invd.writeoff')} {w['number'] or ''} {t.error(Stored(w['reason']))}",
                            amount_cell(w["amount"], cur))
        held = self.query_one("#invoice-collections", DataTable)
        held.clear()
        for r in d["disputes"]:
            what = t("invd.dispute_row", reason=r["reason"] or "", review=r["review"] or "—")
            status = t("invd.dispute_open") if r["status"] == "open" else \
                t("invd.dispute_resolved", on=r["resolved_on"], note=r["note"] or "")
            held.add_row(r["opened"], what, amount_cell(r["amount"], cur) if r["amount"] else t("invd.all_of_it"),
                         status, key=f"dispute/{r['id']}")
        for r in d["promises"]:
            held.add_row(r["made_on"], t("invd.promise_row", date=r["date"]), amount_cell(r["amount"], cur),
                         t(f"promise.{r['status']}"), key=f"promise/{r['id']}")
        reminders = self.query_one("#invoice-reminders", DataTable)
        reminders.clear()
        for r in d["reminders"]:
            reminders.add_row((r["at"] or "")[:16].replace("T", " "), str(r["level"]),
                              t(f"channel.{r['channel']}") if f"channel.{r['channel']}" in t._catalogue else r["channel"],
                              r["outcome"] or "")
        self.query_one("#invoice-reminders-title", Label).update(
            f"{t('invd.reminders')} ({len(d['reminders'])})" if d["reminders"] else t("invd.no_reminders"))

    # -- the jobs -------------------------------------------------------------------------------------
    def _today_for(self) -> str:
        """The date a write takes: today, never before the invoice's own date."""
        today = self.app.today().isoformat()
        return max(today, self.detail["invoice"]["date"]) if self.detail else today

    def _ready(self, action: str) -> bool:
        """Whether a job can start; pressed before the record is loaded, the job starts once it is."""
        if self.detail is None:
            self.defer_until_loaded(action)
            return False
        if self.detail["void"]:
            self.notify(self.t("invd.is_void", number=self.number), severity="warning")
            return False
        return True

    @work(exit_on_error=False, group="invoice-write")
    async def write(self, fn, *args, **kwargs) -> None:
        """fn(ledger, ...) on the database thread; fn returns the line to show."""
        try:
            text = await self.db(fn, *args, **kwargs)
        except DulyError as exc:
            self.post_message(self.Done(exc.text(self.app.language), True))
            return
        self.post_message(self.Done(text))

    @on(Done)
    def done(self, message: Done) -> None:
        if message.error:
            self.notify(message.text, severity="error", timeout=8)
            return
        self.app.ledger_changed()
        self.notify(message.text, timeout=8)
        self.reload()

    def _dialog_done(self, text: str | None) -> None:
        if text:
            self.done(self.Done(text))

    def _cur(self) -> str:
        return self.detail["invoice"]["currency"]

    def _open_text(self) -> str:
        return money.to_decimal_str(self.detail["invoice"]["open"], self._cur())

    # void (作废) ----------------------------------------------------------------------------------
    def action_void(self) -> None:
        if not self._ready("void"):
            return
        t, paid = self.t, sum(a["amount"] for a in self.detail["allocations"])
        if paid > 0:
            self.app.push_screen(
                ConfirmScreen(t("invd.void_applied_q", number=self.number,
                                amount=format_amount(paid, self._cur()), currency=self._cur()),
                              t("invd.void_applied_body"), undo=t("invd.void_undo"), go=t("invd.unapply_then_void")),
                lambda yes: yes and self._ask_void_reason(unapply_first=True))
            return
        self._ask_void_reason(unapply_first=False)

    def _ask_void_reason(self, *, unapply_first: bool) -> None:
        self.app.push_screen(PromptScreen(self.t("invd.void_reason", number=self.number),
                                          hint=self.t("invd.void_hint") + " " + self.t("invd.void_undo")),
                             lambda reason: reason and self.write(void_invoice, self.number, reason,
                                                                  self._today_for(), unapply_first, self.t))

    # unapply ------------------------------------------------------------------------------------
    def action_unapply(self) -> None:
        if not self._ready("unapply"):
            return
        t, paid = self.t, sum(a["amount"] for a in self.detail["allocations"])
        if paid <= 0:
            self.notify(t("invd.nothing_applied", number=self.number), severity="warning")
            return
        self.app.push_screen(
            ConfirmScreen(t("invd.unapply_q", number=self.number, amount=format_amount(paid, self._cur()),
                            currency=self._cur()), undo=t("invd.unapply_undo")),
            lambda yes: yes and self.write(unapply_invoice, self.number, self._today_for(), self.t))

    # credit note (红字发票 / 贷项通知) ---------------------------------------------------------------
    def action_credit(self) -> None:
        if not self._ready("credit"):
            return
        t, cur, inv = self.t, self._cur(), self.detail["invoice"]
        fields = [
            Field("amount", t("invd.f.amount", currency=cur), self._open_text(), required=True,
                  check=amount_check(cur)),
            Field("date", t("col.date"), self._today_for(), required=True, check=date_check),
            Field("reason", t("invd.f.reason"), required=True),
            Field("against", t("invd.f.against"), "invoice", required=True,
                  choices=[(t("invd.against_invoice", number=self.number), "invoice"),
                           (t("invd.on_account"), "account")]),
        ]

        async def save(v: dict) -> str:
            return await self.db(credit_note, inv["customer"], v["date"], v["amount"], v["reason"],
                                 self.number if v["against"] == "invoice" else None, cur, t)

        self.app.push_screen(DialogForm(t("invd.credit_title", number=self.number), fields, save,
                                        hint=t("invd.credit_hint")), self._dialog_done)

    # write-off (坏账核销) ----------------------------------------------------------------------------
    def action_write_off(self) -> None:
        if not self._ready("write_off"):
            return
        t, cur = self.t, self._cur()
        fields = [
            Field("amount", t("invd.f.amount", currency=cur), self._open_text(), required=True,
                  check=amount_check(cur)),
            Field("date", t("col.date"), self._today_for(), required=True, check=date_check),
            Field("reason", t("invd.f.reason"), required=True),
        ]

        async def save(v: dict) -> str:
            return await self.db(write_off, self.number, v["date"], v["reason"], v["amount"], t)

        self.app.push_screen(DialogForm(t("invd.writeoff_title", number=self.number), fields, save,
                                        hint=t("invd.writeoff_hint")), self._dialog_done)

    # dispute (争议) ---------------------------------------------------------------------------------
    def action_dispute(self) -> None:
        if not self._ready("dispute"):
            return
        t, cur = self.t, self._cur()
        current = next((r for r in self.detail["disputes"] if r["status"] == "open"), None)
        if current is not None:
            fields = [Field("note", t("invd.f.note"), required=True)]

            async def resolve(v: dict) -> str:
                await self.db(collections.resolve_dispute, current["id"], v["note"], self._today_for())
                return t("invd.dispute_resolved_done", number=self.number)

            self.app.push_screen(DialogForm(t("invd.resolve_title", number=self.number, reason=current["reason"]),
                                            fields, resolve), self._dialog_done)
            return
        fields = [
            Field("reason", t("invd.f.reason"), required=True),
            Field("amount", t("invd.f.disputed", currency=cur), placeholder=t("invd.all_of_it"),
                  check=amount_check(cur)),
            Field("review", t("invd.f.review"), placeholder="YYYY-MM-DD", check=date_check),
        ]

        async def open_it(v: dict) -> str:
            await self.db(collections.open_dispute, self.number, v["reason"], amount=v["amount"] or None,
                          review=v["review"] or None, on=self._today_for())
            return t("invd.dispute_opened", number=self.number)

        self.app.push_screen(DialogForm(t("invd.dispute_title", number=self.number), fields, open_it,
                                        hint=t("invd.dispute_hint")), self._dialog_done)

    # promise to pay (承诺付款) ----------------------------------------------------------------------
    def action_promise(self) -> None:
        if not self._ready("promise"):
            return
        t, cur = self.t, self._cur()
        fields = [
            Field("date", t("invd.f.pay_by"), required=True, placeholder="YYYY-MM-DD", check=date_check,
                  aliases=("pay_by", "pay-by")),
            Field("amount", t("invd.f.amount", currency=cur), self._open_text(), required=True,
                  check=amount_check(cur)),
        ]

        async def save(v: dict) -> str:
            await self.db(collections.add_promise, self.number, v["date"], v["amount"],
                          self.app.today().isoformat())
            return t("invd.promised", number=self.number, date=v["date"], amount=v["amount"], currency=cur)

        self.app.push_screen(DialogForm(t("invd.promise_title", number=self.number), fields, save),
                             self._dialog_done)

    # debit note (借项通知单): a fee charged on this invoice ------------------------------------------
    def action_debit_note(self) -> None:
        from tui.screens.debit_note import debit_note_form

        if self._ready("debit_note"):
            inv = self.detail["invoice"]
            self.app.push_screen(debit_note_form(self, inv["customer"], self._cur(), self._today_for(), self.number),
                                 self._dialog_done)

    def action_reminders(self) -> None:
        table = self.query_one("#invoice-reminders", DataTable)
        table.focus()
        table.scroll_visible()

    def action_pay(self) -> None:
        from tui.screens.payment_form import PaymentFormScreen

        if self._ready("pay"):
            self.app.push_screen(PaymentFormScreen(self.detail["invoice"]["customer"] or ""),
                                 lambda _done: self.reload())

    def action_back(self) -> None:
        self.dismiss()

    def action_refresh(self) -> None:
        self.reload()


# -- the writes, on the database thread: each returns the line the screen shows ----------------------------


def void_invoice(ledger, number: str, reason: str, on: str, unapply_first: bool, t) -> str:
    invoices.void(ledger, number, reason, on, unapply_first=unapply_first)
    return t("invd.voided", number=number)


def unapply_invoice(ledger, number: str, on: str, t) -> str:
    undone = invoices.unapply(ledger, number, on)
    cur = invoices.by_number(ledger, number)["currency"]
    return t("invd.unapplied", number=number, amount=format_amount(sum(u["amount"] for u in undone), cur),
             currency=cur)


def credit_note(ledger, customer: str, on: str, amount: str, reason: str, number: str | None, currency: str,
                t) -> str:
    done = adjustments.add_credit(ledger, customer, on, amount, reason, invoice_number=number, currency=currency)
    applied = sum(a for _, a in done.allocations)
    return t("invd.credited", credit=done.number, amount=format_amount(done.amount, currency), currency=currency,
             applied=format_amount(applied, currency), unapplied=format_amount(done.unapplied, currency))


def write_off(ledger, number: str, on: str, reason: str, amount: str, t) -> str:
    row_id, minor, cur = adjustments.write_off(ledger, number, on, reason, amount)
    return t("invd.written_off", number=number, writeoff=adjustments.writeoff_number(ledger, row_id) or "",
             amount=format_amount(minor, cur), currency=cur)
