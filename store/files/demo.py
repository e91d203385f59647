"""A realistic demo book: zh + en customers, two years of invoices, payments on time and late, partial
payments, unapplied cash, credit notes, write-offs and a couple of voids. Deterministic for a seed.

Everything is posted through the one write path (`tx.events` / `tx.set`) in ONE transaction, written a few
thousand documents at a time with one executemany per table, and sealed into change-log envelopes of bounded size
(Write.seal_if_full), so the change log and the tables agree exactly as they would after real use, and a demo that
is stopped half-way leaves an empty ledger, not half a book.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Callable

from store.ledger import db, schema
from store.ledger.schema import NUMBER_TEMPLATES
from store.rules.terms import BUILTIN_TERMS, instalments
from store.i18n import N_

DEFAULT_CUSTOMERS = 60
DEFAULT_INVOICES = 1500
DOCS_PER_TRANSACTION = 4000

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


class _Ids:
    """UUIDv7-shaped ids from the seed: the same seed gives the same ids, increasing in creation order."""

    def __init__(self, rng: random.Random, start_ms: int):
        self.rng = rng
        self.ms = start_ms

    def __call__(self) -> str:
        self.ms += 1
        rand = self.rng.getrandbits(74)
        value = (self.ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | (rand >> 62 & 0xFFF) << 64 | 0b10 << 62
        value |= rand & ((1 << 62) - 1)
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _zh_name(rng: random.Random) -> str:
    return f"{rng.choice(_CITIES)}{rng.choice(_BRANDS)}{rng.choice(_TRADES)}{rng.choice(_SUFFIXES)}"


def _en_name(rng: random.Random) -> str:
    return f"{rng.choice(_EN_BRANDS)} {rng.choice(_EN_TRADES)} {rng.choice(_EN_SUFFIXES)}"


def _customers(rng: random.Random, count: int, new_id) -> list[_Customer]:
    out, seen = [], set()
    for n in range(1, count + 1):
        english = rng.random() < 0.25
        for _ in range(20):
            name = _en_name(rng) if english else _zh_name(rng)
            if name not in seen:
                break
        if name in seen:
            name = f"{name} ({n})"
        seen.add(name)
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


def _lines(rng: random.Random, english: bool, currency: str) -> list[dict]:
    lines = []
    for pos in range(1, rng.choices([1, 2, 3], [80, 14, 6])[0] + 1):
        qty = rng.choice([1, 1, 1, 2, 3, 5, 10, 12])
        scale = 1 if currency == "CNY" else 7  # foreign-currency invoices are smaller in units
        unit_price = int(rng.lognormvariate(12.5, 1.0) // scale) // 100 * 100 + 100
        tax_bp = rng.choice([1300, 1300, 600, 900]) if not english else rng.choice([0, 1300])
        amount = qty * unit_price
        tax = (amount * tax_bp + 5000) // 10000
        lines.append({"pos": pos, "description": rng.choice(_ITEMS_EN if english else _ITEMS_ZH), "qty": str(qty),
                      "unit_price": unit_price, "tax_bp": tax_bp, "amount": amount, "tax": tax})
    return lines


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
    new_id = _Ids(rng, int(datetime(start.year, start.month, start.day, tzinfo=timezone.utc).timestamp() * 1000))
    prefix = ledger.meta("series_prefix") or "D1"
    book = _customers(rng, customers, new_id)
    counts = {"customers": len(book), "invoices": 0, "payments": 0, "allocations": 0, "credit_notes": 0,
              "writeoffs": 0, "voids": 0}

    # A fresh book: each page written once (db.rollback_journal), the settlement cache rebuilt once and checked.
    with db.rollback_journal(ledger.conn), ledger.writing() as tx, schema.doc_state_suspended(ledger.conn):
        _build(ledger, tx, rng, book, counts, customers=customers, invoices=invoices, today=today, start=start,
               new_id=new_id, prefix=prefix, progress=progress)
    return counts


def _build(ledger, tx, rng, book, counts, *, customers, invoices, today, start, new_id, prefix, progress) -> None:
    """The book, posted in the open write `tx`."""
    for c in book:
        tx.set("customers", c.id, code=c.code, name=c.name, currency=c.currency, terms=c.terms,
               language="en" if c.name.isascii() else "zh",
               category={"prompt": "A", "late": "B", "partial": "C", "bad": "风险"}[c.kind],
               settlement_cycle="monthly" if c.terms == "EOM30" else "per_order", archived=0)
    tx.set("settings", "currency", value="CNY")

    # Invoice dates spread over two years, in date order so numbers rise with dates.
    weights = [c.weight for c in book]
    picks = rng.choices(range(len(book)), weights, k=invoices)
    dates = sorted(start + timedelta(days=rng.randrange(730)) for _ in range(invoices))
    pending: list[tuple] = []  # (table, id, fields) waiting for the next executemany
    credits = 0
    voidable: list[tuple[str, str]] = []  # (invoice id, date) of recent unpaid invoices

    def flush():
        nonlocal pending
        if pending:
            by_table: dict[str, list] = {}
            for table, row_id, fields in pending:
                by_table.setdefault(table, []).append((row_id, fields))
            for table, rows in by_table.items():  # first seen first: invoices before what refers to them
                tx.events(table, rows)
            tx.seal_if_full()
            pending = []

    def post(table: str, fields: dict) -> str:
        row_id = new_id()
        pending.append((table, row_id, fields))
        if table in counts:
            counts[table] += 1
        if table in ("payments", "writeoffs"):  # numbered in the device's series, as the store numbers them
            fields["number"] = NUMBER_TEMPLATES[table].format(prefix=prefix, n=counts[table])
        return row_id

    for n, (pick, inv_date) in enumerate(zip(picks, dates), start=1):
        c = book[pick]
        english = c.name.isascii()
        lines = _lines(rng, english, c.currency)
        total = sum(line["amount"] + line["tax"] for line in lines)
        dues = instalments(BUILTIN_TERMS[c.terms], total, inv_date)
        inv = post("invoices", {
            "number": f"{prefix}-{n:06d}", "customer_id": c.id, "date": inv_date.isoformat(),
            "due_date": dues[-1][0].isoformat(), "currency": c.currency, "total": total,
            "tax": sum(line["tax"] for line in lines), "terms": c.terms, "contract": None, "einvoice": None,
            "description": lines[0]["description"]})
        for line in lines:
            post("invoice_lines", {"invoice_id": inv, **line})
        for seq, (when, amount) in enumerate(dues, start=1):
            post("due_items", {"invoice_id": inv, "seq": seq, "due_date": when.isoformat(), "amount": amount})

        open_amount = total
        if rng.random() < 0.012:  # a price reduction credited against the invoice (折让)
            credit = max(1, total * rng.choice([5, 10, 20, 100]) // 100)
            when = inv_date + timedelta(days=rng.randint(3, 25))
            if when <= today:
                credits += 1
                cn = post("credit_notes", {
                    "number": f"CN-{prefix}-{credits:06d}", "customer_id": c.id, "date": when.isoformat(),
                    "amount": credit, "currency": c.currency, "invoice_id": inv,
                    "reason": "价格折让" if not english else "price adjustment"})
                post("allocations", {"invoice_id": inv, "payment_id": None, "credit_id": cn, "amount": credit,
                                     "date": when.isoformat()})
                open_amount -= credit

        # When and how much this customer pays.
        for due_when, due_amount in dues:
            if open_amount <= 0:
                break
            late = c.late_days + int(rng.gauss(0, 6))
            if c.kind == "prompt" and rng.random() < 0.08:
                late += rng.randint(15, 60)
            pay_date = max(inv_date, due_when + timedelta(days=late))
            share = min(due_amount, open_amount) if len(dues) > 1 else open_amount
            if c.kind == "partial" and rng.random() < 0.5:
                share = share * rng.choice([30, 50, 80]) // 100
            if c.kind == "bad" and rng.random() < 0.5:
                share = 0
            if pay_date > today or share <= 0:
                continue
            over = rng.random() < 0.01  # paid a little more than asked: the rest stays unapplied
            paid = share + (rng.randint(1, 50) * 100 if over else 0)
            pay = post("payments", {
                "customer_id": c.id, "date": pay_date.isoformat(), "amount": paid, "currency": c.currency,
                "method": rng.choice(_METHODS), "reference": f"{pay_date:%Y%m%d}-{rng.randint(10, 99999)}",
                "note": None})
            post("allocations", {"invoice_id": inv, "payment_id": pay, "credit_id": None, "amount": share,
                                 "date": pay_date.isoformat()})
            open_amount -= share

        if open_amount > 0 and c.kind == "bad" and (today - inv_date).days > 400 and rng.random() < 0.5:
            when = inv_date + timedelta(days=rng.randint(365, 395))
            post("writeoffs", {"invoice_id": inv, "date": when.isoformat(), "amount": open_amount,
                               "reason": "坏账核销" if not english else "uncollectable"})
        elif open_amount == total and 20 < (today - inv_date).days < 60:
            voidable.append((inv, inv_date))

        if rng.random() < 0.004:  # money on account with no invoice named (预收款)
            when = inv_date + timedelta(days=rng.randint(0, 20))
            if when <= today:
                post("payments", {"customer_id": c.id, "date": when.isoformat(),
                                  "amount": rng.randint(10, 500) * 100, "currency": c.currency,
                                  "method": "bank_transfer", "reference": f"ON-ACCOUNT-{n}", "note": "预收款"})
        if len(pending) >= DOCS_PER_TRANSACTION:
            flush()
        if progress is not None:
            progress(n, invoices)

    # One or two invoices issued in error and voided, nothing ever paid on them.
    for inv, inv_date in voidable[: 1 + invoices // 1000 % 2]:
        post("voids", {"doc_table": "invoices", "doc_id": inv, "date": (inv_date + timedelta(days=2)).isoformat(),
                       "reason": "开错发票"})
    flush()
    for name, value in (("invoice", invoices), ("credit", credits), ("payment", counts["payments"]),
                        ("writeoff", counts["writeoffs"])):
        ledger.conn.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value=max(value, excluded.value)", (name, value))
