"""`--help` in the reader's language: every command's and subcommand's help, by --lang, DULY_LANG or the locale (the
device's `language` setting is not read for --help: it would need the ledger's passphrase)."""
from __future__ import annotations

import argparse
import re

from tests.support.cli import run_duly
from tests.support.english import english_in
from tui.cli.main import build_parser, speak


def every_parser(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in {id(p): p for p in action.choices.values()}.values():
                yield from every_parser(child)


def test_no_help_text_is_english_in_chinese():
    speak("zh")
    try:
        found = []
        parsers = list(every_parser(build_parser(None)))
        for parser in parsers:
            # the help as one text (a `quoted span` may wrap), less the examples, the usage's [options] and {choices}
            lines = [line for line in parser.format_help().splitlines() if not line.strip().startswith("duly ")]
            text = re.sub(r"\[[^\]]*\]|\{[^}]*\}", " ", " ".join(line.strip() for line in lines))
            typed = [parser.prog, *(a.metavar or a.dest for a in parser._actions if not a.option_strings),
                     *(name for a in parser._actions if isinstance(a, argparse._SubParsersAction) for name in a.choices),
                     "confirm / resolve / status"]
            for word in sorted(filter(None, map(str, typed)), key=len, reverse=True):
                text = text.replace(word, " ")
            phrase = english_in(text)
            if phrase:
                found.append(f"{parser.prog}: {phrase}")
    finally:
        speak("en")
    assert len(parsers) > 100
    assert not found, "\n".join(found)


def test_help_follows_the_flag_the_environment_and_the_locale():
    assert "发票本身的日期" in run_duly("--lang", "zh", "invoice", "add", "--help").out
    assert "发票本身的日期" in run_duly("invoice", "add", "--help", env={"DULY_LANG": "zh"}).out
    by_locale = run_duly("invoice", "add", "--help", env={"DULY_LANG": "", "LC_ALL": "zh_CN.UTF-8"}).out
    assert "用法" in by_locale and "发票本身的日期" in by_locale
    english = run_duly("invoice", "add", "--help").out
    assert "the invoice's own date" in english and "发票本身的日期" not in english
    assert "语言：--lang，否则 $DULY_LANG" in run_duly("--lang", "zh", "--help").out


def test_the_lists_an_option_names_are_introduced_in_chinese():
    """`template show NAME` and `reconcile profile add --map` name what they accept ("one of: …", "fields: …")."""
    shown = run_duly("--lang", "zh", "template", "show", "--help").out
    assert "可选：statement" in shown and "one of" not in shown, shown
    mapped = run_duly("--lang", "zh", "reconcile", "profile", "add", "--help").out
    assert "字段：date, amount" in " ".join(mapped.split()) and "fields:" not in mapped, mapped
    english = run_duly("template", "show", "--help").out
    assert "one of: statement" in english
