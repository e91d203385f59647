"""Bulk work: a payment that names its invoices reads only those invoices, and allocates exactly as when every
invoice of the customer was read."""
from __future__ import annotations

import contextlib
import json
import random
from datetime import date, timedelta

import pytest

from store.errors import DulyError
from store.ledger.ledger import Ledger
from store.read import open as openitems
from store.write import adjustments, customers, invoices, payments
from tests.support.cli import PASSPHRASE


def _day(k: int) -> str:
    return (date(2026, 1, 1) + timedelta(days=k)).isoformat()


def _random_book(ledger, rng: random.Random) -> list[tuple[str, str, str]]:
    """Two customers, invoices in two currencies (some in instalments), paid in part, credited, written off and
    voided at random dates. Returns [(invoice id, customer id, currency)]."""
    ids = {code: customers.add(ledger, code, f"Customer {code}", currency="CNY") for code in "AB"}
    made = []
    for _ in range(24):
        code, cur = rng.choice("AB"), rng.choice(["CNY", "CNY", "USD"])
        issued = invoices.add(ledger, code, _day(rng.randrange(60)), amount=f"{rng.randrange(100, 3000)}.00",
                              terms=rng.choice(["NET30", "30/70"]), currency=cur)
        made.append((issued.id, ids[code], cur, issued.number, code))
    for _ in range(30):
        _, _, cur, number, code = rng.choice(made)
        action = rng.random()
        with contextlib.suppress(DulyError):  # a random action may be refused (nothing open, money applied)
            if action < 0.55:
                payments.add(ledger, code, _day(rng.randrange(20, 150)), f"{rng.randrange(50, 2500)}.00",
                             currency=cur)
            elif action < 0.7:
                payments.add(ledger, code, _day(rng.randrange(40, 150)), f"{rng.randrange(10, 500)}.00",
                             currency=cur, allocate=[f"{number}={rng.randrange(10, 400)}.00"])
            elif action < 0.8:
                adjustments.add_credit(ledger, code, _day(rng.randrange(30, 150)), f"{rng.randrange(10, 300)}.00",
                                       "price adjustment", invoice_number=number, currency=cur)
            elif action < 0.9:
                adjustments.write_off(ledger, number, _day(rng.randrange(60, 160)), "uncollectable")
            else:
                invoices.void(ledger, number, "issued in error", _day(rng.randrange(60, 160)))
    return [(iid, cid, cur) for iid, cid, cur, _, _ in made]


@pytest.mark.parametrize("seed", range(8))
def test_the_items_of_named_invoices_are_the_customers_items_of_those_invoices(ledger, seed):
    rng = random.Random(seed)
    made = _random_book(ledger, rng)
    for cid, cur in sorted({(c, k) for _, c, k in made}):
        for on in [_day(k) for k in (0, 25, 45, 70, 100, 130, 170)] + [openitems.END]:
            every = openitems.allocatable_items(ledger, cid, cur, on)
            for _ in range(4):
                # any invoices: the customer's own in this currency, and others that must not appear
                named = [iid for iid, _, _ in rng.sample(made, rng.randrange(1, 6))]
                want = [it for it in every if it.invoice_id in named]
                assert openitems.allocatable_items(ledger, cid, cur, on, named) == want
            assert openitems.allocatable_items(ledger, cid, cur, on, []) == []


def test_an_import_naming_invoices_allocates_exactly_what_it_names(cli, tmp_path):
    assert cli("init").code == 0
    with Ledger.open(cli.path, PASSPHRASE) as ledger:
        customers.add(ledger, "HD001", "Hengda", currency="CNY")
        for k in range(1, 41):  # a customer with a history: the named invoices are read, not all forty
            invoices.add(ledger, "HD001", _day(k), amount="100.00", number=f"F-{k}", terms="NET30")
    src = tmp_path / "pay.csv"
    src.write_text("customer,date,amount,invoice\n"
                   "HD001,2026-03-01,100.00,F-40\n"                 # the newest, though older ones are open
                   "HD001,2026-03-02,130.00,F-20=60;F-7=70\n"       # split, keeping 0 unapplied
                   "HD001,2026-03-03,50.00,F-20=40\n"               # the rest of F-20, 10 unapplied
                   "HD001,2026-03-04,150.00,\n", encoding="utf-8")  # oldest due first: F-1, half of F-2
    result = cli("import", "payments", src)
    assert result.code == 0, result.err
    with Ledger.open(cli.path, PASSPHRASE) as ledger:
        got = {(r["date"], r["number"]): r["amount"] for r in ledger.rows(
            "SELECT a.date, i.number, a.amount FROM allocations a JOIN invoices i ON i.id = a.invoice_id")}
        left = {r["number"]: openitems.invoice_open(ledger, r["id"]) for r in ledger.rows(
            "SELECT id, number FROM invoices")}
    assert got == {("2026-03-01", "F-40"): 100_00, ("2026-03-02", "F-20"): 60_00, ("2026-03-02", "F-7"): 70_00,
                   ("2026-03-03", "F-20"): 40_00, ("2026-03-04", "F-1"): 100_00, ("2026-03-04", "F-2"): 50_00}
    assert (left["F-40"], left["F-20"], left["F-7"], left["F-1"], left["F-2"], left["F-3"]) == (0, 0, 30_00, 0,
                                                                                               50_00, 100_00)
    late = tmp_path / "late.csv"
    late.write_text("customer,date,amount,invoice\nHD001,2026-03-05,1.00,F-40\n", encoding="utf-8")
    refused = cli("import", "payments", late)
    assert refused.code == 1 and "F-40" in refused.err and "open amount 0.00" in refused.err


def test_a_big_import_is_several_envelopes_of_bounded_size_in_one_transaction(cli, tmp_path, monkeypatch):
    from store.ledger import changes, ledger as ledger_module

    monkeypatch.setattr(ledger_module, "OPS_PER_ENVELOPE", 10)  # 10 operations an envelope: 60 rows -> several
    assert cli("init").code == 0
    src = tmp_path / "customers.csv"
    src.write_text("code,name\n" + "".join(f"K{k:03d},Customer {k}\n" for k in range(60)), encoding="utf-8")
    with Ledger.open(cli.path, PASSPHRASE) as ledger:
        before = ledger.conn.execute("SELECT count(*) FROM changes").fetchone()[0]
    assert cli("import", "customers", src).code == 0
    with Ledger.open(cli.path, PASSPHRASE) as ledger:
        entries = ledger.rows("SELECT device_seq, hlc, ops FROM changes ORDER BY seq")[before:]
        assert changes.verify(ledger.conn) == []
        assert len(ledger.rows("SELECT * FROM customers")) == 60
    assert len(entries) > 3 and all(len(json.loads(e["ops"])) < 10 + 6 for e in entries)
    assert [e["device_seq"] for e in entries] == list(range(entries[0]["device_seq"],
                                                            entries[0]["device_seq"] + len(entries)))
    ops = [op for e in entries for op in json.loads(e["ops"])]
    assert {op["id"] for op in ops if op["t"] == "customers"} == {
        r["id"] for r in Ledger.open(cli.path, PASSPHRASE).rows("SELECT id FROM customers")}


def test_a_bulk_import_of_several_envelopes_that_fails_on_its_last_row_writes_nothing(cli, tmp_path, monkeypatch):
    from store.files import importer
    from store.ledger import ledger as ledger_module

    monkeypatch.setattr(ledger_module, "OPS_PER_ENVELOPE", 10)
    monkeypatch.setattr(importer, "BATCH_ROWS", 7)  # several batches, each written before the next is read
    post = importer.post_customer

    def post_then_fail(ledger, doc, **kw):
        if doc.key == "K059":  # a rule of the store found while writing, after several envelopes were appended
            raise DulyError("refused by the store")
        return post(ledger, doc, **kw)

    monkeypatch.setattr(importer, "post_customer", post_then_fail)
    assert cli("init").code == 0
    with Ledger.open(cli.path, PASSPHRASE) as ledger:
        before = ledger.conn.execute("SELECT count(*) FROM changes").fetchone()[0]
    src = tmp_path / "customers.csv"
    src.write_text("code,name\n" + "".join(f"K{k:03d},Customer {k}\n" for k in range(60)), encoding="utf-8")
    failed = cli("import", "customers", src)
    assert failed.code == 1 and "line 61" in failed.err and "refused by the store" in failed.err
    with Ledger.open(cli.path, PASSPHRASE) as ledger:
        assert ledger.conn.execute("SELECT count(*) FROM changes").fetchone()[0] == before
        assert ledger.rows("SELECT * FROM customers") == []


def _fields_state(ledger) -> tuple:
    customers_ = ledger.rows("SELECT * FROM customers ORDER BY id")
    clocks = ledger.rows("SELECT tbl, row_id, col FROM field_clock ORDER BY tbl, row_id, col")
    history = ledger.rows("SELECT tbl, row_id, col, old, new FROM field_history ORDER BY id")
    return customers_, clocks, history


@pytest.mark.parametrize("seed", range(5))
def test_setting_many_fields_at_once_equals_setting_them_one_by_one(tmp_path, seed):
    rng = random.Random(seed)
    columns = ["code", "name", "email", "phone", "currency", "terms", "credit_limit", "category", "notes"]
    script = []  # transactions of set calls: (row, {column: value})
    rows = [f"0190-row-{k}" for k in range(3)]
    for _ in range(4):
        script.append([(rng.choice(rows), {c: rng.choice([None, "a", "b", 7]) for c in
                                           rng.sample(columns, rng.randrange(1, len(columns)))})
                       for _ in range(rng.randrange(1, 5))])
    states = []
    for name, batched in (("one.duly", True), ("each.duly", False)):
        with Ledger.create(tmp_path / name, PASSPHRASE, actor="tester") as ledger:
            for calls in script:
                with ledger.writing() as tx:
                    for row, fields in calls:
                        if batched:
                            tx.set("customers", row, **fields)
                        else:
                            for column, value in fields.items():
                                tx.set("customers", row, **{column: value})
            states.append(_fields_state(ledger))
            ops = [json.loads(r["ops"]) for r in ledger.rows("SELECT ops FROM changes ORDER BY seq")]
            states.append([[(o["id"], o["c"], o["v"]) for o in entry if o["t"] == "customers"] for entry in ops])
    assert states[0] == states[2] and states[1] == states[3]


def _error(fn) -> str:
    try:
        fn()
    except invoices.RowFailed as failed:
        return str(failed.error)
    except DulyError as exc:
        return str(exc)
    return "ok"


def test_a_batch_naming_invoices_reads_them_together_and_refuses_what_one_by_one_refuses(ledger):
    from store.read.openbook import OpenBook

    customers.add(ledger, "HD001", "Hengda", currency="CNY")
    customers.add(ledger, "KW002", "Kewei", currency="CNY")
    for k in range(1, 21):
        invoices.add(ledger, "HD001", _day(k), amount="100.00", number=f"F-{k}", terms="NET30")
        invoices.add(ledger, "HD001", _day(k), amount="100.00", number=f"G-{k}", terms="30/70")
        invoices.add(ledger, "KW002", _day(k), amount="100.00", number=f"H-{k}", terms="30/70")
    invoices.add(ledger, "KW002", _day(3), amount="100.00", number="K-1", terms="NET30")
    payments.add(ledger, "HD001", _day(40), "100.00", allocate=["F-5=100.00"])  # F-5 is paid
    row = {"customer_code": "HD001", "paid_on": _day(50), "amount": "100.00"}
    for allocate, refused in ((["F-404=10.00"], "unknown invoice 'F-404'"),
                              (["K-1=10.00"], "invoice K-1 belongs to another customer"),
                              (["F-5=10.00"], "invoice F-5 has nothing open")):
        one = _error(lambda: payments.add(ledger, "HD001", _day(50), "100.00", allocate=allocate))
        with ledger.writing():  # the bulk path inside an import's write
            many = _error(lambda: payments.add_many(ledger, [{**row, "allocate": ["F-1=100.00"]},
                                                             {**row, "allocate": allocate}],
                                                    payments.Paying(ledger, OpenBook(ledger))))
        assert refused in one and one == many
    reads = []
    for first, last, others in ((6, 10, ()), (11, 20, range(11, 21))):  # five payments of one customer, then 20 of two
        statements = []
        ledger.conn.set_trace_callback(statements.append)
        with ledger.writing():
            paid = payments.add_many(ledger, [{**row, "amount": "120.00",
                                               "allocate": [f"F-{k}=100.00", f"G-{k}=20.00"]}
                                              for k in range(first, last + 1)]
                                     + [{**row, "customer_code": "KW002", "allocate": [f"H-{k}=30.00"]}
                                        for k in others],
                                     payments.Paying(ledger, OpenBook(ledger)))
        ledger.conn.set_trace_callback(None)
        assert [p.allocations for p in paid] == [[(f"F-{k}", 100_00), (f"G-{k}", 20_00)]
                                                 for k in range(first, last + 1)] + [
            [(f"H-{k}", 30_00)] for k in others]
        # (a customer's own row is read once for the whole import, where its code is first met)
        reads.append([s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))
                      and "FROM customers WHERE code" not in s])
    # the invoices named, their open amounts and instalments, and the payment numbers are read once a batch,
    # not once a payment or once a customer: four times the payments, the same reads
    assert len(reads[0]) == len(reads[1]), reads


def test_a_batch_of_payments_skips_the_numbers_already_taken_as_one_by_one_does(tmp_path):
    from store.read.openbook import OpenBook

    numbers = []
    for name, bulk in (("bulk.duly", True), ("each.duly", False)):
        with Ledger.create(tmp_path / name, PASSPHRASE, actor="tester", series="T1") as ledger:
            cid = customers.add(ledger, "HD001", "Hengda", currency="CNY")
            with ledger.writing() as tx:  # numbers of this series another device of the same series posted
                for n in (2, 3, 5):
                    tx.event("payments", customer_id=cid, date=_day(1), amount=100, currency="CNY", method="cash",
                             number=f"RC-T1-{n:06d}")
            rows = [{"customer_code": "HD001", "paid_on": _day(2), "amount": "1.00", "auto": False}] * 4
            if bulk:
                with ledger.writing():
                    paid = payments.add_many(ledger, rows, payments.Paying(ledger, OpenBook(ledger)))
            else:
                paid = [payments.add(ledger, r["customer_code"], r["paid_on"], r["amount"], auto=False) for r in rows]
            numbers.append([p.number for p in paid])
    assert numbers[0] == numbers[1] == ["RC-T1-000001", "RC-T1-000004", "RC-T1-000006", "RC-T1-000007"]


def test_the_invoices_a_batch_names_are_read_by_their_ids_not_by_scanning_the_open_ones(ledger):
    from store.read.openbook import OpenBook

    ids = [f"id-{k}" for k in range(500)]  # a chunk, as read_named asks for
    plan = " ".join(r[3] for r in ledger.conn.execute("EXPLAIN QUERY PLAN " + OpenBook._OPEN_BY_ID.format(
        marks=",".join("?" * len(ids))), ids))
    assert "PRIMARY KEY (id=?)" in plan and "doc_state_open" not in plan
