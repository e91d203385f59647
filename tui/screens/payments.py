"""Payments (收款): newest first, paged from SQLite 100 at a time, with what each applied and has left."""
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


class PaymentsScreen(PagedListScreen):
    LIST_ID, PAGE_GROUP, EMPTY_KEY = "payments", "payments-page", "pay.none"
    FLEX_COLUMN = "customer"
    BINDINGS = [
        Binding("n", "new_payment", "Record payment", id="record_payment"),
        Binding("slash", "filter_customer", "Filter", id="payment_search", key_display="/"),
        Binding("s", "sort_next", "Sort", id="sort_next"),
        Binding("o", "sort_flip", "Reverse order", id="sort_flip"),
        Binding("r", "refresh", "Refresh", id="refresh"),
    ]
    SORTS = {key: key for key in views.PAYMENT_SORTS}
    DEFAULT_SORT = ("date", True)
    DESCENDING_FIRST = frozenset({"date", "amount", "unapplied"})

    class PageLoaded(Message):
        def __init__(self, generation: int, rows: list[dict], more: bool, backwards: bool = False):
            super().__init__()
            self.generation = generation
            self.rows = rows
            self.more = more
            self.backwards = backwards

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        with Horizontal(id="pay-filters", classes="filters"):
            yield Label(t("pay.title"), id="pay-title")
            yield Input(placeholder=t("inv.customer"), id="pay-customer", compact=True)
        yield DataTable(id="payments", cursor_type="row", zebra_stripes=True)
        yield Static("", id="payments-status", classes="status")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#payments", DataTable)
        self.lay_out()
        self.watch(table, "scroll_y", lambda _v: self._maybe_more(), init=False)
        self.set_focus(table)  # now: keys that came with the key that opened the screen land in the list
        super().on_mount()

    def reload(self) -> None:
        super().reload()
        self.restart_pages()

    def page_query(self) -> str | None:
        return self.query_one("#pay-customer", Input).value.strip() or None

    @work(exclusive=True, exit_on_error=False, group="payments-page")
    async def fetch_page(self, generation: int, customer: str | None, after, sort: str, descending: bool,
                         backwards: bool) -> None:
        rows = await self.db(views.payment_page, customer=customer, after=after, limit=PAGE + 1, sort=sort,
                             descending=descending)
        self.post_message(self.PageLoaded(generation, rows[:PAGE], len(rows) > PAGE, backwards))

    @on(PageLoaded)
    def page_loaded(self, message: PageLoaded) -> None:
        self.add_page(message.generation, message.rows, message.more, message.backwards)

    def list_columns(self, narrow: bool) -> list[tuple]:
        t = self.t
        if narrow:  # the date short, code and name in one column cut to fit, the amount with its currency, a voided
            # payment's status where its unapplied amount would be, the reference only where there is no number:
            # nothing to scroll sideways at 80 columns
            return [("number", t("col.number"), False), ("date", t("col.date"), False),
                    ("customer", t("col.customer"), False), ("amount", t("col.amount"), True),
                    ("unapplied", t("col.unapplied"), True)]
        return [("number", t("col.number"), False), ("date", t("col.date"), False),
                ("customer", t("col.customer"), False), ("name", t("col.name"), False, name_width(self.app)),
                ("currency", t("col.currency"), False), ("method", t("col.method"), False),
                ("reference", t("col.reference"), False), ("amount", t("col.amount"), True),
                ("unapplied", t("col.unapplied"), True), ("status", t("col.status"), False)]

    def row_cells(self, r: dict) -> tuple:
        t, cur = self.t, r["currency"]
        unapplied = amount_cell(r["unapplied"], cur, "yellow" if r["unapplied"] else "")
        if self.narrow:
            code = r["customer"] or ""
            if r["status"] == "voided":
                unapplied = Text(t("status.voided"), justify="right", style="dim")
            number = r["number"] or Text(r["reference"] or "", style="dim")  # no number (an older payment): its reference
            return (number, short_date(r["date"]),
                    Clipped(f"{code} {r['customer_name'] or ''}".strip(), keep=len(code) + 1),
                    amount_with_currency_cell(r["amount"], cur), unapplied)
        return (r["number"] or "", r["date"], r["customer"] or "",
                r["customer_name"] or "", cur, t(f"method.{r['method']}"),
                r["reference"] or "", amount_cell(r["amount"], cur), unapplied, t(f"status.{r['status']}"))

    def row_key(self, r: dict) -> str:
        return r["id"]

    def keyset(self, r: dict) -> tuple:
        return views.sort_value(r, self.sort_column), r["id"]

    @on(DataTable.RowHighlighted, "#payments")
    def highlighted(self, _event) -> None:
        self._maybe_more()

    @on(Input.Submitted, "#pay-customer")
    def filter_submitted(self) -> None:
        self.set_focus(self.query_one("#payments", DataTable))
        self.reload()

    def action_filter_customer(self) -> None:
        self.set_focus(self.query_one("#pay-customer", Input))

    def action_refresh(self) -> None:
        self.reload()

    @on(DataTable.RowSelected, "#payments")
    def open_payment(self, event: DataTable.RowSelected) -> None:
        from tui.screens.payment import PaymentScreen

        self.app.push_screen(PaymentScreen(str(event.row_key.value)))

    def action_new_payment(self) -> None:
        from tui.screens.payment_form import PaymentFormScreen

        self.app.push_screen(PaymentFormScreen(self.page_query() or ""), lambda _id: None)
