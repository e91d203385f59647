"""Ids: UUIDv7s written in 26 characters of lower-case base32 (Crockford's alphabet), which sort as text in the
order of their bits (ids are compared and sorted as text everywhere); derived ids keep the UUID's text form."""
from __future__ import annotations

import base64
import random
import uuid

from store.ledger.ids import CROCKFORD, IdPool, derived_id, id_text, uuid7, uuid7_many, uuid_text

_FROM_CROCKFORD = bytes.maketrans(CROCKFORD.encode(), b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def as_uuid(text: str) -> uuid.UUID:
    """What an id is, read back as the RFC 4648 base32 decoder reads it (with the padding an id leaves out)."""
    assert len(text) == 26 and set(text) <= set(CROCKFORD), text
    return uuid.UUID(bytes=base64.b32decode(text.encode().translate(_FROM_CROCKFORD) + b"======"))


def test_an_id_is_its_128_bits_in_base32_and_sorts_as_they_do():
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


def test_a_uuid7_is_version_7_and_time_ordered_after_every_id_of_the_older_form():
    first, later = uuid7(1_700_000_000_000), uuid7(1_700_000_000_001)
    assert as_uuid(first).version == 7 and as_uuid(first).variant == uuid.RFC_4122
    assert as_uuid(first).int >> 80 == 1_700_000_000_000
    assert first < later
    # a ledger made before holds ids in the 36-character form: an id made in the same millisecond or later sorts
    # after every one of them, from 2004 (1 << 40 ms) until 2248 (1 << 43 ms)
    for ms in (1 << 40, 1_700_000_000_000, 1_900_000_000_000, 4_000_000_000_000, (1 << 43) - 1):
        older = str(uuid.UUID(int=(ms << 80) | (7 << 76) | (1 << 63) | ((1 << 62) - 1)))
        assert older < uuid7(ms) and derived_id("x", ms=ms) < uuid7(ms)


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
