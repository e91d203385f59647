"""`duly serve`: the team's relay and backup (DESIGN §4). It stores sealed bytes and never holds a key.

Every call but health, team creation and joining is signed by a registered device (Ed25519 over method,
path, team, device, time and body digest); roles are enforced here: admin (invites, revokes, key epochs),
member (reads and writes), viewer (reads only). Errors are JSON: `{"error": "...", ...}`.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
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
from sync.server.storage import ROLES, Gap, InviteRefused, PostgresStorage, Storage

MAX_BODY = 8 * 1024 * 1024
MAX_CHUNK = 2 * 1024 * 1024
MAX_PULL = 1000
REQUEST_WINDOW_MS = 5 * 60 * 1000
WRITERS = ("admin", "member")


class ApiError(Exception):
    def __init__(self, status: int, message: str, **extra):
        super().__init__(message)
        self.status = status
        self.extra = extra


def now_ms() -> int:
    return int(time.time() * 1000)


def _json(obj, status: int = 200) -> Response:
    return Response(crypto.canonical(obj), status_code=status, media_type="application/json")


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"request body of {int(declared)} bytes is over the limit of {limit} bytes")
    data = bytearray()
    async for part in request.stream():
        data += part
        if len(data) > limit:
            raise ApiError(413, f"request body is over the limit of {limit} bytes")
    return bytes(data)


def _parse(body: bytes) -> dict:
    try:
        obj = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "request body is not JSON") from None
    if not isinstance(obj, dict):
        raise ApiError(400, "request body must be a JSON object")
    return obj


def _need(obj: dict, key: str, kind=str):
    value = obj.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise ApiError(400, f"field {key!r} is missing or not a {getattr(kind, '__name__', kind)}")
    return value


def _device_fields(obj) -> dict:
    if not isinstance(obj, dict):
        raise ApiError(400, "field 'device' must be an object")
    device = {k: _need(obj, k) for k in ("id", "name", "sign_pub", "box_pub")}
    if not (1 <= len(device["id"]) <= 64 and device["id"].isalnum()):
        raise ApiError(400, "device id must be 1-64 letters or digits")
    return device


def _signed_path(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _check_signature(request: Request, team: str, device_id: str, sign_pub: str, body: bytes) -> None:
    stamp = request.headers.get("x-duly-time", "")
    if not stamp.isdigit():
        raise ApiError(401, "request is not signed (missing X-Duly-Time)")
    skew = int(stamp) - now_ms()
    if abs(skew) > REQUEST_WINDOW_MS:
        raise ApiError(401, f"device {device_id}'s clock is {skew / 60000:+.0f} minutes off the server's; "
                            "fix its clock and try again")
    message = crypto.request_message(request.method, _signed_path(request), team, device_id, stamp, body)
    try:
        crypto.verify_signature(sign_pub, message, request.headers.get("x-duly-signature", ""),
                                f"request from device {device_id}")
    except Tampered as exc:
        raise ApiError(401, str(exc)) from None


class SyncServer:
    def __init__(self, storage: Storage, *, max_body: int = MAX_BODY, keep_snapshots: int = 3,
                 team_token: str | None = None):
        self.team_token = team_token  # when set, creating a team needs it (X-Duly-Team-Token)
        self.storage = storage
        self.max_body = max_body
        self.keep = keep_snapshots

    async def _call(self, fn, *args):
        return await run_in_threadpool(fn, *args)

    async def authed(self, request: Request, roles=ROLES, limit: int | None = None) -> tuple[str, dict, bytes]:
        team = request.path_params["team"]
        device_id = request.headers.get("x-duly-device", "")
        body = await _body(request, limit or self.max_body)
        device = await self._call(self.storage.device, team, device_id) if device_id else None
        if device is None:
            await self._call(self.storage.team, team)  # 404 for an unknown team first
            raise ApiError(401, f"device {device_id or '(none)'} is not registered in team {team}")
        _check_signature(request, team, device_id, device["sign_pub"], body)
        if device["revoked"] is not None:
            raise ApiError(403, f"device {device_id} was removed from team {team}", device=device_id)
        if device["role"] not in roles:
            raise ApiError(403, f"device {device_id} is a {device['role']}; "
                                f"only {' or '.join(roles)} devices may do this", device=device_id)
        return team, device, body

    # -- endpoints -------------------------------------------------------------------------------
    async def health(self, request):
        backend = "postgresql" if isinstance(self.storage, PostgresStorage) else "sqlite"
        return _json({"ok": True, "server_time": now_ms(), "backend": backend})

    async def create_team(self, request):
        body = await _body(request, 64 * 1024)
        obj = _parse(body)
        team = _need(obj, "team")
        device = _device_fields(obj.get("device"))
        wrapped = _need(obj, "wrapped")
        if not (8 <= len(team) <= 64 and team.isalnum()):
            raise ApiError(400, "team id must be 8-64 letters or digits")
        _check_signature(request, team, device["id"], device["sign_pub"], body)
        if self.team_token is not None:
            given = request.headers.get("x-duly-team-token", "")
            if not hmac.compare_digest(given.encode(), self.team_token.encode()):
                raise ApiError(403, "this server creates teams only with its team token: "
                                    "give it with `duly sync init --team-token` (or DULY_TEAM_TOKEN)"
                               if not given else "the team token is not this server's")
        await self._call(self.storage.create_team, team, device, wrapped, now_ms())
        return _json({"team": team, "epoch": 1, "head": 0, "server_time": now_ms()}, 201)

    async def join(self, request):
        team = request.path_params["team"]
        body = await _body(request, 64 * 1024)
        obj = _parse(body)
        device = _device_fields(obj.get("device"))
        invite_id, token = _need(obj, "invite"), _need(obj, "token")
        _check_signature(request, team, device["id"], device["sign_pub"], body)
        auth_hash = crypto.token_hash(crypto.b64d(token))
        found = await self._call(self.storage.use_invite, team, invite_id, auth_hash, device, now_ms())
        return _json({**found, "team": team, "invite": invite_id, "server_time": now_ms()}, 201)

    async def state(self, request):
        team, device, _ = await self.authed(request)
        info = await self._call(self.storage.team, team)
        devices = await self._call(self.storage.devices, team)
        snap = await self._call(self.storage.latest_snapshot, team)
        return _json({**info, "server_time": now_ms(), "you": device, "devices": devices,
                      "snapshot": None if snap is None else {"id": snap["id"], "server_seq": snap["server_seq"]}})

    async def keys(self, request):
        team, device, _ = await self.authed(request)
        info = await self._call(self.storage.team, team)
        wraps = await self._call(self.storage.wrapped_keys, team, device["id"])
        return _json({"epoch": info["epoch"], "keys": {str(e): b for e, b in wraps.items()}})

    async def add_keys(self, request):
        team, device, body = await self.authed(request)
        wraps = _need(_parse(body), "keys", dict)
        clean = {}
        for epoch, blob in wraps.items():
            if not str(epoch).isdigit() or not isinstance(blob, str):
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
        target = request.path_params["device"]
        if target == device["id"]:
            raise ApiError(409, "an admin cannot remove its own device")
        await self._call(self.storage.revoke, team, target, now_ms())
        return _json({"ok": True, "revoked": target})

    async def rename(self, request):
        """A device's name as its team sees it: sealed by the device under the team key, opaque here."""
        team, device, body = await self.authed(request)
        target = request.path_params["device"]
        if target != device["id"] and device["role"] != "admin":
            raise ApiError(403, "a device can rename only itself (an admin, any device)")
        name = _need(_parse(body), "name")
        if not 1 <= len(name) <= 1024:
            raise ApiError(400, "a device name must be 1-1024 characters")
        await self._call(self.storage.rename_device, team, target, name)
        return _json({"ok": True})

    async def new_epoch(self, request):
        team, _, body = await self.authed(request, roles=("admin",))
        obj = _parse(body)
        epoch, wraps = _need(obj, "epoch", int), _need(obj, "wraps", dict)
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
            if env.get("v") != crypto.VERSION or env.get("team") != team or env.get("device") != device["id"] \
                    or not isinstance(seq, int) or seq < 1:
                raise ApiError(400, f"envelope {seq} does not belong to device {device['id']} of team {team}")
            if env.get("key_epoch") != info["epoch"]:
                raise ApiError(409, f"envelope {seq} is sealed under key epoch {env.get('key_epoch')} but the team "
                                    f"is at epoch {info['epoch']}", epoch=info["epoch"])
            try:
                ahead = Stamp.parse(str(env.get("hlc"))).ms - server_time
            except ValueError:
                raise ApiError(400, f"envelope {seq} has an unreadable clock stamp") from None
            if ahead > MAX_DRIFT_MS:
                raise ApiError(422, f"device {device['id']}'s clock is {ahead / 60000:.0f} "
                                    "minutes ahead of the server's; fix its clock and sync again",
                               device=device["id"])
            try:
                crypto.check_envelope_signature(env, device["sign_pub"])
            except Tampered as exc:
                raise ApiError(400, str(exc)) from None
            sealed.append((seq, crypto.canonical(env)))
        acked, head = await self._call(self.storage.push, team, device["id"], sealed)
        return _json({"acked": [d for d, _ in acked], "server_seqs": [s for _, s in acked], "head": head,
                      "server_time": now_ms()})

    async def pull(self, request):
        team, _, _ = await self.authed(request)
        try:
            after = int(request.query_params.get("after", "0"))
            limit = min(int(request.query_params.get("limit", "500")), MAX_PULL)
        except ValueError:
            raise ApiError(400, "after and limit must be whole numbers") from None
        if after < 0 or limit < 1:
            raise ApiError(400, "after must be 0 or more and limit 1 or more")
        rows, head = await self._call(self.storage.pull, team, after, limit)
        # The stored bytes go out as they are: no re-encoding of what the devices signed.
        items = b",".join(b'{"server_seq":%d,"envelope":%s}' % (seq, data) for seq, data in rows)
        body = b'{"changes":[' + items + b'],"head":%d,"server_time":%d}' % (head, now_ms())
        return Response(body, media_type="application/json")

    async def put_chunk(self, request):
        team, _, body = await self.authed(request, roles=WRITERS, limit=MAX_CHUNK)
        chunk_id = request.path_params["chunk"]
        if hashlib.sha256(body).hexdigest() != chunk_id:
            raise ApiError(400, f"chunk {chunk_id[:12]}... does not match its content address")
        created = await self._call(self.storage.put_chunk, team, chunk_id, body)
        return _json({"ok": True, "stored": created}, 201 if created else 200)

    async def get_chunk(self, request):
        team, _, _ = await self.authed(request)
        data = await self._call(self.storage.get_chunk, team, request.path_params["chunk"])
        if data is None:
            raise ApiError(404, f"no chunk {request.path_params['chunk'][:12]}... in team {team}")
        return Response(data, media_type="application/octet-stream")

    async def add_snapshot(self, request):
        team, device, body = await self.authed(request, roles=WRITERS)
        obj = _parse(body)
        record = {"id": _need(obj, "id"), "server_seq": _need(obj, "server_seq", int), "chunks": _need(obj, "chunks", list),
                  "manifest": _need(obj, "manifest"), "signature": _need(obj, "signature"),
                  "device": device["id"], "epoch": _need(obj, "epoch", int)}
        try:
            crypto.verify_signature(device["sign_pub"], snapshot_message(team, record), record["signature"],
                                    f"snapshot {record['id']}")
        except Tampered as exc:
            raise ApiError(400, str(exc)) from None
        snap = {**record, "created": now_ms(), "manifest": crypto.canonical(record)}
        await self._call(self.storage.add_snapshot, team, snap, self.keep)
        return _json({"ok": True, "snapshot": record["id"]}, 201)

    async def latest_snapshot(self, request):
        team, _, _ = await self.authed(request)
        snap = await self._call(self.storage.latest_snapshot, team)
        if snap is None:
            raise ApiError(404, f"team {team} has no snapshot yet")
        return Response(snap["manifest"], media_type="application/json")


_STATUS = {NotFound: 404, InviteRefused: 403, Conflict: 409, Tampered: 400}


async def _error(request, exc):
    if isinstance(exc, ApiError):
        return JSONResponse({"error": str(exc), **exc.extra}, status_code=exc.status)
    if isinstance(exc, HTTPException):
        return JSONResponse({"error": exc.detail or "request refused"}, status_code=exc.status_code)
    if isinstance(exc, Gap):
        return JSONResponse({"error": str(exc), "expected": exc.expected}, status_code=409)
    if isinstance(exc, DulyError):
        status = next((s for t, s in _STATUS.items() if isinstance(exc, t)), 400)
        return JSONResponse({"error": str(exc)}, status_code=status)
    return JSONResponse({"error": f"internal error: {type(exc).__name__}"}, status_code=500)


def create_app(storage: Storage, *, max_body: int = MAX_BODY, keep_snapshots: int = 3,
               team_token: str | None = None) -> Starlette:
    s = SyncServer(storage, max_body=max_body, keep_snapshots=keep_snapshots, team_token=team_token)
    t = "/v1/teams/{team}"
    routes = [
        Route("/v1/health", s.health, methods=["GET"]),
        Route("/v1/teams", s.create_team, methods=["POST"]),
        Route(t + "/join", s.join, methods=["POST"]),
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
