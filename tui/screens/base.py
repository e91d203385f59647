"""What every Duly screen shares: the app's words, its database thread, reload on change."""
from __future__ import annotations

from dataclasses import replace

from textual.binding import Binding, BindingsMap
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from tui.app.i18n import Strings
from tui.widgets.table import DataTable


def localise_bindings(node, t: Strings) -> None:
    """Footer and help texts in the app's language: a binding's description is looked up by its id, Textual's
    own bindings (no id: Focus Next, Copy selected text) by their action ("key.focus_next")."""
    keys = {}
    for key, bindings in node._bindings.key_to_bindings.items():
        keys[key] = [_localised(b, t) for b in bindings]
    node._bindings = BindingsMap.from_keys(keys)


def _localised(binding: Binding, t: Strings) -> Binding:
    word = _word_for(binding)
    if binding.description and t.has(word):
        binding = replace(binding, description=t(word))
    if binding.group is not None:  # the footer's one label for a group of keys ("1-9 Go to")
        binding = replace(binding, group=Binding.Group(t("key.go_to"), compact=binding.group.compact))
    return binding


# Below 120 columns the footer keeps to what fits in 80: the app's set-up keys (ctrl+y, f2-f4), the digits that go to
# a screen (the same on every screen) and r (every screen reloads by itself after a change) are left to the help
# screen (?), which lists them at every width, and the palette's key (ctrl+p) is not drawn on the right.
FOOTER_WIDE_ONLY = frozenset({"sync_now", "settings", "drafts", "terms", "refresh", "dashboard", "customers",
                              "invoices", "payments", "aging", "reports", "collections", "reconcile", "sync", "rates"})


def fit_footer_keys(node, narrow: bool) -> bool:
    """Show the wide-only keys of node's bindings or not; whether anything changed."""
    changed = False
    keys = {}
    for key, bindings in node._bindings.key_to_bindings.items():
        keys[key] = []
        for binding in bindings:
            if binding.id in FOOTER_WIDE_ONLY and binding.show == narrow:
                binding, changed = replace(binding, show=not narrow), True
            keys[key].append(binding)
    if changed:
        node._bindings = BindingsMap.from_keys(keys)
    return changed


def _word_for(binding) -> str:
    return f"key.{binding.id}" if binding.id else f"key.{binding.action.rpartition('.')[2]}"


class DulyScreen(Screen):
    """A screen that loads from the ledger through the database thread and reloads when the ledger changed."""

    loaded_revision = -1
    NAVIGATES = True  # the app's digits go to another screen from here (False: a form, whose digits type)

    @property
    def t(self) -> Strings:
        return self.app.t

    async def db(self, fn, /, *args, **kwargs):
        """fn(ledger, *args, **kwargs) on the app's database thread (await it in an async worker)."""
        return await self.app.db.run(fn, *args, **kwargs)

    def on_mount(self) -> None:
        localise_bindings(self, self.t)
        self.refresh_bindings()
        self._fit_footer()
        self.reload()

    def on_resize(self) -> None:
        self._fit_footer()

    def _fit_footer(self) -> None:
        """Below 120 columns the footer drops its padding, the palette's key and the set-up keys (the help screen
        lists them), so every key it shows fits in 80 columns."""
        narrow = self.app.size.width < 120
        for footer in self.query(Footer):
            footer.compact = narrow
            footer.show_command_palette = not narrow
        if fit_footer_keys(self.app, narrow) | fit_footer_keys(self, narrow):
            self.app.refresh_bindings()

    def on_screen_resume(self) -> None:
        if self.loaded_revision != -1 and self.loaded_revision != self.app.revision:
            self.reload()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Worker messages do not bubble: a failed load becomes an error notification, never an exit."""
        if event.state == WorkerState.ERROR:
            self.app.notify_error(event.worker.error)

    def reload(self) -> None:
        """Start the worker(s) that fetch this screen's data."""
        self.loaded_revision = self.app.revision


PREFETCH = 20  # rows before the end of what is loaded at which the next page is fetched


class PagedListScreen(DulyScreen):
    """A list paged from SQLite by a keyset (never the whole table in the widget): the first page on reload,
    the next one as the cursor or the scroll nears the end. A subclass names its DataTable (`LIST_ID`, with a
    Static `LIST_ID-status` below it), its worker group (`PAGE_GROUP`) and its empty-list text (`EMPTY_KEY`),
    and gives `page_query()` (the filters) and a `fetch_page(generation, query, after)` worker whose message
    handler adds the rows and calls `page_done`."""

    LIST_ID = ""
    PAGE_GROUP = ""
    EMPTY_KEY = ""

    def __init__(self):
        super().__init__()
        self.generation = 0  # a page of an older query is dropped
        self.after = None  # the last row's key: the next page starts after it
        self.more = False
        self.loading = False

    def page_query(self):
        """The filters of the current query, as fetch_page takes them."""
        return None

    def restart_pages(self) -> None:
        self.generation += 1
        self.after, self.more, self.loading = None, False, True
        self.query_one(f"#{self.LIST_ID}", DataTable).clear()
        self.fetch_page(self.generation, self.page_query(), None)

    def load_more(self) -> None:
        if self.more and not self.loading:
            self.loading = True
            self.fetch_page(self.generation, self.page_query(), self.after)

    def page_done(self, rows: list[dict], more: bool, after) -> None:
        """After a page's rows were added: where the next page starts, and the count under the list."""
        if rows:
            self.after = after
        self.more, self.loading = more, False
        t, table = self.t, self.query_one(f"#{self.LIST_ID}", DataTable)
        status = t("cust.count", shown=table.row_count, more=t("cust.more") if self.more else "")
        self.query_one(f"#{self.LIST_ID}-status", Static).update(status if table.row_count else t(self.EMPTY_KEY))
        self._maybe_more()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == self.PAGE_GROUP and event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self.loading = False
        super().on_worker_state_changed(event)

    def _maybe_more(self) -> None:
        table = self.query_one(f"#{self.LIST_ID}", DataTable)
        near_end = table.cursor_row >= table.row_count - PREFETCH
        scrolled_down = table.max_scroll_y - table.scroll_y <= table.size.height
        if near_end or (table.row_count and scrolled_down and table.scroll_y > 0):
            self.load_more()
