"""A small form in a dialog (a credit note, a write-off, a dispute, a promise, a contact, a note...) with the
manners every form keeps: letter keys type; Enter moves to the next field and the last Enter (or ctrl+s)
saves; every field's error is shown at once beside it and cleared as soon as the field is fixed; Escape on a
form with something typed asks before throwing it away; a choice is a picker (Left/Right), not free text; a field
made by `make` is one of the app's pickers (terms: tui/widgets/picker.py), read and focused by its Input.

The caller gives the fields and `save(values)`: an async callable that does the write (on the database thread)
and returns the line to show once done; a DulyError it raises is shown against its field (by `error.field`, or
by the field named in the message) and the form stays filled. With `progress=True` the save is a long job (an
export, a backup): it is called as `save(values, progress)`, `progress` the store's callback, and its bar shows in
the dialog while it runs (tui/widgets/job_progress.py). Checks that need no ledger are each field's
`check(text)`, which raises a DulyError, so they are all shown at once before anything is written; a check across
fields (an end before a start) is the form's `check(values)`, which returns {field: error}, worded with the form's
own labels, not the command line's options that the store's errors name.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static
from textual.worker import Worker, WorkerState

from store.errors import DulyError
from tui.screens.confirm import ConfirmScreen
from tui.widgets.choice import Choice
from tui.widgets.job_progress import JobProgress


@dataclass
class Field:
    name: str
    label: str
    value: str = ""
    required: bool = False
    check: Callable[[str], object] | None = None  # raises DulyError when the text is wrong
    choices: list[tuple[str, str]] | None = None  # (shown, value): a picker instead of a text box
    placeholder: str = ""
    aliases: tuple[str, ...] = field(default=())  # words the store uses for this field in its errors
    password: bool = False  # typed unseen (a passphrase)
    make: Callable[..., object] | None = None  # make(app, value): a picker whose Input is #field-<name> (terms)


class DialogForm(ModalScreen[str | None]):
    """Dismisses with the save's result line, or None when left."""

    NAVIGATES = False
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="save"),
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]

    def __init__(self, title: str, fields: list[Field], save: Callable[[dict[str, str]], Awaitable[str]], *,
                 hint: str = "", form_id: str = "dialog", busy: str = "", progress: bool = False,
                 check: Callable[[dict[str, str]], dict[str, str]] | None = None):
        super().__init__()
        self.progress = progress
        self.check = check  # across fields: values -> {field: error}, for fields whose own check passed
        self.marked_across: set[str] = set()  # the fields whose error came from it
        self.busy = busy  # shown in place of the hint while a slow save runs (one that waits on a server)
        self.title_text = title
        self.fields = fields
        self.save_with = save
        self.hint = hint
        self.form_id = form_id
        self.saving = False

    def compose(self) -> ComposeResult:
        t = self.app.t
        with VerticalScroll(id=self.form_id, classes="dialog dialog-form"):
            yield Label(self.title_text, id="dialog-title")
            for f in self.fields:
                with Horizontal(classes="form-row", id=f"row-{f.name}"):
                    yield Label(f.label + (" *" if f.required else ""), classes="form-label")
                    if f.make is not None:
                        yield f.make(self.app, f.value)
                    elif f.choices is not None:
                        yield Choice(f.choices, f.value, id=f"field-{f.name}")
                    else:
                        yield Input(f.value, placeholder=f.placeholder, id=f"field-{f.name}", compact=True,
                                    password=f.password)
                yield Static("", id=f"error-{f.name}", classes="field-error")
            yield Static("", id="dialog-error", classes="field-error")
            yield Static(self.hint, id="dialog-hint", classes="dim")
            if self.progress:
                yield JobProgress(id="dialog-progress")
            yield Static(t("dialog.keys"), classes="dim")

    def on_mount(self) -> None:
        self.query_one(f"#field-{self.fields[0].name}").focus()
        self._initial = self.values()

    # -- values ------------------------------------------------------------------------------------
    def values(self) -> dict[str, str]:
        out = {}
        for f in self.fields:
            value = self.query_one(f"#field-{f.name}").value
            out[f.name] = value if f.password else value.strip()  # a passphrase is what was typed, spaces too
        return out

    def _errors_for(self, values: dict[str, str]) -> dict[str, str]:
        t, errors = self.app.t, {}
        for f in self.fields:
            text = values[f.name]
            if f.required and not text:
                errors[f.name] = t("dialog.required")
            elif text and f.check is not None:
                try:
                    f.check(text)
                except DulyError as exc:
                    errors[f.name] = exc.text(self.app.language)
        if self.check is not None:
            across = {name: text for name, text in self.check(values).items() if name not in errors}
            self.marked_across = set(across)
            errors.update(across)
        return errors

    def show_error(self, name: str | None, text: str) -> None:
        if name is None:
            box = self.query_one("#dialog-error", Static)
        else:
            box = self.query_one(f"#error-{name}", Static)
            self.query_one(f"#row-{name}").set_class(bool(text), "invalid")
        box.update(text)
        box.set_class(bool(text), "shown")

    # -- moving and saving -------------------------------------------------------------------------
    @on(Input.Changed)
    @on(Choice.Changed)
    def field_changed(self, event) -> None:
        """A field that had an error loses it as soon as it is right (the others keep theirs)."""
        name = (event.control.id or "").removeprefix("field-")
        if not any(f.name == name for f in self.fields):
            return
        # this field, and those the check across fields marked (the end is fixed by a later start too)
        for marked in {name, *self.marked_across}:
            if self.query_one(f"#row-{marked}").has_class("invalid"):
                self.show_error(marked, self._errors_for(self.values()).get(marked, ""))

    @on(Input.Submitted)
    @on(Choice.Submitted)
    def enter(self, event) -> None:
        event.stop()
        self._next_after((event.control.id or "").removeprefix("field-"))

    def _next_after(self, name: str) -> None:
        names = [f.name for f in self.fields]
        if name in names and names.index(name) < len(names) - 1:
            self.query_one(f"#field-{names[names.index(name) + 1]}").focus()
        else:
            self.action_save()

    def action_save(self) -> None:
        if self.saving:
            return
        values = self.values()
        errors = self._errors_for(values)
        for f in self.fields:
            self.show_error(f.name, errors.get(f.name, ""))
        self.show_error(None, "")
        if errors:
            self.query_one(f"#field-{next(f.name for f in self.fields if f.name in errors)}").focus()
            return
        self.saving = True
        if self.busy:
            self.query_one("#dialog-hint", Static).update(self.busy)
        if self.progress:
            self.query_one(JobProgress).start()
        self.save(values)

    @work(exclusive=True, exit_on_error=False, group="dialog-save")
    async def save(self, values: dict[str, str]) -> None:
        try:
            if self.progress:
                done = await self.save_with(values, self.query_one(JobProgress).reporter())
            else:
                done = await self.save_with(values)
        except DulyError as exc:
            self._stopped()
            self.saving = False
            self.query_one("#dialog-hint", Static).update(self.hint)
            self.show_error(self._field_of(exc), exc.text(self.app.language))
            return
        except BaseException:
            self._stopped()
            self.saving = False
            self.query_one("#dialog-hint", Static).update(self.hint)
            raise
        self.saving = False
        self.dismiss(done)

    def _stopped(self) -> None:
        if self.progress:
            self.query_one(JobProgress).finish()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A save that failed on something other than a DulyError still says so (worker messages do not bubble)."""
        if event.state == WorkerState.ERROR:
            self.app.notify_error(event.worker.error)

    def _field_of(self, error: DulyError) -> str | None:
        named = (getattr(error, "field", None) or "").lstrip("-").replace("-", "_")
        text = str(error).lower()
        for f in self.fields:
            if named and (named == f.name or named in f.aliases):
                return f.name
        for f in self.fields:
            if any(word in text for word in (f.name, *f.aliases)):
                return f.name
        return None

    def action_cancel(self) -> None:
        if self.saving:
            return  # a save in flight (a server's answer awaited) is not left half-way
        if self.values() == self._initial:
            self.dismiss(None)
            return
        t = self.app.t
        self.app.push_screen(ConfirmScreen(t("dialog.discard_q"), go=t("dialog.discard")),
                             lambda yes: yes and self.dismiss(None))
