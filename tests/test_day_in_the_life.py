"""A bookkeeper's day in the installed app, all by keys in a real terminal (tmux, 120x40), then the command line
says the ledger holds exactly that, to the cent.

The day (today is 2026-06-30): first run creates the ledger (series D1); the SMTP settings, with a test message to
a real SMTP server on loopback (aiosmtpd); a customer; invoice D1-000001 of 12,000.00, a payment of 5,000.00
against it, a credit note of 1,000.00 and a write-off of 500.00 (5,500.00 left); D1-000002 of 3,000.00 disputed;
D1-000003 of 4,000.00 with a promise to pay, then paid by the bank line imported from a statement file and
accepted on Reconcile; June's statement of account saved as PDF from the customer's screen; the review queue (the
disputed invoice held out, the paid one gone) sends the one reminder to the server; a backup from the Files screen
(f5), which the command line restores elsewhere. Every wait is on what the screen shows, never a sleep: the machine
may be slow, the script only takes longer."""
from __future__ import annotations

import json
import os
import shlex
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.support.documents import pdftotext
from tests.support.smtp import Inbox, smtp_server
from tests.support.tmux import Tmux, need_tmux
from tui.screens.first_run import FirstRunScreen
from tui.screens.settings import KEYS as SETTINGS_KEYS

TODAY = "2026-06-30"
PASSPHRASE = "copper kettle sings at dawn"
CUSTOMER, NAME, EMAIL = "HX01", "Huaxin Trading Ltd", "ar@huaxin.example.com"
SENDER, TEST_TO = "ar@hengxin.example.com", "boss@hengxin.example.com"
WAIT = 60.0  # seconds any one step may take on a loaded machine before the test gives up

# the bank statement the bookkeeper downloaded: one credit paying D1-000003
STATEMENT = ("交易日期,贷方发生额,借方发生额,对方户名,摘要\n"
             f"{TODAY},\"4,000.00\",,{NAME},D1-000003\n")


def tabs(fields: tuple[str, ...], start: str, to: str) -> list[str]:
    """The Tabs from one field of a form to another, counted on the form's own list of its fields in order. A
    burst of Tabs is safe (each moves on from wherever the one before left the focus), but a picker shows no
    cursor, so the script cannot watch each Tab land."""
    return ["Tab"] * (fields.index(to) - fields.index(start))


def user_env(home: Path, ledger: Path) -> dict[str, str]:
    """A user's environment: their own HOME, their ledger, no checkout on the path; no passphrase (first run)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "COLUMNS", "LINES", "DULY_PASSPHRASE")}
    env.update(HOME=str(home), DULY_LEDGER=str(ledger), DULY_LANG="en", DULY_TODAY=TODAY)
    return env


class Cli:
    """The installed `duly` with the passphrase the first run set."""

    def __init__(self, duly: Path, env: dict[str, str], cwd: Path):
        self.duly, self.env, self.cwd = duly, {**env, "DULY_PASSPHRASE": PASSPHRASE}, cwd

    def __call__(self, *argv: str, ledger: Path | None = None) -> subprocess.CompletedProcess:
        env = self.env if ledger is None else {**self.env, "DULY_LEDGER": str(ledger)}
        done = subprocess.run([str(self.duly), *argv], capture_output=True, text=True, env=env, cwd=self.cwd,
                              timeout=120)
        assert done.returncode == 0, f"duly {' '.join(argv)}: {done.stderr}"
        return done

    def json(self, *argv: str, ledger: Path | None = None):
        return json.loads(self("--format", "json", *argv, ledger=ledger).stdout)

    def reads(self, commands: dict[str, tuple[str, ...]], elsewhere: dict[str, Path]) -> dict:
        """Read-only commands run at once, their JSON by name; `elsewhere` names those run on another ledger."""
        with ThreadPoolExecutor(len(commands)) as pool:
            running = {name: pool.submit(self.json, *argv, ledger=elsewhere.get(name))
                       for name, argv in commands.items()}
            return {name: future.result() for name, future in running.items()}


# -- the day, one job at a time --------------------------------------------------------------------------------


def first_run(tmux: Tmux) -> None:
    tmux.wait_for("Welcome to Duly")
    tmux.type_into("Passphrase", PASSPHRASE, secret=True)
    tmux.keys("Enter")
    tmux.type_into("Passphrase again", PASSPHRASE, secret=True)
    tmux.keys("Enter")
    tmux.type_into("Company name", "Hengxin Bookkeeping")
    tmux.wait_for("Strength: strong enough")
    tmux.keys(*tabs(FirstRunScreen.FIELDS, "company", "series"))  # past the currency and language pickers
    tmux.type_into("Invoice series", "D1")
    tmux.keys("Enter")  # the last field: Enter creates the ledger
    tmux.wait_for_all("As of 2026-06-30", "Nothing is owed yet")


def smtp_settings(tmux: Tmux, port: int) -> None:
    tmux.keys("F2")
    tmux.wait_for("E-mail (SMTP)")
    tmux.wait_in_field("Company name")
    tmux.keys(*tabs(SETTINGS_KEYS, "company.name", "smtp.host"))  # past the company's fields
    tmux.type_into("SMTP host", "127.0.0.1")
    tmux.keys("Enter")
    tmux.type_into("Port", str(port), replace=True)
    tmux.keys("Enter")
    tmux.wait_in_field("User")
    tmux.keys("Enter")
    tmux.wait_in_field("Password")
    tmux.keys("Enter")
    tmux.type_into("Sender address", SENDER)
    tmux.keys("Tab")
    tmux.wait_for("? Help")  # off the text boxes (whose keys type, so ? is no key there), on the STARTTLS box
    tmux.keys("Space", "C-s")  # STARTTLS off (the loopback server speaks plain SMTP), and save
    tmux.wait_for("Saved: smtp.from, smtp.host, smtp.port, smtp.starttls")
    tmux.keys("Tab")
    tmux.type_into("Test message to", TEST_TO)
    tmux.keys("C-t")
    tmux.wait_for(f"Test message handed to the server for {TEST_TO}")
    tmux.keys("Escape")  # nothing left unsaved: back to the dashboard
    tmux.wait_for("Nothing is owed yet")


def add_customer(tmux: Tmux) -> None:
    tmux.keys("2")
    tmux.wait_for("No customers match")
    tmux.keys("n")
    tmux.wait_for("New customer")
    tmux.type_into("Code *", CUSTOMER)
    tmux.keys("Enter")
    tmux.type_into("Name *", NAME)
    for label in ("Legal name", "Tax id (税号)", "Address"):
        tmux.keys("Enter")
        tmux.wait_in_field(label)
    tmux.keys("Enter")
    tmux.type_into("E-mail", EMAIL)
    tmux.keys("C-s")
    tmux.wait_for(f"Customer {CUSTOMER} · {NAME}")  # its archive opens


def new_invoice_from_customer(tmux: Tmux, on: str, amount: str, number: str) -> None:
    tmux.keys("n")
    tmux.wait_for("New invoice")
    tmux.wait_in_field("Amount")  # the customer is filled in
    tmux.keys("BTab")
    tmux.type_into("Invoice date *", on, replace=True)
    tmux.keys("Enter")
    tmux.type_into("Amount", amount)
    tmux.wait_for("by terms")  # the due-date preview
    tmux.keys("C-s")
    tmux.wait_for(f"invoice {number} issued")


def partial_payment(tmux: Tmux) -> None:
    tmux.keys("p")
    tmux.wait_for("Record payment")
    tmux.type_into("Amount *", "5000")
    tmux.wait_for_all("D1-000001  2026-06-15  12,000.00  5,000.00", "applying 5,000.00 CNY, unapplied 0.00 CNY")
    tmux.keys("Enter")
    tmux.wait_in_field("Currency")  # empty: the customer's currency
    tmux.keys("Enter")
    tmux.wait_in_field("Method")
    tmux.keys("Enter")
    tmux.type_into("Reference", "ICBC 0630-77")
    tmux.keys("Enter")  # the last field: Enter saves
    tmux.wait_for("payment of 5,000.00 CNY recorded")


def open_invoice_from_list(tmux: Tmux, number: str) -> None:
    tmux.keys("3")
    tmux.wait_for(f"{number}  ")
    tmux.keys("Enter")  # the only open invoice
    tmux.wait_for(f"Invoice {number}")


def dialog(tmux: Tmux, key: str, title: str, fields: list[tuple[str, str, bool]]) -> None:
    """Open a dialog by its key, fill its fields in order (label, text, replace what is there), save (ctrl+s)."""
    tmux.keys(key)
    tmux.wait_for(title)
    for n, (label, text, replace) in enumerate(fields):
        if n:
            tmux.keys("Enter")
        if text:
            tmux.type_into(label, text, replace=replace)
        else:
            tmux.wait_in_field(label)
    tmux.keys("C-s")
    tmux.wait_for(title, gone=True)


def credit_note_and_write_off(tmux: Tmux) -> None:
    dialog(tmux, "c", "Credit note for invoice D1-000001",
           [("Amount (CNY) *", "1000", True), ("Date *", "", False), ("Reason *", "returned goods", False)])
    tmux.wait_for_all("credit note CN-D1-000001", "Open         6,000.00")
    dialog(tmux, "w", "Write off invoice D1-000001",
           [("Amount (CNY) *", "500", True), ("Date *", "", False), ("Reason *", "small balance, agreed", False)])
    tmux.wait_for_all("write-off WO-D1-000001", "Open         5,500.00")


def new_invoice_from_list(tmux: Tmux, on: str, amount: str, number: str) -> None:
    tmux.keys("Escape")  # back to the invoice list
    tmux.wait_for("n New invoice")
    tmux.keys("n")
    tmux.wait_for("New invoice")
    tmux.type_into("Customer code *", CUSTOMER)
    tmux.keys("Enter")
    tmux.type_into("Invoice date *", on, replace=True)
    tmux.keys("Enter")
    tmux.type_into("Amount", amount)
    tmux.wait_for("by terms")
    tmux.keys("C-s")
    tmux.wait_for(f"Invoice {number}")  # the new invoice opens


def dispute(tmux: Tmux) -> None:
    new_invoice_from_list(tmux, "2026-05-10", "3000", "D1-000002")
    dialog(tmux, "d", "Open a dispute on invoice D1-000002", [("Reason *", "price not as agreed", False)])
    tmux.wait_for_all("dispute: price not as agreed (review —)", "all of it", "open: held out of dunning")


def promise(tmux: Tmux) -> None:
    new_invoice_from_list(tmux, "2026-05-20", "4000", "D1-000003")
    dialog(tmux, "m", "Promise to pay invoice D1-000003", [("Pay by *", "2026-07-05", False)])
    tmux.wait_for_all("promise to pay by 2026-07-05", "4,000.00  pending")


def bank_import_and_reconcile(tmux: Tmux) -> None:
    tmux.keys("Escape")
    tmux.wait_for("n New invoice")
    tmux.keys("8")
    tmux.wait_for("0 bank line(s) waiting")
    tmux.keys("b")
    tmux.wait_for_all("Import a bank statement", "june.csv")
    tmux.keys("Down", "Enter")  # the one file under the working directory: its preview
    tmux.wait_for("Preview: 1 new bank lines (1 in, 0 out)")
    tmux.keys("C-s")
    tmux.wait_for_all("1 bank line(s) waiting", "D1-000003  HX01")
    tmux.keys("a")
    tmux.wait_for("as HX01's payment?")
    tmux.wait_focused("Accept")
    tmux.keys("Enter")
    tmux.wait_for_all("0 bank line(s) waiting", "accepted")


def statement_saved(tmux: Tmux, folder: Path) -> Path:
    """June's statement of account saved as PDF from the customer's Statement tab, where the app offers to save it
    (the working directory); returns the file."""
    tmux.keys("2")  # the customers' screens as they were left: HX01's archive
    tmux.wait_for(f"Customer {CUSTOMER} · {NAME}")
    tmux.keys("2")  # again: back to the list
    tmux.wait_for("1 shown")
    tmux.keys("Enter")
    tmux.wait_for_all(f"Customer {CUSTOMER} · {NAME}", "Details  Open items")  # loaded: the tab bar has the focus
    tmux.keys("Right", "Right", "Right", "Right", "Right")  # the Statement tab has no key of its own
    tmux.wait_for_all("This month", "Statement of account · Activity from 2026-06-01 to 2026-06-30",
                      "Closing balance: 8,500.00 CNY")
    tmux.keys("w")
    tmux.wait_for_all("Save the statement as PDF to", "HX01-statement-2026-06-01_2026-06-30.pdf")
    tmux.keys("Enter")  # the path offered
    saved = folder / "HX01-statement-2026-06-01_2026-06-30.pdf"
    return tmux.wait_until(lambda: saved.exists() and saved, f"{saved} written")

def reminders(tmux: Tmux, inbox: Inbox) -> None:
    tmux.keys("7")
    tmux.wait_for("Collections as of 2026-06-30")
    screen = tmux.wait_for("Review queue: reminders due (Enter shows the message) (1)")
    # the disputed D1-000002 is held out of dunning, D1-000003 is paid: the one reminder is D1-000001's
    assert "D1-000001" in screen and "D1-000002" not in screen.split("Follow-ups due")[0]
    tmux.keys("Tab")  # into the queue
    tmux.wait_for("space Send")
    tmux.keys("Enter")  # look at the message first
    tmux.wait_for_all(f"To: {EMAIL}", "Grand total: 5,500.00 CNY")
    tmux.keys("Space")  # send it
    tmux.wait_for("1 to send, 0 skipped, 0 held, 0 to decide")
    tmux.keys("C-s")
    tmux.wait_for("Send this batch?")
    tmux.wait_focused("Not now")  # a decisive step is never one stray Enter away
    tmux.keys("BTab")
    tmux.wait_focused("Send")
    tmux.keys("Enter")
    tmux.wait_for_all("Sent in this batch (1)", "D1-000001  sent")
    assert [m["To"].addresses[0].addr_spec for m in inbox.messages] == [TEST_TO, EMAIL]


def backup(tmux: Tmux, folder: Path) -> Path:
    """An encrypted backup from the Files screen (f5), to the file the app offers in the working directory; returns
    the file."""
    tmux.keys("F5")
    tmux.wait_for("Files and safety: import, export, backup, restore, passphrase")
    tmux.keys("b")
    tmux.wait_for("Encrypted backup of the ledger")
    offered = folder / f"hengxin-{TODAY}.backup.duly"
    tmux.wait_for(offered.name)
    tmux.wait_in_field("Backup file *")
    tmux.keys("Enter")  # the one field: Enter saves
    tmux.wait_for("Encrypted backup written to")
    return tmux.wait_until(lambda: offered.exists() and offered, f"{offered} written")


# -- the test --------------------------------------------------------------------------------------------------


def test_a_day_in_the_life_by_keys_then_the_cli_confirms_the_ledger(installed, tmp_path):
    need_tmux()
    home, books, statements = tmp_path / "home", tmp_path / "books", tmp_path / "statements"
    for folder in (home, books, statements):
        folder.mkdir()
    (statements / "june.csv").write_text(STATEMENT, encoding="utf-8")
    ledger = books / "hengxin.duly"
    env = user_env(home, ledger)
    cli = Cli(installed, env, home)
    inbox = Inbox()
    exit_code = tmp_path / "exit-code"
    shown = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items() if k.startswith(("DULY_", "HOME")))
    tmux = Tmux(f"duly-day-{os.getpid()}", timeout=WAIT)
    with smtp_server(inbox) as port:
        try:
            # the working directory is where the bank statement was saved: the file picker starts there
            tmux.start(f"cd {statements} && env {shown} {installed}; echo $? > {exit_code}")
            first_run(tmux)
            smtp_settings(tmux, port)
            add_customer(tmux)
            new_invoice_from_customer(tmux, "2026-05-16", "12000", "D1-000001")
            partial_payment(tmux)
            open_invoice_from_list(tmux, "D1-000001")
            credit_note_and_write_off(tmux)
            dispute(tmux)
            promise(tmux)
            bank_import_and_reconcile(tmux)
            statement = statement_saved(tmux, statements)
            reminders(tmux, inbox)
            backup_file = backup(tmux, statements)
            tmux.keys("C-q")
            assert tmux.wait_until_gone(), "duly did not quit on ctrl+q"
            assert exit_code.read_text().strip() == "0"
        finally:
            tmux.kill()

    # -- what the ledger holds, by the command line (read at once: each command waits mostly on a busy CPU) ------
    restored = tmp_path / "restored" / "hengxin.duly"  # the backup restored in another place
    restored.parent.mkdir()
    cli("restore", str(backup_file), "--yes", ledger=restored)
    assert "is sound" in cli("check", ledger=restored).stdout  # the backup restores to a sound ledger
    got = cli.reads({
        "customer": ("customer", "show", CUSTOMER),
        "D1-000001": ("invoice", "show", "D1-000001"), "D1-000002": ("invoice", "show", "D1-000002"),
        "D1-000003": ("invoice", "show", "D1-000003"),
        "payments": ("payment", "list"), "disputes": ("dispute", "list"),
        "promises": ("promise", "list", "--as-of", TODAY), "bank": ("reconcile", "list", "--status", "all"),
        "reminders": ("remind", "log", CUSTOMER), "aging": ("report", "aging", "--as-of", TODAY),
        "restored": ("report", "aging", "--as-of", TODAY),
    }, elsewhere={"restored": restored})

    customer = got["customer"]
    assert (customer["name"], customer["email"], customer["currency"]) == (NAME, EMAIL, "CNY")

    first = got["D1-000001"]
    assert (first["date"], first["due_date"], first["total"], first["open"]) == (
        "2026-05-16", "2026-06-15", "12000.00", "5500.00")
    assert [(a["source"], a["payment"] or a["credit_note"], a["amount"]) for a in first["allocations"]] == [
        ("payment", "RC-D1-000001", "5000.00"), ("credit", "CN-D1-000001", "1000.00")]
    assert [(c["number"], c["amount"], c["reason"]) for c in first["credit_notes"]] == [
        ("CN-D1-000001", "1000.00", "returned goods")]
    assert [(w["number"], w["amount"], w["reason"]) for w in first["writeoffs"]] == [
        ("WO-D1-000001", "500.00", "small balance, agreed")]

    second = got["D1-000002"]
    assert (second["total"], second["open"], second["allocations"]) == ("3000.00", "3000.00", [])
    assert [(d["number"], d["status"], d["amount"], d["reason"], d["opened"]) for d in got["disputes"]] == [
        ("D1-000002", "open", "all", "price not as agreed", TODAY)]

    third = got["D1-000003"]
    assert (third["total"], third["open"], third["status"]) == ("4000.00", "0.00", "paid")
    assert [(a["payment"], a["amount"]) for a in third["allocations"]] == [("RC-D1-000002", "4000.00")]
    assert [(p["number"], p["made_on"], p["date"], p["amount"], p["status"]) for p in got["promises"]] == [
        ("D1-000003", TODAY, "2026-07-05", "4000.00", "kept")]

    assert sorted((p["number"], p["date"], p["amount"], p["reference"], p["unapplied"]) for p in got["payments"]) == [
        ("RC-D1-000001", TODAY, "5000.00", "ICBC 0630-77", "0.00"), ("RC-D1-000002", TODAY, "4000.00", None, "0.00")]
    assert [(b["status"], b["amount"], b["memo"], b["customer"]) for b in got["bank"]] == [
        ("accepted", "4000.00", "D1-000003", CUSTOMER)]

    assert [(r["number"], r["level"], r["channel"], r["outcome"]) for r in got["reminders"]] == [
        ("D1-000001", "first", "email", "sent")]
    test_message, reminder = inbox.messages
    assert (test_message["To"].addresses[0].addr_spec, reminder["To"].addresses[0].addr_spec) == (TEST_TO, EMAIL)
    body = reminder.get_body(("plain",)).get_content()
    assert "D1-000001" in body and "5,500.00" in body and "D1-000002" not in body

    assert got["aging"]["totals"]["CNY"]["total"] == "8500.00"  # 5,500.00 + 3,000.00 open
    assert got["restored"] == got["aging"]  # the backup holds the same book

    statement = pdftotext(statement)  # in the book's language: the customer has none
    assert "Statement of account" in statement and NAME in statement
    for seen in ("19,000.00", "CN-D1-000001", "ICBC 0630-77", "Write-off", "10,500.00", "8,500.00"):  # June's lines
        assert seen in statement, seen
