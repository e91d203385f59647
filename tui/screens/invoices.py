"""Invoices (发票): open / overdue / all, narrowed by customer and date range, paged from SQLite 100 at a time."""
from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Footer, Header, Input, Label, Static

from store.read import views
from tui.screens.base import PagedListScreen
from tui.widgets.cells import amount_cell
from tui.widgets.table import DataTable

PAGE = 100


class InvoicesScreen(PagedListScreen):
    LIST_ID, PAGE_GROUP, EMPTY_KEY = "invoices", "invoices-page", "inv.none"
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
    def page_query(self) -> dict:
        value = {name: self.query_one(f"#inv-{name}", Input).value.strip() for name in ("customer", "from", "to")}
        return {"show": self.show, "customer": value["customer"] or None, "start": value["from"] or None,
                "end": value["to"] or None}

    def reload(self) -> None:
        super().reload()
        self.query_one("#inv-show", Label).update(f"{self.t('inv.show')}: {self.t('inv.show.' + self.show)}")
        self.restart_pages()

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
        last = message.rows[-1] if message.rows else None
        self.page_done(message.rows, message.more, last and (last["date"], last["number"]))

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

        self.app.push_screen(InvoiceFormScreen(self.page_query()["customer"] or ""), self._issued)

    def _issued(self, number: str | None) -> None:
        if number:
            from tui.screens.invoice import InvoiceScreen

            self.app.push_screen(InvoiceScreen(number))

    @on(DataTable.RowSelected, "#invoices")
    def open_invoice(self, event: DataTable.RowSelected) -> None:
        from tui.screens.invoice import InvoiceScreen

        self.app.push_screen(InvoiceScreen(str(event.row_key.value)))
