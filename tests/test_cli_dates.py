"""Dates as a person types them: today, yesterday and tomorrow wherever the command line takes a date."""
from __future__ import annotations

import argparse
from datetime import date, timedelta

import pytest

from store.rules.validate import relative_date
from tests.conftest import assert_one_line_error
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
