"""Setting sync up from the app, through Pilot, against a real sync server on loopback: a new team from the Sync
screen (9, s) with its recovery secret shown once and closed only once its end is typed back, the book then
syncing; an invite (i) shown with how to join; a second device joining from the first-run screen (ctrl+t) and
seeing the first's book; a new recovery secret (k); the errors (no server, a bad address, a refused invite) said
in the user's language with nothing written. Snapshots of the set-up form, the secret, the invite and the join
form in en and zh at 120x40 and 80x24."""
from __future__ import annotations

import time

import pytest
from textual.widgets import Input, Static

from store.ledger.ledger import Ledger
from store.write import customers
from sync import client
from sync.client import Invite, Sync
from tests.support.app import hold_still, settle, text_of
from tests.support.book import PASSPHRASE, TODAY, make_book
from tests.support.sync_server import running_server
from tui.app.app import DulyApp
from tui.screens.dialog_form import DialogForm
from tui.screens.first_run import FirstRunScreen
from tui.screens.sync import SyncScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.sync_setup import DevicesScreen, InviteScreen, SecretScreen

SIZE = (120, 40)
SIZES = [(120, 40), (80, 24)]
GOOD = "copper kettle sings at dawn"
pytestmark = pytest.mark.anyio


@pytest.fixture
def server(tmp_path):
    with running_server("sqlite", tmp_path) as backend:
        yield backend


def app_for(path, language: str = "en", **options) -> DulyApp:
    options.setdefault("sync_on_open", False)
    return DulyApp(path, PASSPHRASE if path.exists() else None, today=TODAY, language=language, **options)


def notes(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


def every_text(screen) -> str:
    return "\n".join(text_of(w) for w in screen.query(Static))


def form_errors(form) -> str:
    """Every error the form shows (beside a field or under the form)."""
    return " ".join(text_of(w).strip() for w in form.query(".field-error"))


async def fill(pilot, name: str, text: str) -> None:
    field = pilot.app.screen.query_one(f"#field-{name}", Input)
    field.value = ""
    field.focus()
    await pilot.press(*text)


async def until(pilot, condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.02)


def everything_in(path) -> str:
    """Every value of every table of a ledger, as text (what could hold a secret that was written down)."""
    out = []
    with Ledger.open(path, PASSPHRASE) as ledger:
        tables = [r[0] for r in ledger.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in ledger.conn.execute(f'SELECT * FROM "{table}"'):
                out.extend(v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in row)
    return "\n".join(out)


def team_of(path) -> tuple[str | None, str | None]:
    with Ledger.open(path, PASSPHRASE) as ledger:
        return ledger.meta("sync.team"), ledger.meta("sync.role")


async def open_set_up(pilot) -> None:
    await settle(pilot)
    await pilot.press("9")
    await settle(pilot)
    assert isinstance(pilot.app.screen, SyncScreen)
    await pilot.press("s")
    await settle(pilot)
    assert isinstance(pilot.app.screen, DialogForm)


async def test_sync_is_set_up_from_the_app_and_the_secret_is_shown_once(tmp_path, server, monkeypatch):
    book = make_book(tmp_path / "book.duly")
    told, start_team = [], client.start_team

    def recorded(*args, progress, **kwargs):  # what the set-up form's progress bar is told
        return start_team(*args, progress=lambda done, total: (told.append((done, total)), progress(done, total)),
                          **kwargs)

    monkeypatch.setattr(client, "start_team", recorded)
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await open_set_up(pilot)
        await fill(pilot, "server", server.url)
        await fill(pilot, "name", "office-pc")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert told and told[-1][0] == told[-1][1] > 1  # the changes sent and the snapshot's chunks, all done
        screen = app.screen
        assert isinstance(screen, SecretScreen)
        secret = text_of(screen.query_one("#secret-value", Static)).strip()
        team, _ = team_of(book)
        assert secret.startswith(f"{team}.recovery.") and len(secret) > 60
        assert server.url in text_of(screen.query_one("#secret-use", Static))
        assert not any(secret in note or secret[-20:] in note for note in notes(app))  # never in a notification
        [note] = notes(app)
        assert note.startswith(f"Sync is set up: team {team}, this device its admin;") and "sent" in note
        await pilot.press("escape")  # not yet: the secret is not shown again once closed
        await settle(pilot)
        assert app.screen is screen
        assert "not shown again" in text_of(screen.query_one("#secret-error", Static))
        await pilot.press(*"abcd", "enter")  # a wrong ending
        await settle(pilot)
        assert app.screen is screen
        assert "not how it ends" in text_of(screen.query_one("#secret-error", Static))
        screen.query_one("#secret-last", Input).value = ""
        await pilot.press(*secret[-4:], "enter")
        await settle(pilot)
        assert isinstance(app.screen, SyncScreen)
        assert secret not in every_text(app.screen)  # shown once: nowhere on the screen now
        assert not app.screen.query(SecretScreen)
        details = text_of(app.screen.query_one("#sync-details", Static))
        assert server.url in details and "office-pc" in details and "admin" in details
        assert app.sub_title == "book.duly · synced just now"
        # set up: s is no longer offered; i and k are (an admin device)
        assert not app.screen.check_action("setup", ())
        assert app.screen.check_action("invite", ()) and app.screen.check_action("recovery", ())
        # the book syncs now: a change made here goes out with ctrl+y
        await pilot.press("2")
        await settle(pilot)
    with Ledger.open(book, PASSPHRASE, actor="tester") as ledger:
        customers.add(ledger, "NEW1", "Made After Set-up Ltd")
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.sub_title == "book.duly · synced just now · 1 pending"
        await pilot.press("ctrl+y")
        await until(pilot, lambda: app._sync_future is None and "pending" not in app.sub_title)
        assert app.sub_title == "book.duly · synced just now"
    # the secret went nowhere: not in the ledger's tables (the change log and meta included)
    assert secret not in everything_in(book) and secret.split(".")[2] not in everything_in(book)
    # and it is the real thing: it brings the book back on a new machine
    restored, summary = client.join(tmp_path / "restored.duly", PASSPHRASE, server.url, secret, name="new-pc")
    try:
        assert summary["role"] == "admin"
        assert restored.row("SELECT name FROM customers WHERE code='NEW1'")["name"] == "Made After Set-up Ltd"
    finally:
        restored.close()


@pytest.fixture
def laptop(tmp_path, server):
    """A book set up for sync (admin), with a customer of its own."""
    path = make_book(tmp_path / "laptop.duly")
    with Ledger.open(path, PASSPHRASE, actor="tester") as ledger:
        customers.add(ledger, "ZQ", "Zephyr Quill Trading")
        client.init(ledger, server.url, name="laptop")
    return path


async def test_an_invite_is_made_in_the_app_and_a_new_device_joins_from_the_first_run(tmp_path, server, laptop):
    app = app_for(laptop)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("9")
        await settle(pilot)
        assert not app.screen.check_action("setup", ())
        await pilot.press("i")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, DialogForm)
        await fill(pilot, "hours", "24")
        await pilot.press("ctrl+s")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, InviteScreen)
        code = text_of(screen.query_one("#invite-code", Static)).strip()
        team, _ = team_of(laptop)
        assert code.startswith(f"{team}.") and ".recovery." not in code
        text = text_of(screen.query_one("#invite-text", Static))
        assert "new member device" in text and "valid for 24 h (until 20" in text and "UTC" in text
        use = " ".join(text_of(screen.query_one("#invite-use", Static)).split())
        assert "“Join a team” (ctrl+t)" in use and f"duly sync join --server {server.url} --invite {code}" in use
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SyncScreen)

    desk = tmp_path / "desk.duly"
    app = DulyApp(desk, today=TODAY, language="en", sync_on_open=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, FirstRunScreen)
        await fill(pilot, "passphrase", GOOD)
        await fill(pilot, "again", GOOD)
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert isinstance(app.screen, DialogForm)
        await fill(pilot, "server", server.url)
        await fill(pilot, "invite", code)
        await fill(pilot, "name", "desk")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.unlocked and app.current_mode == "dashboard"
        assert any(n.startswith(f"Joined team {team} as a member;") for n in notes(app))
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one("#customers")
        assert "ZQ" in [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        await pilot.press("9")
        await settle(pilot)
        assert not app.screen.check_action("invite", ())  # a member does not invite
        assert "member" in text_of(app.screen.query_one("#sync-details", Static))
    with Ledger.open(desk, GOOD) as ledger, Ledger.open(laptop, PASSPHRASE) as first:
        assert ledger.meta("sync.role") == "member" and ledger.meta("sync.team") == team
        names = "SELECT code, name FROM customers ORDER BY code"
        assert ledger.rows(names) == first.rows(names)
    # the code was one-time: it is spent
    with pytest.raises(client.DulyError):
        client.join(tmp_path / "third.duly", PASSPHRASE, server.url, code, name="third")


async def test_a_new_recovery_secret_from_the_sync_screen(server, laptop):
    app = app_for(laptop)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("9")
        await settle(pilot)
        await pilot.press("k")
        await settle(pilot)
        await pilot.press("enter")  # asked first: "Make it"
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SecretScreen)
        secret = text_of(screen.query_one("#secret-value", Static)).strip()
        await pilot.press(*secret[-4:], "enter")
        await settle(pilot)
        assert isinstance(app.screen, SyncScreen)
    with Ledger.open(laptop, PASSPHRASE) as ledger:
        session = Sync(ledger)
        try:
            session.refresh()
            assert sum(d["name"].startswith("recovery ") for d in session.devices.values()) == 1
        finally:
            session.close()


async def test_the_team_s_devices_and_removing_one(tmp_path, server, laptop):
    with Ledger.open(laptop, PASSPHRASE) as ledger:
        code = client.new_invite(ledger, "member").code
    desk, _ = client.join(tmp_path / "desk.duly", PASSPHRASE, server.url, code, name="desk")
    desk.close()
    app = app_for(laptop)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("9")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DevicesScreen)
        table = screen.query_one("#devices-table")
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert [(r[0], r[1], r[2]) for r in rows] == [("*", "laptop", "admin"), ("", "desk", "member")]
        assert "2 device(s) in the team" in text_of(screen.query_one("#devices-message", Static))
        await pilot.press("x")  # on this device: said, nothing asked of the server
        await settle(pilot)
        assert "laptop is this device" in text_of(screen.query_one("#devices-message", Static))
        await pilot.press("down", "x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert "desk removed from the team; new key epoch 2 for the other devices." in notes(app)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert rows[-1][1] == "desk" and rows[-1][4].endswith("UTC")  # removed, with when
        assert "1 device(s) in the team" in text_of(screen.query_one("#devices-message", Static))
    with Ledger.open(laptop, PASSPHRASE) as ledger:
        assert ledger.meta("sync.epoch") == "2"
    with Ledger.open(tmp_path / "desk.duly", PASSPHRASE) as ledger:
        session = Sync(ledger)
        try:
            with pytest.raises(client.SyncError):
                session.now()
        finally:
            session.close()


async def test_set_up_errors_are_said_in_the_form_in_chinese_and_nothing_is_written(tmp_path):
    book = make_book(tmp_path / "book.duly")
    app = app_for(book, language="zh")
    async with app.run_test(size=SIZE) as pilot:
        await open_set_up(pilot)
        form = app.screen
        await fill(pilot, "server", "ftp://sync.example.com")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "不是服务器网址" in text_of(form.query_one("#error-server", Static))
        await fill(pilot, "server", "http://10.0.0.5:8765")  # plain http to another machine
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "不接受连到其他机器的明文 http://" in text_of(form.query_one("#error-server", Static))
        await fill(pilot, "server", "http://127.0.0.1:9")  # nothing listens there
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        shown = form_errors(form)
        assert "连不上同步服务器 http://127.0.0.1:9" in shown, shown
        assert "什么也没有设置" in shown and "sync now" not in shown, shown  # nothing is queued: nothing was set up
        assert form.query_one("#field-server", Input).value == "http://127.0.0.1:9"  # the form stays filled
    assert team_of(book) == (None, None)


async def test_a_refused_invite_is_said_on_the_join_form_and_leaves_no_ledger(tmp_path, server, laptop):
    team, _ = team_of(laptop)
    forged = f"{team}.0123456789ab.{'A' * 43}"  # well formed; the server knows no such invite
    path = tmp_path / "desk.duly"
    app = DulyApp(path, today=TODAY, language="zh", sync_on_open=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await fill(pilot, "passphrase", GOOD)
        await pilot.press("ctrl+t")  # the second passphrase is missing: said first, nothing asked of a server
        await settle(pilot)
        assert isinstance(app.screen, FirstRunScreen)
        await fill(pilot, "again", GOOD)
        await pilot.press("ctrl+t")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, DialogForm)
        await fill(pilot, "server", server.url)
        await fill(pilot, "invite", "not-a-code")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "无法识别邀请码" in text_of(form.query_one("#error-invite", Static))
        await fill(pilot, "invite", forged)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        shown = form_errors(form)
        assert "同步服务器拒绝" in shown, shown
        assert not path.exists() and not app.unlocked
        await pilot.press("escape")  # leave the form (it asks: something was typed), back on the first run
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, FirstRunScreen)
    assert not path.exists()


# -- pictures --------------------------------------------------------------------------------------------------
SECRET = "0f1e2d3c4b5a6978.recovery.Qm9va2tlZXBpbmcgaXMgYW4gYXJ0LCBub3QgYSBzY2llbmNl"


@pytest.fixture(scope="module")
def plain_book(tmp_path_factory):
    return make_book(tmp_path_factory.mktemp("sync-setup-snap") / "book.duly")


def sync_screen_then(*keys: str, push=None):
    async def before(pilot) -> None:
        await hold_still(pilot)
        await pilot.press("9")
        await hold_still(pilot)
        for key in keys:
            await pilot.press(key)
        if push is not None:
            pilot.app.push_screen(push())
        await hold_still(pilot)
    return before


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_set_up_form_snapshot(snap_compare, plain_book, monkeypatch, language, size):
    monkeypatch.setenv("DULY_DEVICE_NAME", "office-pc")  # the host name would make the picture differ by machine
    app = DulyApp(plain_book, PASSPHRASE, today=TODAY, language=language, sync_on_open=False)
    assert snap_compare(app, terminal_size=size,
                        run_before=sync_screen_then("s", *"http://10.0.0.5:8765", "ctrl+s"))


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_secret_modal_snapshot(snap_compare, plain_book, language, size):
    app = DulyApp(plain_book, PASSPHRASE, today=TODAY, language=language, sync_on_open=False)
    assert snap_compare(app, terminal_size=size, run_before=sync_screen_then(
        push=lambda: SecretScreen(SECRET, "https://sync.example.com")))


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_invite_modal_snapshot(snap_compare, plain_book, language, size):
    made = Invite("0f1e2d3c4b5a6978.a1b2c3d4e5f6.SW52aXRlcyBhcmUgb25lLXRpbWUsIGxpa2UgYSB0aWNrZXQ", "member", 72,
                  "2026-04-03T09:30Z", "https://sync.example.com")
    app = DulyApp(plain_book, PASSPHRASE, today=TODAY, language=language, sync_on_open=False)
    assert snap_compare(app, terminal_size=size, run_before=sync_screen_then(
        push=lambda: InviteScreen(made, "2026-04-03 09:30 UTC")))


@pytest.mark.parametrize("size", SIZES, ids=["120x40", "80x24"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_join_form_snapshot(snap_compare, tmp_path, monkeypatch, language, size):
    monkeypatch.chdir(tmp_path)  # the first run names the path: a relative one keeps the picture the same
    monkeypatch.setenv("DULY_DEVICE_NAME", "desk")
    app = DulyApp("new.duly", today=TODAY, language=language, sync_on_open=False)

    async def before(pilot) -> None:
        await hold_still(pilot)
        await pilot.press(*GOOD, "enter", *GOOD, "ctrl+t")
        await hold_still(pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)
