"""The Duly terminal app: unlock the ledger, then the dashboard, customers and their archive, invoices,
payments, aging with drill-down, and reports.

Database work never runs on the event loop: the app has ONE database thread (`LedgerThread`) that owns the
one Ledger connection for the whole session (one key derivation, one page cache). Screens run async
workers that submit a job with `await self.app.db.run(fn, ...)` (fn(ledger, ...) runs on that thread, one
job at a time; whole-book reads use `run_background`, which gives way to what a person just asked for),
then post the result back as a message. A job that raises fails its worker, which shows an error
notification; the app carries on.

Sync (DESIGN §4) is the one exception to "one connection": a sync round waits on the network, so it runs on
a thread of its own with its own connection (`sync.client.round.sync_round`), never on the database thread;
the header shows its state, read from the ledger as a database job.
"""
from __future__ import annotations

import asyncio
import hmac
import itertools
import os
import queue
import threading
from concurrent.futures import Future
from datetime import date, datetime, timezone
from functools import partial
from pathlib import Path

from textual import work
from textual.app import App, SystemCommand
from textual.theme import ThemeProvider
from textual.binding import Binding
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from store.errors import DulyError
from store.ledger import backup as backups
from store.ledger.ledger import Ledger
from store.rules.validate import parse_date
from store.write import settings
from tui.app import palette
from tui.app.apart import on_ledger, run_apart
from tui.app.i18n import LANGUAGES, Strings, choose_language
from tui.app.palette import Palette
from tui.screens.aging import AgingScreen
from tui.screens.base import FOOTER_WIDE_ONLY, DulyScreen, localise_bindings
from tui.screens.collections import CollectionsScreen
from tui.screens.customers import CustomersScreen
from tui.screens.dashboard import DashboardScreen
from tui.screens.files import FilesScreen
from tui.screens.first_run import FirstRunScreen
from tui.screens.help import HelpScreen
from tui.screens.invoices import InvoicesScreen
from tui.screens.passphrase import PassphraseScreen
from tui.screens.reconcile import ReconcileScreen
from tui.screens.payments import PaymentsScreen
from tui.screens.rates import RatesScreen
from tui.screens.reports import ReportsScreen
from sync.client.round import Outcome, local_status, on_own_connection, sync_round
from tui.screens.drafts import DraftsScreen
from tui.screens.settings import SettingsScreen
from tui.screens.terms import TermsScreen
from tui.screens.sync import SyncScreen, SyncState, indicator
from store.i18n import N_


FOREGROUND, BACKGROUND, IDLE, STOP = 0, 1, 2, 3  # job priorities: lower runs first
SYNC_INTERVAL_MINUTES = 5  # background sync while the app is open (store/settings has no setting for it yet)


class LedgerThread:
    """The app's one database thread and its one long-lived Ledger connection.

    SQLite connections cannot cross threads, and opening one derives the key from the passphrase
    (~0.15 s) and starts a cold page cache, so the connection is opened once, on one thread, and every
    read and write of the session is a job on that thread, one at a time.

    Jobs are foreground (what a person just asked for: a page, a record, a write), background (whole-book
    reads that may take seconds on a big ledger: the dashboard, aging, reports) or idle (extras nobody
    waits for: credit ratings in the customer list). Queued jobs run by priority; a job that arrives while
    a lower-priority one runs interrupts it (sqlite3_interrupt; background and idle jobs only read), and
    the interrupted job starts again afterwards.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._queue: queue.PriorityQueue = queue.PriorityQueue()
        self._order = itertools.count()
        self._lock = threading.Lock()
        self._running = None  # priority of the job running now
        self._interrupting = False
        self._ledger: Ledger | None = None
        self.passphrase: str | None = None  # the one the ledger was opened with (the sync thread opens its own)
        self.on_upgrade = None  # on_upgrade(found, target), called on the database thread before a migration
        self._worker = threading.Thread(target=self._loop, name="duly-db", daemon=True)
        self._worker.start()

    # -- on the database thread ------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            priority, _, job = self._queue.get()
            if priority == STOP:
                self._close()
                return
            fn, future, started = job
            if not started and not future.set_running_or_notify_cancel():
                continue  # cancelled while queued
            with self._lock:
                self._running, self._interrupting = priority, False
            try:
                result = fn()
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting worker
                with self._lock:
                    self._running = None
                if _interrupted(exc) and started < 3:  # it was made way for: run it again later
                    self._queue.put((priority, next(self._order), (fn, future, started + 1)))
                else:
                    future.set_exception(exc)
                continue
            with self._lock:
                self._running = None
            future.set_result(result)

    def _open(self, passphrase: str) -> str | None:
        # raises WrongPassphrase: the old connection, if any, stays
        ledger = Ledger.open(self.path, passphrase, on_upgrade=self.on_upgrade)
        if self._ledger is not None:
            self._ledger.close()
        self._ledger = ledger
        self.passphrase = passphrase
        return settings.get(ledger, "language")  # this device's, or the one an older Duly synced

    def _create(self, passphrase: str, series: str | None, setup) -> str | None:
        """Make a new ledger and fill it with setup(ledger) (first settings, or the demo book); a failure leaves
        no file behind, so the user can try again."""
        ledger = Ledger.create(self.path, passphrase, series=series)
        try:
            setup(ledger)
        except BaseException:
            ledger.close()
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            raise
        if self._ledger is not None:
            self._ledger.close()
        self._ledger = ledger
        self.passphrase = passphrase
        return settings.get(ledger, "language")

    def _rekey(self, old: str, new: str) -> None:
        """`duly passwd` in the app: the ledger re-encrypted under `new`, once `old` is shown to be the one it was
        opened with (the sync thread opens its own connections with self.passphrase, so it follows)."""
        if self._ledger is None:
            raise DulyError(N_("the ledger is locked"))
        if not hmac.compare_digest(old.encode(), (self.passphrase or "").encode()):
            raise DulyError(N_("that is not the ledger's current passphrase: the passphrase was not changed"))
        self._ledger.rekey(new)
        self.passphrase = new

    def _restore(self, source: str, other_ledger: bool, confirm, progress=None) -> dict:
        """`duly restore` in the app: the restore holds the live file on its own, so this session's connection is
        closed for it and opened again afterwards, on the restored file or (when the restore refused or failed,
        having replaced nothing) on the same file as before."""
        if self._ledger is None or self.passphrase is None:
            raise DulyError(N_("the ledger is locked"))
        passphrase = self.passphrase
        self._close()
        try:
            return backups.restore(source, self.path, passphrase, confirm=confirm, other_ledger=other_ledger,
                                   progress=progress)
        finally:
            self._open(passphrase)

    def _call(self, fn, args, kwargs):
        if self._ledger is None:
            raise DulyError(N_("the ledger is locked"))
        return fn(self._ledger, *args, **kwargs)

    def _close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None

    def ledger(self) -> Ledger:
        """The connection, for code already running on the database thread (a job's callees)."""
        if threading.current_thread() is not self._worker or self._ledger is None:
            raise RuntimeError("database work on the event loop or another thread: "
                               "submit it with `await app.db.run(fn, ...)`")
        return self._ledger

    # -- from the event loop ---------------------------------------------------------------------
    def _submit(self, fn, priority: int) -> Future:
        future: Future = Future()
        self._queue.put((priority, next(self._order), (fn, future, 0)))
        with self._lock:
            running = self._running
            if running is not None and running > priority and not self._interrupting and self._ledger is not None:
                self._interrupting = True
                self._ledger.conn.interrupt()  # thread-safe by SQLite's contract
        return future

    def unlock(self, passphrase: str) -> Future:
        """Open the ledger on the database thread; the future gives its `language` setting."""
        return self._submit(partial(self._open, passphrase), FOREGROUND)

    def create(self, passphrase: str, setup, *, series: str | None = None) -> Future:
        """Create the ledger (it must not exist) on the database thread, run setup(ledger) there, keep it open;
        the future gives its `language` setting."""
        return self._submit(partial(self._create, passphrase, series, setup), FOREGROUND)

    def rekey(self, old: str, new: str) -> Future:
        """Change the passphrase on the database thread (old must be the one the ledger was opened with)."""
        return self._submit(partial(self._rekey, old, new), FOREGROUND)

    def restore(self, source: str, *, other_ledger: bool = False, confirm=None, progress=None) -> Future:
        """Replace the ledger with a checked backup (store.ledger.backup.restore) on the database thread, then go
        on with the restored ledger; the future gives the restore's summary. confirm(summary) is asked on the
        database thread just before anything is replaced (False cancels)."""
        return self._submit(partial(self._restore, source, other_ledger, confirm, progress), FOREGROUND)

    async def run(self, fn, /, *args, **kwargs):
        """fn(ledger, *args, **kwargs) on the database thread, awaited without blocking the event loop."""
        return await asyncio.wrap_future(self._submit(partial(self._call, fn, args, kwargs), FOREGROUND))

    async def run_background(self, fn, /, *args, **kwargs):
        """Like run, for a read of the whole book: foreground jobs go first and may interrupt it (it then
        starts again), so fn must only read."""
        return await asyncio.wrap_future(self._submit(partial(self._call, fn, args, kwargs), BACKGROUND))

    async def run_idle(self, fn, /, *args, **kwargs):
        """Like run_background, after (and interrupted by) every foreground and background job."""
        return await asyncio.wrap_future(self._submit(partial(self._call, fn, args, kwargs), IDLE))

    async def run_apart(self, fn, /, *args, **kwargs):
        """Like run, for a bulk job (an import of a big file): fn runs in a Duly process of its own, on its own
        connection (tui.app.apart says why), and a progress= callback is called as it reports. This thread waits
        for it as for any job of its own, so what the app asks meanwhile waits its turn, as before, instead of
        meeting a ledger another process is writing; and leaving the app waits for it to end."""
        return await asyncio.wrap_future(self._submit(partial(self._apart, fn, args, kwargs), FOREGROUND))

    def _apart(self, fn, args, kwargs):
        if self._ledger is None or self.passphrase is None:
            raise DulyError(N_("the ledger is locked"))
        return run_apart(on_ledger, str(self.path), self.passphrase, fn, *args, **kwargs)

    def close(self) -> None:
        """Close the connection on its own thread after the jobs already queued, then end the thread."""
        if self._worker.is_alive():
            self._queue.put((STOP, next(self._order), None))
            self._worker.join()


def _interrupted(exc: BaseException) -> bool:
    return type(exc).__name__ == "OperationalError" and "interrupted" in str(exc)


def parse_keymap(text: str | None) -> dict[str, str]:
    """DULY_KEYMAP='quit=ctrl+x;help=f1' -> {'quit': 'ctrl+x', 'help': 'f1'} (binding ids to keys)."""
    keymap = {}
    for part in (text or "").split(";"):
        if "=" in part:
            binding_id, keys = part.split("=", 1)
            if binding_id.strip() and keys.strip():
                keymap[binding_id.strip()] = keys.strip()
    return keymap


# The one key scheme (lazygit's and k9s's): going to a screen is a digit, the same on every screen; what a
# screen does is a letter (or ctrl+letter on a form), and no screen binds a digit or a key of GLOBAL_KEYS.
# tests/test_tui_keys.py walks every screen and fails when one does.
NAVIGATION = (("dashboard", "1"), ("customers", "2"), ("invoices", "3"), ("payments", "4"), ("aging", "5"),
              ("reports", "6"), ("collections", "7"), ("reconcile", "8"), ("sync", "9"))
NAV_GROUP = Binding.Group("Go to", compact=True)
GLOBAL_KEYS = frozenset({"ctrl+q", "question_mark", "f1", "ctrl+y", "ctrl+p", "f2", "f3", "f4", "f5", "f6",
                         *(key for _, key in NAVIGATION)})  # f2 settings, f3 drafts, f4 terms, f5 files, f6 rates


class DulyApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "Duly"
    MODES = {"dashboard": DashboardScreen, "customers": CustomersScreen, "invoices": InvoicesScreen,
             "payments": PaymentsScreen, "aging": AgingScreen, "reports": ReportsScreen,
             "collections": CollectionsScreen, "reconcile": ReconcileScreen, "sync": SyncScreen,
             "settings": SettingsScreen, "drafts": DraftsScreen, "terms": TermsScreen, "files": FilesScreen,
             "rates": RatesScreen}
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
        Binding("question_mark", "help", "Help", id="help", key_display="?"),
        Binding("f1", "help", "Help", id="help_f1", show=False),
        *(Binding(key, f"goto('{mode}')", mode.title(), id=mode, group=NAV_GROUP) for mode, key in NAVIGATION),
        Binding("ctrl+y", "sync_now", "Sync now", id="sync_now"),
        # Textual adds this binding itself, worded "palette"; declared here, it is worded in the app's language
        Binding("ctrl+p", "command_palette", "palette", id="command_palette", show=False, priority=True),
        Binding("f2", "goto('settings')", "Settings", id="settings"),
        Binding("f3", "goto('drafts')", "Drafts", id="drafts"),
        Binding("f4", "goto('terms')", "Terms", id="terms"),
        Binding("f5", "goto('files')", "Files", id="files"),
        Binding("f6", "goto('rates')", "Rates", id="rates"),
    ]

    def __init__(self, ledger_path: str | os.PathLike, passphrase: str | None = None, *,
                 today: date | None = None, language: str | None = None, keymap: dict[str, str] | None = None,
                 sync_interval: float | None = None, sync_transport=None, sync_on_open: bool = True):
        super().__init__()
        self.ledger_path = Path(ledger_path)
        self.db = LedgerThread(self.ledger_path)
        self.db.on_upgrade = lambda found, target: self.call_from_thread(self._upgrading, found, target)
        self._given_passphrase = passphrase
        self._fixed_language = language
        self.today_fixed = today
        self.language = language or choose_language(None)
        self.t = Strings(self.language)
        self.unlocked = False
        self.revision = 0  # bumped after every write, so screens know to reload
        self.failure: DulyError | None = None
        self.sub_title = self.ledger_path.name
        self.now_fixed: datetime | None = None  # tests and snapshots: "synced N min ago" against a fixed now
        self.sync_state = SyncState()
        self.sync_interval = SYNC_INTERVAL_MINUTES * 60 if sync_interval is None else sync_interval  # seconds
        self.sync_transport = sync_transport  # tests: a callable giving an httpx transport for each round
        self._sync_future: Future | None = None  # the round running now (one at a time)
        self._synced_on_open = not sync_on_open  # a round as the app opens (when sync is set up and timed)
        if keymap:
            self.set_keymap(keymap)

    # -- the ledger ------------------------------------------------------------------------------
    def today(self) -> date:
        return self.today_fixed or date.today()

    def ledger(self) -> Ledger:
        """The connection, only on the database thread (raises RuntimeError anywhere else)."""
        return self.db.ledger()

    def ledger_changed(self) -> None:
        self.revision += 1
        if self.unlocked:
            self.refresh_sync_status()  # a write adds a pending change; a resolved item leaves the list

    def on_mount(self) -> None:
        localise_bindings(self, self.t)
        self.title = self.t("app.title")
        if not self.ledger_path.exists():
            self.push_screen(FirstRunScreen(self.ledger_path), self.unlocked_with)  # create one, or the demo
        elif self._given_passphrase is not None:
            self.unlock_with_given(self._given_passphrase)
        else:
            self.push_screen(PassphraseScreen(self.ledger_path), self.unlocked_with)

    @work(exclusive=True, exit_on_error=False, group="unlock")
    async def unlock_with_given(self, passphrase: str) -> None:
        try:
            setting = await asyncio.wrap_future(self.db.unlock(passphrase))
        except DulyError as exc:  # wrong passphrase, no such file, locked, written by a newer Duly
            self._give_up(exc)
            return
        self.unlocked_with(setting)

    def _upgrading(self, found: int, target: int) -> None:
        """Say why the first screen waits: the schema is being upgraded (seconds on a big ledger, once)."""
        self.notify(self.t("app.upgrading", found=found, target=target), timeout=30)

    def on_unmount(self) -> None:
        self.db.close()

    def _give_up(self, error: DulyError) -> None:
        self.failure = error
        self.exit(return_code=1)

    def unlocked_with(self, language_setting: str | None) -> None:
        """The ledger is open: settle the language, then show the dashboard."""
        self.unlocked = True
        if not self._fixed_language:
            self.language = choose_language(language_setting)
            self.t = Strings(self.language)
            self.title = self.t("app.title")
        localise_bindings(self, self.t)
        self.switch_mode("dashboard")
        self.refresh_bindings()
        self.refresh_sync_status()
        self.set_interval(30, self.show_sync_state)  # "synced N min ago" moves on without a database read
        if self.sync_interval:
            self.set_interval(self.sync_interval, self._sync_tick)

    async def set_language(self, language: str) -> None:
        """Every screen in another language at once ("zh" or "en"; the settings screen calls it after it saved
        the device's `language` setting): the title, the footer, the palette; the page on show is built anew at once
        (screens pushed over it are closed), the other pages when next visited. A language fixed when the app was
        started (DulyApp(language=...), from --lang) gives way to the one chosen here."""
        self._fixed_language = None
        self.language = language if language in LANGUAGES else "en"
        self.t = Strings(self.language)
        self.title = self.t("app.title")
        localise_bindings(self, self.t)
        current = self.current_mode
        for mode, screen_type in self.MODES.items():  # built anew, in the new words, when next visited
            if mode != current and mode in self._screen_stacks:
                await self.remove_mode(mode)
                self.add_mode(mode, screen_type)
        if current in self.MODES:  # the page on show: through a blank screen, so it is built anew at once
            self.add_mode("relabel", Screen)
            await self.switch_mode("relabel")
            await self.remove_mode(current)
            self.add_mode(current, self.MODES[current])
            await self.switch_mode(current)
            await self.remove_mode("relabel")
        self.refresh_bindings()
        self.refresh_sync_status()

    # -- actions ---------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("goto", "sync_now") and not self.unlocked:
            return False
        if action == "goto" and (isinstance(self.screen, ModalScreen) or not getattr(self.screen, "NAVIGATES", True)):
            return False  # a dialog or a form with typed content: a digit never leaves it
        return True

    async def action_goto(self, mode: str) -> None:
        if self.current_mode == mode and len(self.screen_stack) > 1:
            while len(self.screen_stack) > 1:
                self.pop_screen()
            return
        # awaited: the keys typed right after this one (a held-down Down) go to the new screen, not the old one
        await self.switch_mode(mode)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        screen_rows = self._key_rows(self.screen)
        taken = {key for key, _ in screen_rows}
        self.push_screen(HelpScreen(screen_rows, [row for row in self._key_rows(self) if row[0] not in taken]))

    def _key_rows(self, node) -> list[tuple[str, str]]:
        """(key, what it does) for the help screen: each key once, each action once."""
        rows, keys, actions = [], set(), set()
        for _key, binding in node._bindings:
            shown = self.get_key_display(binding)
            hidden = not binding.show and binding.id not in FOOTER_WIDE_ONLY  # those are left out of a narrow footer
            if hidden or not binding.description or shown in keys or binding.action in actions:
                continue
            keys.add(shown)
            actions.add(binding.action)
            rows.append((shown, binding.description))
        return rows

    def get_system_commands(self, screen: Screen):
        """The command palette offers what the current screen can do, then the app's own commands."""
        for node in (screen, self):
            for _key, binding in node._bindings:
                if binding.description and binding.action not in ("help",) and (
                    node is screen or binding.action.startswith("goto") or binding.action == "sync_now"
                ):
                    if node is self and not self.unlocked:
                        continue
                    yield SystemCommand(binding.description, f"{self.get_key_display(binding)}",
                                        partial(node.run_action, binding.action))
        yield from palette.system_commands(self, screen)

    def action_command_palette(self) -> None:
        if self.use_command_palette and not Palette.is_open(self):
            self.push_screen(Palette(self.t, id="--command-palette"))

    def search_themes(self) -> None:
        self.push_screen(Palette(self.t, providers=[ThemeProvider], placeholder=self.t("palette.themes")))

    # -- sync ------------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.now_fixed or datetime.now(timezone.utc)

    @work(exclusive=True, exit_on_error=False, group="sync-status")
    async def refresh_sync_status(self) -> None:
        """Read this device's sync state from the ledger (no network) and show it."""
        status = await self.db.run_background(local_status)
        state = self.sync_state
        state.status = status
        if status is None:
            state.kind, state.message = "off", ""
        elif state.kind in ("unknown", "off"):
            state.kind = "ready"
        self.show_sync_state()
        if status is not None and self.sync_interval and not self._synced_on_open:
            self._synced_on_open = True
            self.start_sync(manual=False)  # what the team did while the app was closed, without waiting

    def show_sync_state(self) -> None:
        """The indicator in the header (every screen), and the Sync screen's state line."""
        text = indicator(self.t, self.sync_state, self.now())
        self.sub_title = f"{self.ledger_path.name} · {text}" if text else self.ledger_path.name
        if isinstance(self.screen, SyncScreen):
            self.screen.show_state()

    def action_sync_now(self) -> None:
        self.start_sync(manual=True)

    def _sync_tick(self) -> None:
        if self.sync_state.kind not in ("off", "unknown"):
            self.start_sync(manual=False)

    def start_sync(self, *, manual: bool) -> None:
        """One sync round on a thread of its own (never the database thread, never the event loop)."""
        if self.sync_state.kind == "off":
            if manual:
                self.notify(self.t("sync.not_set_up"), severity="warning", timeout=8)
            return
        if self._sync_future is not None:
            if manual:
                self.notify(self.t("sync.busy"), timeout=4)
            return
        passphrase = self.db.passphrase
        if passphrase is None:
            return
        future: Future = Future()
        future.set_running_or_notify_cancel()  # a running future cannot be cancelled (the app leaving) under run()

        def run() -> None:
            try:
                outcome = sync_round(self.ledger_path, passphrase, self.sync_transport)
            except BaseException as exc:  # noqa: BLE001 - sync_round returns its failures; this is a bug
                outcome = Outcome("refused", message=f"{type(exc).__name__}: {exc}")
            future.set_result(outcome)

        self._sync_future = future
        before = self.sync_state.kind
        self.sync_state.kind = "syncing"
        self.show_sync_state()
        threading.Thread(target=run, name="duly-sync", daemon=True).start()
        self.await_sync(future, before, manual)

    def in_thread(self, fn, /, *args, **kwargs) -> Future:
        """fn(*args, **kwargs) on a thread of its own, for work that waits on the network (never the database
        thread, never the event loop); await it with asyncio.wrap_future. A daemon thread, like the sync round's:
        leaving the app never waits on a server."""
        future: Future = Future()
        future.set_running_or_notify_cancel()

        def run() -> None:
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # noqa: BLE001 - handed to the one who awaits it
                future.set_exception(exc)

        threading.Thread(target=run, name="duly-net", daemon=True).start()
        return future

    async def on_network(self, fn, /, *args, **kwargs):
        """fn(ledger, *args, transport=..., **kwargs) on a thread of its own with its own connection to the ledger
        (sync set-up: start a team, an invite, a recovery secret), awaited without blocking the event loop."""
        transport = self.sync_transport() if self.sync_transport else None
        return await asyncio.wrap_future(self.in_thread(on_own_connection, self.ledger_path, self.db.passphrase, fn,
                                                        *args, transport=transport, **kwargs))

    @work(exit_on_error=False, group="sync")
    async def await_sync(self, future: Future, before: str, manual: bool) -> None:
        try:
            outcome = await asyncio.wrap_future(future)
        finally:
            self._sync_future = None
        self.sync_done(outcome, before, manual)

    def sync_done(self, outcome: Outcome, before: str, manual: bool) -> None:
        t, state = self.t, self.sync_state
        state.message = outcome.message
        if outcome.changed:
            self.ledger_changed()
            screen = self.screen
            if isinstance(screen, DulyScreen) and screen.loaded_revision not in (-1, self.revision):
                screen.reload()  # the list in front of the user shows what arrived
        if outcome.kind == "done":
            state.kind = "ready"
            report = outcome.report
            if manual:
                self.notify(t("sync.done", pulled=report.pulled, applied=report.applied, pushed=report.pushed),
                            timeout=6)
            if report.flagged:
                self.notify(t("sync.flagged", n=report.flagged), severity="warning", timeout=10)
        else:
            state.kind = outcome.kind
            # one notification per failure the user asked for; the timer says it again only when it changed
            if manual or before != outcome.kind:
                key = {"off": "sync.not_set_up", "offline": "sync.offline_note"}.get(outcome.kind, "sync.refused_note")
                self.notify(t(key, message=outcome.message), severity="warning" if outcome.kind == "off" else "error",
                            timeout=10)
        self.show_sync_state()
        self.refresh_sync_status()

    # -- failures --------------------------------------------------------------------------------
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that failed shows one line and the app carries on (screens forward theirs here)."""
        if event.state == WorkerState.ERROR:
            self.notify_error(event.worker.error)

    def notify_error(self, error: BaseException | None) -> None:
        if isinstance(error, DulyError):
            text = self.t.error(error)
        else:
            text = f"{type(error).__name__}: {error}"
        self.notify(text, severity="error", timeout=8)


def _today_from_env() -> date | None:
    text = os.environ.get("DULY_TODAY")
    return parse_date(text, "DULY_TODAY") if text else None


def run_app(ctx) -> int:
    """`duly` / `duly tui`: open the app on ctx's ledger; returns the exit code."""
    path = ctx.ledger_path  # when there is no ledger there yet, the app offers to create one (or the demo)
    given = getattr(ctx.args, "passphrase_file", None) or os.environ.get("DULY_PASSPHRASE")
    passphrase = ctx.passphrase() if given else None
    app = DulyApp(path, passphrase, today=_today_from_env(), language=getattr(ctx.args, "lang", None),
                  keymap=parse_keymap(os.environ.get("DULY_KEYMAP")))
    app.run()
    if app.failure is not None:
        raise app.failure
    return app.return_code or 0
