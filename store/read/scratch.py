"""Lists the app works out from the book and then pages through (the reminder review queue, the aging grid, a
statement's lines) kept in an SQLite database of their own in memory, one per open ledger, beside the ledger's
connection: filling one is no write to the ledger, so what the ledger remembers while nothing is written (the open
position as of today, Ledger.remembered) stays valid for the next screen, and nothing of it ever reaches disk.

A list is a table here that its module creates and fills in one transaction (`with conn:`); it is read back a page
at a time by its own keyset (store.read.paging). Held per Ledger object: used on that ledger's thread only."""
from __future__ import annotations

import sqlite3
import weakref

_held: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class Scratch:
    def __init__(self):
        self.conn = sqlite3.connect(":memory:", check_same_thread=False)
        self.conn.execute("PRAGMA temp_store = MEMORY")  # a sort too big for its cache spills to memory, not to a file
        self.memo: dict[str, tuple] = {}  # list name -> (what it was built from, what else it keeps)

    def rows(self, sql: str, params=()) -> list[dict]:
        cursor = self.conn.execute(sql, params)
        names = [d[0] for d in cursor.description or ()]
        return [dict(zip(names, values)) for values in cursor]

    def row(self, sql: str, params=()) -> dict | None:
        found = self.rows(sql, params)
        return found[0] if found else None


def scratch(ledger) -> Scratch:
    """The ledger's scratch database (made on first use)."""
    held = _held.get(ledger)
    if held is None:
        held = _held[ledger] = Scratch()
    return held


def book_state(ledger) -> tuple[int, int]:
    """What changes whenever the ledger's file is written, by this connection or another: a list built at one
    state is still right at the same state."""
    return ledger.conn.total_changes, ledger.conn.execute("PRAGMA data_version").fetchone()[0]
