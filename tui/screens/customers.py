"""The customer list: searchable, paged from SQLite by code (keyset), never the whole table at once; each
page comes with the customers' balance and overdue amount, and the credit rating fills in once computed."""
from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Footer, Header, Input, Static

from store.read import views
from store.write import customers
from store.rules.money import format_amount
from tui.screens.base import PagedListScreen
from tui.screens.customer import CustomerScreen
from tui.screens.customer_form import CustomerFormScreen
from tui.widgets.cells import Clipped
from tui.widgets.table import DataTable

PAGE = 100
RATINGS_AFTER = 0.8  # seconds the list must be still before the credit ratings are computed


def customer_page(ledger, search: str | None, after, limit: int, today, sort: str = "code",
                  descending: bool = False) -> list[dict]:
    """One page of customers with balance and overdue in their own currency (runs on the database thread)."""
    rows = customers.listing(ledger, search=search, limit=limit, after=after, sort=sort, descending=descending)
    positions = views.customer_positions(ledger, [r["id"] for r in rows], today)
    return [{**r, **{f"pos_{k}": v for k, v in positions[r["id"]].items()}} for r in rows]


class CustomersScreen(PagedListScreen):
    LIST_ID, PAGE_GROUP, EMPTY_KEY = "customers", "customers-page", "cust.none"
    FLEX_COLUMN = "name"
    BINDINGS = [
        Binding("slash", "search", "Search", id="search", key_display="/"),
        Binding("n", "new_customer", "New customer", id="new_customer"),
        Binding("s", "sort_next", "Sort", id="sort_next"),
        Binding("o", "sort_flip", "Reverse order", id="sort_flip"),
        Binding("r", "refresh", "Refresh", id="refresh"),
    ]
    SORTS = {key: key for key in customers.SORTS}
    DEFAULT_SORT = ("code", False)
    DESCENDING_FIRST = frozenset({"credit_limit"})

    class PageLoaded(Message):
        def __init__(self, generation: int, rows: list[dict], more: bool, backwards: bool = False):
            super().__init__()
            self.generation = generation
            self.rows = rows
            self.more = more
            self.backwards = backwards

    class RatingsLoaded(Message):
        def __init__(self, ratings: dict[str, tuple[int, str]]):
            super().__init__()
            self.ratings = ratings

    def __init__(self):
        super().__init__()
        self.ratings: dict[str, tuple[int, str]] = {}
        self.ratings_revision = -1
        self._idle_timer = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder=self.t("cust.search"), id="search", compact=True)
        yield DataTable(id="customers", cursor_type="row", zebra_stripes=True)
        yield Static("", id="customers-status")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#customers", DataTable)
        self.lay_out()
        self.watch(table, "scroll_y", self._scrolled, init=False)
        self.set_focus(table)  # now: keys that came with the key that opened the screen land in the list
        super().on_mount()

    # -- loading ---------------------------------------------------------------------------------
    @property
    def search(self) -> str:
        return self.query_one("#search", Input).value.strip()

    def reload(self) -> None:
        """Start again from the first page (a new search, or the ledger changed)."""
        super().reload()
        self.restart_pages()
        self._busy()

    def page_query(self) -> str:
        return self.search

    def _busy(self) -> None:
        """The person is moving around: the credit ratings (which score the whole book, seconds on a big one,
        mostly in Python where nothing can interrupt them) wait until the list has been still for a moment."""
        if self.ratings_revision == self.app.revision:
            return
        if self._idle_timer is not None:
            self._idle_timer.stop()
        self._idle_timer = self.set_timer(RATINGS_AFTER, self._still)

    def _still(self) -> None:
        self._idle_timer = None
        if self.ratings_revision != self.app.revision:  # once per change of the ledger, not per search
            self.ratings_revision = self.app.revision
            self.fetch_ratings()

    @work(exclusive=True, exit_on_error=False, group="customers-page")
    async def fetch_page(self, generation: int, search: str, after, sort: str, descending: bool,
                         backwards: bool) -> None:
        rows = await self.db(customer_page, search or None, after, PAGE + 1, self.app.today(), sort, descending)
        self.post_message(self.PageLoaded(generation, rows[:PAGE], len(rows) > PAGE, backwards))

    @work(exclusive=True, exit_on_error=False, group="customers-ratings")
    async def fetch_ratings(self) -> None:
        """The credit score needs the whole book: it comes after the first page, in its own job."""
        self.post_message(self.RatingsLoaded(await self.app.db.run_idle(views.customer_ratings, self.app.today())))

    @on(RatingsLoaded)
    def ratings_loaded(self, message: RatingsLoaded) -> None:
        self.ratings = message.ratings
        table = self.query_one("#customers", DataTable)
        for row_key in list(table.rows):
            table.update_cell(row_key, "rating", self._rating(str(row_key.value)), update_width=True)  # "A 100"

    def _rating(self, code: str) -> Text:
        found = self.ratings.get(code)
        if not found:
            return Text("")
        score, rating = found
        return Text(f"{rating} {score}", style={"A": "green", "C": "yellow", "D": "bold red"}.get(rating, ""))

    @on(PageLoaded)
    def page_loaded(self, message: PageLoaded) -> None:
        self.add_page(message.generation, message.rows, message.more, message.backwards)

    def list_columns(self, narrow: bool) -> list[tuple]:
        t = self.t
        if narrow:  # the name cut to fit, the balance with its currency, no category, terms or credit limit:
            # nothing to scroll sideways at 80 columns
            return [("code", t("col.code"), False), ("name", t("col.name"), False),
                    ("balance", t("col.balance"), True), ("overdue", t("col.overdue"), True),
                    ("rating", t("col.rating"), False)]
        return [("code", t("col.code"), False), ("name", t("col.name"), False),
                ("currency", t("col.currency"), False), ("balance", t("col.balance"), True),
                ("overdue", t("col.overdue"), True), ("rating", t("col.rating"), False),
                ("category", t("col.category"), False), ("terms", t("col.terms"), False),
                ("credit_limit", t("col.credit_limit"), True)]

    def row_cells(self, row: dict) -> tuple:
        cur = row["currency"] or "CNY"
        limit = "" if row["credit_limit"] is None else format_amount(row["credit_limit"], cur)
        pos_cur = row["pos_currency"] or cur
        balance = self.t("cust.several") if pos_cur == "*" else format_amount(row["pos_balance"], pos_cur)
        overdue = "" if pos_cur == "*" or not row["pos_overdue"] else format_amount(row["pos_overdue"], pos_cur)
        if self.narrow:
            balance = balance if pos_cur == "*" else f"{balance} {pos_cur}"
            return (row["code"], Clipped(row["name"] or ""), Text(balance, justify="right"),
                    Text(overdue, justify="right", style="red"), self._rating(row["code"]))
        return (row["code"], row["name"], cur, Text(balance, justify="right"),
                Text(overdue, justify="right", style="red"), self._rating(row["code"]),
                row["category"] or "", row["terms"] or "", Text(limit, justify="right"))

    def row_key(self, row: dict) -> str:
        return row["code"]

    def keyset(self, row: dict) -> tuple:
        return customers.sort_value(row, self.sort_column), row["code"]

    def _scrolled(self, _value: float) -> None:
        self._busy()
        self._maybe_more()

    @on(DataTable.RowHighlighted, "#customers")
    def highlighted(self, _event) -> None:
        self._busy()
        self._maybe_more()

    # -- actions ---------------------------------------------------------------------------------
    @on(Input.Changed, "#search")
    def search_changed(self) -> None:
        self.reload()

    @on(Input.Submitted, "#search")
    def search_submitted(self) -> None:
        self.set_focus(self.query_one("#customers", DataTable))

    def action_search(self) -> None:
        # set_focus now, not focus() (deferred): keys typed right after "/" must land in the search
        self.set_focus(self.query_one("#search", Input))

    def action_refresh(self) -> None:
        self.reload()

    def action_new_customer(self) -> None:
        self.app.push_screen(CustomerFormScreen(), self._added)

    def _added(self, code: str | None) -> None:
        if code:
            self.app.push_screen(CustomerScreen(code))

    @on(DataTable.RowSelected, "#customers")
    def open_customer(self, event: DataTable.RowSelected) -> None:
        self.app.push_screen(CustomerScreen(str(event.row_key.value)))
