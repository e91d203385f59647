"""The command line helps its user: `duly help`, "did you mean", a help line on every option, examples at the end
of each command's help, and shell completion."""
from __future__ import annotations

import argparse
import shlex
import subprocess

import pytest

from tests.support.cli import assert_one_line_error, run_duly
from tui.cli.main import COMMANDS, build_parser

TOP_LEVEL = sorted({name for names in COMMANDS.values() for name in names})


def _walk(parser: argparse.ArgumentParser, path: str):
    """(path, parser) for the parser and every subcommand under it."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _walk(child, f"{path} {name}")


def test_every_option_argument_and_subcommand_has_a_help_line():
    missing = []
    for path, parser in _walk(build_parser(), "duly"):
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if isinstance(action, argparse._SubParsersAction):
                described = {choice.dest for choice in action._choices_actions if choice.help}
                missing += [f"{path} {name}" for name in action.choices if name not in described]
            elif not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{path} {action.option_strings[0] if action.option_strings else action.dest}")
    assert not missing, f"options without a help line: {missing}"


@pytest.mark.parametrize("command", TOP_LEVEL)
def test_each_commands_help_ends_with_examples_of_that_command(cli, command):
    result = cli(command, "--help")
    assert result.code == 0, result.err
    tail = result.out.rstrip().split("\nexamples:\n")
    assert len(tail) == 2, f"`duly {command} --help` has no examples at its end"
    lines = tail[1].splitlines()
    assert lines and all(line.strip().startswith(("duly", "DULY_")) for line in lines), lines
    assert any(f"duly {command}" in line or command == "tui" for line in lines)


def _example_argvs():
    from tui.cli.examples import EXAMPLES

    for command, text in EXAMPLES.items():
        for line in text.splitlines():
            words = shlex.split(line, comments=True)
            words = words[words.index("duly"):]  # after any VAR=value prefix
            if ">" in words:
                words = words[: words.index(">")]
            yield command, words[1:]


@pytest.mark.parametrize("command,argv", list(_example_argvs()),
                         ids=lambda v: " ".join(v) if isinstance(v, list) else v)
def test_every_example_in_the_help_is_a_valid_command_line(command, argv):
    parser = build_parser(argv)
    args = parser.parse_args(argv)  # a wrong example exits 2 here
    assert args.command == command or (command == "reconcile" and args.command == "import") or not argv


def test_help_command_prints_what_dash_dash_help_prints(cli):
    for argv in (["invoice"], ["invoice", "add"], ["settings", "get"]):
        via_help = cli("help", *argv)
        direct = cli(*argv, "--help")
        assert via_help.code == direct.code == 0
        assert via_help.out == direct.out and "usage: duly " + " ".join(argv) in direct.out
    overview = cli("help")
    assert overview.code == 0 and "customer" in overview.out and "invoice" in overview.out


def test_a_typo_in_a_command_suggests_the_close_one_and_exits_2():
    result = run_duly("invoce", "list")
    assert_one_line_error(result, 2, "did you mean invoice")
    result = run_duly("invoice", "lsit")
    assert_one_line_error(result, 2, "did you mean list")


def test_a_typo_after_help_suggests_too(cli):
    assert_one_line_error(cli("help", "custmer"), 2, "did you mean customer")
    assert_one_line_error(cli("help", "invoice", "shwo"), 2, "did you mean show")


def test_an_unknown_word_with_nothing_close_gets_no_suggestion(cli):
    result = cli("zzzzqq")
    assert_one_line_error(result, 2, "zzzzqq")
    assert "did you mean" not in result.err


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_script_names_the_commands_and_their_subcommands(cli, shell):
    result = cli("completion", shell)
    assert result.code == 0, result.err
    for word in ("customer", "invoice", "payment", "report", "aging", "--ledger"):
        assert word in result.out, (shell, word)


def test_bash_completion_completes_commands_subcommands_and_files(tmp_path):
    script = tmp_path / "duly.bash"
    script.write_text(run_duly("completion", "bash").out, encoding="utf-8")
    (tmp_path / "book.duly").write_text("", encoding="utf-8")

    def complete(line: str) -> list[str]:
        words = line.split(" ")
        driver = (f"source {shlex.quote(str(script))}; COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; "
                  f"COMP_LINE={shlex.quote(line)}; COMP_POINT=${{#COMP_LINE}}; _shtab_duly; "
                  "printf '%s\\n' \"${COMPREPLY[@]}\"")
        out = subprocess.run(["bash", "-c", driver], capture_output=True, text=True, cwd=tmp_path, timeout=30)
        return out.stdout.split()

    assert "invoice" in complete("duly inv")
    assert {"add", "list", "show", "void"} <= set(complete("duly invoice "))
    assert "book.duly" in complete("duly backup bo")

