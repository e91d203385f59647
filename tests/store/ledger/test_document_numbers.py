"""Human numbers for payments (RC-…), credit notes (CN-…) and write-offs (WO-…): a per-device series like
invoices; commands take the number or an unambiguous id; lists and JSON show it; older ledgers get numbers
every device computes alike; the number travels in the change log and through sync."""
from __future__ import annotations

import json
import shutil
import time
from types import SimpleNamespace

import sqlcipher3

from store.ledger import ids, schema
from store.write import adjustments, customers, invoices, payments, settings
from store.ledger.changes import Change, Op
from store.ledger.hlc import Stamp
from store.ledger.ledger import Ledger
from tests.support.cli import PASSPHRASE, assert_one_line_error


def _book(cli, series="A7"):
    assert cli("init", "--series", series).code == 0
    assert cli("customer", "add", "C1", "--name", "One").code == 0
    assert cli("invoice", "add", "--customer", "C1", "--date", "2026-01-05", "--amount", "1000").code == 0


def test_payments_get_numbers_of_the_device_series_shown_in_lists_and_json(cli):
    _book(cli)
    first = cli("payment", "add", "--customer", "C1", "--date", "2026-01-10", "--amount", "100", "--format", "json")
    assert first.json()["number"] == "RC-A7-000001"
    out = cli("payment", "add", "--customer", "C1", "--date", "2026-01-11", "--amount", "50").out
    assert "payment RC-A7-000002 recorded" in out
    listed = cli("payment", "list", "--format", "json").json()
    assert [p["number"] for p in listed] == ["RC-A7-000002", "RC-A7-000001"] and all(p["id"] for p in listed)
    table = cli("payment", "list").out
    assert table.splitlines()[0].startswith("number") and "RC-A7-000001" in table
    shown = cli("invoice", "show", "A7-000001", "--format", "json").json()
    assert {a["payment"] for a in shown["allocations"]} == {"RC-A7-000001", "RC-A7-000002"}


def test_payment_commands_take_the_number_or_an_unambiguous_id(cli, monkeypatch):
    _book(cli)
    # ids made in the same millisecond share their first 12 characters (its 48 bits, in hex)
    monkeypatch.setattr(ids, "time", SimpleNamespace(time=lambda: 1_767_225_600.0))
    made = [cli("payment", "add", "--customer", "C1", "--date", "2026-01-10", "--amount", "10", "--no-allocate",
                "--format", "json").json()["id"] for _ in range(3)]
    assert len({i[:12] for i in made}) == 1 and len(set(made)) == 3
    # a short prefix is ambiguous, the number never is
    assert_one_line_error(cli("payment", "void", made[0][:8], "--reason", "x"), 1, "ambiguous", "RC-")
    result = cli("payment", "void", "rc-a7-000002", "--reason", "bounced", "--date", "2026-01-12")
    assert result.code == 0 and "RC-A7-000002 voided" in result.out
    assert cli("payment", "void", made[2], "--reason", "twice", "--date", "2026-01-12").code == 0
    done = cli("payment", "allocate", "RC-A7-000001", "A7-000001=10", "--date", "2026-01-12")
    assert done.code == 0 and "payment RC-A7-000001" in done.out
    assert_one_line_error(cli("payment", "void", "RC-A7-000009", "--reason", "x"), 1, "unknown payment")


def test_credit_notes_and_write_offs_are_numbered_too(cli):
    _book(cli)
    credit = cli("credit", "add", "--customer", "C1", "--date", "2026-01-20", "--amount", "100", "--invoice",
                 "A7-000001", "--reason", "discount", "--format", "json").json()
    assert credit["number"] == "CN-A7-000001"
    off = cli("writeoff", "A7-000001", "--date", "2026-06-30", "--reason", "bad debt", "--format", "json").json()
    assert off["number"] == "WO-A7-000001" and off["amount"] == "900.00"
    shown = cli("invoice", "show", "A7-000001", "--format", "json").json()
    assert [w["number"] for w in shown["writeoffs"]] == ["WO-A7-000001"]
    assert "WO-A7-000001" in cli("invoice", "show", "A7-000001").out


def test_the_number_is_in_the_change_log_and_arrives_with_a_remote_payment(ledger):
    settings.put(ledger, "currency", "CNY")
    cid = customers.add(ledger, "C1", "One")
    applied = payments.add(ledger, "C1", "2026-01-10", "10")
    ops = json.loads(ledger.row("SELECT ops FROM changes ORDER BY seq DESC LIMIT 1")["ops"])
    assert ops[0]["t"] == "payments" and ops[0]["d"]["number"] == applied.number
    op = Op("event", "payments", "remote-pay-1", data={"customer_id": cid, "date": "2026-01-11", "amount": 500,
                                                        "currency": "CNY", "number": "RC-B2-000001"})
    stamp = str(Stamp(int(time.time() * 1000), 0, "remote-device"))
    assert ledger.apply_remote(Change("remote-device", 1, stamp, "bob", "2026-01-11T00:00:00.000Z", (op,)))
    assert payments.by_id(ledger, "RC-B2-000001")["id"] == "remote-pay-1"


def _downgrade(path) -> None:
    """Make a ledger look like one written before payments and write-offs had numbers."""
    conn = sqlcipher3.connect(str(path))
    conn.execute("PRAGMA key = " + "'" + PASSPHRASE.replace("'", "''") + "'")
    for table in ("payments", "writeoffs"):
        conn.execute(f"DROP INDEX {table}_number")
        conn.execute(f"ALTER TABLE {table} DROP COLUMN number")
    conn.execute(f"PRAGMA user_version = {schema.MIGRATIONS.index(schema._v_document_numbers)}")
    conn.commit()
    conn.close()


def _numbers(path) -> dict[str, str]:
    with Ledger.open(path, PASSPHRASE) as led:
        return {r["id"]: r["number"] for r in led.rows("SELECT id, number FROM payments UNION ALL "
                                                          "SELECT id, number FROM writeoffs")}


def test_an_older_ledger_numbers_its_documents_alike_on_every_device(tmp_path):
    path = tmp_path / "old.duly"
    with Ledger.create(path, PASSPHRASE, actor="tester") as led:
        settings.put(led, "currency", "CNY")
        customers.add(led, "C1", "One")
        invoices.add(led, "C1", "2026-01-05", amount="1000")
        for day in ("10", "11", "12"):
            payments.add(led, "C1", f"2026-01-{day}", "100")
        adjustments.write_off(led, invoices.listing(led)[0]["number"], "2026-06-30", "bad debt")
        device = led.device
    _downgrade(path)
    other = tmp_path / "other.duly"  # another device's copy, which has not received the last payment yet
    shutil.copyfile(path, other)
    conn = sqlcipher3.connect(str(other))
    conn.execute("PRAGMA key = " + "'" + PASSPHRASE.replace("'", "''") + "'")
    conn.execute("DELETE FROM payments WHERE id = (SELECT max(id) FROM payments)")
    conn.commit()
    conn.close()

    mine, theirs = _numbers(path), _numbers(other)
    series = device[:4].upper()
    assert sorted(mine.values()) == [f"RC-{series}-000001", f"RC-{series}-000002", f"RC-{series}-000003",
                                     f"WO-{series}-000001"]
    assert all(mine[row] == number for row, number in theirs.items())  # the same document, the same number
    with Ledger.open(path, PASSPHRASE) as led:
        assert payments.add(led, "C1", "2026-01-13", "1").number.startswith(f"RC-{led.meta('series_prefix')}-")
        assert not led.rows("SELECT 1 FROM payments WHERE number IS NULL")


def test_demo_payments_and_write_offs_have_numbers(cli, tmp_path):
    assert cli("demo", "--customers", "20", "--invoices", "300").code == 0
    with Ledger.open(cli.path, PASSPHRASE) as led:
        for table in ("payments", "writeoffs"):
            total, numbered, distinct = led.row(
                f"SELECT count(*) a, count(number) b, count(DISTINCT number) c FROM {table}").values()
            assert total == numbered == distinct
        before = led.row("SELECT count(*) n FROM payments")["n"]
        number = payments.add(led, led.row("SELECT code FROM customers LIMIT 1")["code"], "2026-01-01", "1").number
        assert number == f"RC-{led.meta('series_prefix')}-{before + 1:06d}"
