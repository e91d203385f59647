"""The dashboard (总览): per currency what is owed, overdue and not due, aging bars, top overdue customers."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Label, Static

from store import reports
from store.aging import NOT_DUE, UNAPPLIED
from store.money import format_amount
from tui.screens.base import DulyScreen
from tui.screens.customer import CustomerScreen
from tui.widgets.bars import AgingBars

TOP = 10


@dataclass
class CurrencyTotals:
    currency: str
    receivable: int
    overdue: int
    not_due: int
    unapplied: int
    customers: int
    buckets: list[tuple[str, int]]


@dataclass
class DashboardData:
    as_of: date
    currencies: list[CurrencyTotals] = field(default_factory=list)
    top_overdue: list[dict] = field(default_factory=list)


def dashboard_data(ledger, as_of: date) -> DashboardData:
    """Everything the dashboard shows, from the aging report (runs in a worker thread)."""
    report = reports.aging(ledger, as_of)
    overdue_labels = [label for label in report.buckets if label != NOT_DUE]
    data = DashboardData(as_of)
    for currency, totals in report.totals.items():
        rows = [r for r in report.rows if r["currency"] == currency]
        data.currencies.append(CurrencyTotals(
            currency=currency,
            receivable=totals["total"],
            overdue=sum(totals[label] for label in overdue_labels),
            not_due=totals.get(NOT_DUE, 0),
            unapplied=totals.get(UNAPPLIED, 0),
            customers=len({r["customer"] for r in rows}),
            buckets=[(label, totals[label]) for label in report.buckets] + [(UNAPPLIED, totals.get(UNAPPLIED, 0))],
        ))
    overdue = []
    for row in report.rows:
        amount = sum(row[label] for label in overdue_labels)
        if amount > 0:
            overdue.append({**row, "overdue": amount})
    overdue.sort(key=lambda r: (-r["overdue"], r["customer"]))
    data.top_overdue = overdue[:TOP]
    return data


class DashboardScreen(DulyScreen):
    BINDINGS = [Binding("r", "refresh", "Refresh", id="refresh")]

    class Loaded(Message):
        def __init__(self, data: DashboardData):
            super().__init__()
            self.data = data

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        with VerticalScroll(id="dashboard"):
            yield Label(t("dash.as_of", date=self.app.today().isoformat()), id="dash-as-of")
            yield Static(t("dash.loading"), id="dash-totals")
            yield VerticalScroll(id="dash-bars")
            yield Label(t("dash.top_overdue"), id="dash-top-title", classes="section")
            yield DataTable(id="dash-top", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        t = self.t
        table = self.query_one("#dash-top", DataTable)
        table.add_column(t("col.code"), key="code")
        table.add_column(t("col.name"), key="name")
        table.add_column(t("col.currency"), key="currency")
        table.add_column(Text(t("col.overdue"), justify="right"), key="overdue")
        table.add_column(Text(t("col.total"), justify="right"), key="total")
        super().on_mount()

    def action_refresh(self) -> None:
        self.reload()

    def reload(self) -> None:
        super().reload()
        self.load(self.app.today())

    @work(exclusive=True, exit_on_error=False, group="dashboard")
    async def load(self, as_of: date) -> None:
        self.post_message(self.Loaded(await self.app.db.run_background(dashboard_data, as_of)))

    @on(Loaded)
    async def show(self, message: Loaded) -> None:
        t, data = self.t, message.data
        self.query_one("#dash-as-of", Label).update(t("dash.as_of", date=data.as_of.isoformat()))
        self.query_one("#dash-totals", Static).update(self._totals(data) if data.currencies else t("dash.empty"))
        bars = self.query_one("#dash-bars", VerticalScroll)
        await bars.remove_children()
        await bars.mount_all(
            AgingBars(t("dash.aging", currency=c.currency), [(t.bucket(label), v) for label, v in c.buckets],
                      c.currency, calm=t.bucket(NOT_DUE), classes="bars")
            for c in data.currencies
        )
        table = self.query_one("#dash-top", DataTable)
        table.clear()
        for row in data.top_overdue:
            cur = row["currency"]
            table.add_row(
                row["customer"], row["name"], cur,
                Text(format_amount(row["overdue"], cur), justify="right", style="red"),
                Text(format_amount(row["total"], cur), justify="right"),
                key=f"{row['customer']}/{cur}",
            )

    def _totals(self, data: DashboardData) -> Table:
        t = self.t
        rows = [
            [c.currency, format_amount(c.receivable, c.currency), format_amount(c.overdue, c.currency),
             format_amount(c.not_due, c.currency), format_amount(c.unapplied, c.currency), str(c.customers)]
            for c in data.currencies
        ]
        table = Table(box=None, padding=(0, 2), header_style="bold")
        table.add_column(t("col.currency"), no_wrap=True)
        for i, key in enumerate(("dash.receivable", "dash.overdue", "dash.not_due", "dash.unapplied",
                                 "dash.customers"), 1):
            # amounts never shrink into an ellipsis; a header may wrap instead
            table.add_column(t(key), justify="right", no_wrap=True, min_width=max(len(r[i]) for r in rows))
        styles = ["", "bold", "red", "green", "", ""]
        for row, c in zip(rows, data.currencies):
            table.add_row(*(Text(text, style=style if (i != 2 or c.overdue) else "")
                            for i, (text, style) in enumerate(zip(row, styles))))
        return table

    @on(DataTable.RowSelected, "#dash-top")
    def open_customer(self, event: DataTable.RowSelected) -> None:
        code = str(event.row_key.value).rsplit("/", 1)[0]
        self.app.push_screen(CustomerScreen(code))
