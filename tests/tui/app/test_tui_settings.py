"""The Settings screen through Pilot: every wrong field marked at once and nothing written; the changed settings
written together; the language switching the running app at once; a test message through a real SMTP server on
loopback (aiosmtpd)."""
from __future__ import annotations

import pytest

from store.ledger.ledger import Ledger
from store.write import settings
from tests.support.app import SIZE, app_for, settle, text_of
from tests.support.book import PASSPHRASE, make_book
from tests.support.smtp import Inbox, smtp_server
from tui.screens.ask import AskScreen
from tui.screens.customers import CustomersScreen
from tui.screens.dashboard import DashboardScreen
from tui.screens.settings import SettingsScreen

pytestmark = pytest.mark.anyio


async def replace_text(pilot, field: str, text: str) -> None:
    widget = pilot.app.screen.query_one(f"#field-{field}")
    widget.focus()
    widget.value = ""
    await pilot.press(*text) if text else None


def error_of(app, field: str) -> str:
    return text_of(app.screen.query_one(f"#error-{field}")).strip()


async def test_wrong_settings_are_all_marked_and_nothing_is_written(tmp_path):
    path = make_book(tmp_path / "book.duly")
    app = app_for(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, SettingsScreen)
        await replace_text(pilot, "company_name", "恒信会计")
        await replace_text(pilot, "smtp_port", "99999")
        await replace_text(pilot, "aging_buckets", "30,20")
        await replace_text(pilot, "alerts_concentration_pct", "150")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "between 1 and 65535" in error_of(app, "smtp_port")
        assert error_of(app, "aging_buckets")
        assert "between 1 and 100" in error_of(app, "alerts_concentration_pct")
        assert "nothing was saved" in text_of(app.screen.query_one("#form-error"))
        assert app.focused.id == "field-smtp_port"  # the first wrong field
        with Ledger.open(path, PASSPHRASE) as ledger:
            assert settings.get(ledger, "company.name") is None
        # fix them: each error goes as its field changes, then everything is written together
        await replace_text(pilot, "smtp_port", "2525")
        assert error_of(app, "smtp_port") == ""
        await replace_text(pilot, "aging_buckets", "30,60,90")
        await replace_text(pilot, "alerts_concentration_pct", "40")
        await pilot.press("enter")  # Enter on the last field saves
        await settle(pilot)
        assert text_of(app.screen.query_one("#form-error")).strip() == ""
    with Ledger.open(path, PASSPHRASE) as ledger:
        assert settings.get(ledger, "company.name") == "恒信会计"
        assert settings.get(ledger, "smtp.port") == "2525"
        assert settings.get(ledger, "aging.buckets") == "30,60,90"
        assert settings.get(ledger, "alerts.concentration_pct") == "40"
        assert settings.get(ledger, "smtp.host") is None  # untouched fields are not written


async def test_language_switches_the_running_app(tmp_path):
    path = make_book(tmp_path / "book.duly")
    app = app_for(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        app.screen.query_one("#field-language").value = "zh"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.language == "zh"
        assert text_of(app.screen.query_one("#form-title")).startswith("设置")
        assert app.screen.query_one("#settings-save").label.plain == "保存（ctrl+s）"
        await app.run_action("goto('customers')")  # a screen shown before the switch is made again in Chinese
        await settle(pilot)
        assert app.screen.query_one("#search").placeholder == "搜索编码、名称、税号或拼音 ( / )"
    with Ledger.open(path, PASSPHRASE) as ledger:
        assert settings.get(ledger, "language") == "zh"


async def test_send_a_test_message_with_the_values_typed(tmp_path):
    path = make_book(tmp_path / "book.duly")
    inbox = Inbox()
    with smtp_server(inbox) as port:
        app = app_for(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("f2")
            await settle(pilot)
            await replace_text(pilot, "smtp_host", "127.0.0.1")
            await replace_text(pilot, "smtp_port", str(port))
            await replace_text(pilot, "smtp_from", "ar@duly.example.com")
            app.screen.query_one("#field-smtp_starttls").value = False
            await replace_text(pilot, "test_to", "me@example.com")
            await pilot.press("ctrl+t")
            await settle(pilot)
            assert "handed to the server for me@example.com" in text_of(app.screen.query_one("#settings-test-result"))
            assert inbox.to() == ["me@example.com"]
            assert inbox.messages[0]["Subject"] == "Duly: test message"
            await replace_text(pilot, "smtp_port", "9")  # nobody listens there
            await pilot.press("ctrl+t")
            await settle(pilot)
            assert "not sent: cannot connect" in text_of(app.screen.query_one("#settings-test-result"))


async def test_escape_with_nothing_changed_leaves_settings_and_digits_go_to_screens_again(tmp_path):
    """Every field of Settings is a box whose keys type, digits too: Escape is the way out. With changes it asks
    and puts back the values in force (and stays); with none it leaves for the dashboard."""
    path = make_book(tmp_path / "book.duly")
    app = app_for(path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        assert app.focused.id == "field-company_name"
        await pilot.press("2")  # a digit in a field types
        await settle(pilot)
        assert isinstance(app.screen, SettingsScreen)
        assert app.screen.query_one("#field-company_name").value.endswith("2")
        await pilot.press("escape")  # typed content: asked first
        await settle(pilot)
        assert isinstance(app.screen, AskScreen)
        await pilot.click("#ask-yes")
        await settle(pilot)
        assert isinstance(app.screen, SettingsScreen)
        assert not app.screen.query_one("#field-company_name").value.endswith("2")  # the value in force is back
        await pilot.press("escape")  # nothing changed now: out to the dashboard
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("2")
        await settle(pilot)
        assert isinstance(app.screen, CustomersScreen)
    with Ledger.open(path, PASSPHRASE) as ledger:
        assert settings.get(ledger, "company.name") is None


async def test_wrong_settings_are_marked_in_the_readers_language(tmp_path):
    path = make_book(tmp_path / "book.duly")
    app = app_for(path, language="zh")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        await replace_text(pilot, "smtp_port", "99999")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "不是 1 到 65535 之间的数字" in error_of(app, "smtp_port")
        assert "between" not in error_of(app, "smtp_port")
