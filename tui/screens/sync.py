"""Sync (同步): this device's sync state and the "Needs review" list (DESIGN §4), setting sync up (s: a new
team, its recovery secret shown once), an invite for a new device (i), a new recovery secret (k), the team's
devices and removing one (d), and the pieces the app uses for its sync indicator and its background sync.

Nothing here touches the network on the app's database thread: the state shown comes from the ledger's own
`sync.*` meta (`Sync.status(online=False)`), read as a database job; a sync round (`sync_round`) runs on a
thread of its own with its own connection, so pages and key presses never wait on the server; so do set-up,
invites, recovery secrets and the device list (`app.on_network`, see tui/screens/sync_setup.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Footer, Header, Label, Static

from store.errors import DulyError
from store.rules.stored_words import Stored
from sync import client
from sync.client.round import sync_view
from tui.app.i18n import Strings
from tui.screens.base import DulyScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.sync_setup import (DevicesScreen, InviteScreen, SecretScreen, invite_form, server_address,
    setup_form)
from tui.widgets.table import DataTable

# -- state shared with the app ------------------------------------------------------------------


@dataclass
class SyncState:
    """What the indicator shows. kind: unknown (not read yet), off (not set up), ready, syncing, offline,
    refused (the server or a check said no; `message` says why)."""

    kind: str = "unknown"
    status: dict | None = None  # Sync.status(online=False) when set up
    message: str = ""


def _parse_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        found = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=timezone.utc)


def ago(t: Strings, when: str | None, now: datetime) -> str:
    """'12 min ago' / '12 分钟前' for an ISO time; '' when there is none."""
    found = _parse_iso(when)
    if found is None:
        return ""
    minutes = int((now - found).total_seconds() // 60)
    if minutes < 1:
        return t("sync.ago.now")
    if minutes < 60:
        return t("sync.ago.min", n=minutes)
    if minutes < 48 * 60:
        return t("sync.ago.hours", n=minutes // 60)
    return t("sync.ago.date", date=found.date().isoformat())


def utc_text(when: str | None) -> str:
    found = _parse_iso(when)
    return found.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if found else ""


def _ms_text(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _worded(message: str | None, t) -> str:
    """A review flag's message (stored in English) in the reader's language (store/rules/stored_words.py)."""
    return t.error(Stored(message))


def _short(message: str, width: int = 48) -> str:
    line = " ".join(message.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def indicator(t: Strings, state: SyncState, now: datetime) -> str:
    """One line for the header: not set up / synced N min ago · K pending · R need review / syncing… /
    offline / refused (why)."""
    if state.kind == "unknown":
        return ""
    if state.kind == "off":
        return t("sync.ind.off")
    status = state.status or {}
    if state.kind == "syncing":
        head = t("sync.ind.syncing")
    elif state.kind == "offline":
        head = t("sync.ind.offline")
    elif state.kind == "refused":
        head = t("sync.ind.refused", message=_short(state.message))
    elif status.get("last_sync"):
        head = t("sync.ind.synced", ago=ago(t, status["last_sync"], now))
    else:
        head = t("sync.ind.never")
    parts = [head]
    if status.get("pending"):
        parts.append(t("sync.ind.pending", n=status["pending"]))
    if status.get("needs_review"):
        parts.append(t("sync.ind.review", n=status["needs_review"]))
    return " · ".join(parts)


# -- the screen ---------------------------------------------------------------------------------


class SyncScreen(DulyScreen):
    """`9`: the state of this device's sync and what a merge flagged for a person to look at. Syncing itself
    is the app's `ctrl+y` (from every screen); Enter or `m` marks the highlighted item as looked at. Not set up:
    `s` starts a team. Set up: `d` lists the team's devices; on an admin device `i` invites a device, `k` makes a
    new recovery secret, and `x` in the device list removes one."""

    BINDINGS = [
        Binding("s", "setup", "Set up sync", id="sync_setup"),
        Binding("i", "invite", "Invite", id="sync_invite"),
        Binding("k", "recovery", "Recovery secret", id="sync_recovery"),
        Binding("d", "devices", "Devices", id="sync_devices"),
        Binding("m", "resolve", "Looked at", id="sync_resolve"),
        Binding("r", "refresh", "Refresh", id="refresh"),
    ]
    DEFAULT_CSS = """
    #sync { padding: 0 1; height: 1fr; }
    #sync-state { height: auto; }
    #sync-details { height: auto; }
    #sync-review { height: 1fr; min-height: 4; }
    #sync-message { height: auto; max-height: 4; color: $text-muted; }
    """

    class Loaded(Message):
        def __init__(self, status: dict | None, flags: list[dict]):
            super().__init__()
            self.status = status
            self.flags = flags

    class Resolved(Message):
        def __init__(self, flag_id: int):
            super().__init__()
            self.flag_id = flag_id

    def __init__(self):
        super().__init__()
        self.status: dict | None = None
        self.flags: dict[str, dict] = {}
        self._made = None  # what a set-up or invite form just made, until its modal takes it

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        with Vertical(id="sync"):
            yield Static("", id="sync-state")
            yield Static("", id="sync-details")
            yield Label(t("sync.review"), id="sync-review-title", classes="section")
            yield DataTable(id="sync-review", cursor_type="row", zebra_stripes=True)
            yield Static("", id="sync-message")
        yield Footer()

    def on_mount(self) -> None:
        t = self.t
        table = self.query_one("#sync-review", DataTable)
        for key in ("sync.col.id", "sync.col.kind", "sync.col.found", "sync.col.message"):
            table.add_column(t(key), key=key)
        table.focus()
        super().on_mount()

    def on_screen_resume(self) -> None:
        self.show_state()
        super().on_screen_resume()

    def action_refresh(self) -> None:
        self.app.refresh_sync_status()
        self.reload()

    def reload(self) -> None:
        super().reload()
        self.show_state()
        self.load()

    @work(exclusive=True, exit_on_error=False, group="sync-view")
    async def load(self) -> None:
        self.post_message(self.Loaded(*await self.app.db.run_background(sync_view)))

    # -- showing ---------------------------------------------------------------------------------
    def show_state(self) -> None:
        """The one-line state, from the app (it changes while a sync runs, without a database read)."""
        state = self.app.sync_state
        text = indicator(self.t, state, self.app.now()) or self.t("dash.loading")
        style = {"offline": "yellow", "refused": "red", "syncing": "cyan"}.get(state.kind, "bold")
        line = Text.assemble((self.t("sync.state") + "  ", "bold"), (text, style))
        if state.kind in ("offline", "refused") and state.message:
            line.append("\n" + state.message, style="dim")
        self.query_one("#sync-state", Static).update(line)
        self.refresh_bindings()  # s only when not set up; d once set up; i and k only on an admin device
        if state.status is not None:  # the app read it after the last round: last sync, pending, head move on
            self._show_details(state.status)

    @on(Loaded)
    def show(self, message: Loaded) -> None:
        t = self.t
        self._show_details(message.status)
        table = self.query_one("#sync-review", DataTable)
        keep = self._current()
        table.clear()
        self.flags = {}
        for flag in message.flags:
            key = str(flag["id"])
            self.flags[key] = flag
            table.add_row(key, t(f"sync.kind.{flag['kind']}") if f"sync.kind.{flag['kind']}" in t._catalogue
                          else flag["kind"], utc_text(flag["found_at"]), " ".join(_worded(flag["message"], t).split()),
                          key=key)
        self.query_one("#sync-review-title", Label).update(t("sync.review_count", n=len(message.flags)))
        if keep in self.flags:
            table.move_cursor(row=table.get_row_index(keep))
        self._show_message(self._current())

    def _show_details(self, status: dict | None) -> None:
        self.status = status
        shown = self._details(status) if status else Text(self.t("sync.not_set_up"))
        self.query_one("#sync-details", Static).update(shown)

    def _details(self, status: dict) -> Table:
        t, now = self.t, self.app.now()
        device = status["device"]
        if status.get("device_name"):
            device = f"{status['device_name']} ({device})"
        last = utc_text(status.get("last_sync"))
        last = f"{last} ({ago(t, status['last_sync'], now)})" if last else t("sync.never")
        offset = t("sync.offset", ms=f"{status['clock_offset_ms']:+d}")
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(ratio=1)
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(ratio=1)
        for left, right in (
            (("sync.server", status["server"] or ""), ("sync.device", device)),
            (("sync.role", t(f"sync.role.{status['role']}") if status.get("role") else ""),
             ("sync.last_sync", last)),
            (("sync.pending", str(status["pending"])), ("sync.head", str(status["server_head"]))),
            (("sync.epoch", str(status["key_epoch"])), ("sync.clock", offset)),
        ):
            grid.add_row(t(left[0]), left[1], t(right[0]), right[1])
        return grid

    def _current(self) -> str | None:
        table = self.query_one("#sync-review", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        return str(key) if key is not None else None

    def _show_message(self, key: str | None) -> None:
        flag = self.flags.get(key or "")
        text = _worded(flag["message"], self.t) if flag else (self.t("sync.review_none") if self.status else "")
        self.query_one("#sync-message", Static).update(text)

    @on(DataTable.RowHighlighted, "#sync-review")
    def highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None:
            self._show_message(str(event.row_key.value))

    # -- marking an item looked at ---------------------------------------------------------------
    @on(DataTable.RowSelected, "#sync-review")
    def selected(self, event: DataTable.RowSelected) -> None:
        self.action_resolve()

    def action_resolve(self) -> None:
        key = self._current()
        if key in self.flags:
            self.app.push_screen(ConfirmScreen(self.t("sync.resolve_q", id=key), undo=self.t("sync.resolve_undo")),
                                 lambda yes: yes and self.resolve(int(key)))

    @work(exclusive=True, exit_on_error=False, group="sync-resolve")
    async def resolve(self, flag_id: int) -> None:
        from sync import merge

        await self.db(merge.resolve, flag_id)
        self.post_message(self.Resolved(flag_id))

    @on(Resolved)
    def resolved(self, message: Resolved) -> None:
        self.app.ledger_changed()
        self.app.notify(self.t("sync.resolved", id=message.flag_id), timeout=6)
        self.reload()

    # -- setting up, inviting, recovery secrets ----------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        state = self.app.sync_state
        if action == "setup":
            return state.kind == "off"
        if action in ("invite", "recovery"):
            return bool(state.status) and state.status.get("role") == "admin"
        if action == "devices":
            return bool(state.status)
        return super().check_action(action, parameters)

    def action_devices(self) -> None:
        admin = (self.app.sync_state.status or {}).get("role") == "admin"
        self.app.push_screen(DevicesScreen(admin, _ms_text))

    def action_setup(self) -> None:
        self._made = None
        self.app.push_screen(setup_form(self.t, self._start_team), self._team_started)

    async def _start_team(self, values: dict[str, str], progress=None) -> str:
        """The set-up form's save: the team, its first round and its recovery secret, off the event loop."""
        t = self.t
        server = server_address(values)
        try:
            started = await self.app.on_network(
                client.start_team, server, name=values["name"] or None,
                team_token=client.team_token(values["token"], "token") or None, insecure=values["insecure"] == "yes",
                progress=progress)
        except client.SyncError as exc:
            if exc.status == 403:  # a server that creates teams only with its token
                exc.field = "token"
            raise
        finally:
            self.app.ledger_changed()  # a first round that failed after the team was made still set this device up
        self._made = started
        return t("syncf.started", team=started.team, pushed=started.report.pushed)

    def _team_started(self, line: str | None) -> None:
        started, self._made = self._made, None
        if line is None or started is None:
            return
        self.app.notify(line, timeout=8)
        if started.secret_error is not None:
            self.app.notify(self.t("syncf.no_secret", reason=self.app.t.error(started.secret_error)),
                            severity="error", timeout=15)
        else:
            self.app.push_screen(SecretScreen(started.secret, started.server))
        self.reload()

    def action_invite(self) -> None:
        self._made = None
        self.app.push_screen(invite_form(self.t, self._invite), self._invited)

    async def _invite(self, values: dict[str, str]) -> str:
        self._made = await self.app.on_network(client.new_invite, values["role"], int(values["hours"]))
        return self._made.code

    def _invited(self, code: str | None) -> None:
        made, self._made = self._made, None
        if code is None or made is None:
            return
        expires = utc_text(made.expires)
        self.app.push_screen(InviteScreen(made, expires))

    def action_recovery(self) -> None:
        t = self.t
        self.app.push_screen(ConfirmScreen(t("syncf.recovery_q"), t("syncf.recovery_body"),
                                           undo=t("syncf.recovery_undo"), go=t("syncf.recovery_go")),
                             lambda yes: yes and self.make_recovery())

    @work(exclusive=True, exit_on_error=False, group="sync-recovery")
    async def make_recovery(self) -> None:
        self.app.notify(self.t("syncf.recovery_making"), timeout=4)
        try:
            secret = await self.app.on_network(client.new_recovery)
        except DulyError as exc:
            self.app.notify(self.app.t.error(exc), severity="error", timeout=10)
            return
        self.app.push_screen(SecretScreen(secret, (self.status or {}).get("server") or ""))
