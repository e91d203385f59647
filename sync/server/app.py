"""`duly serve`: the team's relay and backup (DESIGN §4). It stores sealed bytes and never holds a key.

Every call but health, team creation and joining is signed by a registered device (Ed25519 over method,
path, team, device, time, a nonce and body digest), and each signed request is accepted once; roles are
enforced here: admin (invites, revokes, key epochs, snapshots), member (reads and writes), viewer (reads only).
A device that has joined with an invite but not yet said it is done may only read and store its own key copies
and name. Malformed requests get a 4xx with a JSON error: `{"error": "...", ...}`.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import threading
import time
from collections import deque
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from store.errors import Conflict, DulyError, NotFound
from store.ledger.hlc import MAX_DRIFT_MS, Stamp
from sync import crypto
from sync.crypto import Tampered
from sync.protocol import snapshot_message
from sync.server.storage import ROLES, Gap, InviteRefused, PostgresStorage, Replayed, Storage

MAX_BODY = 8 * 1024 * 1024
MAX_CHUNK = 2 * 1024 * 1024
MAX_PULL = 1000
REQUEST_WINDOW_MS = 5 * 60 * 1000
WRITERS = ("admin", "member")
TEAMS_PER_MINUTE = 10  # teams one client address may create per minute
MAX_INT = 2**63 - 1  # the storage's BIGINT: every number a request carries fits in it
MAX_DEPTH = 8  # nesting of a request body (the deepest the protocol uses is 3)
MAX_NAME = 1024  # characters of a (sealed) device name
MAX_WRAP = 4096  # characters of a wrapped key
MAX_MANIFEST = 64 * 1024  # characters of a sealed snapshot manifest

_ID = re.compile(r"[A-Za-z0-9]{1,64}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_B64 = re.compile(r"[A-Za-z0-9_-]+")
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
_DIGITS = re.compile(r"[0-9]{1,18}")


# Every error answer is {"error": "<English words>", "code": "<stable code>", ...values}: programs read the code (and
# the values beside it), the client words it in its user's language (sync/client/api.py REFUSALS). A code is never
# renamed; a new kind of refusal gets a new one.
STATUS_CODES = {400: "bad_request", 401: "not_signed", 403: "forbidden", 404: "not_found", 409: "conflict",
                413: "too_large", 422: "unprocessable", 426: "upgrade_required", 429: "too_many_requests"}


class ApiError(Exception):
    def __init__(self, status: int, message: str, *, code: str | None = None, **extra):
        super().__init__(message)
        self.status = status
        self.code = code or STATUS_CODES.get(status, "refused")
        self.extra = extra


def now_ms() -> int:
    return int(time.time() * 1000)


def _json(obj, status: int = 200) -> Response:
    return Response(crypto.canonical(obj), status_code=status, media_type="application/json")


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"request body of {int(declared)} bytes is over the limit of {limit} bytes", limit=limit)
    data = bytearray()
    async for part in request.stream():
        data += part
        if len(data) > limit:
            raise ApiError(413, f"request body is over the limit of {limit} bytes", limit=limit)
    return bytes(data)


def _parse(body: bytes) -> dict:
    try:
        obj = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError(400, "request body is not JSON (or is nested too deeply)") from None
    if not isinstance(obj, dict):
        raise ApiError(400, "request body must be a JSON object")
    _check_values(obj)
    return obj


def _check_values(obj) -> None:
    """Refuse what no route uses and storage cannot hold: deep nesting, numbers beyond 64 bits, text with a NUL
    or a lone surrogate (not UTF-8)."""
    todo = [(obj, 1)]
    while todo:
        value, depth = todo.pop()
        if depth > MAX_DEPTH:
            raise ApiError(400, f"request body is nested more than {MAX_DEPTH} levels deep")
        if isinstance(value, dict):
            todo += [(k, depth) for k in value] + [(v, depth + 1) for v in value.values()]
        elif isinstance(value, list):
            todo += [(v, depth + 1) for v in value]
        elif isinstance(value, str):
            if "\x00" in value or not _utf8(value):
                raise ApiError(400, "request body has text with a NUL or an unpaired surrogate")
        elif isinstance(value, int) and not isinstance(value, bool) and not -MAX_INT <= value <= MAX_INT:
            raise ApiError(400, "request body has a number beyond 64 bits")
        elif isinstance(value, float) and not math.isfinite(value):
            raise ApiError(400, "request body has a number that is not finite")


def _utf8(text: str) -> bool:
    try:
        text.encode()
        return True
    except UnicodeEncodeError:
        return False


def _whole(text: str | None, what: str, default: int | None = None) -> int:
    """A whole number of at most 18 ASCII digits from a query parameter (so it fits in a BIGINT)."""
    if text is None and default is not None:
        return default
    if text is None or not _DIGITS.fullmatch(text):
        raise ApiError(400, f"{what} must be a whole number of at most 18 digits")
    return int(text)


def _need(obj: dict, key: str, kind=str):
    value = obj.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise ApiError(400, f"field {key!r} is missing or not a {getattr(kind, '__name__', kind)}")
    return value


def _device_fields(obj) -> dict:
    if not isinstance(obj, dict):
        raise ApiError(400, "field 'device' must be an object")
    device = {k: _need(obj, k) for k in ("id", "name", "sign_pub", "box_pub")}
    if not _ID.fullmatch(device["id"]):
        raise ApiError(400, "device id must be 1-64 letters or digits")
    if not 1 <= len(device["name"]) <= MAX_NAME:
        raise ApiError(400, f"a device name must be 1-{MAX_NAME} characters")
    for key in ("sign_pub", "box_pub"):
        if not _public_key(device[key]):
            raise ApiError(400, f"device {key} must be a 32-byte public key in base64")
    return device


def _public_key(text: str) -> bool:
    return len(text) == 43 and bool(_B64.fullmatch(text))


def _base64(text: str, what: str, limit: int) -> str:
    if not 1 <= len(text) <= limit or not _B64.fullmatch(text):
        raise ApiError(400, f"{what} must be base64 text of 1-{limit} characters")
    return text


def _signed_path(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _check_signature(request: Request, team: str, device_id: str, sign_pub: str, body: bytes,
                     digest: str | None = None) -> str:
    """Check a request's time and signature; returns its nonce (the caller has it remembered once)."""
    stamp = request.headers.get("x-duly-time", "")
    if not re.fullmatch(r"[0-9]{1,15}", stamp):
        raise ApiError(401, "request is not signed (missing or malformed X-Duly-Time)")
    skew = int(stamp) - now_ms()
    if abs(skew) > REQUEST_WINDOW_MS:
        raise ApiError(401, f"device {device_id}'s clock is {skew / 60000:+.0f} minutes off the server's; "
                            "fix its clock and try again", code="clock_off", device=device_id,
                       minutes=f"{skew / 60000:+.0f}")
    nonce = request.headers.get("x-duly-nonce", "")
    if not _NONCE.fullmatch(nonce):
        raise ApiError(401, "request is not signed (missing or malformed X-Duly-Nonce)")
    message = crypto.request_message(request.method, _signed_path(request), team, device_id, stamp, body, nonce,
                                     digest)
    try:
        crypto.verify_signature(sign_pub, message, request.headers.get("x-duly-signature", ""),
                                f"request from device {device_id}")
    except Tampered as exc:
        raise ApiError(401, str(exc)) from None
    return nonce


class RateLimit:
    """At most `per_minute` events per key in any 60 seconds (in this process's memory)."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self._seen: dict[str, deque] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            for k in [k for k, q in self._seen.items() if q and q[-1] < now - 60]:
                del self._seen[k]  # forget addresses quiet for a minute
            seen = self._seen.setdefault(key, deque())
            while seen and seen[0] < now - 60:
                seen.popleft()
            if len(seen) >= self.per_minute:
                return False
            seen.append(now)
            return True


class SyncServer:
    def __init__(self, storage: Storage, *, max_body: int = MAX_BODY, keep_snapshots: int = 3,
                 team_token: str | None = None, teams_per_minute: int = TEAMS_PER_MINUTE):
        self.team_token = team_token  # when set, creating a team needs it (X-Duly-Team-Token)
        self.storage = storage
        self.max_body = max_body
        self.keep = keep_snapshots
        self.team_creation = RateLimit(teams_per_minute)

    async def _call(self, fn, *args):
        return await run_in_threadpool(fn, *args)

    async def _once(self, team: str, device_id: str, nonce: str) -> None:
        # Stamps older than the window are refused, so a nonce needs remembering only as long as a stamp
        # accepted with it could still pass: twice the window.
        await self._call(self.storage.remember_request, team, device_id, nonce, now_ms(), 2 * REQUEST_WINDOW_MS)

    async def authed(self, request: Request, roles=ROLES, limit: int | None = None,
                     while_joining: bool = False, digest: bool = False) -> tuple[str, dict, bytes]:
        """The team, the calling device and the body of a signed request; with digest=True the body comes as
        (body, its SHA-256 in hex), hashed once for the signature and the caller (a chunk's content address)."""
        team = _team_param(request)
        device_id = request.headers.get("x-duly-device", "")
        body = await _body(request, limit or self.max_body)
        body_digest = hashlib.sha256(body).hexdigest() if digest else None
        device = await self._call(self.storage.device, team, device_id) if _ID.fullmatch(device_id) else None
        if device is None:
            await self._call(self.storage.team, team)  # 404 for an unknown team first
            shown = device_id if _ID.fullmatch(device_id) else "(none)"
            raise ApiError(401, f"device {shown} is not registered in team {team}", code="device_unknown",
                           device=shown, team=team)
        nonce = _check_signature(request, team, device_id, device["sign_pub"], body, body_digest)
        await self._once(team, device_id, nonce)
        if device["joining"] and not while_joining:
            raise ApiError(403, f"device {device_id} has not finished joining team {team}", code="device_joining",
                           device=device_id, team=team)
        if device["revoked"] is not None:
            raise ApiError(403, f"device {device_id} was removed from team {team}", code="device_removed",
                           device=device_id, team=team)
        if device["role"] not in roles:
            raise ApiError(403, f"device {device_id} is a {device['role']}; "
                                f"only {' or '.join(roles)} devices may do this", code="role_refused",
                           device=device_id, role=device["role"], roles=" or ".join(roles))
        return team, device, (body, body_digest) if digest else body

    # -- endpoints -------------------------------------------------------------------------------
    async def health(self, request):
        backend = "postgresql" if isinstance(self.storage, PostgresStorage) else "sqlite"
        return _json({"ok": True, "server_time": now_ms(), "backend": backend})

    async def create_team(self, request):
        address = request.client.host if request.client else "unknown"
        if not self.team_creation.allow(address):
            per_minute = self.team_creation.per_minute
            raise ApiError(429, f"too many teams created from {address}: at most {per_minute} a minute; try again "
                                "in a minute", code="too_many_teams", address=address, per_minute=per_minute)
        body = await _body(request, 64 * 1024)
        obj = _parse(body)
        team = _need(obj, "team")
        device = _device_fields(obj.get("device"))
        wrapped = _base64(_need(obj, "wrapped"), "field 'wrapped'", MAX_WRAP)
        if not (8 <= len(team) <= 64 and _ID.fullmatch(team)):
            raise ApiError(400, "team id must be 8-64 letters or digits")
        nonce = _check_signature(request, team, device["id"], device["sign_pub"], body)
        if self.team_token is not None:
            given = request.headers.get("x-duly-team-token", "")
            if not hmac.compare_digest(given.encode(), self.team_token.encode()):
                if not given:
                    raise ApiError(403, "this server creates teams only with its team token: give it with "
                                        "`duly sync init --team-token` (or DULY_TEAM_TOKEN)", code="team_token_needed")
                raise ApiError(403, "the team token is not this server's", code="team_token_wrong")
        await self._call(self.storage.create_team, team, device, wrapped, now_ms())
        await self._once(team, device["id"], nonce)
        return _json({"team": team, "epoch": 1, "head": 0, "server_time": now_ms()}, 201)

    async def join(self, request):
        team = _team_param(request)
        body = await _body(request, 64 * 1024)
        obj = _parse(body)
        device = _device_fields(obj.get("device"))
        invite_id, token = _need(obj, "invite"), _need(obj, "token")
        if not _ID.fullmatch(invite_id):
            raise ApiError(400, "invite id must be 1-64 letters or digits")
        nonce = _check_signature(request, team, device["id"], device["sign_pub"], body)
        await self._once(team, device["id"], nonce)
        try:
            auth_hash = crypto.token_hash(crypto.b64d(token))
        except Tampered:
            raise ApiError(400, "field 'token' is not base64 text") from None
        found = await self._call(self.storage.use_invite, team, invite_id, auth_hash, device, now_ms())
        return _json({**found, "team": team, "invite": invite_id, "server_time": now_ms()}, 201)

    async def join_done(self, request):
        """The joining device holds the keys and its copy of the book: its invite is spent now."""
        team, device, _ = await self.authed(request, while_joining=True)
        await self._call(self.storage.finish_join, team, device["id"])
        return _json({"ok": True})

    async def join_abandon(self, request):
        """The join failed on the device: its registration is withdrawn and the invite stays usable."""
        team, device, _ = await self.authed(request, while_joining=True)
        await self._call(self.storage.abandon_join, team, device["id"])
        return _json({"ok": True})

    async def state(self, request):
        team, device, _ = await self.authed(request, while_joining=True)
        info = await self._call(self.storage.team, team)
        devices = await self._call(self.storage.devices, team)
        snap = await self._call(self.storage.latest_snapshot, team)
        # protocol: the newest envelope version this server takes (sync.crypto.VERSIONS); max_body: the largest
        # request body it takes, so a device fills a push request up to it.
        return _json({**info, "server_time": now_ms(), "you": device, "devices": devices,
                      "protocol": crypto.PROTOCOL, "max_body": self.max_body,
                      "snapshot": None if snap is None else {"id": snap["id"], "server_seq": snap["server_seq"]}})

    async def keys(self, request):
        team, device, _ = await self.authed(request, while_joining=True)
        info = await self._call(self.storage.team, team)
        wraps = await self._call(self.storage.wrapped_keys, team, device["id"])
        return _json({"epoch": info["epoch"], "keys": {str(e): b for e, b in wraps.items()}})

    async def add_keys(self, request):
        team, device, body = await self.authed(request, while_joining=True)
        wraps = _need(_parse(body), "keys", dict)
        clean = {}
        for epoch, blob in wraps.items():
            if not re.fullmatch(r"[0-9]{1,9}", epoch) or not isinstance(blob, str) or not 1 <= len(blob) <= MAX_WRAP:
                raise ApiError(400, "keys must map epoch numbers to wrapped keys")
            clean[int(epoch)] = blob
        await self._call(self.storage.add_wrapped, team, device["id"], clean)
        return _json({"ok": True})

    async def invite(self, request):
        team, device, body = await self.authed(request, roles=("admin",))
        obj = _parse(body)
        invite = {"id": _need(obj, "id"), "auth_hash": _need(obj, "auth_hash"), "role": _need(obj, "role"),
                  "expires": _need(obj, "expires", int), "blob": _need(obj, "blob"),
                  "signature": _need(obj, "signature"), "created_by": device["id"]}
        if not _ID.fullmatch(invite["id"]) or not _HEX64.fullmatch(invite["auth_hash"]):
            raise ApiError(400, "an invite needs an id of 1-64 letters or digits and a SHA-256 auth_hash in hex")
        if not 0 <= invite["expires"] <= MAX_INT or len(invite["blob"]) > 64 * 1024:
            raise ApiError(400, "an invite's expiry or sealed keys are out of range")
        if invite["role"] not in ROLES:
            raise ApiError(400, f"role {invite['role']!r} is not one of {', '.join(ROLES)}")
        message = crypto.invite_record_message(team, invite["id"], invite["role"], invite["expires"],
                                               invite["auth_hash"], invite["blob"])
        try:
            crypto.verify_signature(device["sign_pub"], message, invite["signature"], f"invite {invite['id']}")
        except Tampered as exc:
            raise ApiError(400, str(exc)) from None
        await self._call(self.storage.add_invite, team, invite)
        return _json({"ok": True, "invite": invite["id"], "expires": invite["expires"]}, 201)

    async def revoke(self, request):
        team, device, _ = await self.authed(request, roles=("admin",))
        target = _device_param(request, team)
        if target == device["id"]:
            raise ApiError(409, "an admin cannot remove its own device", code="own_device")
        await self._call(self.storage.revoke, team, target, now_ms())
        return _json({"ok": True, "revoked": target})

    async def rename(self, request):
        """A device's name as its team sees it: sealed by the device under the team key, opaque here."""
        team, device, body = await self.authed(request, while_joining=True)
        target = _device_param(request, team)
        if target != device["id"] and device["role"] != "admin":
            raise ApiError(403, "a device can rename only itself (an admin, any device)", code="rename_other")
        name = _need(_parse(body), "name")
        if not 1 <= len(name) <= MAX_NAME:
            raise ApiError(400, f"a device name must be 1-{MAX_NAME} characters")
        await self._call(self.storage.rename_device, team, target, name)
        return _json({"ok": True})

    async def new_epoch(self, request):
        team, _, body = await self.authed(request, roles=("admin",))
        obj = _parse(body)
        epoch, wraps = _need(obj, "epoch", int), _need(obj, "wraps", dict)
        if any(not _ID.fullmatch(d) or not isinstance(w, str) or not 1 <= len(w) <= MAX_WRAP for d, w in wraps.items()):
            raise ApiError(400, "wraps must map device ids to wrapped keys")
        await self._call(self.storage.new_epoch, team, epoch, wraps)
        return _json({"ok": True, "epoch": epoch}, 201)

    async def push(self, request):
        team, device, body = await self.authed(request, roles=WRITERS)
        envelopes = _need(_parse(body), "envelopes", list)
        info = await self._call(self.storage.team, team)
        server_time = now_ms()
        sealed = []
        for env in envelopes:
            if not isinstance(env, dict):
                raise ApiError(400, "each envelope must be a JSON object")
            seq = env.get("device_seq")
            version = env.get("v")  # a whole number: True == 1 and 2.0 == 2 in Python, but are not versions
            if type(version) is not int or version not in crypto.VERSIONS or env.get("team") != team \
                    or env.get("device") != device["id"] or not isinstance(seq, int) or isinstance(seq, bool) \
                    or not 1 <= seq <= MAX_INT:
                raise ApiError(400, f"envelope {seq} does not belong to device {device['id']} of team {team}")
            if env.get("key_epoch") != info["epoch"]:
                raise ApiError(409, f"envelope {seq} is sealed under key epoch {env.get('key_epoch')} but the team "
                                    f"is at epoch {info['epoch']}", code="epoch_behind", epoch=info["epoch"])
            try:
                hlc = env.get("hlc")
                if not isinstance(hlc, str) or len(hlc) > 128:
                    raise ValueError(hlc)
                ahead = min(Stamp.parse(hlc).ms, MAX_INT) - server_time
            except ValueError:
                raise ApiError(400, f"envelope {seq} has an unreadable clock stamp") from None
            if ahead > MAX_DRIFT_MS:
                raise ApiError(422, f"device {device['id']}'s clock is {ahead / 60000:.0f} "
                                    "minutes ahead of the server's; fix its clock and sync again",
                               code="clock_ahead", device=device["id"], minutes=f"{ahead / 60000:.0f}")
            try:
                crypto.check_envelope_signature(env, device["sign_pub"])
            except Tampered as exc:
                raise ApiError(400, str(exc)) from None
            sealed.append((seq, crypto.canonical(env)))
        acked, head = await self._call(self.storage.push, team, device["id"], sealed)
        return _json({"acked": [d for d, _ in acked], "server_seqs": [s for _, s in acked], "head": head,
                      "server_time": now_ms()})

    async def pull(self, request):
        team, _, _ = await self.authed(request, while_joining=True)
        after = _whole(request.query_params.get("after"), "after", 0)
        limit = min(_whole(request.query_params.get("limit"), "limit", 500), MAX_PULL)
        if limit < 1:
            raise ApiError(400, "limit must be 1 or more")
        rows, head = await self._call(self.storage.pull, team, after, limit)
        rows = _readable_by(request, rows)
        # The stored bytes go out as they are: no re-encoding of what the devices signed.
        items = b",".join(b'{"server_seq":%d,"envelope":%s}' % (seq, data) for seq, data in rows)
        body = b'{"changes":[' + items + b'],"head":%d,"server_time":%d}' % (head, now_ms())
        return Response(body, media_type="application/json")

    async def put_chunk(self, request):
        team, _, (body, digest) = await self.authed(request, roles=WRITERS, limit=MAX_CHUNK, digest=True)
        chunk_id = request.path_params["chunk"]
        if digest != chunk_id or not _HEX64.fullmatch(chunk_id):
            raise ApiError(400, f"chunk {chunk_id[:12]}... does not match its content address")
        created = await self._call(self.storage.put_chunk, team, chunk_id, body)
        return _json({"ok": True, "stored": created}, 201 if created else 200)

    async def get_chunk(self, request):
        team, _, _ = await self.authed(request, while_joining=True)
        chunk_id = request.path_params["chunk"]
        data = await self._call(self.storage.get_chunk, team, chunk_id) if _HEX64.fullmatch(chunk_id) else None
        if data is None:
            raise ApiError(404, f"no chunk {request.path_params['chunk'][:12]}... in team {team}")
        return Response(data, media_type="application/octet-stream")

    async def add_snapshot(self, request):
        """An admin's snapshot of the book for new devices and recovery: the team's backup, so only an admin
        publishes one, it must stand at a point of the log the team has reached, and its record must be whole."""
        team, device, body = await self.authed(request, roles=("admin",))
        obj = _parse(body)
        record = {"id": _need(obj, "id"), "server_seq": _need(obj, "server_seq", int), "chunks": _need(obj, "chunks", list),
                  "manifest": _need(obj, "manifest"), "signature": _need(obj, "signature"),
                  "device": device["id"], "epoch": _need(obj, "epoch", int)}
        _check_snapshot_record(record, self.max_body)
        try:
            crypto.verify_signature(device["sign_pub"], snapshot_message(team, record), record["signature"],
                                    f"snapshot {record['id']}")
        except Tampered as exc:
            raise ApiError(400, str(exc)) from None
        snap = {**record, "manifest": crypto.canonical(record)}
        await self._call(self.storage.add_snapshot, team, snap, self.keep, now_ms())
        return _json({"ok": True, "snapshot": record["id"]}, 201)

    async def latest_snapshot(self, request):
        team, _, _ = await self.authed(request, while_joining=True)
        snap = await self._call(self.storage.latest_snapshot, team)
        if snap is None:
            raise ApiError(404, f"team {team} has no snapshot yet", code="no_snapshot", team=team)
        return Response(snap["manifest"], media_type="application/json")


def _protocol(request: Request) -> int:
    """The newest envelope version the calling device reads (X-Duly-Protocol; a device before sync protocol 2 does
    not say, and reads version 1 only)."""
    given = request.headers.get("x-duly-protocol", "")  # Latin-1: '²' is a digit to str.isdigit, not to int()
    return int(given) if _DIGITS.fullmatch(given) else 1


def _readable_by(request: Request, rows: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
    """The rows of a page a device can read: those before the first envelope of a version newer than it reads. A
    page that starts with one is refused (426) with words the device shows as they are: it would otherwise open
    it and call it damaged. A device pulls until it reaches the head, so it applies everything before that
    change and is refused at it, not at the first page that holds it."""
    if _protocol(request) >= crypto.PROTOCOL:
        return rows
    for index, (seq, data) in enumerate(rows):
        try:
            version = json.loads(data).get("v", 1)
        except (ValueError, AttributeError):
            continue  # not this check's business: the device says what it cannot read
        if isinstance(version, int) and version > _protocol(request):
            if index:
                return rows[:index]
            raise ApiError(426, f"the team's log holds changes in sync protocol {version} (from server position "
                                f"{seq}), which this version of Duly cannot read: upgrade Duly on this device and "
                                "sync again", code="protocol_too_old", protocol=version)
    return rows


def _check_snapshot_record(record: dict, max_body: int) -> None:
    """What the server can check of a snapshot without a key: the shape, types and sizes of its record. The
    manifest is sealed under the team key (nonce, ciphertext and tag: at least 28 bytes in base64)."""
    if not _ID.fullmatch(record["id"]):
        raise ApiError(400, "a snapshot id must be 1-64 letters or digits")
    if not 0 <= record["server_seq"] <= MAX_INT or not 1 <= record["epoch"] <= MAX_INT:
        raise ApiError(400, "a snapshot's server_seq must be 0 or more and its epoch 1 or more")
    chunks = record["chunks"]
    if not chunks or len(chunks) > max_body // 64 or not all(isinstance(c, str) and _HEX64.fullmatch(c) for c in chunks):
        raise ApiError(400, "a snapshot's chunks must be a non-empty list of SHA-256 content addresses in hex")
    manifest = _base64(record["manifest"], "a snapshot's manifest", MAX_MANIFEST)
    if len(manifest) < 38:  # 28 bytes
        raise ApiError(400, "a snapshot's manifest is too short to be a sealed manifest")


def _team_param(request: Request) -> str:
    team = request.path_params["team"]
    if not _ID.fullmatch(team):
        raise ApiError(404, "no such team on this server", code="no_team")
    return team


def _device_param(request: Request, team: str) -> str:
    device = request.path_params["device"]
    if not _ID.fullmatch(device):
        raise ApiError(404, f"no such device in team {team}", code="no_device", team=team)
    return device


_STATUS = {NotFound: 404, InviteRefused: 403, Replayed: 409, Conflict: 409, Tampered: 400}


def _values(exc: DulyError) -> dict:
    """The plain values of a refusal (names, numbers), sent beside its code for the client to word it."""
    return {k: v for k, v in exc.values.items()
            if k not in ("error", "code") and isinstance(v, (str, int, float, bool)) and not isinstance(v, DulyError)}


async def _error(request, exc):
    if isinstance(exc, ApiError):
        return JSONResponse({"error": str(exc), "code": exc.code, **exc.extra}, status_code=exc.status)
    if isinstance(exc, HTTPException):
        return JSONResponse({"error": exc.detail or "request refused",
                             "code": STATUS_CODES.get(exc.status_code, "refused")}, status_code=exc.status_code)
    if isinstance(exc, Gap):
        return JSONResponse({"error": str(exc), **_values(exc), "code": "gap", "expected": exc.expected},
                            status_code=409)
    if isinstance(exc, Replayed):  # the device whose request it is can tell its answer was lost on the way
        return JSONResponse({"error": str(exc), **_values(exc), "code": "replayed", "replayed": True},
                            status_code=409)
    if isinstance(exc, DulyError):
        status = next((s for t, s in _STATUS.items() if isinstance(exc, t)), 400)
        code = getattr(exc, "code", None)
        values = _values(exc) if code else {}  # a refusal with its own code: the values its words name
        return JSONResponse({"error": str(exc), **values, "code": code or STATUS_CODES.get(status, "refused")},
                            status_code=status)
    return JSONResponse({"error": f"internal error: {type(exc).__name__}", "code": "internal"}, status_code=500)


def create_app(storage: Storage, *, max_body: int = MAX_BODY, keep_snapshots: int = 3,
               team_token: str | None = None, teams_per_minute: int = TEAMS_PER_MINUTE) -> Starlette:
    s = SyncServer(storage, max_body=max_body, keep_snapshots=keep_snapshots, team_token=team_token,
                   teams_per_minute=teams_per_minute)
    t = "/v1/teams/{team}"
    routes = [
        Route("/v1/health", s.health, methods=["GET"]),
        Route("/v1/teams", s.create_team, methods=["POST"]),
        Route(t + "/join", s.join, methods=["POST"]),
        Route(t + "/join/done", s.join_done, methods=["POST"]),
        Route(t + "/join/abandon", s.join_abandon, methods=["POST"]),
        Route(t + "/state", s.state, methods=["GET"]),
        Route(t + "/keys", s.keys, methods=["GET"]),
        Route(t + "/keys", s.add_keys, methods=["POST"]),
        Route(t + "/invites", s.invite, methods=["POST"]),
        Route(t + "/devices/{device}/revoke", s.revoke, methods=["POST"]),
        Route(t + "/devices/{device}/name", s.rename, methods=["POST"]),
        Route(t + "/epochs", s.new_epoch, methods=["POST"]),
        Route(t + "/push", s.push, methods=["POST"]),
        Route(t + "/pull", s.pull, methods=["GET"]),
        Route(t + "/chunks/{chunk}", s.put_chunk, methods=["PUT"]),
        Route(t + "/chunks/{chunk}", s.get_chunk, methods=["GET"]),
        Route(t + "/snapshots", s.add_snapshot, methods=["POST"]),
        Route(t + "/snapshots/latest", s.latest_snapshot, methods=["GET"]),
    ]
    handlers = {ApiError: _error, HTTPException: _error, DulyError: _error, Exception: _error}
    @asynccontextmanager
    async def lifespan(app):
        yield
        storage.close()

    app = Starlette(routes=routes, exception_handlers=handlers, lifespan=lifespan)
    # a path with a trailing slash is no route: answered 404 with JSON like any other, not redirected (Starlette's
    # default answers 307 with an empty body that a client would follow to another path)
    app.router.redirect_slashes = False
    app.state.storage = storage
    return app


class ServerThread:
    """A real uvicorn server on loopback in a background thread (tests and benchmarks)."""

    def __init__(self, storage: Storage, *, host: str = "127.0.0.1", port: int = 0, **options):
        import socket
        import threading

        import uvicorn

        if not port:
            with socket.socket() as probe:
                probe.bind((host, 0))
                port = probe.getsockname()[1]
        self.port = port
        self.url = f"http://{host}:{self.port}"
        config = uvicorn.Config(create_app(storage, **options), host=host, port=port, log_level="warning",
                                lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "ServerThread":
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the sync server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)
