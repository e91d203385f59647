"""A contract ended early on one device and cancelled on another, before they sync: every device ends with one of
the two, whole (its status, day and reason together), never the status of one with the day or reason of the
other."""
from __future__ import annotations

import pytest

from store.ledger.ledger import Ledger
from store.write import collections, customers
from sync import client
from tests.support.cli import PASSPHRASE
from tests.support.sync_server import running_server
from tests.support.sync_team import second_device


@pytest.fixture
def server(tmp_path):
    with running_server("sqlite", tmp_path) as backend:
        yield backend


def _sync(led: Ledger) -> None:
    session = client.Sync(led)
    try:
        session.now()
    finally:
        session.close()


def _closing(led: Ledger) -> tuple:
    row = led.row("SELECT status, ended_on, end_reason FROM contracts WHERE number = 'HT-1'")
    return row["status"], row["ended_on"], row["end_reason"]


def test_a_contract_ended_on_one_device_and_cancelled_on_another_is_one_or_the_other_everywhere(tmp_path, server):
    a = Ledger.create(tmp_path / "a.duly", PASSPHRASE, actor="a")
    try:
        customers.add(a, "HD", "上海恒达贸易有限公司")
        collections.add_contract(a, "HD", "HT-1", "2026-01-05", start="2026-02-01", end="2026-12-31")
        b = second_device(a, server.url, tmp_path / "b.duly")
        try:
            collections.end_contract(a, "HD", "HT-1", "2026-06-30", "客户停业")
            collections.cancel_contract(b, "HD", "HT-1", "签错", on="2026-03-01")
            for led in (a, b, a):
                _sync(led)
            assert _closing(a) == _closing(b)
            assert _closing(a) in {("ended", "2026-06-30", "客户停业"), ("cancelled", "2026-03-01", "签错")}
        finally:
            b.close()
    finally:
        a.close()
