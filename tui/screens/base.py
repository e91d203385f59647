"""What every Duly screen shares: the app's words, its database thread, reload on change."""
from __future__ import annotations

import contextlib
from dataclasses import replace
from itertools import combinations

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.actions import parse as parse_action
from textual.binding import Binding, BindingsMap
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane
from textual.widgets.data_table import ColumnKey
from textual.worker import Worker, WorkerState

from tui.app.i18n import LANGUAGES, Strings
from tui.widgets.table import DataTable


GROUP_WORDS = {"Go to": "key.go_to", "Import": "key.group_import", "Tab": "key.group_tab"}  # a group of keys (its English label) -> word id


def _group_word(label: str) -> str:
    """The word id of a group's label, in English (as declared) or already in a language (localised before)."""
    for english, word in GROUP_WORDS.items():
        if label == english or any(Strings(language)(word) == label for language in LANGUAGES):
            return word
    return "key.go_to"


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
    if binding.group is not None:  # the footer's one label for a group of keys ("1-9 Go to", "c i p f Import")
        word = _group_word(binding.group.description)
        binding = replace(binding, group=Binding.Group(t(word), compact=binding.group.compact))
    return binding


# The set-up keys, left out of a footer whose keys do not fit (always below 120 columns) and listed by the help screen
# (?) at every width: first the digits that go to a screen (the same on every screen) and r (every screen reloads by
# itself after a change), then the app's set-up keys (ctrl+y, f2-f6), and when nothing else helps, [ and ].
FOOTER_FIRST_LEFT_OUT = frozenset({"refresh", "dashboard", "customers", "invoices", "payments", "aging", "reports",
                                   "collections", "reconcile", "sync"})
FOOTER_SET_UP = FOOTER_FIRST_LEFT_OUT | {"sync_now", "settings", "drafts", "terms", "files", "rates"}
FOOTER_WIDE_ONLY = FOOTER_SET_UP | {"previous_tab", "next_tab"}  # the tab keys ([ ]) go last of all


def fitted_keys(node, left_out: frozenset[str]) -> dict:
    """node's bindings (key -> bindings) with the set-up keys in left_out hidden and the others shown."""
    return {key: [replace(b, show=b.id not in left_out) if b.id in FOOTER_WIDE_ONLY else b for b in bindings]
            for key, bindings in node._bindings.key_to_bindings.items()}


def footer_width(bindings: list[Binding], key_display, compact: bool) -> int:
    """The cells a footer takes for these bindings (shown, one per action, in order): a key and its description,
    or a run of keys of one group and the group's label once; with the palette's key on a wide footer."""
    width, seen, last_group = 0, set(), None
    for binding in bindings:
        if binding.action in seen:
            continue
        seen.add(binding.action)
        key = cell_len(key_display(binding))
        group = binding.group
        if group is not None and group == last_group:
            width += key + (0 if group.compact else 1)  # one more key before the group's label ("123" or "p c")
            continue
        last_group = group
        label = group.description if group is not None else binding.description
        width += key + cell_len(label) + (2 if compact else 3) + (2 if group is not None and not group.compact else 0)
    return width + (0 if compact else 14)


def _word_for(binding) -> str:
    return f"key.{binding.id}" if binding.id else f"key.{binding.action.rpartition('.')[2]}"


TAB_KEYS = Binding.Group("Tab")


class FittedFooter:
    """A screen whose footer fits its width (any screen with a Footer: a DulyScreen, a form, a file picker, a modal
    dialog): its keys in the app's language, then fitted on mount, on every resize, when the focus moves and when it
    is back on top. Below 120 columns the footer drops its padding and the palette's key; then the set-up keys are
    left out (FOOTER_FIRST_LEFT_OUT, then all of FOOTER_WIDE_ONLY); then a screen with many keys groups them
    (FOOTER_GROUPS). Textual calls these handlers besides a subclass's own (the handlers of every class of it)."""

    # A screen with more keys than a footer holds names runs of them (binding ids, adjacent in BINDINGS) under one
    # label: (word id, ids). When the keys do not fit the width, the runs that make them fit with the fewest keys
    # grouped are shown as "p c n w u v Post" (of as many, those listed first); the help screen (?) and the palette name every key.
    FOOTER_GROUPS: tuple[tuple[str, frozenset[str]], ...] = ()
    _footer_set_up = False

    def on_mount(self) -> None:
        self.set_up_footer()

    def set_up_footer(self) -> None:
        """Once: the keys in the app's language, fitted now and again once this is the app's screen."""
        if self._footer_set_up:
            return
        self._footer_set_up = True
        localise_bindings(self, self.app.t)
        self.refresh_bindings()
        self._fit_footer()
        self.call_after_refresh(self._fit_footer)  # again once this is the app's screen (the app's keys ask it)

    def on_resize(self) -> None:
        self._fit_footer()

    # -- the footer drawn again once per refresh, and only when what it shows changed ----------------------
    # Textual tells the footer at every refresh_bindings() (a focus, a fitting, a screen's own) and the footer
    # composes its keys anew each time (30-100 ms for twenty keys): arriving at a screen did it eight times.
    _bindings_pending = False
    _bindings_shown = None

    def refresh_bindings(self) -> None:
        if not self._bindings_pending:
            self._bindings_pending = True
            self.call_after_refresh(self._publish_bindings)

    def _publish_bindings(self) -> None:
        self._bindings_pending = False
        if self._fit_pending:  # fitted first: the footer is composed once, with the keys that fit
            self._fit_now()
        footers = list(self.query(Footer))
        shown = (tuple(self.active_bindings.values()), self.app.app_focus,
                 tuple((footer.compact, footer.show_command_palette) for footer in footers))
        if shown == self._bindings_shown and all(footer._bindings_ready for footer in footers):
            return
        self._bindings_shown = shown
        super().refresh_bindings()

    def on_descendant_focus(self) -> None:
        self._fit_footer()  # keys that show only while a widget has the focus come or go

    def on_screen_resume(self) -> None:
        self._fit_footer()  # the app's keys were fitted to the screen that was on top

    _fit_pending = False

    def _fit_footer(self) -> None:
        """Fit the footer at the next refresh: the calls before it (a mount, resizes, focus, a tab) fit it once
        (a screen with many keys tries dozens of groupings each time)."""
        if not self._fit_pending:
            self._fit_pending = True
            self.call_after_refresh(self._fit_now)

    def _fit_now(self) -> None:
        """Fit the footer to the width, in steps until its keys fit (see the class docstring)."""
        if not self._fit_pending:
            return
        self._fit_pending = False
        if not self.is_attached:
            return  # (fitted again when it is shown: on_screen_resume)
        width = self.app.size.width
        narrow = width < 120
        for footer in self.query(Footer):
            footer.compact = narrow
            footer.show_command_palette = not narrow
        groups = range(len(self.FOOTER_GROUPS))
        apart = (chosen for n in range(len(groups) + 1) for chosen in combinations(groups, n)
                 if len(self._ids_in(chosen)) == sum(len(self.FOOTER_GROUPS[i][1]) for i in chosen))  # no key twice
        choices = sorted(apart,
                         key=lambda chosen: (len(self._ids_in(chosen)), -len(chosen), chosen))  # fewest keys grouped
        steps = [(left_out, chosen) for left_out in (frozenset(), FOOTER_FIRST_LEFT_OUT, FOOTER_SET_UP, FOOTER_WIDE_ONLY)
                 for chosen in choices if left_out in (FOOTER_SET_UP, FOOTER_WIDE_ONLY) or (not chosen and not narrow)]
        allowed: dict = {}  # each action checked once for this fitting, not once per way of grouping
        for left_out, chosen in steps:
            app_keys = fitted_keys(self.app, left_out)
            keys = self._grouped_keys(chosen, left_out)
            if footer_width(self._shown_bindings(keys, app_keys, allowed), self.app.get_key_display, narrow) <= width:
                break
        changed = False
        for node, fitted in ((self.app, app_keys), (self, keys)):
            if fitted != node._bindings.key_to_bindings:
                node._bindings, changed = BindingsMap.from_keys(fitted), True
        if changed:
            self.app.refresh_bindings()

    def _grouped_keys(self, chosen: tuple[int, ...], left_out: frozenset[str]) -> dict:
        """The screen's bindings, the chosen runs of FOOTER_GROUPS (by index) each shown under its label."""
        grouped = {binding_id: Binding.Group(self.app.t(word))
                   for word, ids in (self.FOOTER_GROUPS[i] for i in chosen) for binding_id in ids}
        return {key: [replace(b, group=grouped.get(b.id)) if self._groupable(b) else b for b in bindings]
                for key, bindings in fitted_keys(self, left_out).items()}

    def _ids_in(self, chosen: tuple[int, ...]) -> set[str]:
        return {binding_id for i in chosen for binding_id in self.FOOTER_GROUPS[i][1]}

    def _groupable(self, binding: Binding) -> bool:
        return any(binding.id in ids for _word, ids in self.FOOTER_GROUPS)

    def _shown_bindings(self, keys: dict, app_keys: dict, allowed: dict) -> list[Binding]:
        """The bindings a footer would show with these bindings of the screen and of the app: the screen's (those
        its check_action does not hide), then the app's. `allowed` remembers each action's check for one fitting."""
        def shown(node, binding) -> bool:
            if (node, binding.action) not in allowed:
                allowed[node, binding.action] = node.check_action(*parse_action(binding.action)[1:]) is not False
            return binding.show and allowed[node, binding.action]
        mine = [b for bindings in keys.values() for b in bindings if shown(self, b)]
        theirs = [b for bindings in app_keys.values() for b in bindings if shown(self.app, b)]
        return mine + theirs


class DulyScreen(FittedFooter, Screen):
    """A screen that loads from the ledger through the database thread and reloads when the ledger changed."""

    BINDINGS = [  # on a screen with tabs (shown there only): the tab before or after, as lazygit's [ and ]
        Binding("left_square_bracket", "next_tab(-1)", "Previous tab", id="previous_tab", key_display="[",
                group=TAB_KEYS),
        Binding("right_square_bracket", "next_tab(1)", "Next tab", id="next_tab", key_display="]", group=TAB_KEYS),
    ]
    loaded_revision = -1
    NAVIGATES = True  # the app's digits go to another screen from here (False: a form, whose digits type)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A new screen gets its styles as it mounts. Textual counts it as one that missed a change of the app's
        # CSS (-1) and, on switching to its mode, parses every stylesheet again and restyles the whole app
        # (0.1-0.2 s on arriving at a screen the first time): it is up to date, say so.
        with contextlib.suppress(RuntimeError):  # made outside a running app (a test): no app to ask; Textual's default stays
            self._css_update_count = self.app._css_update_count

    @property
    def t(self) -> Strings:
        return self.app.t

    async def db(self, fn, /, *args, **kwargs):
        """fn(ledger, *args, **kwargs) on the app's database thread (await it in an async worker)."""
        return await self.app.db.run(fn, *args, **kwargs)

    _set_up = False

    def on_mount(self) -> None:
        # Textual calls the on_mount of every class in the MRO, and a screen's own on_mount calls super() too:
        # without this the first page of every list was read twice
        if self._set_up:
            return
        self._set_up = True
        self.set_up_footer()
        self.reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next_tab":
            return bool(self.query(TabbedContent))
        return True

    def action_next_tab(self, step: int) -> None:
        tabs = self.query(TabbedContent).first()
        panes = [pane.id for pane in tabs.query_children(TabPane) if pane.display] or \
            [pane.id for pane in tabs.query(TabPane)]
        if tabs.active in panes:
            tabs.active = panes[(panes.index(tabs.active) + step) % len(panes)]

    def on_screen_resume(self) -> None:
        # (the footer is fitted again by FittedFooter.on_screen_resume: Textual calls both)
        if self.loaded_revision != -1 and self.loaded_revision != self.app.revision:
            self.reload()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Worker messages do not bubble: a failed load becomes an error notification, never an exit."""
        if event.state == WorkerState.ERROR:
            self.app.notify_error(event.worker.error)

    def reload(self) -> None:
        """Start the worker(s) that fetch this screen's data."""
        self.loaded_revision = self.app.revision

    # -- a job's key pressed while the screen's record still loads: not lost, run once it is there ----------
    _deferred_action: str | None = None

    def defer_until_loaded(self, action: str) -> None:
        self._deferred_action = action

    def run_deferred(self) -> None:
        """Call when the record has loaded: the job whose key came before it starts now."""
        action, self._deferred_action = self._deferred_action, None
        if action is not None:
            self.call_after_refresh(self.run_action, action)


PREFETCH = 20  # rows before the end of what is loaded at which the next page is fetched


NARROW_BELOW = 120  # columns: below this a list shows its narrow layout


def narrow_layout(app) -> bool:
    """Whether the lists show their narrow layout (fewer, narrower columns) at the app's width."""
    return app.size.width < NARROW_BELOW


def name_width(app) -> int:
    """The width of a customer's name beside its code in a list: narrower below 120 columns."""
    return 12 if narrow_layout(app) else 20


class PagedListScreen(DulyScreen):
    """A list paged from SQLite by a keyset (never the whole table in the widget): the first page on reload,
    the next one as the cursor or the scroll nears the end. A subclass names its DataTable (`LIST_ID`, with a
    Static `LIST_ID-status` below it), its worker group (`PAGE_GROUP`) and its empty-list text (`EMPTY_KEY`),
    and gives `page_query()` (the filters) and a `fetch_page(generation, query, after)` worker whose message
    handler adds the rows and calls `page_done`.

    A sortable list (SORTS: column key -> the query's sort name) sorts in SQL by the column a person chooses
    (s: the next column, o: the other way, or a click on its header), and End fetches the list's last page
    (the query the other way round) so the last row is there at once; moving up from it fetches the pages
    before. Its `fetch_page(generation, query, after, sort, descending, backwards)` worker answers with
    `add_page`, and it gives `row_cells`, `row_key` and `keyset` (the row's (sort value, tie-breaker))."""

    LIST_ID = ""
    PAGE_GROUP = ""
    EMPTY_KEY = ""
    FLEX_COLUMN = ""  # the narrow layout's column that takes the room the others leave (its cells: Clipped)
    SORTS: dict[str, str] = {}
    DEFAULT_SORT = ("", False)  # (column key, descending)
    DESCENDING_FIRST: frozenset[str] = frozenset()  # columns sorted largest / newest first on the first choice

    def __init__(self):
        super().__init__()
        self.generation = 0  # a page of an older query is dropped
        self.after = None  # the last row's key: the next page starts after it
        self.more = False
        self.loading = False
        self.sort_column, self.descending = self.DEFAULT_SORT
        self.tail = False  # loaded from the end (End on a list with more pages than are loaded)
        self.before = None  # in tail mode: the first row's key, the page before it comes next
        self.more_before = False
        self.pending = 0  # Down presses past the loaded rows while the next page loads (Up ones: negative)
        self._labels: dict = {}
        self._laid_out = False  # the columns come from list_columns (lay_out)
        self.narrow = False  # the narrow layout (below NARROW_BELOW columns) is shown
        self._rows: dict = {}  # the rows loaded, by key: laid out again when the layout changes

    # -- the layout: wide (every column) or narrow (fewer, narrower columns: nothing to scroll sideways at 80) --------
    def list_columns(self, narrow: bool) -> list[tuple]:
        """The list's (key, title, right-aligned[, width]) columns in the wide or the narrow layout; a key of SORTS
        is sortable. row_cells gives the cells of the layout shown (self.narrow)."""
        return []

    def lay_out(self) -> None:
        """Add the columns of the layout that fits the app's width (from on_mount, and again on a resize that
        crosses NARROW_BELOW)."""
        table = self.query_one(f"#{self.LIST_ID}", DataTable)
        self.narrow, self._laid_out = narrow_layout(self.app), True
        table.flex = self.FLEX_COLUMN if self.narrow and self.FLEX_COLUMN else None
        table.clear(columns=True)
        self._labels = {key: Text(title, justify="right" if right else "left")  # every sort's title, shown or not
                        for key, title, right, *_ in self.list_columns(False) + self.list_columns(True)
                        if key in self.SORTS}
        for key, title, right, *width in self.list_columns(self.narrow):
            label = self._labels.get(key) or Text(title, justify="right" if right else "left")
            table.add_column(label, key=key, width=width[0] if width else None)
        self.mark_sorted()

    def on_resize(self) -> None:
        # (DulyScreen's on_resize runs too: Textual calls the handler of every class in the MRO)
        if not self._laid_out or self.narrow == narrow_layout(self.app):
            return
        table = self.query_one(f"#{self.LIST_ID}", DataTable)
        keys, cursor = [row.key.value for row in table.ordered_rows], table.cursor_row
        with self.app.batch_update():
            self.lay_out()
            for key in keys:
                if key in self._rows:
                    table.add_row(*self.row_cells(self._rows[key]), key=key)
            if table.row_count:
                table.move_cursor(row=min(cursor, table.row_count - 1), animate=False)
        self.show_status()

    def page_query(self):
        """The filters of the current query, as fetch_page takes them."""
        return None

    def _fetch(self, after, backwards: bool = False) -> None:
        if self.SORTS:
            self.fetch_page(self.generation, self.page_query(), after, self.SORTS[self.sort_column],
                            self.descending != backwards, backwards)
        else:
            self.fetch_page(self.generation, self.page_query(), after)

    def restart_pages(self) -> None:
        self.generation += 1
        self._rows.clear()
        self.pending = 0
        self.after, self.more, self.loading = None, False, True
        self.tail, self.before, self.more_before = False, None, False
        self.query_one(f"#{self.LIST_ID}", DataTable).clear()
        self._fetch(None)

    def load_more(self) -> None:
        if self.more and not self.loading:
            self.loading = True
            self._fetch(self.after)

    def load_tail(self) -> None:
        """The list's last page, the cursor on its last row; the pages before it come as the cursor moves up."""
        self.generation += 1
        self._rows.clear()
        self.pending = 0
        self.after, self.more, self.loading = None, False, True
        self.tail, self.before, self.more_before = True, None, False
        self.query_one(f"#{self.LIST_ID}", DataTable).clear()
        self._fetch(None, backwards=True)

    def load_before(self) -> None:
        if self.tail and self.more_before and not self.loading:
            self.loading = True
            self._fetch(self.before, backwards=True)

    # -- a sortable list's rows (the subclass's row_cells, row_key and keyset: see the class docstring) -----
    def add_page(self, generation: int, rows: list[dict], more: bool, backwards: bool) -> None:
        """Add a fetched page: after the rows shown, or (backwards: fetched the other way round) before them."""
        if generation != self.generation:
            return  # an older query's page
        table = self.query_one(f"#{self.LIST_ID}", DataTable)
        self._rows.update((self.row_key(row), row) for row in rows)
        if not backwards:
            for row in rows:
                table.add_row(*self.row_cells(row), key=self.row_key(row))
            self.page_done(rows, more, self.keyset(rows[-1]) if rows else None)
            return
        rows = rows[::-1]  # now in the list's order
        first = table.row_count == 0
        cursor = table.cursor_row
        kept = [(row.key.value, table.get_row(row.key)) for row in table.ordered_rows]
        with self.app.batch_update():
            table.clear()
            for row in rows:
                table.add_row(*self.row_cells(row), key=self.row_key(row))
            for key, cells in kept:
                table.add_row_as_is(*cells, key=key)
            target = table.row_count - 1 if first else cursor + len(rows)
            if self.pending < 0:  # Up presses that came while this page loaded
                moved = min(-self.pending, target)
                target -= moved
                self.pending = 0 if not more else self.pending + moved
            table.move_cursor(row=target, animate=False)
        if rows:
            self.before = self.keyset(rows[0])
        self.more_before, self.loading = more, False
        self.show_status()

    # -- sorting ---------------------------------------------------------------------------------------
    def add_sortable_columns(self, table: DataTable, columns: list[tuple]) -> None:
        """(key, title, right-aligned[, width]) columns; the sorted one's title carries ▲ or ▼."""
        for key, title, right, *width in columns:
            label = Text(title, justify="right" if right else "left")
            self._labels[key] = label
            table.add_column(label, key=key, width=width[0] if width else None)
        self.mark_sorted()

    def mark_sorted(self) -> None:
        table = self.query_one(f"#{self.LIST_ID}", DataTable)
        for key, label in self._labels.items():
            column = table.columns.get(ColumnKey(key))
            if column is None:  # not shown in this layout: the status line names the sort
                continue
            shown = label.copy()
            if key == self.sort_column:
                shown.append(" ▼" if self.descending else " ▲", style="bold")
            column.label = shown
            if column.auto_width:
                column.content_width = max(column.content_width, shown.cell_len)
        table._require_update_dimensions = True
        table.refresh()

    def sort_by(self, column: str) -> None:
        if column not in self.SORTS:
            self.notify(self.t("list.not_sortable"))
            return
        if column == self.sort_column:
            self.descending = not self.descending
        else:
            self.sort_column, self.descending = column, column in self.DESCENDING_FIRST
        self.mark_sorted()
        self.restart_pages()

    def action_sort_next(self) -> None:
        names = list(self.SORTS)
        column = names[(names.index(self.sort_column) + 1) % len(names)] if self.sort_column in names else names[0]
        self.sort_column, self.descending = column, column in self.DESCENDING_FIRST
        self.mark_sorted()
        self.restart_pages()

    def action_sort_flip(self) -> None:
        self.sort_by(self.sort_column)

    @on(DataTable.HeaderSelected)
    def header_selected(self, event: DataTable.HeaderSelected) -> None:
        if self.SORTS and event.data_table.id == self.LIST_ID:
            event.stop()
            self.sort_by(str(event.column_key.value))

    @on(DataTable.Overrun)
    def overrun(self, event: DataTable.Overrun) -> None:
        table = event.table
        if table.id != self.LIST_ID:
            return
        steps = event.steps
        # the rows may have come between the key and this message: move through them first
        # (an empty list has no room either way: not -1, which counted the first Down twice)
        room = max(0, table.row_count - 1 - table.cursor_row) if steps > 0 else -table.cursor_row
        moved = min(steps, room) if steps > 0 else max(steps, room)
        if moved:
            table.move_cursor(row=table.cursor_row + moved, animate=False)
            steps -= moved
        if steps > 0 and not self.tail and (self.more or self.loading):
            self.pending += steps
            self.load_more()
        elif steps < 0 and self.tail and (self.more_before or self.loading):
            self.pending += steps
            self.load_before()

    @on(DataTable.EdgeWanted)
    def edge_wanted(self, event: DataTable.EdgeWanted) -> None:
        if not self.SORTS or event.table.id != self.LIST_ID:
            return
        if event.last and self.more:
            self.load_tail()
        elif not event.last and self.tail and self.more_before:
            self.restart_pages()

    # -- after a page ----------------------------------------------------------------------------------
    def page_done(self, rows: list[dict], more: bool, after) -> None:
        """After a page's rows were added: where the next page starts, and the count under the list."""
        if rows:
            self.after = after
        self.more, self.loading = more, False
        table = self.query_one(f"#{self.LIST_ID}", DataTable)
        if self.pending > 0 and table.row_count:  # Down presses that came while this page loaded
            target = min(table.cursor_row + self.pending, table.row_count - 1)
            self.pending = 0 if not more else self.pending - (target - table.cursor_row)
            table.move_cursor(row=target, animate=False)
        self.show_status()
        self._maybe_more()

    def show_status(self) -> None:
        t, table = self.t, self.query_one(f"#{self.LIST_ID}", DataTable)
        if self.tail:
            status = t("list.count_tail", shown=table.row_count)
        else:
            status = t("cust.count", shown=table.row_count, more=t("cust.more") if self.more else "")
        if self.SORTS and self.sort_column in self._labels:
            status += "  " + t("list.sorted", column=self._labels[self.sort_column].plain,
                               way=t("list.descending") if self.descending else t("list.ascending"))
        self.query_one(f"#{self.LIST_ID}-status", Static).update(status if table.row_count else t(self.EMPTY_KEY))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == self.PAGE_GROUP and event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self.loading = False
        super().on_worker_state_changed(event)

    def _maybe_more(self) -> None:
        table = self.query_one(f"#{self.LIST_ID}", DataTable)
        if self.tail:
            if table.row_count and table.cursor_row < PREFETCH:
                self.load_before()
            return
        near_end = table.cursor_row >= table.row_count - PREFETCH
        scrolled_down = table.max_scroll_y - table.scroll_y <= table.size.height
        if near_end or (table.row_count and scrolled_down and table.scroll_y > 0):
            self.load_more()
