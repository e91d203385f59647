"""A picker for a short list (apply to this invoice / on account, a channel, a currency, terms) that keeps a
form's manners: Left/Right (or Space) change the choice, Enter moves on like any field, letters never leave."""
from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget


class Choice(Widget, can_focus=True):
    DEFAULT_CSS = """
    Choice { height: 1; width: 1fr; }
    Choice:focus { background: $boost; text-style: bold; }
    """
    BINDINGS = [
        Binding("left", "move(-1)", "Previous", show=False),
        Binding("right,space", "move(1)", "Next", show=False),
        Binding("enter", "submit", "Next field", show=False),
    ]

    index = reactive(0)

    class Changed(Message):
        def __init__(self, choice: Choice):
            super().__init__()
            self.choice = choice

        @property
        def control(self) -> Choice:
            return self.choice

    class Submitted(Message):
        def __init__(self, choice: Choice):
            super().__init__()
            self.choice = choice

        @property
        def control(self) -> Choice:
            return self.choice

    def __init__(self, choices: list[tuple[str, str]], value: str = "", *, id: str | None = None):
        super().__init__(id=id)
        self.choices = choices
        values = [v for _, v in choices]
        self.set_reactive(Choice.index, values.index(value) if value in values else 0)

    @property
    def value(self) -> str:
        return self.choices[self.index][1] if self.choices else ""

    @value.setter
    def value(self, new: str) -> None:
        self.index = [v for _, v in self.choices].index(new)

    def render(self) -> Text:
        shown = self.choices[self.index][0] if self.choices else ""
        return Text.assemble(("‹ ", "dim"), shown, (" ›", "dim"),
                             (f"  {self.index + 1}/{len(self.choices)}", "dim") if len(self.choices) > 2 else "")

    def action_move(self, step: int) -> None:
        if self.choices:
            self.index = (self.index + step) % len(self.choices)

    def watch_index(self) -> None:
        self.post_message(self.Changed(self))

    def action_submit(self) -> None:
        self.post_message(self.Submitted(self))
