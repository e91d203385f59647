"""Reports (报表) as of a date: AR summary, the trends of the last 12 months (receivable and overdue, DSO) as
charts, DSO, the 13-week cash-in forecast (bars and table) and the bad-debt provision."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from rich.table import Table
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Header, Input, Label, Static

from store.read import reports
from store.read.open import Position, position
from store.errors import DulyError
from store.rules.money import format_amount
from store.rules.validate import parse_date
from tui.screens.base import DulyScreen
from tui.widgets.bars import BarRow, Bars, legend

TREND_MONTHS = 12
DSO_DAYS = 90  # the DSO period of the table and the chart


@dataclass
class ReportData:
    """The reports as of a date, each filled in as it is computed (None: still to come)."""
    as_of: date
    summary: dict[str, dict[str, int]]
    dso: dict[str, dict[str, Any]] | None = None
    forecast: list[dict[str, Any]] | None = None
    provision: dict[str, Any] | None = None


# The parts after the summary, cheapest first, so that each is shown as soon as it is computed: name -> the
# report, given the position as of the date (read once for all of them).
PARTS = {
    "dso": lambda ledger, as_of, pos: reports.dso(ledger, as_of, DSO_DAYS, pos=pos),
    "provision": lambda ledger, as_of, pos: reports.provision(ledger, as_of, pos=pos),
    "forecast": lambda ledger, as_of, pos: reports.forecast(ledger, as_of, pos=pos),
}


def summary_data(ledger, as_of: date) -> tuple[Position, ReportData]:
    """The open position as of the date and the summary built on it: the first report the screen shows (runs on
    the database thread)."""
    pos = position(ledger, as_of)
    return pos, ReportData(as_of, reports.summary(ledger, as_of, pos))


def part_data(ledger, name: str, as_of: date, pos: Position):
    """One report after the summary, on the same position (runs on the database thread)."""
    return PARTS[name](ledger, as_of, pos)


def trend_data(ledger, as_of: date) -> list[dict[str, Any]]:
    """The month-by-month trend the charts draw (runs on the database thread, after the tables)."""
    return reports.trend(ledger, as_of, TREND_MONTHS, DSO_DAYS)


class ReportsScreen(DulyScreen):
    BINDINGS = [
        Binding("t", "as_of", "As of", id="as_of"),
        Binding("r", "refresh", "Refresh", id="refresh"),
        Binding("u", "chart_currency", "Chart currency", id="chart_currency"),
    ]

    class Loaded(Message):
        def __init__(self, data: ReportData):
            super().__init__()
            self.data = data

    class TrendLoaded(Message):
        def __init__(self, rows: list[dict[str, Any]]):
            super().__init__()
            self.rows = rows

    def __init__(self):
        super().__init__()
        self.as_of: date | None = None
        self.data: ReportData | None = None
        self.trend: list[dict[str, Any]] | None = None
        self.chart_currency: str | None = None  # the currency the charts draw; u shows the next

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        with Horizontal(id="reports-controls", classes="filters"):
            yield Label(t("aging.as_of"), classes="form-label")
            yield Input(self.app.today().isoformat(), id="reports-as-of", compact=True, max_length=10)
        yield Static("", id="reports-error")
        with VerticalScroll(id="reports"):
            for name in ("summary", "trend", "dso", "forecast", "provision"):
                yield Label(t(f"rep.{name}"), classes="section")
                if name == "trend":
                    yield Bars(t("dash.loading"), id="chart-receivable", classes="chart")
                    yield Bars("", id="chart-dso", classes="chart")
                    continue
                if name == "forecast":
                    yield Bars(t("dash.loading"), id="chart-forecast", classes="chart")
                yield Static(t("dash.loading"), id=f"rep-{name}")
        yield Footer()

    def on_mount(self) -> None:
        self.as_of = self.app.today()
        self.query_one("#reports", VerticalScroll).focus()
        super().on_mount()

    def reload(self) -> None:
        super().reload()
        self.load(self.as_of)

    @work(exclusive=True, exit_on_error=False, group="reports")
    async def load(self, as_of: date) -> None:
        """The summary first, then each report as soon as it is computed, the trend last: one job each on the
        database thread, so a page asked for meanwhile waits for one report at most."""
        run = self.app.db.run_background
        pos, data = await run(summary_data, as_of)
        self.post_message(self.Loaded(data))
        for name in PARTS:
            setattr(data, name, await run(part_data, name, as_of, pos))
            self.post_message(self.Loaded(data))
        del pos
        self.post_message(self.TrendLoaded(await run(trend_data, as_of)))

    def _table(self, *columns: str, right_from: int = 1) -> Table:
        table = Table(box=None, padding=(0, 2), header_style="bold")
        for i, name in enumerate(columns):
            table.add_column(name, justify="right" if i >= right_from else "left", no_wrap=True)
        return table

    @on(Loaded)
    def show(self, message: Loaded) -> None:
        """Each report computed so far; the others keep saying they are loading."""
        t, data = self.t, message.data
        self.data = data
        tables = {"summary": self._summary(data)}
        if data.dso is not None:
            dso = tables["dso"] = self._table(t("col.currency"), t("rep.receivables"), t("rep.sales", days=90),
                                              t("rep.dso"))
            for cur, d in data.dso.items():
                dso.add_row(cur, format_amount(d["receivables"], cur), format_amount(d["sales"], cur),
                            "—" if d["dso"] is None else str(d["dso"]))
        if data.forecast is not None:
            forecast = tables["forecast"] = self._table(t("rep.week"), t("rep.from"), t("col.currency"),
                                                        t("col.amount"), right_from=3)
            for row in data.forecast:
                if row["amount"]:
                    week = {"later": t("rep.later"), reports.FORECAST_CREDIT: t("rep.credit_left")}.get(
                        row["week"], row["week"])
                    if row.get("source") == "recurring":  # what schedules will issue: never mixed with open items
                        week = f"{week} {t('rep.recurring')}"
                    forecast.add_row(week, row["start"].isoformat(), row["currency"],
                                     format_amount(row["amount"], row["currency"]))
        if data.provision is not None:
            provision = tables["provision"] = self._table(t("col.currency"), t("rep.bucket"), t("col.open"),
                                                          t("rep.rate"), t("rep.provision"), right_from=2)
            for row in data.provision["rows"]:
                cur = row["currency"]
                provision.add_row(cur, t.bucket(row["bucket"]), format_amount(row["open_amount"], cur),
                                  f"{row['rate_bp'] / 100:g}%", format_amount(row["provision"], cur))
            for cur, tot in data.provision["totals"].items():
                provision.add_row(f"[bold]{cur}[/]", f"[bold]{t('col.total')}[/]",
                                  format_amount(tot["open_amount"], cur), "",
                                  f"[bold]{format_amount(tot['provision'], cur)}[/]")
        empty = t("aging.empty", date=data.as_of.isoformat())
        for name in PARTS:
            if name not in tables:  # still to come (after a new date: not the last date's table)
                self.query_one(f"#rep-{name}", Static).update(t("dash.loading"))
        for name, table in tables.items():
            shown = table.row_count and (data.summary or name == "dso")  # the summary has its row titles always
            self.query_one(f"#rep-{name}", Static).update(table if shown else empty)
        self.draw_forecast()

    def _summary(self, data: ReportData) -> Table:
        """One column per currency, so that it fits 80 columns whatever the amounts (never an ellipsis)."""
        t = self.t
        summary = self._table("", *data.summary)
        for key, title in (("receivable", "dash.receivable"), ("overdue", "dash.overdue"), ("not_due", "dash.not_due"),
                           ("unapplied", "dash.unapplied"), ("balance", "rep.balance"),
                           ("open_invoices", "rep.open_invoices"), ("customers", "dash.customers")):
            summary.add_row(t(title), *(str(s[key]) if key in ("open_invoices", "customers")
                                        else format_amount(s[key], cur) for cur, s in data.summary.items()))
        return summary

    # -- the charts ------------------------------------------------------------------------------------
    def _currencies(self) -> list[str]:
        found = {r["currency"] for r in self.trend or []}
        found |= {r["currency"] for r in (self.data.forecast or [] if self.data else [])}
        return sorted(found)

    def _currency(self) -> str | None:
        """The charts' currency: the one chosen with u, else the one with the most receivable as of the date (the
        book's main currency; the summary's figure, which is also the trend's last point)."""
        currencies = self._currencies()
        if self.chart_currency in currencies:
            return self.chart_currency
        summary = self.data.summary if self.data else {}
        among = [c for c in currencies if c in summary]
        if among:
            return max(among, key=lambda c: (summary[c]["receivable"], c))
        return currencies[0] if currencies else None

    @on(TrendLoaded)
    def trend_loaded(self, message: TrendLoaded) -> None:
        self.trend = message.rows
        self.draw_trend()
        self.draw_forecast()

    def draw_trend(self) -> None:
        if self.trend is None:
            return
        t, cur = self.t, self._currency()
        rows = [r for r in self.trend if r["currency"] == cur]
        receivable = self.query_one("#chart-receivable", Bars)
        dso = self.query_one("#chart-dso", Bars)
        if not rows:
            receivable.show(t("chart.empty"), [])
            dso.show("", [])
            return
        receivable.show(
            t("chart.receivable", currency=cur, months=len(rows)),
            [BarRow(r["month"], ((r["overdue"], "red"), (r["receivable"] - r["overdue"], "green")),
                    (format_amount(r["receivable"], cur), format_amount(r["overdue"], cur))) for r in rows],
            columns=(t("dash.receivable"), t("dash.overdue")),
            legend=legend((t("dash.overdue"), "red"), (t("dash.not_due"), "green")))
        # DSO in tenths of a day, so the bars keep its decimal
        dso.show(t("chart.dso", currency=cur, days=DSO_DAYS),
                 [BarRow(r["month"], ((0 if r["dso"] is None else int(r["dso"] * 10), "cyan"),),
                         ("—" if r["dso"] is None else str(r["dso"]),)) for r in rows],
                 columns=(t("chart.days"),))

    def draw_forecast(self) -> None:
        if self.data is None or self.data.forecast is None:
            return
        t, cur = self.t, self._currency()
        rows = [r for r in self.data.forecast if r["currency"] == cur and r.get("source") == "open_items"
                and r["week"] != reports.FORECAST_CREDIT]
        chart = self.query_one("#chart-forecast", Bars)
        if not rows:
            chart.show(t("chart.empty"), [])
            return
        chart.show(t("chart.forecast", currency=cur, weeks=len(rows) - 1),
                   [BarRow(f"{r['week']:>2} {r['start']:%m-%d}" if r["week"] != "later"
                           else f"{t('rep.later')} {r['start']:%m-%d}",
                           ((r["amount"], "green"),), (format_amount(r["amount"], cur),)) for r in rows],
                   columns=(t("col.amount"),))

    def action_chart_currency(self) -> None:
        currencies = self._currencies()
        if len(currencies) < 2:
            return
        now = self._currency()
        self.chart_currency = currencies[(currencies.index(now) + 1) % len(currencies)] if now in currencies \
            else currencies[0]
        self.draw_trend()
        self.draw_forecast()

    def action_as_of(self) -> None:
        self.set_focus(self.query_one("#reports-as-of", Input))

    def action_refresh(self) -> None:
        self.reload()

    @on(Input.Submitted, "#reports-as-of")
    def as_of_submitted(self, event: Input.Submitted) -> None:
        try:
            self.as_of = parse_date(event.value, "as of")
        except DulyError as exc:
            self.query_one("#reports-error", Static).update(self.app.t.error(exc))
            return
        self.query_one("#reports-error", Static).update("")
        self.query_one("#reports", VerticalScroll).focus()
        self.reload()
