"""The document templates (statement, balance confirmation, dunning letter, payment request; zh and en), as
`duly template list | show | edit | reset` has them (store.write.templates): a list, and an editor in a TextArea.
Saving checks the template as the CLI does: one that does not parse is refused with the template's name and the
line, and nothing is kept; reset puts the built-in back (asked first)."""
from __future__ import annotations

import re

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Footer, Header, Label, Static, TextArea

from store.errors import DulyError
from store.write import templates
from tui.screens.base import DulyScreen
from tui.screens.confirm import ConfirmScreen
from tui.widgets.table import DataTable


class TemplatesScreen(DulyScreen):
    """Every template, which document and language it is for, and whether the built-in or the user's is in force."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("r", "refresh", "Refresh", id="refresh"),
    ]

    class Loaded(Message):
        def __init__(self, rows: list[dict]):
            super().__init__()
            self.rows = rows

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label(self.t("tpl.title"), id="form-title")
        yield Static(self.t("tpl.hint"), classes="dim")
        yield DataTable(id="templates", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#templates", DataTable)
        for key in ("name", "document", "language", "source"):
            table.add_column(self.t(f"tpl.col.{key}"), key=key)
        super().on_mount()
        table.focus()

    def reload(self) -> None:
        super().reload()
        self.load()

    @work(exclusive=True, exit_on_error=False, group="templates")
    async def load(self) -> None:
        self.post_message(self.Loaded(await self.db(templates.listing)))

    @on(Loaded)
    def show(self, message: Loaded) -> None:
        t, table = self.t, self.query_one("#templates", DataTable)
        row = table.cursor_row
        table.clear()
        for r in message.rows:
            table.add_row(r["name"], r["document"], t(f"language.{r['language']}"), t(f"tpl.source.{r['source']}"),
                          key=r["name"])
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))

    @on(DataTable.RowSelected, "#templates")
    def edit(self, event: DataTable.RowSelected) -> None:
        self.app.push_screen(TemplateEditorScreen(str(event.row_key.value)))

    def action_back(self) -> None:
        self.dismiss()

    def action_refresh(self) -> None:
        self.reload()


class TemplateEditorScreen(DulyScreen):
    """One template in a TextArea: ctrl+s saves (refused, naming the line, when it does not parse; the cursor goes
    to that line), ctrl+r puts the built-in back, Escape leaves (asking first when there are unsaved changes)."""

    DEFAULT_CSS = """
    #template-status { padding: 0 1; color: $text-muted; }
    #template-text { height: 1fr; }
    """

    NAVIGATES = False  # a text editor: digits type
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="save"),
        Binding("ctrl+r", "reset", "Built-in", id="template_reset"),
        Binding("escape", "leave", "Back", id="back"),
    ]

    class Loaded(Message):
        def __init__(self, text: str, source: str):
            super().__init__()
            self.text, self.source = text, source

    class Saved(Message):
        def __init__(self, text: str, error: str = ""):
            super().__init__()
            self.text, self.error = text, error

    def __init__(self, name: str):
        super().__init__()
        self.name_ = name
        self.kept = ""  # the text in force, to tell unsaved changes

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label(self.t("tpl.editor_title", name=self.name_), id="form-title")
        yield Static("", id="template-status")
        yield Static("", id="form-error")
        yield TextArea("", id="template-text", soft_wrap=False, show_line_numbers=True, tab_behavior="focus")
        yield Footer()

    def reload(self) -> None:
        super().reload()
        self.load()

    @work(exclusive=True, exit_on_error=False, group="template")
    async def load(self) -> None:
        text, source = await self.db(templates.source, self.name_)
        self.post_message(self.Loaded(text, source))

    @on(Loaded)
    def show(self, message: Loaded) -> None:
        self.kept = message.text
        area = self.query_one("#template-text", TextArea)
        area.load_text(message.text)
        self.query_one("#template-status", Static).update(self.t(f"tpl.source.{message.source}"))
        area.focus()

    def action_save(self) -> None:
        self.save(self.query_one("#template-text", TextArea).text)

    @work(exclusive=True, exit_on_error=False, group="template-save")
    async def save(self, text: str) -> None:
        try:
            await self.db(templates.put, self.name_, text)
        except DulyError as exc:
            self.post_message(self.Saved(text, exc.text(self.app.language)))
            return
        self.post_message(self.Saved(text))

    @on(Saved)
    def saved(self, message: Saved) -> None:
        error = self.query_one("#form-error", Static)
        if message.error:
            error.update(self.t("tpl.refused", error=message.error))
            found = re.search(r"line (\d+)", message.error)
            if found:  # the cursor to the line named
                area = self.query_one("#template-text", TextArea)
                area.cursor_location = (int(found.group(1)) - 1, 0)
                area.focus()
            return
        error.update("")
        self.kept = message.text
        self.app.ledger_changed()
        self.query_one("#template-status", Static).update(self.t("tpl.source.edited"))
        self.notify(self.t("tpl.saved", name=self.name_))

    def action_reset(self) -> None:
        t = self.t
        self.app.push_screen(ConfirmScreen(t("tpl.reset_q", name=self.name_), undo=t("tpl.reset_undo")),
                             lambda yes: yes and self.reset())

    @work(exclusive=True, exit_on_error=False, group="template-save")
    async def reset(self) -> None:
        changed = await self.db(templates.reset, self.name_)
        self.app.ledger_changed()
        self.query_one("#form-error", Static).update("")
        t = self.t
        self.notify(t("tpl.reset_done", name=self.name_) if changed else t("tpl.reset_already", name=self.name_))
        self.load()

    def action_leave(self) -> None:
        if self.query_one("#template-text", TextArea).text == self.kept:
            self.dismiss()
            return
        self.app.push_screen(ConfirmScreen(self.t("tpl.discard_q", name=self.name_), go=self.t("tpl.discard_go")),
                             lambda yes: yes and self.dismiss())
