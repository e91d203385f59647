"""Shared parts of the sync tests: a real PostgreSQL cluster, the server on loopback for each backend, and a
search of every byte a server stored."""
from __future__ import annotations

import contextlib

import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from sync.server.app import ServerThread
from sync.server.storage import PostgresStorage, SQLiteStorage

BACKENDS = ["sqlite", "postgresql"]


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
        return str(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A throwaway PostgreSQL cluster in a temp dir on a free loopback port (run as `postgres` when root)."""

    def __init__(self):
        self.initdb, self.pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
        if not (self.initdb and self.pg_ctl):
            pytest.fail("PostgreSQL is needed for the sync tests: install it (initdb, pg_ctl) or set "
                        "DULY_TEST_POSTGRES_URL")
        self.dir = Path(tempfile.mkdtemp(prefix="duly-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            import pwd

            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.url = f"postgresql://duly@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        proc = subprocess.run([*self.as_user, *argv], capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            pytest.fail(f"PostgreSQL did not start: {' '.join(argv[:2])}: {proc.stderr.strip()[-400:]}")

    def start(self) -> "Cluster":
        self._run(self.initdb, "-D", str(self.data), "-A", "trust", "-U", "duly", "-E", "UTF8", "--no-sync")
        self._run(self.pg_ctl, "-D", str(self.data), "-w", "-l", str(self.dir / "log"), "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        return self

    def stop(self) -> None:
        subprocess.run([*self.as_user, self.pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres():
    """(url, data dir or None): DULY_TEST_POSTGRES_URL when set, else a cluster started for this session."""
    url = os.environ.get("DULY_TEST_POSTGRES_URL")
    if url:
        yield url, None
        return
    cluster = Cluster().start()
    try:
        yield cluster.url, cluster.data
    finally:
        cluster.stop()


def fresh_database(url: str) -> str:
    """A new empty database on the same server, so each test's stored bytes are its own."""
    import psycopg

    name = f"duly_{os.getpid()}_{time.monotonic_ns()}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return url.rsplit("/", 1)[0] + "/" + name


class Backend:
    """A running server on loopback and a way to read back every byte its storage holds."""

    def __init__(self, kind: str, storage, url: str, files: list[Path], pg_url: str | None):
        self.kind, self.storage, self.url, self.files, self.pg_url = kind, storage, url, files, pg_url

    def stored_bytes(self) -> bytes:
        """Every row of every table (and, where the files are local, every file) the server wrote."""
        out = bytearray()
        if self.kind == "postgresql":
            import psycopg

            with psycopg.connect(self.pg_url, autocommit=True) as conn:
                conn.execute("CHECKPOINT")
                tables = [r[0] for r in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname='public'").fetchall()]
                for table in tables:
                    for row in conn.execute(f"SELECT * FROM {table}"):
                        for value in row:
                            out += value if isinstance(value, (bytes, memoryview)) else str(value).encode()
        for base in self.files:
            for path in Path(base).rglob("*"):
                if path.is_file():
                    with contextlib.suppress(OSError):  # removed while we read: nothing left to search
                        out += path.read_bytes()
        return bytes(out)


@contextmanager
def running_server(kind: str, tmp_path: Path, postgres_info=None, **options):
    if kind == "sqlite":
        storage = SQLiteStorage(tmp_path / "server")
        with ServerThread(storage, **options) as srv:
            yield Backend(kind, storage, srv.url, [tmp_path / "server"], None)
        return
    pg_url, data_dir = postgres_info
    db_url = fresh_database(pg_url)
    storage = PostgresStorage(db_url)
    with ServerThread(storage, **options) as srv:
        yield Backend(kind, storage, srv.url, [data_dir] if data_dir else [], db_url)
