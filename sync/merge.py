"""Merge rules a ledger needs beyond last-writer-wins (DESIGN §4): nothing is deduplicated or dropped
silently; what looks wrong after a merge is flagged for a person ("Needs review").

The rules are pure functions over plain facts; `scan` reads what a sync applied and records the flags in
the local `sync_review` table.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timezone

from store.read.open import CREDIT_LEFT, END, INVOICE_OPEN, PAYMENT_LEFT
from store.write import drafts
from store.rules.money import format_amount
from store.errors import Said
from store.i18n import N_

DUPLICATE_WINDOW_DAYS = 3


@dataclass(frozen=True)
class PaymentFact:
    id: str
    customer_id: str
    date: str
    amount: int
    currency: str
    reference: str | None


def same_payment(a: PaymentFact, b: PaymentFact) -> bool:
    """Same customer, amount, currency and reference, dated within 3 days: likely one payment keyed twice."""
    if a.id == b.id:
        return False
    if (a.customer_id, a.amount, a.currency, a.reference or "") != (b.customer_id, b.amount, b.currency, b.reference or ""):
        return False
    days = abs((date.fromisoformat(a.date) - date.fromisoformat(b.date)).days)
    return days <= DUPLICATE_WINDOW_DAYS


def duplicate_pairs(arrived: list[PaymentFact], known: list[PaymentFact]) -> list[tuple[str, str]]:
    """Pairs (lower id, higher id) of an arrived payment and another that look like the same payment."""
    pairs = set()
    for new in arrived:
        for old in known:
            if same_payment(new, old):
                pairs.add(tuple(sorted((new.id, old.id))))
    return sorted(pairs)


def excess(limit: int, used: int) -> int:
    """How much more than `limit` is applied (0 when within it)."""
    return max(0, used - limit)


# -- reading what arrived, recording flags -------------------------------------------------------

def _arrived(conn, after_seq: int, own_device: str):
    """(last local change seq, payment ids, allocation ids, [(device, seq, setting, value)], draft ids) from
    other devices after `after_seq`."""
    last, payments, allocations, settings, drafts = after_seq, set(), set(), [], set()
    for seq, device, device_seq, ops in conn.execute(
            "SELECT seq, device, device_seq, ops FROM changes WHERE seq>? ORDER BY seq", (after_seq,)):
        last = seq
        if device == own_device:
            continue
        for op in json.loads(ops):
            if op.get("op") == "event" and op.get("t") == "payments":
                payments.add(op["id"])
            elif op.get("op") == "event" and op.get("t") == "allocations":
                allocations.add(op["id"])
            elif op.get("op") == "set" and op.get("t") == "settings":
                settings.append((device, device_seq, op["id"], op.get("v")))
            elif op.get("op") == "set" and op.get("t") == "drafts":
                drafts.add(op["id"])
            elif op.get("op") == "event" and op.get("t") == "draft_issues":
                drafts.add((op.get("d") or {}).get("draft_id"))
    return last, payments, allocations, settings, drafts - {None}


_OCCURRENCE_TABLES = ("recurring_issues", "invoices", "invoice_lines", "due_items")


def recurring_copies_differ(conn, after_seq: int, own_device: str, name) -> list[tuple[str, str]]:
    """(subject, message) for each occurrence of a recurring schedule that another device issued too, with
    content that differs from the copy kept here. Both devices post the occurrence under the same ids, so the
    ledger holds it once; the first copy a device holds is the one it keeps (events are inserted once), so a
    difference (the schedule was edited on one device while the other ran it) is for a person to settle."""
    out: dict[str, str] = {}
    for device, ops in conn.execute(
            "SELECT device, ops FROM changes WHERE seq>? AND device<>? AND instr(ops, ?) > 0 ORDER BY seq",
            (after_seq, own_device, '"t":"recurring_issues"')):
        events = [op for op in json.loads(ops) if op.get("op") == "event" and op.get("t") in _OCCURRENCE_TABLES]
        occurrence = next((op for op in events if op["t"] == "recurring_issues"), None)
        if occurrence is None:
            continue
        differs = []
        for op in events:
            data = op.get("d") or {}
            cols = list(data)
            row = conn.execute(f"SELECT {', '.join(cols)} FROM {op['t']} WHERE id=?", (op["id"],)).fetchone()
            if row is None or list(row) != list(data.values()):
                differs.append(op["t"])
        if differs:
            d = occurrence.get("d") or {}
            number = conn.execute("SELECT number FROM recurring WHERE id=?", (d.get("schedule_id"),)).fetchone()
            subject = f"{d.get('schedule_id')}:{d.get('occurrence')}"
            out[subject] = str(Said(
                N_("recurring schedule {schedule} occurrence {occurrence} ({date}) was issued here and by {device} "
                   "with different content ({tables}); this device keeps its own copy: void the invoice and issue "
                   "the right one by hand if it is wrong"),
                schedule=number[0] if number else d.get("schedule_id"), occurrence=d.get("occurrence"),
                date=d.get("date"), device=name(device), tables=", ".join(sorted(set(differs)))))
    return sorted(out.items())


def settings_by_non_admin(changes_: list[tuple[str, int, str, object]], roles: dict[str, str]) -> list[tuple]:
    """Settings are an admin's to change (DESIGN §4 roles); the server cannot read them, so devices check."""
    return [c for c in changes_ if roles.get(c[0]) != "admin"]


def _payment_facts(conn, where: str, params) -> list[PaymentFact]:
    rows = conn.execute(
        f"SELECT id, customer_id, date, amount, currency, reference FROM payments p WHERE {where} "
        "AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.doc_id = p.id AND v.doc_table = 'payments')", params
    ).fetchall()
    return [PaymentFact(*r) for r in rows]


def _origin(conn, table: str, row_id: str) -> str | None:
    """The device whose change posted a document (from the change log)."""
    found = conn.execute("SELECT device FROM changes WHERE instr(ops, ?) > 0 ORDER BY seq LIMIT 1",
                         (f'"id":"{row_id}","op":"event","t":"{table}"',)).fetchone()
    return found[0] if found else None


def _flag(conn, kind: str, subject: str, other: str, message: str, now: str) -> bool:
    cur = conn.execute("INSERT OR IGNORE INTO sync_review (kind, subject, other, message, found_at) VALUES (?,?,?,?,?)",
                       (kind, subject, other, message, now))
    return cur.rowcount > 0


def scan(ledger, device_names: dict[str, str], roles: dict[str, str] | None = None) -> int:
    """Flag what changes from other devices brought in since the last scan; returns how many new flags.
    The flags and the scan position are written in one transaction, so a crash re-scans, never skips."""
    conn = ledger.conn
    name = lambda d: device_names.get(d or "", d or "an unknown device")  # noqa: E731
    now = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    with ledger.local():
        after = int(ledger.meta("sync.review_seq") or 0)
        last, payment_ids, allocation_ids, settings, draft_ids = _arrived(conn, after, ledger.device)
        added = 0
        for device, device_seq, key, value in settings_by_non_admin(settings, roles or {}):
            added += _flag(conn, "setting_by_non_admin", f"{device}:{device_seq}", key, str(Said(
                N_("setting {key} was set to {value} by {device}, which is not an admin device (applied like any "
                   "change; set it back with `duly settings set` if it was not meant)"),
                key=key, value=repr(value), device=name(device))), now)
        if payment_ids:
            marks = ",".join("?" * len(payment_ids))
            arrived = _payment_facts(conn, f"id IN ({marks})", list(payment_ids))
            customers = sorted({p.customer_id for p in arrived})
            known = _payment_facts(conn, f"customer_id IN ({','.join('?' * len(customers))})", customers)
            by_id = {p.id: p for p in known}
            for a, b in duplicate_pairs(arrived, known):
                pa, pb = by_id[a], by_id[b]
                code = conn.execute("SELECT code FROM customers WHERE id=?", (pa.customer_id,)).fetchone()
                message = str(Said(
                    N_("payment of {amount} from customer {customer} (reference {reference}) was recorded twice: "
                       "on {date} by {device} and on {other_date} by {other_device}; both are kept: void one if it "
                       "is the same payment"),
                    amount=f"{format_amount(pa.amount, pa.currency)} {pa.currency}",
                    customer=code[0] if code else pa.customer_id, reference=pa.reference or "none", date=pa.date,
                    device=name(_origin(conn, "payments", a)), other_date=pb.date,
                    other_device=name(_origin(conn, "payments", b))))
                added += _flag(conn, "duplicate_payment", a, b, message, now)
        if allocation_ids:
            added += _flag_over_allocation(conn, allocation_ids, now)
        for kind, draft_id, other, message in drafts.conflicts(conn, draft_ids):
            added += _flag(conn, kind, draft_id, other, message, now)
        for subject, message in recurring_copies_differ(conn, after, ledger.device, name):
            added += _flag(conn, "recurring_occurrence_differs", subject, "", message, now)
        ledger.set_meta("sync.review_seq", str(last))
    return added


def _flag_over_allocation(conn, allocation_ids: set[str], now: str) -> int:
    """Flag each invoice, payment and credit note an arrived allocation touches that now has more applied than
    it holds: open (store.read.open's rule, counting every document) below zero."""
    marks = ",".join("?" * len(allocation_ids))
    touched = conn.execute(f"SELECT invoice_id, payment_id, credit_id FROM allocations WHERE id IN ({marks})",
                           list(allocation_ids)).fetchall()
    added = 0
    for invoice_id in sorted({t[0] for t in touched if t[0]}):
        row = conn.execute(f"SELECT i.number, i.total, i.currency, {INVOICE_OPEN} FROM invoices i WHERE i.id = :id",
                           {"d": END, "id": invoice_id}).fetchone()
        if row and excess(row[1], row[1] - row[3]):
            applied = row[1] - row[3]
            message = str(Said(N_("invoice {number} has {applied} applied to a total of {total} ({excess} too much) "
                                  "after merging changes from two devices"), number=row[0],
                               applied=f"{format_amount(applied, row[2])} {row[2]}",
                               total=format_amount(row[1], row[2]), excess=format_amount(applied - row[1], row[2])))
            added += _flag(conn, "over_allocated_invoice", invoice_id, "", message, now)
    for index, table, alias, left, label in (
            (1, "payments", "p", PAYMENT_LEFT, N_("payment of {amount} dated {date} has {applied} applied to invoices "
                                                  "({excess} too much) after merging changes from two devices")),
            (2, "credit_notes", "n", CREDIT_LEFT, N_("credit note of {amount} dated {date} has {applied} applied to "
                                                     "invoices ({excess} too much) after merging changes from two "
                                                     "devices"))):
        for doc_id in sorted({t[index] for t in touched if t[index]}):
            row = conn.execute(f"SELECT {alias}.amount, {alias}.currency, {alias}.date, {left} "
                               f"FROM {table} {alias} WHERE {alias}.id = :id", {"d": END, "id": doc_id}).fetchone()
            if row and excess(row[0], row[0] - row[3]):
                applied = row[0] - row[3]
                message = str(Said(label, amount=f"{format_amount(row[0], row[1])} {row[1]}", date=row[2],
                                   applied=f"{format_amount(applied, row[1])} {row[1]}",
                                   excess=format_amount(applied - row[0], row[1])))
                added += _flag(conn, f"over_allocated_{table[:-1]}", doc_id, "", message, now)
    return added


def open_flags(ledger, *, include_resolved: bool = False) -> list[dict]:
    where = "" if include_resolved else "WHERE resolved_at IS NULL"
    return ledger.rows(f"SELECT id, kind, message, found_at, resolved_at FROM sync_review {where} ORDER BY id")


def resolve(ledger, flag_id: int) -> None:
    from store.errors import NotFound

    with ledger.local() as conn:
        cur = conn.execute(
            "UPDATE sync_review SET resolved_at=? WHERE id=? AND resolved_at IS NULL",
            (datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"), flag_id))
        if cur.rowcount == 0:
            raise NotFound(N_("no open review item {flag_id}: see `duly sync review`"), flag_id=flag_id)
