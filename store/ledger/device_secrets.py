"""Secrets are the device's own (the SMTP password): kept in `meta` under `secret.<key>`, never in the change log.

An older Duly kept the SMTP password as a synced setting; `move_secrets` (run as a ledger opens) takes such a
value into this device's `meta` and clears the synced one."""
from __future__ import annotations

SECRETS = {"smtp.password"}


def secret_meta_key(key: str) -> str:
    return f"secret.{key}"


def move_secrets(ledger) -> bool:
    """Take secrets an older Duly kept as synced settings into this device's `meta`, and clear the synced copy
    (one write; a device's own value, if it has one, wins). True when something was moved."""
    legacy = {key: ledger.setting(key) for key in SECRETS}
    legacy = {key: value for key, value in legacy.items() if value is not None}
    if not legacy:
        return False
    with ledger.writing() as tx:
        for key, value in legacy.items():
            if ledger.meta(secret_meta_key(key)) is None:
                ledger.set_meta(secret_meta_key(key), value)
            tx.set("settings", key, value=None)
    return True
