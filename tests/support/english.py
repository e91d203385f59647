"""Telling an English sentence from what is typed (codes, numbers, dates, paths, ids, option names, anything
quoted), for the tests that read the command line's words in Chinese."""
from __future__ import annotations

import re

# a run of three or more English words, once what may stay as typed is taken out
ENGLISH = re.compile(r"\b[A-Za-z][a-z]+(?:[ ,/-]+[A-Za-z][a-z]+){2,}\b")
AS_TYPED = [
    re.compile(r"`[^`]*`"), re.compile(r"'[^']*'"), re.compile(r'"[^"]*"'), re.compile(r"“[^”]*”"),
    re.compile(r"(?<![\w/])--?[a-z][\w-]*"),  # options
    re.compile(r"(?:[A-Za-z]:)?(?:/[\w.+@~-]+)+/?"),  # paths
    re.compile(r"\b[\w.-]+\.(?:csv|xlsx|xls|ods|html|pdf|txt|json|duly|bak)\b"),  # file names
    re.compile(r"https?://\S+"),
    re.compile(r"\b[\w./]+(?:, [\w./]+){2,}"),  # a list of names (columns, choices)
    re.compile(r"\b\w+(?:[._]\w+)+"),  # ids: setting keys, column names
]


def english_in(line: str) -> str | None:
    """The first English phrase of a line, or None."""
    text = line.removeprefix("duly: ")
    for pattern in AS_TYPED:
        text = pattern.sub(" ", text)
    found = ENGLISH.search(text)
    return found.group() if found else None
