"""Aging (账龄): one row per customer and currency across the buckets, as of any date, by due or invoice date;
Enter on an amount drills into the invoices behind that cell, on a customer's code or name opens the archive.
`c` shows one row per customer in the ledger's base currency (what `report aging --in CUR` gives), saying which
rates it used and which currencies it left out for want of a rate."""
from __future__ import annotations

from datetime import date

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Footer, Header, Input, Label, Static

from store.read import aging_grid
from store.read import views
from store.rules.aging import BASES, NOT_DUE, UNAPPLIED
from store.errors import DulyError
from store.rules.money import format_amount
from store.rules.validate import parse_date
from tui.screens.base import DulyScreen, PagedListScreen
from tui.screens.customer import CustomerScreen
from tui.screens.rates import conversion_note
from tui.widgets.cells import amount_cell
from tui.widgets.table import DataTable

TOTAL_KEY = " total"  # a space: no customer code can be this
PAGE = 100  # rows fetched at a time


class AgingScreen(PagedListScreen):
    """The grid is worked out once on the database thread (store.read.aging_grid) and paged from there like any
    list: the first page at once, the next as the cursor nears the end, End the last rows (the totals per
    currency, which come after every customer's rows). s sorts by the next column, o the other way, a click on a
    header by that column; code and name stay in sight as the grid scrolls sideways."""

    LIST_ID, PAGE_GROUP, EMPTY_KEY = "aging", "aging-page", "arch.nothing_open"
    BINDINGS = [
        Binding("b", "basis", "Basis", id="basis"),
        Binding("c", "in_base", "In base currency", id="in_base"),
        Binding("t", "as_of", "As of", id="as_of"),
        Binding("s", "sort_next", "Sort", id="sort_next"),
        Binding("o", "sort_flip", "Reverse order", id="sort_flip"),
        Binding("r", "refresh", "Refresh", id="refresh"),
    ]
    SORTS = {"customer": "customer", "name": "name", "currency": "currency"}  # + the amount columns, once known
    DEFAULT_SORT = ("customer", False)

    class Built(Message):
        def __init__(self, grid: aging_grid.AgingGrid):
            super().__init__()
            self.grid = grid

    class PageLoaded(Message):
        def __init__(self, generation: int, rows: list[dict], more: bool, backwards: bool = False):
            super().__init__()
            self.generation, self.rows, self.more, self.backwards = generation, rows, more, backwards

    def __init__(self):
        super().__init__()
        self.basis = "due"
        self.as_of: date | None = None
        self.in_base = False
        self.grid: aging_grid.AgingGrid | None = None

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        with Horizontal(id="aging-controls"):
            yield Label(t("aging.as_of"), classes="form-label")
            yield Input(self.app.today().isoformat(), id="as-of", compact=True, max_length=10)
            yield Label("", id="aging-basis")
        yield Static("", id="aging-error")
        yield Static("", id="aging-rates", classes="fx-note")
        yield DataTable(id="aging", cursor_type="cell", zebra_stripes=True, fixed_columns=2, rows_at_edges=True)
        yield Static("", id="aging-status", classes="status")
        yield Footer()

    def on_mount(self) -> None:
        self.as_of = self.app.today()
        table = self.query_one("#aging", DataTable)
        self.watch(table, "scroll_y", lambda _v: self._maybe_more(), init=False)
        table.focus()
        super().on_mount()

    def reload(self) -> None:
        super().reload()
        self._show_basis()
        self.build(self.as_of, self.basis, self.in_base)

    def _show_basis(self) -> None:
        t = self.t
        self.query_one("#aging-basis", Label).update(f"{t('aging.basis')}: {t('aging.basis.' + self.basis)}")

    @work(exclusive=True, exit_on_error=False, group="aging")
    async def build(self, as_of: date, basis: str, in_base: bool) -> None:
        self.post_message(self.Built(await self.app.db.run_background(aging_grid.build, as_of, basis, in_base)))

    @on(Built)
    def built(self, message: Built) -> None:
        """The grid's columns (the buckets depend on the basis), then its first page."""
        t, grid = self.t, message.grid
        self.grid = grid
        self.SORTS = {**AgingScreen.SORTS, **{column: column for column in grid.columns}}
        if self.sort_column not in self.SORTS:
            self.sort_column, self.descending = self.DEFAULT_SORT
        table = self.query_one("#aging", DataTable)
        table.clear(columns=True)
        self._labels = {}
        self.add_sortable_columns(table, [
            ("customer", t("col.code"), False), ("name", t("col.name"), False),
            ("currency", t("col.currency"), False),
            *((column, t("col.total") if column == "total" else t.bucket(column), True) for column in grid.columns)])
        error = "" if grid.rows else t("aging.empty", date=grid.as_of.isoformat())
        self.query_one("#aging-error", Static).update(error)
        note = self.query_one("#aging-rates", Static)
        note.update(conversion_note(t, grid.conversion))
        note.display = grid.conversion is not None  # no empty line when the rows are per currency
        self.restart_pages()

    @work(exclusive=True, exit_on_error=False, group="aging-page")
    async def fetch_page(self, generation: int, _query, after, sort: str, descending: bool, backwards: bool) -> None:
        grid = self.grid
        if grid is None:
            return
        rows = await self.db(aging_grid.page, grid, sort=sort, descending=descending, after=after, limit=PAGE + 1,
                             backwards=backwards)
        self.post_message(self.PageLoaded(generation, rows[:PAGE], len(rows) > PAGE, backwards))

    @on(PageLoaded)
    def page_loaded(self, message: PageLoaded) -> None:
        self.add_page(message.generation, message.rows, message.more, message.backwards)

    def row_cells(self, r: dict) -> tuple:
        cur, columns = r["currency"], self.grid.columns
        if r["is_total"]:
            return (Text(self.t("aging.totals", currency=cur), style="bold"), "", cur,
                    *(self._amount(r[c], cur, c, bold=True) for c in columns))
        return (r["customer"], r["name"], cur, *(self._amount(r[c], cur, c) for c in columns))

    def row_key(self, r: dict) -> str:
        return f"{TOTAL_KEY if r['is_total'] else r['customer']}/{r['currency']}"

    def keyset(self, r: dict) -> tuple:
        return r["is_total"], r["sort_value"], r["seq"]

    @on(DataTable.CellHighlighted, "#aging")
    def highlighted(self, _event) -> None:
        self._maybe_more()

    @staticmethod
    def _amount(value: int, currency: str, column: str, *, bold: bool = False) -> Text:
        style = "bold" if bold else ""
        if value and column not in ("total", UNAPPLIED, NOT_DUE):
            style += " red"
        return Text(format_amount(value, currency) if value else "", justify="right", style=style.strip())

    # -- actions ---------------------------------------------------------------------------------
    def action_basis(self) -> None:
        self.basis = BASES[(BASES.index(self.basis) + 1) % len(BASES)]
        self.reload()

    def action_in_base(self) -> None:
        self.in_base = not self.in_base
        self.reload()

    def action_as_of(self) -> None:
        self.set_focus(self.query_one("#as-of", Input))

    def action_refresh(self) -> None:
        self.reload()

    @on(Input.Submitted, "#as-of")
    def as_of_submitted(self, event: Input.Submitted) -> None:
        try:
            self.as_of = parse_date(event.value, "as of")
        except DulyError as exc:
            self.query_one("#aging-error", Static).update(self.app.t.error(exc))
            return
        self.query_one("#aging", DataTable).focus()
        self.reload()

    @on(DataTable.CellSelected, "#aging")
    def open_cell(self, event: DataTable.CellSelected) -> None:
        code, currency = str(event.cell_key.row_key.value).rsplit("/", 1)
        column = str(event.cell_key.column_key.value)
        if code == TOTAL_KEY:
            return
        if column in ("customer", "name", "currency", "total", UNAPPLIED) or self.in_base:
            # in the base currency a cell sums several currencies: the customer's archive shows each one
            self.app.push_screen(CustomerScreen(code))
        else:
            self.app.push_screen(AgingCellScreen(code, currency, column, self.as_of, self.basis))


class AgingCellScreen(DulyScreen):
    """The open items behind one aging cell: customer × currency × bucket, as of the aging's date and basis."""

    BINDINGS = [Binding("escape", "back", "Back", id="back")]

    class Loaded(Message):
        def __init__(self, rows: list[dict]):
            super().__init__()
            self.rows = rows

    def __init__(self, customer: str, currency: str, label: str, as_of: date, basis: str):
        super().__init__()
        self.customer, self.currency, self.label, self.as_of, self.basis = customer, currency, label, as_of, basis

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        yield Label(t("aging.cell", customer=self.customer, currency=self.currency, bucket=t.bucket(self.label),
                      date=self.as_of.isoformat(), basis=t("aging.basis." + self.basis)), id="cell-title")
        yield DataTable(id="aging-cell", cursor_type="row", zebra_stripes=True)
        yield Static("", id="cell-total", classes="status")
        yield Footer()

    def on_mount(self) -> None:
        t = self.t
        table = self.query_one("#aging-cell", DataTable)
        table.add_column(t("col.number"), key="number")
        table.add_column(t("col.date"), key="date")
        table.add_column(t("col.due"), key="due")
        table.add_column(Text(t("col.open"), justify="right"), key="open")
        table.focus()
        super().on_mount()

    def reload(self) -> None:
        super().reload()
        self.load()

    @work(exclusive=True, exit_on_error=False, group="aging-cell")
    async def load(self) -> None:
        rows = await self.db(views.aging_cell, self.as_of, self.basis, self.customer, self.currency, self.label)
        self.post_message(self.Loaded(rows))

    @on(Loaded)
    def show(self, message: Loaded) -> None:
        table = self.query_one("#aging-cell", DataTable)
        table.clear()
        for r in message.rows:
            table.add_row(r["number"], r["date"].isoformat(), r["due_date"].isoformat(),
                          amount_cell(r["open"], self.currency), key=f"{r['number']}/{r['due_date']}")
        total = sum(r["open"] for r in message.rows)
        self.query_one("#cell-total", Static).update(
            self.t("aging.cell_total", count=len(message.rows), total=format_amount(total, self.currency),
                   currency=self.currency))

    @on(DataTable.RowSelected, "#aging-cell")
    def open_invoice(self, event: DataTable.RowSelected) -> None:
        from tui.screens.invoice import InvoiceScreen

        number = str(event.row_key.value).rsplit("/", 1)[0]
        if not number.startswith("("):  # "(over-allocated)" is not an invoice
            self.app.push_screen(InvoiceScreen(number))

    def action_back(self) -> None:
        self.dismiss()
