"""Every message id written in the code reaches the catalogue: Babel's extractor can lose a t()/N_() call (after
some f-strings in a file, or an id ending in '.'), and such an id is then shown in English in every language
while tests/test_i18n.py, which checks what was extracted, stays green."""
from __future__ import annotations

import ast
from pathlib import Path

from tests.support.catalogue import ROOT, SOURCES, used_ids


def written_ids() -> dict[str, str]:
    """Each literal id in a t(...), ctx.t(...), self.t(...) or N_(...) call, with where it is."""
    found = {}
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
                        and isinstance(node.args[0].value, str)):
                    continue
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
                if name in ("t", "N_"):
                    found.setdefault(node.args[0].value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_id_written_in_the_code_is_extracted():
    extracted = set(used_ids())
    # an id ending in "." is a prefix ("aging.basis." + value, listed in ALSO_USED); one ending in "..." is a sentence
    lost = {msgid: where for msgid, where in written_ids().items()
            if msgid not in extracted and (not msgid.endswith(".") or msgid.endswith("..."))}
    assert not lost, "ids the extractor does not see (shown in English in every language):\n" + "\n".join(
        f"{where}: {msgid}" for msgid, where in lost.items())
