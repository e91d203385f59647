"""`duly unlock` / `duly lock`: a small agent (as ssh-agent and gpg-agent) that holds the derived key of a ledger
in memory for a set idle time, so that each command skips the ~0.2 s key derivation.

The agent listens on a unix socket only its user can reach: mode 0600 in a 0700 directory under
XDG_RUNTIME_DIR, and it answers only a peer with its own uid. Nothing about the key is written to disk or put
on a command line or in the environment: `duly unlock` derives the key and hands it over the socket. The agent
forgets everything and exits after the idle time or on `duly lock`.

The key held is SQLCipher's raw key with the file's salt (`x'<key><salt>'`), which opens the ledger without
the key derivation; a backup keyed with it has the same salt and so still opens with the passphrase.
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

# SQLCipher 4's defaults: PBKDF2-HMAC-SHA512, 256,000 iterations, a 32-byte key, the salt in the first 16 bytes.
KDF_ITERATIONS = 256_000
DEFAULT_IDLE_MINUTES = 15.0


def socket_path() -> Path:
    """$XDG_RUNTIME_DIR/duly/agent.sock (else a private directory under the temp dir)."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    folder = Path(base) / "duly" if base else Path(os.environ.get("TMPDIR") or "/tmp") / f"duly-{os.getuid()}"
    return folder / "agent.sock"


def derive_key(ledger_path: Path, passphrase: str) -> str:
    """The raw key SQLCipher derives from a passphrase for this file, with the file's salt."""
    with open(ledger_path, "rb") as f:
        salt = f.read(16)
    key = hashlib.pbkdf2_hmac("sha512", passphrase.encode("utf-8"), salt, KDF_ITERATIONS, 32)
    return f"x'{key.hex()}{salt.hex()}'"


def _ask(request: dict, *, path: Path | None = None, timeout: float = 2.0) -> dict | None:
    """One request to the agent; None when no agent answers."""
    path = path or socket_path()
    if not path.exists():
        return None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        try:
            s.connect(str(path))
            s.sendall(json.dumps(request).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            return None
    try:
        return json.loads(data)
    except ValueError:
        return None


def key_for(ledger_path: Path) -> str | None:
    """The key the agent holds for this ledger, if an agent runs and holds one."""
    found = _ask({"op": "get", "ledger": str(Path(ledger_path).resolve())})
    return found.get("key") if found else None


def forget(ledger_path: Path) -> None:
    _ask({"op": "forget", "ledger": str(Path(ledger_path).resolve())})


def status() -> dict | None:
    """{'pid', 'ledgers', 'idle_seconds'} of the running agent, or None."""
    return _ask({"op": "status"})


def start(idle_minutes: float) -> None:
    """Start the agent in the background unless one answers already."""
    path = socket_path()
    if status() is not None:
        return
    folder = path.parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.stat()
    if info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(folder, 0o700)
        if folder.stat().st_uid != os.getuid():
            raise OSError(f"{folder} belongs to another user")
    path.unlink(missing_ok=True)  # a socket left by an agent that was killed
    subprocess.Popen([sys.executable, "-P", "-m", "tui.cli.key_agent", str(path), str(idle_minutes * 60)],
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     start_new_session=True, close_fds=True,
                     env={k: v for k, v in os.environ.items() if not k.startswith("DULY_")})  # no passphrase
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if status() is not None:
            return
        time.sleep(0.02)
    raise OSError("the agent did not start")


def put(ledger_path: Path, key: str) -> None:
    if not _ask({"op": "put", "ledger": str(Path(ledger_path).resolve()), "key": key}):
        raise OSError("the agent did not take the key")


def stop() -> bool:
    """End the agent (it forgets every key first); False when none was running."""
    path = socket_path()
    if _ask({"op": "stop"}) is None:
        path.unlink(missing_ok=True)
        return False
    deadline = time.monotonic() + 5
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return True


# -- the agent process ---------------------------------------------------------------------------------

def _no_core_dumps() -> None:
    """Keep the key out of core dumps and away from ptrace by other processes of the user (Linux)."""
    try:
        import ctypes
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError, ValueError):
        pass


def _peer_uid(conn: socket.socket) -> int | None:
    try:
        import struct

        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        return struct.unpack("3i", creds)[1]
    except (OSError, AttributeError):
        return None


def serve(path: Path, idle_seconds: float) -> None:
    _no_core_dumps()
    keys: dict[str, str] = {}
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)  # the socket is created 0600: no moment when others could connect
    try:
        server.bind(str(path))
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    server.listen(16)
    last_use = time.monotonic()
    try:
        while True:
            server.settimeout(max(0.05, idle_seconds - (time.monotonic() - last_use)))
            try:
                conn, _ = server.accept()
            except socket.timeout:
                if time.monotonic() - last_use >= idle_seconds:
                    break
                continue
            with conn:
                if _peer_uid(conn) not in (None, os.getuid()):
                    continue
                conn.settimeout(2)
                try:
                    request = json.loads(conn.makefile("rb").readline())
                except (OSError, ValueError):
                    continue
                op = request.get("op")
                if op in ("get", "put", "forget"):
                    last_use = time.monotonic()
                if op == "get":
                    answer = {"key": keys.get(request.get("ledger"))}
                elif op == "put":
                    keys[request["ledger"]] = request["key"]
                    answer = {"ok": True}
                elif op == "forget":
                    keys.pop(request.get("ledger"), None)
                    answer = {"ok": True}
                elif op == "status":
                    answer = {"pid": os.getpid(), "ledgers": sorted(keys),
                              "idle_seconds": idle_seconds - (time.monotonic() - last_use)}
                elif op == "stop":
                    answer = {"ok": True}
                else:
                    answer = {"error": "unknown request"}
                try:
                    conn.sendall(json.dumps(answer).encode() + b"\n")
                except OSError:
                    pass
                if op == "stop":
                    break
    finally:
        keys.clear()
        server.close()
        try:
            path.unlink()
        except OSError:
            pass


if __name__ == "__main__":
    serve(Path(sys.argv[1]), float(sys.argv[2]))
