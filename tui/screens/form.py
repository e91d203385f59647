"""What the app's forms share: Enter moves to the next field and the last Enter saves; every field's error is
shown beside it at once and cleared as soon as that field changes; Escape on a form with typed content asks
before discarding it."""
from __future__ import annotations

from textual import on
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Checkbox, Input, Label, Select, Static

from tui.screens.ask import AskScreen


def field_row(name: str, label: str, widget, hint: str = ""):
    """A labelled row and, below it, the line where its error (or a hint) goes."""
    row = Horizontal(Label(label, classes="form-label"), widget, classes="form-row", id=f"row-{name}")
    line = Static(hint, id=f"error-{name}", classes="field-error" + (" shown dim" if hint else ""))
    line.hint = hint  # shown again once an error on the field is fixed
    return row, line


class FormScreen(Screen):
    """A screen with a form (the base of the form screens, before DulyScreen where both apply): FIELDS names the fields in order (widget ids `field-<name>`), the screen has a
    Static `#form-error` and an `action_save`."""

    FIELDS: tuple[str, ...] = ()
    dirty = False

    def field(self, name: str):
        return self.query_one(f"#field-{name}")

    def value(self, name: str) -> str:
        widget = self.field(name)
        if isinstance(widget, Select):
            return "" if widget.is_blank() else str(widget.value)
        if isinstance(widget, Checkbox):
            return "true" if widget.value else "false"
        return widget.value

    def show_problems(self, problems: dict[str, str], summary: str = "") -> None:
        """Every error at once, each beside its field; the cursor goes to the first wrong field."""
        for name in self.FIELDS:
            self._set_error(name, self.t.error(problems[name]) if name in problems else "")
        self.query_one("#form-error", Static).update(summary if problems or summary else "")
        for name in self.FIELDS:
            if name in problems:
                self.field(name).focus()
                self.field(name).scroll_visible()
                break

    def _set_error(self, name: str, text: str) -> None:
        error = self.query_one(f"#error-{name}", Static)
        hint = getattr(error, "hint", "")
        if text or error.has_class("invalid"):
            error.update(text or hint)
        error.set_class(bool(text), "invalid")
        error.set_class(bool(text or hint), "shown")
        error.set_class(not text and bool(hint), "dim")
        self.query_one(f"#row-{name}").set_class(bool(text), "invalid")

    def _name_of(self, widget) -> str | None:
        wid = widget.id or ""
        return wid[len("field-"):] if wid.startswith("field-") and wid[len("field-"):] in self.FIELDS else None

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _field_changed(self, event) -> None:
        name = self._name_of(event.control)
        if name is None:
            return
        self.dirty = True
        if self.query_one(f"#error-{name}", Static).has_class("invalid"):
            self._set_error(name, "")  # fixed (or being fixed): the error goes

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        name = self._name_of(event.input)
        if name is None:
            return
        event.stop()
        enabled = [n for n in self.FIELDS if not self.field(n).disabled and self.field(n).display
                   and not isinstance(self.field(n), Checkbox)]  # Enter on a checkbox ticks it
        if name == enabled[-1]:
            self.action_save()
        else:
            self.field(enabled[enabled.index(name) + 1]).focus()

    def discard(self) -> None:
        """What Escape does once the user agreed (or nothing was typed)."""
        self.dismiss(None)

    def action_cancel(self) -> None:
        if not self.dirty:
            self.discard()
            return
        t = self.app.t

        def answered(yes: bool) -> None:
            if yes:
                self.discard()
        self.app.push_screen(AskScreen(t("form.discard_title"), t("form.discard_text"), yes=t("form.discard_yes"),
                                       no=t("form.discard_no")), answered)
