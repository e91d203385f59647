"""The dashboard (总览): per currency what is owed, overdue and not due, aging bars, top overdue customers, what
falls due today, and the risk alerts (loaded last, at idle priority: they score the whole book). `c` shows the
figures in the ledger's base currency instead (what `report summary --in CUR` gives), saying which rates it used
and which currencies it left out for want of a rate."""
from __future__ import annotations

import asyncio
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Header, Label, Static

from store.read.open import position as open_position
from store.read import fx as fxread
from store.read import reports
from store.rules.aging import NOT_DUE, UNAPPLIED
from store.rules.money import format_amount
from store.write.terms import home_currency
from tui.screens.base import DulyScreen
from tui.screens.customer import CustomerScreen
from tui.screens.rates import conversion_note
from tui.widgets.bars import AgingBars
from tui.widgets.table import DataTable

TOP = 10


@dataclass
class CurrencyTotals:
    currency: str
    receivable: int
    overdue: int
    not_due: int
    unapplied: int  # negative: money received, not yet applied
    balance: int
    customers: int
    buckets: list[tuple[str, int]]


@dataclass
class DashboardData:
    as_of: date
    currencies: list[CurrencyTotals] = field(default_factory=list)
    top_overdue: list[dict] = field(default_factory=list)
    due_today: list[dict] = field(default_factory=list)  # open instalments due on the as-of date
    conversion: fxread.Conversion | None = None  # in the base currency: the rates used, the currencies left out
    partial: bool = False  # the totals only (dashboard_totals): the bars and the lists come next


def dashboard_totals(ledger, as_of: date) -> DashboardData:
    """The totals per currency alone, what the dashboard shows first: the open position and the summary, without
    the aging of every customer that the bars and the lists need (dashboard_data, next, on the same position)."""
    figures = reports.summary(ledger, as_of, pos=open_position(ledger, as_of))
    data = DashboardData(as_of, partial=True)
    for currency in sorted(figures):  # as the aging report orders its totals
        f = figures[currency]
        data.currencies.append(CurrencyTotals(currency, f["receivable"], f["overdue"], f["not_due"], f["unapplied"],
                                              f["balance"], f["customers"], []))
    return data


def dashboard_data(ledger, as_of: date, in_base: bool = False) -> DashboardData:
    """Everything the dashboard shows, from the aging report (runs in a worker thread); in_base: its money in
    the ledger's base currency, converted as `report summary --in` and `report aging --in` convert."""
    pos = open_position(ledger, as_of)
    report = reports.aging(ledger, as_of, pos=pos)
    overdue_labels = [label for label in report.buckets if label != NOT_DUE]
    data = DashboardData(as_of)
    figures = reports.summary(ledger, as_of, pos=pos)  # the same figures, under the same names, as `report summary`
    if in_base:
        base = home_currency(ledger)
        report, data.conversion = fxread.aging_in(report, ledger, base)
        figures, _ = fxread.summary_in(figures, ledger, base, as_of)
        for row in figures.values():  # customers with a balance, in the base currency (one row each in aging)
            row["customers"] = sum(1 for r in report.rows if r["total"])
    for currency, totals in report.totals.items():
        f = figures.get(currency, {})
        data.currencies.append(CurrencyTotals(
            currency=currency,
            receivable=f.get("receivable", 0),
            overdue=f.get("overdue", 0),
            not_due=f.get("not_due", 0),
            unapplied=f.get("unapplied", 0),
            balance=f.get("balance", 0),
            customers=f.get("customers", 0),
            buckets=[(label, totals[label]) for label in report.buckets] + [(UNAPPLIED, totals.get(UNAPPLIED, 0))],
        ))
    overdue = []
    for row in report.rows:
        amount = sum(row[label] for label in overdue_labels)
        if amount > 0:
            overdue.append({**row, "overdue": amount})
    overdue.sort(key=lambda r: (-r["overdue"], r["customer"]))
    data.top_overdue = overdue[:TOP]
    due = [it for it in pos.items if it.due_date == as_of and it.open_amount > 0]
    due.sort(key=lambda it: (-it.open_amount, it.number))
    data.due_today = [{"customer": it.customer, "name": it.name, "currency": it.currency, "number": it.number,
                       "amount": it.open_amount} for it in due[:TOP]]
    return data


def dashboard_alerts(ledger, as_of: date) -> list:
    from store.read import alerts  # scores every customer: the dashboard asks for it last, at idle priority

    return alerts.alerts(ledger, as_of)


def prepare_review_queue(ledger, as_of: date) -> None:
    """The collections screen's review queue worked out while the app is idle (it is kept until the ledger
    changes: store.write.review.build), so that screen shows it at once when asked for."""
    from store.write import review

    review.build(ledger, as_of)


class DashboardScreen(DulyScreen):
    BINDINGS = [
        Binding("c", "in_base", "In base currency", id="in_base"),
        Binding("r", "refresh", "Refresh", id="refresh"),
    ]
    in_base = False
    _totals_drawn: asyncio.Event | None = None  # set once the totals shown first are drawn (load waits for it)

    class Loaded(Message):
        def __init__(self, data: DashboardData):
            super().__init__()
            self.data = data

    class AlertsLoaded(Message):
        def __init__(self, found: list):
            super().__init__()
            self.found = found

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        with VerticalScroll(id="dashboard"):
            yield Label(t("dash.as_of", date=self.app.today().isoformat()), id="dash-as-of")
            yield Static(t("dash.loading"), id="dash-totals")
            yield Static("", id="dash-rates", classes="fx-note")
            yield VerticalScroll(id="dash-bars")
            yield Label(t("dash.top_overdue"), id="dash-top-title", classes="section")
            yield DataTable(id="dash-top", cursor_type="row", zebra_stripes=True)
            yield Label(t("dash.due_today"), id="dash-due-title", classes="section")
            yield DataTable(id="dash-due", cursor_type="row", zebra_stripes=True)
            yield Label(t("dash.alerts"), id="dash-alerts-title", classes="section")
            yield DataTable(id="dash-alerts", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        t = self.t
        table = self.query_one("#dash-top", DataTable)
        table.add_column(t("col.code"), key="code")
        table.add_column(t("col.name"), key="name")
        table.add_column(t("col.currency"), key="currency")
        table.add_column(Text(t("col.overdue"), justify="right"), key="overdue")
        table.add_column(Text(t("col.total"), justify="right"), key="total")
        due = self.query_one("#dash-due", DataTable)
        due.add_column(t("col.code"), key="code")
        due.add_column(t("col.name"), key="name")
        due.add_column(t("col.number"), key="number")
        due.add_column(Text(t("col.amount"), justify="right"), key="amount")
        found = self.query_one("#dash-alerts", DataTable)
        found.add_column(t("col.code"), key="code")
        found.add_column(t("col.kind"), key="kind")
        found.add_column(t("col.reason"), key="reason")
        super().on_mount()

    def action_refresh(self) -> None:
        self.reload()

    def action_in_base(self) -> None:
        self.in_base = not self.in_base
        self.reload()

    def reload(self) -> None:
        super().reload()
        self.load(self.app.today(), self.in_base)

    @work(exclusive=True, exit_on_error=False, group="dashboard")
    async def load(self, as_of: date, in_base: bool) -> None:
        """The totals first, then the bars and the lists, then the alerts (idle: they score the whole book)."""
        if not in_base:  # in the base currency the totals need the aging of every customer: all at once
            self._totals_drawn = asyncio.Event()
            self.post_message(self.Loaded(await self.app.db.run_background(dashboard_totals, as_of)))
            with suppress(TimeoutError):  # the rest once the totals are drawn: meanwhile it would slow them down
                await asyncio.wait_for(self._totals_drawn.wait(), 1.0)
        self.post_message(self.Loaded(await self.app.db.run_background(dashboard_data, as_of, in_base)))
        self.post_message(self.AlertsLoaded(await self.app.db.run_idle(dashboard_alerts, as_of)))
        await self.app.db.run_idle(prepare_review_queue, as_of)

    @on(Loaded)
    async def show(self, message: Loaded) -> None:
        t, data = self.t, message.data
        self.query_one("#dash-as-of", Label).update(t("dash.as_of", date=data.as_of.isoformat()))
        self.query_one("#dash-totals", Static).update(self._totals(data) if data.currencies else t("dash.empty"))
        note = self.query_one("#dash-rates", Static)
        note.update(conversion_note(t, data.conversion))
        note.display = data.conversion is not None  # no empty line when the figures are per currency
        if data.partial:
            if self._totals_drawn is not None:
                self.call_after_refresh(self._totals_drawn.set)
            return
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

        due = self.query_one("#dash-due", DataTable)
        due.clear()
        for row in data.due_today:
            due.add_row(row["customer"], row["name"], row["number"],
                        Text(format_amount(row["amount"], row["currency"], symbol=True), justify="right"),
                        key=f"{row['customer']}/{row['number']}")
        self.query_one("#dash-due-title", Label).update(
            t("dash.due_today") if data.due_today else t("dash.no_due_today"))

    @on(AlertsLoaded)
    def show_alerts(self, message: AlertsLoaded) -> None:
        t = self.t
        table = self.query_one("#dash-alerts", DataTable)
        table.clear()
        for n, alert in enumerate(message.found[:TOP]):
            table.add_row(alert.customer, t(f"alert.{alert.kind}"), alert.why(self.app.language),
                          key=f"{alert.customer}/{n}")
        title = t("dash.alerts", n=len(message.found)) if message.found else t("dash.no_alerts")
        self.query_one("#dash-alerts-title", Label).update(title)

    def _totals(self, data: DashboardData) -> Table:
        t = self.t
        rows = [
            [c.currency, format_amount(c.receivable, c.currency), format_amount(c.overdue, c.currency),
             format_amount(c.unapplied, c.currency), format_amount(c.balance, c.currency), str(c.customers)]
            for c in data.currencies
        ]
        table = Table(box=None, padding=(0, 1), header_style="bold")
        table.add_column(t("col.currency"), no_wrap=True)
        # not due = receivable - overdue: it is the first aging bar below, so the row fits 80 columns
        for i, key in enumerate(("dash.receivable", "dash.overdue", "dash.unapplied", "rep.balance",
                                 "dash.customers"), 1):
            # amounts never shrink into an ellipsis; a header may wrap instead
            table.add_column(t(key), justify="right", no_wrap=True, min_width=max(len(r[i]) for r in rows))
        styles = ["", "bold", "red", "", "bold", ""]
        for row, c in zip(rows, data.currencies):
            table.add_row(*(Text(text, style=style if (i != 2 or c.overdue) else "")
                            for i, (text, style) in enumerate(zip(row, styles))))
        return table

    @on(DataTable.RowSelected, "#dash-top")
    @on(DataTable.RowSelected, "#dash-due")
    @on(DataTable.RowSelected, "#dash-alerts")
    def open_customer(self, event: DataTable.RowSelected) -> None:
        code = str(event.row_key.value).rsplit("/", 1)[0]
        self.app.push_screen(CustomerScreen(code))
