"""The first snapshot's upload: its chunks go out while the file is checked, and a snapshot whose check fails is
never published."""
from __future__ import annotations

import hashlib

import pytest

from store.errors import DulyError
from store.ledger import db
from store.ledger.ledger import Ledger
from store.write import customers
from sync import client
from sync.client import session as sessions
from sync.client.snapshot import _check_snapshot, _snapshot_file
from tests.support.cli import PASSPHRASE
from tests.support.sync_server import running_server


@pytest.fixture
def server(tmp_path):
    with running_server("sqlite", tmp_path) as backend:
        yield backend


def test_a_snapshot_whose_check_fails_is_not_published(tmp_path, server, monkeypatch):
    led = Ledger.create(tmp_path / "a.duly", PASSPHRASE, actor="a")
    customers.add(led, "K1", "a customer")
    checked = []

    def failing(path, passphrase):
        _check_snapshot(path, passphrase)  # the real check ran on the file being sent...
        checked.append(path)
        raise DulyError("this device's ledger fails its integrity check (test); the snapshot was not published")

    monkeypatch.setattr(sessions, "_check_snapshot", failing)
    try:
        with pytest.raises(DulyError, match="the snapshot was not published"):
            client.init(led, server.url, name="a")
        assert checked
        assert server.storage.latest_snapshot(led.meta("sync.team")) is None  # ...and nothing was published
        monkeypatch.undo()
        session = client.Sync(led)
        try:
            assert session.now(snapshot=True).snapshot is not None
        finally:
            session.close()
        assert server.storage.latest_snapshot(led.meta("sync.team")) is not None
    finally:
        led.close()


def test_the_check_reads_the_snapshot_file_without_changing_a_byte(tmp_path):
    led = Ledger.create(tmp_path / "a.duly", PASSPHRASE, actor="a")
    customers.add(led, "K1", "a customer")
    path, key = tmp_path / "snap.duly", "x'" + "ab" * 32 + "'"
    try:
        _snapshot_file(led.conn, path, key, check=False)
    finally:
        led.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    _check_snapshot(path, key)
    conn = db.connect_readonly(path, key)
    try:
        assert conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 1
        with pytest.raises(db.DatabaseError):
            conn.execute("DELETE FROM customers")
    finally:
        conn.close()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert not (tmp_path / "snap.duly-wal").exists()  # not switched to WAL


def test_setting_up_sync_reads_the_book_through_the_bulk_cache_and_leaves_the_ledger_its_own(tmp_path, server,
                                                                                           monkeypatch):
    """Sync set up from the app pushes the whole log and exports the whole book on the app's own connection: with
    the app's big page cache those pages stayed in memory after it (a 200k book: 436 MB, 232 MB with the bulk
    cache). The job runs with the bulk cache, and the ledger has its cache back after it."""
    led = Ledger.create(tmp_path / "a.duly", PASSPHRASE, actor="a")
    customers.add(led, "K1", "a customer")
    led.conn.execute("PRAGMA cache_size = -262144")  # the app's 256 MiB
    during = []
    real = sessions.Sync.now

    def now(self, **kw):
        during.append(led.conn.execute("PRAGMA cache_size").fetchone()[0])
        return real(self, **kw)

    monkeypatch.setattr(sessions.Sync, "now", now)
    try:
        client.init(led, server.url, name="a")
        assert during == [-db.BULK_CACHE_KIB]
        assert led.conn.execute("PRAGMA cache_size").fetchone()[0] == -262144
    finally:
        led.close()
