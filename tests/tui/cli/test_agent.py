"""`duly unlock` / `duly lock`: an agent holds the ledger's derived key in memory on a private socket; commands
use it; after lock (or the idle time) the key is gone."""
from __future__ import annotations

import os
import shutil
import stat
import tempfile
import time
from pathlib import Path

import pytest

from store.write import customers, settings
from store.ledger.ledger import Ledger
from tests.support.cli import PASSPHRASE, assert_one_line_error, run_duly


@pytest.fixture
def runtime(tmp_path):
    """A ledger and a private XDG_RUNTIME_DIR (short: a unix socket path has ~100 characters at most); the
    agent, if a test left one, is ended afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="xdg", dir="/tmp"))
    os.chmod(folder, 0o700)
    path = tmp_path / "l.duly"
    with Ledger.create(path, PASSPHRASE, actor="tester") as led:
        settings.put(led, "currency", "CNY")
        customers.add(led, "C1", "One")
    env = {"XDG_RUNTIME_DIR": str(folder), "DULY_LEDGER": str(path)}
    yield env, folder / "duly" / "agent.sock", path
    run_duly("lock", env=env)
    shutil.rmtree(folder, ignore_errors=True)


def _pid(sock: Path) -> int:
    from tui.cli import key_agent as agent

    os.environ["XDG_RUNTIME_DIR"], saved = str(sock.parent.parent), os.environ.get("XDG_RUNTIME_DIR")
    try:
        return agent.status()["pid"]
    finally:
        if saved is None:
            del os.environ["XDG_RUNTIME_DIR"]
        else:
            os.environ["XDG_RUNTIME_DIR"] = saved


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}/stat").exists() else "X"
    return state not in ("Z", "X")


def test_unlocked_commands_need_no_passphrase_and_the_socket_is_private(runtime):
    env, sock, _ = runtime
    assert_one_line_error(run_duly("customer", "list", env=env), 1, "no passphrase")
    result = run_duly("unlock", env={**env, "DULY_PASSPHRASE": PASSPHRASE})
    assert result.code == 0, result.err
    assert stat.S_IMODE(sock.stat().st_mode) == 0o600 and stat.S_ISSOCK(sock.stat().st_mode)
    assert stat.S_IMODE(sock.parent.stat().st_mode) == 0o700
    assert os.listdir(sock.parent) == ["agent.sock"]  # nothing else written
    listed = run_duly("customer", "list", "--format", "json", env=env)  # no DULY_PASSPHRASE, stdin not a tty
    assert listed.code == 0 and [c["code"] for c in listed.json()] == ["C1"]


def test_the_key_is_on_no_command_line_or_environment_and_gone_after_lock(runtime):
    env, sock, path = runtime
    assert run_duly("unlock", env={**env, "DULY_PASSPHRASE": PASSPHRASE}).code == 0
    pid = _pid(sock)
    from tui.cli.key_agent import derive_key

    key = derive_key(path, PASSPHRASE)
    for what in ("cmdline", "environ"):
        seen = Path(f"/proc/{pid}/{what}").read_bytes()
        assert key[2:66].encode() not in seen and PASSPHRASE.encode() not in seen
    locked = run_duly("lock", env=env)
    assert locked.code == 0 and "locked" in locked.out
    assert not sock.exists()
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)  # the process that held the key has ended
    assert_one_line_error(run_duly("customer", "list", env=env), 1, "no passphrase")
    assert run_duly("lock", env=env).out.strip() == "no agent was running"


def test_a_module_lying_in_the_working_directory_is_not_run_by_the_agent(runtime, tmp_path):
    """`duly unlock` run in a folder that holds a json.py: the agent that will hold the key is not that code."""
    env, sock, _ = runtime
    planted = tmp_path / "downloads"
    planted.mkdir()
    (planted / "json.py").write_text(f"open({str(tmp_path / 'ran')!r}, 'w').write('the agent')\n", encoding="utf-8")
    result = run_duly("unlock", env={**env, "DULY_PASSPHRASE": PASSPHRASE}, cwd=planted)
    assert result.code == 0, result.err
    assert not (tmp_path / "ran").exists()
    assert run_duly("customer", "list", env=env).code == 0


def test_the_agent_forgets_after_its_idle_time(runtime):
    env, sock, _ = runtime
    assert run_duly("unlock", "--idle", "0.02", env={**env, "DULY_PASSPHRASE": PASSPHRASE}).code == 0
    assert sock.exists()
    deadline = time.monotonic() + 10
    while sock.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not sock.exists()
    assert_one_line_error(run_duly("customer", "list", env=env), 1, "no passphrase")


def test_unlock_with_a_wrong_passphrase_starts_nothing(runtime):
    env, sock, _ = runtime
    assert_one_line_error(run_duly("unlock", env={**env, "DULY_PASSPHRASE": "not it at all"}), 1, "wrong passphrase")
    assert not sock.exists()


def test_a_backup_made_while_unlocked_opens_with_the_passphrase(runtime, tmp_path):
    env, _, _ = runtime
    assert run_duly("unlock", env={**env, "DULY_PASSPHRASE": PASSPHRASE}).code == 0
    assert run_duly("backup", tmp_path / "b.duly", env=env).code == 0
    with Ledger.open(tmp_path / "b.duly", PASSPHRASE) as copy:
        assert copy.row("SELECT code FROM customers")["code"] == "C1"


def test_after_a_new_passphrase_the_old_key_is_dropped_and_the_passphrase_is_used(runtime, tmp_path):
    env, _, _ = runtime
    assert run_duly("unlock", env={**env, "DULY_PASSPHRASE": PASSPHRASE}).code == 0
    new = tmp_path / "new"
    new.write_text("a brand new passphrase here", encoding="utf-8")
    assert run_duly("passwd", "--new-passphrase-file", new, env=env).code == 0
    listed = run_duly("customer", "list", env={**env, "DULY_PASSPHRASE": "a brand new passphrase here"})
    assert listed.code == 0, listed.err
    assert_one_line_error(run_duly("customer", "list", env=env), 1, "no passphrase")  # the stale key is gone
