"""Aging (账龄): one row per customer and currency across the buckets, as of any date, by due or invoice date."""
from __future__ import annotations

from datetime import date

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Input, Label, Static

from store import reports
from store.aging import BASES, NOT_DUE, UNAPPLIED, AgingReport
from store.errors import DulyError
from store.money import format_amount
from store.validate import parse_date
from tui.screens.base import DulyScreen
from tui.screens.customer import CustomerScreen

TOTAL_KEY = " total"  # a space: no customer code can be this


class AgingScreen(DulyScreen):
    BINDINGS = [
        Binding("b", "basis", "Basis", id="basis"),
        Binding("t", "as_of", "As of", id="as_of"),
        Binding("r", "refresh", "Refresh", id="refresh"),
    ]

    class Loaded(Message):
        def __init__(self, report: AgingReport):
            super().__init__()
            self.report = report

    def __init__(self):
        super().__init__()
        self.basis = "due"
        self.as_of: date | None = None

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        with Horizontal(id="aging-controls"):
            yield Label(t("aging.as_of"), classes="form-label")
            yield Input(self.app.today().isoformat(), id="as-of", compact=True, max_length=10)
            yield Label("", id="aging-basis")
        yield Static("", id="aging-error")
        yield DataTable(id="aging", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.as_of = self.app.today()
        self.query_one("#aging", DataTable).focus()
        super().on_mount()

    def reload(self) -> None:
        super().reload()
        self._show_basis()
        self.load(self.as_of, self.basis)

    def _show_basis(self) -> None:
        t = self.t
        self.query_one("#aging-basis", Label).update(f"{t('aging.basis')}: {t('aging.basis.' + self.basis)}")

    @work(exclusive=True, exit_on_error=False, group="aging")
    async def load(self, as_of: date, basis: str) -> None:
        self.post_message(self.Loaded(await self.app.db.run(reports.aging, as_of, basis=basis)))

    @on(Loaded)
    def show(self, message: Loaded) -> None:
        t, report = self.t, message.report
        table = self.query_one("#aging", DataTable)
        table.clear(columns=True)
        table.add_column(t("col.code"), key="customer")
        table.add_column(t("col.name"), key="name")
        table.add_column(t("col.currency"), key="currency")
        columns = [*report.buckets, UNAPPLIED, "total"]
        for label in columns:
            title = t("col.total") if label == "total" else t.bucket(label)
            table.add_column(Text(title, justify="right"), key=label)
        for row in report.rows:
            cur = row["currency"]
            table.add_row(row["customer"], row["name"], cur,
                          *(self._amount(row[c], cur, c) for c in columns), key=f"{row['customer']}/{cur}")
        for cur, totals in report.totals.items():
            table.add_row(Text(t("aging.totals", currency=cur), style="bold"), "", cur,
                          *(self._amount(totals[c], cur, c, bold=True) for c in columns), key=f"{TOTAL_KEY}/{cur}")
        error = "" if report.rows else t("aging.empty", date=report.as_of.isoformat())
        self.query_one("#aging-error", Static).update(error)

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

    def action_as_of(self) -> None:
        self.set_focus(self.query_one("#as-of", Input))

    def action_refresh(self) -> None:
        self.reload()

    @on(Input.Submitted, "#as-of")
    def as_of_submitted(self, event: Input.Submitted) -> None:
        try:
            self.as_of = parse_date(event.value, "as of")
        except DulyError as exc:
            self.query_one("#aging-error", Static).update(str(exc))
            return
        self.query_one("#aging", DataTable).focus()
        self.reload()

    @on(DataTable.RowSelected, "#aging")
    def open_customer(self, event: DataTable.RowSelected) -> None:
        code, _ = str(event.row_key.value).rsplit("/", 1)
        if code != TOTAL_KEY:
            self.app.push_screen(CustomerScreen(code))
