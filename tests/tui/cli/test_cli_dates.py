"""Dates as a person types them: today, yesterday and tomorrow wherever the command line takes a date."""
from __future__ import annotations

import argparse
from datetime import date, timedelta

import pytest

from store.rules.validate import relative_date
from tests.support.cli import assert_one_line_error
from tui.cli.main import build_parser, typed_date


@pytest.mark.parametrize("word,expected", [
    ("today", "2026-03-01"), ("yesterday", "2026-02-28"), ("tomorrow", "2026-03-02"),
    ("Today", "2026-03-01"), (" YESTERDAY ", "2026-02-28"), ("昨天", "2026-02-28"), ("明天", "2026-03-02"),
    ("2026-01-05", "2026-01-05"), ("someday", "someday"),
])
def test_relative_words_become_the_iso_date_they_mean(word, expected):
    assert relative_date(word, date(2026, 3, 1)) == expected


def test_every_date_option_of_every_command_accepts_the_words():
    def walk(parser):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for child in action.choices.values():
                    yield from walk(child)
            elif action.metavar == "D":
                yield parser.prog, action

    found = list(walk(build_parser()))
    assert len(found) > 30
    assert all(action.type is typed_date for _, action in found), [p for p, a in found if a.type is not typed_date]


def test_documents_and_reports_take_today_yesterday_tomorrow(cli):
    today = date.today()
    assert cli("init").code == 0
    assert cli("customer", "add", "C1", "--name", "One").code == 0
    assert cli("invoice", "add", "--customer", "C1", "--date", "yesterday", "--amount", "100",
               "--due", "tomorrow").code == 0
    assert cli("payment", "add", "--customer", "C1", "--date", "today", "--amount", "40").code == 0
    invoice = cli("invoice", "list", "--format", "json").json()[0]
    assert invoice["date"] == (today - timedelta(days=1)).isoformat()
    assert invoice["due_date"] == (today + timedelta(days=1)).isoformat()
    assert cli("payment", "list", "--format", "json").json()[0]["date"] == today.isoformat()
    aging = cli("report", "aging", "--as-of", "today", "--format", "json").json()
    assert aging["as_of"] == today.isoformat() and aging["rows"][0]["not_due"] == "60.00"


def test_a_word_that_is_not_a_date_is_one_line_naming_it(cli):
    assert cli("init").code == 0
    assert cli("customer", "add", "C1", "--name", "One").code == 0
    assert_one_line_error(cli("invoice", "add", "--customer", "C1", "--date", "tmrw", "--amount", "1"), 1, "tmrw")


def _date_options(parser, prog=""):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _date_options(child, f"{prog} {name}".strip())
        elif "--date" in action.option_strings:
            yield prog, action


def test_date_is_the_documents_own_date_and_other_dates_have_their_own_names(cli):
    """Issue 20: `--date` is the document's own date; a promise's day-to-pay-by is `--pay-by`, its older
    spelling `--date` still read (DESIGN §5 only grows)."""
    aliases = {prog: action.option_strings for prog, action in _date_options(build_parser())
               if action.option_strings[0] != "--date"}
    assert aliases == {"promise add": ["--pay-by", "--date"]}
    assert cli("init").code == 0
    assert cli("customer", "add", "C1", "--name", "One").code == 0
    assert cli("invoice", "add", "--customer", "C1", "--date", "2026-03-01", "--amount", "100").code == 0
    assert cli("invoice", "add", "--customer", "C1", "--date", "2026-03-01", "--amount", "100").code == 0
    numbers = [r["number"] for r in cli("invoice", "list", "--format", "json").json()]
    added = cli("promise", "add", numbers[0], "--pay-by", "2026-03-20", "--amount", "40", "--made-on", "2026-03-05")
    assert added.code == 0 and "by 2026-03-20" in added.out
    assert cli("promise", "add", numbers[1], "--date", "2026-03-21", "--amount", "50",
               "--made-on", "2026-03-05").code == 0
    promised = {r["number"]: (r["made_on"], r["date"]) for r in
                cli("promise", "list", "--as-of", "2026-03-06", "--format", "json").json()}
    assert promised == {numbers[0]: ("2026-03-05", "2026-03-20"), numbers[1]: ("2026-03-05", "2026-03-21")}
    assert_one_line_error(cli("promise", "add", numbers[0], "--pay-by", "2026-03-01", "--amount", "1",
                              "--made-on", "2026-03-05"), 1, "promise date 2026-03-01", "on or after it was made")
    shown = cli("promise", "add", "--help").out
    assert "--pay-by D, --date D" in shown and "pay by" in shown
