"""Becoming a team: `sync init` (a new team, this device its admin) and `sync join` (a new device from an invite)."""
from __future__ import annotations

import json
import os
import secrets
import socket
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

from store.ledger import changes, db, schema
from store.errors import DulyError, InvalidInput
from store.ledger.ledger import Ledger
from sync import crypto
from sync.crypto import DeviceKeys, Tampered
from sync.client.api import INVITE_HOURS, Api, Offline
from sync.client.keys import (NAME_CHARS, RECOVERY, _invite_aad, _invite_from_recovery, _keep_keys, _name_device,
    _withdrawn_on_failure, parse_invite, sealed_name)
from sync.client.session import Report, Sync, Tally
from sync.client.snapshot import _restore_snapshot
from store.i18n import N_



def default_device_name() -> str:
    """The name a device takes in its team when none is given (DULY_DEVICE_NAME, else the host name); "" when
    there is none that fits."""
    try:
        return _device_name()
    except DulyError:
        return ""


def team_token(text: str | None, where: str) -> str | None:
    """A team token as typed or read (surrounding space dropped); it travels in an HTTP header, so ASCII."""
    if text is None:
        return None
    text = text.strip()
    if not text.isascii() or not text.isprintable():
        raise DulyError(N_("{where} must be printable ASCII (letters, digits, punctuation)"), where=where)
    return text


def _device_name(given: str | None = None) -> str:
    name = (given or os.environ.get("DULY_DEVICE_NAME") or socket.gethostname() or "device").strip()
    if not name or len(name) > NAME_CHARS:
        raise DulyError(N_("a device name must be 1-{name_chars} characters, got {count}: give a shorter --name"),
                        name_chars=NAME_CHARS, count=len(name))
    return name


def _remember(ledger_conn_meta, server: str, team: str, keys: DeviceKeys, role: str, epoch_keys: dict[str, str],
              epoch: int) -> None:
    for key, value in {"sync.server": server, "sync.team": team, "sync.device_keys": keys.secret(),
                       "sync.role": role, "sync.epoch": str(epoch), "sync.cursor": "0", "sync.pushed": "0",
                       **{f"sync.key.{e}": k for e, k in epoch_keys.items()}}.items():
        ledger_conn_meta(key, value)


def check_server_url(server: str, *, insecure: bool = False) -> str:
    """The server URL a device will keep: https://, or http:// on this machine (loopback), or http:// anywhere
    when the user says --insecure. The payload is end-to-end encrypted either way, but signatures, device ids
    and timing are not meant for every network on the way."""
    url = (server or "").strip().rstrip("/")
    try:
        parsed = httpx.URL(url)
        host = parsed.host
    except (httpx.InvalidURL, ValueError, TypeError):
        parsed, host = None, ""
    if parsed is None or parsed.scheme not in ("http", "https") or not host:
        raise DulyError(N_("--server {server}: expected a URL such as https://sync.example.com"), server=repr(server))
    if parsed.scheme == "http" and not insecure and not _loopback(host):
        raise DulyError(N_('--server {url}: plain http:// to another machine is refused; use https:// (see "Running '
                           'the server for real" in the README) or add --insecure'), url=url)
    return url


def _loopback(host: str) -> bool:
    import ipaddress

    if host.lower() in ("localhost", "localhost.") or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@contextmanager
def _nothing_set_up_when_offline():
    """The first request of a set-up (start a team, join one) that cannot reach the server: said as such, not as a
    sync round's "local changes stay queued for the next `duly sync now`" (nothing is queued: nothing was set up)."""
    try:
        yield
    except Offline as exc:
        raise Offline(N_("cannot reach the sync server at {server} ({name}: {exc}); nothing was set up: check the "
                         "address and that the server is running"), **exc.values) from None


def init(ledger: Ledger, server: str, *, name: str | None = None, transport=None,
         team_token: str | None = None, insecure: bool = False, progress=None) -> Report:
    """Create a team on the server with this device as its admin, push the ledger, upload a first snapshot.
    `team_token` is the server's, when it creates teams only for those who have it. `progress(done, total)`:
    changes pushed, then snapshot chunks uploaded."""
    server = check_server_url(server, insecure=insecure)
    if ledger.meta("sync.team"):
        raise DulyError(N_("ledger {path} already syncs with team {value} at {value2}"), path=ledger.path,
                        value=ledger.meta('sync.team'), value2=ledger.meta('sync.server'))
    keys = DeviceKeys.generate()
    team = secrets.token_hex(8)
    key = crypto.new_team_key()
    device = {"id": ledger.device, "name": sealed_name(team, ledger.device, _device_name(name),
                                                       {"1": crypto.b64e(key)}),
              "sign_pub": keys.sign_pub, "box_pub": keys.box_pub}
    api = Api(server, team, ledger.device, keys, transport=transport)
    try:
        wrapped = crypto.wrap_key(key, keys.box_pub, crypto.key_context(team, 1, ledger.device))
        with _nothing_set_up_when_offline():
            api.post("/v1/teams", {"team": team, "device": device, "wrapped": wrapped},
                     headers={"X-Duly-Team-Token": team_token} if team_token else None)
    finally:
        api.close()
    _remember(ledger.set_meta, server.rstrip("/"), team, keys, "admin", {"1": crypto.b64e(key)}, 1)
    session = Sync(ledger, transport=transport, progress=progress)
    try:
        with db.bulk_cache(ledger.conn):  # the whole log pushed and the book exported: one pass
            return session.now(snapshot=True)
    finally:
        session.close()



def join(path, passphrase: str, server: str, code: str, *, name: str | None = None, transport=None,
         actor: str | None = None, insecure: bool = False, progress=None) -> tuple[Ledger, dict]:
    """Register a new device with a one-time invite, restore the newest snapshot (every chunk checked), pull
    the rest, then check the ledger before saying done. Returns the open ledger and a summary.

    The invite is spent only when the device holds the team keys and its copy of the book (`/join/done`); a
    join that fails before withdraws the device's registration (`/join/abandon`), so the invite still works."""
    server = check_server_url(server, insecure=insecure)
    tally = Tally(progress)  # snapshot chunks fetched, then changes pulled
    path = Path(path)
    db.must_be_new(path)
    name = _device_name(name)  # before the invite is spent
    team, invite_id, secret = parse_invite(code)
    if invite_id == RECOVERY:
        team, invite_id, secret = parse_invite(_invite_from_recovery(server, team, secret, transport))
    token, wrap = crypto.invite_secrets(secret)
    keys = DeviceKeys.generate()
    device_id = secrets.token_hex(8)
    # The team keys come back with the join, so the device joins under a placeholder and then seals its name.
    device = {"id": device_id, "name": "(joining)", "sign_pub": keys.sign_pub, "box_pub": keys.box_pub}
    api = Api(server, team, device_id, keys, transport=transport)
    try:
        with _nothing_set_up_when_offline():
            got = api.post(f"/v1/teams/{team}/join", {"invite": invite_id, "token": crypto.b64e(token),
                                                      "device": device})
        with _withdrawn_on_failure(api, path):
            state = api.get(f"/v1/teams/{team}/state")
            devices = {d["id"]: d for d in state["devices"]}
            admin = devices.get(got["created_by"])
            if admin is None or admin["role"] != "admin":
                raise Tampered(N_("the invite was not made by an admin of this team"))
            crypto.verify_signature(admin["sign_pub"], crypto.invite_record_message(
                team, invite_id, got["role"], got["expires"], crypto.token_hash(token), got["blob"]),
                got["signature"], "the invite")
            try:
                epoch_keys = json.loads(crypto.unbox(wrap, crypto.b64d(got["blob"]), _invite_aad(team, invite_id),
                                                     "the invite's team keys"))["keys"]
            except (ValueError, KeyError, TypeError):
                raise Tampered(N_("the invite's team keys cannot be read")) from None
            _keep_keys(api, keys, epoch_keys)
            _name_device(api, name, epoch_keys)
            snapshot = _restore_snapshot(api, team, devices, epoch_keys, path, passphrase, tally)
            api.post(f"/v1/teams/{team}/join/done", {})
    finally:
        api.close()
    if snapshot is None:
        ledger = Ledger.create(path, passphrase, actor=actor)
        # The fresh ledger made its own device id; use the registered one.
        ledger.conn.execute("UPDATE meta SET value=? WHERE key='device_id'", (device_id,))
        ledger.close()
    ledger = Ledger.open(path, passphrase, actor=actor)
    try:
        _remember(ledger.set_meta, server.rstrip("/"), team, keys, got["role"], epoch_keys, got["epoch"])
        if snapshot is not None:
            ledger.set_meta("sync.cursor", str(snapshot["server_seq"]))
            # Changes inside the snapshot were scanned by the device that made it.
            ledger.set_meta("sync.review_seq", str(ledger.conn.execute("SELECT coalesce(max(seq),0) FROM changes").fetchone()[0]))
        session = Sync(ledger, transport=transport, progress=tally)
        try:
            report = session.now()
        finally:
            session.close()
        # A restored snapshot was checked whole before it was used; what was pulled since went through the
        # one write path. A ledger built from the log alone is checked here.
        problems = [] if snapshot else changes.verify(ledger.conn) + schema.settled_cache_problems(ledger.conn)
        if problems:
            raise DulyError(N_("the restored ledger at {path} fails its checks: {value}"), path=path,
                            value=problems[0])
    except BaseException:
        ledger.close()
        raise
    summary = {"team": team, "device": device_id, "role": got["role"],
               "snapshot_chunks": len(snapshot["chunks"]) if snapshot else 0,
               "snapshot_server_seq": snapshot["server_seq"] if snapshot else 0,
               "pulled": report.pulled, "applied": report.applied, "head": report.head, "flagged": report.flagged}
    return ledger, summary


# -- what `duly sync init`, `invite` and `recovery` do, and the app's Sync screen with them --------------------

@dataclass
class Started:
    """A team made by `start_team`: the first round's report, and the recovery secret (None, with the reason,
    when the team was made but the secret could not be: `new_recovery` makes one later)."""

    report: Report
    team: str
    device: str
    server: str
    secret: str | None
    secret_error: DulyError | None = None


def start_team(ledger: Ledger, server: str, *, name: str | None = None, transport=None,
               team_token: str | None = None, insecure: bool = False, progress=None) -> Started:
    """`init`, then the team's first recovery secret. The secret is returned, never stored: the caller shows it
    once and forgets it."""
    report = init(ledger, server, name=name, transport=transport, team_token=team_token, insecure=insecure,
                  progress=progress)
    started = Started(report, ledger.meta("sync.team"), ledger.device, ledger.meta("sync.server"), None)
    try:
        started.secret = new_recovery(ledger, transport=transport)
    except DulyError as exc:
        started.secret_error = exc
    return started


def new_recovery(ledger: Ledger, *, transport=None) -> str:
    """A new recovery secret (admin); older ones work until their paper device is revoked."""
    session = Sync(ledger, transport=transport)
    try:
        return session.recovery()
    finally:
        session.close()


MAX_INVITE_HOURS = 30 * 24


@dataclass
class Invite:
    code: str
    role: str
    hours: int
    expires: str  # ISO time, UTC
    server: str


def new_invite(ledger: Ledger, role: str = "member", hours: int = INVITE_HOURS, *, transport=None) -> Invite:
    """A one-time invite code for a new device (admin only), valid for `hours`."""
    if ledger.meta("sync.role") != "admin":
        raise DulyError(N_("only an admin device can invite; this device is a {value}"),
                        value=ledger.meta("sync.role"))
    if not 1 <= hours <= MAX_INVITE_HOURS:
        raise InvalidInput(N_("an invite is valid for 1 to {most} hours, not {hours}"), most=MAX_INVITE_HOURS,
                           hours=hours, field="hours")
    session = Sync(ledger, transport=transport)
    try:
        code = session.invite(role, hours)
        server = session.api.server
    finally:
        session.close()
    expires = (datetime.now(timezone.utc) + timedelta(hours=hours)).isoformat(timespec="minutes")
    return Invite(code, role, hours, expires.replace("+00:00", "Z"), server)


def team_devices(ledger: Ledger, *, transport=None) -> list[dict]:
    """The team's devices as the server has them (names opened with the team keys): id, name, role, added and
    revoked (ms since the epoch; revoked None while it is in the team), this (the device asking)."""
    session = Sync(ledger, transport=transport)
    try:
        session.refresh()
        return [{"id": d["id"], "name": d["name"], "role": d["role"], "added": d["added"], "revoked": d["revoked"],
                 "this": d["id"] == ledger.device} for d in session.devices.values()]
    finally:
        session.close()


def remove_device(ledger: Ledger, device: str, *, transport=None) -> int:
    """Block a device (id or name) on the server and start a new key epoch for the others (admin only); returns
    the new epoch."""
    if ledger.meta("sync.role") != "admin":
        raise DulyError(N_("only an admin device can remove devices"))
    session = Sync(ledger, transport=transport)
    try:
        return session.revoke(device)
    finally:
        session.close()
