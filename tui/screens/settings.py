"""Settings: the company profile every document carries (name, legal name, tax id, address, phone, e-mail, the
bank account customers pay into), language (the running app switches at once), SMTP with "send a test message",
dunning levels (and whether their fees and interest are posted as debit notes), aging buckets, provision rates and
alert thresholds; the document templates are edited from here (ctrl+o: tui/screens/templates.py). Each field is checked by the function
`duly settings set` uses (store.write.settings); every wrong field is marked at once and nothing is written until
all are right, then the changed ones are written in one transaction."""
from __future__ import annotations

import asyncio

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Checkbox, Footer, Header, Input, Label, Select, Static

from store.errors import DulyError, InvalidInput, Said
from store.files import mailer
from store.read import settings as in_force
from store.rules.money import COMMON_MINOR_UNITS
from store.write import settings
from store.i18n import N_
from tui.screens.base import DulyScreen
from tui.screens.form import FormScreen, field_row

# (section, [setting keys]) in the order shown
SECTIONS = (
    ("company", ("company.name", "company.legal_name", "company.tax_id", "company.address", "company.phone",
                 "company.email", "company.bank_name", "company.bank_account", "company.account_name", "language",
                 "currency", "invoice.series")),
    ("smtp", ("smtp.host", "smtp.port", "smtp.user", "smtp.password", "smtp.from", "smtp.starttls")),
    ("dunning", ("dunning.levels", "dunning.post_charges")),
    ("aging", ("aging.buckets", "provision.rates")),
    ("alerts", ("alerts.overdue_days", "alerts.no_payment_days", "alerts.concentration_pct")),
)
KEYS = tuple(key for _, keys in SECTIONS for key in keys)


def name_of(key: str) -> str:
    return key.replace(".", "_")


def load_settings(ledger) -> dict[str, str]:
    """Each key's value in force (set, else its default); a secret only as whether it is set; the language
    empty when it was never set (the app then speaks the terminal's)."""
    rows = {row["key"]: row for row in in_force.in_force(ledger)}
    values = {key: settings.masked(key, rows[key]["value"]) or "" for key in KEYS}
    if rows["language"]["source"] != "set":
        values["language"] = ""
    return values


def save_settings(ledger, changed: dict[str, str]) -> dict[str, str]:
    return settings.put_many(ledger, changed)


def smtp_for_test(ledger, form: dict[str, str]) -> mailer.SmtpSettings:
    """The SMTP settings as typed in the form (not saved yet); the stored password when none was typed."""
    host, sender = form["smtp.host"].strip(), form["smtp.from"].strip()
    if not host or not sender:
        raise InvalidInput(N_("a test message needs the SMTP host and the sender address"), field="smtp.host")
    starttls = settings.check("smtp.starttls", form["smtp.starttls"] or "true") == "true"
    port = int(settings.check("smtp.port", form["smtp.port"]) if form["smtp.port"].strip() else
               (587 if starttls else 25))
    password = form["smtp.password"] if form["smtp.password"] not in ("", settings.MASK) else \
        settings.get(ledger, "smtp.password")
    return mailer.SmtpSettings(host, port, form["smtp.user"].strip() or None, password,
                               settings.check("smtp.from", sender), starttls)


def send_test(smtp: mailer.SmtpSettings, msg) -> str | None:
    """Send one message through a session of its own; the reason when it did not go, else None."""
    transport = mailer.Smtp(smtp, timeout=20)
    try:
        transport.send(msg)
        return None
    except (mailer.SendFailed, mailer.SendUncertain) as exc:
        return str(exc)
    finally:
        transport.close()


class SettingsScreen(FormScreen, DulyScreen):
    FIELDS = tuple(name_of(key) for key in KEYS)
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="save"),
        Binding("escape", "cancel", "Cancel", id="cancel"),
        Binding("ctrl+t", "test_mail", "Test e-mail", id="settings_test_mail"),
        Binding("ctrl+o", "templates", "Templates", id="settings_templates"),
    ]

    class Loaded(Message):
        def __init__(self, values: dict[str, str]):
            super().__init__()
            self.values = values

    class Saved(Message):
        def __init__(self, changed: dict[str, str]):
            super().__init__()
            self.changed = changed

    class Rejected(Message):
        def __init__(self, problems: dict[str, str]):
            super().__init__()
            self.problems = problems

    class Tested(Message):
        def __init__(self, text: str, ok: bool):
            super().__init__()
            self.text, self.ok = text, ok

    def __init__(self):
        super().__init__()
        self.loaded: dict[str, str] = {}
        self.saving = False

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        yield Label(t("settings.title"), id="form-title")
        yield Static("", id="form-error")
        with VerticalScroll(id="form"):
            for section, keys in SECTIONS:
                yield Label(t(f"settings.section.{section}"), classes="section")
                for key in keys:
                    yield from field_row(name_of(key), t(f"setting.{key}"), self._widget(key),
                                         hint=t(f"setting_hint.{key}") if t.has(f"setting_hint.{key}")
                                         else "")
                if section == "smtp":
                    yield from field_row("test_to", t("settings.test_to"), Input(id="field-test_to", compact=True,
                                                                                   placeholder=t("settings.test_to_hint")))
                    with Horizontal(classes="buttons"):
                        yield Button(t("settings.test_button"), id="settings-test")
                    yield Static("", id="settings-test-result")
            with Horizontal(classes="buttons"):
                yield Button(t("settings.save_button"), id="settings-save", variant="primary")
                yield Button(t("settings.templates_button"), id="settings-templates")
        yield Footer()

    def _widget(self, key: str):
        wid = f"field-{name_of(key)}"
        if key == "language":
            return Select([("简体中文", "zh"), ("English", "en")], allow_blank=False, value="zh", id=wid, compact=True)
        if key == "currency":
            return Select([(c, c) for c in COMMON_MINOR_UNITS], allow_blank=False, value="CNY", id=wid, compact=True)
        if key == "smtp.starttls":
            return Checkbox(self.t("setting_hint.smtp.starttls_box"), value=True, id=wid, compact=True)
        if key == "dunning.post_charges":
            return Checkbox(self.t("setting_hint.dunning.post_charges_box"), value=False, id=wid, compact=True)
        return Input(id=wid, compact=True, password=key == "smtp.password")

    def reload(self) -> None:
        super().reload()
        self.load()

    @work(exclusive=True, exit_on_error=False, group="settings-load")
    async def load(self) -> None:
        self.post_message(self.Loaded(await self.db(load_settings)))

    @on(Loaded)
    def show(self, message: Loaded) -> None:
        self.loaded = {**message.values, "language": message.values["language"] or self.app.language}
        message.values = self.loaded
        with self.prevent(Input.Changed, Select.Changed, Checkbox.Changed):
            for key in KEYS:
                self._put(key, message.values[key])
        self.dirty = False
        self.field(name_of(KEYS[0])).focus()

    def _put(self, key: str, value: str) -> None:
        widget = self.field(name_of(key))
        if isinstance(widget, Checkbox):
            widget.value = value != "false"
        elif isinstance(widget, Select):
            options = {v for _, v in widget._options if v is not Select.NULL}
            if value not in options and value:
                widget.set_options([*((str(p), v) for p, v in widget._options if v is not Select.NULL),
                                    (value, value)])
            widget.value = value or widget.value
        else:
            widget.value = value

    def form_values(self) -> dict[str, str]:
        return {key: self.value(name_of(key)) for key in KEYS}

    # -- save ----------------------------------------------------------------------------------------------
    @on(Button.Pressed, "#settings-save")
    def action_save(self) -> None:
        if self.saving:
            return
        values = self.form_values()
        changed = {k: v for k, v in values.items() if v != self.loaded.get(k, "")}
        if changed.get("smtp.password") in ("",):
            changed.pop("smtp.password")  # an empty password field keeps the one set
        if not changed:
            self.notify(self.t("form.unchanged"))
            return
        self.saving = True
        self.save(changed)

    @work(exclusive=True, exit_on_error=False, group="settings-save")
    async def save(self, changed: dict[str, str]) -> None:
        try:
            written = await self.db(save_settings, changed)
        except InvalidInput as exc:
            problems = getattr(exc, "problems", None) or {exc.field or KEYS[0]: Said.of(exc)}
            self.post_message(self.Rejected({name_of(k): v for k, v in problems.items()}))
            return
        except DulyError as exc:
            self.post_message(self.Rejected({name_of(KEYS[0]): Said.of(exc)}))
            return
        self.post_message(self.Saved(written))

    @on(Rejected)
    def rejected(self, message: Rejected) -> None:
        self.saving = False
        self.show_problems(message.problems, self.t("settings.fix"))

    @on(Saved)
    def saved(self, message: Saved) -> None:
        self.saving = False
        self.app.ledger_changed()
        self.show_problems({})
        self.loaded.update({k: settings.masked(k, v) for k, v in message.changed.items()})
        self.dirty = False
        language = message.changed.get("language")
        self.notify(self.t("settings.saved", keys=", ".join(sorted(message.changed))))
        if language and language != self.app.language:
            # rebuilds this screen too: a task of the app's, not this screen's handler, awaits it
            self.app.run_worker(self.app.set_language(language), group="language", exit_on_error=False)

    def action_cancel(self) -> None:
        """Escape: with changes not saved, ask, then put back the values in force; with none, leave for the
        dashboard. Every field here is a box whose keys type (digits too), so without this only f3/f4 would leave
        Settings."""
        if not self.dirty:
            self.app.switch_mode("dashboard")
            return
        super().action_cancel()

    def discard(self) -> None:
        """Escape, once agreed: put back the values in force."""
        self.show(self.Loaded(dict(self.loaded)))
        self.show_problems({})

    @on(Button.Pressed, "#settings-templates")
    def action_templates(self) -> None:
        from tui.screens.templates import TemplatesScreen

        self.app.push_screen(TemplatesScreen())

    # -- the test message ----------------------------------------------------------------------------------
    @on(Button.Pressed, "#settings-test")
    def action_test_mail(self) -> None:
        self.query_one("#settings-test-result", Static).update(self.t("settings.testing"))
        self.test_mail(self.form_values(), self.value("test_to").strip())

    @work(exclusive=True, exit_on_error=False, group="settings-test")
    async def test_mail(self, form: dict[str, str], to: str) -> None:
        t = self.t
        try:
            smtp = await self.db(smtp_for_test, form)
        except InvalidInput as exc:
            self.post_message(self.Tested(str(exc), False))
            return
        to = to or smtp.sender
        msg = mailer.test_message(smtp.sender, to, t("settings.test_subject"), t("settings.test_body"))
        error = await asyncio.to_thread(send_test, smtp, msg)  # SMTP waits on the network: not on the loop
        if error is None:
            self.post_message(self.Tested(t("settings.test_sent", to=to), True))
        else:
            self.post_message(self.Tested(t("settings.test_failed", error=error), False))

    @on(Tested)
    def tested(self, message: Tested) -> None:
        line = self.query_one("#settings-test-result", Static)
        line.update(message.text)
        line.set_class(not message.ok, "error")
