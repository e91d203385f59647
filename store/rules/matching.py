"""Matching bank lines to receivables (对账): candidates with a score out of 100 and the reasons for it.

Pure: plain dataclasses in, candidates out (the reads are in store.write.reconcile; the open invoices are THE
OpenInvoice of store.rules.openitems, open counting every document). What counts, and for how much:
- an open invoice's number (or its e-invoice number) in the memo or reference: 45
- the amount equals one open invoice's open amount: 30; several of one customer's open invoices together: 25;
  short of them by no more than the bank-fee tolerance (the difference is written off as a bank fee): 20
- the payer is a known alias (a name or account learned when a line was accepted): 35; else the payer's name is
  close to the customer's name or legal name: up to 30 (30 × similarity, from 60 % similar)
- paid near the due date (5 days before to 10 after): 10; within a month and a half: 5
- a payment of the same amount already recorded within 5 days (entered by hand): 45, +10 on the same day (+5
  otherwise), +20 with the same reference; accepting it links the line to that payment instead of posting another.
Only money in is matched. A line is unambiguous when its best candidate leads the next one by MARGIN points.
"""
from __future__ import annotations

import bisect
import difflib
import itertools
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from store.errors import Said
from store.i18n import N_
from store.rules.money import format_amount
from store.rules.openitems import OpenInvoice

MARGIN = 10
MAX_CANDIDATES = 5
NAME_CANDIDATES = 25
PAYMENT_WINDOW_DAYS = 5

POINTS = {"number": 45, "exact": 30, "several": 25, "fee": 20, "alias": 35, "name": 30, "due_near": 10,
          "due_month": 5, "recorded": 45, "same_day": 10, "days_apart": 5,
          "same_reference": 20}


@dataclass(frozen=True)
class Line:
    id: str
    date: date
    amount: int  # minor units; + money in
    currency: str
    payer: str = ""
    payer_account: str = ""
    memo: str = ""
    reference: str = ""


@dataclass(frozen=True)
class Customer:
    id: str
    code: str
    name: str
    legal_name: str = ""


@dataclass(frozen=True)
class Recorded:
    """A payment already in the ledger that no bank line is linked to yet."""

    id: str
    customer_id: str
    date: date
    amount: int
    currency: str
    reference: str = ""


@dataclass(frozen=True)
class Candidate:
    customer_id: str
    customer_code: str
    score: int
    reasons: tuple[str, ...]
    allocations: tuple[tuple[str, str, int], ...] = ()  # (invoice id, number, amount)
    fee: int = 0  # written off on fee_invoice as a bank fee
    fee_invoice: str | None = None  # number
    payment_id: str | None = None  # link to an existing payment instead of posting one


# --- names ---------------------------------------------------------------------------------------------------

_CN_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "集团有限公司", "集团公司", "分公司", "集团", "公司",
                "商行", "工作室", "经营部", "门市部")
_EN_WORDS = re.compile(r"\b(co|company|ltd|limited|inc|incorporated|llc|gmbh|corp|corporation|plc|sa|ag|bv|"
                       r"pte|pty|the)\b")


def normalise_name(text: str) -> str:
    """'上海恒达贸易有限公司' -> '上海恒达贸易'; 'ACME Trading Co., Ltd.' -> 'acmetrading'."""
    t = unicodedata.normalize("NFKC", text or "").lower()
    t = _EN_WORDS.sub(" ", re.sub(r"[.,，。·&'\"()（）\[\]【】\-_/]", " ", t))
    t = re.sub(r"\s+", "", t)
    changed = True
    while changed:
        changed = False
        for suffix in _CN_SUFFIXES:
            if t.endswith(suffix) and len(t) > len(suffix) + 1:
                t, changed = t[: -len(suffix)], True
    return t


def name_similarity(a: str, b: str) -> float:
    """0..1: 1 for the same name, 0.9 when one holds the other (恒达贸易 in 上海恒达贸易), else difflib's ratio
    over characters (which works for Chinese as for Latin letters)."""
    return _similarity(normalise_name(a), normalise_name(b))


def _similarity(na: str, nb: str) -> float:
    """name_similarity of two names already normalised."""
    if not na or not nb:
        return 0.0
    if na == nb:
        return 1.0
    short, long_ = sorted((na, nb), key=len)
    if short in long_ and len(short) >= (2 if not short.isascii() else 4):
        return 0.9
    return difflib.SequenceMatcher(None, na, nb, autojunk=False).ratio()


def _grams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)} or ({text} if text else set())


def _number_key(text: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", (text or "").upper())


_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_/.]*[0-9]")


# --- the book the lines are matched against ------------------------------------------------------------------


@dataclass
class Book:
    """What matching reads: customers, open invoices, learned aliases, payments not yet linked to a line.
    `settle` takes what a decision applied out of it, so that later lines of one run see what is left."""

    customers: dict[str, Customer]
    invoices: dict[str, OpenInvoice]
    aliases: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind 'name'|'account', value) -> customer
    recorded: list[Recorded] = field(default_factory=list)
    tolerance: dict[str, int] = field(default_factory=dict)  # currency -> bank fee that may be written off

    def __post_init__(self):
        self._by_number: dict[str, str] = {}
        self._by_customer: dict[str, set[str]] = defaultdict(set)
        self._by_amount: dict[tuple[str, int], set[str]] = defaultdict(set)
        self._grams: dict[str, set[str]] = defaultdict(set)
        self._names: dict[str, tuple[tuple[str, str], ...]] = {}  # customer -> ((normalised, as written), ...)
        self._sorted: list[tuple[str, int]] | None = None
        for inv in self.invoices.values():
            self._index(inv)
        for c in self.customers.values():
            self._names[c.id] = tuple((normalise_name(text), text) for text in (c.name, c.legal_name) if text)
            for norm, _ in self._names[c.id]:
                for g in _grams(norm):
                    self._grams[g].add(c.id)

    def _index(self, inv: OpenInvoice) -> None:
        for key in (_number_key(inv.number), _number_key(inv.einvoice)):
            if len(key) >= 4:
                self._by_number[key] = inv.id
        self._by_customer[inv.customer_id].add(inv.id)
        self._by_amount[(inv.currency, inv.open_amount)].add(inv.id)

    def settle(self, candidate: Candidate) -> None:
        """Take a decision's allocations and fee (or its linked payment) out of the book."""
        self._sorted = None
        for invoice_id, _, amount in candidate.allocations:
            inv = self.invoices[invoice_id]
            self._by_amount[(inv.currency, inv.open_amount)].discard(invoice_id)
            fee = candidate.fee if candidate.fee_invoice == inv.number else 0
            left = inv.open_amount - amount - fee
            if left > 0:
                self.invoices[invoice_id] = inv._replace(open_amount=left)
                self._by_amount[(inv.currency, left)].add(invoice_id)
            else:
                del self.invoices[invoice_id]
                self._by_customer[inv.customer_id].discard(invoice_id)
        if candidate.payment_id:
            self.recorded = [p for p in self.recorded if p.id != candidate.payment_id]

    def short_by_fee(self, currency: str, amount: int) -> list[str]:
        """Invoices whose open amount is more than `amount` by no more than the tolerance."""
        if not self.tolerance.get(currency):
            return []
        if self._sorted is None:
            self._sorted = sorted(k for k, ids in self._by_amount.items() if ids)
        lo = bisect.bisect_right(self._sorted, (currency, amount))
        hi = bisect.bisect_right(self._sorted, (currency, amount + self.tolerance[currency]))
        return sorted(i for key in self._sorted[lo:hi] for i in self._by_amount[key])

    def open_of(self, customer_id: str, currency: str, on: date) -> list[OpenInvoice]:
        """The customer's open invoices in currency dated on or before `on`, oldest due first."""
        found = [self.invoices[i] for i in self._by_customer.get(customer_id, ())]
        return sorted((i for i in found if i.currency == currency and i.doc_date <= on),
                      key=lambda i: (i.due_date, i.number))


# --- scoring -------------------------------------------------------------------------------------------------


def identify(line: Line, book: Book) -> dict[str, tuple[int, str]]:
    """Customers the payer points to: {customer id: (points, reason)}."""
    found: dict[str, tuple[int, str]] = {}
    account = re.sub(r"\s", "", line.payer_account or "")
    if account and ("account", account) in book.aliases:
        cid = book.aliases[("account", account)]
        found[cid] = (POINTS["alias"], Said(N_("payer account {account} is a known account of {code}"), account=account,
                                            code=book.customers[cid].code))
    payer = normalise_name(line.payer)
    if payer and ("name", payer) in book.aliases:
        cid = book.aliases[("name", payer)]
        if cid not in found:
            found[cid] = (POINTS["alias"], Said(N_("payer {payer} is a known payer of {code}"), payer=line.payer,
                                                code=book.customers[cid].code))
    if not payer or found:
        return found  # a payer a person already matched is not also "close to" other customers
    # Customers sharing pieces of the name, rarest pieces first (一 "恒达" says more than 一 "贸易"): only the
    # NAME_CANDIDATES most alike are compared in full, so a line costs the same in a book of 200 or 20,000.
    weight: dict[str, float] = defaultdict(float)
    for g in _grams(payer):
        holders = book._grams.get(g, ())
        for cid in holders:
            weight[cid] += 1 / len(holders)
    near = sorted(weight, key=lambda cid: (-weight[cid], book.customers[cid].code))[:NAME_CANDIDATES]
    for cid in near:
        best, text = max((_similarity(payer, norm), written) for norm, written in book._names[cid])
        if best >= 0.6:
            what = (Said(N_("payer {payer} is the customer's name"), payer=line.payer) if best == 1.0 else
                    Said(N_("payer {payer} is close to {name} ({percent} %)"), payer=line.payer, name=text,
                         percent=round(best * 100)))
            found[cid] = (round(POINTS["name"] * best), what)
    return found


def _due_points(line: Line, invoices: list[OpenInvoice]) -> tuple[int, str | None]:
    if not invoices:
        return 0, None
    due = min(i.due_date for i in invoices)
    days = (line.date - due).days
    n = abs(days)
    if not days:
        when = Said(N_("paid on the due date {date}"), date=due.isoformat())
    elif days > 0:
        when = Said(N_("paid {n} day after the due date {date}") if n == 1 else
                    N_("paid {n} days after the due date {date}"), n=n, date=due.isoformat())
    else:
        when = Said(N_("paid {n} day before the due date {date}") if n == 1 else
                    N_("paid {n} days before the due date {date}"), n=n, date=due.isoformat())
    if -5 <= days <= 10:
        return POINTS["due_near"], when
    if -30 <= days <= 45:
        return POINTS["due_month"], when
    return 0, None




def _combination(amount: int, items: list[OpenInvoice], tolerance: int) -> tuple[list[OpenInvoice], int] | None:
    """Two or more open invoices whose open amounts add up to the amount (fee 0), or exceed it by no more than
    the tolerance (the fee); exact sums first: all of them, then oldest-first runs, then pairs and triples."""
    totals = list(itertools.accumulate(i.open_amount for i in items))  # totals[n - 1]: the n oldest due
    runs = [(n, totals[n - 1]) for n in range(len(items), 1, -1)]
    for want_exact in (True, False):
        for n, total in runs:
            short = total - amount
            if 0 <= short <= tolerance and (short == 0) == want_exact:
                return items[:n], short
        if len(items) <= 25:
            for size in (2, 3):
                for group in itertools.combinations(items, size):
                    short = sum(i.open_amount for i in group) - amount
                    if 0 <= short <= tolerance and (short == 0) == want_exact:
                        return list(group), short
    return None


Allocations = tuple[tuple[str, str, int], ...]


def _allocate(amount: int, invoices: list[OpenInvoice], fee: int) -> tuple[Allocations, str | None]:
    """Allocations of `amount` over the invoices, oldest due first; a fee is taken off the largest one."""
    fee_on = max(invoices, key=lambda i: i.open_amount) if fee else None
    out, left = [], amount
    for inv in invoices:
        take = min(left, inv.open_amount - (fee if inv is fee_on else 0))
        if take > 0:
            out.append((inv.id, inv.number, take))
            left -= take
    return tuple(out), fee_on.number if fee_on else None


def _make(book: Book, line: Line, cid: str, points: list[tuple[int, str]], invoices: list[OpenInvoice],
          fee: int = 0) -> Candidate:
    due, why = _due_points(line, invoices)
    if why:
        points = [*points, (due, why)]
    allocations, fee_invoice = _allocate(line.amount, invoices, fee)
    score = min(100, sum(p for p, _ in points))
    return Candidate(cid, book.customers[cid].code, score, tuple(r for _, r in points), allocations, fee, fee_invoice)


def _amount_reason(line: Line, invoices: list[OpenInvoice], fee: int) -> tuple[int, str]:
    numbers = " + ".join(i.number for i in invoices)
    if fee:
        owed = format_amount(line.amount + fee, line.currency)
        return POINTS["fee"], Said(N_("amount is {fee} short of {numbers} ({owed}): written off as a bank fee "
                                      "(within the tolerance)"), fee=format_amount(fee, line.currency),
                                   numbers=numbers, owed=owed)
    if len(invoices) == 1:
        return POINTS["exact"], Said(N_("amount equals the open amount of {numbers}"), numbers=numbers)
    return POINTS["several"], Said(N_("amount equals {n} open invoices together: {numbers}"), n=len(invoices),
                                   numbers=numbers)


def candidates(line: Line, book: Book) -> list[Candidate]:
    """The best candidates for one bank line, highest score first (none for money out)."""
    if line.amount <= 0:
        return []
    who = identify(line, book)
    found: list[Candidate] = []
    covered: set[str] = set()

    # Invoice numbers in the memo or reference.
    named: dict[str, list[OpenInvoice]] = defaultdict(list)
    for token in _TOKEN.findall(f"{line.memo} {line.reference}"):
        # "A7-000001/A7-000002" names two invoices; "A7/2026/001" may be one number: try the whole and its parts
        for part in dict.fromkeys([token, *re.split(r"[/_.#]", token)]):
            invoice_id = book._by_number.get(_number_key(part))
            inv = book.invoices.get(invoice_id) if invoice_id else None
            if inv and inv.currency == line.currency and inv.doc_date <= line.date and inv not in named[inv.customer_id]:
                named[inv.customer_id].append(inv)
    for cid, invs in named.items():
        invs.sort(key=lambda i: (i.due_date, i.number))
        points = [(POINTS["number"], Said(N_("invoice number {numbers} in the memo"),
                                          numbers=", ".join(i.number for i in invs)))]
        if cid in who:
            points.append(who[cid])
        total = sum(i.open_amount for i in invs)
        fee = total - line.amount
        if 0 <= fee <= book.tolerance.get(line.currency, 0):
            points.append(_amount_reason(line, invs, fee))
        else:
            fee = 0
            points.append((0, Said(N_("amount differs from their open {open}: the rest stays unapplied")
                                   if line.amount > total else N_("amount differs from their open {open}: applied in part"),
                                   open=format_amount(total, line.currency))))
        found.append(_make(book, line, cid, points, invs, fee))
        covered.add(cid)

    # Customers the payer points to: one invoice, several together, or oldest due first.
    for cid, reason in who.items():
        if cid in covered:
            continue
        items = book.open_of(cid, line.currency, line.date)
        exact = [i for i in items if i.open_amount == line.amount]
        if exact:
            p, why = _amount_reason(line, exact[:1], 0)
            if len(exact) > 1:
                why = Said(N_("{reason} (the oldest due of {n} of that amount)"), reason=why, n=len(exact))
            found.append(_make(book, line, cid, [reason, (p, why)], exact[:1]))
        elif (combo := _combination(line.amount, items, book.tolerance.get(line.currency, 0))) is not None:
            group, fee = combo
            group.sort(key=lambda i: (i.due_date, i.number))
            found.append(_make(book, line, cid, [reason, _amount_reason(line, group, fee)], group, fee))
        elif (short := [i for i in items if 0 < i.open_amount - line.amount <= book.tolerance.get(line.currency, 0)]):
            fee = short[0].open_amount - line.amount
            found.append(_make(book, line, cid, [reason, _amount_reason(line, short[:1], fee)], short[:1], fee))
        else:
            shown = format_amount(line.amount, line.currency)
            what = (Said(N_("nothing open: applied oldest due first, the rest unapplied")) if not items else
                    Said(N_("no open invoice or combination matches {amount}: applied oldest due first, the rest "
                            "unapplied"), amount=shown))
            found.append(_make(book, line, cid, [reason, (0, what)], items))
        covered.add(cid)

    # The amount alone: any customer's open invoice of exactly that amount (or short of it by a fee).
    for invoice_id in book._by_amount.get((line.currency, line.amount), ()):
        inv = book.invoices[invoice_id]
        if inv.customer_id not in covered and inv.doc_date <= line.date:
            found.append(_make(book, line, inv.customer_id, [_amount_reason(line, [inv], 0)], [inv]))
    for invoice_id in book.short_by_fee(line.currency, line.amount):
        inv = book.invoices[invoice_id]
        if inv.customer_id not in covered and inv.doc_date <= line.date:
            fee = inv.open_amount - line.amount
            found.append(_make(book, line, inv.customer_id, [_amount_reason(line, [inv], fee)], [inv], fee))

    # A payment already recorded by hand.
    for p in book.recorded:
        if p.currency == line.currency and p.amount == line.amount and abs((p.date - line.date).days) <= \
                PAYMENT_WINDOW_DAYS:
            points = [(POINTS["recorded"], Said(N_("a payment of this amount is already recorded on {date}: accepting "
                                                   "links the line to it, nothing new is posted"),
                                                date=p.date.isoformat()))]
            apart = abs((p.date - line.date).days)
            points.append((POINTS["same_day"], Said(N_("on the same day"))) if not apart else
                          (POINTS["days_apart"], Said(N_("{n} day apart") if apart == 1 else N_("{n} days apart"),
                                                      n=apart)))
            if p.reference and p.reference in (line.reference, *line.memo.split()):
                points.append((POINTS["same_reference"], Said(N_("same reference {reference}"), reference=p.reference)))
            if p.customer_id in who:
                points.append(who[p.customer_id])
            found.append(Candidate(p.customer_id, book.customers[p.customer_id].code,
                                   min(100, sum(x for x, _ in points)), tuple(r for _, r in points), payment_id=p.id))

    found.sort(key=lambda c: (-c.score, c.customer_code, c.allocations))
    return found[:MAX_CANDIDATES]


def unambiguous(found: list[Candidate], min_score: int) -> Candidate | None:
    """The candidate `auto` may accept: at least min_score and MARGIN points ahead of the next one."""
    if not found or found[0].score < min_score:
        return None
    if len(found) > 1 and found[1].score > found[0].score - MARGIN:
        return None
    return found[0]


def why_not(found: list[Candidate], min_score: int) -> str:
    """Why `auto` leaves a line for a person."""
    if not found:
        return Said(N_("no candidate"))
    if len(found) > 1 and found[1].score > found[0].score - MARGIN:
        return Said(N_("ambiguous: {code} scores {score}, {code2} {score2}"), code=found[0].customer_code,
                    score=found[0].score, code2=found[1].customer_code, score2=found[1].score)
    return Said(N_("best score {score} is below {min_score}"), score=found[0].score, min_score=min_score)
