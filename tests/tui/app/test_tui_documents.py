"""Documents from the app: the customer's statement over a period picked on its tab, saved as PDF / HTML (read
back with poppler's pdftotext), e-mailed to a real SMTP server on loopback with the PDF attached and recorded as
sent; the confirmation and dunning letters; the company profile in Settings, validated as `duly settings set`
does; the document templates edited in the app, a broken one refused naming its line."""
from __future__ import annotations

import stat
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Select, Static, TabbedContent, TextArea

from store.ledger.ledger import Ledger
from store.write import confirmations, settings, templates
from tests.support.app import SIZE, app_for, settle, text_of
from tests.support.book import PASSPHRASE
from tests.support.documents import pdftotext
from tests.support.smtp import Inbox, smtp_server
from tui.screens.ask import AskAfterPreview
from tui.screens.confirm import ConfirmScreen
from tui.screens.customer import CustomerScreen
from tui.screens.pick import PickScreen
from tui.screens.prompt import PromptScreen
from tui.screens.settings import SettingsScreen
from tui.screens.templates import TemplateEditorScreen, TemplatesScreen

pytestmark = pytest.mark.anyio

# BJ001 in the fixed book (today 2026-03-31): T1-000003 88,000.00 on 2026-03-26, T1-000004 23,400.00 on
# 2026-02-09, T1-000005 10,000.00 on 2025-09-12 (4,000.00 of it paid by PAY-1 on 2026-03-01)
BJ001 = "北京华信科技有限公司"
BJ001_BALANCE = "117,400.00"


def put_settings(book, **values) -> None:
    with Ledger.open(book, PASSPHRASE) as ledger:
        settings.put_many(ledger, {key.replace("_", ".", 1): value for key, value in values.items()})


async def statement_tab(pilot, code: str = "BJ001") -> CustomerScreen:
    await settle(pilot)
    pilot.app.push_screen(CustomerScreen(code))
    await settle(pilot)
    screen = pilot.app.screen
    screen.query_one("#archive-tabs", TabbedContent).active = "tab-statement"
    await settle(pilot)
    return screen


def lines(screen) -> list[dict]:
    table = screen.query_one("#statement-lines", DataTable)
    keys = [str(c.key.value) for c in table.ordered_columns]
    return [dict(zip(keys, map(str, table.get_row_at(i)))) for i in range(table.row_count)]


def documents_of(rows: list[dict]) -> list[str]:
    return [r["doc"] for r in rows if r["doc"]]


async def answer_prompt(pilot, path: Path) -> None:
    prompt = pilot.app.screen
    assert isinstance(prompt, PromptScreen)
    prompt.query_one("#prompt-input", Input).value = str(path)
    await pilot.press("enter")
    await settle(pilot)


async def test_picking_a_period_shows_only_that_periods_lines(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        screen = await statement_tab(pilot)
        # this month, the quick choice it opens on: the invoice of 26 March and the payment of 1 March
        assert screen.query_one("#period-from", Input).value == "2026-03-01"
        assert screen.query_one("#period-to", Input).value == "2026-03-31"
        rows = lines(screen)
        assert documents_of(rows) == ["PAY-1", "T1-000003"]
        assert rows[-1]["balance"] == BJ001_BALANCE
        head = text_of(screen.query_one("#statement-head", Static))
        assert "2026-03-01" in head and "caiwu@huaxin.example.cn" in head
        # last month, by keys: t goes to the picker, its list opens, one down
        await pilot.press("t")
        assert app.focused is screen.query_one("#period-quick", Select)
        await pilot.press("enter", "down", "enter")
        await settle(pilot)
        assert screen.query_one("#period-quick", Select).value == "last_month"
        assert (screen.query_one("#period-from", Input).value, screen.query_one("#period-to", Input).value) == (
            "2026-02-01", "2026-02-28")
        assert documents_of(lines(screen)) == ["T1-000004"]
        # dates typed: September 2025 holds only the oldest invoice; the picker then says "custom"
        start, end = screen.query_one("#period-from", Input), screen.query_one("#period-to", Input)
        start.focus()
        start.value = ""
        await pilot.press(*"2025-09-01", "enter")
        end.value = ""
        await pilot.press(*"2025-09-30", "enter")
        await settle(pilot)
        assert documents_of(lines(screen)) == ["T1-000005"]
        assert screen.query_one("#period-quick", Select).is_blank()
        # a date that does not exist is refused, and the preview stays as it was
        start.focus()
        start.value = "2025-02-30"
        await pilot.press("enter")
        await settle(pilot)
        assert documents_of(lines(screen)) == ["T1-000005"]


async def test_the_statement_keys_belong_to_the_statement_tab(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(CustomerScreen("BJ001"))
        await settle(pilot)
        await pilot.press("w")  # on the details tab: no save prompt
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)


async def test_save_the_statement_as_pdf_and_html_records_nothing_as_sent(book, tmp_path):
    put_settings(book, company_name="恒信会计")
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await statement_tab(pilot)
        await pilot.press("w")
        await settle(pilot)
        assert app.screen.query_one("#prompt-input", Input).value.endswith(
            "BJ001-statement-2026-03-01_2026-03-31.pdf")
        await answer_prompt(pilot, tmp_path / "out" / "bj001.pdf")
        await pilot.press("h")
        await settle(pilot)
        await answer_prompt(pilot, tmp_path / "bj001.html")
    pdf = tmp_path / "out" / "bj001.pdf"
    assert stat.S_IMODE(pdf.stat().st_mode) == 0o600
    text = pdftotext(pdf)
    assert BJ001 in text and "恒信会计" in text and BJ001_BALANCE in text
    assert "T1-000003" in text and "T1-000004" not in text  # only the period's lines
    html = (tmp_path / "bj001.html").read_text(encoding="utf-8")
    assert stat.S_IMODE((tmp_path / "bj001.html").stat().st_mode) == 0o600
    assert BJ001 in html and BJ001_BALANCE in html and 'lang="zh-CN"' in html  # the customer's language
    with Ledger.open(book, PASSPHRASE) as ledger:
        assert confirmations.status(ledger) == []  # a preview is not sending


async def test_mark_sent_asks_first_then_records_the_statement(book, tmp_path):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await statement_tab(pilot)
        await pilot.press("k")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        await settle(pilot)
        with Ledger.open(book, PASSPHRASE) as ledger:
            assert confirmations.status(ledger) == []
        await pilot.press("k")
        await settle(pilot)
        await pilot.press("enter")  # the go button has the focus
        await settle(pilot)
    with Ledger.open(book, PASSPHRASE) as ledger:
        [row] = confirmations.status(ledger)
        assert (row["customer"], row["as_of"], row["status"], row["channel"]) == ("BJ001", "2026-03-31", "sent",
                                                                                  "print")


async def test_send_the_statement_by_e_mail_shows_the_message_then_records_it_sent(book, tmp_path):
    inbox = Inbox()
    with smtp_server(inbox) as port:
        put_settings(book, company_name="恒信会计", smtp_host="127.0.0.1", smtp_port=str(port),
                     smtp_from="ar@hengxin.example.cn", smtp_starttls="false")
        app = app_for(book)
        async with app.run_test(size=SIZE) as pilot:
            screen = await statement_tab(pilot)
            await pilot.press("m")
            await settle(pilot)
            ask = app.screen
            assert isinstance(ask, AskAfterPreview)
            preview = text_of(ask.query_one("#ask-head", Static)) + text_of(ask.query_one("#ask-text", Static))
            assert "caiwu@huaxin.example.cn" in preview and "2026-03-01 至 2026-03-31" in preview
            assert "BJ001-statement-2026-03-31.pdf" in preview
            assert inbox.messages == []  # nothing goes before the answer
            await pilot.click("#ask-yes")
            await settle(pilot)
            assert app.screen is screen
        [msg] = inbox.messages
    assert msg["To"].addresses[0].addr_spec == "caiwu@huaxin.example.cn"
    assert msg["Subject"] == f"【恒信会计】对账单（2026-03-01 至 2026-03-31）— {BJ001}"
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    pdf = tmp_path / "attached.pdf"
    pdf.write_bytes(attachment.get_content())
    text = pdftotext(pdf)
    assert BJ001 in text and BJ001_BALANCE in text
    with Ledger.open(book, PASSPHRASE) as ledger:
        [row] = confirmations.status(ledger)
        assert (row["customer"], row["as_of"], row["status"], row["channel"], row["address"]) == (
            "BJ001", "2026-03-31", "sent", "email", "caiwu@huaxin.example.cn")


async def test_a_send_the_server_never_took_is_shown_and_not_recorded_as_sent(book):
    from tests.support.smtp import free_port

    put_settings(book, smtp_host="127.0.0.1", smtp_port=str(free_port()), smtp_from="ar@hengxin.example.cn",
                 smtp_starttls="false")  # nothing listens there
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await statement_tab(pilot)
        await pilot.press("m")
        await settle(pilot)
        await pilot.click("#ask-yes")
        await settle(pilot)
        errors = [str(n.message) for n in app._notifications if n.severity == "error"]
        assert any("cannot connect to SMTP server 127.0.0.1" in e for e in errors), errors
    with Ledger.open(book, PASSPHRASE) as ledger:
        [row] = confirmations.status(ledger)
        assert row["status"] == "failed" and row["sent_on"] is None


async def test_the_confirmation_letter_is_saved_or_e_mailed(book, tmp_path):
    inbox = Inbox()
    with smtp_server(inbox) as port:
        put_settings(book, company_name="恒信会计", smtp_host="127.0.0.1", smtp_port=str(port),
                     smtp_from="ar@hengxin.example.cn", smtp_starttls="false")
        app = app_for(book)
        async with app.run_test(size=SIZE) as pilot:
            await statement_tab(pilot)
            await pilot.press("o")
            await settle(pilot)
            assert isinstance(app.screen, PickScreen)
            await pilot.click("#pick-pdf")
            await settle(pilot)
            await answer_prompt(pilot, tmp_path / "confirmation.pdf")
            with Ledger.open(book, PASSPHRASE) as ledger:
                assert confirmations.status(ledger) == []
            await pilot.press("o")
            await settle(pilot)
            await pilot.click("#pick-send")
            await settle(pilot)
            assert "往来款项询证函" in text_of(app.screen.query_one("#ask-head", Static))
            await pilot.click("#ask-yes")
            await settle(pilot)
        [msg] = inbox.messages
    text = pdftotext(tmp_path / "confirmation.pdf")
    assert BJ001 in text and BJ001_BALANCE in text
    assert msg["Subject"].startswith("【恒信会计】往来款项询证函（截至 2026-03-31）")
    assert [a.get_filename() for a in msg.iter_attachments()] == ["BJ001-confirmation-2026-03-31.pdf"]
    with Ledger.open(book, PASSPHRASE) as ledger:
        [row] = confirmations.status(ledger)
        assert (row["status"], row["channel"]) == ("sent", "email")


async def test_the_dunning_letter_is_saved_and_the_reminder_sent_with_it(book, tmp_path):
    inbox = Inbox()
    with smtp_server(inbox) as port:
        put_settings(book, company_name="恒信会计", smtp_host="127.0.0.1", smtp_port=str(port),
                     smtp_from="ar@hengxin.example.cn", smtp_starttls="false")
        app = app_for(book)
        async with app.run_test(size=SIZE) as pilot:
            await statement_tab(pilot)
            await pilot.press("d")
            await settle(pilot)
            await pilot.click("#pick-pdf")
            await settle(pilot)
            await answer_prompt(pilot, tmp_path / "dunning.pdf")
            await pilot.press("d")
            await settle(pilot)
            await pilot.click("#pick-send")
            await settle(pilot)
            head = text_of(app.screen.query_one("#ask-head", Static))
            assert "caiwu@huaxin.example.cn" in head and "T1-000004" in head and "T1-000005" in head
            await pilot.click("#ask-yes")
            await settle(pilot)
        [msg] = inbox.messages
    text = pdftotext(tmp_path / "dunning.pdf")
    assert "催款函" in text and BJ001 in text and "T1-000005" in text
    assert msg["To"].addresses[0].addr_spec == "caiwu@huaxin.example.cn"
    # BJ001's e-mail level holds T1-000004 (20 days late); T1-000005 (170 days) is at the legal level: a task
    assert "T1-000004" in msg.get_body(("html",)).get_content()  # the dunning template in force
    assert [a.get_content_type() for a in msg.iter_attachments()] == ["application/pdf"]
    with Ledger.open(book, PASSPHRASE) as ledger:
        sent = ledger.rows("SELECT i.number, r.channel, r.outcome FROM reminders r "
                           "JOIN invoices i ON i.id = r.invoice_id")
        assert {(r["number"], r["channel"], r["outcome"]) for r in sent} == {("T1-000004", "email", "sent"),
                                                                          ("T1-000005", "legal", "task")}


async def test_a_customer_without_e_mail_is_told_and_nothing_is_asked(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await statement_tab(pilot, "GZ003")
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        assert any("GZ003" in str(n.message) for n in app._notifications)


# -- Settings: the company profile, the templates ------------------------------------------------------------------


async def test_company_fields_are_validated_as_the_cli_does(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SettingsScreen)
        fields = {"company_legal_name": "上海恒信会计服务有限公司", "company_tax_id": "1234",
                  "company_email": "not-an-address", "company_bank_account": "6225 8801 2345 6789",
                  "company_address": "上海市黄浦区中山东一路 1 号"}
        for name, value in fields.items():
            screen.query_one(f"#field-{name}", Input).value = value
        screen.query_one("#field-dunning_post_charges").value = True
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert text_of(screen.query_one("#error-company_tax_id")).strip()
        assert text_of(screen.query_one("#error-company_email")).strip()
        assert text_of(screen.query_one("#error-company_legal_name")).strip() == ""
        with Ledger.open(book, PASSPHRASE) as ledger:
            assert settings.get(ledger, "company.legal_name") is None  # nothing written while one is wrong
        screen.query_one("#field-company_tax_id", Input).value = "91310000MA1FL8KQ3E"
        screen.query_one("#field-company_email", Input).value = "ar@hengxin.example.cn"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert text_of(screen.query_one("#form-error")).strip() == ""
    with Ledger.open(book, PASSPHRASE) as ledger:
        assert settings.get(ledger, "company.tax_id") == "91310000MA1FL8KQ3E"
        assert settings.get(ledger, "company.legal_name") == "上海恒信会计服务有限公司"
        assert settings.get(ledger, "company.email") == "ar@hengxin.example.cn"
        assert settings.get(ledger, "dunning.post_charges") == "true"


async def open_template(pilot, name: str) -> TemplateEditorScreen:
    await settle(pilot)
    await pilot.press("f2")
    await settle(pilot)
    await pilot.press("ctrl+o")
    await settle(pilot)
    listing = pilot.app.screen
    assert isinstance(listing, TemplatesScreen)
    table = listing.query_one("#templates", DataTable)
    assert table.row_count == 8
    table.move_cursor(row=table.get_row_index(name))
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(pilot.app.screen, TemplateEditorScreen)
    return pilot.app.screen


async def test_a_template_is_edited_saved_refused_when_broken_and_reset(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_template(pilot, "statement.en")
        area = editor.query_one("#template-text", TextArea)
        assert "Statement of account" in area.text  # the built-in
        broken = "<html><body>\n<h1>Statement</h1>\n<p>{{ customer.name }</p>\n</body></html>\n"
        area.load_text(broken)
        await pilot.press("ctrl+s")
        await settle(pilot)
        error = text_of(editor.query_one("#form-error", Static))
        assert "statement.en" in error and "line 3" in error
        assert area.cursor_location == (2, 0)  # the cursor on the line named
        with Ledger.open(book, PASSPHRASE) as ledger:
            assert templates.stored(ledger, "statement.en") is None  # nothing kept
        good = ("<html><body>\n<h1>Our statement for {{ customer.name }}</h1>\n"
                "{% for s in sections %}<p>{{ s.currency }} {{ s.closing_balance }}</p>{% endfor %}\n</body></html>\n")
        area.load_text(good)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert text_of(editor.query_one("#form-error", Static)).strip() == ""
        with Ledger.open(book, PASSPHRASE) as ledger:
            assert templates.stored(ledger, "statement.en") == good
        await pilot.press("escape")  # saved: leaves without asking
        await settle(pilot)
        listing = app.screen
        assert isinstance(listing, TemplatesScreen)
        table = listing.query_one("#templates", DataTable)
        assert str(table.get_row("statement.en")[3]) == "your version"
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert "Statement of account" in app.screen.query_one("#template-text", TextArea).text
    with Ledger.open(book, PASSPHRASE) as ledger:
        assert templates.stored(ledger, "statement.en") is None


async def test_leaving_the_editor_with_changes_asks_first(book):
    app = app_for(book)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_template(pilot, "dunning.zh")
        editor.query_one("#template-text", TextArea).insert("<!-- 草稿 -->")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")  # stay
        await settle(pilot)
        assert app.screen is editor
    with Ledger.open(book, PASSPHRASE) as ledger:
        assert templates.stored(ledger, "dunning.zh") is None
