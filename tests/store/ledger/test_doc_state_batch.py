"""The settlement cache (doc_state) after bulk writes: a bulk post refreshes the documents it touched once per batch
(the row-by-row triggers are off while doc_state_batch holds rows), a payments import once at its end
(schema.doc_state_deferred), and both leave exactly what a rebuild from the documents gives; every other path (one
document at a time, remote changes, a bare connection) keeps it right too."""
from __future__ import annotations

import csv

import pytest
import sqlcipher3

from store.files import exporter, importer
from store.ledger import changes, ledger as ledger_module, schema
from store.ledger.ledger import Ledger
from store.write import adjustments, customers, invoices, payments, terms
from tests.support.cli import PASSPHRASE

ORDER = ("terms", "customers", "invoices", "payments", "credit_notes", "writeoffs", "voids")


def _book(ledger) -> None:
    terms.add(ledger, "HALF", ["40%:days_after:10", "balance:days_after:40"])
    customers.add(ledger, "A01", "恒达贸易有限公司", currency="CNY", terms="HALF")
    customers.add(ledger, "B02", "Bluepeak Ltd", currency="USD")
    customers.add(ledger, "C03", "Crescent GmbH", currency="CNY", terms="NET60")
    for k in range(12):
        invoices.add(ledger, ("A01", "B02", "C03")[k % 3], f"2026-01-{k + 2:02d}",
                     lines=[f"货物 {k}:2:{100 + k}.00:13%", "运输:1:30.00"])
    a = [r["number"] for r in ledger.rows("SELECT number FROM invoices ORDER BY number")]
    payments.add(ledger, "A01", "2026-01-25", "500.00")
    payments.add(ledger, "A01", "2026-02-25", "120.00", allocate=[f"{a[9]}=100.00"])
    payments.add(ledger, "B02", "2026-02-20", "400.00", method_name="wire", reference="SWIFT-1")
    payments.add(ledger, "C03", "2026-03-01", "250.00", auto=False)
    adjustments.add_credit(ledger, "A01", "2026-02-05", "10.00", "价格折让", invoice_number=a[6])
    adjustments.add_credit(ledger, "C03", "2026-02-28", "60.00", "goodwill")
    adjustments.write_off(ledger, a[8], "2026-03-10", "uncollectable", amount="20.00")
    invoices.void(ledger, a[11], "issued in error", "2026-02-22")


def _export(tmp_path) -> dict[str, object]:
    """The book as `duly export csv` writes it, and a payments file without invoices (allocated oldest due first)."""
    with Ledger.create(tmp_path / "old.duly", PASSPHRASE, actor="tester") as old:
        _book(old)
        exporter.export_csv(old, tmp_path / "out")
    files = {kind: tmp_path / "out" / f"{kind}.csv" for kind in ORDER}
    with files["payments"].open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    auto = tmp_path / "out" / "payments-auto.csv"
    with auto.open("w", encoding="utf-8", newline="") as fh:
        out = csv.DictWriter(fh, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerows({**row, "invoice": ""} for row in rows)
    files["payments"] = auto
    return files


def _doc_state(ledger) -> list[tuple]:
    return ledger.conn.execute(f"SELECT {', '.join(schema.DOC_STATE_COLUMNS)} FROM doc_state ORDER BY id").fetchall()


def _fresh(ledger) -> list[tuple]:
    return sorted(ledger.conn.execute(" UNION ALL ".join(schema.DOC_STATE.values())).fetchall())


def _posted_through_set_refresh(monkeypatch) -> list[set]:
    """Every set of documents refreshed at once (so a test knows the batch path ran): by a bulk write, or at the
    end of the writes whose refresh was deferred (a payments import)."""
    seen = []
    real = schema.refresh_listed

    def spy(db, chunk=None):
        seen.append(set(db.execute("SELECT kind, id FROM doc_state_batch WHERE kind != '*'").fetchall()))
        return real(db, chunk)

    monkeypatch.setattr(schema, "refresh_listed", spy)
    return seen


def test_a_bulk_import_of_every_kind_leaves_the_cache_a_rebuild_would_make(tmp_path, monkeypatch):
    files = _export(tmp_path)
    monkeypatch.setattr(importer, "BATCH_ROWS", 4)  # several batches in the one transaction
    monkeypatch.setattr(ledger_module, "OPS_PER_ENVELOPE", 10)  # and several envelopes
    refreshed = _posted_through_set_refresh(monkeypatch)
    with Ledger.create(tmp_path / "new.duly", PASSPHRASE, actor="tester") as new:
        for kind in ORDER:
            importer.run(new, files[kind], kind)
            assert schema.settled_cache_problems(new.conn) == [], kind
            assert _doc_state(new) == _fresh(new), kind
            assert new.conn.execute("SELECT count(*) FROM doc_state_batch").fetchone()[0] == 0
        kinds = {kind for docs in refreshed for kind, _ in docs}
        assert kinds == {"invoice", "payment"}  # invoices and payments (with their allocations) went in batches
        counts = new.row("SELECT (SELECT count(*) FROM invoices) AS i, (SELECT count(*) FROM payments) AS p, "
                         "(SELECT count(*) FROM allocations) AS a, (SELECT count(*) FROM credit_notes) AS n, "
                         "(SELECT count(*) FROM writeoffs) AS w, (SELECT count(*) FROM voids) AS v")
        assert counts == {"i": 12, "p": 4, "a": counts["a"], "n": 2, "w": 1, "v": 1} and counts["a"] >= 4
        assert len(new.rows("SELECT id FROM doc_state WHERE settled_on IS NOT NULL AND kind='invoice'")) >= 2
        assert changes.verify(new.conn) == []


def test_after_a_bulk_write_the_triggers_keep_the_cache_right_one_document_at_a_time(tmp_path):
    files = _export(tmp_path)
    with Ledger.create(tmp_path / "new.duly", PASSPHRASE, actor="tester") as new:
        for kind in ORDER[:4]:
            importer.run(new, files[kind], kind)
        a = [r["number"] for r in new.rows("SELECT number FROM invoices ORDER BY number")]
        payments.add(new, "B02", "2026-03-02", "50.00")
        adjustments.add_credit(new, "C03", "2026-03-03", "15.00", "折让", invoice_number=a[5])
        adjustments.write_off(new, a[7], "2026-03-04", "bad debt", amount="5.00")
        invoices.void(new, a[10], "wrong customer", "2026-03-05")
        paid = new.row("SELECT number FROM payments ORDER BY date, number LIMIT 1")["number"]
        payments.void(new, paid, "bounced", "2026-03-06")
        assert schema.settled_cache_problems(new.conn) == []
        assert _doc_state(new) == _fresh(new)


def test_a_bulk_write_that_fails_leaves_the_cache_and_the_switch_as_they_were(tmp_path):
    with Ledger.create(tmp_path / "x.duly", PASSPHRASE, actor="tester") as led:
        customers.add(led, "A01", "Alpha", currency="CNY")
        invoices.add(led, "A01", "2026-01-05", amount="100.00")
        before = _doc_state(led)
        batch = [{"customer_code": "A01", "invoice_date": "2026-01-06", "amount": "10.00"},
                 {"customer_code": "A01", "invoice_date": "2026-01-07", "amount": "20.00"}]
        with pytest.raises(RuntimeError):
            with led.writing() as tx:
                invoices.add_many(led, batch)
                tx.events("allocations", [("x1", {"invoice_id": "nope", "amount": 1, "date": "2026-01-08"})])
                raise RuntimeError("stop")
        assert _doc_state(led) == before
        assert led.conn.execute("SELECT count(*) FROM doc_state_batch").fetchone()[0] == 0
        invoices.add(led, "A01", "2026-01-09", amount="30.00")  # the triggers work again
        assert schema.settled_cache_problems(led.conn) == [] and len(_doc_state(led)) == 2


def test_a_connection_opened_without_dulys_setup_still_keeps_the_cache(tmp_path):
    """The switch is a table, not a function registered by store.ledger.db: a bare SQLCipher connection (a tool,
    an older helper script) posting a row runs the same triggers."""
    path = tmp_path / "x.duly"
    with Ledger.create(path, PASSPHRASE, actor="tester") as led:
        customers.add(led, "A01", "Alpha", currency="CNY")
        issued = invoices.add(led, "A01", "2026-01-05", amount="100.00")
    conn = sqlcipher3.connect(str(path), isolation_level=None)
    try:
        conn.execute(f"PRAGMA key = '{PASSPHRASE}'")
        conn.execute("INSERT INTO allocations (id, invoice_id, payment_id, amount, date) "
                     "VALUES ('a1', ?, NULL, 10000, '2026-01-09')", (issued.id,))
    finally:
        conn.close()
    with Ledger.open(path, PASSPHRASE) as led:
        assert led.row("SELECT settled_on, open_all FROM doc_state WHERE id=?", (issued.id,)) == {
            "settled_on": "2026-01-09", "open_all": 0}
        assert schema.settled_cache_problems(led.conn) == []


def test_a_payments_import_refreshes_what_it_touched_once_at_its_end(tmp_path, monkeypatch):
    files = _export(tmp_path)
    monkeypatch.setattr(importer, "BATCH_ROWS", 1)  # a batch per payment: four bulk writes
    with Ledger.create(tmp_path / "new.duly", PASSPHRASE, actor="tester") as new:
        for kind in ("terms", "customers", "invoices"):
            importer.run(new, files[kind], kind)
        before = _doc_state(new)
        refreshed = _posted_through_set_refresh(monkeypatch)
        seen_during = []
        monkeypatch.setattr(importer, "_post", _spying(importer._post, lambda: seen_during.append(_doc_state(new))))
        importer.run(new, files["payments"], "payments")
        paid = {("invoice", i) for (i,) in new.conn.execute("SELECT DISTINCT invoice_id FROM allocations")}
        payments_made = {("payment", p) for (p,) in new.conn.execute("SELECT id FROM payments")}
        assert len(payments_made) == 4 and len(paid) >= 4
        assert refreshed == [paid | payments_made]  # once, every document the import touched, nothing else
        assert seen_during == [before] * 4  # the cache stood aside meanwhile (no per-row trigger, no batch refresh)
        assert _doc_state(new) == _fresh(new) and schema.settled_cache_problems(new.conn) == []
        assert new.conn.execute("SELECT count(*) FROM doc_state_batch").fetchone()[0] == 0


def test_a_single_write_inside_a_deferred_refresh_is_kept_by_the_triggers(tmp_path):
    with Ledger.create(tmp_path / "l.duly", PASSPHRASE, actor="tester") as led:
        _book(led)
        a = [r["number"] for r in led.rows("SELECT number FROM invoices ORDER BY number")]
        with led.writing():
            with schema.doc_state_deferred(led.conn):
                payments.add_many(led, [{"customer_code": "C03", "paid_on": "2026-03-02", "amount": "50.00"}],
                                  payments.Paying(led))  # to a[2], oldest due first
                adjustments.write_off(led, a[5], "2026-03-03", "small balance")  # one by one: the triggers
                assert led.row("SELECT open_all FROM doc_state WHERE number = ?", (a[5],)) == {"open_all": 0}
            assert _doc_state(led) == _fresh(led)
        assert schema.settled_cache_problems(led.conn) == []


def test_a_deferred_refresh_is_made_when_a_write_inside_fails_and_not_when_it_is_interrupted(tmp_path, monkeypatch):
    pay = [{"customer_code": "C03", "paid_on": "2026-03-02", "amount": "50.00"}]
    with Ledger.create(tmp_path / "l.duly", PASSPHRASE, actor="tester") as led:
        _book(led)
        paid_before = led.conn.execute("SELECT count(*) FROM payments").fetchone()[0]
        with led.writing():
            with pytest.raises(ValueError):  # the caller goes on after the failure, and commits
                with schema.doc_state_deferred(led.conn):
                    payments.add_many(led, pay, payments.Paying(led))
                    raise ValueError("a later row failed")
            assert _doc_state(led) == _fresh(led)  # the payment posted before it is in the cache
        refreshed = _posted_through_set_refresh(monkeypatch)
        with pytest.raises(KeyboardInterrupt):
            with led.writing():
                with schema.doc_state_deferred(led.conn):
                    payments.add_many(led, pay, payments.Paying(led))
                    raise KeyboardInterrupt
        assert refreshed == []  # ctrl+c: rolled back, nothing computed for it first
        assert led.conn.execute("SELECT count(*) FROM payments").fetchone()[0] == paid_before + 1
        assert _doc_state(led) == _fresh(led) and schema.settled_cache_problems(led.conn) == []


def _spying(real, then):
    def spy(*args, **kw):
        result = real(*args, **kw)
        then()
        return result
    return spy


def test_remote_changes_applied_as_a_batch_give_the_cache_of_the_device_that_wrote_them(tmp_path, monkeypatch):
    files = _export(tmp_path)
    monkeypatch.setattr(importer, "BATCH_ROWS", 5)
    with Ledger.create(tmp_path / "a.duly", PASSPHRASE, actor="tester") as a, \
            Ledger.create(tmp_path / "b.duly", PASSPHRASE, actor="tester") as b:
        for kind in ORDER:
            importer.run(a, files[kind], kind)
        log = [changes.row_to_change(r) for r in a.conn.execute(
            "SELECT device, device_seq, hlc, actor, at, ops FROM changes ORDER BY device, device_seq")]
        refreshed = _posted_through_set_refresh(monkeypatch)
        half = len(log) // 2
        assert b.apply_remote_batch(log[:half]) == half
        assert b.apply_remote_batch(log) == len(log) - half  # those already applied are skipped
        assert refreshed and all(refreshed)
        assert schema.settled_cache_problems(b.conn) == []
        assert _doc_state(b) == _doc_state(a)


def test_the_migration_adds_the_switch_to_a_ledger_written_before_it(tmp_path):
    path = tmp_path / "old.duly"
    with Ledger.create(path, PASSPHRASE, actor="tester") as led:
        customers.add(led, "A01", "Alpha", currency="CNY")
        issued = invoices.add(led, "A01", "2026-01-05", amount="100.00")
        for table in schema._DOC_STATE_TRIGGERS:  # the triggers as the version before made them
            led.conn.execute(f"DROP TRIGGER {table}_settled")
        schema._create_doc_state_triggers(led.conn, switch=False)
        led.conn.execute("DROP TABLE doc_state_batch")
        led.conn.execute(f"PRAGMA user_version = {schema.MIGRATIONS.index(schema._v_doc_state_batch)}")
    with Ledger.open(path, PASSPHRASE) as led:
        assert schema.version(led.conn) == schema.VERSION
        sql = [r[0] for r in led.conn.execute("SELECT sql FROM sqlite_master WHERE type='trigger'")]
        assert len(sql) == 6 and all("WHEN NOT EXISTS (SELECT 1 FROM doc_state_batch)" in s for s in sql)
        payments.add(led, "A01", "2026-01-20", "40.00")
        with led.writing():
            payments.add_many(led, [{"customer_code": "A01", "paid_on": "2026-01-21", "amount": "60.00"}],
                              payments.Paying(led))
        assert led.row("SELECT settled_on FROM doc_state WHERE id=?", (issued.id,)) == {"settled_on": "2026-01-21"}
        assert schema.settled_cache_problems(led.conn) == []
