"""A small fixed ledger for the TUI tests (zh and en names, CNY/USD/EUR, every aging bucket used)."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from store.write import customers
from store.ledger.ledger import Ledger
from tests.support.builders import Book

PASSPHRASE = "correct horse"
TODAY = date(2026, 3, 31)

CUSTOMERS = [
    # code, name, currency, credit limit, category, e-mail
    ("ACME", "Acme Trading Ltd", "USD", "50000", "A", "ap@acme.example.com"),
    ("BJ001", "北京华信科技有限公司", "CNY", "200000", "VIP", "caiwu@huaxin.example.cn"),
    ("EU01", "Nordlicht GmbH", "EUR", "30000", "B", None),
    ("GZ003", "广州德隆电子有限公司", "CNY", "50000", "风险", None),
    ("SH002", "上海明辉贸易有限公司", "CNY", "120000.50", "普通", "ar@minghui.example.cn"),
    ("SZ004", "深圳前海供应链管理有限公司", "CNY", None, "A", None),
]

# customer, days before TODAY the invoice is dated, days of credit, amount in minor units
INVOICES = [
    ("ACME", 10, 30, 1_250_000),
    ("ACME", 75, 30, 480_050),
    ("BJ001", 5, 30, 8_800_000),
    ("BJ001", 50, 30, 2_340_000),
    ("BJ001", 200, 30, 1_000_000),
    ("EU01", 40, 14, 995_000),
    ("GZ003", 120, 30, 4_560_000),
    ("GZ003", 400, 30, 1_200_000),
    ("SH002", 20, 60, 12_345_678),
    ("SH002", 95, 60, 3_000_000),
    ("SZ004", 1, 30, 66_600),
]


def make_book(path: Path, *, extra_customers: int = 0) -> Path:
    """Create the fixed book at path (plus `extra_customers` plain ones, C0001...) and return path."""
    with Ledger.create(path, PASSPHRASE, actor="tester", series="T1") as ledger:
        ids = {}
        for code, name, currency, limit, category, email in CUSTOMERS:
            fields = {"currency": currency, "category": category}
            if limit:
                fields["credit_limit"] = limit
            if email:
                fields["email"] = email
            ids[code] = customers.add(ledger, code, name, **fields)
        customers.add_contact(ledger, "BJ001", "王丽", role="财务经理", phone="010-6543 2100")
        customers.edit(ledger, "BJ001", category="A")
        customers.edit(ledger, "BJ001", category="VIP")
        if extra_customers:
            with ledger.writing() as tx:
                for n in range(1, extra_customers + 1):
                    tx.set("customers", f"extra-{n:05d}", code=f"C{n:04d}", name=f"Customer {n:04d}",
                           currency="CNY", settlement_cycle="per_order", archived=0)
        currency = {c[0]: c[2] for c in CUSTOMERS}
        with ledger.writing() as tx:
            for n, (code, age, credit, amount) in enumerate(INVOICES, 1):
                doc_date = TODAY - timedelta(days=age)
                due = doc_date + timedelta(days=credit)
                invoice = tx.event("invoices", number=f"T1-{n:06d}", customer_id=ids[code], date=doc_date.isoformat(),
                                   due_date=due.isoformat(), currency=currency[code], total=amount, tax=0,
                                   terms=f"NET{credit}", description=f"invoice {n}")
                tx.event("due_items", invoice_id=invoice, seq=1, due_date=due.isoformat(), amount=amount)
            # a part payment on BJ001's oldest invoice, and cash from SZ004 not yet applied
            payment = tx.event("payments", customer_id=ids["BJ001"], date=(TODAY - timedelta(days=30)).isoformat(),
                               amount=400_000, currency="CNY", method="bank_transfer", reference="PAY-1")
            oldest = ledger.row("SELECT id FROM invoices WHERE number='T1-000005'")["id"]
            tx.event("allocations", invoice_id=oldest, payment_id=payment, amount=400_000,
                     date=(TODAY - timedelta(days=30)).isoformat())
            tx.event("payments", customer_id=ids["SZ004"], date=(TODAY - timedelta(days=2)).isoformat(),
                     amount=10_000, currency="CNY", method="alipay", reference="ALI-9")
    return path


def add_late_payer(path) -> None:
    """LATE1 paid its last three invoices 5, 10 and 30 days after they were due."""
    with Ledger.open(path, PASSPHRASE) as ledger:
        b = Book(ledger)
        late = b.customer("LATE1", "迟付贸易有限公司")
        for number, due, paid in (("L-1", "2025-11-30", "2025-12-05"), ("L-2", "2025-12-31", "2026-01-10"),
                                  ("L-3", "2026-01-31", "2026-03-02")):
            invoice = b.invoice(late, "2025-11-01", 50_000, due=due, number=number)
            b.payment(late, paid, 50_000, {invoice: 50_000})
