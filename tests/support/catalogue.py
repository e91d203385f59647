"""Keeping the message catalogue in step with the code: extract every id the code uses (pybabel's Python
extractor, keywords t, N_ and _n), add new ids to every language's .po (never dropping or reordering one by
hand), compile the .mo files. `./dev i18n` runs it (python -m tests.support.catalogue); tests/test_i18n.py uses
the same extraction to say what is missing or unused."""
from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from store.i18n import DOMAIN, LANGUAGES, LOCALE_DIR

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("store", "sync", "tui")
KEYWORDS = {"t": None, "N_": None, "_n": None}
WIDTH = 120


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read(language: str) -> Catalog:
    with open(po_path(language), "rb") as f:
        return read_po(f, locale=language, domain=DOMAIN)


def used_ids() -> dict[str, list[str]]:
    """Every id in a t(...), N_(...) or _n(...) call, with where it is used ("tui/screens/x.py:12")."""
    found: dict[str, list[str]] = {}
    # the extractor notes each f-string it skips on stderr; a t() inside one is listed in ALSO_USED
    with contextlib.redirect_stderr(io.StringIO()):
        extracted = [(folder, *item) for folder in SOURCES
                     for item in extract_from_dir(ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS)]
    for folder, file, line, message, _comments, _context in extracted:
        message = message if isinstance(message, str) else message[0]
        # 'aging.basis.' + value is a prefix (its ids are listed in ALSO_USED); a bare name such as open_amount
        # is a dict key the extractor met inside an f-string, not an id
        if message and not message.endswith(".") and not (message.isidentifier() and "_" in message):
            found.setdefault(message, []).append(f"{folder}/{file}:{line}")
    for message, where in help_ids().items():
        found.setdefault(message, []).extend(where)
    return found


def help_ids() -> dict[str, list[str]]:
    """The command line's help texts (help=, description=, epilog= written as plain strings in tui/cli/*.py): ids
    too, worded by tui.cli.main.localise_help when --help is shown in another language."""
    import ast

    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "tui" / "cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    value = keyword.value
                    if (keyword.arg in ("help", "description", "epilog") and isinstance(value, ast.Constant)
                            and isinstance(value.value, str) and value.value.strip()):
                        found.setdefault(value.value, []).append(f"tui/cli/{path.name}:{node.lineno}")
    return found


def update() -> list[str]:
    """Add the ids the code uses and no .po has yet to every language (words empty), sorted by id. Returns the
    ids added; an id no longer used is left for tests/test_i18n.py to report (a person decides to delete it)."""
    used = used_ids()
    added: set[str] = set()
    for language in LANGUAGES:
        catalogue = read(language)
        for msgid in sorted(set(used) - {m.id for m in catalogue if m.id}):
            catalogue.add(msgid, "")
            added.add(msgid)
        write(language, catalogue)
    return sorted(added)


def write(language: str, catalogue: Catalog) -> None:
    out = io.BytesIO()
    write_po(out, catalogue, width=WIDTH, sort_output=True, ignore_obsolete=True)
    if po_path(language).read_bytes() != out.getvalue():
        po_path(language).write_bytes(out.getvalue())


def compile_all() -> None:
    for language in LANGUAGES:
        out = io.BytesIO()
        write_mo(out, read(language))
        target = po_path(language).with_suffix(".mo")
        if not target.exists() or target.read_bytes() != out.getvalue():
            target.write_bytes(out.getvalue())


def main() -> int:
    added = update()
    compile_all()
    for msgid in added:
        print(f"new id: give it words in zh (and in en for a key id): {msgid}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
