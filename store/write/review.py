"""The reminder review queue (催收审核): the reminder plan as of a date (store.write.collections.reminder_plan, what
`duly remind plan` shows) as rows a person looks at one by one and marks send, skip or hold before one batch goes
out through `collections.send`.

The rows sit in the ledger's scratch database (store.read.scratch: in memory, never on disk, and filling it is no
write to the ledger, so the open position the other screens read stays remembered), so the app pages them by
position like any list and keeps each row's decision there; the ledger itself is written only by
`hold_customers` and by the send. A queue built for the same date with nothing written to the ledger since is
kept as it is (going back to the collections screen shows it at once)."""
from __future__ import annotations

from dataclasses import dataclass

from store.errors import InvalidInput
from store.read.scratch import book_state, scratch
from store.rules import dunning
from store.write import collections, customers
from store.i18n import N_

DECISIONS = ("todo", "send", "skip", "hold")

_COLUMNS = ("seq", "invoice_id", "level", "customer_id", "customer", "name", "number", "currency", "due_date",
            "days_overdue", "total", "channel", "email", "decision")


@dataclass
class ReviewQueue:
    """The plan a queue was built from (a message preview renders from it) and what it holds."""
    plan: collections.ReminderPlan
    count: int


def build(ledger, as_of) -> ReviewQueue:
    """(Re)build the queue for as_of, most severe level first, then customer and days late. A row still in the
    plan keeps the decision it had (a skipped reminder stays skipped until the queue is closed). Built already for
    this date and nothing written to the ledger since: the same queue, not worked out again."""
    held = _queue(ledger)
    conn = held.conn
    built_from = (as_of, book_state(ledger))
    memo = held.memo.get("review_queue")
    if memo is not None and memo[0] == built_from:
        return memo[1]
    kept = {(inv, lv): d for inv, lv, d in conn.execute("SELECT invoice_id, level, decision FROM review_queue")}
    rp = collections.reminder_plan(ledger, as_of)
    order = {lv.name: n for n, lv in enumerate(collections.levels(ledger))}
    items = sorted(rp.plan.items, key=lambda it: (-order.get(it.level.name, 0), rp.customers[it.customer_id].code,
                                                  -it.days_overdue, it.number))
    with conn:  # one transaction: the queue is whole or as it was
        conn.execute("DELETE FROM review_queue")
        conn.executemany(
            f"INSERT INTO review_queue ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
            [(n, it.invoice_id, it.level.name, it.customer_id, rp.customers[it.customer_id].code,
              rp.customers[it.customer_id].name, it.number, it.currency, it.due_date.isoformat(), it.days_overdue,
              it.total, it.level.channel, rp.customers[it.customer_id].email,
              kept.get((it.invoice_id, it.level.name), "todo")) for n, it in enumerate(items, 1)])
    queue = ReviewQueue(rp, len(items))
    held.memo["review_queue"] = (built_from, queue)
    return queue


def _queue(ledger):
    """The scratch database holding the queue (empty until one is built)."""
    held = scratch(ledger)
    held.conn.execute("""CREATE TABLE IF NOT EXISTS review_queue (
        seq INTEGER PRIMARY KEY, invoice_id TEXT NOT NULL, level TEXT NOT NULL, customer_id TEXT NOT NULL,
        customer TEXT, name TEXT, number TEXT, currency TEXT, due_date TEXT, days_overdue INTEGER, total INTEGER,
        channel TEXT, email TEXT, decision TEXT NOT NULL DEFAULT 'todo', UNIQUE (invoice_id, level))""")
    return held


def page(ledger, *, after: int = 0, limit: int = 100) -> list[dict]:
    """Rows after position `after`, at most `limit`."""
    return _queue(ledger).rows(f"SELECT {', '.join(_COLUMNS)} FROM review_queue WHERE seq > ? ORDER BY seq LIMIT ?",
                               (after, limit))


def rows_at(ledger, seqs: list[int]) -> list[dict]:
    """The rows at these positions (after a decision: what to show again)."""
    marks = ", ".join("?" * len(seqs))
    return _queue(ledger).rows(f"SELECT {', '.join(_COLUMNS)} FROM review_queue WHERE seq IN ({marks}) ORDER BY seq",
                               seqs)


def decide(ledger, seq: int, decision: str) -> list[int]:
    """Mark the row at `seq`; hold holds the customer, so every row of that customer is marked hold (and undoing
    it, back to todo, releases them all). Returns the positions that changed."""
    if decision not in DECISIONS:
        raise InvalidInput(N_("decision {decision} is not one of {decisions}"), decision=repr(decision),
                           decisions=", ".join(DECISIONS), field="decision")
    held = _queue(ledger)
    row = held.row("SELECT customer_id, decision FROM review_queue WHERE seq = ?", (seq,))
    if row is None:
        raise InvalidInput(N_("no reminder at position {seq} of the review queue"), seq=seq, field="seq")
    if decision == "hold" or row["decision"] == "hold":
        where, params = "customer_id = ?", [row["customer_id"]]
    else:
        where, params = "seq = ?", [seq]
    changed = [r[0] for r in held.conn.execute(f"SELECT seq FROM review_queue WHERE {where}", params)]
    with held.conn:
        held.conn.execute(f"UPDATE review_queue SET decision = ? WHERE {where}", [decision, *params])
    return changed


def decide_rest(ledger, decision: str) -> int:
    """Mark every row still to be decided (todo); returns how many."""
    if decision not in DECISIONS:
        raise InvalidInput(N_("decision {decision} is not one of {decisions}"), decision=repr(decision),
                           decisions=", ".join(DECISIONS), field="decision")
    conn = _queue(ledger).conn
    with conn:
        return conn.execute("UPDATE review_queue SET decision = ? WHERE decision = 'todo'", (decision,)).rowcount


def counts(ledger) -> dict[str, int]:
    found = dict.fromkeys(DECISIONS, 0)
    found.update(dict(_queue(ledger).conn.execute("SELECT decision, count(*) FROM review_queue GROUP BY decision")))
    return found


@dataclass
class Batch:
    """What the person decided: the reminders to send, grouped as they will go out, and the customers to hold."""
    send: set[tuple[str, str]]  # (invoice id, level)
    messages: list[dict]  # one per customer and channel: customer, name, channel, address, invoices
    hold: list[dict]  # customer, name


def batch(ledger) -> Batch:
    held = _queue(ledger)
    send = {(r["invoice_id"], r["level"]) for r in held.rows(
        "SELECT invoice_id, level FROM review_queue WHERE decision = 'send'")}
    messages = held.rows(
        """SELECT customer, name, channel, email AS address, group_concat(number, ', ') AS invoices
           FROM (SELECT * FROM review_queue WHERE decision = 'send' ORDER BY seq)
           GROUP BY customer_id, channel ORDER BY customer, channel""")
    hold = held.rows("""SELECT DISTINCT customer, name FROM review_queue WHERE decision = 'hold'
                        ORDER BY customer""")
    return Batch(send, messages, hold)


def first_to_send(ledger) -> int | None:
    """The position of the first row marked send, or None."""
    found = _queue(ledger).row("SELECT seq FROM review_queue WHERE decision = 'send' ORDER BY seq LIMIT 1")
    return found["seq"] if found else None


def preview(ledger, queue: ReviewQueue, seq: int, company: str | None = None) -> dict:
    """The message the row's customer would get on its channel: every reminder of that customer and channel
    marked send, with this one (as `collections.send` groups them). E-mail and letters have a text; phone,
    WeChat and legal make a task, whose text is the same letter to read from."""
    from store.files import mailer

    held = _queue(ledger)
    row = held.row("SELECT * FROM review_queue WHERE seq = ?", (seq,))
    if row is None:
        raise InvalidInput(N_("no reminder at position {seq} of the review queue"), seq=seq, field="seq")
    wanted = {(r["invoice_id"], r["level"]) for r in held.rows(
        "SELECT invoice_id, level FROM review_queue WHERE customer_id = ? AND channel = ? "
        "AND (decision = 'send' OR seq = ?)", (row["customer_id"], row["channel"], seq))}
    items = [it for it in queue.plan.plan.items if (it.invoice_id, it.level.name) in wanted]
    who = queue.plan.customers[row["customer_id"]]
    company = company or ledger.setting("company.name") or "Duly"
    subject, body = mailer.render(who, items, company, queue.plan.doc_dates)
    return {"customer": who.code, "name": who.name, "channel": row["channel"], "address": who.email or who.phone,
            "language": who.language, "subject": subject, "body": body, "invoices": [it.number for it in items]}


def hold_customers(ledger, codes: list[str]) -> list[str]:
    """Put these customers on dunning hold (the `hold` tag, which the plan honours) in one transaction; returns
    the codes that were not on hold before. Undo: remove the tag (`duly customer edit CODE --tags ...`)."""
    added = []
    with ledger.writing():
        for code in codes:
            record = customers.by_code(ledger, code)
            tags = [t for t in (record.get("tags") or "").split(",") if t]
            if dunning.HOLD_TAG not in tags:
                customers.edit(ledger, code, tags=",".join([*tags, dunning.HOLD_TAG]))
                added.append(code)
    return added
