"""Reports (报表) as of a date: AR summary, DSO, the 13-week cash-in forecast and the bad-debt provision."""
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
from store.errors import DulyError
from store.rules.money import format_amount
from store.rules.validate import parse_date
from tui.screens.base import DulyScreen


@dataclass
class ReportData:
    as_of: date
    summary: dict[str, dict[str, int]]
    dso: dict[str, dict[str, Any]]
    forecast: list[dict[str, Any]]
    provision: dict[str, Any]


def report_data(ledger, as_of: date) -> ReportData:
    """Every report the screen shows (runs on the database thread)."""
    return ReportData(as_of, reports.summary(ledger, as_of), reports.dso(ledger, as_of),
                      reports.forecast(ledger, as_of), reports.provision(ledger, as_of))


class ReportsScreen(DulyScreen):
    BINDINGS = [
        Binding("t", "as_of", "As of", id="as_of"),
        Binding("r", "refresh", "Refresh", id="refresh"),
    ]

    class Loaded(Message):
        def __init__(self, data: ReportData):
            super().__init__()
            self.data = data

    def __init__(self):
        super().__init__()
        self.as_of: date | None = None

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        with Horizontal(id="reports-controls", classes="filters"):
            yield Label(t("aging.as_of"), classes="form-label")
            yield Input(self.app.today().isoformat(), id="reports-as-of", compact=True, max_length=10)
        yield Static("", id="reports-error")
        with VerticalScroll(id="reports"):
            for name in ("summary", "dso", "forecast", "provision"):
                yield Label(t(f"rep.{name}"), classes="section")
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
        self.post_message(self.Loaded(await self.app.db.run_background(report_data, as_of)))

    def _table(self, *columns: str, right_from: int = 1) -> Table:
        table = Table(box=None, padding=(0, 2), header_style="bold")
        for i, name in enumerate(columns):
            table.add_column(name, justify="right" if i >= right_from else "left", no_wrap=True)
        return table

    @on(Loaded)
    def show(self, message: Loaded) -> None:
        t, data = self.t, message.data
        # one column per currency, so that it fits 80 columns whatever the amounts (never an ellipsis)
        summary = self._table("", *data.summary)
        for key, title in (("receivable", "dash.receivable"), ("overdue", "dash.overdue"), ("not_due", "dash.not_due"),
                           ("unapplied", "dash.unapplied"), ("balance", "rep.balance"),
                           ("open_invoices", "rep.open_invoices"), ("customers", "dash.customers")):
            summary.add_row(t(title), *(str(s[key]) if key in ("open_invoices", "customers")
                                        else format_amount(s[key], cur) for cur, s in data.summary.items()))
        dso = self._table(t("col.currency"), t("rep.receivables"), t("rep.sales", days=90), t("rep.dso"))
        for cur, d in data.dso.items():
            dso.add_row(cur, format_amount(d["receivables"], cur), format_amount(d["sales"], cur),
                        "—" if d["dso"] is None else str(d["dso"]))
        forecast = self._table(t("rep.week"), t("rep.from"), t("col.currency"), t("col.amount"), right_from=3)
        for row in data.forecast:
            if row["amount"]:
                week = {"later": t("rep.later"), reports.FORECAST_CREDIT: t("rep.credit_left")}.get(row["week"],
                                                                                                   row["week"])
                if row.get("source") == "recurring":  # what schedules will issue: never mixed with open items
                    week = f"{week} {t('rep.recurring')}"
                forecast.add_row(week, row["start"].isoformat(), row["currency"],
                                 format_amount(row["amount"], row["currency"]))
        provision = self._table(t("col.currency"), t("rep.bucket"), t("col.open"), t("rep.rate"), t("rep.provision"),
                                right_from=2)
        for row in data.provision["rows"]:
            cur = row["currency"]
            provision.add_row(cur, t.bucket(row["bucket"]), format_amount(row["open_amount"], cur),
                              f"{row['rate_bp'] / 100:g}%", format_amount(row["provision"], cur))
        for cur, tot in data.provision["totals"].items():
            provision.add_row(f"[bold]{cur}[/]", f"[bold]{t('col.total')}[/]", format_amount(tot["open_amount"], cur),
                              "", f"[bold]{format_amount(tot['provision'], cur)}[/]")
        empty = t("aging.empty", date=data.as_of.isoformat())
        for name, table in (("summary", summary), ("dso", dso), ("forecast", forecast), ("provision", provision)):
            shown = table.row_count and (data.summary or name == "dso")  # the summary has its row titles always
            self.query_one(f"#rep-{name}", Static).update(table if shown else empty)

    def action_as_of(self) -> None:
        self.set_focus(self.query_one("#reports-as-of", Input))

    def action_refresh(self) -> None:
        self.reload()

    @on(Input.Submitted, "#reports-as-of")
    def as_of_submitted(self, event: Input.Submitted) -> None:
        try:
            self.as_of = parse_date(event.value, "as of")
        except DulyError as exc:
            self.query_one("#reports-error", Static).update(str(exc))
            return
        self.query_one("#reports-error", Static).update("")
        self.query_one("#reports", VerticalScroll).focus()
        self.reload()
