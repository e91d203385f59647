"""Team keys and device names: sealed names, invites (and the recovery secret's), key wraps and their proofs."""
from __future__ import annotations

import contextlib
import secrets
from pathlib import Path


from store.errors import DulyError
from sync import crypto
from sync.crypto import DeviceKeys, Tampered
from sync.client.api import Api, SyncError, _now_ms
from sync.client.snapshot import _remove_scratch
from store.i18n import N_


RECOVERY = "recovery"  # the middle part of a recovery secret, where an invite has its id
_SEALED = "sealed:"


def _name_aad(team: str, device_id: str) -> bytes:
    return f"{team}/device-name/{device_id}".encode()


def sealed_name(team: str, device_id: str, name: str, epoch_keys: dict[str, str]) -> str:
    """A device name as the server stores it: sealed under the newest team key the device has, so the server
    sees no host or person names either."""
    epoch = max(epoch_keys, key=int)
    box = crypto.box(crypto.b64d(epoch_keys[epoch]), name.encode(), _name_aad(team, device_id))
    return f"{_SEALED}{epoch}:{crypto.b64e(box)}"


def open_name(team: str, device: dict, epoch_keys: dict[str, str]) -> str:
    text = device.get("name") or ""
    if not text.startswith(_SEALED):  # a name only the server vouches for (it could have written it)
        return f"{text} (unsealed name)" if text else f"device {device['id']}"
    epoch, _, sealed = text[len(_SEALED):].partition(":")
    key = epoch_keys.get(epoch)
    if key is None:
        return f"device {device['id']}"
    try:
        return crypto.unbox(crypto.b64d(key), crypto.b64d(sealed), _name_aad(team, device["id"]), "a device name").decode()
    except (Tampered, UnicodeDecodeError):
        return f"device {device['id']} (its name does not open)"


def _name_device(api: Api, name: str, epoch_keys: dict[str, str]) -> str:
    """Replace the placeholder name a device joined with by its sealed name (the keys come with the join);
    returns the sealed name as the server now holds it."""
    sealed = sealed_name(api.team, api.device, name, epoch_keys)
    api.post(api.team_path(f"/devices/{api.device}/name"), {"name": sealed})
    return sealed


def _recovery_device_id(seed: bytes) -> str:
    return crypto.derive(seed, "recovery device id", 8).hex()


def _post_invite(api: Api, role: str, epoch_keys: dict[str, str], hours: int) -> str:
    """Register a one-time invite signed by `api`'s device; the server learns only a hash of its token."""
    secret = secrets.token_bytes(32)
    invite_id = secrets.token_hex(6)
    token, wrap = crypto.invite_secrets(secret)
    blob = crypto.b64e(crypto.box(wrap, crypto.canonical({"keys": epoch_keys}), _invite_aad(api.team, invite_id)))
    expires = _now_ms() + hours * 3600 * 1000
    auth_hash = crypto.token_hash(token)
    signature = api.keys.signature(crypto.invite_record_message(api.team, invite_id, role, expires, auth_hash, blob))
    api.post(api.team_path("/invites"), {"id": invite_id, "auth_hash": auth_hash, "role": role,
                                        "expires": expires, "blob": blob, "signature": signature})
    return f"{api.team}.{invite_id}.{crypto.b64e(secret)}"


def _keep_keys(api: Api, keys: DeviceKeys, epoch_keys: dict[str, str]) -> None:
    """Store a copy of each epoch key wrapped for this (new) device, so it can fetch them again like any member
    (each with its proof under the key before, see `open_wraps`)."""
    api.post(api.team_path("/keys"), {"keys": {
        e: _proved(crypto.wrap_key(crypto.b64d(k), keys.box_pub, crypto.key_context(api.team, int(e), api.device)),
                   api.team, int(e), crypto.b64d(k), epoch_keys.get(str(int(e) - 1)))
        for e, k in epoch_keys.items()}})


def _proved(wrap: str, team: str, epoch: int, key: bytes, previous: str | None) -> str:
    """A wrapped key as the server stores it: WRAP or WRAP.PROOF (the proof under the previous epoch's key)."""
    if previous is None:
        return wrap
    return f"{wrap}.{crypto.epoch_proof(crypto.b64d(previous), team, epoch, key)}"


def open_wraps(team: str, device: str, keys: DeviceKeys, wraps: dict[str, str], known: dict[str, str]) -> dict[str, str]:
    """The epoch keys in `wraps` (from the server) that this device does not hold yet, oldest first, each
    checked against the key before it: a key for epoch N is taken only with a proof sealed under the key of
    epoch N-1, which the server cannot make. Epoch 1 has no key before it: it comes with the team's creation
    or an invite (sealed by the invite's secret); only a device restored from a recovery secret takes it from
    the server as it is. Returns {epoch: base64 key}."""
    have = dict(known)
    found: dict[str, str] = {}
    for epoch in sorted((e for e in wraps if e not in have), key=int):
        wrap, _, proof = wraps[epoch].partition(".")
        key = crypto.unwrap_key(wrap, keys, crypto.key_context(team, int(epoch), device))
        previous = have.get(str(int(epoch) - 1))
        if int(epoch) > 1:
            if previous is None or not proof:
                raise Tampered(N_("the team key of epoch {epoch} came without proof that a member of the team made "
                                  "it; it was not taken (the sync server may be trying to read the team's changes)"),
                               epoch=epoch)
            crypto.check_epoch_proof(crypto.b64d(previous), team, int(epoch), key, proof)
        have[epoch] = found[epoch] = crypto.b64e(key)
    return found


def _invite_from_recovery(server: str, team: str, seed: bytes, transport=None) -> str:
    """The paper device makes a one-time admin invite for the machine being set up."""
    keys = DeviceKeys.from_seed(seed)
    api = Api(server, team, _recovery_device_id(seed), keys, transport=transport)
    try:
        try:
            got = api.get(api.team_path("/keys"))
        except SyncError as exc:
            if exc.status in (401, 403, 404):
                raise DulyError(N_("this recovery secret is not valid for this team on this server (mistyped, or "
                                   "retired with `duly sync revoke`)")) from None
            raise
        epoch_keys = open_wraps(team, api.device, keys, got["keys"], {})
        return _post_invite(api, "admin", epoch_keys, 1)
    finally:
        api.close()


def _invite_aad(team: str, invite_id: str) -> bytes:
    return f"{team}/invite/{invite_id}".encode()


NAME_CHARS = 100


def parse_invite(code: str) -> tuple[str, str, bytes]:
    parts = (code or "").strip().split(".")
    if len(parts) != 3 or not all(parts):
        raise DulyError(N_("invite code not understood: expected TEAM.ID.SECRET as printed by `duly sync invite`"))
    try:
        secret = crypto.b64d(parts[2])
    except Tampered:
        secret = b""
    if len(secret) != 32:
        raise DulyError(N_("invite code not understood: its secret part is damaged"))
    return parts[0], parts[1], secret


@contextlib.contextmanager
def _withdrawn_on_failure(api: Api, made: Path | None = None):
    """Around the steps of a join after the server registered the device: if one fails, the device withdraws
    its registration (the invite stays usable) and removes the ledger file the join had put in place."""
    try:
        yield
    except BaseException:
        if made is not None:
            _remove_scratch(made)
        # If the server cannot be reached now, the next join with the invite replaces this registration.
        with contextlib.suppress(DulyError):
            api.post(api.team_path("/join/abandon"), {})
        raise
