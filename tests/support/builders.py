"""Test builders that post documents straight through the event API, following the shared contract, so the
read side is tested without the write-side commands. Amounts are minor units; dates 'YYYY-MM-DD'."""
from __future__ import annotations

from store.ledger.ids import uuid7


class Book:
    def __init__(self, ledger):
        self.ledger = ledger
        self.n = 0

    def customer(self, code: str, name: str | None = None, currency: str = "CNY") -> str:
        cid = uuid7()
        with self.ledger.writing() as tx:
            tx.set("customers", cid, code=code, name=name or f"客户 {code}", currency=currency, archived=0)
        return cid

    def invoice(self, customer: str, date: str, total: int, *, due: str | list[tuple[str, int]] | None = None,
                currency: str = "CNY", number: str | None = None, terms: str | None = None) -> str:
        """due: one due date, or a list of (due date, amount) instalments summing to total."""
        self.n += 1
        schedule = due if isinstance(due, list) else [(due or date, total)]
        assert sum(a for _, a in schedule) == total
        with self.ledger.writing() as tx:
            iid = tx.event("invoices", number=number or f"T1-{self.n:06d}", customer_id=customer, date=date,
                           due_date=schedule[-1][0], currency=currency, total=total, tax=0,
                           terms=terms if terms is not None else ("30/70" if len(schedule) > 1 else "NET30"),
                           contract=None, einvoice=None, description="test")
            tx.event("invoice_lines", invoice_id=iid, pos=1, description="test", qty="1", unit_price=total,
                     tax_bp=0, amount=total, tax=0)
            for seq, (when, amount) in enumerate(schedule, start=1):
                tx.event("due_items", invoice_id=iid, seq=seq, due_date=when, amount=amount)
        return iid

    def payment(self, customer: str, date: str, amount: int, allocate: dict[str, int] | None = None,
                currency: str = "CNY", reference: str = "ref") -> str:
        with self.ledger.writing() as tx:
            pid = tx.event("payments", customer_id=customer, date=date, amount=amount, currency=currency,
                           method="bank_transfer", reference=reference, note=None)
            for invoice, part in (allocate or {}).items():
                tx.event("allocations", invoice_id=invoice, payment_id=pid, credit_id=None, amount=part, date=date)
        return pid

    def allocate(self, invoice: str, date: str, amount: int, *, payment: str | None = None,
                 credit: str | None = None) -> str:
        with self.ledger.writing() as tx:
            return tx.event("allocations", invoice_id=invoice, payment_id=payment, credit_id=credit, amount=amount,
                            date=date)

    def credit(self, customer: str, date: str, amount: int, invoice: str | None = None, applied: int | None = None,
               currency: str = "CNY") -> str:
        self.n += 1
        with self.ledger.writing() as tx:
            cid = tx.event("credit_notes", number=f"CN-T1-{self.n:06d}", customer_id=customer, date=date,
                           amount=amount, currency=currency, invoice_id=invoice, reason="test")
            if invoice:
                tx.event("allocations", invoice_id=invoice, payment_id=None, credit_id=cid,
                         amount=amount if applied is None else applied, date=date)
        return cid

    def writeoff(self, invoice: str, date: str, amount: int) -> str:
        with self.ledger.writing() as tx:
            return tx.event("writeoffs", invoice_id=invoice, date=date, amount=amount, reason="test")

    def void_invoice(self, invoice: str, date: str) -> str:
        with self.ledger.writing() as tx:
            return tx.event("voids", doc_table="invoices", doc_id=invoice, date=date, reason="test")

    def void_payment(self, payment: str, date: str) -> str:
        """Void a payment and reverse each of its net allocations, dated the void date (contract)."""
        with self.ledger.writing() as tx:
            for invoice, net in self.ledger.conn.execute(
                "SELECT invoice_id, sum(amount) FROM allocations WHERE payment_id=? GROUP BY invoice_id", (payment,)
            ).fetchall():
                if net:
                    tx.event("allocations", invoice_id=invoice, payment_id=payment, credit_id=None, amount=-net,
                             date=date)
            return tx.event("voids", doc_table="payments", doc_id=payment, date=date, reason="test")


def reports_book(ledger) -> Book:
    """The book the report and statement tests work out by hand (tests/store/read). Customer A: partial
    payments, instalments, a credit note, a write-off, a void, unapplied cash, and an allocation dated after the
    as-of dates. Customer B: a payment that was voided."""
    b = Book(ledger)
    a = b.customer("A", "上海恒达贸易有限公司")
    i1 = b.invoice(a, "2026-01-10", 100000, due="2026-02-09")
    i2 = b.invoice(a, "2026-02-01", 50000, due=[("2026-02-01", 15000), ("2026-04-02", 35000)])
    i3 = b.invoice(a, "2026-03-01", 20000, due="2026-03-31")
    b.void_invoice(i3, "2026-03-05")
    b.payment(a, "2026-02-20", 60000, {i1: 60000})
    b.payment(a, "2026-03-15", 30000, {i2: 20000})  # 10000 stays unapplied
    b.credit(a, "2026-03-20", 5000, invoice=i1)
    b.writeoff(i1, "2026-05-01", 10000)
    p3 = b.payment(a, "2026-07-05", 10000)
    b.allocate(i1, "2026-07-05", 10000, payment=p3)
    bb = b.customer("B", "Northwind Trading Ltd")
    i4 = b.invoice(bb, "2026-01-01", 10000, due="2026-01-31")
    p4 = b.payment(bb, "2026-01-15", 10000, {i4: 10000})
    b.void_payment(p4, "2026-02-10")
    b.ids = {"i1": i1, "i2": i2, "i3": i3, "a": a, "b": bb}
    return b
