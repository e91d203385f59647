"""The user's own versions of the document templates, kept in the ledger (synced like a setting: the row
`template.NAME` of the settings table), so every device of a team sends the same letters.

A version is checked before it is kept: one that does not parse is refused, naming the line."""
from __future__ import annotations

from store.files.documents import engine

PREFIX = "template."


def stored(ledger, name: str) -> str | None:
    """The user's version of a template, or None (the default is used)."""
    return ledger.setting(PREFIX + engine.check_name(name)) or None


def source(ledger, name: str) -> tuple[str, str]:
    """(text, 'edited' | 'default') of the template in force."""
    own = stored(ledger, name)
    return (own, "edited") if own is not None else (engine.default_source(name), "default")


def put(ledger, name: str, text: str) -> None:
    """Keep the user's version (refused, nothing kept, when it does not parse)."""
    engine.check_name(name)
    engine.compile_check(name, text)
    with ledger.writing() as tx:
        tx.set("settings", PREFIX + name, value=text)


def reset(ledger, name: str) -> bool:
    """Back to the default; False when it was the default already."""
    engine.check_name(name)
    if stored(ledger, name) is None:
        return False
    with ledger.writing() as tx:
        tx.set("settings", PREFIX + name, value=None)
    return True


def listing(ledger) -> list[dict]:
    rows = []
    for name in engine.NAMES:
        doc, _, lang = name.partition(".")
        zh, en = engine.DESCRIPTIONS[doc]
        rows.append({"name": name, "document": zh if lang == "zh" else en, "language": lang,
                     "source": "edited" if stored(ledger, name) is not None else "default"})
    return rows
