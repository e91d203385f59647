"""The device side of sync (DESIGN §4): seal this device's changes, push them, pull and open the others',
apply them through the ledger's one write path, flag what needs review, snapshot for new devices.

State lives in the ledger's `meta` table (inside the encrypted file) under `sync.*` keys: server, team,
device keys, role, epoch keys, the pull cursor and the last pushed device_seq. Changes queue in the change
log while offline and go out at the next `sync now`.
"""
from sync.client.api import Api, NotSynced, Offline, SyncError
from sync.client.session import Report, Sync
from sync.client.keys import parse_invite
from sync.client.setup import (Invite, Started, check_server_url, default_device_name, init, join, new_invite,
    new_recovery, remove_device, start_team, team_devices, team_token)
from sync.client.snapshot import _strip_device_secrets
from store.errors import ClockSkew, DulyError

__all__ = ["Api", "ClockSkew", "DulyError", "NotSynced", "Offline", "Report", "Sync", "SyncError",
           "Invite", "Started", "check_server_url", "default_device_name", "init", "join", "new_invite",
           "new_recovery", "parse_invite", "remove_device", "start_team", "team_devices", "team_token",
           "_strip_device_secrets"]
