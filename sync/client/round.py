"""One headless sync round, as the app runs it in the background: on its own connection, never raising (the
outcome says how it ended), and this device's sync state read from the ledger alone."""
from __future__ import annotations

from dataclasses import dataclass

from store.errors import DulyError
from store.ledger.ledger import Ledger
from sync import merge
from sync.client.api import NotSynced, Offline
from sync.client.session import Sync


@dataclass
class Outcome:
    """How one sync round ended (never an exception: the app shows it)."""

    kind: str  # done, off, offline, refused
    report: object = None  # sync.client.Report when done
    message: str = ""
    changed: bool = False  # changes arrived or items were flagged (also when the round failed after that)


def local_status(ledger) -> dict | None:
    """This device's sync state from the ledger alone (no network); None when it is not set up.
    Runs on the app's database thread."""
    try:
        session = Sync(ledger)
    except NotSynced:
        return None
    try:
        return session.status(online=False)
    finally:
        session.close()


def sync_view(ledger) -> tuple[dict | None, list[dict]]:
    """The Sync screen's data: the state and the open review items (database thread)."""
    return local_status(ledger), merge.open_flags(ledger)


def sync_round(path, passphrase: str, transport_factory=None) -> Outcome:
    """One `sync now` on its own connection (call it on a thread of its own, never the database thread:
    it waits on the network). SQLite WAL lets the app's reads go on; writes take turns by the busy timeout."""
    try:
        ledger = Ledger.open(path, passphrase)
    except DulyError as exc:
        return Outcome("refused", message=str(exc))
    try:
        before = _mark(ledger)
        try:
            session = Sync(ledger, transport=transport_factory() if transport_factory else None)
            try:
                outcome = Outcome("done", report=session.now())
            finally:
                session.close()
        except NotSynced as exc:
            outcome = Outcome("off", message=str(exc))
        except Offline as exc:
            outcome = Outcome("offline", message=str(exc))
        except DulyError as exc:  # SyncError, ClockSkew, Tampered, a locked ledger...
            outcome = Outcome("refused", message=str(exc))
        except Exception as exc:  # noqa: BLE001 - shown as one line, the app carries on
            outcome = Outcome("refused", message=f"{type(exc).__name__}: {exc}")
        # a round can pull and apply, then fail (a viewer's push): the screens reload all the same
        outcome.changed = _mark(ledger) != before
        return outcome
    finally:
        ledger.close()


def on_own_connection(path, passphrase: str, fn, /, *args, **kwargs):
    """fn(ledger, *args, **kwargs) on a connection of its own, closed after: for set-up steps that wait on the
    network (start a team, an invite, a recovery secret), run on a thread of their own like `sync_round`."""
    ledger = Ledger.open(path, passphrase)
    try:
        return fn(ledger, *args, **kwargs)
    finally:
        ledger.close()


def _mark(ledger) -> tuple[int, int]:
    """Where the change log and the review list stand (what a round may move)."""
    return tuple(ledger.conn.execute("SELECT (SELECT coalesce(max(seq), 0) FROM changes), "
                                     "(SELECT count(*) FROM sync_review)").fetchone())
