"""Convergence: 2-5 devices editing and posting offline, syncing in random order through a real server on
loopback while requests are dropped, answers lost, requests duplicated or held back and replayed later,
and clocks skewed by up to two minutes. At the end every device holds identical tables and every
operation exactly once.

Examples: CONVERGENCE_EXAMPLES (40; DULY_CONVERGENCE_EXAMPLES overrides) x up to 30 steps each, kept well under
two minutes on a shared 2-core machine.
"""
from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from store.write import drafts
from store.errors import DulyError
from store.ledger.ids import uuid7
from store.ledger.ledger import Ledger
from sync import client
from tests.support.sync_server import running_server
from tests.support.sync_team import table_digest

CONVERGENCE_EXAMPLES = int(os.environ.get("DULY_CONVERGENCE_EXAMPLES", "40"))  # the issue asks 100 in CI
# A raw 256-bit SQLCipher key (x'..'): it skips passphrase stretching, so a ledger opens in milliseconds
# and the examples spend their time on sync, not on the KDF.
RAW_KEY = f"x'{secrets.token_hex(32)}'"
FAULTS = [None, "drop_request", "drop_response", "duplicate", "reorder"]


class FaultyTransport(httpx.BaseTransport):
    """Real HTTP to the server, with one planned fault: the request is lost, its answer is lost, it is
    sent twice, or it is held back and delivered after the next request (reordered, and so duplicated)."""

    def __init__(self):
        self.inner = httpx.HTTPTransport()
        self.plan: dict[int, str] = {}
        self.count = 0
        self.held: list[httpx.Request] = []

    def arm(self, fault: str | None, at: int) -> None:
        self.count = 0
        self.plan = {at: fault} if fault else {}

    def _send(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        return response

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        fault = self.plan.pop(self.count, None)
        self.count += 1
        if fault == "drop_request":
            raise httpx.ConnectError("request dropped", request=request)
        if fault == "reorder":
            request.read()
            self.held.append(request)
            raise httpx.ConnectError("request held back", request=request)
        response = self._send(request)
        if fault == "duplicate":
            response = self._send(request)
        while self.held:
            self._send(self.held.pop(0))  # the late copy arrives after a newer request; its answer is lost
        if fault == "drop_response":
            raise httpx.ReadError("answer lost", request=request)
        return response


class Convergence(RuleBasedStateMachine):
    server_url = ""

    def __init__(self):
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="duly-conv-"))
        self.ledgers: list[Ledger] = []
        self.sessions: list[client.Sync] = []
        self.transports: list[FaultyTransport] = []
        self.customers: list[str] = []
        self.payments: set[str] = set()
        self.writes = 0

    @initialize(devices=st.integers(min_value=2, max_value=5))
    def make_team(self, devices):
        admin = Ledger.create(self.dir / "d0.duly", RAW_KEY, actor="d0")
        transport = FaultyTransport()
        client.init(admin, self.server_url, name="d0", transport=transport)
        self._add(admin, transport)
        inviter = self.sessions[0]
        for n in range(1, devices):
            transport = FaultyTransport()
            ledger, _ = client.join(self.dir / f"d{n}.duly", RAW_KEY, self.server_url, inviter.invite("member"),
                                    name=f"d{n}", transport=transport, actor=f"d{n}")
            self._add(ledger, transport)

    def _add(self, ledger: Ledger, transport: FaultyTransport) -> None:
        self.ledgers.append(ledger)
        self.transports.append(transport)
        self.sessions.append(client.Sync(ledger, transport=transport))

    def _device(self, data) -> int:
        return data.draw(st.integers(0, len(self.ledgers) - 1), label="device")

    @rule(data=st.data(), name=st.sampled_from(["Acme", "远航贸易", "Hexagon", "Ñandú SA"]))
    def add_customer(self, data, name):
        ledger = self.ledgers[self._device(data)]
        cid = uuid7()
        with ledger.writing() as tx:
            tx.set("customers", cid, code=f"C{len(self.customers)}", name=name, currency="CNY", archived=0)
        self.customers.append(cid)
        self.writes += 1

    @rule(data=st.data(), field=st.sampled_from(["name", "phone", "notes"]), value=st.text("ab远 1", max_size=6))
    def edit_customer(self, data, field, value):
        if not self.customers:
            return
        ledger = self.ledgers[self._device(data)]
        cid = data.draw(st.sampled_from(self.customers), label="customer")
        with ledger.writing() as tx:
            tx.set("customers", cid, **{field: value})
        self.writes += 1

    @rule(data=st.data(), amount=st.integers(1, 10_000_00))
    def record_payment(self, data, amount):
        if not self.customers:
            return
        ledger = self.ledgers[self._device(data)]
        cid = data.draw(st.sampled_from(self.customers), label="customer")
        with ledger.writing() as tx:
            pid = tx.event("payments", customer_id=cid, date="2026-03-01", amount=amount, currency="CNY",
                           method="bank_transfer", reference=None, note=None)
        self.payments.add(pid)
        self.writes += 1

    @rule(data=st.data(), amount=st.integers(1, 10_000))
    def draft(self, data, amount):
        """Start, edit or issue a draft invoice: two devices may edit or issue the same draft offline."""
        if not self.customers:
            return
        ledger = self.ledgers[self._device(data)]
        action = data.draw(st.sampled_from(["add", "edit", "issue"]), label="draft action")
        known = [r[0] for r in ledger.conn.execute("SELECT id FROM drafts ORDER BY id")]
        try:
            if action == "add" or not known:
                action = "add"
                code = data.draw(st.sampled_from([f"C{n}" for n in range(len(self.customers))]), label="customer")
                drafts.add(ledger, code, date="2026-03-01", amount=str(amount))
            else:
                ref = drafts.ref(data.draw(st.sampled_from(known), label="draft"))
                if action == "edit":
                    if not drafts.edit(ledger, ref, amount=str(amount)):
                        return  # the same amount: nothing written
                else:
                    drafts.issue(ledger, ref)
        except DulyError:
            return  # the customer has not reached this device yet, or the draft was issued here: nothing written
        event(f"draft {action}")
        self.writes += 1

    @rule(data=st.data(), fault=st.sampled_from(FAULTS), at=st.integers(0, 4))
    def sync(self, data, fault, at):
        n = self._device(data)
        self.transports[n].arm(fault, at)
        try:
            self.sessions[n].now()
        except client.Offline:
            pass  # a lost request or answer: the next sync carries on from where this one stopped

    @rule(data=st.data(), offset=st.integers(-120_000, 120_000))
    def skew_clock(self, data, offset):
        ledger = self.ledgers[self._device(data)]
        ledger.clock._wall = lambda: int(time.time() * 1000) + offset

    def teardown(self):
        try:
            if self.sessions:
                self.check_convergence()
        finally:
            for session in self.sessions:
                session.close()
            for ledger in self.ledgers:
                ledger.close()
            shutil.rmtree(self.dir, ignore_errors=True)

    def check_convergence(self):
        for transport in self.transports:
            transport.arm(None, 0)
        for _ in range(2):  # the first round gets everything to the server, the second brings it to everyone
            for session in self.sessions:
                session.now()
        digests = {table_digest(led) for led in self.ledgers}
        assert len(digests) == 1, "devices ended with different tables"
        for led in self.ledgers:
            ids = {r[0] for r in led.conn.execute("SELECT id FROM payments")}
            assert ids == self.payments, "a payment was lost or doubled"
            count, distinct = led.conn.execute(
                "SELECT count(*), count(DISTINCT device || ':' || device_seq) FROM changes").fetchone()
            assert count == distinct == self.writes, (count, distinct, self.writes)
            assert led.conn.execute("SELECT count(*) FROM customers").fetchone()[0] == len(self.customers)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # every example creates a team from this one address: no limit on team creation here
    with running_server("sqlite", tmp_path_factory.mktemp("conv"), teams_per_minute=10**6) as backend:
        yield backend


def test_devices_converge_through_faulty_network(server):
    Convergence.server_url = server.url
    run_state_machine_as_test(Convergence, settings=settings(
        max_examples=CONVERGENCE_EXAMPLES, stateful_step_count=30, deadline=None,
        suppress_health_check=list(HealthCheck)))


def test_the_convergence_check_notices_a_device_that_missed_a_change(server, tmp_path):
    """The digest comparison is not vacuous: a change that never left its device makes tables differ."""
    a = Ledger.create(tmp_path / "a.duly", RAW_KEY)
    b = Ledger.create(tmp_path / "b.duly", RAW_KEY)
    with a.writing() as tx:
        tx.set("customers", "c1", code="X", name="only on a")
    assert table_digest(a) != table_digest(b)
    with b.writing() as tx:
        tx.set("customers", "c1", code="X", name="only on a")
    assert table_digest(a) == table_digest(b)
    a.close()
    b.close()
