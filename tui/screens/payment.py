"""One payment (收款单 RC-…): customer, date, amount, method, reference, what it applied where (reversals
included) and what is left; void with a reason, apply what is unapplied to invoices of one's choosing, or move
it to other invoices (re-allocate)."""
from __future__ import annotations

from rich.table import Table
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Header, Label, Static

from store.errors import DulyError
from store.rules.money import format_amount
from store.rules.stored_words import Stored
from store.write import payments
from tui.screens.apply import ApplyScreen
from tui.screens.base import DulyScreen
from tui.screens.prompt import PromptScreen
from tui.widgets.cells import amount_cell
from tui.widgets.table import DataTable, literal


def void_payment(ledger, payment: str, reason: str, on: str, t) -> str:
    reopened = payments.void(ledger, payment, reason, on)
    found = payments.by_id(ledger, payment)
    cur = found["currency"]
    text = ", ".join(f"{n} {format_amount(a, cur)}" for n, a in reopened) or "—"
    return t("paym.voided", number=shown_number(found), reopened=text)


def shown_number(payment: dict) -> str:
    """A payment's RC- number; one posted without (written before numbers, or by a raw import) by its reference
    and date, which a person recognises (an id does not)."""
    return payment["number"] or f"{payment['reference'] or ''} {payment['date']}".strip()


class PaymentScreen(DulyScreen):
    BINDINGS = [
        Binding("a", "apply", "Apply unapplied", id="apply_unapplied"),
        Binding("e", "reallocate", "Re-allocate", id="reallocate"),
        Binding("v", "void", "Void", id="void_payment"),
        Binding("escape", "back", "Back", id="back"),
        Binding("r", "refresh", "Refresh", id="refresh"),
    ]

    class Loaded(Message):
        def __init__(self, detail: dict):
            super().__init__()
            self.detail = detail

    class Done(Message):
        def __init__(self, text: str, error: bool = False):
            super().__init__()
            self.text = text
            self.error = error

    def __init__(self, payment: str):
        super().__init__()
        self.payment = payment  # its number or id
        self.detail: dict | None = None

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        yield Label(t("paym.title", number=self.payment), id="payment-title")
        with VerticalScroll(id="payment"):
            yield Static(t("dash.loading"), id="payment-head")
            yield Label(t("paym.allocations"), classes="section")
            yield DataTable(id="payment-allocations", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        t = self.t
        table = self.query_one("#payment-allocations", DataTable)
        table.add_column(t("col.date"), key="date")
        table.add_column(t("col.number"), key="number")
        table.add_column(t("col.amount"), key="amount")
        super().on_mount()

    def reload(self) -> None:
        super().reload()
        self.load()

    @work(exclusive=True, exit_on_error=False, group="payment")
    async def load(self) -> None:
        self.post_message(self.Loaded(await self.db(payments.detail, self.payment)))

    @on(Loaded)
    def show(self, message: Loaded) -> None:
        t, d = self.t, message.detail
        self.detail = d
        self.run_deferred()
        p, cur = d["payment"], d["payment"]["currency"]
        self.query_one("#payment-title", Label).update(
            t("paym.title", number=shown_number(p)) + f"  {p['customer']}  {p['customer_name'] or ''}")
        head = Table(box=None, show_header=False, padding=(0, 1))
        head.add_column(style="bold", no_wrap=True)
        head.add_column()
        status = t("status.voided") + f"  {d['void']['date']}: {d['void']['reason']}" if d["void"] else \
            (t("status.unapplied") if d["unapplied"] > 0 else t("status.applied"))
        for key, value in (("number", p["number"] or ""), ("customer", f"{p['customer']}  {p['customer_name'] or ''}"),
                           ("date", p["date"]), ("amount", f"{format_amount(p['amount'], cur)} {cur}"),
                           ("method", t(f"method.{p['method']}")), ("reference", p["reference"] or ""),
                           ("applied", format_amount(d["applied"], cur)),
                           ("unapplied", format_amount(d["unapplied"], cur)), ("status", status)):
            head.add_row(t(f"col.{key}"), str(value))
        if p.get("note"):
            head.add_row(t("paym.note"), literal(t.error(Stored(p["note"]))))  # the app's own note worded
        self.query_one("#payment-head", Static).update(head)
        table = self.query_one("#payment-allocations", DataTable)
        table.clear()
        for a in d["allocations"]:
            table.add_row(a["date"], a["number"], amount_cell(a["amount"], cur))

    # -- the jobs -------------------------------------------------------------------------------------
    def _today_for(self) -> str:
        today = self.app.today().isoformat()
        if self.detail is None:
            return today
        return max([today, self.detail["payment"]["date"], *(a["date"] for a in self.detail["allocations"])])

    def _ready(self, action: str) -> bool:
        """Whether a job can start; pressed before the record is loaded, the job starts once it is."""
        if self.detail is None:
            self.defer_until_loaded(action)
            return False
        if self.detail["void"]:
            self.notify(self.t("paym.is_void"), severity="warning")
            return False
        return True

    def action_void(self) -> None:
        if not self._ready("void"):
            return
        number = self.detail["payment"]["number"] or self.payment
        self.app.push_screen(PromptScreen(self.t("paym.void_reason", number=number),
                                          hint=self.t("paym.void_hint")),
                             lambda reason: reason and self.write(void_payment, self.payment, reason,
                                                                  self._today_for(), self.t))

    def action_apply(self) -> None:
        if not self._ready("apply"):
            return
        if self.detail["unapplied"] <= 0:
            self.notify(self.t("paym.nothing_unapplied"), severity="warning")
            return
        p = self.detail["payment"]
        self.app.push_screen(ApplyScreen(p["customer"], self._today_for(), payment=p["id"],
                                         title=self.t("apply.payment_title", number=shown_number(p))),
                             self._done_text)

    def action_reallocate(self) -> None:
        if not self._ready("reallocate"):
            return
        p = self.detail["payment"]
        self.app.push_screen(ApplyScreen(p["customer"], self._today_for(), payment=p["id"], reallocate=True,
                                         title=self.t("apply.reallocate_title", number=shown_number(p))),
                             self._done_text)

    @work(exit_on_error=False, group="payment-write")
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

    def action_back(self) -> None:
        self.dismiss()

    def action_refresh(self) -> None:
        self.reload()
