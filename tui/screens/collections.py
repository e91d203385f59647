"""Collections (催收) for today: the reminder plan by level, open disputes, promises to pay, follow-ups due and
risk alerts. Read-only; sending stays on the command line (`duly remind send`), where its outcome is printed."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Header, Label

from store.read import alerts
from store.rules import dunning
from store.write import collections
from store.rules.money import format_amount
from tui.screens.base import DulyScreen
from tui.screens.customer import CustomerScreen
from tui.widgets.table import DataTable


@dataclass
class CollectionsData:
    as_of: date
    plan: list[dict] = field(default_factory=list)  # plan_rows, most severe level first
    disputes: list[dict] = field(default_factory=list)
    promises: list[dict] = field(default_factory=list)  # pending and broken
    follow_ups: list[dict] = field(default_factory=list)
    alerts: list[alerts.Alert] = field(default_factory=list)


def collections_data(ledger, as_of: date) -> CollectionsData:
    """Everything the screen shows (runs on the database thread)."""
    rp = collections.reminder_plan(ledger, as_of)
    order = {lv.name: n for n, lv in enumerate(collections.levels(ledger))}
    plan = sorted(collections.plan_rows(rp), key=lambda r: (-order.get(r["level"], 0), r["customer"],
                                                             -r["days_overdue"], r["number"]))
    day = as_of.isoformat()
    return CollectionsData(
        as_of, plan,
        collections.list_disputes(ledger, status="open", as_of=day),
        [p for p in collections.list_promises(ledger, day) if p["status"] != "kept"],
        collections.list_notes(ledger, due=day),
        alerts.alerts(ledger, as_of))


class CollectionsScreen(DulyScreen):
    BINDINGS = [Binding("r", "refresh", "Refresh", id="refresh")]
    DEFAULT_CSS = """
    #collections { padding: 0 1; }
    #coll-as-of { color: $text-muted; }
    .coll-table { height: auto; max-height: 12; }
    """

    class Loaded(Message):
        def __init__(self, data: CollectionsData):
            super().__init__()
            self.data = data

    TABLES = {
        "coll-plan": ("col.level", "col.customer", "col.number", "col.days_overdue", "col.asked", "col.channel"),
        "coll-follow": ("col.customer", "col.channel", "col.text", "col.next"),
        "coll-promises": ("col.customer", "col.number", "col.date", "col.amount", "col.status"),
        "coll-disputes": ("col.customer", "col.number", "col.amount", "col.reason", "col.review"),
        "coll-alerts": ("col.customer", "col.kind", "col.reason"),
    }
    RIGHT = {"col.days_overdue", "col.asked", "col.amount"}

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        with VerticalScroll(id="collections"):
            yield Label(t("coll.as_of", date=self.app.today().isoformat()), id="coll-as-of")
            for table_id in self.TABLES:
                yield Label(t(f"coll.{table_id.split('-')[1]}"), id=f"{table_id}-title", classes="section")
                yield DataTable(id=table_id, cursor_type="row", zebra_stripes=True, classes="coll-table")
        yield Footer()

    def on_mount(self) -> None:
        t = self.t
        for table_id, columns in self.TABLES.items():
            table = self.query_one(f"#{table_id}", DataTable)
            for key in columns:
                table.add_column(Text(t(key), justify="right") if key in self.RIGHT else t(key), key=key)
        super().on_mount()

    def action_refresh(self) -> None:
        self.reload()

    def reload(self) -> None:
        super().reload()
        self.load(self.app.today())

    @work(exclusive=True, exit_on_error=False, group="collections")
    async def load(self, as_of: date) -> None:
        self.post_message(self.Loaded(await self.db(collections_data, as_of)))

    def _fill(self, table_id: str, rows: list[tuple], title_count: int) -> None:
        table = self.query_one(f"#{table_id}", DataTable)
        table.clear()
        for n, (key, cells) in enumerate(rows):
            table.add_row(*cells, key=f"{key}#{n}")
        base = self.t(f"coll.{table_id.split('-')[1]}")
        self.query_one(f"#{table_id}-title", Label).update(f"{base} ({title_count})")

    @on(Loaded)
    def show(self, message: Loaded) -> None:
        t, data = self.t, message.data
        lang = self.app.language
        self.query_one("#coll-as-of", Label).update(t("coll.as_of", date=data.as_of.isoformat()))
        def level_title(name: str) -> str:
            names = dunning.LEVEL_NAMES.get(name)
            return (names[0] if lang == "zh" else names[1]) if names else name

        def amount(minor: int, cur: str, style: str = "") -> Text:
            return Text(f"{format_amount(minor, cur)} {cur}", justify="right", style=style)

        self._fill("coll-plan", [(r["customer"], (
            level_title(r["level"]), r["customer"], r["number"], Text(str(r["days_overdue"]), justify="right"),
            amount(r["total"], r["currency"], "red" if r["days_overdue"] > 0 else ""),
            t(f"channel.{r['channel']}"))) for r in data.plan], len(data.plan))
        self._fill("coll-follow", [(n["customer"], (n["customer"], t(f"channel.{n['channel']}"), n["text"],
                                                    n["next_action"])) for n in data.follow_ups], len(data.follow_ups))
        self._fill("coll-promises", [(p["customer"], (
            p["customer"], p["number"], p["date"], amount(p["amount"], p["currency"]),
            Text(t(f"promise.{p['status']}"), style="red" if p["status"] == "broken" else "")))
            for p in data.promises], len(data.promises))
        self._fill("coll-disputes", [(d["customer"], (
            d["customer"], d["number"],
            amount(d["amount"], d["currency"]) if d["amount"] is not None else Text(t("coll.all"), justify="right"),
            d["reason"], d["review"] or "")) for d in data.disputes], len(data.disputes))
        self._fill("coll-alerts", [(a.customer, (a.customer, t(f"alert.{a.kind}"), a.why(lang))) for a in data.alerts],
                   len(data.alerts))

    @on(DataTable.RowSelected, ".coll-table")
    def open_customer(self, event: DataTable.RowSelected) -> None:
        self.app.push_screen(CustomerScreen(str(event.row_key.value).rsplit("#", 1)[0]))
