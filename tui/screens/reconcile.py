"""Reconcile (对账): the bank lines still open, and for the highlighted one its candidates with score and
reasons. `a` accepts (the highlighted candidate, or the best one), `m` matches the line by hand to a customer
(oldest due first; the payment can be re-allocated afterwards), `x` sets it aside with a reason, `f` shows the
lines set aside instead, where `o` reopens one; `b` imports a statement file, `r` reloads. Below, the
statements of account whose customer disputed our balance, with the difference, until it is resolved."""
from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Footer, Header, Label, Static
from textual.widgets.data_table import ColumnKey

from store.write import confirmations, reconcile
from store.rules.money import format_amount
from tui.screens.base import DulyScreen, narrow_layout
from tui.widgets.cells import Clipped, short_date
from tui.screens.confirm import ConfirmScreen
from tui.screens.prompt import PromptScreen
from tui.widgets.table import DataTable


def open_lines(ledger, status: str = "open") -> tuple[list[tuple[dict, list]], list[dict]]:
    """The lines of a status (open: money in, undecided, with their candidates; rejected: set aside), and the
    statement differences not yet resolved (runs on the database thread)."""
    return reconcile.listing(ledger, status=status), confirmations.status(ledger, open_only=True)


class ReconcileScreen(DulyScreen):
    BINDINGS = [
        Binding("a", "accept", "Accept", id="rec_accept"),
        Binding("m", "match_by_hand", "By hand", id="rec_by_hand"),
        Binding("x", "reject", "Reject", id="rec_reject"),
        Binding("f", "toggle_rejected", "Set aside", id="rec_show_rejected"),
        Binding("o", "reopen", "Reopen", id="rec_reopen"),
        Binding("r", "refresh", "Refresh", id="refresh"),
        Binding("b", "import_bank", "Import statement", id="import_bank"),
    ]
    DEFAULT_CSS = """
    #rec-lines { height: 1fr; }
    #rec-cands { height: 1fr; }
    #rec-summary { color: $text-muted; padding: 0 1; }
    #rec-disputes { height: auto; max-height: 8; }
    """

    class Loaded(Message):
        def __init__(self, lines: list[tuple[dict, list]], disputes: list[dict]):
            super().__init__()
            self.lines = lines
            self.disputes = disputes

    class Decided(Message):
        def __init__(self, text: str):
            super().__init__()
            self.text = text

    def __init__(self):
        super().__init__()
        self.lines: dict[str, tuple[dict, list]] = {}
        self.current: str | None = None
        self.status = "open"  # which lines are listed: open, or rejected (set aside)
        self.narrow = False  # below 120 columns: the statement differences without their currency column

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            yield Label("", id="rec-summary")
            yield DataTable(id="rec-lines", cursor_type="row", zebra_stripes=True)
            yield Label(self.t("rec.candidates"), classes="section")
            yield DataTable(id="rec-cands", cursor_type="row", zebra_stripes=True)
            yield Static("", id="rec-reasons")
            yield Label(self.t("rec.disputes"), id="rec-disputes-title", classes="section")
            yield DataTable(id="rec-disputes", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        t = self.t
        lines = self.query_one("#rec-lines", DataTable)
        right = ("col.amount", "rec.col.score")
        for key in ("rec.col.id", "col.date", "col.amount", "rec.col.payer", "rec.col.memo", "rec.col.best",
                    "rec.col.score"):
            lines.add_column(Text(t(key), justify="right") if key in right else t(key), key=key)
        cands = self.query_one("#rec-cands", DataTable)
        for key in ("rec.col.n", "rec.col.score", "col.customer", "rec.col.apply", "rec.col.reasons"):
            cands.add_column(t(key), key=key)
        self._dispute_columns()
        lines.focus()
        super().on_mount()

    def _dispute_columns(self) -> None:
        """The statement differences' columns; below 120 columns without the currency (each amount names it). Below
        120 columns the bank lines show short dates and the payer cut to the room left; a candidate's reasons are
        always cut to fit (#rec-reasons below shows them whole)."""
        t, disputes = self.t, self.query_one("#rec-disputes", DataTable)
        self.narrow = narrow_layout(self.app)
        lines = self.query_one("#rec-lines", DataTable)
        lines.flex = "rec.col.payer" if self.narrow else None
        if not self.narrow and "rec.col.payer" in lines.columns:
            lines.columns[ColumnKey("rec.col.payer")].auto_width = True
        self.query_one("#rec-cands", DataTable).flex = "rec.col.reasons"
        disputes.clear(columns=True)
        for key in ("col.customer", "rec.col.as_of", "col.currency", "rec.col.ours", "rec.col.theirs",
                    "rec.col.difference", "rec.col.answered"):
            if key == "col.currency" and self.narrow:
                continue
            disputes.add_column(Text(t(key), justify="right") if key.startswith("rec.col.") and key[8:] in (
                "ours", "theirs", "difference") else t(key), key=key)

    def on_resize(self) -> None:
        # (DulyScreen's on_resize runs too: Textual calls the handler of every class in the MRO)
        if self.narrow != narrow_layout(self.app):
            self._dispute_columns()
            self.reload()

    def reload(self) -> None:
        super().reload()
        self.load()

    def action_refresh(self) -> None:
        self.reload()

    @work(exclusive=True, exit_on_error=False, group="reconcile")
    async def load(self) -> None:
        self.post_message(self.Loaded(*await self.db(open_lines, self.status)))

    @on(Loaded)
    def show(self, message: Loaded) -> None:
        t = self.t
        self.lines = {row["id"]: (row, cands) for row, cands in message.lines}
        table = self.query_one("#rec-lines", DataTable)
        keep = self.current
        table.clear()
        for row, cands in message.lines:
            best = cands[0] if cands else None
            table.add_row(row["id"][:8], short_date(row["date"]) if self.narrow else row["date"],
                          self._amount(row["amount"], row["currency"]),
                          Clipped(row["payer"] or "") if self.narrow else row["payer"] or "",
                          (row["memo"] or "")[:12 if self.narrow else 30], best.customer_code if best else "—",
                          Text(str(best.score) if best else "", justify="right"), key=row["id"])
        count = len(message.lines)
        self.query_one("#rec-summary", Label).update(
            t("rec.summary", count=count) if self.status == "open" else t("rec.summary_rejected", count=count))
        if keep in self.lines:
            table.move_cursor(row=table.get_row_index(keep))
        self._show_candidates(keep if keep in self.lines else next(iter(self.lines), None))
        disputes = self.query_one("#rec-disputes", DataTable)
        disputes.clear()
        for n, d in enumerate(message.disputes):
            cur = d["currency"]
            narrow = () if self.narrow else (cur,)
            disputes.add_row(d["customer"], d["as_of"], *narrow, *(self._amount(d[k], cur) for k in (
                "our_balance", "their_balance", "difference")), d["answered_on"] or "", key=str(n))
        self.query_one("#rec-disputes-title", Label).update(f"{t('rec.disputes')} ({len(message.disputes)})")

    @staticmethod
    def _amount(minor: int, currency: str) -> Text:
        return Text(f"{format_amount(minor, currency)} {currency}", justify="right")

    def _show_candidates(self, line_id: str | None) -> None:
        self.current = line_id
        table = self.query_one("#rec-cands", DataTable)
        table.clear()
        reasons = ""
        if line_id in self.lines:
            row, cands = self.lines[line_id]
            cur = row["currency"]
            for n, c in enumerate(cands, start=1):
                apply = (self.t("rec.link", payment=c.payment_id) if c.payment_id else
                         ", ".join(f"{num} {format_amount(a, cur)}" for _, num, a in c.allocations)
                         + (f" + {self.t('rec.fee')} {format_amount(c.fee, cur)}" if c.fee else ""))
                table.add_row(str(n), str(c.score), c.customer_code, apply,
                              Clipped("; ".join(map(self.t.error, c.reasons))), key=str(n))
            reasons = "\n".join(f"{n}. {c.customer_code} ({c.score}): " + "; ".join(map(self.t.error, c.reasons))
                                for n, c in enumerate(cands, start=1)) or self.t("rec.none")
        self.query_one("#rec-reasons", Static).update(reasons)

    @on(DataTable.RowHighlighted, "#rec-lines")
    def line_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value in self.lines:
            self._show_candidates(event.row_key.value)

    @on(DataTable.RowSelected, "#rec-lines")
    def line_selected(self, event: DataTable.RowSelected) -> None:
        self.query_one("#rec-cands", DataTable).focus()

    # -- decisions -------------------------------------------------------------------------------
    def _chosen(self) -> int:
        cands = self.query_one("#rec-cands", DataTable)
        return cands.cursor_row + 1 if cands.has_focus and cands.row_count else 1

    def _open_line(self) -> str | None:
        """The highlighted line when it can be decided; else None, saying why."""
        if self.current is None:
            return None
        if self.status != "open":
            self.app.notify(self.t("rec.not_open", id=self.current[:8]), severity="warning", timeout=6)
            return None
        return self.current

    def action_accept(self) -> None:
        if self._open_line() is None:
            return
        if not self.lines[self.current][1]:
            self.app.notify(self.t("rec.by_hand", id=self.current[:8]), severity="warning", timeout=8)
            return
        line_id, candidate = self.current, self._chosen()
        row, cands = self.lines[line_id]
        chosen = cands[candidate - 1]
        cur = row["currency"]
        t = self.t
        self.app.push_screen(
            ConfirmScreen(t("rec.accept_q", id=line_id[:8], amount=format_amount(row["amount"], cur), currency=cur,
                            customer=chosen.customer_code),
                          "; ".join(map(t.error, chosen.reasons)), undo=t("rec.accept_undo"), go=t("key.rec_accept")),
            lambda yes: yes and self.decide("accept", line_id, candidate))

    def action_match_by_hand(self) -> None:
        """Ask for the customer who paid, then confirm: the line becomes their payment, oldest due first."""
        line_id = self._open_line()
        if line_id is None:
            return
        row = self.lines[line_id][0]
        cur, t = row["currency"], self.t

        def confirm(code: str | None) -> None:
            if code:
                self.app.push_screen(
                    ConfirmScreen(t("rec.hand_q", id=line_id[:8], amount=format_amount(row["amount"], cur),
                                    currency=cur, customer=code), t("rec.hand_how"), undo=t("rec.accept_undo"),
                                  go=t("key.rec_accept")),
                    lambda yes: yes and self.decide("hand", line_id, 0, code))

        self.app.push_screen(PromptScreen(t("rec.hand_customer", id=line_id[:8], payer=row["payer"] or "—"),
                                          hint=t("rec.hand_hint")), confirm)

    def action_toggle_rejected(self) -> None:
        self.status = "rejected" if self.status == "open" else "open"
        self.current = None
        self.reload()

    def action_reopen(self) -> None:
        if self.current is None:
            return
        if self.status != "rejected":
            self.app.notify(self.t("rec.reopen_how"), severity="warning", timeout=6)
            return
        self.decide("reopen", self.current, 0)

    def action_reject(self) -> None:
        line_id = self._open_line()
        if line_id is None:
            return
        self.app.push_screen(PromptScreen(self.t("rec.reject_q", id=line_id[:8]), hint=self.t("rec.reject_undo")),
                             lambda reason: reason and self.decide("reject", line_id, 0, reason))

    @work(exclusive=True, exit_on_error=False, group="reconcile-decide")
    async def decide(self, what: str, line_id: str, candidate: int, reason: str = "") -> None:
        t = self.t
        if what in ("accept", "hand"):
            d = await (self.db(reconcile.accept, line_id, candidate=candidate) if what == "accept" else
                       self.db(reconcile.accept, line_id, customer_code=reason))
            text = t("rec.accepted", id=line_id[:8], customer=d.customer,
                     amount=format_amount(d.line["amount"], d.line["currency"]), currency=d.line["currency"])
        elif what == "reopen":
            await self.db(reconcile.reopen, line_id)
            text = t("rec.reopened", id=line_id[:8])
        else:
            await self.db(reconcile.reject, line_id, reason)
            text = t("rec.rejected", id=line_id[:8])
        self.post_message(self.Decided(text))

    @on(Decided)
    def decided(self, message: Decided) -> None:
        self.app.ledger_changed()
        self.app.notify(message.text, timeout=6)
        self.query_one("#rec-lines", DataTable).focus()
        self.reload()

    def action_import_bank(self) -> None:
        """Pick a statement file and import it; back here with its lines to reconcile."""
        from tui.screens.bank_import import BankImportScreen

        self.app.push_screen(BankImportScreen(), lambda imported: self.reload() if imported else None)
