"""Finding a customer the way people type: part of its code, name or tax id, or the name's pinyin, whole
(`hengda`) or by initials (`shhd`), for 上海恒达贸易有限公司. Pure: the terms a customer is found by, computed
when it is written (store/ledger/changes.py keeps the index), so a search is a range lookup in an index."""
from __future__ import annotations

import re

_HAN = re.compile(r"[\u3400-\u9fff]")
# A term is at most this long: a search matches by its first TERM_LENGTH characters. Every tail of a name whole made
# a name of n characters n*n/2 characters of terms (a 3,000-character name added 114 MB to the file); cut, they
# are n*TERM_LENGTH at most. Longer than anybody types into a search box.
TERM_LENGTH = 32
_SPACE = re.compile(r"[\s\u3000]+")


def normalised(text: str | None) -> str:
    """What is compared: lower case, no spaces (people type `heng da` and `HengDa` alike)."""
    return _SPACE.sub("", (text or "").lower())


def terms(code: str | None, name: str | None, legal_name: str | None = None, tax_id: str | None = None) -> set[str]:
    """Every string a search may start with to find this customer: each tail of the code, name and legal name
    (so any part of them is a prefix of one), each tail of the names' pinyin syllables, whole and as initials,
    and the tax id; each cut to TERM_LENGTH characters."""
    found: set[str] = set()
    for text in (code, name, legal_name):
        plain = normalised(text)
        found.update(plain[i:i + TERM_LENGTH] for i in range(len(plain)))
    for text in (name, legal_name):
        if text and _HAN.search(text):
            # imported here: its dictionaries take 0.15 s to load, which every command paid, not only those that
            # write a customer's name
            from pypinyin import lazy_pinyin

            syllables = [normalised(s) for s in lazy_pinyin(text)]
            syllables = [s for s in syllables if s]
            for i in range(len(syllables)):
                found.add("".join(syllables[i:i + TERM_LENGTH])[:TERM_LENGTH])
                found.add("".join(s[0] for s in syllables[i:i + TERM_LENGTH]))
    tax = normalised(tax_id)
    if tax:
        found.update(tax[i:i + TERM_LENGTH] for i in range(len(tax)))
    return found


def prefix_range(query: str) -> tuple[str, str] | None:
    """(low, high) such that low <= term < high holds for every term starting with the query (its first
    TERM_LENGTH characters: terms are no longer); None for an empty query."""
    q = normalised(query)[:TERM_LENGTH]
    if not q:
        return None
    return q, q[:-1] + chr(ord(q[-1]) + 1)
