"""Collections (催收) write side: disputes, promises to pay, the communications log, contracts, and sending
reminders with a send log that lets a level go out at most once per invoice.

At most once, not exactly once: SMTP has no way to ask "did you already take this message?", so a send
interrupted after the message was handed over cannot be told from one interrupted before. The intent to send
(one row per invoice and level, UNIQUE) is committed before the message goes out; the outcome after. A row
left without an outcome (a crash, kill -9, a lost connection) keeps that level from being sent again and is
shown as 'unknown' for a person to check; a refusal by the server ('failed') is certain and may be retried.
"""
from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

from store.read.open import position as open_position
from store.read import open as openitems
from store.rules import dunning, money, safetext, validate
from store.write import customers, debit_notes, invoices, settings
from store.rules.contracts import contract_state, last_day
from store.rules.dunning import PlanItem
from store.errors import Conflict, InvalidInput, NotFound, Said, os_reason
from store.ledger.ids import derived_id, uuid7
from store.files.mailer import Recipient, SendFailed, SendUncertain
from store.i18n import N_

NOTE_CHANNELS = ("phone", "email", "visit", "letter", "wechat", "legal", "other")


def _today() -> str:
    return date.today().isoformat()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


# --- disputes ------------------------------------------------------------------------------------------------


def open_dispute(ledger, number: str, reason: str, *, amount: str | None = None, review: str | None = None,
                 on: str | None = None) -> str:
    """Open a dispute on an invoice (all of it, or an amount of it); returns the dispute's id."""
    reason = validate.required_text(reason, "reason")
    opened = validate.iso_date(on, "dispute date") if on else _today()
    review_on = validate.iso_date(review, "review date") if review else None
    if review_on and review_on < opened:
        raise InvalidInput(N_("review date {review_on} is before the day the dispute is opened ({opened})"),
                           review_on=review_on, opened=opened, field="review")
    with ledger.writing() as tx:
        invoice = invoices.by_number(ledger, number)
        open_now = openitems.invoice_open(ledger, invoice["id"], max(opened, invoice["date"]))
        if open_now <= 0:
            raise Conflict(N_("invoice {number} has nothing open on {opened}; there is nothing to dispute"),
                           number=invoice['number'], opened=opened)
        disputed = None
        if amount is not None:
            disputed = money.parse_amount(amount, invoice["currency"], field="amount")
            if not 0 < disputed <= open_now:
                raise InvalidInput(
                    N_("amount {amount}: must be more than zero and at most what invoice {number} has open "
                       "({open_now})"), amount=amount, number=invoice['number'],
                    open_now=money.to_decimal_str(open_now, invoice['currency']), field="amount")
        other = ledger.row("SELECT id, opened FROM disputes WHERE invoice_id=? AND status='open'", (invoice["id"],))
        if other:
            raise Conflict(N_("invoice {number} already has an open dispute ({id}, opened {opened}); resolve it "
                              "first"), number=invoice['number'], id=other['id'],
                           opened=other['opened'])
        dispute_id = uuid7()
        tx.set("disputes", dispute_id, invoice_id=invoice["id"], customer_id=invoice["customer_id"], amount=disputed,
               reason=reason, opened=opened, review=review_on, status="open", resolved_on=None, note=None)
    return dispute_id


def find_dispute(ledger, ref: str) -> dict:
    """A dispute by its id, a unique start of its id, or the number of an invoice with one open dispute."""
    ref = (ref or "").strip()
    if not ref:
        raise InvalidInput(N_("give a dispute id or an invoice number"), field="id")
    found = ledger.rows("SELECT * FROM disputes WHERE id = ? OR id LIKE ? ORDER BY opened",
                        (ref, ref.replace("%", "").replace("_", "") + "%")) if len(ref) >= 4 else []
    if not found:
        inv = ledger.row("SELECT id FROM invoices WHERE number=?", (ref,))
        if inv:
            found = ledger.rows("SELECT * FROM disputes WHERE invoice_id=? AND status='open'", (inv["id"],))
    if not found:
        raise NotFound(N_("no dispute {ref} (give a dispute id from `duly dispute list`, or an invoice number with "
                          "an open dispute)"), ref=repr(ref))
    if len(found) > 1:
        raise InvalidInput(N_("{ref} names {count} disputes; give more of the id"), ref=repr(ref),
                           count=len(found), field="id")
    return found[0]


def resolve_dispute(ledger, ref: str, note: str, on: str | None = None) -> dict:
    """Resolve an open dispute with a note; from that day the invoice is back in dunning if still open."""
    note = validate.required_text(note, "note")
    with ledger.writing() as tx:
        dispute = find_dispute(ledger, ref)
        if dispute["status"] != "open":
            raise Conflict(N_("dispute {id} was already resolved on {resolved_on}"), id=dispute['id'],
                           resolved_on=dispute['resolved_on'])
        when = validate.iso_date(on, "date") if on else max(_today(), dispute["opened"])
        if when < dispute["opened"]:
            raise InvalidInput(N_("resolve date {when} is before the dispute was opened ({opened})"), when=when,
                               opened=dispute['opened'],
                               field="date")
        tx.set("disputes", dispute["id"], status="resolved", resolved_on=when, note=note)
    return {**dispute, "status": "resolved", "resolved_on": when, "note": note}


def list_disputes(ledger, *, customer_code: str | None = None, status: str | None = None,
                  as_of: str | None = None) -> list[dict]:
    """Disputes with their invoice and whether they hold it out of dunning as of a date (default today)."""
    when = date.fromisoformat(validate.iso_date(as_of, "--as-of") if as_of else _today())
    where, params = ["1=1"], []
    if customer_code:
        where.append("d.customer_id = ?")
        params.append(customers.by_code(ledger, customer_code)["id"])
    if status:
        where.append("d.status = ?")
        params.append(status)
    rows = ledger.rows(f"""SELECT d.*, i.number, i.currency, c.code AS customer FROM disputes d
        JOIN invoices i ON i.id = d.invoice_id LEFT JOIN customers c ON c.id = d.customer_id
        WHERE {' AND '.join(where)} ORDER BY d.opened, i.number""", params)
    for r in rows:
        r["holds"] = dunning.dispute_active(_dispute(r), when)
    return rows


def _dispute(r: dict) -> dunning.Dispute:
    return dunning.Dispute(r["invoice_id"], date.fromisoformat(r["opened"]), r["amount"], _day(r["review"]),
                           _day(r["resolved_on"]) if r["status"] == "resolved" else None, r["reason"] or "")


# --- promises to pay -------------------------------------------------------------------------------------------


def add_promise(ledger, number: str, pay_by: str, amount: str, made_on: str | None = None) -> str:
    """Record a promise to pay an amount of an invoice by a date; returns its id."""
    pay_by = validate.iso_date(pay_by, "promise date")
    made = validate.iso_date(made_on, "--made-on") if made_on else _today()
    if pay_by < made:
        raise InvalidInput(N_("promise date {pay_by}: a promise to pay is for a day on or after it was made ({made})"),
                           pay_by=pay_by, made=made,
                           field="pay_by")
    with ledger.writing() as tx:
        invoice = invoices.by_number(ledger, number)
        promised = money.parse_amount(amount, invoice["currency"], field="amount")
        open_now = openitems.invoice_open(ledger, invoice["id"], max(made, invoice["date"]))
        if open_now <= 0:
            raise Conflict(N_("invoice {number} has nothing open on {made}; nothing to promise"),
                           number=invoice['number'], made=made)
        if not 0 < promised <= open_now:
            raise InvalidInput(N_("amount {amount}: must be more than zero and at most what invoice {number} has "
                                  "open ({open_now})"), amount=amount,
                               number=invoice['number'], open_now=money.to_decimal_str(open_now, invoice['currency']),
                               field="amount")
        return tx.event("promises", invoice_id=invoice["id"], customer_id=invoice["customer_id"], date=pay_by,
                        amount=promised, made_on=made)


def promise_facts(ledger, rows: list[dict]) -> list[dunning.Promise]:
    """Promises with the payments applied to their invoices and what was open on the promised date."""
    paid: dict[str, list[tuple[date, int]]] = defaultdict(list)
    ids = sorted({r["invoice_id"] for r in rows})
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for inv, when, amount in ledger.conn.execute(
                f"SELECT invoice_id, date, amount FROM allocations WHERE invoice_id IN ({','.join('?' * len(chunk))})",
                chunk):
            paid[inv].append((date.fromisoformat(when), amount))
    return [dunning.Promise(r["invoice_id"], date.fromisoformat(r["made_on"]), date.fromisoformat(r["date"]),
                            r["amount"], tuple(paid[r["invoice_id"]]),
                            openitems.invoice_open(ledger, r["invoice_id"], r["date"])) for r in rows]


def list_promises(ledger, as_of: str | None = None, *, customer_code: str | None = None) -> list[dict]:
    """Promises with their status as of a date: pending, kept (paid by the date) or broken."""
    when = date.fromisoformat(validate.iso_date(as_of, "--as-of") if as_of else _today())
    where, params = "p.made_on <= ?", [when.isoformat()]
    if customer_code:
        where += " AND p.customer_id = ?"
        params.append(customers.by_code(ledger, customer_code)["id"])
    rows = ledger.rows(f"""SELECT p.*, i.number, i.currency, c.code AS customer FROM promises p
        JOIN invoices i ON i.id = p.invoice_id LEFT JOIN customers c ON c.id = p.customer_id
        WHERE {where} ORDER BY p.date, i.number""", params)
    for r, fact in zip(rows, promise_facts(ledger, rows)):
        r["status"] = dunning.promise_status(fact, when)
        r["paid"] = sum(a for d, a in fact.payments if fact.made_on <= d <= min(when, fact.date))
    return rows


# --- the communications log --------------------------------------------------------------------------------------


def add_note(ledger, code: str, channel: str, text: str, *, next_action: str | None = None,
             on: str | None = None) -> str:
    """Log a contact with a customer (call, visit, letter...) and the date of the next action."""
    channel = (channel or "").strip().lower()
    if channel not in NOTE_CHANNELS:
        raise InvalidInput(N_("--channel {channel} is not one of {note_channels}"),
                           channel=repr(channel), note_channels=', '.join(NOTE_CHANNELS), field="channel")
    text = validate.required_text(text, "--text")
    at = validate.iso_date(on, "--date") if on else _today()
    nxt = validate.iso_date(next_action, "--next") if next_action else None
    if nxt and nxt < at:
        raise InvalidInput(N_("--next {nxt} is before the contact's date {at}"), nxt=nxt, at=at, field="next")
    with ledger.writing() as tx:
        customer = customers.by_code(ledger, code)
        return tx.event("notes", customer_id=customer["id"], channel=channel, text=text, at=at, next_action=nxt)


def list_notes(ledger, code: str | None = None, *, due: str | None = None) -> list[dict]:
    """The log newest first; with `due`, per customer its latest note when that note's next action is due
    by then (logging the follow-up clears it)."""
    params: list = []
    where = "1=1"
    if code:
        where = "n.customer_id = ?"
        params.append(customers.by_code(ledger, code)["id"])
    sql = f"""SELECT n.*, c.code AS customer, c.name FROM notes n LEFT JOIN customers c ON c.id = n.customer_id
              WHERE {where}"""
    if due:
        params.append(validate.iso_date(due, "--due"))
        sql = f"""SELECT * FROM ({sql} AND n.id = (SELECT m.id FROM notes m WHERE m.customer_id = n.customer_id
                  ORDER BY m.at DESC, m.id DESC LIMIT 1)) WHERE next_action IS NOT NULL AND next_action <= ?
                  ORDER BY next_action, customer"""
        return ledger.rows(sql, params)
    return ledger.rows(sql + " ORDER BY n.at DESC, n.id DESC", params)


# --- contracts -----------------------------------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def add_contract(ledger, code: str, number: str, signed: str, *, start: str | None = None, end: str | None = None,
                 terms: str | None = None, credit_limit: str | None = None, file: str | None = None,
                 notes: str | None = None) -> dict:
    """Record a contract; an attached file is recorded by its absolute path and SHA-256, never copied."""
    number = validate.required_text(number, "--number")
    signed = validate.iso_date(signed, "--signed")
    start = validate.iso_date(start, "--start") if start else None
    end = validate.iso_date(end, "--end") if end else None
    if start and end and end < start:
        raise InvalidInput(N_("--end {end} is before --start {start}"), end=end, start=start, field="end")
    path, digest = _file_and_hash(file) if file else (None, None)
    with ledger.writing() as tx:
        customer = customers.by_code(ledger, code)
        if ledger.row("SELECT 1 AS x FROM contracts WHERE customer_id=? AND number=?", (customer["id"], number)):
            raise Conflict(N_("customer {code} already has a contract {number}"), code=customer['code'],
                           number=number)
        if terms:
            customers._known_terms(ledger, terms.strip())
        limit = money.parse_amount(credit_limit, customer["currency"], field="--credit-limit") if credit_limit else None
        contract_id = uuid7()
        record = dict(customer_id=customer["id"], number=number, signed=signed, start_date=start, end_date=end,
                      terms=(terms or "").strip() or None, credit_limit=limit,
                      file_path=str(path) if path else None, file_sha256=digest, notes=(notes or "").strip() or None,
                      archived=0, status="active")
        tx.set("contracts", contract_id, **record)
    return {"id": contract_id, **record}


def list_contracts(ledger, code: str | None = None, as_of: str | None = None) -> list[dict]:
    """Contracts with their file checked against the recorded hash (ok, changed, missing or none) and where each
    stands as of a day (default today): `state`, see contract_state."""
    day = validate.iso_date(as_of, "--as-of") if as_of else _today()
    params, where = [], "coalesce(k.archived, 0) = 0"
    if code:
        where += " AND k.customer_id = ?"
        params.append(customers.by_code(ledger, code)["id"])
    rows = ledger.rows(f"""SELECT k.*, c.code AS customer, c.currency FROM contracts k
        LEFT JOIN customers c ON c.id = k.customer_id WHERE {where} ORDER BY c.code, k.signed, k.number""", params)
    for r in rows:
        r["file_check"] = file_check(r["file_path"], r["file_sha256"])
        r["last_day"], r["state"] = last_day(r), contract_state(r, day)
    return rows


def file_check(path: str | None, recorded: str | None) -> str:
    """A recorded file against its recorded SHA-256 now: ok, changed, missing, unreadable, or none recorded."""
    if not path:
        return "none"
    if not os.path.isfile(path):
        return "missing"
    try:
        return "ok" if file_sha256(Path(path)) == recorded else "changed"
    except OSError:
        return "unreadable"


def _file_and_hash(file: str) -> tuple[Path, str]:
    path = Path(file).expanduser().resolve()
    if not path.is_file():
        raise NotFound(N_("--file {file}: no such file"), file=file)
    try:
        return path, file_sha256(path)
    except OSError as exc:
        raise InvalidInput(N_("--file {file}: cannot read it ({reason})"), file=file,
                           reason=os_reason(exc), field="file") from None


def _contract_row(ledger, code: str, number: str) -> dict:
    customer = customers.by_code(ledger, code)
    found = ledger.row("""SELECT k.*, c.code AS customer, c.currency FROM contracts k
        JOIN customers c ON c.id = k.customer_id
        WHERE k.customer_id = ? AND k.number = ? AND coalesce(k.archived, 0) = 0""", (customer["id"], number))
    if found is None:
        raise NotFound(N_("customer {code} has no contract {number}"), code=customer["code"], number=number)
    return found


def contract(ledger, code: str, number: str, as_of: str | None = None) -> dict:
    """One of the customer's contracts, its file checked against the recorded hash, where it stands (as of a day,
    default today) and every file recorded on it."""
    found = _contract_row(ledger, code, number)
    found["file_check"] = file_check(found["file_path"], found["file_sha256"])
    found["files"] = _files_recorded(ledger, found["id"])
    found["last_day"], found["state"] = last_day(found), contract_state(found, as_of or _today())
    return found


def _still_open(found: dict) -> None:
    """A contract ended or cancelled before is not ended or cancelled again."""
    if found.get("status") == "ended":
        raise Conflict(N_("contract {number} of {code} was already ended (its last day: {ended_on})"),
                       number=found["number"], code=found["customer"], ended_on=found["ended_on"])
    if found.get("status") == "cancelled":
        raise Conflict(N_("contract {number} of {code} was already cancelled (on {ended_on})"),
                       number=found["number"], code=found["customer"], ended_on=found["ended_on"])


def end_contract(ledger, code: str, number: str, on: str, reason: str | None = None) -> dict:
    """End a contract early: `on` is the last day it applies; after it the contract is ended and its terms and
    credit limit are no longer in force. Its agreed end stays recorded beside the day it ended."""
    on = validate.iso_date(on, "--on")
    reason = (reason or "").strip() or None
    with ledger.writing() as tx:
        found = _contract_row(ledger, code, number)
        _still_open(found)
        first = found["start_date"] or found["signed"]
        if on < first:
            raise InvalidInput(N_("contract {number} starts on {start}: it cannot end on {on}, before it starts"),
                               number=found["number"], start=first, on=on, field="on")
        if found["end_date"] and on > found["end_date"]:
            raise InvalidInput(N_("contract {number} runs until {end_date}: it can end early on that day or before, "
                                  "not on {on}"), number=found["number"], end_date=found["end_date"], on=on,
                               field="on")
        tx.set("contracts", found["id"], status="ended", ended_on=on, end_reason=reason)
    return {**found, "status": "ended", "ended_on": on, "end_reason": reason}


def cancel_contract(ledger, code: str, number: str, reason: str, on: str | None = None) -> dict:
    """Cancel a contract (作废): it never applied, its terms and credit limit were never in force; `on` (default
    today) is the day it was cancelled, recorded with the reason."""
    reason = validate.required_text(reason, "--reason")
    on = validate.iso_date(on, "--date") if on else _today()
    with ledger.writing() as tx:
        found = _contract_row(ledger, code, number)
        _still_open(found)
        tx.set("contracts", found["id"], status="cancelled", ended_on=on, end_reason=reason)
    return {**found, "status": "cancelled", "ended_on": on, "end_reason": reason}


def _files_recorded(ledger, contract_id: str) -> list[dict]:
    """Every file recorded on the contract, oldest first: path, SHA-256, when and by whom (from the change log)."""
    recorded: dict[str, dict] = {}
    for h in ledger.rows("""SELECT col, new, at, actor, hlc FROM field_history WHERE tbl = 'contracts' AND row_id = ?
                            AND col IN ('file_path', 'file_sha256') ORDER BY hlc, id""", (contract_id,)):
        entry = recorded.setdefault(h["hlc"], {"at": h["at"], "actor": h["actor"], "file_path": None,
                                               "file_sha256": None})
        entry[h["col"]] = h["new"]
    return [r for r in recorded.values() if r["file_path"]]


def attach_contract_file(ledger, code: str, number: str, file: str) -> dict:
    """Record a file (a signed scan, an amendment) on a contract by its absolute path and SHA-256, never copied;
    a file recorded before is replaced, and its path and hash stay in the contract's field history."""
    path, digest = _file_and_hash(file)
    with ledger.writing() as tx:
        found = contract(ledger, code, number)
        tx.set("contracts", found["id"], file_path=str(path), file_sha256=digest)
    return {**found, "file_path": str(path), "file_sha256": digest, "file_check": "ok",
            "replaced": found["file_path"]}


# --- the reminder plan ---------------------------------------------------------------------------------------------


def levels(ledger) -> tuple[dunning.Level, ...]:
    return dunning.parse_levels(ledger.setting("dunning.levels") or dunning.DEFAULT_LEVELS_TEXT)


def sent_levels(ledger) -> dict[tuple[str, str], str]:
    """{(invoice id, level): outcome} for every level sent, in flight or unknown (failed ones may go again)."""
    found = {(inv, lv): outcome for inv, lv, outcome in
             ledger.conn.execute("SELECT invoice_id, level, outcome FROM reminders")}
    for inv, lv, status in ledger.conn.execute(
            "SELECT invoice_id, level, status FROM remind_log WHERE status != 'failed'"):
        found.setdefault((inv, lv), "unknown" if status == "sending" else status)
    return found


@dataclass
class ReminderPlan:
    as_of: date
    plan: dunning.Plan
    customers: dict[str, Recipient]
    doc_dates: dict[str, str]


def _recipients(ledger) -> dict[str, Recipient]:
    default = settings.get(ledger, "language") or "zh"  # a customer with no language of its own: this device's
    return {r["id"]: Recipient(r["id"], r["code"], r["name"], r["email"], r["language"] or default, r["phone"])
            for r in ledger.rows("SELECT id, code, name, email, language, phone FROM customers")}


def agreed_interest_rates(ledger, invoice_ids) -> dict[str, int]:
    """invoice id -> the late-interest rate (yearly, basis points) its terms set, for the terms that set one."""
    if not ledger.conn.execute("SELECT 1 FROM terms WHERE late_interest_bp > 0 LIMIT 1").fetchone():
        return {}
    wanted = set(invoice_ids)
    return {iid: bp for iid, bp in ledger.conn.execute(
        "SELECT i.id, t.late_interest_bp FROM terms t JOIN invoices i ON i.terms = t.name WHERE t.late_interest_bp > 0")
        if iid in wanted}


def reminder_plan(ledger, as_of: date) -> ReminderPlan:
    """What is due for which level as of a date, with held invoices and why (store.rules.dunning's rules)."""
    pos = open_position(ledger, as_of)
    # A posted charge (a reminder's fee and interest, a debit note) is shown on statements and in aging but not
    # dunned itself: a fee never earns a fee, nor interest interest.
    charges = {charge_id(inv, lv) for inv, lv in ledger.conn.execute("SELECT invoice_id, level FROM reminders")}
    open_invoices = [inv for inv in pos.invoices if inv.id not in charges]
    disputes = [_dispute(r) for r in ledger.rows("SELECT * FROM disputes")]
    promises = promise_facts(ledger, ledger.rows("SELECT * FROM promises WHERE made_on <= ?", (as_of.isoformat(),)))
    sent = sent_levels(ledger)
    on_hold = {cid for cid, tags in ledger.conn.execute("SELECT id, tags FROM customers WHERE tags IS NOT NULL")
               if dunning.HOLD_TAG in (tags or "").split(",")}
    plan = dunning.plan(open_invoices, pos.items, levels(ledger), as_of, disputes=disputes, promises=promises,
                        sent=set(sent), customers_on_hold=on_hold,
                        agreed_rates=agreed_interest_rates(ledger, [inv.id for inv in open_invoices]))
    plan.held = [h if (h.invoice_id, h.level) not in sent else dunning.Held(
        h.invoice_id, h.number, h.customer_id, h.level,
        Said(N_("level {level} already done ({outcome})"), level=h.level, outcome=sent[(h.invoice_id, h.level)]))
        for h in plan.held]
    return ReminderPlan(as_of, plan, _recipients(ledger), {inv.id: inv.doc_date.isoformat() for inv in pos.invoices})


def plan_rows(rp: ReminderPlan) -> list[dict]:
    """One row per invoice in the plan, customers in code order, most overdue first."""
    rows = []
    for it in rp.plan.items:
        who = rp.customers[it.customer_id]
        rows.append({"customer": who.code, "name": who.name, "level": it.level.name, "channel": it.level.channel,
                     "number": it.number, "currency": it.currency, "due_date": it.due_date.isoformat(),
                     "days_overdue": it.days_overdue, "open": it.open_amount, "asked": it.asked,
                     "disputed": it.disputed, "fee": it.fee, "interest": it.interest, "total": it.total,
                     "email": who.email})
    return sorted(rows, key=lambda r: (r["customer"], -r["days_overdue"], r["number"]))


# --- sending ---------------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    customer: str
    channel: str
    invoices: list[str]
    status: str  # sent | would_send | failed | unknown | task | letter | skipped
    detail: str = ""


def _groups(rp: ReminderPlan) -> list[tuple[Recipient, str, list[PlanItem]]]:
    grouped: dict[tuple[str, str], list[PlanItem]] = defaultdict(list)
    for it in rp.plan.items:
        grouped[(it.customer_id, it.level.channel)].append(it)
    out = [(rp.customers[cid], channel, items) for (cid, channel), items in grouped.items()]
    return sorted(out, key=lambda g: (g[0].code, dunning.CHANNELS.index(g[1])))


def claim(ledger, batch: str, who: Recipient, channel: str, items: list[PlanItem], as_of: date) -> list[PlanItem]:
    """Record the intent to send (one transaction): only the items no other run has claimed come back."""
    claimed = []
    with ledger.local():
        for it in items:
            if ledger.row("SELECT 1 AS x FROM reminders WHERE invoice_id=? AND level=?",
                          (it.invoice_id, it.level.name)):
                continue
            cursor = ledger.conn.execute(
                """INSERT INTO remind_log (batch, invoice_id, customer_id, level, channel, as_of, status, address,
                     started_at) VALUES (?, ?, ?, ?, ?, ?, 'sending', ?, ?)
                   ON CONFLICT (invoice_id, level) DO UPDATE SET batch=excluded.batch, status='sending',
                     address=excluded.address, started_at=excluded.started_at, finished_at=NULL, error=NULL
                   WHERE remind_log.status = 'failed'""",
                (batch, it.invoice_id, who.customer_id, it.level.name, channel, as_of.isoformat(), who.email,
                 _now()))
            if cursor.rowcount:
                claimed.append(it)
    return claimed


def record_outcome(ledger, batch: str, who: Recipient, channel: str, items: list[PlanItem], as_of: date, status: str,
            error: str | None = None) -> None:
    """Record the outcome: the local log, and (unless it failed) the synced reminders and a note."""
    with ledger.writing() as tx:
        ledger.conn.execute("UPDATE remind_log SET status=?, finished_at=?, error=? WHERE batch=?",
                            (status, _now(), error, batch))
        if status == "failed":
            return
        for it in items:
            tx.event("reminders", invoice_id=it.invoice_id, customer_id=who.customer_id, level=it.level.name,
                     channel=channel, as_of=as_of.isoformat(), outcome=status, batch=batch, sent_at=_now())
        if status in ("sent", "letter") and (ledger.setting("dunning.post_charges") or "false") == "true":
            for it in items:
                post_charge(ledger, who, it, as_of)
        levels_sent = ", ".join(sorted({it.level.name for it in items}))
        numbers = ", ".join(it.number for it in items)
        # stored in English, worded for a reader where shown (store/rules/stored_words.py)
        text = str({"sent": Said(N_("reminder ({levels}) e-mailed to {email}: {numbers}"), levels=levels_sent,
                                 email=who.email, numbers=numbers),
                    "unknown": Said(N_("reminder ({levels}) to {email}: outcome unknown ({error}): {numbers}"),
                                    levels=levels_sent, email=who.email, error=error, numbers=numbers),
                    "task": Said(N_("reminder ({levels}) by {channel}: task for {numbers}"), levels=levels_sent,
                                 channel=channel, numbers=numbers),
                    "letter": Said(N_("reminder ({levels}) letter written: {numbers}"), levels=levels_sent,
                                   numbers=numbers)}[status])
        tx.event("notes", customer_id=who.customer_id, channel="letter" if status == "letter" else (
            channel if channel in NOTE_CHANNELS else "other"), text=text, at=as_of.isoformat(), next_action=None)


def charge_id(invoice_id: str, level: str) -> str:
    """The debit note of a level's fee and interest on an invoice: the same id on every device, so the charge is
    posted once per invoice and level however many devices record the reminder."""
    return derived_id("dunning-charge", invoice_id, level)


def post_charge(ledger, who: Recipient, it: PlanItem, as_of: date) -> str | None:
    """Post what a sent reminder announced — its fee and interest — as a debit note (滞纳金 / 催收费) numbered
    after the invoice and level (DN-A7-000123-final), once: a charge already posted is left as it is. Reversed
    like any debit note, by a credit note against it. Returns the number posted, or None."""
    amount = it.fee + it.interest
    if amount <= 0:
        return None
    doc_id = charge_id(it.invoice_id, it.level.name)
    if ledger.row("SELECT 1 AS x FROM invoices WHERE id=?", (doc_id,)):
        return None
    number = f"DN-{it.number}-{it.level.name}"
    reason = str(Said(N_("{level}: fee {fee} + interest {interest} on {number}"), level=it.level.name,
                      fee=money.to_decimal_str(it.fee, it.currency),
                      interest=money.to_decimal_str(it.interest, it.currency), number=it.number))
    debit_notes.add(ledger, who.code, as_of.isoformat(), reason, amount=money.to_decimal_str(amount, it.currency),
                    currency=it.currency, doc_id=doc_id, number=number, check_credit=False)
    return number


def send(ledger, as_of: date, *, dry_run: bool = False, transport=None, sender: str | None = None,
         letters_dir: str | None = None, company: str | None = None, letter_format: str = "txt",
         attach_pdf: bool = False, only: set[tuple[str, str]] | None = None, report=None) -> list[Outcome]:
    """Send what the plan holds: e-mails through `transport` (store.files.mailer.Smtp), tasks for phone / WeChat /
    legal, letters into letters_dir (txt, or the dunning letter template as html / pdf; attach_pdf adds that letter
    to each e-mail). Each group is claimed before and settled after, so a level goes out at most once per invoice
    whatever happens in between. Every letter is rendered before anything goes out: a template that fails stops
    the run with nothing sent. `only`: just these (invoice id, level) of the plan (the app's review queue);
    `report(outcome)` is told each outcome as it is settled."""
    from store.files import mailer

    if letter_format not in ("txt", "html", "pdf"):
        raise InvalidInput(N_("letters are txt, html or pdf, not {format}"), format=repr(letter_format),
                           field="letter format")
    rp = reminder_plan(ledger, as_of)
    if only is not None:
        rp.plan.items = [it for it in rp.plan.items if (it.invoice_id, it.level.name) in only]
    company = company or ledger.setting("company.name") or "Duly"
    groups = _groups(rp)
    letters = {} if dry_run else _render_letters(ledger, rp, groups, letters_dir, letter_format, attach_pdf)
    owned = None
    if not dry_run and transport is None and any(ch == "email" and who.email for who, ch, _ in groups):
        transport = owned = mailer.Smtp(mailer.SmtpSettings.from_ledger(ledger))  # refuses before anything is sent
    sender = sender or (transport.settings.sender if transport is not None else "")
    try:
        return _send_groups(ledger, rp, groups, dry_run=dry_run, transport=transport, sender=sender,
                            letters_dir=letters_dir, company=company, letters=letters, letter_format=letter_format,
                            attach_pdf=attach_pdf, report=report)
    finally:
        if owned is not None:
            owned.close()


class _Outcomes(list):
    """The outcomes of a run, each told to `report` as it is added."""

    def __init__(self, report):
        super().__init__()
        self.report = report

    def append(self, outcome: Outcome) -> None:
        super().append(outcome)
        if self.report is not None:
            self.report(outcome)


def _render_letters(ledger, rp: ReminderPlan, groups, letters_dir, letter_format: str, attach_pdf: bool) -> dict:
    """{(customer id, channel): the dunning letter} for the letters written as html / pdf and for every e-mail (its
    HTML part, and its PDF attachment with attach_pdf); rendered up front, so a template that fails stops the run before anything goes out."""
    from store.files.documents import render

    made = {}
    for who, channel, items in groups:
        # every e-mail carries the letter of the user's dunning template as its HTML part (and as a PDF when asked)
        wanted = (channel == "letter" and letters_dir and letter_format != "txt") or (channel == "email" and who.email)
        if wanted:
            made[(who.customer_id, channel)] = render.dunning(ledger, who.customer_id, items, rp.as_of, rp.doc_dates,
                                                              issued=rp.as_of)
    return made


def _send_groups(ledger, rp: ReminderPlan, groups, *, dry_run, transport, sender, letters_dir, company, letters,
                 letter_format, attach_pdf=False, report=None):
    from store.files import mailer

    as_of = rp.as_of
    outcomes: list[Outcome] = _Outcomes(report)
    stop: str | None = None
    for who, channel, items in groups:
        numbers = [it.number for it in items]
        if channel == "email" and not who.email:
            outcomes.append(Outcome(who.code, channel, numbers, "skipped",
                                    Said(N_("no e-mail address on the customer"))))
            continue
        if channel == "letter" and not letters_dir:
            outcomes.append(Outcome(who.code, channel, numbers, "skipped",
                                    Said(N_("letter not written: give --letters DIR"))))
            continue
        if dry_run:
            outcomes.append(Outcome(who.code, channel, numbers, "would_send" if channel == "email" else "task",
                                    (who.email if channel == "email" else who.phone) or ""))
            continue
        if channel == "email" and stop:
            outcomes.append(Outcome(who.code, channel, numbers, "skipped", stop))
            continue
        batch = uuid7()
        items = claim(ledger, batch, who, channel, items, as_of)
        if not items:
            continue
        numbers = [it.number for it in items]
        if channel == "email":
            try:
                subject, body = mailer.render(who, items, company, rp.doc_dates)
                msg = mailer.message(sender, who, subject, body, f"<{batch}@duly.reminder>")
                letter = letters.get((who.customer_id, channel))
                if letter is not None:
                    msg.add_alternative(letter.html, subtype="html", charset="utf-8")
                if letter is not None and attach_pdf:
                    msg.add_attachment(letter.pdf(), maintype="application", subtype="pdf",
                                       filename=f"{letter.filename}.pdf")
            except Exception as exc:  # nothing was handed over: settle the claim, so the level may go again
                record_outcome(ledger, batch, who, channel, items, as_of, "failed", f"message not built: {exc}")
                raise
            try:
                transport.send(msg)
            except mailer.ConnectFailed as exc:  # the outcome's detail keeps the error, worded where it is shown
                record_outcome(ledger, batch, who, channel, items, as_of, "failed", str(exc))
                stop = Said.of(exc)
                outcomes.append(Outcome(who.code, channel, numbers, "failed", Said.of(exc)))
                continue
            except SendFailed as exc:
                record_outcome(ledger, batch, who, channel, items, as_of, "failed", str(exc))
                outcomes.append(Outcome(who.code, channel, numbers, "failed", Said.of(exc)))
                continue
            except SendUncertain as exc:
                record_outcome(ledger, batch, who, channel, items, as_of, "unknown", str(exc))
                outcomes.append(Outcome(who.code, channel, numbers, "unknown", Said.of(exc)))
                continue
            record_outcome(ledger, batch, who, channel, items, as_of, "sent")
            outcomes.append(Outcome(who.code, channel, numbers, "sent", who.email))
        elif channel == "letter":
            try:
                path = write_letter(Path(letters_dir), who, items, company, rp,
                                    letter=letters.get((who.customer_id, channel)), letter_format=letter_format)
            except OSError as exc:  # nothing was made: the level may be tried again
                error = Said(N_("cannot write a letter into {folder}: {reason}"), folder=str(letters_dir),
                             reason=exc.strerror or str(exc))
                record_outcome(ledger, batch, who, channel, items, as_of, "failed", str(error))
                outcomes.append(Outcome(who.code, channel, numbers, "failed", error))
                continue
            record_outcome(ledger, batch, who, channel, items, as_of, "letter")
            outcomes.append(Outcome(who.code, channel, numbers, "letter", str(path)))
        else:
            record_outcome(ledger, batch, who, channel, items, as_of, "task")
            outcomes.append(Outcome(who.code, channel, numbers, "task", who.phone or ""))
    return outcomes


def customer_reminders(ledger, code: str, as_of: date) -> tuple[ReminderPlan, list[PlanItem]]:
    """The plan as of a date and one customer's invoices due for a reminder in it (refused when there is none)."""
    customer = customers.by_code(ledger, code)
    rp = reminder_plan(ledger, as_of)
    items = [it for it in rp.plan.items if it.customer_id == customer["id"]]
    if not items:
        raise InvalidInput(N_("{code}: no invoice is due for a reminder as of {as_of} (see `duly remind plan --as-of "
                              "{as_of} --held`)"), code=customer["code"], as_of=as_of.isoformat())
    return rp, items


def dunning_letter(ledger, code: str, as_of: date, *, lang: str | None = None, issued: date | None = None):
    """催款函 of one customer (store.files.documents.render.Document): its invoices due for a reminder as of the
    date, at their level, with fees and interest as lines."""
    from store.files.documents import render

    rp, items = customer_reminders(ledger, code, as_of)
    return render.dunning(ledger, items[0].customer_id, items, as_of, rp.doc_dates, lang=lang, issued=issued)


def reminder_preview(ledger, code: str, as_of: date) -> list[dict]:
    """What sending one customer's reminders as of a date would do, per channel: {channel, to, subject, body,
    invoices} (the e-mail's words as the mailer writes them); nothing is sent or claimed."""
    from store.files import mailer

    rp, items = customer_reminders(ledger, code, as_of)
    company = ledger.setting("company.name") or "Duly"
    out = []
    for who, channel, group in _groups(rp):
        if who.customer_id != items[0].customer_id:
            continue
        subject, body = mailer.render(who, group, company, rp.doc_dates)
        out.append({"channel": channel, "to": (who.email if channel == "email" else who.phone) or "",
                    "subject": subject, "body": body, "invoices": [it.number for it in group]})
    return out


def send_customer(ledger, code: str, as_of: date, *, attach_pdf: bool = True, transport=None) -> list[Outcome]:
    """Send one customer's reminders due as of a date (as `remind send` does for the whole plan), each e-mail with
    the dunning letter as its HTML part and, with attach_pdf, as a PDF."""
    _, items = customer_reminders(ledger, code, as_of)
    return send(ledger, as_of, only={(it.invoice_id, it.level.name) for it in items}, attach_pdf=attach_pdf,
                transport=transport)


def write_letter(directory: Path, who: Recipient, items: list[PlanItem], company: str, rp: ReminderPlan, *,
                 letter=None, letter_format: str = "txt") -> Path:
    """A print-ready letter (an explicit export: plaintext on disk, in the directory asked for, created 0600 and
    whole or not at all like every export): plain text, or the dunning letter template's HTML or PDF (`letter`,
    rendered by the caller). Names come from people and files (the customer's, the company's): in the text letter
    their control characters are written as visible escapes, never raw."""
    from store.files import exporter, mailer

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{who.code}-{rp.as_of.isoformat()}.{letter_format}"
    if letter is not None:
        data = letter.pdf() if letter_format == "pdf" else letter.html.encode("utf-8")
        with exporter.plaintext_file(path, mode="wb") as fh:
            fh.write(data)
        return path
    subject, body = mailer.render(who, items, company, rp.doc_dates)
    text = safetext.terminal_text(f"{who.name}\n{rp.as_of.isoformat()}\n\n{subject}\n\n{body}")
    with exporter.plaintext_file(path, encoding="utf-8") as fh:
        fh.write(text)
    return path


def reminder_log(ledger, code: str | None = None) -> list[dict]:
    """Every reminder with its outcome: synced ones (sent, unknown, task, letter) and this device's sends in
    flight or failed."""
    params, where = [], ""
    if code:
        params.append(customers.by_code(ledger, code)["id"])
        where = "WHERE r.customer_id = ?"
    rows = ledger.rows(f"""SELECT r.sent_at AS at, c.code AS customer, i.number, r.level, r.channel, r.as_of,
              r.outcome, r.batch FROM reminders r LEFT JOIN customers c ON c.id = r.customer_id
              LEFT JOIN invoices i ON i.id = r.invoice_id {where}""", params)
    local_where = ("WHERE l.customer_id = ? AND " if code else "WHERE ") + \
        "NOT EXISTS (SELECT 1 FROM reminders r WHERE r.invoice_id = l.invoice_id AND r.level = l.level)"
    for r in ledger.rows(f"""SELECT l.started_at AS at, c.code AS customer, i.number, l.level, l.channel, l.as_of,
              l.status, l.batch, l.error FROM remind_log l LEFT JOIN customers c ON c.id = l.customer_id
              LEFT JOIN invoices i ON i.id = l.invoice_id {local_where}""", params):
        outcome = "unknown (interrupted)" if r.pop("status") == "sending" else f"failed: {r.pop('error')}"
        r.pop("error", None)
        rows.append({**r, "outcome": outcome})
    return sorted(rows, key=lambda r: (r["at"] or "", r["customer"] or "", r["number"] or ""))
