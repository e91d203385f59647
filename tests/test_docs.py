"""The README's tour names every command the CLI offers (a command nobody can find is not shipped)."""
from __future__ import annotations

import argparse
from pathlib import Path

from tui.cli.main import build_parser

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _commands(parser: argparse.ArgumentParser, prefix: str = "duly") -> list[str]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                path = f"{prefix} {name}"
                nested = _commands(sub, path)
                found.extend(nested or [path])
    return found


def test_every_cli_command_appears_in_the_readme():
    missing = [cmd for cmd in _commands(build_parser()) if cmd not in README]
    assert not missing, f"commands missing from README.md: {missing}"


def test_readme_names_the_two_setup_commands():
    assert "./dev demo" in README and "./dev test" in README
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert "./dev test" in ci
