"""What both ends of sync agree on, beyond the envelope format in sync.crypto: the messages a device signs.

The client imports this, never sync.server, so a laptop install needs no server dependencies.
"""
from __future__ import annotations

import hashlib

from store.i18n import N_
from sync import crypto

# The server's refusals about what it stores (sync/server/storage.py), by stable code: the storage raises each with
# its message id here and the values named in it; the server answers {"error", "code", ...values} (a 4xx); the client
# words it in its user's language by the code (sync/client/api.py REFUSALS). A code is never renamed.
STORAGE_REFUSALS = {
    "team_exists": N_("team {team} already exists"),
    "device_exists": N_("device {device} is already registered in team {team}"),
    "no_team": N_("no such team on this server"),
    "no_device": N_("no such device in team {team}"),
    "invite_exists": N_("invite {invite} already exists"),
    "join_finished": N_("device {device} has finished joining; an admin removes it with `duly sync revoke`"),
    "epoch_not_started": N_("key epoch {epoch} is not one the team has started (it is at epoch {current}); only an "
                            "admin starts a key epoch"),
    "epoch_not_next": N_("key epoch {epoch} does not follow the current epoch {current}"),
    "key_not_wrapped": N_("the new key is not wrapped for device(s) {devices}"),
    "key_wrapped_for_inactive": N_("the new key is wrapped for device(s) not active in the team: {devices}"),
    "change_differs": N_("device {device} change {seq} was already received with different content: a replayed or "
                         "re-stamped change is refused"),
    "gap": N_("device {device} sent change {seq} but the server expects {expected} next"),
    "snapshot_ahead": N_("snapshot {snapshot} says it stands at change {seq}, but the team's log is at {head}"),
    "snapshot_epoch_ahead": N_("snapshot {snapshot} is sealed under key epoch {epoch}, but the team is at epoch "
                               "{current}"),
    "snapshot_exists": N_("snapshot {snapshot} was already received"),
    "snapshot_chunks_missing": N_("snapshot {snapshot} names {missing} chunk(s) the server does not have"),
    "replayed": N_("this request from device {device} was already received once: a replayed request is refused"),
}


def snapshot_message(team: str, record: dict) -> bytes:
    """What the device that made a snapshot signs: everything in its record but the signature."""
    return crypto.canonical({"what": "duly-snapshot-v1", "team": team, "id": record["id"],
                             "server_seq": record["server_seq"], "chunks": record["chunks"],
                             "epoch": record["epoch"], "device": record["device"],
                             "manifest": hashlib.sha256(record["manifest"].encode()).hexdigest()})
