"""The one message catalogue (store/locale/*/LC_MESSAGES/duly.po, compiled to .mo): every language says every
id the code uses, nothing more, with the same placeholders; the compiled files shipped in the wheel say what
the .po files say. How to add a string: tui/app/i18n.py's docstring."""
from __future__ import annotations

import ast
import gettext
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from store.i18n import DOMAIN, LANGUAGES, LOCALE_DIR, translate
from tui.app.i18n import Strings

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("store", "sync", "tui")
KEYWORDS = {"t": None, "N_": None, "_n": None}


def po(language: str):
    with open(LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as f:
        return read_po(f, locale=language)


def ids(language: str) -> dict[str, str]:
    return {m.id: m.string for m in po(language) if m.id}


def used_ids() -> set[str]:
    """Ids in t(...), N_(...), _n(...) calls (what pybabel extract sees), and ids written as plain strings that a
    screen passes to t later (tables of column ids)."""
    found = set()
    for folder in SOURCES:
        for _file, _line, message, _comments, _context in extract_from_dir(
                ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS):
            message = message if isinstance(message, str) else message[0]
            # 'aging.basis.' + value is a prefix (its ids are in BUILT_FROM_DATA); a bare word is a dict key
            # the extractor met inside an f-string, not an id
            if not message.endswith(".") and not message.isidentifier():
                found.add(message)
    literals = {node.value for folder in SOURCES for path in (ROOT / folder).rglob("*.py")
                for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    return found | (literals & set(ids("en")))


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_language_has_words_for_every_id():
    english = ids("en")
    for language in LANGUAGES:
        words = ids(language)
        assert sorted(set(english) - set(words)) == [], f"{language} lacks these ids"
        assert sorted(set(words) - set(english)) == [], f"{language} has ids English does not"
        if language != "en":
            untranslated = [i for i, s in words.items() if not s]
            assert untranslated == [], f"{language}: no words yet for these ids"


def test_every_id_is_said_once_in_each_language():
    """An id written twice in a .po silently replaces the first wording on every screen that uses it."""
    for language in LANGUAGES:
        lines = (LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po").read_text(encoding="utf-8").splitlines()
        said = [line for line in lines if line.startswith('msgid "') and line != 'msgid ""']
        assert sorted({m for m in said if said.count(m) > 1}) == [], language


def test_every_id_the_code_uses_is_in_the_catalogue_and_no_other():
    used, english = used_ids(), set(ids("en"))
    assert sorted(used - english) == [], "used in the code, missing from the catalogue"
    assert sorted(english - used) == [], "in the catalogue, used nowhere (remove it, or list it in BUILT_FROM_DATA)"


def test_placeholders_are_the_same_in_every_language():
    english = ids("en")
    for language in LANGUAGES:
        differ = {i: (placeholders(english[i] or i), placeholders(s or i)) for i, s in ids(language).items()
                  if placeholders(english.get(i) or i) != placeholders(s or i)}
        assert differ == {}, language


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogue_says_what_its_po_file_says(language):
    """The .mo files are committed: one compiled from an older .po shows old words (run ./dev i18n)."""
    with open(LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo", "rb") as f:
        compiled = gettext.GNUTranslations(f)._catalog
    written = {m.id: m.string for m in po(language) if m.id and m.string and not m.fuzzy}
    assert {k: v for k, v in compiled.items() if k} == written


def test_words_are_read_from_the_compiled_catalogue():
    assert translate("zh", "key.quit") == "退出"
    assert translate("en", "key.quit") == "Quit"
    assert Strings("zh")("dash.as_of", date="2026-06-30") == "截止 2026-06-30"
    assert Strings("fr")("key.quit") == "Quit"  # a language without a catalogue reads English


def test_an_id_missing_from_a_language_falls_back_to_english_then_to_the_id():
    assert translate("zh", "no.such.id") == "no.such.id"
