"""The one picker the forms use for a customer, payment terms or a currency: the field is an Input (so a form's
manners hold: letters type, Enter moves on, ctrl+s saves, Escape asks), and what is typed is looked up as it is
typed; the suggestions open under the field, Down moves into them, Enter (or a click) picks one and moves on.
Beside the field, what the picked value means (the customer's name, the due dates the terms give).

Textual's Select holds every option in the widget (thousands of customers) and cannot be typed into; an Input
suggester completes one string inline. So the picker asks a `source` (query -> options, run where the caller
says, e.g. on the database thread with a LIMIT) and shows its answer in an OptionList drawn over the form."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import NamedTuple

from rich.text import Text
from textual import events, on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from store.rules.safetext import terminal_text

SHOWN = 8  # suggestions at most


class Suggestion(NamedTuple):
    value: str  # what the field then holds (a customer's code, a terms name, a currency code)
    label: str  # what the list shows first (the code, both names of built-in terms)
    detail: str = ""  # what it means (the customer's name, the due dates)


Source = Callable[[str], Awaitable[list[Suggestion]]]


class PickerInput(Input):
    """The picker's field: Down goes into the suggestions, Escape closes them (and only then leaves the form),
    Enter on a half-typed text takes the highlighted suggestion."""

    BINDINGS = [
        Binding("down", "into_list", "Suggestions", show=False),
        Binding("escape", "close_list", "Close", show=False),
    ]

    @property
    def picker(self) -> Picker:
        return self.parent.parent  # Picker > Horizontal > PickerInput

    def action_into_list(self) -> None:
        self.picker.into_list()

    def action_close_list(self) -> None:
        if not self.picker.is_open:
            raise SkipAction()  # the form's Escape
        self.picker.close()

    async def action_submit(self) -> None:
        self.picker.take_highlighted()
        await super().action_submit()


class Suggestions(OptionList):
    BINDINGS = [Binding("escape", "back", "Back", show=False)]

    @property
    def picker(self) -> Picker:
        return self.parent

    def action_back(self) -> None:
        self.picker.close()
        self.picker.input.focus()

    def action_cursor_up(self) -> None:
        if self.highlighted in (None, 0):
            self.picker.input.focus()  # up from the first suggestion: back to typing
            return
        super().action_cursor_up()

    def on_key(self, event: events.Key) -> None:
        if event.is_printable and event.character:  # typing goes on in the field
            event.stop()
            event.prevent_default()
            self.picker.input.focus()
            self.picker.input.insert_text_at_cursor(event.character)
        elif event.key == "backspace":
            event.stop()
            event.prevent_default()
            self.picker.input.focus()
            self.picker.input.action_delete_left()


class Picker(Widget):
    DEFAULT_CSS = """
    Picker { height: auto; width: 1fr; }
    Picker > Horizontal { height: 1; width: 1fr; }
    Picker PickerInput { width: 1fr; }
    Picker .picker-detail { width: auto; max-width: 60%; height: 1; color: $text-muted; padding: 0 0 0 1;
                            text-wrap: nowrap; text-overflow: ellipsis; }
    Picker > Suggestions {
        display: none; width: 1fr; height: auto; max-height: 10; overlay: screen; constrain: none inside;
        border: tall $border; background: $surface; padding: 0;
        text-wrap: nowrap; text-overflow: ellipsis;
    }
    Picker.-open > Suggestions { display: block; }
    """

    def __init__(self, source: Source, value: str = "", *, id: str, placeholder: str = ""):
        """`id` is the field's (`field-customer`): the Input carries it, so a form reads and focuses the field as
        any other; the picker itself is `picker-customer`."""
        super().__init__(id=id.replace("field-", "picker-", 1))
        self.source = source
        self.choices: list[Suggestion] = []
        self._input = PickerInput(value, id=id, compact=True, placeholder=placeholder)
        self._quiet = value  # a value set by the program (or picked) does not open the list
        self.is_open = False

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield self._input
            yield Static("", classes="picker-detail")
        yield Suggestions()

    def on_mount(self) -> None:
        if self._input.value:
            self.lookup(self._input.value, open_list=False)

    @property
    def input(self) -> PickerInput:
        return self._input

    @property
    def value(self) -> str:
        return self._input.value

    @value.setter
    def value(self, new: str) -> None:
        self._quiet = new
        self._input.value = new
        self.refresh_detail()

    def refresh_detail(self) -> None:
        """Look the current value up again (its meaning may depend on another field, e.g. the issue date)."""
        self.lookup(self._input.value, open_list=self.is_open)

    # -- looking up ------------------------------------------------------------------------------------
    @on(Input.Changed)
    def typed(self, event: Input.Changed) -> None:
        if event.input is not self._input:
            return
        quiet = event.value == self._quiet
        self._quiet = None
        self.lookup(event.value, open_list=not quiet and self._input.has_focus)

    @work(exclusive=True, exit_on_error=False, group="picker-lookup")
    async def lookup(self, query: str, open_list: bool) -> None:
        found = await self.source(query.strip())
        self.show(found, open_list)

    def show(self, found: list[Suggestion], open_list: bool) -> None:
        self.choices = found[:SHOWN]
        listed = self.query_one(Suggestions)
        listed.clear_options()
        listed.add_options([Option(self._line(c), id=str(i)) for i, c in enumerate(self.choices)])
        if self.choices:
            listed.highlighted = 0
        self._show_detail()
        if open_list and self.choices and not self._exact():
            self.open()
        elif not self.choices or self._exact():
            self.close()

    @staticmethod
    def _line(choice: Suggestion) -> Text:
        return Text.assemble((terminal_text(choice.label), "bold"), "  ", (terminal_text(choice.detail), "dim"),
                             no_wrap=True, overflow="ellipsis")

    def _exact(self) -> Suggestion | None:
        typed = self._input.value.strip().casefold()
        return next((c for c in self.choices if c.value.casefold() == typed), None) if typed else None

    def _show_detail(self) -> None:
        found = self._exact()
        self.query_one(".picker-detail", Static).update(Text(terminal_text(found.detail)) if found else "")

    # -- the list --------------------------------------------------------------------------------------
    def open(self) -> None:
        self.is_open = True
        self.add_class("-open")

    def close(self) -> None:
        self.is_open = False
        self.remove_class("-open")

    def into_list(self) -> None:
        if not self.is_open:
            if not self.choices:
                self.lookup(self._input.value, open_list=True)
                return
            self.open()
        listed = self.query_one(Suggestions)
        listed.highlighted = 0
        listed.focus()

    def take_highlighted(self) -> None:
        """Enter in the field with the list open and a text that is not a value: the highlighted suggestion."""
        if not self.is_open or self._exact() is not None:
            self.close()
            return
        index = self.query_one(Suggestions).highlighted
        if index is not None and index < len(self.choices):
            self._set(self.choices[index])
        self.close()

    def _set(self, choice: Suggestion) -> None:
        self._quiet = choice.value
        self._input.value = choice.value
        self._input.cursor_position = len(choice.value)
        self.query_one(".picker-detail", Static).update(Text(terminal_text(choice.detail)))

    @on(OptionList.OptionSelected)
    def picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        index = int(event.option.id or 0)
        if index < len(self.choices):
            self._set(self.choices[index])
        self.close()
        self.screen.set_focus(self._input)  # now, not deferred: the form's Enter then moves on from here
        # picking moves on, as Enter does; sent from the field itself (a message does not bubble back to its sender)
        self._input.call_later(self._input.action_submit)

    def on_descendant_blur(self, _event) -> None:
        self.call_after_refresh(self._close_unless_inside)

    def _close_unless_inside(self) -> None:
        focused = self.app.focused
        if focused is None or not (focused is self or self in focused.ancestors):
            self.close()


# -- the three pickers the forms use -------------------------------------------------------------------------

def customer_picker(app, value: str = "", *, id: str = "field-customer", placeholder: str = "") -> Picker:
    """Customers by code, name, tax id or pinyin (whole or initials), a page of SHOWN from SQLite per keystroke."""
    from store.read import views

    async def source(query: str) -> list[Suggestion]:
        rows = await app.db.run(views.customer_choices, query, SHOWN)
        return [Suggestion(r["code"], r["code"], " ".join(x for x in (r["name"] or "", r["currency"] or "") if x))
                for r in rows]
    return Picker(source, value, id=id, placeholder=placeholder or app.t("picker.customer"))


def terms_picker(app, value: str = "", *, id: str = "field-terms", placeholder: str = "",
                 invoice_date: Callable[[], str] | None = None) -> Picker:
    """The built-in and stored terms, by either name (EOM30 / 月结30), each with what it means and, where the
    form has an invoice date (`invoice_date()` gives the text typed there), the due dates it would give."""
    from store.read import views
    from store.rules import validate
    from store.errors import DulyError

    async def source(query: str) -> list[Suggestion]:
        when = None
        if invoice_date is not None:
            try:
                when = validate.parse_date(invoice_date().strip(), "invoice date")
            except DulyError:
                when = None
        rows = await app.db.run(views.terms_choices, app.language, when)
        typed = query.casefold().replace(" ", "")
        found = []
        for r in rows:
            names = [r["name"], *([r["other"]] if r["other"] else [])]
            if typed and not any(typed in n.casefold().replace(" ", "") for n in names):
                continue
            label = " / ".join(reversed(names) if app.language.startswith("zh") else names)
            due = app.t("picker.due", dates=", ".join(d.isoformat() for d in r["due"])) if r["due"] else ""
            found.append(Suggestion(r["name"], label, " · ".join(x for x in (due, r["meaning"]) if x)))
        # what was typed exactly (月结30 for EOM30) is that built-in: show it as the value's meaning too
        exact = [s for s in found if typed and typed in (s.value.casefold(), *(p.casefold() for p in s.label.split(" / ")))]
        return exact + [s for s in found if s not in exact]
    return Picker(source, value, id=id, placeholder=placeholder or app.t("picker.terms"))


def currency_picker(app, value: str = "", *, id: str = "field-currency", placeholder: str = "") -> Picker:
    """The ledger's currencies first, then every ISO 4217 currency, by code or name (RMB / 人民币 find CNY)."""
    from store.read import views
    from store.rules import money

    ours: list[str] = []

    async def source(query: str) -> list[Suggestion]:
        if not ours:
            ours.extend(await app.db.run(views.ledger_currencies))
        names = money.iso_currency_names()
        typed = query.strip().upper()
        typed = money.ALIASES.get(typed, money.ALIASES.get(query.strip(), typed))
        order = ours + [c for c in names if c not in ours]
        first = [c for c in order if c.startswith(typed)]
        then = [c for c in order if typed and c not in first and typed.casefold() in names.get(c, "").casefold()]
        return [Suggestion(c, c, names.get(c, "")) for c in first + then]
    return Picker(source, value, id=id, placeholder=placeholder or app.t("picker.currency"))
