"""Property: on any book built through the event API, each aging row's buckets sum to the customer's
balance, and that balance equals one computed the naive way from the documents themselves."""
from __future__ import annotations

import tempfile
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.ledger import schema
from store.read import reports
from store.ledger.ledger import Ledger
from tests.support.builders import Book

START = date(2026, 1, 1)
CUSTOMERS = ("A", "B", "C")

action = st.tuples(
    st.integers(0, 120),  # day
    st.sampled_from(["invoice", "invoice2", "payment", "credit", "writeoff", "void_invoice", "void_payment"]),
    st.sampled_from(CUSTOMERS),
    st.integers(1, 50000),
    st.integers(0, 100),  # a share in percent / a pick
)


def naive_balance(model, customer, as_of) -> int:
    """Open invoices minus unapplied, straight from the contract's words, on the test's own records."""
    d = as_of.isoformat()
    voided = {doc for doc, when in model["voids"] if when <= d}
    owed = 0
    for inv in model["invoices"]:
        if inv["customer"] != customer or inv["date"] > d or inv["id"] in voided:
            continue
        owed += inv["total"] - sum(a for i, a, when, _ in model["allocs"] if i == inv["id"] and when <= d)
        owed -= sum(a for i, a, when in model["writeoffs"] if i == inv["id"] and when <= d)
    unapplied = 0
    for doc in model["receipts"]:
        if doc["customer"] != customer or doc["date"] > d or doc["id"] in voided:
            continue
        unapplied += doc["amount"] - sum(a for _, a, when, src in model["allocs"] if src == doc["id"] and when <= d)
    return owed - unapplied


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(action, min_size=1, max_size=25), st.lists(st.integers(0, 200), min_size=1, max_size=4))
def test_bucket_sum_equals_naive_balance(actions, as_of_days):
    with tempfile.TemporaryDirectory() as tmp, Ledger.create(Path(tmp) / "p.duly", "pw") as ledger:
        b = Book(ledger)
        ids = {code: b.customer(code) for code in CUSTOMERS}
        model = {"invoices": [], "receipts": [], "allocs": [], "writeoffs": [], "voids": []}
        open_now = defaultdict(int)  # invoice id -> open amount at the latest day posted so far

        def open_invoices(customer, day):
            return [i for i in model["invoices"] if i["customer"] == customer and i["date"] <= day
                    and open_now[i["id"]] > 0 and not i["void"]]

        for day_n, kind, customer, amount, pick in sorted(actions, key=lambda a: a[0]):
            day = (START + timedelta(days=day_n)).isoformat()
            due = (START + timedelta(days=day_n + 30)).isoformat()
            if kind in ("invoice", "invoice2"):
                if kind == "invoice2" and amount > 1:
                    first = amount * pick // 100 or 1
                    schedule = [(day, first), (due, amount - first)] if first < amount else [(due, amount)]
                else:
                    schedule = [(due, amount)]
                iid = b.invoice(ids[customer], day, amount, due=schedule)
                model["invoices"].append({"id": iid, "customer": customer, "date": day, "total": amount, "void": False})
                open_now[iid] = amount
            elif kind in ("payment", "credit"):
                targets = open_invoices(customer, day)
                allocate = {}
                left = amount * pick // 100  # part of it is applied, the rest stays unapplied
                for inv in targets:
                    take = min(left, open_now[inv["id"]])
                    if take > 0:
                        allocate[inv["id"]] = take
                        left -= take
                if kind == "payment":
                    rid = b.payment(ids[customer], day, amount, allocate)
                else:
                    rid = b.credit(ids[customer], day, amount)
                    for inv_id, part in allocate.items():
                        b.allocate(inv_id, day, part, credit=rid)
                model["receipts"].append({"id": rid, "customer": customer, "date": day, "amount": amount,
                                          "kind": kind, "void": False})
                for inv_id, part in allocate.items():
                    model["allocs"].append((inv_id, part, day, rid))
                    open_now[inv_id] -= part
            elif kind == "writeoff":
                targets = open_invoices(customer, day)
                if targets:
                    inv = targets[pick % len(targets)]
                    part = max(1, open_now[inv["id"]] * pick // 100)
                    b.writeoff(inv["id"], day, part)
                    model["writeoffs"].append((inv["id"], part, day))
                    open_now[inv["id"]] -= part
            elif kind == "void_invoice":
                # allowed only while nothing is allocated to it
                cands = [i for i in model["invoices"] if i["customer"] == customer and i["date"] <= day
                         and not i["void"] and not any(a[0] == i["id"] for a in model["allocs"])]
                if cands:
                    inv = cands[pick % len(cands)]
                    b.void_invoice(inv["id"], day)
                    inv["void"] = True
                    model["voids"].append((inv["id"], day))
            else:
                cands = [r for r in model["receipts"] if r["customer"] == customer and r["kind"] == "payment"
                         and r["date"] <= day and not r["void"]]
                if cands:
                    pay = cands[pick % len(cands)]
                    net = defaultdict(int)
                    for inv_id, part, _, src in model["allocs"]:
                        if src == pay["id"]:
                            net[inv_id] += part
                    b.void_payment(pay["id"], day)
                    for inv_id, part in net.items():
                        if part:
                            model["allocs"].append((inv_id, -part, day, pay["id"]))
                            open_now[inv_id] += part
                    pay["void"] = True
                    model["voids"].append((pay["id"], day))

        # the settlement cache kept by triggers equals a fresh computation from the documents
        assert schema.settled_cache_problems(ledger.conn) == []
        for n in as_of_days:
            as_of = START + timedelta(days=n)
            for basis in ("due", "invoice"):
                report = reports.aging(ledger, as_of, basis=basis)
                rows = {r["customer"]: r for r in report.rows}
                for code in CUSTOMERS:
                    expected = naive_balance(model, code, as_of)
                    row = rows.get(code)
                    total = row["total"] if row else 0
                    assert total == expected, (code, as_of, basis)
                    if row:
                        assert sum(row[label] for label in report.buckets) + row["unapplied"] == total
