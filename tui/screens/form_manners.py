"""The manners every full-screen form keeps (the customer, invoice and payment forms; dialog_form keeps the same
ones for small forms): Enter moves to the next field and the last Enter saves (ctrl+s saves from anywhere);
the checks that need no ledger run on every field before saving and all their errors show at once, each one
cleared as soon as its field is fixed; Escape on a form with something typed asks before throwing it away.

A form names its fields in order (`FORM_FIELDS`, widgets `#field-<name>` in rows `#row-<name>` with a
`#error-<name>` under each), gives `values()`, `form_checks()` and `action_save()`, and calls
`remember_initial()` once it is filled."""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from textual.widgets import Input, Static

from store.errors import DulyError, InvalidInput
from store.i18n import N_
from tui.screens.confirm import ConfirmScreen


class FormManners:
    FORM_FIELDS: tuple[str, ...] = ()
    _initial_values = None

    def form_checks(self) -> dict[str, Callable[[str], object]]:
        """{field: check(text)} raising a DulyError; a required field's check refuses an empty text."""
        return {}

    def remember_initial(self) -> None:
        self._initial_values = self.values()

    # -- Enter --------------------------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:  # by name: a mixin's @on is not collected
        name = (event.input.id or "").removeprefix("field-")
        if name not in self.FORM_FIELDS:
            return
        event.stop()
        order = self.FORM_FIELDS
        if order.index(name) < len(order) - 1:
            nxt = self.query_one(f"#field-{order[order.index(name) + 1]}")
            nxt.focus()
            self.query_one("#form").scroll_to_widget(nxt)
        else:
            self.action_save()

    # -- errors -------------------------------------------------------------------------------------
    def _check(self, name: str, text: str) -> str:
        check = self.form_checks().get(name)
        if check is None or not (text.strip() or getattr(check, "required", False)):
            return ""  # an empty optional field is not checked
        try:
            check(text.strip())
        except DulyError as exc:
            return exc.text(self.app.language)
        return ""

    def mark(self, name: str, text: str) -> None:
        box = self.query_one(f"#error-{name}", Static)
        box.update(text)
        box.set_class(bool(text), "shown")
        self.query_one(f"#row-{name}").set_class(bool(text), "invalid")

    def checks_pass(self) -> bool:
        """Run every field's check and show every error at once; True when there is none."""
        values, first = self.values(), None
        for name in self.FORM_FIELDS:
            text = self._check(name, str(values.get(name, "")))
            self.mark(name, text)
            if text and first is None:
                first = name
        if first is not None:
            self.query_one("#form-error", Static).update(self.app.t("form.fix"))
            field = self.query_one(f"#field-{first}")
            field.focus()
            self.query_one("#form").scroll_to_widget(field)
        return first is None

    def on_input_changed(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("field-")
        if name in self.FORM_FIELDS and self.query_one(f"#row-{name}").has_class("invalid"):
            # a check that now passes clears its error; an error from the ledger clears once the field changed
            self.mark(name, self._check(name, event.value) if name in self.form_checks() else "")

    # -- Escape -------------------------------------------------------------------------------------
    def action_cancel(self) -> None:
        if self._initial_values is None or self.values() == self._initial_values:
            self.dismiss(None)
            return
        t = self.app.t
        self.app.push_screen(ConfirmScreen(t("dialog.discard_q"), go=t("dialog.discard")),
                             lambda yes: yes and self.dismiss(None))


def required(message: str, check: Callable[[str], object] | None = None) -> Callable[[str], object]:
    """A check that refuses an empty text with `message`, then runs `check`."""
    def run(text: str) -> None:
        if not text:
            raise InvalidInput(message)
        if check is not None:
            check(text)
    run.required = True
    return run


def positive_amount(text: str) -> None:
    """An amount a person typed ('1,234.56'), more than zero; its currency's decimals are the ledger's check."""
    try:
        value = Decimal(text.replace(",", "").replace("，", ""))
    except InvalidOperation:
        raise InvalidInput(N_("amount {text} is not a number, e.g. 1234.56"), text=repr(text), field="amount") from None
    if not value.is_finite() or value <= 0:
        raise InvalidInput(N_("amount {text} must be more than zero"), text=repr(text), field="amount")
