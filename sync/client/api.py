"""The device's HTTP transport to the sync server: one signed call, its errors (SyncError, Offline) and paths."""
from __future__ import annotations

import secrets
import time
from datetime import datetime, timezone

import httpx

from store.errors import DulyError
from sync import crypto
from sync.crypto import DeviceKeys
from sync.protocol import STORAGE_REFUSALS
from store.i18n import N_


PUSH_BATCH = 500
PUSH_BYTES = 4 * 1024 * 1024  # a push request's envelopes, when the server does not say how much it takes
MAX_PUSH_BYTES = 32 * 1024 * 1024  # and at most, when it does
PULL_LIMIT = 500
# The operations text (decompressed) a device opens from one page of a pull before it applies them: the rest of the
# page is asked for again. 500 changes of up to MAX_OPS_TEXT each could have held gigabytes; a page now holds this
# and one change more at most (a 200k-invoice book's envelopes are about 1 MB each: 32 to a page).
PULL_TEXT = 32 * 1024 * 1024
CHUNK_BYTES = 1024 * 1024
UPLOADS = 2  # snapshot chunks on their way to the server at once
SNAPSHOT_EVERY = 5000  # changes on the server since the newest snapshot before `sync now` makes another
INVITE_HOURS = 72


class SyncError(DulyError):
    """The server refused a call; str() is its message."""

    def __init__(self, message: str, status: int = 0, body: dict | None = None, **values):
        super().__init__(message, **values)
        self.status = status
        self.body = body or {}


# The sync server's refusals by their stable code (sync/server/app.py), in the words of this device's user; the
# values are the fields the server sends beside the code. A code this client does not know is shown in the server's
# own (English) words.
REFUSALS = {
    "invite_invalid": N_("this invite is not valid for this team (mistyped or forged)"),
    "invite_used": N_("this invite was already used; ask an admin for a new one"),
    "invite_expired": N_("this invite has expired; ask an admin for a new one"),
    "device_unknown": N_("device {device} is not registered in team {team}"),
    "device_joining": N_("device {device} has not finished joining team {team}"),
    "device_removed": N_("device {device} was removed from team {team}"),
    "role_refused": N_("device {device} is a {role}; only {roles} devices may do this"),
    "clock_off": N_("device {device}'s clock is {minutes} minutes off the server's; fix its clock and try again"),
    "clock_ahead": N_("device {device}'s clock is {minutes} minutes ahead of the server's; fix its clock and sync "
                      "again"),
    "too_many_teams": N_("too many teams created from {address}: at most {per_minute} a minute; try again in a "
                         "minute"),
    "team_token_needed": N_("this server creates teams only with its team token: give it with "
                            "`duly sync init --team-token` (or DULY_TEAM_TOKEN)"),
    "team_token_wrong": N_("the team token is not this server's"),
    "own_device": N_("an admin cannot remove its own device"),
    "rename_other": N_("a device can rename only itself (an admin, any device)"),
    "no_snapshot": N_("team {team} has no snapshot yet"),
    "too_large": N_("the request is over the limit of {limit} bytes"),
    **STORAGE_REFUSALS,  # what the server's storage refuses (a team, device, key epoch, change or snapshot)
}


def refusal(found: dict, text: str, names: dict[str, str] | None = None) -> DulyError:
    """A server's refusal as words for a person: by its code where this client knows it, else as the server said it."""
    message = REFUSALS.get(found.get("code"))
    values = {k: v for k, v in found.items() if k not in ("error", "code")}
    about = values.get("device")
    if about in (names or {}):
        values["device"] = f"{names[about]} ({about})"
    if message is not None:
        try:
            message.format(**values)
        except (KeyError, IndexError):  # a field the server did not send: its own words say it all
            message = None
    return DulyError(message, **values) if message is not None else DulyError("{reason}", reason=text)


class Offline(DulyError):
    """The server cannot be reached; local changes stay queued."""


class NotSynced(DulyError):
    """This ledger is not set up for sync."""


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _now_ms() -> int:
    return int(time.time() * 1000)


class Api:
    """Signed HTTP calls to one team on one server."""

    def __init__(self, server: str, team: str, device: str, keys: DeviceKeys, *, transport=None,
                 timeout: float = 30.0):
        self.server = server.rstrip("/")
        self.team, self.device, self.keys = team, device, keys
        self._transport, self._timeout = transport, timeout
        self.names: dict[str, str] = {}  # device id -> name, to say which device a refusal is about
        self._http: httpx.Client | None = None  # made on the first call: a Client costs ~50 ms (its SSL context),
        # which a status read that never calls the server (the app's indicator) should not pay

    def clone(self) -> "Api":
        """The same identity on its own connection pool, for another thread."""
        return Api(self.server, self.team, self.device, self.keys, transport=self._transport, timeout=self._timeout)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(base_url=self.server, transport=self._transport, timeout=self._timeout)
        return self._http

    def call(self, method: str, path: str, *, body: bytes = b"", params: dict | None = None,
             raw: bool = False, content_type: str = "application/json", headers: dict | None = None,
             digest: str | None = None):
        """One signed call; `digest` is the body's SHA-256 in hex when the caller has it (a chunk's address)."""
        url = httpx.URL(self.server + path, params=params)
        signed_path = url.raw_path.decode()
        stamp = str(_now_ms())
        nonce = secrets.token_urlsafe(16)  # the server accepts each signed request once
        message = crypto.request_message(method, signed_path, self.team, self.device, stamp, body, nonce, digest)
        headers = {"X-Duly-Device": self.device, "X-Duly-Time": stamp, "X-Duly-Nonce": nonce,
                   "X-Duly-Protocol": str(crypto.PROTOCOL),
                   "X-Duly-Signature": self.keys.signature(message), "Content-Type": content_type, **(headers or {})}
        try:
            response = self.http.request(method, url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise Offline(N_("cannot reach the sync server at {server} ({name}: {exc}); local changes stay queued "
                             "for the next `duly sync now`"), server=self.server,
                          name=type(exc).__name__, exc=exc) from None
        if response.status_code >= 400:
            try:
                found = response.json()
                text = found.get("error") or response.text
            except ValueError:
                found, text = {}, response.text[:200]
            if response.status_code == 409 and found.get("replayed") is True:
                # This very request reached the server twice (a copy made on the way) and this is the answer to
                # the copy: the first was taken, its answer lost. Like a lost answer, the next sync carries on.
                raise Offline(N_("the answer of the sync server at {server} was lost on the way (it received this "
                                 "request twice); local changes stay queued for the next `duly sync now`"),
                              server=self.server)
            about = found.get("device")
            if about in self.names:  # the server knows devices by id only (their names are sealed)
                text = text.replace(f"device {about}", f"device {self.names[about]} ({about})", 1)
            raise SyncError(N_("the sync server refused: {reason}"), response.status_code, found,
                            reason=refusal(found, text, self.names))
        return response.content if raw else response.json()

    def get(self, path: str, **params):
        return self.call("GET", path, params=params or None)

    def post(self, path: str, obj: dict, *, headers: dict | None = None):
        return self.call("POST", path, body=crypto.canonical(obj), headers=headers)

    def team_path(self, rest: str) -> str:
        return f"/v1/teams/{self.team}{rest}"
