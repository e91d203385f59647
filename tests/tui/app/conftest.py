"""Fixtures of the app's tests: Pilot runs on asyncio, and a fresh copy of the app's fixed book per test (built
once per module; a module that needs a different book defines its own `master`)."""
from __future__ import annotations

import shutil

import pytest

from tests.support.book import make_book


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
def master(tmp_path_factory):
    return make_book(tmp_path_factory.mktemp("book") / "book.duly")


@pytest.fixture
def book(master, tmp_path):
    return shutil.copy(master, tmp_path / "book.duly")
