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

from store.read import fx as fxread
from store.read import reports, views
from store.rules.aging import BASES, NOT_DUE, UNAPPLIED, AgingReport
from store.errors import DulyError
from store.rules.money import format_amount
from store.rules.validate import parse_date
from tui.screens.base import DulyScreen
from tui.screens.customer import CustomerScreen
from tui.screens.rates import conversion_note
from store.write.terms import home_currency
from tui.widgets.cells import amount_cell
from tui.widgets.table import Batches, DataTable

TOTAL_KEY = " total"  # a space: no customer code can be this
ROWS_AT_ONCE = 200  # rows added to the table in one go (a screenful and more); the rest follow in batches


def aging_view(ledger, as_of: date, basis: str, in_base: bool) -> tuple[AgingReport, fxread.Conversion | None]:
    """The aging report, per currency or (in_base) converted into the base currency with what was used."""
    report = reports.aging(ledger, as_of, basis=basis)
    if not in_base:
        return report, None
    return fxread.aging_in(report, ledger, home_currency(ledger))


class AgingScreen(DulyScreen):
    BINDINGS = [
        Binding("b", "basis", "Basis", id="basis"),
        Binding("c", "in_base", "In base currency", id="in_base"),
        Binding("t", "as_of", "As of", id="as_of"),
        Binding("r", "refresh", "Refresh", id="refresh"),
    ]

    class Loaded(Message):
        def __init__(self, report: AgingReport, conversion: fxread.Conversion | None = None):
            super().__init__()
            self.report = report
            self.conversion = conversion

    def __init__(self):
        super().__init__()
        self.basis = "due"
        self.as_of: date | None = None
        self.in_base = False

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        with Horizontal(id="aging-controls"):
            yield Label(t("aging.as_of"), classes="form-label")
            yield Input(self.app.today().isoformat(), id="as-of", compact=True, max_length=10)
            yield Label("", id="aging-basis")
        yield Static("", id="aging-error")
        yield Static("", id="aging-rates", classes="fx-note")
        table = DataTable(id="aging", cursor_type="cell", zebra_stripes=True)
        self.batches = Batches(table)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        self.as_of = self.app.today()
        self.query_one("#aging", DataTable).focus()
        super().on_mount()

    def reload(self) -> None:
        super().reload()
        self._show_basis()
        self.load(self.as_of, self.basis, self.in_base)

    def _show_basis(self) -> None:
        t = self.t
        self.query_one("#aging-basis", Label).update(f"{t('aging.basis')}: {t('aging.basis.' + self.basis)}")

    @work(exclusive=True, exit_on_error=False, group="aging")
    async def load(self, as_of: date, basis: str, in_base: bool) -> None:
        self.post_message(self.Loaded(*await self.app.db.run_background(aging_view, as_of, basis, in_base)))

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
        self.batches.fill(self._rows(report, columns), at_once=ROWS_AT_ONCE)
        error = "" if report.rows else t("aging.empty", date=report.as_of.isoformat())
        self.query_one("#aging-error", Static).update(error)
        note = self.query_one("#aging-rates", Static)
        note.update(conversion_note(t, message.conversion))
        note.display = message.conversion is not None  # no empty line when the rows are per currency

    def _rows(self, report: AgingReport, columns: list[str]):
        """The table's rows: one per customer and currency, then the totals per currency. A big book has thousands:
        the first ones show at once and the rest follow a batch at a time (Batches)."""
        t = self.t
        for row in report.rows:
            cur = row["currency"]
            yield (row["customer"], row["name"], cur, *(self._amount(row[c], cur, c) for c in columns)), \
                f"{row['customer']}/{cur}"
        for cur, totals in report.totals.items():
            yield (Text(t("aging.totals", currency=cur), style="bold"), "", cur,
                   *(self._amount(totals[c], cur, c, bold=True) for c in columns)), f"{TOTAL_KEY}/{cur}"

    def on_screen_resume(self) -> None:
        # (Textual calls DulyScreen.on_screen_resume too: the handlers of every class of the screen)
        self.batches.resume()

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
