"""First run: no ledger at the configured path yet. Create one (passphrase twice with a strength hint, company
name, currency, language, invoice series) or make the demo book there, through what `duly init` and `duly demo`
use; then the app opens it. Returns the new ledger's `language` setting, as the unlock screen does."""
from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Checkbox, Footer, Input, Label, Select, Static

from store.errors import DulyError, InvalidInput
from store.files import demo
from store.rules.money import COMMON_MINOR_UNITS
from store.rules.validate import MIN_PASSPHRASE, passphrase_weakness
from store.write import settings
from tui.app.i18n import Strings
from tui.screens.base import localise_bindings
from tui.screens.form import FormScreen, field_row
from tui.screens.sync_setup import join_form, run_join

CURRENCIES = tuple(COMMON_MINOR_UNITS)  # CNY first: most books here are in yuan


def new_ledger_settings(ledger, *, currency: str, company: str, language: str) -> None:
    settings.first_settings(ledger, currency=currency, company=company, language=language)


def demo_book(ledger, *, language: str, today, progress) -> None:
    demo.build(ledger, today=today, progress=progress)
    settings.put(ledger, "language", language)


def weakness(t: Strings, passphrase: str, path: Path) -> str | None:
    """Why a new passphrase for the ledger at `path` is weak (the check `duly init` and `duly passwd` make), in the
    app's language (zxcvbn's warnings too); None when strong enough."""
    if 0 < len(passphrase) < MIN_PASSPHRASE:
        return t("first.too_short", n=MIN_PASSPHRASE)
    found = passphrase_weakness(passphrase, (Path(path).stem,))
    return t.error(found) if found else None


class FirstRunScreen(FormScreen):
    FIELDS = ("passphrase", "again", "weak_ok", "company", "currency", "language", "series")
    BINDINGS = [
        Binding("ctrl+s", "save", "Create", id="create_ledger"),
        Binding("ctrl+o", "demo", "Demo book", id="create_demo"),
        Binding("ctrl+t", "join", "Join a team", id="join_team"),
        Binding("escape", "app.quit", "Quit", id="quit_first_run", show=False),
    ]

    class Strength(Message):
        def __init__(self, passphrase: str, weakness: str | None):
            super().__init__()
            self.passphrase, self.weakness = passphrase, weakness

    class Done(Message):
        def __init__(self, language_setting: str | None):
            super().__init__()
            self.language_setting = language_setting

    class Failed(Message):
        def __init__(self, text: str):
            super().__init__()
            self.text = text

    class Progress(Message):
        def __init__(self, done: int, total: int):
            super().__init__()
            self.done, self.total = done, total

    def __init__(self, path: Path):
        super().__init__()
        self.path = Path(path)
        self.busy = False
        self.weakness: str | None = None  # of the passphrase typed so far (None: strong enough, or nothing yet)
        self._joined_language: str | None = None

    @property
    def t(self) -> Strings:
        return self.app.t

    def compose(self) -> ComposeResult:
        t = self.t
        with VerticalScroll(id="first-run"):
            yield Label(t("first.title"), id="first-title")
            yield Static(t("first.intro", path=str(self.path)), id="first-intro", markup=False)
            yield Static("", id="form-error")
            yield from field_row("passphrase", t("first.passphrase"), Input(password=True, id="field-passphrase",
                                                                             compact=True))
            yield from field_row("again", t("first.again"), Input(password=True, id="field-again", compact=True))
            yield Static(t("first.strength_none"), id="first-strength", classes="dim")
            yield from field_row("weak_ok", "", Checkbox(t("first.weak_ok"), id="field-weak_ok", compact=True))
            yield from field_row("company", t("first.company"), Input(id="field-company", compact=True))
            yield from field_row("currency", t("first.currency"), Select(
                [(c, c) for c in CURRENCIES], value="CNY", allow_blank=False, id="field-currency", compact=True))
            yield from field_row("language", t("first.language"), Select(
                [("简体中文", "zh"), ("English", "en")], value=self.app.language, allow_blank=False,
                id="field-language", compact=True))
            yield from field_row("series", t("first.series"), Input(placeholder=t("first.series_hint"),
                                                                    id="field-series", compact=True))
            with Horizontal(id="first-buttons"):
                yield Button(t("first.create"), id="first-create", variant="primary")
                yield Button(t("first.demo"), id="first-demo")
                yield Button(t("first.join"), id="first-join")
            yield Static(t("first.keys"), id="first-keys", classes="dim")
        yield Footer()

    def on_mount(self) -> None:
        localise_bindings(self, self.t)
        self.app.refresh_bindings()
        self.field("passphrase").focus()

    # -- the passphrase's strength, as it is typed ------------------------------------------------------
    @on(Input.Changed, "#field-passphrase")
    def passphrase_changed(self, event: Input.Changed) -> None:
        self.rate(event.value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="strength")
    def rate(self, passphrase: str) -> None:
        """zxcvbn (the check `duly init` makes) off the event loop: it loads word lists and takes tens of ms."""
        weakness = self.weakness_of(passphrase) if passphrase else None
        self.post_message(self.Strength(passphrase, weakness))

    def weakness_of(self, passphrase: str) -> str | None:
        return weakness(self.t, passphrase, self.path)

    @on(Strength)
    def show_strength(self, message: Strength) -> None:
        if message.passphrase != self.field("passphrase").value:
            return  # typed on since
        t, line = self.t, self.query_one("#first-strength", Static)
        self.weakness = message.weakness
        if not message.passphrase:
            line.update(t("first.strength_none"))
        elif message.weakness:
            line.update(t("first.strength_weak", reason=message.weakness))
        else:
            line.update(t("first.strength_ok"))
        line.set_class(bool(message.weakness), "warning")

    # -- the language of the screen follows the choice at once -------------------------------------------
    @on(Select.Changed, "#field-language")
    async def language_changed(self, event: Select.Changed) -> None:
        if event.control.is_blank() or event.value == self.app.language or self.app._fixed_language:
            return
        self.app.language = str(event.value)
        self.app.t = Strings(self.app.language)
        kept = {name: self.field(name).value for name in self.FIELDS}
        await self.recompose()
        for name, value in kept.items():
            self.field(name).value = value
        self.rate(kept["passphrase"])
        localise_bindings(self, self.t)
        self.app.refresh_bindings()
        self.field("language").focus()

    # -- create --------------------------------------------------------------------------------------------
    def problems(self, *, for_demo: bool) -> dict[str, str]:
        t, problems = self.t, {}
        passphrase, again = self.value("passphrase"), self.value("again")
        if not passphrase:
            problems["passphrase"] = t("first.err_empty")
        elif self.value("weak_ok") != "true":
            weakness = self.weakness_of(passphrase)
            if weakness:
                problems["passphrase"] = t("first.err_weak", reason=weakness)
        if passphrase and again != passphrase:
            problems["again"] = t("first.err_again")
        if not for_demo:
            for name, key in (("currency", "currency"), ("series", "invoice.series")):
                if self.value(name).strip():
                    try:
                        settings.check(key, self.value(name))
                    except InvalidInput as exc:
                        problems[name] = str(exc)
        return problems

    @on(Button.Pressed, "#first-create")
    def action_save(self) -> None:
        self.start(for_demo=False)

    @on(Button.Pressed, "#first-demo")
    def action_demo(self) -> None:
        self.start(for_demo=True)

    @on(Button.Pressed, "#first-join")
    def action_join(self) -> None:
        """A new device of a team: the passphrase typed here protects the copy the join brings down."""
        if self.busy:
            return
        problems = self.problems(for_demo=True)
        self.show_problems(problems, self.t("first.fix") if problems else "")
        if problems:
            return
        self.busy = True
        self.app.push_screen(join_form(self.t, partial(self._join, self.value("passphrase"), self.value("language"))),
                             self._joined)

    async def _join(self, passphrase: str, language: str, values: dict[str, str], progress=None) -> str:
        """The join form's save: join on a thread of its own, then open the new ledger on the database thread
        and keep the language chosen here as this device's."""
        summary = await run_join(self.app, self.path, passphrase, values, progress)
        await asyncio.wrap_future(self.app.db.unlock(passphrase))
        await self.app.db.run(settings.put, "language", language)
        self._joined_language = language
        return self.t("first.joined", team=summary["team"], role=self.t(f"sync.role.{summary['role']}"),
                      pulled=summary["pulled"])

    def _joined(self, line: str | None) -> None:
        self.busy = False
        if line is None:
            return
        self.app.notify(line, timeout=10)
        self.dismiss(self._joined_language)

    def start(self, *, for_demo: bool) -> None:
        if self.busy:
            return
        problems = self.problems(for_demo=for_demo)
        t = self.t
        self.show_problems(problems, t("first.fix") if problems else "")
        if problems:
            return
        self.busy = True
        for button in self.query(Button):
            button.disabled = True
        passphrase, language = self.value("passphrase"), self.value("language")
        if for_demo:
            self.query_one("#form-error", Static).update(t("first.making_demo"))
            setup = partial(demo_book, language=language, today=self.app.today(), progress=self._progress)
            self.create(passphrase, setup, None)
        else:
            self.query_one("#form-error", Static).update(t("first.creating"))
            series = self.value("series").strip() or None
            setup = partial(new_ledger_settings, currency=self.value("currency"),
                            company=self.value("company").strip(), language=language)
            self.create(passphrase, setup, settings.check("invoice.series", series) if series else None)

    def _progress(self, done: int, total: int) -> None:
        self.post_message(self.Progress(done, total))  # on the database thread: post_message is thread-safe

    @work(exclusive=True, exit_on_error=False, group="create")
    async def create(self, passphrase: str, setup, series: str | None) -> None:
        try:
            language = await asyncio.wrap_future(self.app.db.create(passphrase, setup, series=series))
        except DulyError as exc:
            self.post_message(self.Failed(str(exc)))
            return
        except OSError as exc:
            self.post_message(self.Failed(self.t("first.err_file", path=str(self.path),
                                                 reason=exc.strerror or str(exc))))
            return
        self.post_message(self.Done(language))

    @on(Progress)
    def show_progress(self, message: Progress) -> None:
        self.query_one("#form-error", Static).update(self.t("first.demo_progress", done=message.done,
                                                            total=message.total))

    @on(Failed)
    def failed(self, message: Failed) -> None:
        self.busy = False
        for button in self.query(Button):
            button.disabled = False
        self.query_one("#form-error", Static).update(message.text)

    @on(Done)
    def done(self, message: Done) -> None:
        self.app.notify(self.t("first.created", path=str(self.path)), timeout=8)
        self.dismiss(message.language_setting)
