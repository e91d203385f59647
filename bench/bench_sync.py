"""Sync costs against a real `duly serve` process on loopback.

    python bench/bench_sync.py [--clients 50] [--pushes 100] [--database postgresql://...] [--invoices 20000] [--json]

(a) load: --clients threads, each a registered device pushing --pushes sealed changes one request at a time;
    throughput (pushes/s), p50 and p99 latency; then the whole log is pulled back and checked: every
    (device, device_seq) exactly once, server_seq gapless. The issue's full size is --pushes 1000.
(b) a 100-change round trip between two devices: device A makes 100 changes (100 transactions) and runs
    `sync now` (push), device B runs `sync now` (pull and apply); each half and the sum.
(c) restore drill: a demo book of --invoices invoices on device A, pushed with a snapshot; a new device runs
    `sync join` (snapshot download, every chunk checked, ledger checks, pull). --invoices 200000 is the
    issue's target size (slow to build: the demo itself takes minutes).
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from store.files import demo
from store.ledger.hlc import Stamp
from store.ledger.ids import uuid7
from store.ledger.ledger import Ledger
from sync import client, crypto
from sync.crypto import DeviceKeys

PASSPHRASE = "bench passphrase"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, tmp: Path, database: str | None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        exe = str(Path(sys.executable).with_name("duly"))
        storage = ["--database", database] if database else ["--data", str(tmp / "server")]
        self.proc = subprocess.Popen([exe, "serve", "--port", str(self.port), *storage],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/v1/health", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise SystemExit(f"server did not start: {self.proc.stderr.read().decode()[-500:]}")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(10)


def load(server: Server, clients: int, pushes: int) -> dict:
    team = secrets.token_hex(8)
    admin_keys = DeviceKeys.generate()
    admin = client.Api(server.url, team, "admin0", admin_keys)
    key = crypto.new_team_key()
    admin.post("/v1/teams", {"team": team, "device": {"id": "admin0", "name": "admin", "sign_pub": admin_keys.sign_pub,
                                                      "box_pub": admin_keys.box_pub},
                             "wrapped": crypto.wrap_key(key, admin_keys.box_pub, crypto.key_context(team, 1, "admin0"))})
    devices = []
    for n in range(clients):
        secret = secrets.token_bytes(32)
        token, _ = crypto.invite_secrets(secret)
        invite_id, expires, auth, blob = f"i{n}", int(time.time() * 1000) + 3_600_000, crypto.token_hash(token), "-"
        sig = admin_keys.signature(crypto.invite_record_message(team, invite_id, "member", expires, auth, blob))
        admin.post(f"/v1/teams/{team}/invites", {"id": invite_id, "auth_hash": auth, "role": "member",
                                                 "expires": expires, "blob": blob, "signature": sig})
        keys = DeviceKeys.generate()
        api = client.Api(server.url, team, f"dev{n}", keys)
        api.post(f"/v1/teams/{team}/join", {"invite": invite_id, "token": crypto.b64e(token), "device": {
            "id": f"dev{n}", "name": f"dev{n}", "sign_pub": keys.sign_pub, "box_pub": keys.box_pub}})
        api.post(f"/v1/teams/{team}/join/done", {})
        payload = json.dumps({"ops": [{"op": "set", "t": "customers", "c": "name", "v": "客户 " * 10}]}).encode()
        sealed = []
        for seq in range(1, pushes + 1):
            header = {"v": 1, "team": team, "device": f"dev{n}", "device_seq": seq, "key_epoch": 1,
                      "hlc": str(Stamp(int(time.time() * 1000), seq, f"dev{n}"))}
            sealed.append(crypto.seal(key, header, payload, keys))
        devices.append((api, sealed))
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def work(api, sealed):
        mine = []
        try:
            for env in sealed:
                t = time.perf_counter()
                api.post(api.team_path("/push"), {"envelopes": [env]})
                mine.append(time.perf_counter() - t)
        except Exception as exc:  # reported below
            errors.append(f"{type(exc).__name__}: {exc}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=work, args=d) for d in devices]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    # nothing lost or doubled
    seen, after = [], 0
    while True:
        got = admin.get(admin.team_path("/pull"), after=str(after), limit="1000")
        if not got["changes"]:
            break
        seen += [(c["server_seq"], c["envelope"]["device"], c["envelope"]["device_seq"]) for c in got["changes"]]
        after = seen[-1][0]
    total = clients * pushes
    ok = ([s for s, _, _ in seen] == list(range(1, total + 1))
          and sorted((d, q) for _, d, q in seen) == sorted((f"dev{n}", q) for n in range(clients)
                                                           for q in range(1, pushes + 1)))
    latencies.sort()
    return {"clients": clients, "pushes_each": pushes, "total": total, "errors": len(errors),
            "first_error": errors[0] if errors else None, "seconds": round(elapsed, 2),
            "pushes_per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1) if latencies else None,
            "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 1) if latencies else None,
            "exactly_once": ok}


def round_trip(server: Server, tmp: Path, changes: int = 100, repeats: int = 5) -> dict:
    a = Ledger.create(tmp / "rt-a.duly", PASSPHRASE, actor="a")
    client.init(a, server.url, name="a")
    sa = client.Sync(a)
    b, _ = client.join(tmp / "rt-b.duly", PASSPHRASE, server.url, sa.invite("member"), name="b")
    sb = client.Sync(b)
    sb.now()
    push_t, pull_t = [], []
    for _ in range(repeats):
        for i in range(changes):
            with a.writing() as tx:
                tx.set("customers", uuid7(), code=f"R{i}", name=f"往返客户 {i}", currency="CNY", archived=0)
        t = time.perf_counter()
        report = sa.now()
        push_t.append(time.perf_counter() - t)
        assert report.pushed == changes, report
        t = time.perf_counter()
        report = sb.now()
        pull_t.append(time.perf_counter() - t)
        assert report.applied == changes, report
    for s in (sa, sb):
        s.close()
    a.close()
    b.close()
    med = statistics.median
    return {"changes": changes, "repeats": repeats, "push_s_median": round(med(push_t), 3),
            "pull_apply_s_median": round(med(pull_t), 3), "round_trip_s_median": round(med(push_t) + med(pull_t), 3)}


def restore(server: Server, tmp: Path, invoices: int) -> dict:
    a = Ledger.create(tmp / "big.duly", PASSPHRASE, actor="a")
    t = time.perf_counter()
    demo.build(a, customers=max(50, invoices // 100), invoices=invoices)
    built = time.perf_counter() - t
    t = time.perf_counter()
    client.init(a, server.url, name="big")  # pushes the log and uploads a snapshot
    pushed = time.perf_counter() - t
    sa = client.Sync(a)
    code = sa.invite("member")
    sa.close()
    size = a.path.stat().st_size
    a.close()
    t = time.perf_counter()
    b, summary = client.join(tmp / "new.duly", PASSPHRASE, server.url, code, name="new")
    joined = time.perf_counter() - t
    count = b.conn.execute("SELECT count(*) FROM invoices").fetchone()[0]
    b.close()
    return {"invoices": invoices, "ledger_mb": round(size / 1e6, 1), "demo_build_s": round(built, 1),
            "init_push_and_snapshot_s": round(pushed, 1), "join_restore_s": round(joined, 2),
            "snapshot_chunks": summary["snapshot_chunks"], "pulled_after_snapshot": summary["pulled"],
            "invoices_restored": count}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--pushes", type=int, default=100)
    parser.add_argument("--invoices", type=int, default=20000)
    parser.add_argument("--database", help="postgresql:// URL (default: SQLite in a temp dir)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="duly-bench-sync-") as tmp:
        tmp = Path(tmp)
        server = Server(tmp, args.database)
        try:
            result = {"backend": "postgresql" if args.database else "sqlite", "cpus": os.cpu_count(),
                      "load": load(server, args.clients, args.pushes),
                      "round_trip": round_trip(server, tmp),
                      "restore": restore(server, tmp, args.invoices) if args.invoices else None}
        finally:
            server.stop()
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return
    for section, values in result.items():
        print(f"{section}: {values}")


if __name__ == "__main__":
    main()
