"""Exchange rates (汇率) to the ledger's base currency: the rates kept, paged from SQLite by currency and newest date;
a rate typed in a form or a rates file imported (checked whole, shown before it is written); and the two exchange
difference reports, unrealised (revaluation as of a date) and realised (payments over a period), one tab each.
Every write and figure is the CLI's: `duly rate set|import|list`, `duly report revaluation|fx-realised`."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import (Button, Footer, Header, Input, Label, Static, TabbedContent,
                             TabPane)

from store.errors import DulyError, InvalidInput
from store.files import rates as rate_files
from store.read import fx as fxread
from store.rules import fx, money, validate
from store.rules.money import format_amount
from store.write import fx as fxwrite
from store.write.terms import home_currency
from store.i18n import N_
from tui.screens.base import FittedFooter, PagedListScreen
from tui.screens.dialog_form import DialogForm, Field
from tui.widgets.cells import amount_cell
from tui.widgets.file_picker import FilePicker
from tui.widgets.table import DataTable

PAGE = 100
SHOWN = 15  # rows of a file's preview shown


def conversion_note(t, conv: fxread.Conversion | None) -> str:
    """What a report in one currency says under its figures (as `--in` does): the rate used for each currency,
    with its date, and the currencies left out for want of a rate. Empty when nothing was converted."""
    if conv is None:
        return ""
    used = ", ".join(f"{cur} {fx.rate_text(r.rate)} ({r.on.isoformat()})" for cur, r in sorted(conv.used.items()))
    lines = [t("fx.in", currency=conv.target, date=conv.as_of.isoformat(), rates=used or t("fx.none_needed"))]
    if conv.missing:
        lines.append(t("fx.missing", date=conv.as_of.isoformat(), currencies=", ".join(conv.missing)))
    return "\n".join(lines)


def rates_page(ledger, currency: str | None, after, limit: int) -> tuple[str, list[dict]]:
    """The base currency and one page of rates (on the database thread)."""
    return home_currency(ledger), fxread.rate_page(ledger, currency=currency, after=after, limit=limit)


def exchange_differences(ledger, as_of: date, start: date, end: date) -> tuple[dict, dict]:
    """`report revaluation --as-of` and `report fx-realised --from --to`, as the CLI reads them."""
    return fxread.revaluation(ledger, as_of), fxread.realised(ledger, start, end)


def set_rate(ledger, currency: str, on: str, rate: str, per: str, t) -> str:
    saved = fxwrite.set_rate(ledger, currency, on, rate, per=units(per))
    return t("rates.saved", currency=saved["currency"], rate=saved["rate"], base=saved["base"], date=saved["date"])


def units(text: str) -> int:
    """The units a rate is quoted for (1, or 100 as the PBOC's table): a positive whole number."""
    value = (text or "1").strip()
    if not value.isdigit() or int(value) <= 0:
        raise InvalidInput(N_("per {text}: must be a positive number of units"), text=repr(text), field="per")
    return int(value)


def rate_check(text: str) -> None:
    fx.parse_rate(text, where="rate")


def currency_check(text: str) -> None:
    money.check_currency(text)


def date_check(text: str) -> None:
    validate.iso_date(text, "date")


class RatesScreen(PagedListScreen):
    LIST_ID, PAGE_GROUP, EMPTY_KEY = "rates", "rates-page", "rates.none"
    BINDINGS = [
        Binding("n", "add_rate", "Add rate", id="add_rate"),
        Binding("i", "import_rates", "Import", id="import_rates"),
        Binding("slash", "filter_currency", "Filter", id="rate_search", key_display="/"),
        Binding("v", "next_tab", "Next tab", id="fx_next_tab"),
        Binding("t", "dates", "Dates", id="fx_dates"),
        Binding("r", "refresh", "Refresh", id="refresh"),
    ]

    class PageLoaded(Message):
        def __init__(self, generation: int, base: str, rows: list[dict], more: bool):
            super().__init__()
            self.generation, self.base, self.rows, self.more = generation, base, rows, more

    class Differences(Message):
        def __init__(self, revaluation: dict, realised: dict):
            super().__init__()
            self.revaluation, self.realised = revaluation, realised

    def __init__(self):
        super().__init__()
        self.base = ""

    def compose(self) -> ComposeResult:
        t, today = self.t, self.app.today()
        yield Header()
        with TabbedContent(id="rates-tabs"):
            with TabPane(t("rates.tab.rates"), id="tab-rates"):
                with Horizontal(classes="filters"):
                    yield Label(t("rates.title"), id="rates-title")
                    yield Input(placeholder=t("col.currency"), id="rates-currency", compact=True, max_length=3)
                yield DataTable(id="rates", cursor_type="row", zebra_stripes=True)
                yield Static("", id="rates-status", classes="status")
            with TabPane(t("rates.tab.revaluation"), id="tab-reval"):
                with Horizontal(classes="filters"):
                    yield Label(t("aging.as_of"))
                    yield Input(today.isoformat(), id="reval-as-of", compact=True, max_length=10)
                yield Static("", id="reval-note", classes="fx-note")
                yield DataTable(id="reval", cursor_type="row", zebra_stripes=True)
            with TabPane(t("rates.tab.realised"), id="tab-realised"):
                with Horizontal(classes="filters"):
                    yield Label(t("rates.from"))
                    yield Input(today.replace(month=1, day=1).isoformat(), id="realised-from", compact=True,
                                max_length=10)
                    yield Label(t("rates.to"))
                    yield Input(today.isoformat(), id="realised-to", compact=True, max_length=10)
                yield Static("", id="realised-note", classes="fx-note")
                yield DataTable(id="realised", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        t = self.t
        table = self.query_one("#rates", DataTable)
        table.add_column(t("rates.col.pair"), key="pair")
        table.add_column(t("col.date"), key="date")
        table.add_column(Text(t("rates.col.rate"), justify="right"), key="rate")
        table.add_column(t("rates.col.source"), key="source")
        self.watch(table, "scroll_y", lambda _v: self._maybe_more(), init=False)
        # the difference right after the amount, so it shows at 80 columns; the rates and converted amounts follow
        reval = self.query_one("#reval", DataTable)
        for key in ("customer", "number"):
            reval.add_column(t(f"col.{key}"), key=key)
        for key in ("open", "difference", "booked_rate", "rate", "booked", "revalued"):
            reval.add_column(Text(t(f"rates.col.{key}"), justify="right"), key=key)
        realised = self.query_one("#realised", DataTable)
        for key in ("payment", "invoice", "customer"):
            realised.add_column(t(f"rates.col.{key}"), key=key)
        for key in ("amount", "difference", "invoice_rate", "payment_rate", "booked", "received"):
            realised.add_column(Text(t(f"rates.col.{key}"), justify="right"), key=key)
        realised.add_column(t("rates.col.date"), key="date")
        table.focus()
        super().on_mount()

    def reload(self) -> None:
        super().reload()
        self.restart_pages()
        self.load_differences()

    # -- the rates list ------------------------------------------------------------------------------
    def page_query(self) -> str | None:
        return self.query_one("#rates-currency", Input).value.strip() or None

    @work(exclusive=True, exit_on_error=False, group="rates-page")
    async def fetch_page(self, generation: int, currency: str | None, after) -> None:
        try:
            base, rows = await self.db(rates_page, currency, after, PAGE + 1)
        except DulyError as exc:  # a currency filter that is not a currency
            self.loading = False
            self.query_one("#rates-status", Static).update(Text(exc.text(self.app.language), style="red"))
            return
        self.post_message(self.PageLoaded(generation, base, rows[:PAGE], len(rows) > PAGE))

    @on(PageLoaded)
    def page_loaded(self, message: PageLoaded) -> None:
        if message.generation != self.generation:
            return
        self.base = message.base
        table = self.query_one("#rates", DataTable)
        for r in message.rows:
            source = self.t("rates.source.manual") if r["source"] == "manual" else (r["source"] or "")
            table.add_row(f"{r['currency']}/{message.base}", r["date"], Text(r["rate"], justify="right"), source,
                          key=r["id"])
        last = message.rows[-1] if message.rows else None
        self.page_done(message.rows, message.more, last and (last["currency"], last["date"]))

    @on(DataTable.RowHighlighted, "#rates")
    def highlighted(self, _event) -> None:
        self._maybe_more()

    @on(Input.Submitted, "#rates-currency")
    def filter_submitted(self) -> None:
        self.set_focus(self.query_one("#rates", DataTable))
        self.restart_pages()

    def action_filter_currency(self) -> None:
        self.action_tab("tab-rates")
        self.set_focus(self.query_one("#rates-currency", Input))

    # -- the exchange differences -------------------------------------------------------------------
    def _dates(self) -> tuple[date, date, date] | None:
        values = {}
        for key, wid in (("as_of", "#reval-as-of"), ("from", "#realised-from"), ("to", "#realised-to")):
            try:
                values[key] = validate.parse_date(self.query_one(wid, Input).value, self.t(f"rates.{key}"))
            except DulyError as exc:
                note = "#reval-note" if key == "as_of" else "#realised-note"
                self.query_one(note, Static).update(Text(exc.text(self.app.language), style="red"))
                return None
        return values["as_of"], values["from"], values["to"]

    def load_differences(self) -> None:
        dates = self._dates()
        if dates is not None:
            self.fetch_differences(*dates)

    @work(exclusive=True, exit_on_error=False, group="rates-differences")
    async def fetch_differences(self, as_of: date, start: date, end: date) -> None:
        self.post_message(self.Differences(*await self.app.db.run_background(exchange_differences, as_of, start,
                                                                             end)))

    @on(Differences)
    def show_differences(self, message: Differences) -> None:
        t = self.t
        reval, real = message.revaluation, message.realised
        base = reval["base"]
        table = self.query_one("#reval", DataTable)
        table.clear()
        for r in reval["rows"]:
            table.add_row(r["customer"], r["number"], self._money(r["open"], r["currency"]),
                          self._difference(r["difference"], base),
                          *(Text(fx.rate_text(r[k]), justify="right") for k in ("booked_rate", "rate")),
                          *(amount_cell(r[k], base) for k in ("booked", "revalued")), key=r["number"])
        if reval["rows"]:
            table.add_row(Text(t("col.total"), style="bold"), "", "",
                          self._difference(reval["difference"], base, bold=True), "", "", "", "", key=" total")
        self.query_one("#reval-note", Static).update(self._note(
            t("rates.reval_line", date=reval["as_of"].isoformat(), base=base,
              difference=format_amount(reval["difference"], base)) if reval["rows"] else
            t("rates.reval_none", date=reval["as_of"].isoformat()), reval["missing"], "rates.missing_invoices"))
        table = self.query_one("#realised", DataTable)
        table.clear()
        for n, r in enumerate(real["rows"]):
            table.add_row(r["payment"] or "", r["invoice"], r["customer"], self._money(r["amount"], r["currency"]),
                          self._difference(r["difference"], base),
                          *(Text(fx.rate_text(r[k]), justify="right") for k in ("invoice_rate", "payment_rate")),
                          *(amount_cell(r[k], base) for k in ("booked", "received")), r["date"],
                          key=f"{r['payment']}/{r['invoice']}/{n}")
        if real["rows"]:
            table.add_row(Text(t("col.total"), style="bold"), "", "", "",
                          self._difference(real["difference"], base, bold=True), "", "", "", "", "", key=" total")
        self.query_one("#realised-note", Static).update(self._note(
            t("rates.realised_line", start=real["from"].isoformat(), end=real["to"].isoformat(), base=base,
              difference=format_amount(real["difference"], base)) if real["rows"] else
            t("rates.realised_none", start=real["from"].isoformat(), end=real["to"].isoformat()),
            real["missing"], "rates.missing_payments"))

    def _note(self, line: str, missing: list[dict], key: str) -> str:
        if not missing:
            return line
        currencies = ", ".join(sorted({m["currency"] for m in missing}))
        return line + "\n" + self.t(key, n=len(missing), currencies=currencies)

    @staticmethod
    def _money(minor: int, currency: str) -> Text:
        return Text(f"{format_amount(minor, currency)} {currency}", justify="right")

    @staticmethod
    def _difference(value: int, base: str, *, bold: bool = False) -> Text:
        style = ("green" if value > 0 else "red" if value < 0 else "") + (" bold" if bold else "")
        return Text(format_amount(value, base), justify="right", style=style.strip())

    @on(Input.Submitted, "#reval-as-of")
    @on(Input.Submitted, "#realised-from")
    @on(Input.Submitted, "#realised-to")
    def dates_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "realised-from":
            self.set_focus(self.query_one("#realised-to", Input))
            return
        self.set_focus(self.query_one("#reval" if event.input.id == "reval-as-of" else "#realised", DataTable))
        self.load_differences()

    # -- keys ----------------------------------------------------------------------------------------
    TABS = ("tab-rates", "tab-reval", "tab-realised")

    def action_next_tab(self) -> None:
        """Rates → revaluation → realised → rates."""
        active = self.query_one("#rates-tabs", TabbedContent).active
        self.action_tab(self.TABS[(self.TABS.index(active) + 1) % len(self.TABS)] if active in self.TABS
                        else self.TABS[0])

    def action_tab(self, tab: str) -> None:
        self.query_one("#rates-tabs", TabbedContent).active = tab
        self.set_focus(self.query_one({"tab-rates": "#rates", "tab-reval": "#reval",
                                       "tab-realised": "#realised"}[tab], DataTable))

    def action_dates(self) -> None:
        active = self.query_one("#rates-tabs", TabbedContent).active
        if active == "tab-rates":
            self.action_tab("tab-reval")
            active = "tab-reval"
        self.set_focus(self.query_one("#reval-as-of" if active == "tab-reval" else "#realised-from", Input))

    def action_refresh(self) -> None:
        self.reload()

    def action_add_rate(self) -> None:
        t = self.t
        fields = [
            Field("currency", t("col.currency"), self.page_query() or "", required=True, check=currency_check,
                  placeholder="USD"),
            Field("rate", t("rates.f.rate", base=self.base or "…"), required=True, check=rate_check,
                  placeholder="7.1234"),
            Field("date", t("col.date"), self.app.today().isoformat(), required=True, check=date_check),
            Field("per", t("rates.f.per"), "1", required=True, check=units),
        ]

        async def save(v: dict) -> str:
            return await self.db(set_rate, v["currency"], v["date"], v["rate"], v["per"], t)

        self.app.push_screen(DialogForm(t("rates.add_title"), fields, save, hint=t("rates.add_hint")), self._written)

    def action_import_rates(self) -> None:
        self.app.push_screen(RatesImportScreen(), lambda done: done and self._written(done))

    def _written(self, text: str | None) -> None:
        if text:
            self.app.ledger_changed()
            self.notify(text, timeout=8)
            self.reload()


# -- import a rates file -------------------------------------------------------------------------------


def import_rates(ledger, path: str, per: str, dry_run: bool) -> dict:
    """What a rates file holds, checked whole (dry_run: nothing written), or imported in one transaction."""
    if dry_run:
        rows = rate_files.preview(ledger, path, per=units(per))
        return {"count": len(rows), "rows": rows[:SHOWN], "more": max(0, len(rows) - SHOWN),
                "base": home_currency(ledger)}
    return {"count": rate_files.import_file(ledger, path, per=units(per)), "rows": [], "more": 0,
            "base": home_currency(ledger)}


class RatesImportScreen(FittedFooter, Screen[str | None]):
    """Pick a rates file (CSV/XLSX: date, currency, rate, or 日期, 币种, 中间价) in a directory tree, see what it
    holds with nothing written, then import it. Dismisses with the line saying what was imported, or None."""

    NAVIGATES = False
    BINDINGS = [
        Binding("ctrl+r", "preview", "Preview", id="rates_preview"),
        Binding("ctrl+s", "import", "Import", id="rates_import"),
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]

    class Result(Message):
        def __init__(self, outcome: dict | None, error: str | None, dry_run: bool, path: str):
            super().__init__()
            self.outcome, self.error, self.dry_run, self.path = outcome, error, dry_run, path

    def __init__(self, start: Path | None = None):
        super().__init__()
        self.start = Path(start or Path.cwd())

    @property
    def t(self):
        return self.app.t

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        yield Label(t("rates.import_title"), id="form-title")
        with Horizontal(id="bank-body"):
            yield FilePicker(self.start, label=t("bank.file"), hint=t("rates.file_hint"), tree_id="rates-tree",
                             input_id="rates-file", id="rates-picker")
            with Vertical(id="bank-side"):
                yield Label(t("rates.f.per"))
                yield Input("1", id="rates-per", compact=True, max_length=6)
                with Horizontal(classes="buttons"):
                    yield Button(t("bank.preview_button"), id="rates-preview")
                    yield Button(t("bank.import_button"), id="rates-import", variant="primary")
                with VerticalScroll():
                    yield Static(t("rates.import_none_yet"), id="rates-result")
        yield Footer()

    def on_mount(self) -> None:
        self.set_up_footer()
        self.query_one("#rates-tree").focus()

    @on(FilePicker.Chosen)
    def picked(self, event: FilePicker.Chosen) -> None:
        self.action_preview()

    def _chosen(self) -> tuple[str, str]:
        return self.query_one(FilePicker).path, self.query_one("#rates-per", Input).value

    @on(Button.Pressed, "#rates-preview")
    def action_preview(self) -> None:
        self.run_import(*self._chosen(), True)

    @on(Button.Pressed, "#rates-import")
    def action_import(self) -> None:
        self.run_import(*self._chosen(), False)

    def run_import(self, path: str, per: str, dry_run: bool) -> None:
        if not path:
            self.query_one("#rates-result", Static).update(Text(self.t("bank.pick_first"), style="red"))
            return
        self.query_one("#rates-result", Static).update(self.t("bank.reading"))
        self.read(path, per, dry_run)

    @work(exclusive=True, group="rates-import", exit_on_error=False)
    async def read(self, path: str, per: str, dry_run: bool) -> None:
        try:
            outcome = await self.app.db.run(import_rates, path, per, dry_run)
        except DulyError as exc:
            self.post_message(self.Result(None, exc.text(self.app.language), dry_run, path))
            return
        except OSError as exc:
            self.post_message(self.Result(None, self.t("bank.unreadable", path=path, reason=exc.strerror or str(exc)),
                                          dry_run, path))
            return
        self.post_message(self.Result(outcome, None, dry_run, path))

    @on(Result)
    def show_result(self, message: Result) -> None:
        t, result = self.t, self.query_one("#rates-result", Static)
        if message.error:
            result.update(Text(message.error, style="red"))
            return
        o = message.outcome
        if not message.dry_run:
            self.dismiss(t("rates.imported", n=o["count"], file=Path(message.path).name))
            return
        rows = [f"{cur}/{o['base']}  {day}  {rate:>14}" for cur, day, rate in o["rows"]]
        if o["more"]:
            rows.append(t("bank.more", n=o["more"]))
        result.update("\n".join([t("rates.would", n=o["count"]), "", *rows]))

    def action_cancel(self) -> None:
        self.dismiss(None)
