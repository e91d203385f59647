"""Crashes: `kill -9` of the client during `duly sync now`, and of the server (`duly serve`) during a push, in
a loop; afterwards nothing is lost or doubled, and a second device ends with the same book."""
from __future__ import annotations

import os
import random
import secrets
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from store.ledger.ids import uuid7
from store.ledger.ledger import Ledger
from sync import client
from tests.support.cli import duly_exe
from tests.support.sync_team import table_digest

RAW_KEY = f"x'{secrets.token_hex(32)}'"  # a raw SQLCipher key: no KDF, so the subprocesses start fast
CHANGES = 1500


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServeProcess:
    def __init__(self, data: Path, port: int):
        self.data, self.port = data, port
        self.url = f"http://127.0.0.1:{port}"
        self.proc = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DULY_")}
        self.proc = subprocess.Popen([duly_exe(), "serve", "--port", str(self.port), "--data", str(self.data)],
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/v1/health", timeout=0.5)
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        self.proc.kill()
        pytest.fail(f"duly serve did not start: {self.proc.stderr.read().decode()[-400:]}")

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(10)


@pytest.fixture
def served(tmp_path):
    server = ServeProcess(tmp_path / "server", _port())
    server.start()
    yield server
    server.stop()


def _team(tmp_path, url):
    a = Ledger.create(tmp_path / "a.duly", RAW_KEY, actor="a")
    client.init(a, url, name="a")
    session = client.Sync(a)
    code = session.invite("member")
    session.close()
    b, _ = client.join(tmp_path / "b.duly", RAW_KEY, url, code, name="b")
    for i in range(CHANGES):
        with a.writing() as tx:
            tx.set("customers", uuid7(), code=f"K{i:04d}", name=f"崩溃测试 {i}", currency="CNY", archived=0)
    return a, b


def _sync_now_process(path: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DULY_")}
    env.update(DULY_PASSPHRASE=RAW_KEY, DULY_LEDGER=str(path))
    return subprocess.Popen([duly_exe(), "sync", "now"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _stored(server: ServeProcess) -> int:
    """How many changes the server's log holds now (read beside the running server)."""
    try:
        with sqlite3.connect(f"file:{server.data / 'server.sqlite3'}?mode=ro", uri=True, timeout=5) as db:
            return db.execute("SELECT count(*) FROM log").fetchone()[0]
    except sqlite3.OperationalError:
        return -1


def _check_exactly_once(server: ServeProcess, a: Ledger, b: Ledger) -> None:
    with sqlite3.connect(server.data / "server.sqlite3") as db:
        rows = db.execute("SELECT server_seq, device, device_seq FROM log ORDER BY server_seq").fetchall()
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1)), "server_seq has gaps or repeats"
    mine = [r[2] for r in rows if r[1] == a.device]
    assert mine == list(range(1, CHANGES + 1)), "a change was lost or stored twice"
    assert b.conn.execute("SELECT count(*) FROM customers").fetchone()[0] == CHANGES
    assert table_digest(a) == table_digest(b)


def test_kill_9_of_the_client_during_sync_loses_and_doubles_nothing(tmp_path, served):
    a, b = _team(tmp_path, served.url)
    path = a.path
    a.close()
    rng = random.Random(7)
    killed = 0
    for _ in range(6):
        stored = _stored(served)
        proc = _sync_now_process(path)
        # Kill it once the server has taken part of its push (a batch is 500 of 1,500), a little later each
        # time: a fixed sleep could fall after the whole push on a fast machine.
        deadline = time.monotonic() + 30
        while _stored(served) == stored and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.05))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait(30)
    assert killed >= 1, "the client always finished before the kill; the test proved nothing"
    final = _sync_now_process(path)
    out, err = final.communicate(timeout=120)
    assert final.returncode == 0, err.decode()
    with Ledger.open(path, RAW_KEY) as a:
        session = client.Sync(b)
        session.now()
        session.close()
        _check_exactly_once(served, a, b)
    b.close()


def test_kill_9_of_the_server_during_a_push_loses_and_doubles_nothing(tmp_path, served):
    a, b = _team(tmp_path, served.url)
    path = a.path
    a.close()
    failed = 0
    for _ in range(4):
        stored = _stored(served)
        proc = _sync_now_process(path)
        # Kill the server as soon as it has taken part of the push (a batch is 500 changes of 1,500): a fixed
        # sleep sometimes fell after the whole push on a fast machine and before it on a slow one.
        deadline = time.monotonic() + 30
        while _stored(served) == stored and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        served.kill9()
        _, err = proc.communicate(timeout=60)
        if proc.returncode != 0:
            failed += 1
            assert "cannot reach the sync server" in err.decode(), err.decode()
        served.start()
    assert failed >= 1, "every push finished before the server was killed; the test proved nothing"
    final = _sync_now_process(path)
    _, err = final.communicate(timeout=120)
    assert final.returncode == 0, err.decode()
    with Ledger.open(path, RAW_KEY) as a:
        session = client.Sync(b)
        session.now()
        session.close()
        _check_exactly_once(served, a, b)
    b.close()
