"""Ids: UUIDv7s written in 28 characters (the 48 bits of time in hex, the other 80 bits in lower-case base32 of
Crockford's alphabet), which sort as text in the order of their time, among themselves and among ids of the
UUID's 36-character form (older ledgers, older devices, derived ids), which keep that form."""
from __future__ import annotations

import base64
import random
import uuid

from store.ledger.ids import CROCKFORD, IdPool, derived_id, id_text, uuid7, uuid7_many, uuid_text

_FROM_CROCKFORD = bytes.maketrans(CROCKFORD.encode(), b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def as_uuid(text: str) -> uuid.UUID:
    """What an id is: its time from the hex, the rest as the RFC 4648 base32 decoder reads it."""
    assert len(text) == 28 and set(text[:12]) <= set("0123456789abcdef") and set(text[12:]) <= set(CROCKFORD), text
    rest = base64.b32decode(text[12:].encode().translate(_FROM_CROCKFORD))
    return uuid.UUID(int=int(text[:12], 16) << 80 | int.from_bytes(rest, "big"))


def test_an_id_is_its_128_bits_and_sorts_as_they_do():
    rng = random.Random(7)
    values = [0, (1 << 128) - 1, *(rng.getrandbits(128) for _ in range(2000))]
    for value in values:
        assert as_uuid(id_text(value)).int == value
    assert sorted(values) == [as_uuid(t).int for t in sorted(id_text(v) for v in values)]


def test_a_derived_id_keeps_the_uuid_text_form():
    rng = random.Random(7)
    for value in [0, (1 << 128) - 1, *(rng.getrandbits(128) for _ in range(200))]:
        assert uuid_text(value) == str(uuid.UUID(int=value))
    assert derived_id("schedule", "3", ms=5) == derived_id("schedule", "3", ms=5) != derived_id("schedule", "4", ms=5)
    assert uuid.UUID(derived_id("x")).version == 8


def _older(ms: int) -> str:
    """An id of the 36-character form made at `ms` (the largest one of that millisecond)."""
    return str(uuid.UUID(int=(ms << 80) | (7 << 76) | (0xFFF << 64) | (1 << 63) | ((1 << 62) - 1)))


def test_a_uuid7_is_version_7_and_sorts_by_time_among_ids_of_both_forms():
    first, later = uuid7(1_700_000_000_000), uuid7(1_700_000_000_001)
    assert as_uuid(first).version == 7 and as_uuid(first).variant == uuid.RFC_4122
    assert as_uuid(first).int >> 80 == 1_700_000_000_000 and first[:12] == uuid_text(as_uuid(first).int)[:8] + \
        uuid_text(as_uuid(first).int)[9:13]
    assert first < later
    # ids of the 36-character form (an older ledger's, an older device's, a derived id) sort with these by time: an
    # older one made in the same 65.5 seconds (the same first 8 characters) or before sorts first, one made after
    # those seconds sorts after
    for ms in (1 << 20, 1_700_000_000_000, 1_764_560_000_000, (1 << 48) - (1 << 17)):
        window = ms >> 16 << 16  # the start of its 65.5 seconds
        assert _older(ms) < uuid7(ms) and _older(window) < uuid7(window + 65_535) and _older(ms - 1) < uuid7(ms)
        assert derived_id("x", ms=ms) < uuid7(ms) < derived_id("x", ms=window + 65_536)
        assert uuid7(ms) < _older(window + 65_536)


def test_ids_made_in_bulk_are_uuid7s_of_their_millisecond_all_different():
    ids = uuid7_many(3000, 1_700_000_000_000)
    assert len(set(ids)) == 3000
    read = [as_uuid(text) for text in ids]
    assert {(u.version, u.variant) for u in read} == {(7, uuid.RFC_4122)}
    assert {u.int >> 80 for u in read} == {1_700_000_000_000}  # the same 48-bit time as uuid7 writes
    assert max(ids) < uuid7(1_700_000_000_001)
    # every one of the 74 random bits takes both values among them (none left fixed by the writing)
    bits = [u.int for u in read]
    random_bits = [b for b in range(128) if b < 62 or 64 <= b < 76]
    assert all(0 < sum(v >> b & 1 for v in bits) < len(bits) for b in random_bits)
    pool = IdPool(size=4)
    drawn = [pool() for _ in range(10)]  # refilled as it runs out
    assert len(set(drawn)) == 10 and all(as_uuid(t).version == 7 for t in drawn)
