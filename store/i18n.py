"""The one message catalogue (gettext) for everything a person reads: the app, the command line, every error,
the documents sent to customers. It lives here, under store/, because documents and messages made in the store
are worded with it too; tui/app/i18n.py is the app's and the command line's way in (see its docstring for how
to add a string).

Files: store/locale/<lang>/LC_MESSAGES/duly.po (what people edit) and duly.mo (compiled, committed, shipped in
the wheel, read here with the standard library's gettext; Babel is needed only to extract and compile)."""
from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

DOMAIN = "duly"
LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES = ("en", "zh")  # every language with a catalogue under LOCALE_DIR; English is the fallback


def N_(msgid: str) -> str:
    """Marks a message id for extraction where it is written; the words are chosen where it is shown."""
    return msgid


@cache
def catalogue(language: str) -> gettext.NullTranslations:
    """The compiled catalogue for a language, falling back to English, then to the message id itself."""
    english = _load("en")
    if language == "en" or language not in LANGUAGES:
        return english
    found = _load(language)
    found.add_fallback(english)
    return found


def _load(language: str) -> gettext.NullTranslations:
    try:
        return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language])
    except FileNotFoundError:  # a catalogue left out of an install: show English words, never crash
        return gettext.NullTranslations()


def translate(language: str, msgid: str, /, **values) -> str:
    """The words for msgid in a language, with its {named} placeholders filled in."""
    text = catalogue(language).gettext(msgid)
    return text.format(**values) if values else text


def known(msgid: str) -> bool:
    """Whether the catalogue has words for this message id (for ids built from data, e.g. 'bucket.<label>')."""
    return any(msgid in getattr(_load(language), "_catalog", {}) for language in LANGUAGES)
