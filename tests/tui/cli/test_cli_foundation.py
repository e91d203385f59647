"""The `duly` command-line contract of the foundation (DESIGN §5, §6): passphrases, init, customers,
field history, the audit trail, global options, exit codes and one-line errors."""
from __future__ import annotations

import csv
import io
import json
import shutil

import pytest
import sqlcipher3

from store.ledger.ledger import Ledger
from tests.support.cli import PASSPHRASE, assert_one_line_error, change_count, run_duly, sha256

VALID_USCC = "91350100M000100Y43"


@pytest.fixture
def book(cli):
    """An initialised ledger behind the `cli` fixture."""
    assert cli("init").code == 0
    return cli


# -- passphrases -----------------------------------------------------------------------------------

def test_wrong_passphrase_is_one_line_exit_1_and_leaves_the_file_unchanged(tmp_path):
    path = tmp_path / "l.duly"
    Ledger.create(path, PASSPHRASE).close()
    before = sha256(path)
    result = run_duly("--ledger", path, "customer", "list", env={"DULY_PASSPHRASE": "not the passphrase"})
    assert_one_line_error(result, 1, "wrong passphrase")
    assert sha256(path) == before
    assert not (tmp_path / "l.duly-wal").exists()


def test_passphrase_file_and_env_both_open_the_ledger(book, tmp_path, monkeypatch):
    secret = tmp_path / "secret.txt"
    secret.write_text(PASSPHRASE + "\n", encoding="utf-8")
    monkeypatch.setenv("DULY_PASSPHRASE", "wrong")
    # the file wins over a wrong environment variable, before or after the subcommand
    assert book("--passphrase-file", secret, "customer", "list").code == 0
    assert book("customer", "list", "--passphrase-file", secret).code == 0
    assert book("customer", "list").code == 1
    monkeypatch.setenv("DULY_PASSPHRASE", PASSPHRASE)
    assert book("customer", "list").code == 0


@pytest.mark.parametrize("content", [None, "", "\n"], ids=["missing", "empty", "newline-only"])
def test_unusable_passphrase_file_gives_one_clear_line(cli, tmp_path, content):
    secret = tmp_path / "secret.txt"
    if content is not None:
        secret.write_text(content, encoding="utf-8")
    result = cli("customer", "list", "--passphrase-file", secret)
    assert_one_line_error(result, 1, "passphrase file")


def test_no_passphrase_and_no_terminal_gives_one_clear_line(tmp_path):
    path = tmp_path / "l.duly"
    Ledger.create(path, PASSPHRASE).close()
    result = run_duly("--ledger", path, "customer", "list")  # stdin is /dev/null, no DULY_PASSPHRASE
    assert_one_line_error(result, 1, "no passphrase")


def test_real_duly_with_passphrase_file_works_as_a_process(tmp_path):
    path, secret = tmp_path / "l.duly", tmp_path / "pw"
    secret.write_text(PASSPHRASE, encoding="utf-8")
    result = run_duly("init", "--ledger", path, "--passphrase-file", secret)
    assert result.code == 0, result.err
    result = run_duly("customer", "list", "--format", "json", env={"DULY_LEDGER": str(path),
                                                                   "DULY_PASSPHRASE": PASSPHRASE})
    assert result.code == 0 and json.loads(result.out) == []


# -- init ------------------------------------------------------------------------------------------

def test_init_refuses_to_overwrite_an_existing_ledger(book):
    before = sha256(book.path)
    result = book("init")
    assert_one_line_error(result, 1, "already exists")
    assert sha256(book.path) == before


def test_init_refuses_even_an_empty_file(cli):
    cli.path.write_bytes(b"")
    assert_one_line_error(cli("init"), 1, "already exists")


def test_a_folder_given_as_the_ledger_is_named_as_a_folder(book, tmp_path):
    """A folder where the ledger file belongs: opening it was an internal error (SQLite's "unable to open database
    file"), and init or a backup there said a ledger already existed."""
    folder = tmp_path / "books"
    folder.mkdir()
    for argv in (("--ledger", folder, "customer", "list"), ("--ledger", folder, "init"), ("backup", folder)):
        result = book(*map(str, argv))
        assert_one_line_error(result, 1, f"{folder} is a folder, not a ledger file", str(folder / "books.duly"))
        assert "internal error" not in result.err and "already exists" not in result.err
    assert list(folder.iterdir()) == []


def test_passwd_rekeys_new_opens_old_does_not(book, tmp_path, monkeypatch):
    book("customer", "add", "K1", "--name", "Keep me")
    newfile = tmp_path / "new.txt"
    newfile.write_text("brand new 密码", encoding="utf-8")
    assert book("passwd", "--new-passphrase-file", newfile).code == 0
    with Ledger.open(book.path, "brand new 密码") as led:
        assert led.row("SELECT name FROM customers WHERE code='K1'")["name"] == "Keep me"
    assert_one_line_error(book("customer", "list"), 1, "wrong passphrase")
    monkeypatch.setenv("DULY_PASSPHRASE", "brand new 密码")
    assert book("audit", "verify").code == 0


# -- customers: bad input is one line and writes nothing -------------------------------------------

BAD_INPUT = {
    "duplicate code": (["customer", "add", "C1", "--name", "Other"], "already used"),
    "show unknown": (["customer", "show", "NOPE"], "unknown customer"),
    "edit unknown": (["customer", "edit", "NOPE", "--name", "x"], "unknown customer"),
    "malformed email (add)": (["customer", "add", "C2", "--name", "X", "--email", "a@b"], "e-mail"),
    "malformed email (edit)": (["customer", "edit", "C1", "--email", "not an address"], "e-mail"),
    "tax id check char": (["customer", "add", "C2", "--name", "X", "--tax-id", "91350100M000100Y44"], "check character"),
    "tax id check char (edit)": (["customer", "edit", "C1", "--tax-id", "91350100M000100Y4X"], "tax id"),
    "bad category": (["customer", "add", "C2", "--name", "X", "--category", "ZZ"], "category"),
    "bad code": (["customer", "add", "has space", "--name", "X"], "code"),
    "empty name": (["customer", "add", "C2", "--name", "  "], "name"),
    "too many decimals": (["customer", "add", "C2", "--name", "X", "--credit-limit", "1.001"], "decimal"),
    "unknown terms": (["customer", "add", "C2", "--name", "X", "--terms", "NET-999-NOPE"], "terms"),
    "rename onto used code": (["customer", "edit", "C1", "--code", "C0"], "already used"),
}


def _snapshot(path) -> tuple[int, list[dict]]:
    """(number of change-log entries, every customer row) in one open (each open costs a KDF)."""
    with Ledger.open(path, PASSPHRASE) as led:
        count = led.conn.execute("SELECT count(*) FROM changes").fetchone()[0]
        return count, led.rows("SELECT * FROM customers ORDER BY id")


@pytest.fixture(scope="module")
def two_customers(tmp_path_factory):
    """A ledger file with customers C0 and C1, made once and copied per test."""
    from store.write import customers, settings

    path = tmp_path_factory.mktemp("template") / "t.duly"
    with Ledger.create(path, PASSPHRASE, actor="tester") as led:
        settings.put(led, "currency", "CNY")
        customers.add(led, "C0", "Zero")
        customers.add(led, "C1", "One", email="one@example.com")
    return path, _snapshot(path)


@pytest.mark.parametrize("argv,word", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_customer_input_is_one_line_exit_1_and_writes_nothing(cli, two_customers, argv, word):
    template, before = two_customers
    shutil.copyfile(template, cli.path)
    assert_one_line_error(cli(*argv), 1, word)
    assert _snapshot(cli.path) == before


def test_valid_uscc_and_aliases_are_accepted(book):
    result = book("customer", "add", "C1", "--name", "厦门某公司", "--tax-id", VALID_USCC.lower(),
                  "--category", "vip", "--cycle", "月结", "--credit-limit", "1,234.50")
    assert result.code == 0, result.err
    shown = book("customer", "show", "C1", "--format", "json").json()
    assert shown["tax_id"] == VALID_USCC
    assert shown["category"] == "VIP"
    assert shown["settlement_cycle"] == "monthly"
    assert shown["credit_limit"] == "1234.50"


# -- field history and the change log --------------------------------------------------------------

def test_customer_show_json_lists_each_field_change_with_old_new_at_actor(book):
    book("customer", "add", "C1", "--name", "Old Name", "--phone", "111111")
    assert book("customer", "edit", "C1", "--name", "Middle Name").code == 0
    assert book("customer", "edit", "C1", "--name", "New Name", "--phone", "222222").code == 0
    shown = book("customer", "show", "C1", "--format", "json").json()
    assert shown["name"] == "New Name"
    names = [(h["old"], h["new"]) for h in shown["history"] if h["field"] == "name"]
    assert names == [(None, "Old Name"), ("Old Name", "Middle Name"), ("Middle Name", "New Name")]
    phones = [(h["old"], h["new"]) for h in shown["history"] if h["field"] == "phone"]
    assert phones == [(None, "111111"), ("111111", "222222")]
    for entry in shown["history"]:
        assert entry["actor"] == "tester"
        assert entry["at"].endswith("Z") and entry["at"][:4].isdigit()


def test_editing_a_field_to_its_current_value_writes_no_change(book):
    book("customer", "add", "C1", "--name", "Same")
    before = change_count(book.path)
    result = book("customer", "edit", "C1", "--name", "Same")
    assert result.code == 0 and "nothing changed" in result.out
    assert change_count(book.path) == before


def test_each_cli_write_is_exactly_one_change_entry(book, tmp_path):
    writes = [
        ["customer", "add", "C1", "--name", "A", "--email", "a@example.com", "--phone", "123456"],
        ["customer", "edit", "C1", "--name", "B", "--email", "b@example.com"],
        ["customer", "contact", "C1", "--name", "Li Lei", "--phone", "13800000000"],
        ["customer", "archive", "C1"],
        ["customer", "unarchive", "C1"],
        ["settings", "set", "company.name", "Duly Test Co"],
    ]
    with Ledger.open(book.path, PASSPHRASE) as watcher:  # one reader for all the counts (WAL: sees each commit)
        def entries():
            return watcher.conn.execute("SELECT count(*) FROM changes").fetchone()[0]

        count = entries()
        for argv in writes:
            result = book(*argv)
            assert result.code == 0, (argv, result.err)
            assert entries() == count + 1, argv
            count += 1
    audit = book("audit", "--format", "json").json()
    assert len(audit) == 1 + len(writes)  # init records the home currency
    assert [a["device_seq"] for a in audit] == list(range(1, len(audit) + 1))
    assert {a["actor"] for a in audit} == {"tester"}
    assert any(op.get("c") == "email" and op.get("v") == "b@example.com" for op in audit[2]["ops"])


def test_audit_from_to_filters_by_day(book, monkeypatch):
    import store.ledger.ledger

    for day, code in (("2026-01-05", "D5"), ("2026-01-06", "D6"), ("2026-01-07", "D7")):
        monkeypatch.setattr(store.ledger.ledger, "_utc_now", lambda d=day: f"{d}T23:59:59.999Z")
        assert book("customer", "add", code, "--name", code).code == 0

    def codes(*argv):
        result = book("audit", "--format", "json", *argv)
        assert result.code == 0, result.err
        return [op["v"] for a in result.json() for op in a["ops"] if op.get("c") == "code"]

    assert codes("--from", "2026-01-06") == ["D6", "D7"]
    assert codes("--to", "2026-01-06") == ["D5", "D6"]
    assert codes("--from", "2026-01-06", "--to", "2026-01-06") == ["D6"]
    assert codes("--from", "2026-02-01") == []
    assert_one_line_error(book("audit", "--from", "2026-02-30"), 1, "--from")


def _tamper(path, sql, params=()):
    conn = sqlcipher3.connect(str(path))
    conn.execute("PRAGMA key = " + "'" + PASSPHRASE.replace("'", "''") + "'")
    conn.execute(sql, params)
    conn.commit()
    conn.close()


@pytest.fixture(scope="module")
def audited_template(tmp_path_factory):
    from store.write import customers

    path = tmp_path_factory.mktemp("audit") / "a.duly"
    with Ledger.create(path, PASSPHRASE, actor="tester") as led:
        for i in range(5):
            customers.add(led, f"C{i}", f"Name {i}")
    return path


@pytest.fixture
def audited(cli, audited_template):
    shutil.copyfile(audited_template, cli.path)
    return cli


def test_audit_verify_passes_on_an_untouched_log(audited):
    result = audited("audit", "verify")
    assert result.code == 0 and "intact: 5 entries" in result.out


@pytest.mark.parametrize("how,sql,word", [
    ("edited ops", "UPDATE changes SET ops=replace(ops, 'Name 2', 'Name X') WHERE device_seq=3", "entry 3"),
    ("deleted middle", "DELETE FROM changes WHERE device_seq=3", "3"),
    ("edited actor", "UPDATE changes SET actor='mallory' WHERE device_seq=2", "entry 2"),
    ("ops not a list", "UPDATE changes SET ops='{\"a\": 1}' WHERE device_seq=4", "entry 4"),
    ("ops not json", "UPDATE changes SET ops='garbage' WHERE device_seq=4", "entry 4"),
], ids=["edited-ops", "deleted-middle", "edited-actor", "ops-not-a-list", "ops-not-json"])
def test_audit_verify_fails_naming_the_tampered_entry(audited, how, sql, word):
    _tamper(audited.path, sql)
    result = audited("audit", "verify")
    assert result.code == 1
    assert word in result.err.splitlines()[-1]
    assert "Traceback" not in result.err and "internal error" not in result.err


# -- global options, usage, formats ----------------------------------------------------------------

def test_global_options_work_before_and_after_the_subcommand(tmp_path, monkeypatch, capsys):
    from tui.cli.main import main

    monkeypatch.delenv("DULY_LEDGER", raising=False)
    monkeypatch.delenv("DULY_PASSPHRASE", raising=False)
    path, secret = tmp_path / "g.duly", tmp_path / "pw"
    secret.write_text(PASSPHRASE, encoding="utf-8")
    assert main(["--ledger", str(path), "--passphrase-file", str(secret), "init"]) == 0
    assert main(["customer", "add", "G1", "--name", "G", "--ledger", str(path), "--passphrase-file", str(secret)]) == 0
    capsys.readouterr()
    for argv in (
        ["--ledger", str(path), "--passphrase-file", str(secret), "--format", "json", "customer", "list"],
        ["customer", "list", "--ledger", str(path), "--passphrase-file", str(secret), "--format", "json"],
        ["--ledger", str(path), "customer", "--format", "json", "list", "--passphrase-file", str(secret)],
    ):
        assert main(argv) == 0, argv
        assert [c["code"] for c in json.loads(capsys.readouterr().out)] == ["G1"]


@pytest.mark.parametrize("argv", [
    ["no-such-command"],
    ["customer"],
    ["customer", "add", "C1"],  # --name is required
    ["customer", "list", "--format", "yaml"],
    ["customer", "list", "--no-such-option"],
    ["audit", "sideways"],
    ["customer", "edit", "C1"],  # nothing to change
])
def test_bad_usage_exits_2(cli, argv):
    result = cli(*argv)
    assert result.code == 2, (result.code, result.err)
    assert "Traceback" not in result.err


def test_json_and_csv_outputs_parse(book):
    book("customer", "add", "C1", "--name", "逗号, \"引号\" Ltd", "--credit-limit", "1000", "--email", "c@example.com")
    book("customer", "add", "C2", "--name", "Plain")
    listed = book("customer", "list", "--format", "json").json()
    assert [c["code"] for c in listed] == ["C1", "C2"]
    assert listed[0]["credit_limit"] == "1000.00"
    rows = list(csv.DictReader(io.StringIO(book("customer", "list", "--format", "csv").out)))
    assert [r["code"] for r in rows] == ["C1", "C2"]
    assert rows[0]["name"] == "逗号, \"引号\" Ltd"
    assert rows[0]["credit_limit"] == "1000.00"
    assert json.loads(book("customer", "show", "C1", "--format", "json").out)["email"] == "c@example.com"
    assert list(csv.DictReader(io.StringIO(book("customer", "show", "C1", "--format", "csv").out)))[0]["code"] == "C1"
    assert isinstance(book("audit", "--format", "json").json(), list)
    assert list(csv.DictReader(io.StringIO(book("audit", "--format", "csv").out)))
    assert book("settings", "get", "--format", "json").json()["currency"] == "CNY"
    assert book("customer", "edit", "C2", "--name", "P2", "--format", "json").json()["ok"] is True


def _subcommands(parser) -> dict[str, set[str]]:
    """{top-level command: its sub-subcommands (or kinds)} of a built parser."""
    import argparse

    def choices(p):
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                return action.choices
        return {}

    return {name: set(choices(p)) for name, p in choices(parser).items()}


def test_a_command_loads_only_its_modules_and_gets_every_subcommand():
    from tui.cli.main import COMMANDS, build_parser, modules_for

    full = _subcommands(build_parser())
    assert set(full) == {name for names in COMMANDS.values() for name in names}
    for name in full:
        argv = ["--ledger", "x.duly", name, "--format", "json"]
        assert len(modules_for(argv)) < len(COMMANDS)
        assert _subcommands(build_parser(argv))[name] == full[name], name
    assert modules_for(["--help"]) == modules_for(["nosuchcommand"]) == list(COMMANDS)
    assert modules_for([]) == ["tui.cli.ledger"]


def _shape(parser) -> dict:
    """A parser's options and, recursively, its subcommands' shapes."""
    import argparse

    shape = {"options": sorted(s for a in parser._actions for s in a.option_strings), "commands": {}}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            shape["commands"] = {name: _shape(p) for name, p in action.choices.items()}
    return shape


def test_each_command_has_one_module_that_builds_its_whole_parser():
    import importlib

    from tui.cli.main import COMMANDS, Parser, build_parser, common_options

    owners: dict[str, list[str]] = {}
    for module, names in COMMANDS.items():
        for name in names:
            owners.setdefault(name, []).append(module)
    assert {name: found for name, found in owners.items() if len(found) > 1} == {}
    full = _shape(build_parser())["commands"]
    for module, names in COMMANDS.items():
        alone = Parser(prog="duly")
        importlib.import_module(module).register(alone.add_subparsers(dest="command", parser_class=Parser),
                                                 common_options())
        built = _shape(alone)["commands"]
        assert set(built) == set(names), module
        for name in names:  # nothing another module adds: its options and subcommands are all its own
            assert built[name] == full[name], (module, name)


def test_the_statement_takes_every_global_option_as_the_other_commands_do():
    """`statement` widens --format (md, html) with its own copy of the global options: none may be missing."""
    from tui.cli.main import build_parser

    parser = build_parser()
    wanted = {"--ledger", "--passphrase-file", "--format", "--lang", "--no-pager"}
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name in ("statement", "customer", "report"):
        given = {s for a in sub.choices[name]._actions for s in a.option_strings}
        assert wanted <= given, (name, wanted - given)
    args = parser.parse_args(["statement", "C1", "--lang", "zh", "--format", "html", "--as-of", "2026-01-01"])
    assert (args.lang, args.format) == ("zh", "html")
