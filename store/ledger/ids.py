"""Ids made on the device: UUIDv7s (48 bits of milliseconds, version 7, 74 random bits), written as 26 characters
of base32 in Crockford's alphabet in lower case, 10 fewer than the UUID's 36-character text form. Every table's id
and every reference to one is an id, so the shorter text makes the ledger file about a sixth smaller.

The alphabet's ASCII order is the order of its values, and the 128 bits are written from the top, so ids sort as
text in the order of their time (B-tree inserts stay local) and after every id in the 36-character form a ledger
made before this writing holds: those start with "01", these with "0" and a character of value 4 or more until the
year 2248. Letters are all lower case, as users type them; i, l, o and u are not in the alphabet.

derived_id keeps the UUID's text form: devices compute it alike from the same parts, older ones included."""
from __future__ import annotations

import hashlib
import os
import time

CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
# Characters 10 to 25 of an id hold its 74 random bits, the version's last two bits (11) and the variant (10): each
# is a random byte turned into a character through the table of its position (its random bits, the fixed ones set).
_FIXED = {0: (0b11000, 0b00111), 2: (0b00001, 0b11110), 3: (0, 0b01111), 15: (0, 0b11100)}  # (set, random mask)


def _table(fixed: int, mask: int, shift: int = 0) -> bytes:
    return bytes(CROCKFORD[fixed | (b << shift) & mask].encode()[0] for b in range(256))


_TABLES = [_table(*_FIXED.get(pos, (0, 0b11111)), shift=2 if pos == 15 else 0) for pos in range(16)]


_PAIRS = [CROCKFORD[n >> 5] + CROCKFORD[n & 31] for n in range(1024)]


def id_text(value: int) -> str:
    """A 128-bit value as an id's 26 characters: its bits from the top, five to a character, two zero bits after
    the last (as base32 pads them); ten bits at a time, written out (the demo makes an id this way per document)."""
    v, p = value << 2, _PAIRS
    return (p[v >> 120] + p[v >> 110 & 1023] + p[v >> 100 & 1023] + p[v >> 90 & 1023] + p[v >> 80 & 1023]
            + p[v >> 70 & 1023] + p[v >> 60 & 1023] + p[v >> 50 & 1023] + p[v >> 40 & 1023] + p[v >> 30 & 1023]
            + p[v >> 20 & 1023] + p[v >> 10 & 1023] + p[v & 1023])


def uuid7(ms: int | None = None) -> str:
    ms = int(time.time() * 1000) if ms is None else ms
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= (rand >> 68 & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return id_text(value)


def uuid7_many(count: int, ms: int | None = None) -> list[str]:
    """`count` ids of the same millisecond, with one read of the system's random source for all of them: made one at
    a time, that read (a system call) and the clock were most of an id's cost, and a bulk import makes three or four
    ids per invoice. The first 10 characters (48 bits of time and the version's first two bits, 01) are the same for
    all of them; the other 16 are made for all ids at once, a position at a time (`_TABLES`)."""
    ms = int(time.time() * 1000) if ms is None else ms
    head = (ms & ((1 << 48) - 1)) << 2 | 0b01
    prefix = "".join(CROCKFORD[head >> shift & 31] for shift in range(45, -1, -5))
    raw = os.urandom(16 * count)
    tail = bytearray(16 * count)
    for pos, table in enumerate(_TABLES):
        tail[pos::16] = raw[pos::16].translate(table)
    text = tail.decode()
    return [prefix + text[k:k + 16] for k in range(0, 16 * count, 16)]


def derived_id(*parts: str, ms: int = 0) -> str:
    """A UUID-shaped id that every device computes alike from the same parts (version 8: custom), with `ms` in
    the first 48 bits like a UUIDv7, so it sorts by that time. Two devices that post the same thing offline (the
    same occurrence of a recurring invoice) post one document: an event with a known id is inserted once."""
    digest = int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:10], "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x8 << 76
    value |= (digest >> 68 & 0xFFF) << 64
    value |= 0b10 << 62
    value |= digest & ((1 << 62) - 1)
    return uuid_text(value)


def uuid_text(value: int) -> str:
    """A 128-bit value in the UUID's text form, as str(uuid.UUID(int=value)) writes it, about 3x faster."""
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class IdPool:
    """uuid7() for a bulk job: ids made `size` at a time (uuid7_many) and handed out in that order."""

    def __init__(self, size: int = 512):
        self.size = size
        self._ids: list[str] = []

    def __call__(self) -> str:
        if not self._ids:
            self._ids = uuid7_many(self.size)
            self._ids.reverse()
        return self._ids.pop()
