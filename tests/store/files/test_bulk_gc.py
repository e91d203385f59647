"""A bulk write runs Python's collector less often while it makes its rows, and only then: the app goes on after
an import in the same process, and must not keep garbage cycles longer for the rest of its life."""
from __future__ import annotations

import gc

import pytest

from store.errors import DulyError
from store.files import demo, importer
from store.ledger import db
from store.ledger.ledger import Ledger
from tests.support.cli import PASSPHRASE


@pytest.fixture
def thresholds():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # Python's own
    yield (700, 10, 10)
    gc.set_threshold(*before)


def test_the_demo_and_an_import_collect_less_while_they_write_and_as_before_after(tmp_path, thresholds):
    seen = []
    with Ledger.create(tmp_path / "demo.duly", PASSPHRASE) as led:
        demo.build(led, customers=5, invoices=30, progress=lambda done, total: seen.append(gc.get_threshold()))
        assert seen and set(seen) == {db.BULK_GC_THRESHOLDS}
        assert gc.get_threshold() == thresholds
    csv = tmp_path / "customers.csv"
    csv.write_text("code,name\nZ01,Zeta Ltd\n", encoding="utf-8")
    with Ledger.create(tmp_path / "import.duly", PASSPHRASE) as led:
        seen.clear()
        importer.run(led, csv, "customers", progress=lambda done, total: seen.append(gc.get_threshold()))
        assert seen and set(seen) == {db.BULK_GC_THRESHOLDS}
        assert gc.get_threshold() == thresholds


def test_an_import_that_fails_leaves_the_collector_as_it_was(tmp_path, thresholds):
    csv = tmp_path / "customers.csv"
    csv.write_text("code,name\n,No code\n", encoding="utf-8")
    with Ledger.create(tmp_path / "x.duly", PASSPHRASE) as led, pytest.raises(DulyError):
        importer.run(led, csv, "customers")
    assert gc.get_threshold() == thresholds
