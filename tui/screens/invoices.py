"""Invoices (发票): open / overdue / all, narrowed by customer and date range, paged from SQLite 100 at a time."""
from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Input, Label, Static
from textual.worker import Worker, WorkerState

from store import views
from store.money import format_amount
from tui.screens.base import DulyScreen

PAGE = 100
PREFETCH = 20


def amount_cell(minor: int | None, currency: str, style: str = "") -> Text:
    return Text("" if minor is None else format_amount(minor, currency), justify="right", style=style)


class InvoicesScreen(DulyScreen):
    BINDINGS = [
        Binding("f", "cycle_filter", "Open/overdue/all", id="invoice_filter"),
        Binding("slash", "filter_customer", "Filter", id="invoice_search", key_display="/"),
        Binding("n", "new_invoice", "New invoice", id="new_invoice"),
        Binding("r", "refresh", "Refresh", id="refresh"),
    ]

    class PageLoaded(Message):
        def __init__(self, generation: int, rows: list[dict], more: bool):
            super().__init__()
            self.generation = generation
            self.rows = rows
            self.more = more

    def __init__(self, show: str = "open", customer: str = ""):
        super().__init__()
        self.show = show
        self.customer = customer
        self.generation = 0
        self.after: tuple[str, str] | None = None
        self.more = False
        self.loading = False

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        with Horizontal(id="inv-filters", classes="filters"):
            yield Label("", id="inv-show")
            yield Input(self.customer, placeholder=t("inv.customer"), id="inv-customer", compact=True)
            yield Input(placeholder=t("inv.from"), id="inv-from", compact=True, max_length=10)
            yield Input(placeholder=t("inv.to"), id="inv-to", compact=True, max_length=10)
        yield DataTable(id="invoices", cursor_type="row", zebra_stripes=True)
        yield Static("", id="invoices-status", classes="status")
        yield Footer()

    def on_mount(self) -> None:
        t = self.t
        table = self.query_one("#invoices", DataTable)
        table.add_column(t("col.number"), key="number")
        table.add_column(t("col.date"), key="date")
        table.add_column(t("col.due"), key="due")
        table.add_column(t("col.customer"), key="customer")
        table.add_column(Text(t("col.total"), justify="right"), key="total")
        table.add_column(Text(t("col.open"), justify="right"), key="open")
        table.add_column(t("col.status"), key="status")
        self.watch(table, "scroll_y", lambda _v: self._maybe_more(), init=False)
        table.focus()
        super().on_mount()

    # -- loading ---------------------------------------------------------------------------------
    def filters(self) -> dict:
        value = {name: self.query_one(f"#inv-{name}", Input).value.strip() for name in ("customer", "from", "to")}
        return {"show": self.show, "customer": value["customer"] or None, "start": value["from"] or None,
                "end": value["to"] or None}

    def reload(self) -> None:
        super().reload()
        self.generation += 1
        self.after, self.more, self.loading = None, False, True
        self.query_one("#inv-show", Label).update(f"{self.t('inv.show')}: {self.t('inv.show.' + self.show)}")
        self.query_one("#invoices", DataTable).clear()
        self.fetch_page(self.generation, self.filters(), None)

    def load_more(self) -> None:
        if self.more and not self.loading:
            self.loading = True
            self.fetch_page(self.generation, self.filters(), self.after)

    @work(exclusive=True, exit_on_error=False, group="invoices-page")
    async def fetch_page(self, generation: int, filters: dict, after) -> None:
        rows = await self.db(views.invoice_page, **filters, after=after, limit=PAGE + 1, today=self.app.today())
        self.post_message(self.PageLoaded(generation, rows[:PAGE], len(rows) > PAGE))

    @on(PageLoaded)
    def page_loaded(self, message: PageLoaded) -> None:
        if message.generation != self.generation:
            return
        t = self.t
        table = self.query_one("#invoices", DataTable)
        for r in message.rows:
            cur = r["currency"]
            late = r["overdue"] > 0
            table.add_row(r["number"], r["date"], Text(r["due_date"], style="red" if late else ""),
                          r["customer"] or "", amount_cell(r["total"], cur),
                          amount_cell(r["open"], cur, "red" if late else ""), t(f"status.{r['status']}"),
                          key=r["number"])
        if message.rows:
            self.after = (message.rows[-1]["date"], message.rows[-1]["number"])
        self.more, self.loading = message.more, False
        status = t("cust.count", shown=table.row_count, more=t("cust.more") if self.more else "")
        self.query_one("#invoices-status", Static).update(status if table.row_count else t("inv.none"))
        self._maybe_more()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "invoices-page" and event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self.loading = False
        super().on_worker_state_changed(event)

    def _maybe_more(self) -> None:
        table = self.query_one("#invoices", DataTable)
        near_end = table.cursor_row >= table.row_count - PREFETCH
        scrolled_down = table.max_scroll_y - table.scroll_y <= table.size.height
        if near_end or (table.row_count and scrolled_down and table.scroll_y > 0):
            self.load_more()

    @on(DataTable.RowHighlighted, "#invoices")
    def highlighted(self, _event) -> None:
        self._maybe_more()

    # -- actions ---------------------------------------------------------------------------------
    def action_cycle_filter(self) -> None:
        self.show = views.INVOICE_FILTERS[(views.INVOICE_FILTERS.index(self.show) + 1) % len(views.INVOICE_FILTERS)]
        self.reload()

    def action_filter_customer(self) -> None:
        self.set_focus(self.query_one("#inv-customer", Input))

    def action_refresh(self) -> None:
        self.reload()

    @on(Input.Submitted, "#inv-filters Input")
    def filter_submitted(self) -> None:
        self.set_focus(self.query_one("#invoices", DataTable))
        self.reload()

    def action_new_invoice(self) -> None:
        from tui.screens.invoice_form import InvoiceFormScreen

        self.app.push_screen(InvoiceFormScreen(self.filters()["customer"] or ""), self._issued)

    def _issued(self, number: str | None) -> None:
        if number:
            from tui.screens.invoice import InvoiceScreen

            self.app.push_screen(InvoiceScreen(number))

    @on(DataTable.RowSelected, "#invoices")
    def open_invoice(self, event: DataTable.RowSelected) -> None:
        from tui.screens.invoice import InvoiceScreen

        self.app.push_screen(InvoiceScreen(str(event.row_key.value)))
