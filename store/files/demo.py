"""A realistic demo book: zh + en customers, two years of invoices, payments on time and late, partial
payments, unapplied cash, credit notes, write-offs and a couple of voids. Deterministic for a seed.

Everything is posted through the one write path (`tx.events` / `tx.set`) in ONE transaction, written a few
thousand documents at a time with one executemany per table, and sealed into change-log envelopes of bounded size
(Write.seal_if_full), so the change log and the tables agree exactly as they would after real use, and a demo that
is stopped half-way leaves an empty ledger, not half a book.
"""
from __future__ import annotations

import random
from bisect import bisect
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Callable

from store.ledger import db, schema
from store.ledger.schema import NUMBER_TEMPLATES
from store.ledger.ids import id_text
from store.rules import validate
from store.rules.terms import BUILTIN_TERMS, instalments
from store.i18n import N_

DEFAULT_CUSTOMERS = 60
DEFAULT_INVOICES = 1500
DOCS_PER_TRANSACTION = 4000
# What the demo posts in bulk: their secondary indexes are made once the rows are in (schema.indexes_built_after).
DOCUMENT_TABLES = ("invoices", "invoice_lines", "due_items", "payments", "allocations", "credit_notes", "writeoffs",
                   "voids")

_CITIES = ["上海", "北京", "深圳市", "广州", "杭州", "苏州", "南京", "成都", "武汉", "宁波", "厦门", "天津", "青岛", "重庆"]
_BRANDS = ["恒达", "华信", "瑞丰", "鼎盛", "宏远", "金泰", "嘉禾", "新世纪", "永安", "中联", "天成", "海川", "博润", "启明",
           "东方", "汇通", "安捷", "明德", "星辰", "盛世"]
_TRADES = ["贸易", "电子科技", "机械制造", "物流", "包装材料", "化工", "食品", "医疗器械", "软件", "建材", "纺织", "汽车配件"]
_SUFFIXES = ["有限公司", "股份有限公司", "实业有限公司"]
_EN_BRANDS = ["Northwind", "Bluepeak", "Harbor", "Silverline", "Redwood", "Atlas", "Meridian", "Keystone", "Lumen",
              "Orchid", "Pioneer", "Summit", "Tidewater", "Vantage", "Crescent", "Granite"]
_EN_TRADES = ["Trading", "Electronics", "Logistics", "Components", "Foods", "Materials", "Systems", "Textiles",
              "Instruments", "Packaging"]
_EN_SUFFIXES = ["Ltd", "Inc.", "GmbH", "Co., Ltd.", "LLC", "Pte. Ltd."]
_ITEMS_ZH = ["咨询服务", "技术服务费", "货物销售", "设备维护", "软件许可", "运输服务", "原材料", "安装调试"]
_ITEMS_EN = ["Consulting", "Goods", "Maintenance", "Software licence", "Freight", "Spare parts", "Installation"]
_TERMS = ["NET30", "EOM30", "30/70", "NET60"]
_TERMS_WEIGHTS = [45, 30, 10, 15]
_METHODS = ["bank_transfer", "bank_transfer", "bank_transfer", "alipay", "wechat", "cash", "card", "other"]
_LINE_COUNTS = [1, 2, 3]
_LINE_CUM = [80, 94, 100]  # cumulative weights of 1, 2 or 3 lines: 80, 14, 6
_QTY = [1, 1, 1, 2, 3, 5, 10, 12]
_TAX_BP_ZH = [1300, 1300, 600, 900]
_TAX_BP_EN = [0, 1300]
_CREDIT_PERCENT = [5, 10, 20, 100]
_PARTIAL_PERCENT = [30, 50, 80]


@dataclass
class _Customer:
    id: str
    code: str
    name: str
    currency: str
    terms: str
    late_days: int  # how late this customer usually pays
    kind: str  # 'prompt' | 'late' | 'partial' | 'bad'
    weight: float


def _ids(rng: random.Random, start_ms: int) -> Callable[[], str]:
    """UUIDv7 ids from the seed, written as ids.uuid7 writes them: the same seed gives the same ids, increasing in
    creation order (one millisecond apart). Each id takes 74 random bits from `rng`, so ids and the rest of the book
    draw from the one sequence in the order they are made."""
    getrandbits = rng.getrandbits
    ms = start_ms

    def new_id() -> str:
        nonlocal ms
        ms += 1
        rand = getrandbits(74)
        # 48 bits of time, version 7, 12 random bits, variant 0b10, 62 random bits
        return id_text(ms << 80 | 0x7 << 76 | (rand >> 62) << 64 | 0b10 << 62 | rand & ((1 << 62) - 1))

    return new_id


def _zh_name(rng: random.Random) -> str:
    return f"{rng.choice(_CITIES)}{rng.choice(_BRANDS)}{rng.choice(_TRADES)}{rng.choice(_SUFFIXES)}"


def _en_name(rng: random.Random) -> str:
    return f"{rng.choice(_EN_BRANDS)} {rng.choice(_EN_TRADES)} {rng.choice(_EN_SUFFIXES)}"


def _customers(rng: random.Random, count: int, new_id) -> list[_Customer]:
    """Customers of names that do not look alike (validate.name_key, as an import compares them: no two differ only
    in their legal form), so that a customers file the demo's book exports imports without a warning a row."""
    out, seen = [], set()
    for n in range(1, count + 1):
        english = rng.random() < 0.25
        for _ in range(20):
            name = _en_name(rng) if english else _zh_name(rng)
            if (key := validate.name_key(name)) not in seen:
                break
        if key in seen:
            name = f"{name} ({n})"
            key = validate.name_key(name)
        seen.add(key)
        if english:
            currency = rng.choices(["USD", "EUR", "CNY"], [55, 25, 20])[0]
        else:
            currency = "CNY" if rng.random() < 0.97 else "USD"
        kind = rng.choices(["prompt", "late", "partial", "bad"], [62, 28, 7, 3])[0]
        late = {"prompt": rng.randint(-5, 3), "late": rng.randint(10, 75), "partial": rng.randint(5, 40),
                "bad": rng.randint(90, 300)}[kind]
        out.append(_Customer(new_id(), f"C{n:04d}", name, currency, rng.choices(_TERMS, _TERMS_WEIGHTS)[0], late,
                             kind, rng.paretovariate(1.2)))
    return out


def _line_maker(rng: random.Random) -> Callable[[bool, str], list[tuple]]:
    """Invoice lines (description, qty, unit price, tax bp, amount, tax) drawn from `rng`."""
    chance, below, lognormvariate = rng.random, rng._randbelow, rng.lognormvariate

    def lines(english: bool, currency: str) -> list[tuple]:
        scale = 1 if currency == "CNY" else 7  # foreign-currency invoices are smaller in units
        items = _ITEMS_EN if english else _ITEMS_ZH
        out = []
        for _ in range(_LINE_COUNTS[bisect(_LINE_CUM, chance() * 100.0, 0, 2)]):
            qty = _QTY[below(8)]
            unit_price = int(lognormvariate(12.5, 1.0) // scale) // 100 * 100 + 100
            tax_bp = _TAX_BP_EN[below(2)] if english else _TAX_BP_ZH[below(4)]
            amount = qty * unit_price
            out.append((items[below(len(items))], qty, unit_price, tax_bp, amount, (amount * tax_bp + 5000) // 10000))
        return out

    return lines


def _due_items_maker() -> Callable[[str, int, int], list[tuple[int, int]]]:
    """The due items (due day as an ordinal, amount) of an invoice on built-in terms, by store.rules.terms."""
    one_line: dict[tuple[str, int], int] = {}

    def due_items(terms_name: str, total: int, day: int) -> list[tuple[int, int]]:
        terms = BUILTIN_TERMS[terms_name]
        if len(terms.lines) == 1 and terms.lines[0].kind != "fixed" and total > 0:
            # One line: one item of the whole total (items sum to the total), due on a day that depends only on
            # the invoice's day; so the terms are split (and checked) once per day, not once per invoice.
            when = one_line.get((terms_name, day))
            if when is None:
                when = one_line[terms_name, day] = instalments(terms, total, date.fromordinal(day))[0][0].toordinal()
            return [(when, total)]
        return [(when.toordinal(), amount) for when, amount in instalments(terms, total, date.fromordinal(day))]

    return due_items


class _DayText(dict):
    """Day ordinal -> its text, each made once (a two-year book has a few thousand days and a million dates)."""

    def __init__(self, spell: Callable[[date], str]):
        super().__init__()
        self.spell = spell

    def __missing__(self, day: int) -> str:
        text = self[day] = self.spell(date.fromordinal(day))
        return text


def build(ledger, *, customers: int = DEFAULT_CUSTOMERS, invoices: int = DEFAULT_INVOICES, seed: int = 1,
          today: date | None = None, progress: Callable[[int, int], None] | None = None) -> dict:
    """Fill an empty ledger with a demo book; return counts of what was posted. `progress(done, total)` is told
    how many of the invoices are made."""
    if customers < 1 or invoices < 0:
        from store.errors import InvalidInput

        raise InvalidInput(N_("demo: --customers must be at least 1 and --invoices at least 0"))
    rng = random.Random(seed)
    today = today or date.today()
    start = today - timedelta(days=730)
    new_id = _ids(rng, int(datetime(start.year, start.month, start.day, tzinfo=timezone.utc).timestamp() * 1000))
    prefix = ledger.meta("series_prefix") or "D1"
    book = _customers(rng, customers, new_id)
    counts = {"customers": len(book), "invoices": 0, "payments": 0, "allocations": 0, "credit_notes": 0,
              "writeoffs": 0, "voids": 0}

    # A fresh book: each page written once (db.rollback_journal), the settlement cache rebuilt once and checked.
    # The documents' indexes are made after the rows (before the cache is rebuilt, which reads through them).
    with db.collecting_less(), db.rollback_journal(ledger.conn), ledger.writing() as tx, \
            schema.doc_state_suspended(ledger.conn), schema.indexes_built_after(ledger.conn, DOCUMENT_TABLES):
        _build(ledger, tx, rng, book, counts, customers=customers, invoices=invoices, today=today, start=start,
               new_id=new_id, prefix=prefix, progress=progress)
    return counts


def _build(ledger, tx, rng, book, counts, *, customers, invoices, today, start, new_id, prefix, progress) -> None:
    """The book, posted in the open write `tx`.

    Every draw takes from `rng` what random.Random's own methods take (choice(seq) and randint(a, b) are
    seq[_randbelow(len(seq))] and a + _randbelow(b - a + 1), a weighted choice is a bisect of random() into the
    cumulative weights), in the same order, so a seed makes the same book as it always did; days are ordinals,
    spelled as text once per day."""
    for c in book:
        tx.set("customers", c.id, code=c.code, name=c.name, currency=c.currency, terms=c.terms,
               language="en" if c.name.isascii() else "zh",
               category={"prompt": "A", "late": "B", "partial": "C", "bad": "风险"}[c.kind],
               settlement_cycle="monthly" if c.terms == "EOM30" else "per_order", archived=0)
    tx.set("settings", "currency", value="CNY")

    chance, below, gauss = rng.random, rng._randbelow, rng.gauss
    lines_of, due_items = _line_maker(rng), _due_items_maker()
    iso, compact = _DayText(date.isoformat), _DayText(lambda d: f"{d:%Y%m%d}")
    payment_number, writeoff_number = NUMBER_TEMPLATES["payments"], NUMBER_TEMPLATES["writeoffs"]
    english_of = {c.id: c.name.isascii() for c in book}
    today_n = today.toordinal()

    # Invoice dates spread over two years, in date order so numbers rise with dates.
    weights = [c.weight for c in book]
    picks = rng.choices(range(len(book)), weights, k=invoices)
    first = start.toordinal()
    days = sorted([first + below(730) for _ in range(invoices)])
    pending: dict[str, list] = {}  # table -> (id, fields) waiting for the next executemany, tables first seen first
    payments = allocations = credits = writeoffs = 0
    voidable: list[tuple[str, int]] = []  # (invoice id, day) of recent unpaid invoices

    def flush():
        if pending:
            for table, rows in pending.items():  # first seen first: invoices before what refers to them
                tx.events(table, rows)
            tx.seal_if_full()
            pending.clear()

    def post(table: str, fields: dict) -> str:
        row_id = new_id()
        rows = pending.get(table)
        if rows is None:
            rows = pending[table] = []
        rows.append((row_id, fields))
        return row_id

    for n, (pick, day) in enumerate(zip(picks, days), start=1):
        c = book[pick]
        kind, english = c.kind, english_of[c.id]
        lines = lines_of(english, c.currency)
        total = tax = 0
        for line in lines:
            total += line[4] + line[5]
            tax += line[5]
        dues = due_items(c.terms, total, day)
        inv = post("invoices", {
            "number": f"{prefix}-{n:06d}", "customer_id": c.id, "date": iso[day], "due_date": iso[dues[-1][0]],
            "currency": c.currency, "total": total, "tax": tax, "terms": c.terms, "contract": None, "einvoice": None,
            "description": lines[0][0]})
        for pos, (description, qty, unit_price, tax_bp, amount, line_tax) in enumerate(lines, start=1):
            post("invoice_lines", {"invoice_id": inv, "pos": pos, "description": description, "qty": str(qty),
                                   "unit_price": unit_price, "tax_bp": tax_bp, "amount": amount, "tax": line_tax})
        for seq, (when, amount) in enumerate(dues, start=1):
            post("due_items", {"invoice_id": inv, "seq": seq, "due_date": iso[when], "amount": amount})

        open_amount = total
        if chance() < 0.012:  # a price reduction credited against the invoice (折让)
            credit = max(1, total * _CREDIT_PERCENT[below(4)] // 100)
            when = day + 3 + below(23)
            if when <= today_n:
                credits += 1
                cn = post("credit_notes", {
                    "number": f"CN-{prefix}-{credits:06d}", "customer_id": c.id, "date": iso[when],
                    "amount": credit, "currency": c.currency, "invoice_id": inv,
                    "reason": "价格折让" if not english else "price adjustment"})
                allocations += 1
                post("allocations", {"invoice_id": inv, "payment_id": None, "credit_id": cn, "amount": credit,
                                     "date": iso[when]})
                open_amount -= credit

        # When and how much this customer pays.
        for due_when, due_amount in dues:
            if open_amount <= 0:
                break
            late = c.late_days + int(gauss(0, 6))
            if kind == "prompt" and chance() < 0.08:
                late += 15 + below(46)
            pay_day = max(day, due_when + late)
            share = min(due_amount, open_amount) if len(dues) > 1 else open_amount
            if kind == "partial" and chance() < 0.5:
                share = share * _PARTIAL_PERCENT[below(3)] // 100
            if kind == "bad" and chance() < 0.5:
                share = 0
            if pay_day > today_n or share <= 0:
                continue
            over = chance() < 0.01  # paid a little more than asked: the rest stays unapplied
            paid = share + ((1 + below(50)) * 100 if over else 0)
            method = _METHODS[below(len(_METHODS))]
            reference = f"{compact[pay_day]}-{10 + below(99990)}"
            payments += 1  # numbered in the device's series, as the store numbers them
            pay = post("payments", {
                "customer_id": c.id, "date": iso[pay_day], "amount": paid, "currency": c.currency, "method": method,
                "reference": reference, "note": None, "number": payment_number.format(prefix=prefix, n=payments)})
            allocations += 1
            post("allocations", {"invoice_id": inv, "payment_id": pay, "credit_id": None, "amount": share,
                                 "date": iso[pay_day]})
            open_amount -= share

        if open_amount > 0 and kind == "bad" and today_n - day > 400 and chance() < 0.5:
            when = day + 365 + below(31)
            writeoffs += 1
            post("writeoffs", {"invoice_id": inv, "date": iso[when], "amount": open_amount,
                               "reason": "坏账核销" if not english else "uncollectable",
                               "number": writeoff_number.format(prefix=prefix, n=writeoffs)})
        elif open_amount == total and 20 < today_n - day < 60:
            voidable.append((inv, day))

        if chance() < 0.004:  # money on account with no invoice named (预收款)
            when = day + below(21)
            if when <= today_n:
                amount = (10 + below(491)) * 100
                payments += 1
                post("payments", {"customer_id": c.id, "date": iso[when], "amount": amount, "currency": c.currency,
                                  "method": "bank_transfer", "reference": f"ON-ACCOUNT-{n}", "note": "预收款",
                                  "number": payment_number.format(prefix=prefix, n=payments)})
        if sum(map(len, pending.values())) >= DOCS_PER_TRANSACTION:
            flush()
        if progress is not None:
            progress(n, invoices)

    # One or two invoices issued in error and voided, nothing ever paid on them.
    voids = voidable[: 1 + invoices // 1000 % 2]
    for inv, day in voids:
        post("voids", {"doc_table": "invoices", "doc_id": inv, "date": iso[day + 2], "reason": "开错发票"})
    flush()
    counts.update(invoices=invoices, payments=payments, allocations=allocations, credit_notes=credits,
                  writeoffs=writeoffs, voids=len(voids))
    for name, value in (("invoice", invoices), ("credit", credits), ("payment", payments), ("writeoff", writeoffs)):
        ledger.conn.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value=max(value, excluded.value)", (name, value))
