"""The ledger's tables and their versioned migrations (PRAGMA user_version).

Two kinds of synced tables (DESIGN §3, §4):
- editable records change per field through `set` operations (last writer wins per column);
- posted documents arrive once through `event` operations and are never updated.
Local tables (change log, field clocks, history, counters) are not synced as rows.
"""
from __future__ import annotations

EDITABLE = {
    "customers": (
        "code", "name", "legal_name", "tax_id", "address", "email", "phone", "language", "currency",
        "terms", "credit_limit", "category", "settlement_cycle", "tags", "notes", "archived",
    ),
    "contacts": ("customer_id", "name", "role", "phone", "email", "wechat", "archived"),
    "terms": ("name", "lines", "discount_bp", "discount_days", "late_interest_bp", "archived"),
    "settings": ("value",),
    "contracts": (
        "customer_id", "number", "signed", "start_date", "end_date", "terms", "credit_limit",
        "file_path", "file_sha256", "notes", "archived",
    ),
    "disputes": ("invoice_id", "customer_id", "amount", "reason", "opened", "review", "status", "resolved_on", "note"),
}

EVENTS = {
    "invoices": (
        "number", "customer_id", "date", "due_date", "currency", "total", "tax", "terms", "contract",
        "einvoice", "description",
    ),
    "invoice_lines": ("invoice_id", "pos", "description", "qty", "unit_price", "tax_bp", "amount", "tax"),
    "due_items": ("invoice_id", "seq", "due_date", "amount"),
    "payments": ("customer_id", "date", "amount", "currency", "method", "reference", "note"),
    "credit_notes": ("number", "customer_id", "date", "amount", "currency", "invoice_id", "reason"),
    # An allocation applies part of a payment or a credit note to an invoice, on a date.
    "allocations": ("invoice_id", "payment_id", "credit_id", "amount", "date"),
    "writeoffs": ("invoice_id", "date", "amount", "reason"),
    # A void reverses a posted invoice or payment as of its date; the document itself stays.
    "voids": ("doc_table", "doc_id", "date", "reason"),
    "promises": ("invoice_id", "customer_id", "date", "amount", "made_on"),
    "notes": ("customer_id", "channel", "text", "at", "next_action"),
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


# A cache, rebuilt and checked, never truth (DESIGN §3): for each invoice, payment and credit note, the
# date from which it stays settled (nothing open / nothing unapplied) whatever the as-of date, or NULL
# while it is open. Aging then reads only documents still open as of its date. Triggers keep it right
# on every path that posts documents: local writes and remote changes alike.
_NEVER = "'9999-12-31'"
SETTLED_ON = {
    "invoice": f"""SELECT i.id, 'invoice', nullif(min(
        coalesce((SELECT min(v.date) FROM voids v WHERE v.doc_id = i.id AND v.doc_table = 'invoices'), {_NEVER}),
        CASE WHEN i.total - coalesce((SELECT sum(a.amount) FROM allocations a WHERE a.invoice_id = i.id), 0)
                          - coalesce((SELECT sum(w.amount) FROM writeoffs w WHERE w.invoice_id = i.id), 0) = 0
             THEN max(i.date, coalesce((SELECT max(a.date) FROM allocations a WHERE a.invoice_id = i.id), ''),
                              coalesce((SELECT max(w.date) FROM writeoffs w WHERE w.invoice_id = i.id), ''))
             ELSE {_NEVER} END), {_NEVER}) FROM invoices i""",
    "payment": f"""SELECT p.id, 'payment', nullif(min(
        coalesce((SELECT min(v.date) FROM voids v WHERE v.doc_id = p.id AND v.doc_table = 'payments'), {_NEVER}),
        CASE WHEN p.amount - coalesce((SELECT sum(a.amount) FROM allocations a WHERE a.payment_id = p.id), 0) = 0
             THEN max(p.date, coalesce((SELECT max(a.date) FROM allocations a WHERE a.payment_id = p.id), ''))
             ELSE {_NEVER} END), {_NEVER}) FROM payments p""",
    "credit": f"""SELECT n.id, 'credit', nullif(
        CASE WHEN n.amount - coalesce((SELECT sum(a.amount) FROM allocations a WHERE a.credit_id = n.id), 0) = 0
             THEN max(n.date, coalesce((SELECT max(a.date) FROM allocations a WHERE a.credit_id = n.id), ''))
             ELSE {_NEVER} END, {_NEVER}) FROM credit_notes n""",
}
_ALIAS = {"invoice": "i", "payment": "p", "credit": "n"}


def refresh_settled_sql(kind: str, id_expr: str) -> str:
    # DELETE + INSERT, not INSERT OR REPLACE: inside a trigger the outer statement's conflict policy
    # (the event's INSERT OR IGNORE) overrides ours, and the stale row would be kept.
    return (
        f"DELETE FROM doc_state WHERE doc_id = {id_expr} AND kind = '{kind}';\n  "
        f"INSERT INTO doc_state (doc_id, kind, settled_on) {SETTLED_ON[kind]} WHERE {_ALIAS[kind]}.id = {id_expr}"
    )


def _v4_settled_cache(db) -> None:
    db.execute("CREATE TABLE doc_state (doc_id TEXT PRIMARY KEY, kind TEXT NOT NULL, settled_on TEXT) WITHOUT ROWID")
    db.execute("CREATE INDEX doc_state_open ON doc_state (kind, settled_on)")
    triggers = {
        "invoices": ["refresh:invoice:NEW.id"],
        "payments": ["refresh:payment:NEW.id"],
        "credit_notes": ["refresh:credit:NEW.id"],
        "writeoffs": ["refresh:invoice:NEW.invoice_id"],
        "allocations": ["refresh:invoice:NEW.invoice_id", "refresh:payment:NEW.payment_id",
                        "refresh:credit:NEW.credit_id"],
    }
    for table, steps in triggers.items():
        body = ";\n  ".join(refresh_settled_sql(kind, expr) for _, kind, expr in (s.split(":") for s in steps))
        db.execute(f"CREATE TRIGGER {table}_settled AFTER INSERT ON {table} BEGIN\n  {body};\nEND")
    db.execute(
        f"CREATE TRIGGER voids_settled AFTER INSERT ON voids BEGIN\n"
        f"  {refresh_settled_sql('invoice', 'NEW.doc_id')};\n  {refresh_settled_sql('payment', 'NEW.doc_id')};\nEND"
    )
    rebuild_settled(db)


def rebuild_settled(db) -> None:
    """Recompute the whole cache from the documents."""
    db.execute("DELETE FROM doc_state")
    for select in SETTLED_ON.values():
        db.execute(f"INSERT INTO doc_state (doc_id, kind, settled_on) {select}")


def settled_cache_problems(db) -> list[str]:
    """Compare the cache with a fresh computation from the documents; empty when they agree."""
    fresh = "SELECT * FROM (" + " UNION ALL ".join(SETTLED_ON.values()) + ")"
    cached = "SELECT doc_id, kind, settled_on FROM doc_state"
    missing = db.execute(f"SELECT count(*) FROM ({fresh} EXCEPT {cached})").fetchone()[0]
    stale = db.execute(f"SELECT count(*) FROM ({cached} EXCEPT {fresh})").fetchone()[0]
    if missing or stale:
        return [f"the settlement cache disagrees with the documents for {max(missing, stale)} document(s)"]
    return []


MIGRATIONS = [_v1_foundation, _v2_receivables, _v3_covering_indexes, _v4_settled_cache]
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
