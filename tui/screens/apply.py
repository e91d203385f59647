"""Applying unapplied money by choice (核销): a payment's, or all of a customer's unapplied cash and credit, or a
payment moved to other invoices (re-allocate). The customer's open invoices come up with the oldest-due-first
suggestion; Enter on a row sets what goes to it; ctrl+s applies, in one transaction. The dialog is the asking:
it shows what will be applied before anything is written, and says how to undo it."""
from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

from store.errors import DulyError
from store.read import views
from store.rules import money
from store.rules.money import format_amount
from store.write import payments
from tui.screens.base import localise_bindings
from tui.screens.confirm import ConfirmScreen
from tui.screens.prompt import PromptScreen
from tui.widgets.cells import amount_cell
from tui.widgets.table import DataTable


def apply_money(ledger, customer: str, on: str, pairs: list[str], payment: str | None, reallocate: bool, t) -> str:
    """The write, on the database thread; returns the line the app shows."""
    if reallocate:
        results = [payments.reallocate(ledger, payment, pairs, on)]
    elif payment:
        results = payments.allocate(ledger, payment_id=payment, pairs=pairs, on=on)
    else:
        results = payments.allocate(ledger, customer_code=customer, pairs=pairs, on=on)
    done = [(n, a) for r in results for n, a in r.allocations]
    cur = results[0].currency if results else ""
    return t("apply.done", count=len(done), amount=format_amount(sum(a for _, a in done), cur), currency=cur,
             where=", ".join(n for n, _ in done) or "—")


class ApplyScreen(ModalScreen[str | None]):
    """Dismisses with the line saying what was applied, or None when left."""

    NAVIGATES = False
    BINDINGS = [
        Binding("ctrl+s", "save", "Apply", id="apply_save"),
        Binding("ctrl+o", "suggest", "Oldest due first", id="suggest"),
        Binding("ctrl+l", "clear", "Apply nothing", id="apply_clear"),
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]

    class Loaded(Message):
        def __init__(self, choices: views.AllocationChoices | None, error: str = ""):
            super().__init__()
            self.choices = choices
            self.error = error

    def __init__(self, customer: str, on: str, *, payment: str | None = None, reallocate: bool = False,
                 title: str = ""):
        super().__init__()
        self.customer = customer
        self.on_date = on
        self.payment = payment
        self.reallocate = reallocate
        self.title_text = title
        self.choices: views.AllocationChoices | None = None
        self.chosen: dict[str, int] = {}
        self.saving = False

    def compose(self) -> ComposeResult:
        t = self.app.t
        with Vertical(id="apply", classes="dialog"):
            yield Label(self.title_text or t("apply.title", code=self.customer), id="apply-title")
            yield Static(t("dash.loading"), id="apply-available")
            yield DataTable(id="apply-items", cursor_type="row", zebra_stripes=True)
            yield Static("", id="apply-status")
            yield Static(t("apply.undo"), id="apply-undo", classes="dim")
        yield Footer()

    def on_mount(self) -> None:
        t = self.app.t
        localise_bindings(self, t)
        table = self.query_one("#apply-items", DataTable)
        table.add_column(t("col.number"), key="number")
        table.add_column(t("col.due"), key="due")
        table.add_column(Text(t("col.open"), justify="right"), key="open")
        table.add_column(Text(t("col.apply"), justify="right"), key="apply")
        table.focus()
        self.load()

    @work(exclusive=True, exit_on_error=False, group="apply-load")
    async def load(self) -> None:
        try:
            found = await self.app.db.run(views.allocation_choices, self.customer, self.on_date, payment=self.payment,
                                          reallocate=self.reallocate)
        except DulyError as exc:
            self.post_message(self.Loaded(None, exc.text(self.app.language)))
            return
        self.post_message(self.Loaded(found))

    @on(Loaded)
    def loaded(self, message: Loaded) -> None:
        if message.choices is None:
            self.query_one("#apply-available", Static).update(message.error)
            return
        self.choices = message.choices
        self.chosen = {r["number"]: r["suggested"] for r in message.choices.items if r["suggested"]}
        c = message.choices
        self.query_one("#apply-available", Static).update(self.app.t(
            "apply.available", amount=format_amount(c.available, c.currency), currency=c.currency, on=c.on))
        self._show()

    def _show(self) -> None:
        t, c = self.app.t, self.choices
        table = self.query_one("#apply-items", DataTable)
        row = table.cursor_row
        table.clear()
        for r in c.items:
            table.add_row(r["number"], r["due_date"], amount_cell(r["open"], c.currency),
                          amount_cell(self.chosen.get(r["number"], 0), c.currency), key=r["number"])
        if c.items:
            table.move_cursor(row=min(row, len(c.items) - 1))
        used = sum(self.chosen.values())
        line = t("apply.status", applied=format_amount(used, c.currency), left=format_amount(c.available - used,
                                                                                              c.currency),
                 currency=c.currency)
        if used > c.available:
            line = t("apply.too_much", amount=format_amount(used - c.available, c.currency), currency=c.currency)
        self.query_one("#apply-status", Static).update(line if c.items else t("apply.nothing_open"))

    @on(DataTable.RowSelected, "#apply-items")
    def edit_row(self, event: DataTable.RowSelected) -> None:
        if self.choices is None:
            return
        number, cur = str(event.row_key.value), self.choices.currency
        self.app.push_screen(PromptScreen(self.app.t("payf.apply_to", number=number),
                                          money.to_decimal_str(self.chosen.get(number, 0), cur), required=False),
                             lambda text: self._set(number, text))

    def _set(self, number: str, text: str | None) -> None:
        if text is None:
            return
        try:
            amount = money.parse_amount(text or "0", self.choices.currency)
        except DulyError as exc:
            self.notify(exc.text(self.app.language), severity="error")
            return
        self.chosen[number] = max(amount, 0)
        self._show()

    def action_suggest(self) -> None:
        if self.choices is not None:
            self.chosen = {r["number"]: r["suggested"] for r in self.choices.items if r["suggested"]}
            self._show()

    def action_clear(self) -> None:
        self.chosen = {}
        if self.choices is not None:
            self._show()

    def action_save(self) -> None:
        c = self.choices
        if c is None or self.saving:
            return
        cur = c.currency
        pairs = [f"{n}={money.to_decimal_str(a, cur)}" for n, a in self.chosen.items() if a > 0]
        if not pairs and not self.reallocate:
            self.notify(self.app.t("apply.none_chosen"), severity="warning")
            return
        self.saving = True
        self.save(pairs)

    @work(exclusive=True, exit_on_error=False, group="apply-save")
    async def save(self, pairs: list[str]) -> None:
        try:
            text = await self.app.db.run(apply_money, self.customer, self.on_date, pairs, self.payment,
                                         self.reallocate, self.app.t)
        except DulyError as exc:
            self.saving = False
            self.query_one("#apply-status", Static).update(Text(exc.text(self.app.language), style="red"))
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        if self.choices is None or self.chosen == {r["number"]: r["suggested"] for r in self.choices.items
                                                   if r["suggested"]}:
            self.dismiss(None)
            return
        t = self.app.t
        self.app.push_screen(ConfirmScreen(t("dialog.discard_q"), go=t("dialog.discard")),
                             lambda yes: yes and self.dismiss(None))
