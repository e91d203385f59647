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
from tui.screens.base import PagedListScreen, name_width
from tui.widgets.cells import Clipped, amount_cell, amount_with_currency_cell, short_date
from tui.widgets.table import DataTable

PAGE = 100


class InvoicesScreen(PagedListScreen):
    LIST_ID, PAGE_GROUP, EMPTY_KEY = "invoices", "invoices-page", "inv.none"
    FLEX_COLUMN = "customer"
    BINDINGS = [
        Binding("f", "cycle_filter", "Open/overdue/all", id="invoice_filter"),
        Binding("slash", "filter_customer", "Filter", id="invoice_search", key_display="/"),
        Binding("n", "new_invoice", "New invoice", id="new_invoice"),
        Binding("s", "sort_next", "Sort", id="sort_next"),
        Binding("o", "sort_flip", "Reverse order", id="sort_flip"),
        Binding("r", "refresh", "Refresh", id="refresh"),
    ]
    SORTS = {key: key for key in views.INVOICE_SORTS}
    DEFAULT_SORT = ("date", True)
    DESCENDING_FIRST = frozenset({"date", "due", "total", "open"})

    class PageLoaded(Message):
        def __init__(self, generation: int, rows: list[dict], more: bool, backwards: bool = False):
            super().__init__()
            self.generation = generation
            self.rows = rows
            self.more = more
            self.backwards = backwards

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
        table = self.query_one("#invoices", DataTable)
        self.lay_out()
        self.watch(table, "scroll_y", lambda _v: self._maybe_more(), init=False)
        self.set_focus(table)  # now: keys that came with the key that opened the screen land in the list
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
    async def fetch_page(self, generation: int, filters: dict, after, sort: str, descending: bool,
                         backwards: bool) -> None:
        rows = await self.db(views.invoice_page, **filters, after=after, limit=PAGE + 1, today=self.app.today(),
                             sort=sort, descending=descending)
        self.post_message(self.PageLoaded(generation, rows[:PAGE], len(rows) > PAGE, backwards))

    @on(PageLoaded)
    def page_loaded(self, message: PageLoaded) -> None:
        self.add_page(message.generation, message.rows, message.more, message.backwards)

    def list_columns(self, narrow: bool) -> list[tuple]:
        t = self.t
        if narrow:  # the dates short, the customer's code and name in one column cut to fit, the open amount with
            # its currency: nothing to scroll sideways at 80 columns
            return [("number", t("col.number"), False), ("date", t("col.date"), False),
                    ("due", t("col.due"), False), ("customer", t("col.customer"), False),
                    ("open", t("col.open"), True), ("status", t("col.status"), False)]
        return [("number", t("col.number"), False), ("date", t("col.date"), False), ("due", t("col.due"), False),
                ("customer", t("col.customer"), False), ("name", t("col.name"), False, name_width(self.app)),
                ("currency", t("col.currency"), False), ("total", t("col.total"), True),
                ("open", t("col.open"), True), ("status", t("col.status"), False)]

    def row_cells(self, r: dict) -> tuple:
        cur, late = r["currency"], r["overdue"] > 0
        status = self.t(f"status.{r['status']}")
        if self.narrow:
            code = r["customer"] or ""
            return (r["number"], short_date(r["date"]), Text(short_date(r["due_date"]), style="red" if late else ""),
                    Clipped(f"{code} {r['customer_name'] or ''}".strip(), keep=len(code) + 1),
                    amount_with_currency_cell(r["open"], cur, "red" if late else ""), status)
        return (r["number"], r["date"], Text(r["due_date"], style="red" if late else ""), r["customer"] or "",
                r["customer_name"] or "", cur, amount_cell(r["total"], cur),
                amount_cell(r["open"], cur, "red" if late else ""), status)

    def row_key(self, r: dict) -> str:
        return r["number"]

    def keyset(self, r: dict) -> tuple:
        return views.sort_value(r, self.sort_column), r["number"]

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
