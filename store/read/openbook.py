"""The open items of the customers a bulk job pays, read once and kept in memory (a payments import of any size).

`store.read.open.allocatable_items` reads a customer's open invoices from the ledger for every payment: right for
one payment, quadratic for an import (a customer with 2,000 invoices was read 2,000 times). An OpenBook reads a
customer's open invoices in a currency once, then applies each planned allocation to its own copy, so a payment
costs what it takes, not what the customer has. It gives exactly what `payments.plan` would give reading the
ledger after each earlier payment was written (tests/test_bulk_import.py compares the two on random books).

The rule is store/read/open.py's, kept here as state: money dated D may go to an invoice dated <= D with
something open as of D, and never more than is open counting every later document; oldest due first.
Only valid inside the one write that uses it: it is told of every allocation it plans, and nothing else may
write allocations, write-offs or voids of those customers meanwhile.
"""
from __future__ import annotations

from datetime import date
from functools import lru_cache

from store.ledger import schema
from store.read import open as openitems
from store.rules.allocation import auto_allocate, check_allocations, spread_over_instalments
from store.rules.openitems import OpenItem
from store.errors import Conflict, NotFound
from store.i18n import N_

# Past this many invoices in memory (about 500 bytes each), the book forgets, between two batches, the customers the
# last batch did not pay (all of them if that is not enough) and reads again as needed: memory stays bounded on a
# book of any size, and a customer who keeps paying is not read again.
MAX_INVOICES = 250_000
_day = lru_cache(maxsize=16384)(date.fromisoformat)


class _Invoice:
    """One invoice open counting every document (doc_state: not settled at any date)."""

    __slots__ = ("id", "number", "date", "due_date", "total", "ever", "last_on", "owner", "schedule", "reductions")

    def __init__(self, iid, number, doc_date, due_date, total, ever, last_on, owner):
        self.id, self.number, self.date, self.due_date = iid, number, doc_date, due_date
        self.total, self.ever, self.last_on = total, ever, last_on
        self.owner: tuple[str, str] = owner  # (customer id, currency)
        self.schedule: list[tuple[str, int]] | None = None  # [(due date, amount)] when in several instalments
        self.reductions: list[tuple[str, int]] | None = None  # every allocation and write-off, once read


class _Customer:
    """A customer's open invoices in one currency, and their instalments in the order money goes to them."""

    __slots__ = ("invoices", "order", "head")

    def __init__(self, invoices: dict[str, _Invoice]):
        self.invoices = invoices
        entries = []
        for inv in invoices.values():
            if inv.schedule is None:
                entries.append((inv.due_date, inv.number, 0, inv.id))
            else:
                for k, (due, _) in enumerate(sorted(inv.schedule, key=lambda s: s[0])):
                    entries.append((due, inv.number, k, inv.id))
        entries.sort(key=lambda e: (e[0], e[1]))  # stable: instalments of one invoice keep their order
        self.order = entries
        self.head = 0  # entries before it belong to invoices with nothing left open


class OpenBook:
    def __init__(self, ledger):
        self.ledger = ledger
        self._customers: dict[tuple[str, str], _Customer] = {}
        # every invoice read, once: a customer's list and a payment naming the invoice share the one copy
        self._invoices: dict[str, _Invoice | None] = {}
        self._unwritten: dict[str, list[tuple[str, int]]] = {}  # allocations planned, not yet in the ledger
        self._paid: set[tuple[str, str]] = set()  # customers (and currencies) this batch paid oldest due first
        # the invoices the batch names, read at once (`read_named`): number -> (id, customer id) or None if unknown,
        # and the ids of those that have nothing open counting every document
        self._numbers: dict[str, tuple[str, str] | None] = {}
        self._closed: set[str] = set()
        self._dates: dict[str, str] = {}

    # -- reading a customer, or a named invoice, once -----------------------------------------------------
    _OPEN = """SELECT id, number, date, due_date, total, open_all, last_on FROM doc_state
               WHERE kind = 'invoice' AND settled_on IS NULL AND customer_id = ? AND currency = ? AND open_all > 0"""

    def _read(self, rows, owner: tuple[str, str], new: list[_Invoice] | None = None) -> dict[str, _Invoice]:
        """_Invoices of doc_state rows; one already in memory is kept (it knows what was applied since). With `new`,
        the invoices read for the first time are added to it and their instalments left to the caller to read
        (`_read_schedules`, once for many owners), else read here."""
        found, fresh = {}, []
        day = self._dates.setdefault  # one string per date, not three per invoice (a big book has a few thousand)
        for iid, number, doc_date, due, total, ever, last_on in rows:
            inv = self._invoices.get(iid)
            if inv is None:
                inv = self._invoices[iid] = _Invoice(iid, number, day(doc_date, doc_date), day(due, due), total, ever,
                                                     day(last_on, last_on), owner)
                fresh.append(inv)
            found[iid] = inv
        if new is None:
            self._read_schedules(fresh)
        else:
            new.extend(fresh)
        return found

    def _read_schedules(self, invoices: list[_Invoice]) -> None:
        """The instalments of invoices just read (an invoice in several of them is paid in their order)."""
        by_id = {inv.id: inv for inv in invoices}
        for iid, schedule in openitems.schedules(self.ledger, list(by_id)).items():
            inv = by_id[iid]
            if len(schedule) > 1 and sum(amount for _, amount in schedule) == inv.total:
                inv.schedule = [(when.isoformat(), amount) for when, amount in schedule]

    def read_named(self, numbers: list[str]) -> None:
        """Read at once the invoices a batch of payments names (what `_invoice_of` and `_named_invoice` would read
        one by one): a few queries per batch instead of three per payment."""
        wanted = sorted({n for n in numbers if n not in self._numbers})
        ids = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            for number, iid, owner in self.ledger.conn.execute(
                    f"SELECT number, id, customer_id FROM invoices WHERE number IN ({','.join('?' * len(chunk))}) "
                    "ORDER BY id", chunk):
                if self._numbers.get(number) is None:  # the first by id, as _invoice_of reads it
                    self._numbers[number] = (iid, owner)
                    ids.append(iid)
            for number in chunk:
                self._numbers.setdefault(number, None)
        ids = [iid for iid in ids if iid not in self._invoices]
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            rows = list(self.ledger.conn.execute(self._OPEN_BY_ID.format(marks=",".join("?" * len(chunk))), chunk))
            by_owner: dict[tuple[str, str], list] = {}
            for *row, customer_id, currency in rows:
                by_owner.setdefault((customer_id, currency), []).append(row)
            new: list[_Invoice] = []
            for owner, found in by_owner.items():
                self._read(found, owner, new)
            self._read_schedules(new)  # for all the owners at once: one query a chunk, not one per customer
            self._closed.update(set(chunk) - {row[0] for row in rows})

    # by the primary key: the unary + keeps SQLite from scanning every open invoice in the doc_state_open index for
    # the ids (it chose that range, 15x slower a chunk on a 200k book)
    _OPEN_BY_ID = """SELECT id, number, date, due_date, total, open_all, last_on, customer_id, currency FROM doc_state
                     WHERE id IN ({marks}) AND +kind = 'invoice' AND +settled_on IS NULL AND open_all > 0"""

    def _customer(self, customer_id: str, currency: str) -> _Customer:
        """Every invoice of the customer open counting every document (for oldest due first)."""
        key = (customer_id, currency)
        found = self._customers.get(key)
        if found is None:
            found = self._customers[key] = _Customer(self._read(self.ledger.conn.execute(
                self._OPEN, (customer_id, currency)), key))
        self._paid.add(key)
        return found

    def _named_invoice(self, iid: str, customer_id: str, currency: str) -> _Invoice | None:
        """One invoice a payment names, if it is the customer's, in the currency, and open counting every document
        (a payment naming its invoices reads only those, however many the customer has)."""
        inv = self._invoices.get(iid)
        if inv is None and iid not in self._closed:
            inv = self._read(self.ledger.conn.execute(self._OPEN + " AND id = ?", (customer_id, currency, iid)),
                             (customer_id, currency)).get(iid)
        return inv if inv is not None and inv.owner == (customer_id, currency) else None

    # -- what an invoice has open -------------------------------------------------------------------------
    def _open_on(self, inv: _Invoice, on: str) -> int:
        """Open as of `on` (the invoice is dated on or before it): total less what is dated by then."""
        if inv.last_on <= on:
            return inv.ever
        if inv.reductions is None:  # money dated after `on` is applied already: read what and when, once
            inv.reductions = [tuple(r) for r in self.ledger.conn.execute(
                "SELECT date, amount FROM allocations WHERE invoice_id = ? UNION ALL "
                "SELECT date, amount FROM writeoffs WHERE invoice_id = ?", (inv.id, inv.id))]
            inv.reductions += self._unwritten.get(inv.id, [])
        return inv.total - sum(amount for when, amount in inv.reductions if when <= on)

    def _cap(self, inv: _Invoice, on: str) -> int:
        """What money dated `on` may still go to: open as of `on` and counting every later document."""
        if inv.ever <= 0 or inv.date > on:
            return 0
        return min(self._open_on(inv, on), inv.ever)

    def _items(self, inv: _Invoice, cap: int) -> list[int]:
        """The open amount of each instalment in the customer's order (store.rules.openitems.open_items)."""
        if inv.schedule is None or cap > inv.total:
            return [cap]
        return [left for _, left in spread_over_instalments(inv.total - cap, inv.schedule)]

    # -- planning a payment -------------------------------------------------------------------------------
    def plan(self, customer_id: str, currency: str, on: str, available: int,
             pairs: list[tuple[str, int]] | None) -> list[tuple[str, str, int]]:
        """[(invoice id, number, amount)] as store.write.payments.plan gives them, and remembered as applied."""
        if pairs:
            chosen = self._named(customer_id, on, available, pairs, currency)
        else:
            chosen = self._oldest_due_first(self._customer(customer_id, currency), on, available)
        for iid, _, amount in chosen:
            inv = self._invoices[iid]
            inv.ever -= amount
            inv.last_on = max(inv.last_on, on)
            if inv.reductions is not None:
                inv.reductions.append((on, amount))
            self._unwritten.setdefault(iid, []).append((on, amount))
        return chosen

    def written(self) -> None:
        """The allocations planned so far are in the ledger now (between two batches: only then may the book
        forget, since a customer read again must find in the ledger all that was applied)."""
        self._unwritten.clear()
        self._numbers.clear()
        self._closed.clear()
        if len(self._invoices) > MAX_INVOICES:
            # a customer read again must find in the cache all that was applied: a payments import refreshes it
            # at its end (schema.doc_state_deferred), so what is pending is refreshed now
            schema.refresh_deferred(self.ledger.conn)
            kept = {key: c for key, c in self._customers.items() if key in self._paid}
            if sum(len(c.invoices) for c in kept.values()) > MAX_INVOICES // 2:
                kept = {}
            self._customers = kept
            self._invoices = {iid: inv for c in kept.values() for iid, inv in c.invoices.items()}
        self._paid = set()

    def _named(self, customer_id: str, on: str, available: int, pairs: list[tuple[str, int]],
               currency: str) -> list[tuple[str, str, int]]:
        requested, named, open_by = {}, {}, {}
        for number, amount in pairs:
            iid, owner = self._invoice_of(number)
            if owner != customer_id:
                raise Conflict(N_("invoice {number} belongs to another customer"), number=number)
            requested[iid], named[iid] = amount, number
        for iid, number in named.items():
            inv = self._named_invoice(iid, customer_id, currency)
            cap = self._cap(inv, on) if inv is not None else 0
            if cap > 0:
                open_by[iid] = cap
            else:
                raise Conflict(N_("invoice {number} has nothing open on {date} to apply to (paid, voided, dated "
                                  "later, or in another currency)"), number=number, date=on)
        check_allocations(available, requested, open_by, named, currency)
        return [(i, named[i], a) for i, a in requested.items()]

    def _invoice_of(self, number: str) -> tuple[str, str]:
        if number in self._numbers:
            if (found := self._numbers[number]) is None:
                raise NotFound(N_("unknown invoice {number}"), number=repr(number))
            return found
        row = self.ledger.conn.execute("SELECT id, customer_id FROM invoices WHERE number = ? ORDER BY id LIMIT 1",
                                       (number,)).fetchone()
        if row is None:
            raise NotFound(N_("unknown invoice {number}"), number=repr(number))
        return row[0], row[1]

    def _oldest_due_first(self, customer: _Customer, on: str, available: int) -> list[tuple[str, str, int]]:
        """auto_allocate over the customer's open items, walking them in order and stopping when the money is
        used: invoices with nothing left are passed once and for all."""
        order, invoices = customer.order, customer.invoices
        while customer.head < len(order) and invoices[order[customer.head][3]].ever <= 0:
            customer.head += 1
        items: list[OpenItem] = []
        need = available
        in_order = True  # False once an item's place is not its instalment's (an over-applied invoice)
        shares: dict[str, list[int]] = {}
        for at in range(customer.head, len(order)):  # from the head, without copying the rest of the list
            due, number, k, iid = order[at]
            if need <= 0 and in_order:
                break
            inv = invoices[iid]
            if iid not in shares:
                cap = self._cap(inv, on)
                shares[iid] = self._items(inv, cap) if cap > 0 else []
            parts = shares[iid]
            if inv.schedule is not None and len(parts) > 1:
                left = parts[k]
            elif k == 0 and parts:
                left = parts[0]
                if inv.schedule is not None:  # one item at the invoice's due date, not at its first instalment
                    due, in_order = inv.due_date, False
            else:
                continue
            if left <= 0:
                continue
            items.append(OpenItem(iid, number, "", _day(inv.date), _day(due), left))
            need -= left
        return [(iid, invoices[iid].number, amount) for iid, amount in auto_allocate(available, items)]
