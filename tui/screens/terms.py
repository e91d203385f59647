"""Payment terms (账期): the built-in and stored terms, paged from SQLite, each described in the app's language;
n adds terms with a live preview of the due dates a sample invoice would get, as they are typed."""
from __future__ import annotations

from datetime import date

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Footer, Header, Input, Label, Static
from textual.widgets.data_table import ColumnKey

from store.errors import DulyError
from store.rules.money import format_amount
from store.rules.terms import describe
from store.write import terms as termsbook
from tui.screens.base import PagedListScreen, localise_bindings, narrow_layout
from tui.screens.form import FormScreen, field_row
from tui.widgets.cells import Clipped
from tui.widgets.table import DataTable

PAGE = 100


def terms_rows(ledger, after: str | None, limit: int) -> list[dict]:
    currency = termsbook.home_currency(ledger)
    return [{"name": t.name, "source": source, "en": describe(t, "en", currency), "zh": describe(t, "zh", currency)}
            for t, source in termsbook.page(ledger, after=after, limit=limit)]


def save_terms(ledger, values: dict[str, str], lines: list[str]) -> tuple[dict[str, str], str | None]:
    """Every wrong part at once, or the terms added (one transaction)."""
    given = {"discount": values["discount"] or None, "late_interest": values["late_interest"] or None}
    wrong = termsbook.problems(ledger, values["name"], lines, **given)
    if wrong:
        return wrong, None
    termsbook.add(ledger, values["name"], lines, **given)
    return {}, values["name"].strip()


class TermsScreen(PagedListScreen):
    LIST_ID, PAGE_GROUP, EMPTY_KEY = "terms", "terms-page", "terms.none"
    BINDINGS = [Binding("n", "new_terms", "New terms", id="new_terms"), Binding("r", "refresh", "Refresh", id="refresh")]

    class PageLoaded(Message):
        def __init__(self, generation: int, rows: list[dict], more: bool):
            super().__init__()
            self.generation, self.rows, self.more = generation, rows, more

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label(self.t("terms.title"), classes="section", id="terms-title")
        yield DataTable(id="terms", cursor_type="row", zebra_stripes=True)
        yield Static("", id="terms-status", classes="status")
        yield Footer()

    def on_mount(self) -> None:
        t = self.t
        table = self.query_one("#terms", DataTable)
        for key in ("name", "source", "meaning"):
            table.add_column(t(f"terms.col.{key}"), key=key)
        table.flex = "meaning" if narrow_layout(self.app) else None  # below 120 columns the meaning is cut to fit
        self.watch(table, "scroll_y", lambda _v: self._maybe_more(), init=False)
        table.focus()
        super().on_mount()

    def reload(self) -> None:
        super().reload()
        self.restart_pages()

    @work(exclusive=True, exit_on_error=False, group="terms-page")
    async def fetch_page(self, generation: int, _query, after) -> None:
        rows = await self.db(terms_rows, after, PAGE + 1)
        stored = [r for r in rows if r["source"] == "stored"]
        more = len(stored) > PAGE
        if more:
            rows.remove(stored[-1])
        self.post_message(self.PageLoaded(generation, rows, more))

    @on(PageLoaded)
    def page_loaded(self, message: PageLoaded) -> None:
        if message.generation != self.generation:
            return
        t, lang = self.t, self.app.language
        table = self.query_one("#terms", DataTable)
        for r in message.rows:
            table.add_row(r["name"], t(f"terms.source.{r['source']}"), Clipped(r["zh"] if lang == "zh" else r["en"]),
                          key=f"{r['source']}:{r['name']}")
        stored = [r["name"] for r in message.rows if r["source"] == "stored"]
        self.page_done(message.rows, message.more, stored[-1] if stored else self.after)

    def on_resize(self) -> None:
        # (DulyScreen's on_resize runs too: Textual calls the handler of every class in the MRO)
        table = self.query_one("#terms", DataTable)
        flex = "meaning" if narrow_layout(self.app) else None
        if table.flex != flex:
            table.flex = flex
            if flex is None:  # as wide as its longest meaning again
                table.columns[ColumnKey("meaning")].auto_width = True
            table._require_update_dimensions = True
            table.refresh()

    @on(DataTable.RowHighlighted, "#terms")
    def highlighted(self, _event) -> None:
        self._maybe_more()

    def action_refresh(self) -> None:
        self.reload()

    def action_new_terms(self) -> None:
        self.app.push_screen(TermsFormScreen(), lambda name: self.reload() if name else None)


class TermsFormScreen(FormScreen):
    """Add terms; the due dates of a sample invoice follow every keystroke. Dismisses with the name, or None."""

    FIELDS = ("name", "lines", "discount", "late_interest", "sample_date", "sample_amount")
    BINDINGS = [Binding("ctrl+s", "save", "Save", id="save"), Binding("escape", "cancel", "Cancel", id="cancel")]

    class Previewed(Message):
        def __init__(self, text: str, ok: bool):
            super().__init__()
            self.text, self.ok = text, ok

    class Result(Message):
        def __init__(self, problems: dict[str, str], name: str | None):
            super().__init__()
            self.problems, self.name = problems, name

    @property
    def t(self):
        return self.app.t

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        yield Label(t("terms.add_title"), id="form-title")
        yield Static("", id="form-error")
        with VerticalScroll(id="form"):
            defaults = {"sample_date": self.app.today().isoformat(), "sample_amount": "10000"}
            for name in self.FIELDS:
                yield from field_row(name, t(f"terms.field.{name}"),
                                     Input(defaults.get(name, ""), id=f"field-{name}", compact=True,
                                           placeholder=t(f"terms.hint.{name}") if t.has(f"terms.hint.{name}")
                                           else ""))
            yield Label(t("terms.preview"), classes="section")
            yield Static(t("terms.preview_empty"), id="terms-preview")
            with Horizontal(classes="buttons"):
                yield Button(t("terms.save_button"), id="terms-save", variant="primary")
        yield Footer()

    def on_mount(self) -> None:
        localise_bindings(self, self.t)
        self.app.refresh_bindings()
        self.field("name").focus()

    def values(self) -> dict[str, str]:
        return {name: self.value(name).strip() for name in self.FIELDS}

    @staticmethod
    def lines_of(text: str) -> list[str]:
        return [part.strip() for part in text.replace("；", ";").split(";") if part.strip()]

    @on(Input.Changed)
    def changed(self, _event) -> None:
        self.preview(self.values())

    @work(exclusive=True, group="terms-preview", exit_on_error=False)
    async def preview(self, values: dict[str, str]) -> None:
        t = self.t
        lines = self.lines_of(values["lines"])
        if not lines:
            self.post_message(self.Previewed(t("terms.preview_empty"), True))
            return
        try:
            found, currency, items = await self.app.db.run(
                termsbook.preview, values["name"] or "preview", values["sample_date"] or self.app.today().isoformat(),
                values["sample_amount"] or None, lines=lines)
        except DulyError as exc:
            self.post_message(self.Previewed(self.t.error(exc), False))
            return
        lang = self.app.language
        text = [describe(found, lang, currency), ""]
        text += [t("terms.preview_line", n=n, date=d, amount=format_amount(a, currency), currency=currency)
                 for n, (d, a) in enumerate(items, 1)]
        self.post_message(self.Previewed("\n".join(text), True))

    @on(Previewed)
    def previewed(self, message: Previewed) -> None:
        widget = self.query_one("#terms-preview", Static)
        widget.update(Text(message.text, style="" if message.ok else "red"))

    @on(Button.Pressed, "#terms-save")
    def action_save(self) -> None:
        self.save(self.values())

    @work(exclusive=True, group="terms-save", exit_on_error=False)
    async def save(self, values: dict[str, str]) -> None:
        self.post_message(self.Result(*await self.app.db.run(save_terms, values, self.lines_of(values["lines"]))))

    @on(Result)
    def result(self, message: Result) -> None:
        if message.problems:
            self.show_problems(message.problems, self.t("terms.fix"))
            return
        self.app.ledger_changed()
        self.notify(self.t("terms.saved", name=message.name))
        self.dismiss(message.name)
