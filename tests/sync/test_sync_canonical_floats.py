"""A change another device sent is hashed by the device that receives it from the text it makes again of the
parsed change: a change an earlier Duly received and logged must hash the same when it arrives again (a pull after
a push, a server restored from a backup), or the pull is refused for good as a replay with different content."""
from __future__ import annotations

import json

from store.ledger import changes
from store.ledger.ledger import Ledger
from sync.client import payload as payloads
from sync.client.session import Sync
from tests.support.cli import PASSPHRASE

DEVICE = "feedfacefeedface"
OPS = [{"c": "credit_limit", "id": "c1", "op": "set", "t": "customers", "v": 1e-07},
       {"c": "credit_limit", "id": "c1", "op": "set", "t": "customers", "v": float("nan")}]


def _json_text(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def test_a_change_with_floats_that_an_earlier_ledger_logged_is_not_refused_when_it_arrives_again(tmp_path,
                                                                                                monkeypatch):
    sent = _json_text({"actor": "them", "at": "2026-11-30T12:00:00.000Z", "device": DEVICE, "device_seq": 1,
                       "hlc": f"2026-11-30T12:00:00.000Z-0000-{DEVICE}", "ops": OPS})
    with Ledger.create(tmp_path / "x.duly", PASSPHRASE) as led:
        with monkeypatch.context() as earlier:  # logged by a Duly whose canonical text was json's
            earlier.setattr(changes, "canonical", _json_text)
            assert led.apply_remote(payloads.read(1, sent.encode()))
        assert changes.verify(led.conn) == []
        session = Sync.__new__(Sync)  # check_batch reads only the ledger
        session.ledger, session.devices = led, {}
        again = payloads.read(1, sent.encode())
        session.check_batch([(1, again)])  # the same change: not Tampered
        assert again.body() == sent
