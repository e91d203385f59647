"""What both ends of sync agree on, beyond the envelope format in sync.crypto: the messages a device signs.

The client imports this, never sync.server, so a laptop install needs no server dependencies.
"""
from __future__ import annotations

import hashlib

from sync import crypto


def snapshot_message(team: str, record: dict) -> bytes:
    """What the device that made a snapshot signs: everything in its record but the signature."""
    return crypto.canonical({"what": "duly-snapshot-v1", "team": team, "id": record["id"],
                             "server_seq": record["server_seq"], "chunks": record["chunks"],
                             "epoch": record["epoch"], "device": record["device"],
                             "manifest": hashlib.sha256(record["manifest"].encode()).hexdigest()})
