"""Payments (收款) and applying them to invoices (核销): oldest due first, or as the bookkeeper says.

A payment only ever reduces an invoice through an allocation; what is not allocated stays unapplied.
Voiding a payment posts negative allocations that undo each of its net allocations on the void date.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from store.read import open as openitems
from store.rules import money, validate
from store.write import customers, invoices
from store.ledger import schema
from store.rules.allocation import auto_allocate, check_allocations
from store.errors import Conflict, DulyError, InvalidInput, NotFound
from store.ledger.ids import IdPool, uuid7
from store.read.openbook import OpenBook
from store.i18n import N_

METHODS = ("bank_transfer", "cash", "card", "alipay", "wechat", "other")
METHOD_ALIASES = {
    "bank_transfer": "bank_transfer", "bank": "bank_transfer", "transfer": "bank_transfer", "wire": "bank_transfer",
    "银行转账": "bank_transfer", "转账": "bank_transfer", "银行": "bank_transfer", "电汇": "bank_transfer",
    "cash": "cash", "现金": "cash",
    "card": "card", "刷卡": "card", "银行卡": "card", "credit_card": "card", "pos": "card",
    "alipay": "alipay", "支付宝": "alipay",
    "wechat": "wechat", "wechat_pay": "wechat", "wechatpay": "wechat", "weixin": "wechat", "微信": "wechat",
    "微信支付": "wechat",
    "other": "other", "其他": "other", "其它": "other",
}


@dataclass
class Applied:
    """What one write applied: the source document, [(invoice number, amount)], and what is left unapplied."""

    id: str
    amount: int
    currency: str
    allocations: list[tuple[str, int]]
    unapplied: int
    number: str | None = None  # RC-… for a payment, CN-… for a credit note (None: a payment from before numbers)
    kind: str = "payment"  # or "credit note"


def method(text: str | None) -> str:
    """'银行转账' / 'bank' / 'Bank Transfer' -> 'bank_transfer'."""
    if not text:
        return "other"
    if text in METHOD_ALIASES:  # as written by `duly export csv` (a key is its own normal form)
        return METHOD_ALIASES[text]
    key = text.strip().lower().replace(" ", "_").replace("-", "_")
    if key not in METHOD_ALIASES:
        raise InvalidInput(N_("payment method {text} is not one of: {methods} (or 银行转账, 现金, 刷卡, 支付宝, 微信)"),
                           text=repr(text), methods=', '.join(METHODS), field="method")
    return METHOD_ALIASES[key]


def parse_pairs(pairs: list[str] | None, currency: str) -> list[tuple[str, int]]:
    """['A7-000001=500', ...] -> [('A7-000001', 50000), ...]; an invoice named twice is refused."""
    found: list[tuple[str, int]] = []
    for pair in pairs or []:
        number, sep, amount = (pair or "").partition("=")
        if not sep or not number.strip() or not amount.strip():
            raise InvalidInput(N_("allocation {pair}: expected NUMBER=AMOUNT, e.g. A7-000001=500.00"),
                               pair=repr(pair),
                               field="allocate")
        number = number.strip()
        if any(n == number for n, _ in found):
            raise InvalidInput(N_("invoice {number} is named twice in the allocations"),
                               number=number, field="allocate")
        found.append((number, money.parse_amount(amount, currency, field=f"allocation to {number}")))
    return found


def _resolve_pairs(ledger, customer_id: str, pairs: list[tuple[str, int]]) -> tuple[dict, dict]:
    """Invoice ids for numbers (each must belong to the customer): ({id: amount}, {id: number})."""
    requested, numbers = {}, {}
    for number, amount in pairs:
        invoice = invoices.by_number(ledger, number)
        if invoice["customer_id"] != customer_id:
            raise Conflict(N_("invoice {number} belongs to another customer"), number=number)
        requested[invoice["id"]] = amount
        numbers[invoice["id"]] = number
    return requested, numbers


def plan(ledger, customer_id: str, currency: str, on: str, available: int,
         pairs: list[tuple[str, int]] | None) -> list[tuple[str, str, int]]:
    """[(invoice id, number, amount)] to apply `available` dated `on`: the given pairs (checked against what is
    open and what is available) or, without pairs, oldest due first."""
    if pairs:  # only the named invoices are read: the cost does not grow with the customer's history
        requested, named = _resolve_pairs(ledger, customer_id, pairs)
        dues = openitems.allocatable_items(ledger, customer_id, currency, on, list(requested))
    else:
        dues = openitems.allocatable_items(ledger, customer_id, currency, on)
    open_by: dict[str, int] = {}
    numbers = {d.invoice_id: d.number for d in dues}
    for d in dues:
        open_by[d.invoice_id] = open_by.get(d.invoice_id, 0) + d.open_amount
    if pairs:
        for invoice_id, number in named.items():
            if invoice_id not in open_by:
                raise Conflict(N_("invoice {number} has nothing open on {on} to apply to (paid, voided, dated "
                                  "later, or in another currency)"), number=number,
                               on=on)
        check_allocations(available, requested, open_by, named, currency)
        return [(i, named[i], a) for i, a in requested.items()]
    return [(i, numbers[i], a) for i, a in auto_allocate(available, dues)]


def add(ledger, customer_code: str, paid_on: str, amount: str, *, method_name: str | None = None,
        reference: str | None = None, note: str | None = None, currency: str | None = None,
        allocate: list[str] | None = None, auto: bool = True) -> Applied:
    """Record a payment and apply it (explicit NUMBER=AMOUNT pairs, else oldest due first unless auto is
    False); the rest stays unapplied. One transaction."""
    with ledger.writing() as tx:
        applied, docs = _pay(Paying(ledger), customer_code, paid_on, amount, method_name=method_name,
                             reference=reference, note=note, currency=currency, allocate=allocate, auto=auto)
        for table, data in docs:
            tx.event(table, data.pop("id", None), **data)
    return applied


class Paying:
    """What recording payments reads again and again, read once: for one payment (`add`: the plan is read from the
    ledger) or for the batches of a bulk import (`add_many` with an OpenBook: each customer's open items are read
    once and kept up to date in memory as payments are applied, so a row costs the same however big the book)."""

    def __init__(self, ledger, book: "OpenBook | None" = None):
        self.ledger = ledger
        self.book = book
        self.currency = ledger.setting("currency", "CNY")
        self._customers: dict[str, dict] = {}
        self._counter: int | None = None  # the payment counter as this batch has moved it (written by `written`)
        # numbers of the series up to _looked_upto were looked up: those taken (by the ledger, not this batch)
        self._taken: set[str] = set()
        self._looked_upto = 0
        self._ahead = 1  # how many numbers to look up at once: a batch's size (add_many)
        self.new_id = uuid7  # a batch (add_many) takes its ids from an IdPool: made hundreds at a time

    def next_number(self) -> str:
        """The next free number of this device's payment series, as ledger.next_number gives it, the counter kept
        here during a batch (one statement per payment instead of three)."""
        if self.book is None:
            return self.ledger.next_number("payment", "payments", schema.NUMBER_TEMPLATES["payments"])
        if self._counter is None:
            row = self.ledger.conn.execute("SELECT value FROM counters WHERE name='payment'").fetchone()
            self._counter = row[0] if row else 0
            self._prefix = self.ledger.meta("series_prefix") or "A0"
        while True:
            self._counter += 1
            number = schema.NUMBER_TEMPLATES["payments"].format(prefix=self._prefix, n=self._counter)
            if self._counter > self._looked_upto:  # which of the next numbers are taken, read for a batch at once
                self._taken = self._numbers_taken(self._counter, self._counter + self._ahead)
                self._looked_upto = self._counter + self._ahead
            if number not in self._taken:
                return number

    def _numbers_taken(self, first: int, last: int) -> set[str]:
        wanted = [schema.NUMBER_TEMPLATES["payments"].format(prefix=self._prefix, n=n) for n in range(first, last + 1)]
        taken = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            taken.update(n for (n,) in self.ledger.conn.execute(
                f"SELECT number FROM payments WHERE number IN ({','.join('?' * len(chunk))})", chunk))
        return taken

    def written(self) -> None:
        """The batch is in the ledger: so is the counter."""
        if self._counter is not None:
            self.ledger.conn.execute(
                "INSERT INTO counters (name, value) VALUES ('payment', ?) ON CONFLICT (name) DO UPDATE SET "
                "value = max(value, excluded.value)", (self._counter,))
            self._counter = None
            self._taken, self._looked_upto = set(), 0
        if self.book is not None:
            self.book.written()

    def customer(self, code: str) -> dict:
        found = self._customers.get(code)
        if found is None:
            found = self._customers[code] = customers.by_code(self.ledger, code)
        return found

    def plan(self, customer_id: str, currency: str, on: str, available: int,
             pairs: list[tuple[str, int]] | None) -> list[tuple[str, str, int]]:
        if self.book is None:
            return plan(self.ledger, customer_id, currency, on, available, pairs)
        return self.book.plan(customer_id, currency, on, available, pairs)


def _pay(paying: Paying, customer_code: str, paid_on: str, amount: str, *, method_name: str | None = None,
         reference: str | None = None, note: str | None = None, currency: str | None = None,
         allocate: list[str] | None = None, auto: bool = True) -> tuple[Applied, list[tuple[str, dict]]]:
    """Check one payment and plan its allocations: (what it applied, [(table, fields)] with the payment first)."""
    on = validate.iso_date(paid_on, "payment date")
    kind = method(method_name)
    if allocate and not auto:
        raise InvalidInput(N_("give either allocations or --no-allocate, not both"), field="allocate")
    customer = paying.customer((customer_code or "").strip())
    cur = money.check_currency(currency or customer["currency"] or paying.currency)
    minor = money.parse_amount(amount, cur)
    if minor <= 0:
        raise InvalidInput(N_("payment amount must be more than zero"), field="amount")
    pairs = parse_pairs(allocate, cur)
    chosen = paying.plan(customer["id"], cur, on, minor, pairs) if (pairs or auto) else []
    number = paying.next_number()
    payment_id = paying.new_id()
    docs = [("payments", {"id": payment_id, "customer_id": customer["id"], "date": on, "amount": minor,
                          "currency": cur, "method": kind, "reference": (reference or "").strip() or None,
                          "note": (note or "").strip() or None, "number": number})]
    docs += [("allocations", {"invoice_id": invoice_id, "payment_id": payment_id, "amount": part, "date": on})
             for invoice_id, _, part in chosen]
    used = sum(part for _, _, part in chosen)
    return Applied(payment_id, minor, cur, [(n, a) for _, n, a in chosen], minor - used, number), docs


def add_many(ledger, batch: list[dict], paying: Paying) -> list[Applied]:
    """Record a batch of payments in the open write (a bulk import): each row is what `add` takes as keywords
    (customer_code, paid_on, amount, ...), with the same outcome as recording them one by one in order, written
    with one executemany per table. `paying` carries the OpenBook from batch to batch. A refused row raises
    invoices.RowFailed naming it."""
    results, by_table = [], {"payments": [], "allocations": []}
    paying._ahead = max(len(batch), 1)
    if paying.new_id is uuid7:
        paying.new_id = IdPool()
    new_id = paying.new_id
    if paying.book is not None:
        paying.book.read_named([pair.partition("=")[0].strip() for row in batch for pair in row.get("allocate") or ()
                                if isinstance(pair, str)])
    with ledger.writing() as tx:
        for index, row in enumerate(batch):
            row = dict(row)
            try:
                applied, docs = _pay(paying, row.pop("customer_code"), row.pop("paid_on"), row.pop("amount"), **row)
            except (DulyError, ValueError) as exc:
                raise invoices.RowFailed(index, exc) from None
            results.append(applied)
            for table, data in docs:
                by_table[table].append((data.pop("id", None) or new_id(), data))
        for table, rows in by_table.items():
            tx.events(table, rows)
        paying.written()
    return results


def by_id(ledger, payment_id: str) -> dict:
    """A payment by its number (RC-A7-000123), its id, or an unambiguous start of its id (8 characters or more)."""
    number = (payment_id or "").strip().upper()
    found = ledger.row("SELECT * FROM payments WHERE number=?", (number,)) if number else None
    if found:
        return found
    text = (payment_id or "").strip().lower()
    found = ledger.row("SELECT * FROM payments WHERE id=?", (text,))
    if found:
        return found
    if len(text) >= 8:
        rows = ledger.rows("SELECT * FROM payments WHERE id LIKE ? ORDER BY id LIMIT 2", (text.replace("%", "") + "%",))
        if len(rows) == 1:
            return rows[0]
        if rows:
            raise InvalidInput(N_("payment id {payment_id} is ambiguous: give its number (RC-…) or more of the id"),
                               payment_id=repr(payment_id),
                               field="payment")
    raise NotFound(N_("unknown payment {payment_id}"), payment_id=repr(payment_id))


def _left(ledger, table: str, doc: dict, on: str) -> int:
    """What a payment or credit note has not yet applied: as of `on` and counting every later allocation."""
    return min(openitems.left_to_apply(ledger, table, doc["id"], on), openitems.left_to_apply(ledger, table, doc["id"]))


def sources(ledger, customer_id: str, currency: str, on: str) -> list[tuple[str, dict, int]]:
    """Unapplied cash and credit of a customer usable on a date, oldest first: (table, row, amount left).
    Payments come before credit notes of the same date; voided payments are left out."""
    found = []
    for row in ledger.rows(
        """SELECT * FROM payments p WHERE customer_id=? AND currency=? AND date<=?
           AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.doc_id=p.id AND v.doc_table='payments')
           ORDER BY date, id""", (customer_id, currency, on)):
        found.append(("payments", row, _left(ledger, "payments", row, on)))
    for row in ledger.rows("SELECT * FROM credit_notes WHERE customer_id=? AND currency=? AND date<=? "
                           "ORDER BY date, number", (customer_id, currency, on)):
        found.append(("credit_notes", row, _left(ledger, "credit_notes", row, on)))
    found = [s for s in found if s[2] > 0]
    return sorted(found, key=lambda s: (s[1]["date"], s[0] != "payments"))


def allocate(ledger, *, payment_id: str | None = None, customer_code: str | None = None,
             pairs: list[str] | None = None, on: str | None = None) -> list[Applied]:
    """Apply unapplied money later: one payment's (by id), or every unapplied payment and credit note of a
    customer oldest first. Pairs NUMBER=AMOUNT say where; without them, oldest due first. The allocations are
    dated `on` (default: today, or the payment's date when that is later)."""
    if bool(payment_id) == bool(customer_code):
        raise InvalidInput(N_("give a payment id or --customer CODE (one of them)"), field="payment")
    with ledger.writing() as tx:
        if payment_id:
            payment = by_id(ledger, payment_id)
            if (done := invoices.void_of(ledger, "payments", payment["id"])) is not None:
                raise Conflict(N_("payment {payment} was voided on {date}; it cannot be applied"),
                               payment=payment["number"] or payment["id"], date=done["date"])
            when = _allocation_date(on, payment["date"])
            pool = [("payments", payment, _left(ledger, "payments", payment, when))]
            customer_id, cur = payment["customer_id"], payment["currency"]
        else:
            customer = customers.by_code(ledger, customer_code.strip())
            customer_id, cur = customer["id"], customer["currency"] or ledger.setting("currency", "CNY")
            when = _allocation_date(on, "0000-01-01")
            pool = sources(ledger, customer_id, cur, when)
        available = sum(left for _, _, left in pool)
        if available <= 0:
            if on:
                raise Conflict(N_("nothing unapplied to allocate on {date}"), date=when)
            raise Conflict(N_("nothing unapplied to allocate"))
        chosen = plan(ledger, customer_id, cur, when, available, parse_pairs(pairs, cur))
        results = _post(tx, pool, chosen, when, cur)
    return results


def _allocation_date(on: str | None, doc_date: str) -> str:
    if on:
        when = validate.iso_date(on, "allocation date")
        if when < doc_date:
            raise InvalidInput(N_("allocation date {when} is before the payment date {doc_date}"),
                               when=when, doc_date=doc_date, field="date")
        return when
    return max(date.today().isoformat(), doc_date)


def _post(tx, pool, chosen, when: str, cur: str) -> list[Applied]:
    """Draw the chosen allocations from the pool of sources in order (oldest money first)."""
    results = []
    wanted = [[invoice_id, number, part] for invoice_id, number, part in chosen]
    for table, doc, left in pool:
        done: list[tuple[str, int]] = []
        for item in wanted:
            take = min(item[2], left)
            if take <= 0:
                continue
            key = "payment_id" if table == "payments" else "credit_id"
            tx.event("allocations", invoice_id=item[0], amount=take, date=when, **{key: doc["id"]})
            item[2] -= take
            left -= take
            done.append((item[1], take))
        if done:
            results.append(Applied(doc["id"], doc["amount"], cur, done, left, doc.get("number"),
                                   "payment" if table == "payments" else "credit note"))
    return results


def void(ledger, payment_id: str, reason: str, on: str | None = None) -> list[tuple[str, int]]:
    """Void a payment (bounced, entered twice): undo each net allocation on the void date. Returns the
    [(invoice number, amount)] that were reopened."""
    reason = validate.required_text(reason, "reason")
    with ledger.writing() as tx:
        payment = by_id(ledger, payment_id)
        if (done := invoices.void_of(ledger, "payments", payment["id"])) is not None:
            raise Conflict(N_("payment {payment} was already voided on {date}"),
                           payment=payment["number"] or payment["id"], date=done["date"])
        nets = ledger.rows(
            """SELECT a.invoice_id, i.number, sum(a.amount) AS net, max(a.date) AS last
               FROM allocations a JOIN invoices i ON i.id = a.invoice_id
               WHERE a.payment_id=? GROUP BY a.invoice_id, i.number ORDER BY i.number""", (payment["id"],))
        latest = max([payment["date"], *(r["last"] for r in nets)])
        when = validate.iso_date(on, "void date") if on else max(date.today().isoformat(), latest)
        if when < latest:
            raise InvalidInput(N_("void date {when} is before the payment or its last allocation ({latest})"),
                               when=when, latest=latest,
                               field="date")
        tx.event("voids", doc_table="payments", doc_id=payment["id"], date=when, reason=reason)
        reopened = []
        for r in nets:
            if r["net"] > 0:
                tx.event("allocations", invoice_id=r["invoice_id"], payment_id=payment["id"], amount=-r["net"],
                         date=when)
                reopened.append((r["number"], r["net"]))
    return reopened


def _nets(ledger, payment_id: str) -> list[dict]:
    """What a payment has on each invoice now: [{invoice_id, number, net, last}] with net > 0."""
    return ledger.rows(
        """SELECT a.invoice_id, i.number, sum(a.amount) AS net, max(a.date) AS last
           FROM allocations a JOIN invoices i ON i.id = a.invoice_id
           WHERE a.payment_id=? GROUP BY a.invoice_id, i.number HAVING sum(a.amount) > 0 ORDER BY i.number""",
        (payment_id,))


def detail(ledger, payment_id: str) -> dict:
    """One payment (by number or id) with its customer, every allocation (reversals included), what is
    applied and left, and its void."""
    payment = by_id(ledger, payment_id)
    customer = ledger.row("SELECT code, name FROM customers WHERE id=?", (payment["customer_id"],)) or {}
    allocations = ledger.rows(
        """SELECT a.date, a.amount, i.number FROM allocations a JOIN invoices i ON i.id = a.invoice_id
           WHERE a.payment_id=? ORDER BY a.date, a.id""", (payment["id"],))
    voided = invoices.void_of(ledger, "payments", payment["id"])
    applied = sum(a["amount"] for a in allocations)
    return {"payment": {**payment, "customer": customer.get("code"), "customer_name": customer.get("name")},
            "allocations": allocations, "applied": applied,
            "unapplied": 0 if voided else payment["amount"] - applied, "void": voided,
            "on_invoices": {r["number"]: r["net"] for r in _nets(ledger, payment["id"])}}


def reallocate(ledger, payment_id: str, pairs: list[str], on: str | None = None) -> Applied:
    """Move a payment: take it off every invoice it is on, then apply it as NUMBER=AMOUNT pairs say (what the
    pairs leave stays unapplied), both dated `on` (default today, never before its last allocation). One
    transaction."""
    with ledger.writing() as tx:
        payment = by_id(ledger, payment_id)
        if (done := invoices.void_of(ledger, "payments", payment["id"])) is not None:
            raise Conflict(N_("payment {payment} was voided on {date}"), payment=payment["number"] or payment["id"],
                           date=done["date"])
        nets = _nets(ledger, payment["id"])
        latest = max([payment["date"], *(r["last"] for r in nets)])
        when = validate.iso_date(on, "date") if on else max(date.today().isoformat(), latest)
        if when < latest:
            raise InvalidInput(N_("date {date} is before the payment or its last allocation ({latest})"), date=when,
                               latest=latest, field="date")
        for r in nets:
            tx.event("allocations", invoice_id=r["invoice_id"], payment_id=payment["id"], amount=-r["net"], date=when)
        if not pairs:
            return Applied(payment["id"], payment["amount"], payment["currency"], [], payment["amount"],
                           payment["number"])
        [result] = allocate(ledger, payment_id=payment["id"], pairs=pairs, on=when)
    return result


def listing(ledger, *, customer_code: str | None = None, limit: int | None = None) -> list[dict]:
    """Payments newest first with what each has applied and what is left (counting every document)."""
    where, params = "1=1", []
    if customer_code:
        where, params = "p.customer_id=?", [customers.by_code(ledger, customer_code)["id"]]
    sql = f"""SELECT p.id, p.number, c.code AS customer, p.date, p.currency, p.amount, p.method, p.reference,
                coalesce((SELECT sum(a.amount) FROM allocations a WHERE a.payment_id=p.id), 0) AS applied,
                (SELECT v.date FROM voids v WHERE v.doc_id=p.id AND v.doc_table='payments') AS voided_on
              FROM payments p LEFT JOIN customers c ON c.id=p.customer_id WHERE {where}
              ORDER BY p.date DESC, p.id DESC"""
    if limit:
        sql += f" LIMIT {int(limit)}"
    rows = ledger.rows(sql, params)
    for r in rows:
        r["unapplied"] = 0 if r["voided_on"] else r["amount"] - r["applied"]
        r["status"] = "voided" if r["voided_on"] else ("unapplied" if r["unapplied"] > 0 else "applied")
    return rows
