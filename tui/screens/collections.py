"""Collections (催收) for today. The reminder plan is a review queue (paged from SQLite through store.write.review):
Enter shows the message a row would send, space marks it to send, x skips it, h holds its customer, m marks the
rest to send; ctrl+s asks once for the whole batch (what goes to whom, the first message, who is held), then
sends it through store.write.collections.send (SMTP for e-mail) on a thread of its own and shows each outcome as
it is settled. Open disputes (e resolves one), promises to pay and follow-ups due today are rows to act on
(l logs a call with the next follow-up date; u opens the customer), and the risk alerts."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Header, Label, Static

from store.errors import DulyError
from store.ledger.ledger import Ledger
from store.read import alerts
from store.rules import dunning
from store.rules.money import format_amount
from store.write import collections, review
from tui.screens.ask import AskScreen
from tui.screens.base import DulyScreen
from tui.screens.customer import CustomerScreen
from tui.screens.prompt import PromptScreen
from tui.screens.review import ReminderPreviewScreen
from tui.widgets.table import Batches, DataTable

PAGE = 100  # review queue rows fetched at a time
PREFETCH = 20


@dataclass
class CollectionsLists:
    as_of: date
    disputes: list[dict] = field(default_factory=list)
    promises: list[dict] = field(default_factory=list)  # pending and broken
    follow_ups: list[dict] = field(default_factory=list)


@dataclass
class QueueData:
    as_of: date
    queue: review.ReviewQueue
    first_page: list[dict]
    counts: dict[str, int]


def collections_lists(ledger, as_of: date) -> CollectionsLists:
    """What the screen shows first (runs on the database thread): the disputes, promises and follow-ups, a few
    rows each and a few milliseconds; the review queue comes next (queue_data), the risk alerts last."""
    day = as_of.isoformat()
    return CollectionsLists(
        as_of, collections.list_disputes(ledger, status="open", as_of=day),
        [p for p in collections.list_promises(ledger, day) if p["status"] != "kept"],
        collections.list_notes(ledger, due=day))


def queue_data(ledger, as_of: date) -> QueueData:
    """The review queue (re)built when the ledger changed since (the reminder plan: a read of every open invoice),
    its first page and its counts."""
    queue = review.build(ledger, as_of)
    return QueueData(as_of, queue, review.page(ledger, limit=PAGE), review.counts(ledger))


def decided(ledger, seq: int, decision: str) -> tuple[list[dict], dict[str, int]]:
    changed = review.decide(ledger, seq, decision)
    return review.rows_at(ledger, changed), review.counts(ledger)


def decided_rest(ledger, decision: str) -> dict[str, int]:
    review.decide_rest(ledger, decision)
    return review.counts(ledger)


def batch_and_preview(ledger, queue: review.ReviewQueue) -> tuple[review.Batch, dict | None]:
    """What the batch holds, and the first message it would send (shown before asking)."""
    found = review.batch(ledger)
    first = review.first_to_send(ledger)
    return found, review.preview(ledger, queue, first) if first is not None else None


class CollectionsScreen(DulyScreen):
    BINDINGS = [
        Binding("r", "refresh", "Refresh", id="refresh"),
        Binding("space", "decide('send')", "Send", id="review_send"),
        Binding("x", "decide('skip')", "Skip", id="review_skip"),
        Binding("h", "decide('hold')", "Hold", id="review_hold"),
        Binding("m", "mark_rest", "Send the rest", id="review_rest"),
        Binding("ctrl+s", "send_batch", "Send batch", id="review_batch"),
        Binding("l", "log_call", "Log a call", id="log_call"),
        Binding("e", "resolve_dispute", "Resolve dispute", id="resolve_dispute"),
        Binding("u", "open_customer", "Customer", id="open_customer"),
    ]
    DEFAULT_CSS = """
    #collections { padding: 0 1; }
    #coll-as-of { color: $text-muted; }
    .coll-table { height: auto; max-height: 12; }
    #coll-plan { max-height: 16; }
    #coll-plan-status { color: $text-muted; }
    #coll-results-title, #coll-results { display: none; }
    #coll-results.shown, #coll-results-title.shown { display: block; }
    """

    class ListsLoaded(Message):
        def __init__(self, data: CollectionsLists):
            super().__init__()
            self.data = data

    class Loaded(Message):
        def __init__(self, data: QueueData):
            super().__init__()
            self.data = data

    class AlertsLoaded(Message):
        def __init__(self, found: list[alerts.Alert]):
            super().__init__()
            self.alerts = found

    class Paged(Message):
        def __init__(self, generation: int, rows: list[dict]):
            super().__init__()
            self.generation, self.rows = generation, rows

    class Decided(Message):
        def __init__(self, rows: list[dict], counts: dict[str, int], move_on: bool):
            super().__init__()
            self.rows, self.counts, self.move_on = rows, counts, move_on

    class PreviewReady(Message):
        def __init__(self, seq: int, preview: dict):
            super().__init__()
            self.seq, self.preview = seq, preview

    class BatchReady(Message):
        def __init__(self, batch: review.Batch, first: dict | None):
            super().__init__()
            self.batch, self.first = batch, first

    class Sent(Message):
        def __init__(self, outcome: collections.Outcome | None, error: str | None = None):
            super().__init__()
            self.outcome, self.error = outcome, error  # both None: the batch is done

    TABLES = {
        "coll-plan": ("col.decision", "col.level", "col.customer", "col.number", "col.days_overdue", "col.asked",
                      "col.channel"),  # the decision first: it stays in sight on a narrow terminal
        "coll-results": ("col.customer", "col.channel", "col.invoices", "col.status", "col.detail"),
        "coll-follow": ("col.customer", "col.channel", "col.text", "col.next"),
        "coll-promises": ("col.customer", "col.number", "col.date", "col.amount", "col.status"),
        "coll-disputes": ("col.customer", "col.number", "col.amount", "col.reason", "col.review"),
        "coll-alerts": ("col.customer", "col.kind", "col.reason"),
    }
    RIGHT = {"col.days_overdue", "col.asked", "col.amount"}

    def __init__(self):
        super().__init__()
        self.queue: review.ReviewQueue | None = None
        self.generation = 0
        self.after = 0  # position of the last queue row shown
        self.more = False
        self.loading = False
        self.sending = False
        self.rows: dict[str, list] = {}  # the records behind the small tables, by table id and row
        self.batches: dict[str, Batches] = {}  # how the other tables are filled (alerts: thousands on a big book)

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        with VerticalScroll(id="collections"):
            yield Label(t("coll.as_of", date=self.app.today().isoformat()), id="coll-as-of")
            for table_id in self.TABLES:
                yield Label(t(f"coll.{table_id.split('-')[1]}"), id=f"{table_id}-title", classes="section")
                table = DataTable(id=table_id, cursor_type="row", zebra_stripes=True, classes="coll-table")
                if table_id != "coll-plan":  # the plan pages from SQLite; the others are filled a batch at a time
                    self.batches[table_id] = Batches(table)
                yield table
                if table_id == "coll-plan":
                    yield Static("", id="coll-plan-status")
        yield Footer()

    def on_mount(self) -> None:
        t = self.t
        for table_id, columns in self.TABLES.items():
            table = self.query_one(f"#{table_id}", DataTable)
            for key in columns:
                table.add_column(Text(t(key), justify="right") if key in self.RIGHT else t(key), key=key)
        super().on_mount()

    def on_screen_resume(self) -> None:
        # (Textual calls DulyScreen.on_screen_resume too: the handlers of every class of the screen)
        for batches in self.batches.values():
            batches.resume()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        focused = self.app.focused.id if self.app.focused is not None else None
        if action in ("decide", "mark_rest", "send_batch"):
            return focused == "coll-plan" or action == "send_batch"
        if action == "resolve_dispute":
            return focused == "coll-disputes"
        if action in ("log_call", "open_customer"):
            return focused in ("coll-plan", "coll-follow", "coll-promises", "coll-disputes", "coll-alerts")
        return super().check_action(action, parameters)

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()

    def action_refresh(self) -> None:
        self.reload()

    def reload(self) -> None:
        super().reload()
        self.load(self.app.today())

    @work(exclusive=True, exit_on_error=False, group="collections")
    async def load(self, as_of: date) -> None:
        """The small tables first, then the queue; the alerts once its first page is drawn (show)."""
        if self.queue is None:
            self.query_one("#coll-plan-status", Static).update(self.t("dash.loading"))
        self.post_message(self.ListsLoaded(await self.db(collections_lists, as_of)))
        self.post_message(self.Loaded(await self.db(queue_data, as_of)))  # it fills the queue: not interruptible

    @work(exclusive=True, exit_on_error=False, group="collections-alerts")
    async def load_alerts(self, as_of: date) -> None:
        """The risk alerts: a read of the whole book (interruptible), started after the queue's first page is
        drawn, since on the database thread meanwhile it would slow the drawing down."""
        self.post_message(self.AlertsLoaded(await self.app.db.run_background(alerts.alerts, as_of)))

    # -- the review queue, paged ---------------------------------------------------------------------------
    def _level_title(self, name: str) -> str:
        names = dunning.LEVEL_NAMES.get(name)
        return (names[0] if self.app.language == "zh" else names[1]) if names else name

    def _amount(self, minor: int, cur: str, style: str = "") -> Text:
        return Text(f"{format_amount(minor, cur)} {cur}", justify="right", style=style)

    def _decision(self, decision: str) -> Text:
        style = {"send": "bold green", "skip": "dim", "hold": "yellow"}.get(decision, "")
        return Text(self.t(f"review.{decision}"), style=style)

    def _plan_cells(self, r: dict) -> tuple:
        return (self._decision(r["decision"]), self._level_title(r["level"]), r["customer"], r["number"],
                Text(str(r["days_overdue"]), justify="right"),
                self._amount(r["total"], r["currency"], "red" if r["days_overdue"] > 0 else ""),
                self.t(f"channel.{r['channel']}"))

    def _add_plan_rows(self, rows: list[dict]) -> None:
        table = self.query_one("#coll-plan", DataTable)
        for r in rows:
            table.add_row(*self._plan_cells(r), key=str(r["seq"]))
        if rows:
            self.after = rows[-1]["seq"]
        self.more = len(rows) == PAGE

    def _show_counts(self, counts: dict[str, int]) -> None:
        total = sum(counts.values())
        status = self.t("review.counts", total=total, send=counts["send"], skip=counts["skip"],
                        hold=counts["hold"], todo=counts["todo"]) if total else self.t("review.empty")
        self.query_one("#coll-plan-status", Static).update(status)
        self.query_one("#coll-plan-title", Label).update(f"{self.t('coll.plan')} ({total})")

    @on(DataTable.RowHighlighted, "#coll-plan")
    def near_end(self, event: DataTable.RowHighlighted) -> None:
        table = event.data_table
        if self.more and not self.loading and table.cursor_row >= table.row_count - PREFETCH:
            self.loading = True
            self.fetch_page(self.generation, self.after)

    @work(group="review-page", exit_on_error=False)
    async def fetch_page(self, generation: int, after: int) -> None:
        self.post_message(self.Paged(generation, await self.db(review.page, after=after, limit=PAGE)))

    @on(Paged)
    def paged(self, message: Paged) -> None:
        self.loading = False
        if message.generation == self.generation:
            self._add_plan_rows(message.rows)

    def _current_seq(self) -> int | None:
        table = self.query_one("#coll-plan", DataTable)
        if not table.row_count:
            return None
        return int(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value)

    def action_decide(self, decision: str, move_on: bool = True) -> None:
        seq = self._current_seq()
        if seq is None or self.sending:
            return
        table = self.query_one("#coll-plan", DataTable)
        current = str(table.get_cell(str(seq), "col.decision"))
        if current == self.t(f"review.{decision}"):
            decision = "todo"  # the same key again undoes it
        self.decide(seq, decision, move_on)

    @work(group="review-decide", exit_on_error=False)
    async def decide(self, seq: int, decision: str, move_on: bool) -> None:
        rows, counts = await self.db(decided, seq, decision)
        self.post_message(self.Decided(rows, counts, move_on))

    @on(Decided)
    def show_decided(self, message: Decided) -> None:
        table = self.query_one("#coll-plan", DataTable)
        for r in message.rows:
            if str(r["seq"]) in table.rows:
                table.update_cell(str(r["seq"]), "col.decision", self._decision(r["decision"]))
        self._show_counts(message.counts)
        if message.move_on and table.cursor_row < table.row_count - 1:
            table.move_cursor(row=table.cursor_row + 1)

    def action_mark_rest(self) -> None:
        if not self.sending:
            self.mark_rest()

    @work(group="review-decide", exit_on_error=False)
    async def mark_rest(self) -> None:
        counts = await self.db(decided_rest, "send")
        rows = await self.db(review.page, after=0, limit=max(self.after, 1))
        self.post_message(self.Decided(rows, counts, False))

    @on(DataTable.RowSelected, "#coll-plan")
    def look_at(self, event: DataTable.RowSelected) -> None:
        self.show_preview(int(event.row_key.value))

    @work(group="review-preview", exit_on_error=False)
    async def show_preview(self, seq: int) -> None:
        self.post_message(self.PreviewReady(seq, await self.db(review.preview, self.queue, seq)))

    @on(PreviewReady)
    def preview_ready(self, message: PreviewReady) -> None:
        seq = message.seq

        def decided_in_preview(decision: str | None) -> None:
            if decision:
                table = self.query_one("#coll-plan", DataTable)
                current = str(table.get_cell(str(seq), "col.decision"))
                self.decide(seq, "todo" if current == self.t(f"review.{decision}") else decision, True)
        self.app.push_screen(ReminderPreviewScreen(message.preview), decided_in_preview)

    # -- sending the batch ---------------------------------------------------------------------------------
    def action_send_batch(self) -> None:
        if self.queue is None or self.sending:
            return
        self.fetch_batch()

    @work(group="review-batch", exit_on_error=False)
    async def fetch_batch(self) -> None:
        found, first = await self.db(batch_and_preview, self.queue)
        self.post_message(self.BatchReady(found, first))

    @on(BatchReady)
    def confirm_batch(self, message: BatchReady) -> None:
        t, found, first = self.t, message.batch, message.first
        if not found.send and not found.hold:
            self.notify(t("review.nothing"), severity="warning")
            return
        lines = [t("review.batch_send", n=len(found.send), m=len(found.messages))] if found.send else []
        lines += [t("review.batch_line", customer=m["customer"], channel=t(f"channel.{m['channel']}"),
                    address=m["address"] or "-", invoices=m["invoices"]) for m in found.messages]
        if found.hold:
            lines.append(t("review.batch_hold", customers=", ".join(h["customer"] for h in found.hold)))
        if first is not None:
            lines += ["", t("review.batch_first", customer=first["customer"]), first["subject"], "", first["body"]]

        def answered(yes: bool) -> None:
            if yes:
                self.carry_out(found)
        self.app.push_screen(AskScreen(t("review.batch_title"), "\n".join(lines), yes=t("review.batch_yes"),
                                       no=t("review.batch_no")), answered)

    @work(group="review-batch", exit_on_error=False)
    async def carry_out(self, found: review.Batch) -> None:
        if found.hold:
            held = await self.db(review.hold_customers, [h["customer"] for h in found.hold])
            self.app.ledger_changed()
            if held:
                self.notify(self.t("review.held", customers=", ".join(held)), timeout=10)
        if found.send:
            self.start_sending(found.send)
        else:
            self.reload()

    def start_sending(self, only: set[tuple[str, str]]) -> None:
        """Send on a thread of its own with its own connection: SMTP waits on the network, and the database
        thread stays free for the screens."""
        self.sending = True
        results = self.query_one("#coll-results", DataTable)
        results.clear()
        for widget in (results, self.query_one("#coll-results-title", Label)):
            widget.add_class("shown")
        app, path, passphrase, as_of = self.app, self.app.ledger_path, self.app.db.passphrase, self.app.today()

        def run() -> None:
            try:
                with Ledger.open(path, passphrase) as ledger:
                    collections.send(ledger, as_of, only=only,
                                     report=lambda outcome: self.post_message(self.Sent(outcome)))
            except DulyError as exc:
                self.post_message(self.Sent(None, self.t.error(exc)))
            except Exception as exc:  # noqa: BLE001 - shown, never a traceback over the screen
                self.post_message(self.Sent(None, f"{type(exc).__name__}: {exc}"))
            self.post_message(self.Sent(None))
            app.call_from_thread(app.ledger_changed)

        threading.Thread(target=run, name="duly-remind", daemon=True).start()

    @on(Sent)
    def sent(self, message: Sent) -> None:
        t = self.t
        if message.error:
            self.notify(message.error, severity="error", timeout=12)
            return
        o = message.outcome
        if o is None:  # the batch is done
            self.sending = False
            self.reload()
            return
        style = {"sent": "green", "failed": "bold red", "unknown": "yellow", "skipped": "dim"}.get(o.status, "")
        self.query_one("#coll-results", DataTable).add_row(
            o.customer, t(f"channel.{o.channel}"), ", ".join(o.invoices),
            Text(t(f"review.outcome.{o.status}"), style=style), t.error(o.detail))
        title = self.query_one("#coll-results-title", Label)
        title.update(f"{t('coll.results')} ({self.query_one('#coll-results', DataTable).row_count})")

    # -- the other rows ------------------------------------------------------------------------------------
    def _fill(self, table_id: str, rows: list[tuple], records: list) -> None:
        self.batches[table_id].fill((cells, str(n)) for n, cells in enumerate(rows))
        self.rows[table_id] = records
        base = self.t(f"coll.{table_id.split('-')[1]}")
        self.query_one(f"#{table_id}-title", Label).update(f"{base} ({len(records)})")

    @on(Loaded)
    def show(self, message: Loaded) -> None:
        data = message.data
        self.queue = data.queue
        self.generation += 1
        plan = self.query_one("#coll-plan", DataTable)
        seq = self._current_seq()
        plan.clear()
        self.after, self.loading = 0, False
        self._add_plan_rows(data.first_page)
        if seq is not None and str(seq) in plan.rows:
            plan.move_cursor(row=plan.get_row_index(str(seq)))
        self._show_counts(data.counts)
        self.call_after_refresh(self.load_alerts, data.as_of)

    @on(ListsLoaded)
    def show_lists(self, message: ListsLoaded) -> None:
        t, data = self.t, message.data
        self.query_one("#coll-as-of", Label).update(t("coll.as_of", date=data.as_of.isoformat()))
        self._fill("coll-follow", [(n["customer"], t(f"channel.{n['channel']}"), n["text"], n["next_action"])
                                   for n in data.follow_ups], data.follow_ups)
        self._fill("coll-promises", [(
            p["customer"], p["number"], p["date"], self._amount(p["amount"], p["currency"]),
            Text(t(f"promise.{p['status']}"), style="red" if p["status"] == "broken" else ""))
            for p in data.promises], data.promises)
        self._fill("coll-disputes", [(
            d["customer"], d["number"],
            self._amount(d["amount"], d["currency"]) if d["amount"] is not None else Text(t("coll.all"),
                                                                                          justify="right"),
            d["reason"], d["review"] or "") for d in data.disputes], data.disputes)

    @on(AlertsLoaded)
    def show_alerts(self, message: AlertsLoaded) -> None:
        t, lang, found = self.t, self.app.language, message.alerts
        self._fill("coll-alerts", [(a.customer, t(f"alert.{a.kind}"), a.why(lang)) for a in found],
                   [{"customer": a.customer} for a in found])

    def _record(self) -> tuple[str | None, dict | None]:
        focused = self.app.focused
        if not isinstance(focused, DataTable) or not focused.row_count:
            return None, None
        if focused.id == "coll-plan":
            return focused.id, {"customer": str(focused.get_row_at(focused.cursor_row)[2])}
        records = self.rows.get(focused.id or "", [])
        return focused.id, records[focused.cursor_row] if focused.cursor_row < len(records) else None

    @on(DataTable.RowSelected, ".coll-table")
    def open_from_row(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id not in ("coll-plan", "coll-results"):
            self.action_open_customer()

    def action_open_customer(self) -> None:
        _, record = self._record()
        if record and record.get("customer"):
            self.app.push_screen(CustomerScreen(record["customer"]))

    def action_log_call(self) -> None:
        _, record = self._record()
        if record and record.get("customer"):
            self.log_call(record["customer"])

    def log_call(self, code: str) -> None:
        t = self.t

        def with_next(text: str | None) -> None:
            if not text:
                return

            def save(follow: str | None) -> None:
                if follow is not None:
                    self.save_note(code, text, follow)
            self.app.push_screen(PromptScreen(t("coll.next_title"), hint=t("coll.next_hint"), required=False), save)
        self.app.push_screen(PromptScreen(t("coll.log_title", customer=code), hint=t("coll.log_hint")), with_next)

    @work(group="log-call", exit_on_error=False)
    async def save_note(self, code: str, text: str, follow: str) -> None:
        t = self.t
        try:
            await self.db(collections.add_note, code, "phone", text, next_action=follow or None,
                          on=self.app.today().isoformat())
        except DulyError as exc:
            self.notify(self.t.error(exc), severity="error", timeout=10)
            return
        self.app.ledger_changed()
        self.notify(t("coll.logged", customer=code) + (t("coll.logged_next", date=follow) if follow else ""))
        self.reload()

    def action_resolve_dispute(self) -> None:
        table_id, record = self._record()
        if table_id != "coll-disputes" or not record:
            return

        def resolve(note: str | None) -> None:
            if note:
                self.resolve(record, note)
        self.app.push_screen(PromptScreen(self.t("coll.resolve_title", number=record["number"]),
                                          hint=self.t("coll.resolve_hint")), resolve)

    @work(group="resolve", exit_on_error=False)
    async def resolve(self, dispute: dict, note: str) -> None:
        try:
            await self.db(collections.resolve_dispute, dispute["id"], note, on=self.app.today().isoformat())
        except DulyError as exc:
            self.notify(self.t.error(exc), severity="error", timeout=10)
            return
        self.app.ledger_changed()
        self.notify(self.t("coll.resolved", number=dispute["number"]))
        self.reload()
