"""A bulk write's envelopes are compressed on a second thread (packing.pack_soon): what comes back is what
`pack` makes, and a forked process, which has no such thread, still gets its envelopes compressed."""
from __future__ import annotations

import os
import sys

import pytest

from store.ledger import packing

BIG = '[{"op":"event","t":"invoices","id":"x","d":{"description":"设备维护"}}' + ',{"op":"set"}' * 5000 + "]"


def test_what_the_second_thread_makes_is_what_pack_makes():
    assert packing.pack_soon(BIG).result(timeout=30) == packing.pack(BIG)
    assert isinstance(packing.pack(BIG), bytes)
    assert packing.pack_soon("[]").result(timeout=0) == "[]"  # too short to compress: at once, as text


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_process_still_gets_its_envelopes_compressed():
    packing.pack_soon(BIG).result(timeout=30)  # the parent's thread exists
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            ok = packing.unpack(packing.pack_soon(BIG).result(timeout=10)) == BIG
        except BaseException:
            ok = False
        sys.stdout.flush()
        os._exit(0 if ok else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
