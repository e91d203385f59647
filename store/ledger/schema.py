"""The ledger's tables and their versioned migrations (PRAGMA user_version).

Two kinds of synced tables (DESIGN §3, §4):
- editable records change per field through `set` operations (last writer wins per column);
- posted documents arrive once through `event` operations and are never updated.
Local tables (change log, field clocks, history, counters) are not synced as rows.
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from store.rules import search

EDITABLE = {
    "customers": (
        "code", "name", "legal_name", "tax_id", "address", "email", "phone", "language", "currency",
        "terms", "credit_limit", "category", "settlement_cycle", "tags", "notes", "archived",
    ),
    "contacts": ("customer_id", "name", "role", "phone", "email", "wechat", "archived"),
    "terms": ("name", "lines", "discount_bp", "discount_days", "late_interest_bp", "archived"),
    "settings": ("value",),
    # A contract (合同); status active (or NULL: one recorded before contracts could end) | ended | cancelled,
    # ended_on the last day it applied (ended early) or the day it was cancelled, end_reason why.
    "contracts": (
        "customer_id", "number", "signed", "start_date", "end_date", "terms", "credit_limit",
        "file_path", "file_sha256", "notes", "archived", "status", "ended_on", "end_reason",
    ),
    "disputes": ("invoice_id", "customer_id", "amount", "reason", "opened", "review", "status", "resolved_on", "note"),
    # Reconciliation (对账): saved column mappings of bank files, what was decided about each bank line (id = the
    # line's id), payer names and accounts learned from accepted lines, and statements of account sent/confirmed.
    "bank_profiles": ("name", "columns", "date_format", "account", "currency", "archived"),
    "bank_matches": ("status", "customer_id", "payment_id", "fee", "note", "decided_on"),
    "payer_aliases": ("kind", "value", "customer_id"),
    "statement_log": ("customer_id", "as_of", "currency", "our_balance", "channel", "address", "sent_on", "status",
                      "their_balance", "difference", "answered_on", "resolved_on", "note"),
    # An invoice being prepared (草稿): edited per field, on any device, until it is issued. `lines` is a JSON list
    # of "DESCRIPTION:QTY:PRICE[:TAX%]"; `amount` is minor units of `currency` (one or the other).
    "drafts": ("customer_id", "date", "due_date", "terms", "currency", "amount", "lines", "description", "einvoice",
               "archived"),
    # Exchange rates (汇率): one row per currency and date (its id derived from both, so the same day's rate typed
    # on two devices is one row, last writer wins); `rate` is an exact decimal text: base-currency units per unit.
    "fx_rates": ("currency", "date", "rate", "source"),
    # A recurring invoice (周期性账单): what each occurrence bills (amount or JSON lines, in currency), when
    # (unit month|week, every_n units, day_of_month 1-31 or -1 = last, start_date, end_date and/or occurrences),
    # on what terms, issued directly or as a draft for review (mode issue|draft); status active|paused|ended;
    # occurrences dated before resume_from that were not issued are skipped (the paused months).
    "recurring": ("number", "customer_id", "currency", "amount", "lines", "description", "unit", "every_n",
                  "day_of_month", "start_date", "end_date", "occurrences", "terms", "mode", "status", "resume_from"),
}

# Device-only tables: written with tx.local or Ledger.local, never in the change log, never synced.
LOCAL = ("import_log", "sync_review", "remind_log")

EVENTS = {
    "invoices": (
        "number", "customer_id", "date", "due_date", "currency", "total", "tax", "terms", "contract",
        "einvoice", "description",
    ),
    "invoice_lines": ("invoice_id", "pos", "description", "qty", "unit_price", "tax_bp", "amount", "tax"),
    "due_items": ("invoice_id", "seq", "due_date", "amount"),
    # Payments (收款单 RC-…), credit notes (CN-…) and write-offs (WO-…) carry human numbers of a per-device series.
    "payments": ("customer_id", "date", "amount", "currency", "method", "reference", "note", "number"),
    "credit_notes": ("number", "customer_id", "date", "amount", "currency", "invoice_id", "reason"),
    # An allocation applies part of a payment or a credit note to an invoice, on a date.
    "allocations": ("invoice_id", "payment_id", "credit_id", "amount", "date"),
    "writeoffs": ("invoice_id", "date", "amount", "reason", "number"),
    # A void reverses a posted invoice or payment as of its date; the document itself stays.
    "voids": ("doc_table", "doc_id", "date", "reason"),
    "promises": ("invoice_id", "customer_id", "date", "amount", "made_on"),
    "notes": ("customer_id", "channel", "text", "at", "next_action"),
    # A reminder (催收) whose outcome is known: sent, unknown (a send was interrupted), task or letter. Synced,
    # so another device never sends the same level for the same invoice again.
    "reminders": ("invoice_id", "customer_id", "level", "channel", "as_of", "outcome", "batch", "sent_at"),
    # A line of an imported bank statement (amount signed: + money in, - money out); its id is derived from
    # its fingerprint, so the same line imported twice, here or on another device, is one row.
    "bank_lines": ("account", "date", "amount", "currency", "payer", "payer_account", "memo", "reference",
                   "balance", "source", "line"),
    # A draft was issued as an invoice; `seen` is the newest field clock of the draft that the issue included, so
    # an edit the issuing device had not seen shows on every device (a clock newer than `seen`).
    "draft_issues": ("draft_id", "invoice_id", "seen"),
    # Occurrence n of a recurring schedule was issued (as an invoice or a draft). Its id, the invoice's and the
    # draft's are derived from (schedule, n): two devices that issue the same occurrence offline post one.
    "recurring_issues": ("schedule_id", "occurrence", "date", "invoice_id", "draft_id"),
    # A debit note (借项通知单 DN-…) raises a customer's receivable: a fee, or the reversal of a credit note
    # (credit_id). It is posted as an invoice row with the same id (so aging, statements, payments, credit notes
    # and exports treat it as a receivable like any other); this row says what it is and why.
    "debit_notes": ("invoice_id", "credit_id", "reason"),
}

SYNCED = {**EDITABLE, **EVENTS}

_TEXT = {"id"}
_INTEGER = {
    "credit_limit", "archived", "discount_bp", "discount_days", "late_interest_bp", "amount", "total", "tax",
    "unit_price", "tax_bp", "pos", "seq",
}


def _column_type(col: str) -> str:
    return "INTEGER" if col in _INTEGER else "TEXT"


def _synced_table_sql(name: str, cols: tuple[str, ...]) -> str:
    body = ",\n  ".join(f"{c} {_column_type(c)}" for c in cols)
    return f"CREATE TABLE {name} (\n  id TEXT PRIMARY KEY,\n  {body}\n)"


def _v1_foundation(db) -> None:
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    db.execute(
        """CREATE TABLE changes (
  seq INTEGER PRIMARY KEY,
  device TEXT NOT NULL,
  device_seq INTEGER NOT NULL,
  hlc TEXT NOT NULL,
  actor TEXT NOT NULL,
  at TEXT NOT NULL,
  ops TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  server_seq INTEGER,
  UNIQUE (device, device_seq)
)"""
    )
    db.execute("CREATE INDEX changes_at ON changes (at)")
    db.execute(
        "CREATE TABLE field_clock (tbl TEXT, row_id TEXT, col TEXT, hlc TEXT, PRIMARY KEY (tbl, row_id, col)) WITHOUT ROWID"
    )
    db.execute(
        """CREATE TABLE field_history (
  id INTEGER PRIMARY KEY, tbl TEXT, row_id TEXT, col TEXT, old TEXT, new TEXT,
  hlc TEXT, device TEXT, actor TEXT, at TEXT
)"""
    )
    db.execute("CREATE INDEX field_history_row ON field_history (tbl, row_id)")
    db.execute("CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)")
    for name in ("customers", "contacts", "settings"):
        db.execute(_synced_table_sql(name, EDITABLE[name]))
    db.execute("CREATE INDEX customers_code ON customers (code)")
    db.execute("CREATE INDEX contacts_customer ON contacts (customer_id)")


# The tables each migration created, frozen: a later migration creates its own new tables, so that
# adding one to EDITABLE or EVENTS never changes what an old migration does.
_V2_EDITABLE = ("terms", "contracts", "disputes")
_V2_EVENTS = (
    "invoices", "invoice_lines", "due_items", "payments", "credit_notes", "allocations", "writeoffs", "voids",
    "promises", "notes",
)


def _v2_receivables(db) -> None:
    for name in _V2_EDITABLE:
        db.execute(_synced_table_sql(name, EDITABLE[name]))
    for name in _V2_EVENTS:
        db.execute(_synced_table_sql(name, EVENTS[name]))
    for stmt in (
        "CREATE INDEX terms_name ON terms (name)",
        "CREATE INDEX invoices_number ON invoices (number)",
        "CREATE INDEX invoices_customer ON invoices (customer_id, date)",
        "CREATE INDEX invoices_date ON invoices (date)",
        "CREATE INDEX invoice_lines_invoice ON invoice_lines (invoice_id)",
        "CREATE INDEX due_items_invoice ON due_items (invoice_id, due_date)",
        "CREATE INDEX payments_customer ON payments (customer_id, date)",
        "CREATE INDEX credit_notes_customer ON credit_notes (customer_id, date)",
        "CREATE INDEX allocations_invoice ON allocations (invoice_id)",
        "CREATE INDEX allocations_payment ON allocations (payment_id)",
        "CREATE INDEX allocations_credit ON allocations (credit_id)",
        "CREATE INDEX writeoffs_invoice ON writeoffs (invoice_id)",
        "CREATE INDEX voids_doc ON voids (doc_id)",
        "CREATE INDEX promises_invoice ON promises (invoice_id)",
        "CREATE INDEX notes_customer ON notes (customer_id, at)",
        "CREATE INDEX disputes_invoice ON disputes (invoice_id)",
        "CREATE INDEX contracts_customer ON contracts (customer_id)",
    ):
        db.execute(stmt)


def _v3_covering_indexes(db) -> None:
    """Aging sums allocations per invoice and per payment as of a date: index-only lookups keep it fast."""
    for name, col in (("invoice", "invoice_id"), ("payment", "payment_id"), ("credit", "credit_id")):
        db.execute(f"DROP INDEX allocations_{name}")
        db.execute(f"CREATE INDEX allocations_{name} ON allocations ({col}, date, amount)")
    db.execute("DROP INDEX writeoffs_invoice")
    db.execute("CREATE INDEX writeoffs_invoice ON writeoffs (invoice_id, date, amount)")


# A cache, rebuilt and checked, never truth (DESIGN §3): one row per invoice, payment and credit note with
# - settled_on: the date from which it stays settled (nothing open / nothing unapplied) whatever the as-of
#   date, or NULL while it is open; aging reads only documents not settled by its date;
# - the document's own columns that aging needs (customer, currency, number, dates, terms, total), so that
#   the open documents are one contiguous range of the doc_state_open index, not 25k random lookups;
# - open_all (total less every allocation and write-off) and last_on (the date of its latest allocation,
#   write-off or void): as of any date on or after last_on, the open amount is open_all, with no lookup.
# Triggers keep it right on every path that posts documents: local writes and remote changes alike.
_NEVER = "'9999-12-31'"


DOC_STATE_COLUMNS = ("id", "kind", "customer_id", "currency", "number", "date", "due_date", "terms", "total",
                     "settled_on", "open_all", "last_on")
# What the cache holds of each kind of document: (table, amount column, allocation key, void doc_table or None,
# written off?, the columns copied into the cache after id and kind, as DOC_STATE_COLUMNS name them).
_DOC_KINDS = {
    "invoice": ("invoices", "total", "invoice_id", "invoices", True,
                ("customer_id", "currency", "number", "date", "due_date", "terms", "total")),
    "payment": ("payments", "amount", "payment_id", "payments", False,
                ("customer_id", "currency", "NULL", "date", "NULL", "NULL", "amount")),
    "credit": ("credit_notes", "amount", "credit_id", None, False,
               ("customer_id", "currency", "number", "date", "NULL", "NULL", "amount")),
}


def _doc_state_rows(kind: str, *, grouped: bool, within: str | None = None, ranged: bool = False) -> str:
    """The cache rows of one kind computed from the documents: THE rule of the cache (settled_on, open_all, last_on
    from the sums and latest dates of allocations and write-offs and the first and last void), each document's
    facts gathered once: `grouped`, as joins to its allocations, write-offs and voids grouped by document (the
    whole book's rebuild, a bulk write's batch); otherwise as lookups by its id (a trigger's one document, and the
    check, so that it does not repeat the rebuild). `within`: only the documents whose ids are in this SQL list
    or sub-query, e.g. "(NEW.id)"; `ranged`: only the documents whose ids are above :lo and up to :hi (a chunk of
    the whole book's rebuild)."""
    table, amount, key, void_table, written, copied = _DOC_KINDS[kind]
    facts = {"paid": ("allocations", key, "sum(x.amount)"), "paid_on": ("allocations", key, "max(x.date)")}
    if written:
        facts |= {"written": ("writeoffs", "invoice_id", "sum(x.amount)"),
                  "written_on": ("writeoffs", "invoice_id", "max(x.date)")}
    if void_table:
        facts |= {"void_first": ("voids", "doc_id", "min(x.date)"), "void_last": ("voids", "doc_id", "max(x.date)")}
    only = {"voids": f" AND x.doc_table = '{void_table}'"}  # a void names the table of what it voids

    def among(column: str) -> str:
        if ranged:
            return f" AND {column} > :lo AND {column} <= :hi"
        return f" AND {column} IN {within}" if within else ""

    if grouped:
        sources = {t: k for t, k, _ in facts.values()}
        joins = "".join(
            f" LEFT JOIN (SELECT x.{k} AS id, "
            + ", ".join(f"{agg} AS {name}" for name, (t2, _k, agg) in facts.items() if t2 == t)
            + f" FROM {t} x WHERE x.{k} IS NOT NULL{only.get(t, '')}{among(f'x.{k}')} GROUP BY x.{k}) {t}"
            f" ON {t}.id = doc.id"
            for t, k in sources.items())
        gathered = ", ".join(f"{t}.{name}" for name, (t, _k, _a) in facts.items())
    else:
        joins = ""
        gathered = ", ".join(f"(SELECT {agg} FROM {t} x WHERE x.{k} = doc.id{only.get(t, '')}) AS {name}"
                             for name, (t, k, agg) in facts.items())
    own = ", ".join(f"doc.{col}" for col in dict.fromkeys(("id", "date", amount, *copied)) if col != "NULL")
    left = f"{amount} - coalesce(paid, 0)" + (" - coalesce(written, 0)" if written else "")
    last = "coalesce(paid_on, '')" + (", coalesce(written_on, '')" if written else "")
    void = f"coalesce(void_first, {_NEVER})" if void_table else _NEVER
    voided_on = ", coalesce(void_last, '')" if void_table else ""
    # LIMIT -1: the documents' facts are gathered once each, not once for every expression that uses them.
    return (f"SELECT id, '{kind}', {', '.join(copied)}, "
            f"nullif(min({void}, CASE WHEN {left} = 0 THEN max(date, {last}) ELSE {_NEVER} END), {_NEVER}), "
            f"{left}, max(date, {last}{voided_on}) "
            f"FROM (SELECT {own}, {gathered} FROM {table} doc{joins}{among('doc.id').replace(' AND', ' WHERE', 1)} "
            "LIMIT -1)")



# The cache rows of every document of a kind, by lookups (each a SELECT of DOC_STATE_COLUMNS).
DOC_STATE = {kind: _doc_state_rows(kind, grouped=False) for kind in _DOC_KINDS}
_DOC_STATE_TRIGGERS = {
    "invoices": [("invoice", "NEW.id")],
    "payments": [("payment", "NEW.id")],
    "credit_notes": [("credit", "NEW.id")],
    "writeoffs": [("invoice", "NEW.invoice_id")],
    "allocations": [("invoice", "NEW.invoice_id"), ("payment", "NEW.payment_id"), ("credit", "NEW.credit_id")],
    "voids": [("invoice", "NEW.doc_id"), ("payment", "NEW.doc_id")],
}


def refresh_doc_state_sql(kind: str, id_expr: str) -> str:
    # DELETE + INSERT, not INSERT OR REPLACE: inside a trigger the outer statement's conflict policy
    # (the event's INSERT OR IGNORE) overrides ours, and the stale row would be kept.
    return (
        f"DELETE FROM doc_state WHERE id = {id_expr} AND kind = '{kind}';\n  "
        f"INSERT INTO doc_state ({', '.join(DOC_STATE_COLUMNS)}) "
        f"{_doc_state_rows(kind, grouped=False, within=f'({id_expr})')}"
    )


def _v4_settled_cache(db) -> None:
    """The first settlement cache (settled_on only, kept by triggers). Superseded by the open-documents
    cache of a later migration, which drops this table and its triggers; kept so version numbers stay."""
    db.execute("CREATE TABLE doc_state (doc_id TEXT PRIMARY KEY, kind TEXT NOT NULL, settled_on TEXT) WITHOUT ROWID")


def _v_open_documents_cache(db) -> None:
    for table in _DOC_STATE_TRIGGERS:
        db.execute(f"DROP TRIGGER IF EXISTS {table}_settled")
    db.execute("DROP TABLE doc_state")
    db.execute(
        "CREATE TABLE doc_state (id TEXT PRIMARY KEY, kind TEXT NOT NULL, customer_id TEXT, currency TEXT, "
        "number TEXT, date TEXT, due_date TEXT, terms TEXT, total INTEGER, settled_on TEXT, open_all INTEGER, "
        "last_on TEXT) WITHOUT ROWID"
    )
    db.execute(f"CREATE INDEX doc_state_open ON doc_state (kind, settled_on, {', '.join(DOC_STATE_COLUMNS[2:9])}, "
               "open_all, last_on)")
    _create_doc_state_triggers(db, switch=False)  # as this migration made them; a later one adds the switch
    rebuild_settled(db)


def _create_doc_state_triggers(db, *, switch: bool = True) -> None:
    """The triggers that keep doc_state right row by row; with `switch` (every ledger from the batch-refresh
    migration on) each one does its work only while doc_state_batch is empty (see refresh_in_batch)."""
    when = " WHEN NOT EXISTS (SELECT 1 FROM doc_state_batch)" if switch else ""
    for table, steps in _DOC_STATE_TRIGGERS.items():
        body = ";\n  ".join(refresh_doc_state_sql(kind, expr) for kind, expr in steps)
        db.execute(f"CREATE TRIGGER {table}_settled AFTER INSERT ON {table}{when} BEGIN\n  {body};\nEND")


# While doc_state_batch holds a row, the doc_state triggers do nothing (their WHEN clause): a bulk write lists the
# documents it touches there, posts its rows, then refreshes those documents with one statement per kind
# (refresh_in_batch); the whole book's rebuild (doc_state_suspended) holds the row SUSPENDED instead. It is an
# ordinary table, not a per-connection switch: every connection, however it was opened (a restore, a migration,
# a bare sqlcipher3 connection), sees the same triggers, and the rows are written and removed inside the one
# transaction of the write, so no other connection ever sees one and a kill -9 leaves none behind.
SUSPENDED = ("*", "*")

# The documents (kind, id column of the row) whose doc_state row an event of each table changes: what the
# triggers refresh, by the row's own id ("id") or one of its columns.
DOC_STATE_TOUCHES = {table: [(kind, expr.removeprefix("NEW.")) for kind, expr in steps]
                     for table, steps in _DOC_STATE_TRIGGERS.items()}


def touched(table: str, rows) -> set[tuple[str, str]]:
    """(kind, id) of every document whose cache row events of `table` change; rows are (row id, data)."""
    found: set[tuple[str, str]] = set()
    for kind, col in DOC_STATE_TOUCHES.get(table, ()):
        if col == "id":
            found.update((kind, row_id) for row_id, _ in rows)
        else:
            found.update((kind, doc) for _, data in rows if (doc := data.get(col)) is not None)
    return found


def refresh_in_batch(db, documents: Callable[[], set[tuple[str, str]]], write) -> None:
    """Inside an open transaction: write() (which posts rows of the doc_state tables) with the triggers off, then
    the cache rows of the documents (kind, id) that documents() names computed again, one DELETE and one
    INSERT ... SELECT per kind, instead of the triggers' three correlated refreshes per allocation. documents()
    must name every document the write changes (touched()); while the whole cache is suspended
    (doc_state_suspended) it is not asked and write() just runs."""
    open_batch = db.execute("SELECT kind FROM doc_state_batch LIMIT 1").fetchone()
    if open_batch and open_batch[0] == SUSPENDED[0]:
        write()
        return
    if id(db) in _DEFERRED and not open_batch:  # its end refreshes what this posts: the triggers only stand aside
        db.execute("INSERT INTO doc_state_batch (kind, id) VALUES (?, ?)", SUSPENDED)
        try:
            write()
        finally:
            if db.in_transaction:
                db.execute("DELETE FROM doc_state_batch WHERE kind = ?", SUSPENDED[:1])
        return
    found = documents()
    if open_batch:  # inside another batch: its refresh at the end covers the documents listed here too
        db.executemany("INSERT OR IGNORE INTO doc_state_batch (kind, id) VALUES (?, ?)", found)
        write()
        return
    if not found:
        write()
        return
    db.executemany("INSERT OR IGNORE INTO doc_state_batch (kind, id) VALUES (?, ?)", found)
    try:
        write()
    finally:
        # also when write() failed part way: the rows it posted before the failure stay if the caller goes on
        if db.in_transaction:  # else SQLite already rolled the write back (a full disk): nothing is left
            refresh_listed(db)


def refresh_listed(db, chunk: int | None = None) -> None:
    """The cache rows of the documents listed in doc_state_batch computed again, one DELETE and one INSERT ...
    SELECT per kind and chunk of documents (REBUILD_CHUNK, in the order of their ids: SQLite holds a statement's
    sums in memory to join them), and the list emptied (but for a SUSPENDED row, which is no document's)."""
    chunk = chunk or REBUILD_CHUNK
    for (kind,) in db.execute("SELECT DISTINCT kind FROM doc_state_batch").fetchall():
        if kind not in _DOC_KINDS:
            continue
        listed = f"(SELECT id FROM doc_state_batch WHERE kind = '{kind}' AND id > :lo AND id <= :hi)"
        delete = f"DELETE FROM doc_state WHERE +kind = '{kind}' AND id IN {listed}"  # by id: not a walk of the kind
        insert = (f"INSERT INTO doc_state ({', '.join(DOC_STATE_COLUMNS)}) "
                  f"{_doc_state_rows(kind, grouped=True, within=listed)}")
        low = ""
        while True:
            (high,) = db.execute("SELECT max(id) FROM (SELECT id FROM doc_state_batch WHERE kind = ? AND id > ? "
                                 "ORDER BY id LIMIT ?)", (kind, low, chunk)).fetchone()
            if high is None:
                break
            db.execute(delete, {"lo": low, "hi": high})
            db.execute(insert, {"lo": low, "hi": high})
            low = high
        db.execute("DELETE FROM doc_state_batch WHERE kind = ?", (kind,))


# The writes under doc_state_deferred, by connection: {id(db): {table: the last rowid before them}}.
_DEFERRED: dict[int, dict[str, int]] = {}


@contextmanager
def doc_state_deferred(db):
    """Inside an open transaction: the cache rows of the documents that the bulk writes inside change are computed
    again once, at the end (refresh_deferred), instead of after each write (refresh_in_batch), so a document that
    many writes touch is refreshed once, and all of them in one pass in the order of their ids. Which documents is
    read from the rows posted meanwhile (events are only ever added: every one has a rowid above the table's last
    at the start), so nothing is kept while it lasts. Meanwhile those documents' cache rows are stale: only for a
    caller that reads none of them before the end, or calls refresh_deferred first. A single write inside (not a
    bulk one) is refreshed by the triggers as ever. Refreshed also when a write inside fails (its caller may go on);
    an interrupt rolls the whole transaction back and refreshes nothing. Inside a batch or a suspended cache, or
    inside another deferral, their own end covers it."""
    if not db.in_transaction:
        raise RuntimeError("doc_state_deferred needs an open transaction")
    if id(db) in _DEFERRED or db.execute("SELECT 1 FROM doc_state_batch LIMIT 1").fetchone():
        yield
        return
    _DEFERRED[id(db)] = _last_rowids(db)
    try:
        yield
    except Exception:
        # the caller may catch this and go on (or commit): the cache must be whole again first (not for an
        # interrupt, ctrl+c, which ends the process: the transaction is rolled back, nothing refreshed)
        if db.in_transaction:  # else SQLite already rolled the write back (a full disk): nothing is left
            refresh_deferred(db)
        raise
    else:
        refresh_deferred(db)
    finally:
        del _DEFERRED[id(db)]


def _last_rowids(db) -> dict[str, int]:
    return {table: db.execute(f"SELECT coalesce(max(rowid), 0) FROM {table}").fetchone()[0]
            for table in DOC_STATE_TOUCHES}


def refresh_deferred(db) -> None:
    """Under doc_state_deferred: the cache rows of every document the rows posted since its start (or since the
    last call) touch, computed again now; nothing outside one."""
    since = _DEFERRED.get(id(db))
    if since is None:
        return
    now = _last_rowids(db)
    for table, steps in DOC_STATE_TOUCHES.items():
        if now[table] == since[table]:
            continue
        for kind, col in steps:
            db.execute(f"INSERT OR IGNORE INTO doc_state_batch (kind, id) SELECT '{kind}', {col} FROM {table} "
                       f"WHERE rowid > ? AND {col} IS NOT NULL", (since[table],))
    refresh_listed(db)
    _DEFERRED[id(db)] = now


class CacheDisagrees(Exception):
    """The settlement cache rebuilt after a bulk write does not match the documents (never expected)."""


@contextmanager
def doc_state_suspended(db):
    """Inside an open transaction: the doc_state triggers are dropped for a bulk write (and doc_state_batch holds
    SUSPENDED, so that refresh_in_batch leaves the cache alone too), then the cache is rebuilt from the documents,
    checked against them and the triggers made again, all in the same transaction, so a kill -9 at any point
    leaves the old ledger (triggers and all) or the new one. Worth it when the write adds many documents to a small
    book (the demo): a rebuild reads every document once, where the triggers did per-row work for each insert.
    Dropped, not only switched off: a trigger switched off by its WHEN clause is still started for every row (a
    200k-invoice demo inserts 1.1 million), which cost 2.8 s of its 28."""
    if not db.in_transaction:
        raise RuntimeError("doc_state_suspended needs an open transaction")
    db.execute("INSERT OR IGNORE INTO doc_state_batch (kind, id) VALUES (?, ?)", SUSPENDED)
    for table in _DOC_STATE_TRIGGERS:
        db.execute(f"DROP TRIGGER {table}_settled")
    try:
        yield
    except Exception:
        # the caller may catch this and go on (or commit): the cache and its triggers must be whole again first
        # (not for an interrupt, ctrl+c, which ends the process: the transaction is rolled back, nothing rebuilt)
        if db.in_transaction:
            db.execute("DELETE FROM doc_state_batch")
            rebuild_settled(db)
            _create_doc_state_triggers(db)
        raise
    db.execute("DELETE FROM doc_state_batch")
    rebuild_settled(db)
    problems = settled_cache_problems(db)
    if problems:
        raise CacheDisagrees("; ".join(problems))
    _create_doc_state_triggers(db)


@contextmanager
def indexes_built_after(db, tables: tuple[str, ...]):
    """Inside an open transaction: the secondary indexes of `tables` (not the unique ones, which guard the rows as
    they go in) are dropped for a bulk write into a new book and made again from the rows when it ends, one sort
    each, instead of a random insert into each of them for every row. Made again in the same transaction, also when
    the write fails and its caller goes on (an interrupt rolls everything back, the drops too), so a kill -9 at any
    point leaves the old ledger or the new one, and no reader ever sees the tables without their indexes."""
    if not db.in_transaction:
        raise RuntimeError("indexes_built_after needs an open transaction")
    marks = ",".join("?" * len(tables))
    deferred = db.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND "
                          f"sql NOT LIKE 'CREATE UNIQUE%' AND tbl_name IN ({marks}) ORDER BY name", tables).fetchall()
    for name, _sql in deferred:
        db.execute(f"DROP INDEX {name}")
    try:
        yield
    except Exception:
        if db.in_transaction:
            for _name, sql in deferred:
                db.execute(sql)
        raise
    for _name, sql in deferred:
        db.execute(sql)


# The whole book's rebuild takes the documents of a kind this many at a time, in the order of their ids.
REBUILD_CHUNK = 50_000


def rebuild_settled(db, chunk: int = REBUILD_CHUNK) -> None:
    """Recompute the whole cache from the documents: each kind's rows a chunk of documents (by id) at a time, their
    allocations, write-offs and voids summed in one pass over a range of their indexes (grouped) and joined to
    them, where the triggers' DOC_STATE looks each one up again for every column that needs it. SQLite holds a
    chunk's sums in memory to join them: in one statement for the whole book it held every document's (a
    1M-invoice demo peaked 215 MB above the rest of its work there)."""
    db.execute("DELETE FROM doc_state")
    for kind, (table, *_rest) in _DOC_KINDS.items():
        rows = _doc_state_rows(kind, grouped=True, ranged=True)
        insert = f"INSERT INTO doc_state ({', '.join(DOC_STATE_COLUMNS)}) {rows}"
        low = ""
        while True:
            (high,) = db.execute(f"SELECT max(id) FROM (SELECT id FROM {table} WHERE id > ? ORDER BY id LIMIT ?)",
                                 (low, chunk)).fetchone()
            if high is None:
                break
            db.execute(insert, {"lo": low, "hi": high})
            low = high


def settled_cache_problems(db) -> list[str]:
    """Compare the cache with a fresh computation from the documents; empty when they agree.

    The fresh rows are computed otherwise than rebuild_settled does (each document's allocations, write-offs and
    voids looked up by its id), every one must find its exact copy in the cache (its row of that id, equal in
    every column), and the cache must hold no other row."""
    cached = db.execute("SELECT count(*) FROM doc_state").fetchone()[0]
    documents = matching = 0
    # +d.col: the cached row is found by its key (ids come in the order the documents are read) and then compared,
    # not searched for in the doc_state_open index, whose pages would be read in no order.
    same = " AND ".join(f"+d.{col} IS f.{col}" for col in DOC_STATE_COLUMNS[1:])
    for kind, (table, *_rest) in _DOC_KINDS.items():
        documents += db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        matching += db.execute(
            f"WITH f ({', '.join(DOC_STATE_COLUMNS)}) AS ({_doc_state_rows(kind, grouped=False)}) "
            f"SELECT count(*) FROM f CROSS JOIN doc_state d ON d.id = f.id WHERE {same}").fetchone()[0]
    wrong = max(documents - matching, cached - matching)
    return [f"the settlement cache disagrees with the documents for {wrong} document(s)"] if wrong else []


def _v5_import_log(db) -> None:
    """Local, not synced: which source rows an import already turned into documents (re-import adds nothing)."""
    db.execute(
        """CREATE TABLE import_log (
  fingerprint TEXT PRIMARY KEY, kind TEXT NOT NULL, doc_table TEXT NOT NULL, doc_id TEXT NOT NULL,
  source TEXT, line INTEGER, at TEXT
) WITHOUT ROWID"""
    )


def _v7_sync_review(db) -> None:
    """Local only (not synced): what a sync flagged for a person to look at (DESIGN §4 "Needs review")."""
    db.execute(
        """CREATE TABLE sync_review (
  id INTEGER PRIMARY KEY, kind TEXT NOT NULL, subject TEXT NOT NULL, other TEXT NOT NULL DEFAULT '',
  message TEXT NOT NULL, found_at TEXT NOT NULL, resolved_at TEXT, UNIQUE (kind, subject, other)
)"""
    )


def _v_collections(db) -> None:
    """Reminders (synced) and the local send log: the intent to send a level for an invoice is written, in
    its own transaction, before the message goes out; UNIQUE (invoice_id, level) makes a second send of the
    same level impossible, even after a crash or from a second process (DESIGN §1 Reminders)."""
    db.execute(_synced_table_sql("reminders", EVENTS["reminders"]))
    db.execute("CREATE INDEX reminders_invoice ON reminders (invoice_id, level)")
    db.execute("CREATE INDEX reminders_customer ON reminders (customer_id, sent_at)")
    db.execute(
        """CREATE TABLE remind_log (
  id INTEGER PRIMARY KEY, batch TEXT NOT NULL, invoice_id TEXT NOT NULL, customer_id TEXT NOT NULL,
  level TEXT NOT NULL, channel TEXT NOT NULL, as_of TEXT NOT NULL, status TEXT NOT NULL, address TEXT,
  started_at TEXT NOT NULL, finished_at TEXT, error TEXT, UNIQUE (invoice_id, level)
)"""
    )
    db.execute("CREATE INDEX remind_log_customer ON remind_log (customer_id, started_at)")


def _v_reconciliation(db) -> None:
    """Bank lines (synced, insert-once by a fingerprint-derived id), decisions about them, payer aliases, bank
    file profiles and the statement-of-account log. Money columns are INTEGER (minor units)."""
    money_cols = {"amount", "balance", "line", "fee", "our_balance", "their_balance", "difference", "archived"}
    for name, cols in (("bank_lines", EVENTS["bank_lines"]), *((n, EDITABLE[n]) for n in (
            "bank_profiles", "bank_matches", "payer_aliases", "statement_log"))):
        body = ",\n  ".join(f"{c} {'INTEGER' if c in money_cols else 'TEXT'}" for c in cols)
        db.execute(f"CREATE TABLE {name} (\n  id TEXT PRIMARY KEY,\n  {body}\n)")
    db.execute("CREATE INDEX bank_lines_date ON bank_lines (date, amount)")
    db.execute("CREATE INDEX bank_matches_payment ON bank_matches (payment_id)")
    db.execute("CREATE INDEX payer_aliases_value ON payer_aliases (kind, value)")
    db.execute("CREATE INDEX statement_log_customer ON statement_log (customer_id, as_of)")


def _v_tui_list_order(db) -> None:
    """The app's payment list pages newest first by (date, id): an index, so a page is a range, not a sort
    of every payment (200k payments: 4.4 s -> milliseconds)."""
    db.execute("CREATE INDEX payments_date ON payments (date, id)")


def _v_drafts(db) -> None:
    """Draft invoices (editable, synced) and the record of issuing one (an event, synced)."""
    db.execute(_synced_table_sql("drafts", EDITABLE["drafts"]))
    db.execute(_synced_table_sql("draft_issues", EVENTS["draft_issues"]))
    db.execute("CREATE INDEX draft_issues_draft ON draft_issues (draft_id)")


# Document number templates: {prefix} is the device's series prefix (the invoice series, e.g. A7).
NUMBER_TEMPLATES = {"payments": "RC-{prefix}-{n:06d}", "credit_notes": "CN-{prefix}-{n:06d}",
                    "writeoffs": "WO-{prefix}-{n:06d}", "debit_notes": "DN-{prefix}-{n:06d}"}


def _v_document_numbers(db) -> None:
    """Payments and write-offs get human numbers like invoices and credit notes. The ones posted before get a
    number every device computes alike from synced facts only: the series is the posting device's (the first 4
    characters of its id, e.g. RC-3F2A-000012) and the rank is its order in that device's change log, which
    every copy holds in the same order (a device's changes arrive in sequence)."""
    for table in ("payments", "writeoffs"):
        if "number" not in {row[1] for row in db.execute(f"PRAGMA table_info({table})")}:
            db.execute(f"ALTER TABLE {table} ADD COLUMN number TEXT")
    number_earlier_documents(db)
    db.execute("CREATE INDEX payments_number ON payments (number)")
    db.execute("CREATE INDEX writeoffs_number ON writeoffs (number)")


def number_earlier_documents(db) -> None:
    import json

    for table in ("payments", "writeoffs"):
        unnumbered = {row[0] for row in db.execute(f"SELECT id FROM {table} WHERE number IS NULL")}
        if not unnumbered:
            continue
        ranks: dict[str, int] = {}
        numbers: list[tuple[str, str]] = []
        needle = f'"t":"{table}"'
        for device, ops in db.execute("SELECT device, ops_text(ops) FROM changes "
                                      "WHERE instr(ops_text(ops), ?) > 0 ORDER BY device, device_seq", (needle,)):
            for op in json.loads(ops):
                if op.get("op") == "event" and op.get("t") == table and op.get("id") in unnumbered:
                    unnumbered.discard(op["id"])
                    ranks[device] = ranks.get(device, 0) + 1
                    numbers.append((NUMBER_TEMPLATES[table].format(prefix=device[:4].upper(), n=ranks[device]),
                                    op["id"]))
        for n, row_id in enumerate(sorted(unnumbered), start=1):  # no change-log entry: by id, one series
            numbers.append((NUMBER_TEMPLATES[table].format(prefix="0000", n=n), row_id))
        db.executemany(f"UPDATE {table} SET number=? WHERE id=?", numbers)


def _v_einvoice_index(db) -> None:
    """Issuing an invoice checks that its e-invoice number (数电票号码) is not on another one: without an index
    that check read every invoice, and importing a 100k-row fapiao export took quadratic time."""
    db.execute("CREATE INDEX IF NOT EXISTS invoices_einvoice ON invoices (einvoice)")


def _v_fx_rates(db) -> None:
    """Exchange rates to the ledger's base currency, synced; 'the rate as of D' is a range on (currency, date)."""
    if not db.execute("SELECT 1 FROM sqlite_master WHERE name='fx_rates'").fetchone():
        db.execute(_synced_table_sql("fx_rates", EDITABLE["fx_rates"]))
    db.execute("CREATE INDEX IF NOT EXISTS fx_rates_currency ON fx_rates (currency, date)")


def _v_recurring(db) -> None:
    """Recurring invoice schedules (editable, synced) and the record of each occurrence issued (an event)."""
    ints = {"amount", "every_n", "day_of_month", "occurrences", "occurrence"}
    for name, cols in (("recurring", EDITABLE["recurring"]), ("recurring_issues", EVENTS["recurring_issues"])):
        body = ",\n  ".join(f"{c} {'INTEGER' if c in ints else 'TEXT'}" for c in cols)
        db.execute(f"CREATE TABLE IF NOT EXISTS {name} (\n  id TEXT PRIMARY KEY,\n  {body}\n)")
    db.execute("CREATE INDEX IF NOT EXISTS recurring_customer ON recurring (customer_id)")
    db.execute("CREATE INDEX IF NOT EXISTS recurring_issues_schedule ON recurring_issues (schedule_id, occurrence)")
    db.execute("CREATE INDEX IF NOT EXISTS recurring_issues_invoice ON recurring_issues (invoice_id)")


def _v_debit_notes(db) -> None:
    """Debit notes (an event, synced): what an invoice row that is a debit note is, and the credit it reverses."""
    if not db.execute("SELECT 1 FROM sqlite_master WHERE name='debit_notes'").fetchone():
        db.execute(_synced_table_sql("debit_notes", EVENTS["debit_notes"]))
    db.execute("CREATE INDEX IF NOT EXISTS debit_notes_invoice ON debit_notes (invoice_id)")
    db.execute("CREATE INDEX IF NOT EXISTS debit_notes_credit ON debit_notes (credit_id)")


def _v_contract_status(db) -> None:
    """A contract can be ended early or cancelled: its status, the day and the reason (editable, synced)."""
    have = {row[1] for row in db.execute("PRAGMA table_info(contracts)")}
    for col in ("status", "ended_on", "end_reason"):
        if col not in have:  # a ledger made by this version has them from its first contracts table
            db.execute(f"ALTER TABLE contracts ADD COLUMN {col} TEXT")


# What a customer is searched by: when one of these changes (here or from another device), its search terms
# are computed again, so a search is a lookup in the customer_search index (store/rules/search.py).
SEARCHED = frozenset({"code", "name", "legal_name", "tax_id"})


def reindex_customer(conn, row: str) -> None:
    conn.execute("DELETE FROM customer_search WHERE customer_id=?", (row,))
    found = conn.execute("SELECT code, name, legal_name, tax_id FROM customers WHERE id=?", (row,)).fetchone()
    if found:
        conn.executemany("INSERT OR IGNORE INTO customer_search (term, customer_id) VALUES (?, ?)",
                         [(term, row) for term in search.terms(*found)])


def _v_customer_search(db) -> None:
    """Customers are found by part of their code, name or tax id, or by the name's pinyin (`hengda`, or the
    initials `shhd`, for 上海恒达贸易有限公司): the terms, computed when a customer is written (changes.py), in an
    index, so a search is a range lookup. Derived from the customers table, never synced; filled here for the
    customers a ledger already holds."""
    db.execute("CREATE TABLE IF NOT EXISTS customer_search (term TEXT NOT NULL, customer_id TEXT NOT NULL, "
               "PRIMARY KEY (term, customer_id)) WITHOUT ROWID")
    db.execute("CREATE INDEX IF NOT EXISTS customer_search_customer ON customer_search (customer_id)")
    for (row,) in db.execute("SELECT id FROM customers").fetchall():
        reindex_customer(db, row)


def _v_compressed_change_log(db) -> None:
    """The change log's big envelopes (a bulk job's, thousands of operations each) are stored compressed
    (store.ledger.packing): those an older Duly wrote as text are compressed here, one at a time. The
    text each one's hash covers is unchanged, so the chain still checks. The pages they free are used again by
    later writes (the file does not shrink until it is vacuumed, as a snapshot is)."""
    from store.ledger.packing import COMPRESS_FROM, pack

    rows = db.execute("SELECT seq FROM changes WHERE typeof(ops) = 'text' AND length(ops) >= ?",
                      (COMPRESS_FROM,)).fetchall()
    for (seq,) in rows:
        (text,) = db.execute("SELECT ops FROM changes WHERE seq=?", (seq,)).fetchone()
        packed = pack(text)
        if packed is not text:
            db.execute("UPDATE changes SET ops=? WHERE seq=?", (packed, seq))


def _v_import_log_binary_keys(db) -> None:
    """The import log keeps each row's fingerprint as the first 16 bytes of its SHA-256 instead of 64 hex
    characters, in a table written in the order of the imports, with the fingerprints in a unique index of their
    own. Keyed by its 64-character text, the log (every row of it) was one B-tree in the order of random hashes:
    each row a bulk import logged landed on a random page of it, and once the log was larger than what the cache
    keeps, that cost grew with the log (3.5 µs a row at first, 22 µs at 400k rows); the rows now go at the
    end of the table, and the index a random key still goes into is a quarter of its size. Every fingerprint an
    older Duly logged becomes its first 16 bytes, so a file imported before still adds nothing when imported again."""
    db.execute(
        """CREATE TABLE import_log_binary (
  id INTEGER PRIMARY KEY, fingerprint BLOB NOT NULL, kind TEXT NOT NULL, doc_table TEXT NOT NULL,
  doc_id TEXT NOT NULL, source TEXT, line INTEGER, at TEXT
)"""
    )
    db.execute(
        """INSERT INTO import_log_binary (fingerprint, kind, doc_table, doc_id, source, line, at)
           SELECT CASE WHEN typeof(fingerprint) = 'text' AND length(fingerprint) = 64
                       THEN coalesce(unhex(substr(fingerprint, 1, 32)), fingerprint) ELSE fingerprint END,
                  kind, doc_table, doc_id, source, line, at
           FROM import_log ORDER BY at, source, line"""
    )
    # two old fingerprints alike in their first 16 bytes (no SHA-256 seen so far): the row logged last is kept, as
    # logging a fingerprint again replaces the row before
    db.execute("DELETE FROM import_log_binary WHERE id NOT IN "
               "(SELECT max(id) FROM import_log_binary GROUP BY fingerprint)")
    db.execute("DROP TABLE import_log")
    db.execute("ALTER TABLE import_log_binary RENAME TO import_log")
    db.execute("CREATE UNIQUE INDEX import_log_fingerprint ON import_log (fingerprint)")


def _v_doc_state_batch(db) -> None:
    """The doc_state triggers get a switch (doc_state_batch, see refresh_in_batch): a bulk write refreshes the
    documents it touched once per batch instead of once per row and allocation. Made again with the same names
    and bodies, each with a WHEN clause; the table is empty outside a write."""
    db.execute("CREATE TABLE IF NOT EXISTS doc_state_batch (kind TEXT NOT NULL, id TEXT NOT NULL, "
               "PRIMARY KEY (kind, id)) WITHOUT ROWID")
    for table in _DOC_STATE_TRIGGERS:
        db.execute(f"DROP TRIGGER IF EXISTS {table}_settled")
    _create_doc_state_triggers(db)


def _v_partial_indexes(db) -> None:
    """Two indexes hold only the rows that have the column: a payment's allocations name no credit note and most
    invoices carry no e-invoice number, so allocations_credit and invoices_einvoice were mostly entries for
    NULL, written for every payment and invoice posted and never read (every query names a value: SQLite uses a
    partial index `WHERE c IS NOT NULL` for `c = ?` and `c IN (...)`). A 200k-invoice book: 7 MB less to write."""
    db.execute("DROP INDEX IF EXISTS allocations_credit")
    db.execute("CREATE INDEX allocations_credit ON allocations (credit_id, date, amount) WHERE credit_id IS NOT NULL")
    db.execute("DROP INDEX IF EXISTS invoices_einvoice")
    db.execute("CREATE INDEX invoices_einvoice ON invoices (einvoice) WHERE einvoice IS NOT NULL")


MIGRATIONS = [_v1_foundation, _v2_receivables, _v3_covering_indexes, _v4_settled_cache, _v5_import_log, _v_open_documents_cache, _v7_sync_review, _v_collections, _v_reconciliation, _v_tui_list_order, _v_drafts, _v_document_numbers, _v_einvoice_index, _v_fx_rates, _v_recurring, _v_debit_notes,
              _v_customer_search, _v_compressed_change_log, _v_contract_status,
              _v_import_log_binary_keys, _v_doc_state_batch, _v_partial_indexes]
VERSION = len(MIGRATIONS)


def version(conn) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def migrate(conn) -> int:
    """Bring the schema up to VERSION; each migration is one transaction with its version bump."""
    current = version(conn)
    for number, step in enumerate(MIGRATIONS[current:], start=current + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            step(conn)
            conn.execute(f"PRAGMA user_version = {number}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return VERSION
