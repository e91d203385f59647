"""Finding a customer the way people type: part of its code, name or tax id, or the name's pinyin, whole
(`hengda`) or by initials (`shhd`), for 上海恒达贸易有限公司. Pure: the terms a customer is found by, computed
when it is written (store/ledger/changes.py keeps the index), so a search is a range lookup in an index."""
from __future__ import annotations

import re

_HAN = re.compile(r"[\u3400-\u9fff]")
_SPACE = re.compile(r"[\s\u3000]+")


def normalised(text: str | None) -> str:
    """What is compared: lower case, no spaces (people type `heng da` and `HengDa` alike)."""
    return _SPACE.sub("", (text or "").lower())


def terms(code: str | None, name: str | None, legal_name: str | None = None, tax_id: str | None = None) -> set[str]:
    """Every string a search may start with to find this customer: each tail of the code, name and legal name
    (so any part of them is a prefix of one), each tail of the names' pinyin syllables, whole and as initials,
    and the tax id."""
    found: set[str] = set()
    for text in (code, name, legal_name):
        plain = normalised(text)
        found.update(plain[i:] for i in range(len(plain)))
    for text in (name, legal_name):
        if text and _HAN.search(text):
            # imported here: its dictionaries take 0.15 s to load, which every command paid, not only those that
            # write a customer's name
            from pypinyin import lazy_pinyin

            syllables = [normalised(s) for s in lazy_pinyin(text)]
            syllables = [s for s in syllables if s]
            for i in range(len(syllables)):
                found.add("".join(syllables[i:]))
                found.add("".join(s[0] for s in syllables[i:]))
    tax = normalised(tax_id)
    if tax:
        found.update(tax[i:] for i in range(len(tax)))
    return found


def prefix_range(query: str) -> tuple[str, str] | None:
    """(low, high) such that low <= term < high holds for every term starting with the query; None for an
    empty query."""
    q = normalised(query)
    if not q:
        return None
    return q, q[:-1] + chr(ord(q[-1]) + 1)
