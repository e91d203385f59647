"""Reconciliation (对账), the write side: decide about imported bank lines.

- accept: the chosen candidate (store.rules.matching) becomes a payment and its allocations through
  store.write.payments.add, a small shortfall within the reconcile.fee_tolerance setting is written off as a bank
  fee through store.write.adjustments.write_off, or, when the payment was already recorded by hand, the line is only
  linked to it; the payer's name and account are learned as aliases of the customer. One transaction.
- reject: the line is not a customer's payment (a loan, interest, a refund); it stays listed as rejected and
  `reopen` brings it back.
- auto: accepts, in one transaction, only the lines whose best candidate is unambiguous (matching.unambiguous).
Nothing is applied twice: a line's decision (bank_matches) is checked inside the write, and a recorded payment
already linked to a line is not offered again. Nothing disappears: undecided lines stay listed.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from store.read.open import open_invoices
from store.rules import matching, money
from store.write import adjustments, payments
from store.errors import Conflict, InvalidInput, NotFound, Said, joined
from store.i18n import N_

DEFAULT_MIN_SCORE = 70


@dataclass
class Decision:
    line: dict
    candidate: matching.Candidate | None
    payment_id: str
    customer: str
    allocations: list[tuple[str, int]]
    fee: int
    unapplied: int
    linked: bool  # linked to a payment that was already recorded


# --- reads -----------------------------------------------------------------------------------------------------

_LINES = """SELECT b.*, coalesce(m.status, CASE WHEN b.amount < 0 THEN 'debit' ELSE 'open' END) AS status,
                   m.customer_id AS decided_customer, m.payment_id, m.fee, m.note AS decision_note, m.decided_on,
                   c.code AS decided_code
            FROM bank_lines b LEFT JOIN bank_matches m ON m.id = b.id
            LEFT JOIN customers c ON c.id = m.customer_id"""


def _status_fix(row: dict) -> dict:
    if row["status"] == "open" and row["amount"] < 0:
        row["status"] = "debit"
    return row


def by_id(ledger, text: str) -> dict:
    """A bank line by its id or an unambiguous start of it (at least 4 characters)."""
    key = (text or "").strip().lower()
    if len(key) < 4:
        raise InvalidInput(N_("bank line id {text}: give at least 4 characters of it"), text=repr(text), field="id")
    rows = ledger.rows(_LINES + " WHERE b.id LIKE ? ORDER BY b.id LIMIT 2", (key.replace("%", "") + "%",))
    if not rows:
        raise NotFound(N_("unknown bank line {text} (see `duly reconcile list --status all`)"), text=repr(text))
    if len(rows) > 1:
        raise InvalidInput(N_("bank line id {text} is ambiguous: give more of it"), text=repr(text), field="id")
    return _status_fix(rows[0])


_STATUS_WHERE = {
    None: "1 = 1",
    "open": "b.amount > 0 AND coalesce(m.status, 'open') = 'open'",
    "debit": "b.amount < 0",
    "accepted": "m.status = 'accepted'",
    "rejected": "m.status = 'rejected'",
}


def lines(ledger, *, status: str | None = "open") -> list[dict]:
    """Bank lines oldest first; status open | accepted | rejected | debit, or None for all."""
    if status not in _STATUS_WHERE:
        raise InvalidInput(N_("bank line status {status} is not one of open, accepted, rejected, debit"),
                           status=repr(status), field="status")
    return [_status_fix(r) for r in ledger.rows(
        f"{_LINES} WHERE {_STATUS_WHERE[status]} ORDER BY b.date, b.source, b.line, b.id")]


def _tolerance(ledger, currency: str) -> int:
    text = ledger.setting("reconcile.fee_tolerance")
    if not text:
        return 0
    return int(Decimal(text).scaleb(money.exponent(currency)))  # 20.00 -> 2000 fen, 20 yen


def min_score(ledger, given: int | None = None) -> int:
    score = given if given is not None else int(ledger.setting("reconcile.min_score") or DEFAULT_MIN_SCORE)
    if not 0 < score <= 100:
        raise InvalidInput(N_("minimum score {score} is not between 1 and 100"), score=score, field="min_score")
    return score


def book(ledger, rows: list[dict]) -> matching.Book:
    """What the lines are matched against, read once."""
    customers = {r["id"]: matching.Customer(r["id"], r["code"], r["name"] or "", r["legal_name"] or "")
                 for r in ledger.rows("SELECT id, code, name, legal_name FROM customers")}
    invoices = {inv.id: inv for inv in open_invoices(ledger)}
    aliases = {(r["kind"], r["value"]): r["customer_id"] for r in ledger.rows(
        "SELECT kind, value, customer_id FROM payer_aliases WHERE customer_id IS NOT NULL")
        if r["customer_id"] in customers}
    recorded = []
    if rows:
        window = timedelta(days=matching.PAYMENT_WINDOW_DAYS)
        # a line near the ends of the calendar (imported before dates were bounded) must not break matching
        start = max(date.fromisoformat(min(r["date"] for r in rows)), date.min + window) - window
        end = min(date.fromisoformat(max(r["date"] for r in rows)), date.max - window) + window
        recorded = [matching.Recorded(r["id"], r["customer_id"], date.fromisoformat(r["date"]), r["amount"],
                                      r["currency"], r["reference"] or "")
                    for r in ledger.rows(
                        """SELECT p.* FROM payments p WHERE p.date BETWEEN ? AND ?
                           AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.doc_id = p.id AND v.doc_table = 'payments')
                           AND NOT EXISTS (SELECT 1 FROM bank_matches m WHERE m.payment_id = p.id
                                           AND m.status = 'accepted')""", (start.isoformat(), end.isoformat()))
                    if r["customer_id"] in customers]
    tolerance = {cur: _tolerance(ledger, cur) for cur in {r["currency"] for r in rows}}
    return matching.Book(customers, invoices, aliases, recorded, tolerance)


def as_line(row: dict) -> matching.Line:
    return matching.Line(row["id"], date.fromisoformat(row["date"]), row["amount"], row["currency"],
                         row["payer"] or "", row["payer_account"] or "", row["memo"] or "", row["reference"] or "")


def listing(ledger, *, status: str | None = "open") -> list[tuple[dict, list[matching.Candidate]]]:
    """Bank lines with their candidates (undecided money in only; decided lines and debits have none)."""
    rows = lines(ledger, status=status)
    open_rows = [r for r in rows if r["status"] == "open"]
    if not open_rows:  # nothing to match: the book (every open invoice) is not read
        return [(r, []) for r in rows]
    found = book(ledger, open_rows)
    return [(r, matching.candidates(as_line(r), found) if r["status"] == "open" else []) for r in rows]


# --- writes ----------------------------------------------------------------------------------------------------


def _alias_id(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}\n{value}".encode()).hexdigest()[:16]


# Payment platforms and clearing accounts pay for many customers: their name or account says nothing about who paid.
_PLATFORMS = ("支付宝", "财付通", "微信支付", "银联", "网银在线", "拉卡拉", "快钱", "京东支付", "paypal", "stripe",
              "alipay", "wechatpay", "tenpay")


def _teach(tx, row: dict, customer_id: str, known: dict) -> None:
    """Remember the payer's name and account as this customer's, for the next statement (last decision wins)."""
    name = matching.normalise_name(row["payer"] or "")
    if any(p in name for p in _PLATFORMS):
        return
    for kind, value in (("name", name), ("account", "".join((row["payer_account"] or "").split()))):
        if value and known.get((kind, value)) != customer_id:
            tx.set("payer_aliases", _alias_id(kind, value), kind=kind, value=value, customer_id=customer_id)
            known[(kind, value)] = customer_id


def _open_check(ledger, row: dict) -> None:
    current = by_id(ledger, row["id"])
    if current["status"] == "accepted":
        raise Conflict(N_("bank line {value} was already accepted on {decided_on} ({decided_code}); nothing was "
                          "applied twice"), value=row['id'][:8],
                       decided_on=current['decided_on'], decided_code=current['decided_code'])
    if current["status"] == "rejected":
        raise Conflict(N_("bank line {value} was rejected; `duly reconcile reopen {value}` first"),
                       value=row['id'][:8])
    if current["amount"] <= 0:
        shown = money.format_amount(current["amount"], current["currency"])
        raise Conflict(N_("bank line {value} is money out ({shown} {currency}); debits are kept but not matched to "
                          "receivables"), value=row['id'][:8], shown=shown,
                       currency=current['currency'])


def _post(ledger, tx, row: dict, candidate: matching.Candidate | None, *, customer_code: str | None = None,
          pairs: list[str] | None = None, known: dict) -> Decision:
    """Apply one decision inside an open write."""
    cur, on = row["currency"], row["date"]
    amount = money.to_decimal_str(row["amount"], cur)
    note = " ".join(x for x in (str(Said(N_("bank line {line}"), line=row["id"][:8])), row["payer"], row["memo"])
                    if x)[:200]
    fee = 0
    if candidate is not None and candidate.payment_id:
        payment = payments.by_id(ledger, candidate.payment_id)
        customer_id, linked = payment["customer_id"], True
        applied = payments.Applied(payment["id"], payment["amount"], cur, [], 0)
    else:
        linked = False
        if candidate is not None:
            customer_code = candidate.customer_code
            pairs = [f"{number}={money.to_decimal_str(part, cur)}" for _, number, part in candidate.allocations]
        auto = bool(pairs) or candidate is None  # pairs say where; by hand without pairs: oldest due first
        applied = payments.add(ledger, customer_code, on, amount, method_name="bank_transfer",
                               reference=row["reference"] or None, note=note, currency=cur, allocate=pairs or None,
                               auto=auto)
        if candidate is not None and candidate.fee:
            adjustments.write_off(ledger, candidate.fee_invoice, on,
                                  str(Said(N_("bank fee (bank line {line})"), line=row["id"][:8])),
                                  money.to_decimal_str(candidate.fee, cur))
            fee = candidate.fee
        customer_id = ledger.row("SELECT customer_id FROM payments WHERE id=?", (applied.id,))["customer_id"]
    # stored in English, worded for a reader where shown (store/rules/stored_words.py)
    reasons = str(joined(list(candidate.reasons))) if candidate else str(Said(N_("matched by hand")))
    tx.set("bank_matches", row["id"], status="accepted", customer_id=customer_id, payment_id=applied.id, fee=fee,
           note=reasons[:500], decided_on=date.today().isoformat())
    _teach(tx, row, customer_id, known)
    code = ledger.row("SELECT code FROM customers WHERE id=?", (customer_id,))["code"]
    return Decision(row, candidate, applied.id, code, applied.allocations, fee, applied.unapplied, linked)


def _known_aliases(ledger) -> dict:
    return {(r["kind"], r["value"]): r["customer_id"] for r in ledger.rows(
        "SELECT kind, value, customer_id FROM payer_aliases")}


def accept(ledger, line_id: str, *, candidate: int = 1, customer_code: str | None = None,
           allocate: list[str] | None = None) -> Decision:
    """Accept a line: its candidate number `candidate` (1 = best), or by hand for a customer (with NUMBER=AMOUNT
    allocations, else oldest due first). One transaction."""
    if allocate and not customer_code:
        raise InvalidInput(N_("--allocate goes with --customer CODE (a match by hand)"), field="allocate")
    with ledger.writing() as tx:
        row = by_id(ledger, line_id)
        _open_check(ledger, row)
        chosen = None
        if not customer_code:
            found = matching.candidates(as_line(row), book(ledger, [row]))
            if not found:
                raise Conflict(N_("bank line {value} has no candidate: match it by hand with `duly reconcile accept "
                                  "{value} --customer CODE`"), value=row['id'][:8])
            if not 1 <= candidate <= len(found):
                raise InvalidInput(N_("bank line {value} has {count} candidate(s); --candidate {candidate} is not "
                                      "one of them"),
                                   value=row['id'][:8], count=len(found), candidate=candidate, field="candidate")
            chosen = found[candidate - 1]
        return _post(ledger, tx, row, chosen, customer_code=customer_code, pairs=allocate,
                     known=_known_aliases(ledger))


def reject(ledger, line_id: str, reason: str | None = None) -> dict:
    """Set a line aside as not a customer's payment; it stays listed (status rejected)."""
    with ledger.writing() as tx:
        row = by_id(ledger, line_id)
        _open_check(ledger, row)
        tx.set("bank_matches", row["id"], status="rejected", customer_id=None, payment_id=None, fee=0,
               note=(reason or "").strip() or None, decided_on=date.today().isoformat())
    return row


def reopen(ledger, line_id: str) -> dict:
    """Bring a rejected line back to the open list."""
    with ledger.writing() as tx:
        row = by_id(ledger, line_id)
        if row["status"] != "rejected":
            if row["status"] == "accepted":
                raise Conflict(N_("bank line {value} was accepted, not set aside: void its payment (`duly payment "
                                  "void`) to undo it"), value=row["id"][:8])
            raise Conflict(N_("bank line {value} is open, not set aside: there is nothing to reopen"),
                           value=row["id"][:8])
        tx.set("bank_matches", row["id"], status="open", note=None, decided_on=date.today().isoformat())
    return row


@dataclass
class AutoRun:
    accepted: list[Decision]
    left: list[tuple[dict, str]]  # (line, why it was left for a person)
    min_score: int


def auto(ledger, min_score_given: int | None = None) -> AutoRun:
    """Accept every open line whose best candidate is unambiguous and scores at least the minimum; one
    transaction. Each decision is taken out of the book before the next line is matched."""
    threshold = min_score(ledger, min_score_given)
    run = AutoRun([], [], threshold)
    with ledger.writing() as tx:
        rows = lines(ledger, status="open")
        found_book = book(ledger, rows)
        known = _known_aliases(ledger)
        for row in rows:
            found = matching.candidates(as_line(row), found_book)
            best = matching.unambiguous(found, threshold)
            if best is None:
                run.left.append((row, matching.why_not(found, threshold)))
                continue
            run.accepted.append(_post(ledger, tx, row, best, known=known))
            found_book.settle(best)
    return run
