"""Snapshots: what a snapshot leaves out of the book, and a new device's restore (fetch, check, make its own)."""
from __future__ import annotations

import hashlib
import itertools
import json
import os
import secrets
import string
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path


from store.ledger import backup, db, schema
from store.errors import DulyError
from sync import crypto
from sync.crypto import Tampered
from sync.client.api import Api, SyncError
from store.i18n import N_


def _manifest_aad(team: str, snap_id: str) -> bytes:
    return f"{team}/snapshot-manifest/{snap_id}".encode()



_DEVICE_META = ("device_id",)


def _snapshot_file(conn, path: Path, passphrase: str, *, check: bool = True) -> None:
    """The ledger open on `conn` copied row by row into a new encrypted file at `path` (SQLCipher's export, in one
    read of the ledger under its write lock, so the copy is of one moment), then stripped of this device's secrets
    and checked. A copy made row by row has no free pages that could still hold old values, so it needs no VACUUM:
    the online backup copied every page and a VACUUM then wrote the whole file a second time (a 200k-invoice book:
    two full passes over half a gigabyte, where this is one). The scratch file is thrown away if this fails, so
    it is written with no journal and no syncs; the caller's reads of it come after it is closed."""
    conn.execute("ATTACH DATABASE ? AS snapshot KEY ?", (str(path), passphrase))
    try:
        conn.execute("PRAGMA snapshot.journal_mode = OFF")
        conn.execute("PRAGMA snapshot.synchronous = OFF")
        with db.transaction(conn, path):
            conn.execute("SELECT sqlcipher_export('snapshot')")
            conn.execute(f"PRAGMA snapshot.user_version = {schema.version(conn)}")
    finally:
        conn.execute("DETACH DATABASE snapshot")
    _strip_device_secrets(path, passphrase, vacuum=False, check=check)


def _strip_device_secrets(path: Path, passphrase: str, *, vacuum: bool = True, check: bool = True) -> None:
    """A snapshot carries the book, not the device that made it: no keys, cursor or number series. The rows are
    deleted with secure_delete (their bytes zeroed); `vacuum` rewrites the file too, for a copy that may hold free
    pages with older values (a page-by-page copy, not one made by _snapshot_file). With check=False the caller
    runs `_check_snapshot` on the file itself (the upload does, beside sending the chunks)."""
    conn = db.connect(path, passphrase)
    try:
        conn.execute("PRAGMA secure_delete = ON")
        with db.transaction(conn, path):
            # The review list stays: what a merge flagged is the team's business, and a new device should see it.
            conn.execute("DELETE FROM meta WHERE key LIKE 'sync.%' OR key LIKE 'secret.%' "
                         "OR key IN ('device_id', 'series_prefix')")
        if vacuum:
            conn.execute("VACUUM")
        conn.execute("PRAGMA journal_mode = DELETE")
    finally:
        conn.close()
    if check:
        _check_snapshot(path, passphrase)


def _check_snapshot(path: Path, passphrase: str) -> None:
    """The full check of a snapshot file, indexes against their rows, where the file is made; a new device proves
    it has exactly these bytes (the SHA-256 sealed in the manifest) and checks their structure again. It only
    reads, on a connection of its own, so it can run while the file is read and sent."""
    conn = db.connect_readonly(path, passphrase)
    try:
        found = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    if found != "ok":
        raise DulyError(N_("this device's ledger fails its integrity check ({value}); the snapshot was not "
                           "published: restore the ledger from a backup or join the team afresh"),
                        value=found.splitlines()[0])


def _restore_snapshot(api: Api, team: str, devices: dict, epoch_keys: dict, path: Path, passphrase: str,
                      tally=None) -> dict | None:
    """The newest snapshot, fetched chunk by chunk (each checked; `tally`, a session.Tally, counts them), checked
    whole and made this device's ledger at `path`; None when the team has no snapshot yet."""
    try:
        record = api.get(f"/v1/teams/{team}/snapshots/latest")
    except SyncError as exc:
        if exc.status == 404:
            return None
        raise
    maker = devices.get(record.get("device"))
    if maker is None:
        raise Tampered(N_("the newest snapshot names a device that is not in the team"))
    from sync.protocol import snapshot_message

    crypto.verify_signature(maker["sign_pub"], snapshot_message(team, record), record.get("signature", ""),
                            f"snapshot {record.get('id')}")
    key_text = epoch_keys.get(str(record["epoch"]))
    if key_text is None:
        raise DulyError(N_("the invite carries no team key for epoch {epoch} of the newest snapshot"),
                        epoch=record['epoch'])
    key = crypto.b64d(key_text)
    manifest = json.loads(crypto.unbox(key, crypto.b64d(record["manifest"]), _manifest_aad(team, record["id"]),
                                       f"snapshot {record['id']}'s manifest"))
    if manifest["server_seq"] != record["server_seq"]:
        raise Tampered(N_("snapshot {id}: its manifest and its record disagree on where it stands"), id=record['id'])
    aad = f"{team}/snapshot-chunk".encode()
    staging = path.with_name(path.name + ".joining")  # becomes the ledger
    checking = path.with_name(path.name + ".checking")  # a second copy that the checks read meanwhile
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        _remove_scratch(staging, checking)  # a join killed earlier leaves these; an old -wal would be replayed
        digest = hashlib.sha256()
        if tally is not None:
            tally.expect(len(record["chunks"]))
        with open(staging, "wb") as out, open(checking, "wb") as copy:
            for n, (chunk_id, sealed) in enumerate(_fetch_chunks(api, team, record["chunks"]), start=1):
                if hashlib.sha256(sealed).hexdigest() != chunk_id:
                    raise Tampered(N_("snapshot chunk {n} of {count} does not match its content address: it was "
                                      "altered on the server; nothing was restored"),
                                   n=n, count=len(record['chunks']))
                piece = crypto.unbox(key, sealed, aad, f"snapshot chunk {n} of {len(record['chunks'])}")
                digest.update(piece)
                out.write(piece)
                copy.write(piece)
                if tally is not None:
                    tally.step()
        if digest.hexdigest() != manifest["sha256"]:
            raise Tampered(N_("snapshot {id} does not add up to the file it describes; nothing was restored"),
                           id=record['id'])
        # Both copies are under the snapshot's own random raw key. While the checks read one, the other is made
        # this device's and re-keyed to the user's passphrase (the only passphrase stretching of the restore);
        # it replaces nothing unless every check passed.
        _check_restored(checking, manifest["passphrase"],
                        alongside=partial(_make_own, staging, manifest["passphrase"], passphrase, api.device))
        db.fsync_file(staging)
        os.replace(staging, path)
    finally:
        _remove_scratch(staging, checking)
    return record


def _remove_scratch(*paths: Path) -> None:
    for path in paths:
        for side in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{side}").unlink(missing_ok=True)


def _fetch_chunks(api: Api, team: str, chunk_ids: list[str], ahead: int = 3):
    """(id, sealed bytes) of each chunk in order, with up to `ahead` downloads running while the caller
    decrypts and writes the ones before (each download thread on its own connection)."""
    local, clones = threading.local(), []

    def get(chunk_id: str) -> bytes:
        if not hasattr(local, "api"):
            local.api = api.clone()
            clones.append(local.api)
        return local.api.call("GET", f"/v1/teams/{team}/chunks/{chunk_id}", raw=True)

    pool = ThreadPoolExecutor(ahead, thread_name_prefix="duly-chunk")
    try:
        waiting = deque()
        ids = iter(chunk_ids)
        for chunk_id in itertools.islice(ids, 2 * ahead):
            waiting.append((chunk_id, pool.submit(get, chunk_id)))
        while waiting:
            chunk_id, future = waiting.popleft()
            following = next(ids, None)
            if following is not None:
                waiting.append((following, pool.submit(get, following)))
            yield chunk_id, future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for clone in clones:
            clone.close()


def _make_own(staging: Path, file_pass: str, passphrase: str, device: str) -> None:
    """Make a restored snapshot this device's ledger: its id, a number series no one in the book uses, no
    counters of the device that made it; then re-key it to the user's passphrase."""
    conn = db.connect(staging, file_pass)
    try:
        schema.migrate(conn)
        with db.transaction(conn, staging):
            taken = {r[0].split("-")[0] for r in conn.execute("SELECT number FROM invoices")}
            for key_name, value in (("device_id", device), ("series_prefix", _free_prefix(taken))):
                conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
                             "value=excluded.value", (key_name, value))
            conn.execute("DELETE FROM counters")  # number series are per device; this one starts afresh
        db.rekey_scratch(conn, passphrase)  # the caller deletes the file if anything fails
    finally:
        conn.close()


def _check_restored(path: Path, file_pass: str, *, alongside=None) -> None:
    """The restore drill's checks: the schema, then store.ledger.backup.ledger_problems (the one definition of
    a ledger that passes its checks: pages, every hash chain, the book's invariants) with the page check on a
    second connection at once, beside `alongside` (they only read; SQLite releases the GIL while it works).

    The page check is `quick_check` rather than `integrity_check` (half the time at 200k invoices): it reads
    every page of every b-tree, and SQLCipher refuses a page whose HMAC fails, so damage to any page in use
    shows. What it leaves out, matching index entries against their rows, the device that made the snapshot
    checked on this very file before sealing it (`_strip_device_secrets`), and every byte here has been matched
    against the SHA-256 sealed in the manifest. For the same reason `cipher_integrity_check` (the HMAC of free
    pages too; the snapshot has none, being vacuumed) is not run."""

    def structure(conn) -> list[str]:
        found = conn.execute("PRAGMA quick_check").fetchone()[0]
        if found == "ok":
            return []
        first = next((line for line in found.splitlines() if not line.startswith("***")), found)
        return [f"the integrity check failed: {first}"]

    # Open it once first: that switches the file to WAL (db.connect does), which two connections opening it at
    # the same moment would race for ("database is locked": the switch takes an exclusive lock without waiting).
    try:
        db.connect(path, file_pass).close()
    except db.DatabaseError as exc:
        raise Tampered(N_("the restored snapshot is damaged: {exc}; nothing was restored"), exc=exc) from None
    with ThreadPoolExecutor(1, thread_name_prefix="duly-restore") as pool:
        other = pool.submit(alongside) if alongside else None
        try:
            conn = db.connect(path, file_pass)
            try:
                found = schema.version(conn)
                if found == 0 or found > schema.VERSION:
                    raise DulyError(N_("the snapshot has schema version {found}; this Duly reads 1..{version}: "
                                       "upgrade Duly"), found=found,
                                    version=schema.VERSION)
                problems = backup.ledger_problems(conn, pages=structure,
                                                  connect=partial(db.connect, path, file_pass))
            finally:
                conn.close()
        except db.DatabaseError as exc:
            raise Tampered(N_("the restored snapshot is damaged: {exc}; nothing was restored"), exc=exc) from None
        if problems:
            raise Tampered(N_("the restored snapshot fails its checks: {value}; nothing was restored"),
                           value=problems[0])
        if other is not None:
            try:
                other.result()
            except db.DatabaseError as exc:
                raise DulyError(N_("the restored snapshot could not be made this device's ledger: {exc}; nothing "
                                   "was restored"), exc=exc) from None


def _free_prefix(taken: set[str]) -> str:
    while True:
        prefix = secrets.choice(string.ascii_uppercase) + secrets.choice(string.digits)
        if prefix not in taken:
            return prefix
