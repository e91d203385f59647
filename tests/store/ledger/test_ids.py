"""Ids: UUIDv7 text exactly as the uuid module writes it (ids are compared and sorted as text everywhere)."""
from __future__ import annotations

import random
import uuid

from store.ledger.ids import derived_id, uuid7, uuid_text


def test_an_id_in_text_is_what_the_uuid_module_writes():
    rng = random.Random(7)
    for value in [0, (1 << 128) - 1, *(rng.getrandbits(128) for _ in range(2000))]:
        assert uuid_text(value) == str(uuid.UUID(int=value))


def test_a_uuid7_is_version_7_time_ordered_and_a_derived_id_the_same_everywhere():
    first, later = uuid7(1_700_000_000_000), uuid7(1_700_000_000_001)
    assert uuid.UUID(first).version == 7 and uuid.UUID(first).variant == uuid.RFC_4122
    assert first < later
    assert derived_id("schedule", "3", ms=5) == derived_id("schedule", "3", ms=5) != derived_id("schedule", "4", ms=5)
    assert uuid.UUID(derived_id("x")).version == 8


def test_ids_made_in_bulk_are_uuid7s_of_their_millisecond_all_different():
    from store.ledger.ids import IdPool, uuid7_many

    ids = uuid7_many(3000, 1_700_000_000_000)
    assert len(set(ids)) == 3000
    for text in ids:
        u = uuid.UUID(text)
        assert (u.version, u.variant, str(u)) == (7, uuid.RFC_4122, text)
        assert text[:13] == uuid7(1_700_000_000_000)[:13]  # the same 48-bit time as uuid7 writes
    assert max(ids) < uuid7(1_700_000_000_001)
    # every one of the 74 random bits takes both values among them (none left fixed by the writing)
    bits = [uuid.UUID(text).int for text in ids]
    random_bits = [b for b in range(128) if b < 62 or 64 <= b < 76]
    assert all(0 < sum(v >> b & 1 for v in bits) < len(bits) for b in random_bits)
    assert all(v >> 62 & 3 == 0b10 and v >> 76 & 0xF == 7 for v in bits)
    pool = IdPool(size=4)
    drawn = [pool() for _ in range(10)]  # refilled as it runs out
    assert len(set(drawn)) == 10 and all(uuid.UUID(t).version == 7 for t in drawn)
