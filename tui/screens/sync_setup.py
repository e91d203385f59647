"""Setting sync up from the app, over what `duly sync init / invite / recovery / join` use (sync.client.setup):
the set-up and invite forms, the modal that shows a recovery secret once, the one that shows an invite code, and
the first run's "Join a team".

The work that waits on the server runs on a thread of its own with its own connection (`app.on_network`), never
on the database thread or the event loop. A recovery secret lives only in the modal that shows it: never in a
notification, the ledger, its change log or any file; the modal closes only once the user has typed its last
four characters."""
from __future__ import annotations

import asyncio
from functools import partial

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from store.errors import DulyError, InvalidInput
from store.i18n import N_
from sync import client
from sync.client.keys import NAME_CHARS
from sync.client.setup import MAX_INVITE_HOURS
from tui.app.apart import run_apart
from tui.app.i18n import Strings
from tui.app.jobs import join_at
from tui.screens.confirm import ConfirmScreen
from tui.screens.dialog_form import DialogForm, Field
from tui.widgets.table import DataTable

CONFIRM_CHARS = 4  # what the user types back from the secret to close its modal


def _shape(text: str) -> None:
    """The scheme and host (plain http:// to another machine is checked on save, with the choice beside it)."""
    try:
        client.check_server_url(text, insecure=True)
    except DulyError:
        raise InvalidInput(N_("{server} is not a server address: expected one such as https://sync.example.com"),
                           server=text, field="server") from None


def server_address(values: dict[str, str]) -> str:
    """The address as `check_server_url` keeps it, its refusals worded for the form (no command-line flags)."""
    _shape(values["server"])
    try:
        return client.check_server_url(values["server"], insecure=values["insecure"] == "yes")
    except DulyError:
        raise InvalidInput(N_("plain http:// to another machine is refused: use https://, or set “Allow http://” "
                              "to Yes if you mean it (the book is end-to-end encrypted either way)"),
                           field="server") from None


def _name(text: str) -> None:
    if len(text) > NAME_CHARS:
        raise InvalidInput(N_("a device name must be 1-{name_chars} characters, got {count}: give a shorter --name"),
                           name_chars=NAME_CHARS, count=len(text), field="name")


def _hours(text: str) -> None:
    if not text.isdigit() or not 1 <= int(text) <= MAX_INVITE_HOURS:
        raise InvalidInput(N_("an invite is valid for 1 to {most} hours, not {hours}"), most=MAX_INVITE_HOURS,
                           hours=text, field="hours")


def _yes_no(t: Strings) -> list[tuple[str, str]]:
    return [(t("ask.no"), "no"), (t("ask.yes"), "yes")]


def server_fields(t: Strings) -> list[Field]:
    """The fields a device needs to reach a server: its address, whether plain http:// elsewhere is meant, and
    this device's name in the team."""
    return [
        Field("server", t("syncf.server"), required=True, check=_shape, placeholder="https://sync.example.com"),
        Field("name", t("syncf.name"), value=client.default_device_name(), check=_name),
        Field("insecure", t("syncf.insecure"), value="no", choices=_yes_no(t)),
    ]


def setup_form(t: Strings, save) -> DialogForm:
    """`duly sync init`: a new team on a server, this device its admin."""
    fields = server_fields(t)
    fields.insert(2, Field("token", t("syncf.token"), check=partial(client.team_token, where="token")))
    return DialogForm(t("syncf.setup_title"), fields, save, hint=t("syncf.setup_hint"), form_id="sync-setup",
                      busy=t("syncf.busy"), progress=True)


def invite_form(t: Strings, save) -> DialogForm:
    roles = [(t("sync.role.member"), "member"), (t("sync.role.viewer"), "viewer"), (t("sync.role.admin"), "admin")]
    return DialogForm(t("syncf.invite_title"), [
        Field("role", t("syncf.role"), value="member", choices=roles),
        Field("hours", t("syncf.hours"), value="72", required=True, check=_hours),
    ], save, hint=t("syncf.invite_hint"), form_id="sync-invite",
                      busy=t("syncf.busy"))


def join_form(t: Strings, save) -> DialogForm:
    """`duly sync join`: a new device of a team, from an invite code or a recovery secret."""
    fields = server_fields(t)
    fields.insert(1, Field("invite", t("syncf.invite"), required=True, check=lambda text: client.parse_invite(text)))
    return DialogForm(t("syncf.join_title"), fields, save, hint=t("syncf.join_hint"), form_id="sync-join",
                      busy=t("syncf.busy"), progress=True)


class SecretScreen(ModalScreen[None]):
    """A recovery secret, shown once. Closes only when the last four characters are typed back (the user has it
    on paper); Escape says so instead of closing."""

    NAVIGATES = False
    BINDINGS = [Binding("escape", "not_yet", "Close", id="secret_close", show=False)]
    DEFAULT_CSS = """
    SecretScreen { align: center middle; }
    #secret { width: 80; max-width: 100%; height: auto; max-height: 100%; border: thick $warning;
              background: $surface; padding: 0 2; }
    #secret-title { text-style: bold; width: 100%; }
    #secret-text, #secret-use { height: auto; margin-top: 1; }
    #secret-value { height: auto; margin-top: 1; text-style: bold; color: $warning; }
    #secret-confirm { height: 1; margin-top: 1; }
    #secret-confirm Label { width: auto; padding-right: 1; }
    #secret-confirm Input { width: 8; background: $boost; }
    #secret-error { height: auto; color: $error; }
    """

    def __init__(self, secret: str, server: str, *, title: str | None = None):
        super().__init__()
        self._secret = secret
        self.server = server
        self.title_text = title

    def compose(self) -> ComposeResult:
        t = self.app.t
        with Vertical(id="secret"):
            yield Label(self.title_text or t("secret.title"), id="secret-title")
            yield Static(t("secret.text"), id="secret-text", markup=False)
            yield Static(self._secret, id="secret-value", markup=False)
            yield Static(t("secret.use", server=self.server), id="secret-use", markup=False)
            with Horizontal(id="secret-confirm"):
                yield Label(t("secret.confirm", n=CONFIRM_CHARS))
                yield Input(id="secret-last", max_length=CONFIRM_CHARS, placeholder="_" * CONFIRM_CHARS,
                            compact=True)
            yield Static("", id="secret-error")

    def on_mount(self) -> None:
        self.query_one("#secret-last", Input).focus()

    @on(Input.Submitted, "#secret-last")
    def confirmed(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip() == self._secret[-CONFIRM_CHARS:]:
            self._secret = ""  # not kept a moment longer than the screen
            for widget in self.query(Static):
                widget.update("")
            self.dismiss(None)
        else:
            self.query_one("#secret-error", Static).update(self.app.t("secret.wrong", n=CONFIRM_CHARS))

    def action_not_yet(self) -> None:
        self.query_one("#secret-error", Static).update(self.app.t("secret.not_yet", n=CONFIRM_CHARS))


class InviteScreen(ModalScreen[None]):
    """An invite code and how the other person joins with it; c copies it (to the terminal's clipboard)."""

    BINDINGS = [Binding("escape", "close", "Close", id="invite_close"),
                Binding("c", "copy", "Copy", id="invite_copy")]
    DEFAULT_CSS = """
    InviteScreen { align: center middle; }
    #invite { width: 80; max-width: 100%; height: auto; max-height: 100%; border: thick $primary;
              background: $surface; padding: 0 2; }
    #invite-title { text-style: bold; width: 100%; }
    #invite-text, #invite-use { height: auto; margin-top: 1; }
    #invite-code { height: auto; margin-top: 1; text-style: bold; }
    #invite-buttons { height: auto; margin-top: 1; }
    """

    def __init__(self, invite: client.Invite, expires_text: str):
        super().__init__()
        self.invite = invite
        self.expires_text = expires_text

    def compose(self) -> ComposeResult:
        t, made = self.app.t, self.invite
        with Vertical(id="invite"):
            yield Label(t("invite.title"), id="invite-title")
            yield Static(t("invite.text", role=t(f"sync.role.{made.role}"), hours=made.hours,
                           expires=self.expires_text), id="invite-text", markup=False)
            yield Static(made.code, id="invite-code", markup=False)
            yield Static(t("invite.use", server=made.server, code=made.code), id="invite-use", markup=False)
            with Horizontal(id="invite-buttons"):
                yield Button(t("invite.done"), id="invite-done", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#invite-done", Button).focus()

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.invite.code)
        self.app.notify(self.app.t("invite.copied"), timeout=4)

    @on(Button.Pressed, "#invite-done")
    def action_close(self) -> None:
        self.dismiss(None)


class DevicesScreen(ModalScreen[None]):
    """The team's devices as the server has them (`duly sync devices`); on an admin device x removes the
    highlighted one and starts a new key epoch for the others (`duly sync revoke`), after asking."""

    BINDINGS = [Binding("escape", "close", "Close", id="devices_close"),
                Binding("x", "remove", "Remove device", id="devices_remove")]
    DEFAULT_CSS = """
    DevicesScreen { align: center middle; }
    #devices { width: 100; max-width: 100%; height: auto; max-height: 100%; border: thick $primary;
               background: $surface; padding: 0 2; }
    #devices-title { text-style: bold; width: 100%; }
    #devices-table { height: auto; max-height: 16; margin-top: 1; }
    #devices-message { height: auto; margin-top: 1; }
    #devices-keys { height: auto; }
    """

    def __init__(self, admin: bool, utc_text):
        super().__init__()
        self.admin = admin
        self.utc_text = utc_text  # ms -> the screen's time text
        self.rows: dict[str, dict] = {}

    def compose(self) -> ComposeResult:
        t = self.app.t
        with Vertical(id="devices"):
            yield Label(t("devices.title"), id="devices-title")
            yield DataTable(id="devices-table", cursor_type="row")
            yield Static(t("syncf.busy"), id="devices-message", markup=False)
            yield Static(t("devices.keys_admin") if self.admin else t("devices.keys"), id="devices-keys",
                         classes="dim")

    def on_mount(self) -> None:
        t = self.app.t
        table = self.query_one("#devices-table", DataTable)
        for key in ("devices.col.this", "devices.col.name", "devices.col.role", "devices.col.added",
                    "devices.col.removed", "devices.col.id"):
            table.add_column(t(key), key=key)
        table.focus()
        self.load()

    @work(exclusive=True, exit_on_error=False, group="devices")
    async def load(self) -> None:
        t, message = self.app.t, self.query_one("#devices-message", Static)
        try:
            found = await self.app.on_network(client.team_devices)
        except DulyError as exc:
            message.update(self.app.t.error(exc))
            return
        table = self.query_one("#devices-table", DataTable)
        table.clear()
        self.rows = {d["id"]: d for d in found}
        for d in sorted(found, key=lambda d: (d["revoked"] is not None, d["added"])):
            table.add_row("*" if d["this"] else "", d["name"], t(f"sync.role.{d['role']}"),
                          self.utc_text(d["added"]), self.utc_text(d["revoked"]) if d["revoked"] else "", d["id"],
                          key=d["id"])
        message.update(t("devices.count", n=sum(d["revoked"] is None for d in found)))

    def _current(self) -> dict | None:
        table = self.query_one("#devices-table", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        return self.rows.get(str(key))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.admin if action == "remove" else True

    def action_remove(self) -> None:
        t, device = self.app.t, self._current()
        if device is None:
            return
        if device["this"] or device["revoked"] is not None:
            said = t("devices.not_this", name=device["name"]) if device["this"] else \
                t("devices.already", name=device["name"])
            self.query_one("#devices-message", Static).update(said)
            return
        self.app.push_screen(ConfirmScreen(t("devices.remove_q", name=device["name"]), t("devices.remove_body"),
                                           undo=t("devices.remove_undo"), go=t("devices.remove_go")),
                             lambda yes: yes and self.remove(device))

    @work(exclusive=True, exit_on_error=False, group="devices-remove")
    async def remove(self, device: dict) -> None:
        t, message = self.app.t, self.query_one("#devices-message", Static)
        message.update(t("syncf.busy"))
        try:
            epoch = await self.app.on_network(client.remove_device, device["id"])
        except DulyError as exc:
            message.update(self.app.t.error(exc))
            return
        self.app.notify(t("devices.removed", name=device["name"], epoch=epoch), timeout=8)
        self.app.ledger_changed()
        self.load()

    def action_close(self) -> None:
        self.dismiss(None)


async def run_join(app, path, passphrase: str, values: dict[str, str], progress=None) -> dict:
    """The first run's join: check the address before anything else, then join in a Duly process of its own
    (tui.app.apart: a big team's book failed in this one), or on a thread of its own when a test hands the app its
    own transport (which lives in this process)."""
    insecure = values["insecure"] == "yes"
    server = server_address(values)
    transport = app.sync_transport() if app.sync_transport else None
    how = {"name": values["name"] or None, "insecure": insecure, "progress": progress}
    try:
        # in_thread is a daemon thread: leaving the app waits neither for the server nor for the child
        if transport is None:
            return await asyncio.wrap_future(app.in_thread(run_apart, join_at, path, passphrase, server,
                                                           values["invite"], **how))
        return await asyncio.wrap_future(app.in_thread(join_at, path, passphrase, server, values["invite"],
                                                       transport=transport, **how))
    except client.SyncError as exc:  # the server said no: to the invite (unknown, spent, expired)
        exc.field = "invite"
        raise
    except OSError as exc:  # the folder cannot be written: said like the first run's own create
        raise DulyError(N_("cannot write {target}: {reason}"), target=str(path),
                        reason=exc.strerror or str(exc)) from None
