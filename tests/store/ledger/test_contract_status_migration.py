"""The migration that lets a contract end early or be cancelled: a ledger written before it keeps its contracts,
which stand as they did (in force between their start and end), and can then be ended through the change log."""
from __future__ import annotations

from store.ledger import schema
from store.ledger.ledger import Ledger
from store.write import collections, customers
from tests.support.cli import PASSPHRASE


def test_contracts_recorded_before_the_upgrade_stand_as_before_and_can_then_end(tmp_path):
    path = tmp_path / "old.duly"
    with Ledger.create(path, PASSPHRASE, actor="tester") as ledger:
        customers.add(ledger, "HD", "上海恒达贸易有限公司")
        collections.add_contract(ledger, "HD", "HT-1", "2025-01-05", start="2025-02-01", end="2026-12-31")
        for col in ("status", "ended_on", "end_reason"):  # as a ledger written before the columns existed
            ledger.conn.execute(f"ALTER TABLE contracts DROP COLUMN {col}")
        ledger.conn.execute(f"PRAGMA user_version = {schema.MIGRATIONS.index(schema._v_contract_status)}")
    with Ledger.open(path, PASSPHRASE) as ledger:
        assert schema.version(ledger.conn) == schema.VERSION
        (k,) = collections.list_contracts(ledger, "HD", "2026-03-01")
        assert (k["status"], k["state"], k["last_day"]) == (None, "in_force", "2026-12-31")
        collections.end_contract(ledger, "HD", "HT-1", "2026-03-31", "停业")
    with Ledger.open(path, PASSPHRASE) as ledger:
        (k,) = collections.list_contracts(ledger, "HD", "2026-04-01")
        assert (k["status"], k["ended_on"], k["end_reason"], k["state"]) == ("ended", "2026-03-31", "停业", "ended")
        assert schema.migrate(ledger.conn) == schema.VERSION  # run again: nothing to do, nothing breaks
