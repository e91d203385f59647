"""Fixtures of the report and statement tests."""
from __future__ import annotations

import pytest

from tests.support.builders import Book, reports_book


@pytest.fixture
def book(ledger) -> Book:
    """The hand-worked book of tests.support.builders.reports_book, on a fresh ledger."""
    return reports_book(ledger)
