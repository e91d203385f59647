"""Benchmark the terminal app on an existing ledger: time to first screen, peak memory, input responsiveness.

    python bench/bench_tui.py --ledger LEDGER.duly --passphrase PASS [--runs 5] [--rss-runs 1] [--skip-inprocess]

It builds nothing: point it at a copy of a demo ledger (the app only reads, but a copy keeps the original
untouched). Sections:

  1. time to first screen, medians of --runs:
       in-process  `DulyApp.run_test(size=(120, 40))`, headless: the moment the compositor produces a frame of
                   the dashboard ("frame drawn"), a frame with the totals table ("numbers shown") and one with
                   the aging bars mounted ("aging shown"). Timed from constructing the app (imports excluded,
                   reported apart).
       tmux        `duly` as a real process in a private 120x40 tmux server (escape-time 0, DULY_LEDGER /
                   DULY_PASSPHRASE in its environment); `capture-pane -p` every 20 ms until the pane first
                   shows anything, the dashboard's "As of" label ("frame drawn"), a currency row with an amount
                   ("numbers shown") and an aging bar row with an amount ("aging shown"). Timed from starting
                   tmux, so interpreter start-up and imports are included.
  2. peak RSS (VmHWM of the duly python process) after the dashboard has loaded, c (customers), 300 x Down,
     10 x PageDown, a (aging) -- with VmRSS after each step.
  3. responsiveness: press c as soon as the dashboard frame is drawn (its worker still computing) and time
     until the customers screen (search box) and its first page (status line) appear; the same with the
     dashboard idle, for comparison. Both in tmux, plus the in-process equivalent.
  4. where the dashboard worker's time goes: Ledger.open and each query of reports.aging on a fresh connection.
  5. invoices (tmux): i until the first page of open invoices is shown, f (overdue) and f (all) until the
     pane settles, ctrl+end (next pages), a customer filter; VmHWM after them. The app has one database
     thread with one connection (one key derivation for the session), so these include any job queued
     before them.

  6. reports (tmux): 6 until the summary's figures, then until the trend chart shows all 12 months with their
     amounts ("time to first chart"); and on a fresh connection the trend's queries against 12 runs of the
     per-date reports it equals (summary + dso at each month end).
  7. every screen (in-process, medians of --runs, each run a fresh app that visits each screen once): the time
     from the key to the screen's first rows -- 1-9, f2-f4, Enter on the first customer (customer screen) and
     on the first invoice (invoice screen); the dashboard is timed from start. "First rows": the screen's main
     table has a row, measured for drawing (dashboard: the totals; reports: the summary, the first of its
     reports), or, for a screen with no table of rows (settings, sync, an empty queue), none of its jobs is still
     running and what they posted was handled. Keys are sent as a terminal sends them (no waiting). The screens
     that show the rest progressively (reports: DSO, provision, forecast and the charts; collections: the risk
     alerts) are also timed until none of their jobs runs ("all").
     Before each key the app is calm: no job runs and the last screen has shown (and measured) what they gave.
     Each figure also gives the CPU time the process spent meanwhile (every thread: the database thread's
     queries and the event loop's drawing), which a shared machine does not inflate as it does the wall clock.
     Section 7 alone: --only-first-rows; some screens only: --screens "collections,customer screen" (the
     dashboard from start is always timed).
  8. lost keys (tmux): `duly` on a loaded machine (--burners busy processes, default 2), 2 as soon as the
     dashboard frame is drawn (its worker still computing), then 300 x Down in one burst before the first page
     is there; once the pane is still, Enter opens the customer under the cursor, which must be the 301st.
     Sections 7-8 alone: --only-screens.

Every wait is bounded (--timeout, 60 s); the private tmux server is killed at the end, whatever happened.
"""
from __future__ import annotations

import argparse
import contextlib
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

POLL = 0.02
SIZE = (120, 40)
SOCKET = f"duly-bench-{os.getpid()}"  # a private tmux server: never touches the user's sessions

# What the screens show (English and Chinese catalogues).
AS_OF = re.compile(r"(As of|截止) \d{4}-\d\d-\d\d")                       # the dashboard's first label
AMOUNT_ROW = re.compile(r"^\s*[A-Z]{3}\s+-?[\d,]+\.\d\d(\s|$)", re.M)       # "CNY   430,829,627.31  ..."
AGING_BAR = re.compile(r"^\s*(Not due|未到期)\s.*?-?[\d,]+\.\d\d", re.M)     # "Not due  ████  220,708,829.37"
CUSTOMERS = re.compile(r"Search code, name, tax id or pinyin|Search code, name or tax id|搜索编码、名称、税号或拼音")   # the customer list's search box
CUSTOMER_PAGE = re.compile(r"\d+ shown|已显示 \d+ 个|No customers match|没有匹配的客户")
AGING_SCREEN = re.compile(r"Basis: |基准: ")
AGING_ROW = re.compile(r"\s[A-Z]{3}\s+[\d,]*\d\.\d\d")
CUSTOMER_TITLE = re.compile(r"^\s*(Customer|客户)\s+(\S+) ·", re.M)  # the customer screen: "Customer C0301 · name"


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, unit="s"):
    if value is None:
        return "—"
    if unit == "s":
        return f"{value:.2f} s" if value >= 1 else f"{value * 1000:.0f} ms"
    if unit == "MiB":
        return f"{value / 1024:.0f} MiB"
    return str(value)


def duly_command() -> str:
    found = Path(sys.executable).with_name("duly")
    return str(found) if found.exists() else (shutil.which("duly") or "duly")


# --- tmux ------------------------------------------------------------------------------------------------


def tmux(*args: str, check: bool = True, env: dict | None = None) -> str:
    proc = subprocess.run(["tmux", "-f", "/dev/null", "-L", SOCKET, *args], capture_output=True, text=True,
                          env=env, timeout=30)
    if check and proc.returncode:
        raise RuntimeError(f"tmux {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout


class Pane:
    """One `duly` in its own tmux session on the private server."""

    counter = 0

    def __init__(self, ledger: Path, passphrase: str, timeout: float):
        Pane.counter += 1
        self.name = f"duly{Pane.counter}"
        self.timeout = timeout
        env = {**os.environ, "DULY_LEDGER": str(ledger), "DULY_PASSPHRASE": passphrase}
        env.pop("TMUX", None)
        self.t0 = time.perf_counter()
        tmux("new-session", "-d", "-s", self.name, "-x", str(SIZE[0]), "-y", str(SIZE[1]),
             "-e", f"DULY_LEDGER={ledger}", "-e", f"DULY_PASSPHRASE={passphrase}",
             duly_command(), ";", "set", "-g", "escape-time", "0", env=env)
        self._pid: int | None = None

    def text(self) -> str:
        return tmux("capture-pane", "-p", "-t", self.name, check=False)

    def keys(self, *keys: str, repeat: int = 1) -> None:
        args = ["send-keys", "-t", self.name]
        if repeat > 1:
            args += ["-N", str(repeat)]
        tmux(*args, *keys)

    def wait(self, checks: dict, *, since: float | None = None, timeout: float | None = None) -> dict:
        """Poll the pane until every check (name -> regex or predicate) has held once; seconds since `since`."""
        since = self.t0 if since is None else since
        deadline = time.perf_counter() + (timeout or self.timeout)
        seen: dict[str, float | None] = {name: None for name in checks}
        self.last = ""
        polls = 0
        while time.perf_counter() < deadline:
            now = time.perf_counter()
            self.last = screen = self.text()
            for name, check in checks.items():
                if seen[name] is None:
                    hit = check.search(screen) if hasattr(check, "search") else check(screen)
                    if hit:
                        seen[name] = now - since
            if all(v is not None for v in seen.values()):
                break
            polls += 1
            if polls % 10 == 0 and not self.alive():
                break  # duly exited (a wrong passphrase, a crash): its session is gone
            time.sleep(max(0.0, POLL - (time.perf_counter() - now)))
        return seen

    def wait_still(self, quiet: float = 0.3, timeout: float | None = None) -> float:
        """Until the pane has not changed for `quiet` seconds; returns when it last changed (since now)."""
        start = time.perf_counter()
        deadline = start + (timeout or self.timeout)
        last, changed = self.text(), start
        while time.perf_counter() < deadline and time.perf_counter() - changed < quiet:
            time.sleep(POLL)
            screen = self.text()
            if screen != last:
                last, changed = screen, time.perf_counter()
        return changed - start

    def alive(self) -> bool:
        return subprocess.run(["tmux", "-f", "/dev/null", "-L", SOCKET, "has-session", "-t", self.name],
                              capture_output=True).returncode == 0

    def pid(self) -> int | None:
        """The duly python process: the pane's process, or its python descendant if a shell runs it."""
        if self._pid and Path(f"/proc/{self._pid}").exists():
            return self._pid
        out = tmux("list-panes", "-t", self.name, "-F", "#{pane_pid}", check=False).strip()
        if not out:
            return None
        todo, found = [int(out.splitlines()[0])], None
        while todo:
            pid = todo.pop(0)
            cmdline = _read(f"/proc/{pid}/cmdline").replace("\0", " ")
            if "python" in cmdline or "duly" in cmdline.split(" ")[0]:
                comm = _read(f"/proc/{pid}/comm").strip()
                if "python" in comm or "duly" in comm:
                    found = pid
                    break
            todo += _children(pid)
        self._pid = found
        return found

    def memory(self) -> dict[str, int]:
        """VmRSS and VmHWM in KiB."""
        pid = self.pid()
        out = {}
        for line in _read(f"/proc/{pid}/status").splitlines() if pid else []:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
        return out

    def close(self) -> None:
        pid = self.pid()
        tmux("kill-session", "-t", self.name, check=False)
        if pid:  # SIGHUP from tmux normally ends it; a busy worker thread may delay that
            deadline = time.perf_counter() + 5
            while Path(f"/proc/{pid}").exists() and time.perf_counter() < deadline:
                time.sleep(0.05)
            if Path(f"/proc/{pid}").exists():
                with contextlib.suppress(ProcessLookupError):  # it ended between the check and the kill
                    os.kill(pid, 9)


def _read(path: str) -> str:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""


def _children(pid: int) -> list[int]:
    kids = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        kids += [int(x) for x in _read(f"{task}/children").split()]
    return kids


# --- 1. time to first screen ------------------------------------------------------------------------------


def tmux_first_screen(ledger: Path, passphrase: str, runs: int, timeout: float) -> list[dict]:
    results = []
    for i in range(runs):
        pane = Pane(ledger, passphrase, timeout)
        try:
            seen = pane.wait({"anything": lambda s: s.strip(), "frame": AS_OF, "numbers": AMOUNT_ROW,
                              "aging": AGING_BAR})
            seen["hwm_kib"] = pane.memory().get("VmHWM")
        finally:
            pane.close()
        print(f"  tmux run {i + 1}: " + ", ".join(f"{k} {fmt(v)}" for k, v in seen.items() if k != "hwm_kib"),
              flush=True)
        results.append(seen)
    return results


async def _inprocess_once(ledger: Path, passphrase: str, timeout: float, press_c: bool) -> dict:
    from rich.table import Table

    from tui.app.app import DulyApp
    from tui.screens.customers import CustomersScreen
    from tui.screens.dashboard import DashboardScreen

    marks: dict[str, float] = {}
    t0 = time.perf_counter()
    app = DulyApp(ledger, passphrase)
    display = app._display

    def watch_frames(screen, renderable):
        if renderable is not None:
            now = time.perf_counter() - t0
            marks.setdefault("anything", now)
            if isinstance(screen, DashboardScreen):
                marks.setdefault("frame", now)
                if "numbers" not in marks and isinstance(screen.query_one("#dash-totals").content, Table):
                    marks["numbers"] = now
                if "aging" not in marks and screen.query_one("#dash-bars").children:
                    marks["aging"] = now
            elif isinstance(screen, CustomersScreen) and "pressed_c" in marks:
                marks.setdefault("customers", now)
                if "customer_page" not in marks and screen.query_one("#customers").row_count:
                    marks["customer_page"] = now
        return display(screen, renderable)

    app._display = watch_frames
    wanted = ("frame", "customers", "customer_page") if press_c else ("frame", "numbers", "aging")
    async with app.run_test(size=SIZE) as pilot:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline and not all(k in marks for k in wanted):
            if press_c and "frame" in marks and "pressed_c" not in marks:
                marks["pressed_c"] = time.perf_counter() - t0
                marks["busy_at_press"] = "numbers" not in marks
                await pilot.press("c")
            await asyncio.sleep(POLL)
        if press_c:  # let the dashboard worker finish, so the next run starts from a quiet process
            await app.workers.wait_for_complete()
    return marks


def inprocess_first_screen(ledger: Path, passphrase: str, runs: int, timeout: float) -> tuple[list[dict], float]:
    start = time.perf_counter()
    import tui.app.app  # noqa: F401  (imports are timed apart; the tmux runs include them)
    imports = time.perf_counter() - start
    results = []
    for i in range(runs):
        marks = asyncio.run(_inprocess_once(ledger, passphrase, timeout, press_c=False))
        print(f"  in-process run {i + 1}: " + ", ".join(f"{k} {fmt(marks.get(k))}"
                                                      for k in ("anything", "frame", "numbers", "aging")), flush=True)
        results.append(marks)
    return results, imports


# --- 2. peak RSS after navigating --------------------------------------------------------------------------


def first_codes(ledger: Path, passphrase: str, count: int) -> list[str]:
    from store.write import customers
    from store.ledger.ledger import Ledger

    led = Ledger.open(ledger, passphrase)
    try:
        return [r["code"] for r in customers.listing(led, limit=count)]
    finally:
        led.close()


def bottom_code(screen: str) -> str | None:
    """The first cell of the customer table's last row on screen (the status line follows the table)."""
    lines = screen.splitlines()
    for i, line in enumerate(lines):
        if CUSTOMER_PAGE.search(line) and i:
            for above in reversed(lines[max(0, i - 3):i]):  # above a horizontal scrollbar, if the table has one
                cells = above.split()
                if cells and re.match(r"^[\w-]+$", cells[0]):
                    return cells[0]
            return None
    return None


def peak_rss(ledger: Path, passphrase: str, timeout: float, codes: list[str]) -> dict:
    target_code = codes[300] if len(codes) > 300 else None
    pane = Pane(ledger, passphrase, timeout)
    out: dict = {"steps": []}
    try:
        seen = pane.wait({"numbers": AMOUNT_ROW, "aging": AGING_BAR})
        pane.wait_still()
        out["steps"].append(("dashboard loaded", seen.get("aging"), pane.memory()))

        t = time.perf_counter()
        pane.keys("2")
        seen = pane.wait({"page": CUSTOMER_PAGE}, since=t)
        out["steps"].append(("c -> customers first page", seen["page"], pane.memory()))

        # 300 x Down in steps of 20 (like key repeat, which a burst outruns: keys at the end of the loaded
        # rows are lost while the next page loads), then until the 301st customer is the bottom (cursor) row.
        t = time.perf_counter()
        for _ in range(15):
            pane.keys("Down", repeat=20)
            pane.wait_still(quiet=0.1)
        if target_code:
            pane.wait({"cursor": lambda s: bottom_code(s) == target_code}, since=t, timeout=10)
        took = time.perf_counter() - t if bottom_code(pane.last) == target_code else None
        out["steps"].append((f"15 x (20 x Down): bottom/cursor row {bottom_code(pane.last)} (want {target_code})",
                             took, pane.memory()))

        t = time.perf_counter()
        pane.keys("NPage", repeat=10)
        settled = pane.wait_still(quiet=0.5)
        status = next((line.strip() for line in pane.last.splitlines() if CUSTOMER_PAGE.search(line)), "")
        out["steps"].append((f"10 x PageDown ({status})", settled, pane.memory()))

        t = time.perf_counter()
        pane.keys("5")
        seen = pane.wait({"screen": AGING_SCREEN, "rows": lambda s: AGING_SCREEN.search(s) and AGING_ROW.search(s)},
                         since=t)
        pane.wait_still()
        out["steps"].append(("a -> aging rows shown", seen["rows"], pane.memory()))
        out["hwm_kib"] = pane.memory().get("VmHWM")
        out["pid"] = pane.pid()
    finally:
        pane.close()
    return out


# --- 3. responsiveness ------------------------------------------------------------------------------------


def tmux_press_c(ledger: Path, passphrase: str, timeout: float, busy: bool) -> dict:
    pane = Pane(ledger, passphrase, timeout)
    try:
        if busy:  # as soon as the dashboard frame is there, its worker still computing
            seen = pane.wait({"frame": AS_OF})
        else:
            seen = pane.wait({"aging": AGING_BAR})
            pane.wait_still()
        before = pane.text()
        t = time.perf_counter()
        pane.keys("2")
        result = pane.wait({"left_dashboard": lambda s: not AS_OF.search(s), "customers": CUSTOMERS,
                            "customer_page": CUSTOMER_PAGE}, since=t)
        result["busy_at_press"] = not AMOUNT_ROW.search(before)
        result["pressed_at"] = t - pane.t0
    finally:
        pane.close()
    return result


# --- 5. invoices ------------------------------------------------------------------------------------------

REPORTS_SUMMARY = re.compile(r"(Receivable|应收合计)\s+-?[\d,]+\.\d\d")
CHART_ROW = re.compile(r"^\s*\d{4}-\d\d\s+[█▏▎▍▌▋▊▉]+.*?\s-?[\d,]+\.\d\d(\s|$)", re.M)  # "2026-03  ████  329,122.78"
INVOICE_PAGE = re.compile(r"\d+ shown|已显示 \d+ 个|No invoices match|没有匹配的发票")


def settled_since(pane: Pane, t: float) -> float:
    """Seconds from t until the pane last changed (it then stayed the same for 0.3 s)."""
    start = time.perf_counter()
    return (start - t) + pane.wait_still(quiet=0.3)


def tmux_invoices(ledger: Path, passphrase: str, timeout: float,
                  customer: str | None) -> list[tuple[str, float | None, dict]]:
    pane = Pane(ledger, passphrase, timeout)
    steps = []
    try:
        pane.wait({"aging": AGING_BAR})
        pane.wait_still()
        t = time.perf_counter()
        pane.keys("3")
        seen = pane.wait({"page": INVOICE_PAGE}, since=t)
        steps.append(("i -> first page of open invoices", seen["page"], pane.memory()))
        for label, pattern in (("f -> overdue page", r"Show: overdue|显示: 逾期"),
                               ("f -> all, page", r"Show: all|显示: 全部")):
            t = time.perf_counter()
            pane.keys("f")
            pane.wait({"label": re.compile(pattern)}, since=t)
            pane.wait({"page": INVOICE_PAGE}, since=t)
            steps.append((label, settled_since(pane, t), pane.memory()))
        t = time.perf_counter()
        for _ in range(3):
            pane.keys("C-End")
            pane.wait_still(quiet=0.2)
        status = next((line.strip() for line in pane.text().splitlines() if INVOICE_PAGE.search(line)), "")
        steps.append((f"3 x ctrl+end ({status})", time.perf_counter() - t, pane.memory()))
        if customer:
            t = time.perf_counter()
            pane.keys("/")
            pane.keys("-l", customer)
            pane.keys("Enter")
            pane.wait({"label": lambda s: customer in s})
            steps.append((f"/ {customer} Enter -> that customer's invoices", settled_since(pane, t), pane.memory()))
    finally:
        pane.close()
    return steps


# --- 4. where the dashboard worker's time goes ------------------------------------------------------------


def dashboard_phases(ledger: Path, passphrase: str, runs: int = 3) -> list[tuple[str, float]]:
    from datetime import date

    from store.rules import aging as agelib
    from store.read import open as openitems
    from store.read import reports
    from store.ledger.ledger import Ledger
    from tui.screens.dashboard import dashboard_data

    as_of = date.today()
    params = {"d": as_of.isoformat()}
    samples: dict[str, list[float]] = {}

    def timed(name, fn):
        t = time.perf_counter()
        value = fn()
        samples.setdefault(name, []).append(time.perf_counter() - t)
        return value

    for _ in range(runs):
        led = timed("Ledger.open (key derivation)", lambda: Ledger.open(ledger, passphrase))
        try:
            timed("customers names (SELECT id, code, name)", lambda: reports._customers(led))
            rows = timed("OPEN_INVOICES_SQL", lambda: led.conn.execute(openitems.OPEN_INVOICES_SQL, params).fetchall())
            single = reports._single_instalment_terms(led)
            need = [r[0] for r in rows if r[6] not in single]
            timed(f"due_items for instalment invoices ({len(need)})", lambda: openitems.schedules(led, need))
            timed("UNAPPLIED_SQL", lambda: led.conn.execute(openitems.UNAPPLIED_SQL, params).fetchall())
            pos = timed("open.position (all of the above, warm)", lambda: openitems.position(led, as_of))
            timed(f"aging.age over {len(pos.items)} items", lambda: agelib.age(
                pos.items, pos.unapplied, as_of, "due", reports.default_edges(led), False))
            timed("dashboard_data (whole worker, warm)", lambda: dashboard_data(led, as_of))
        finally:
            led.close()
    return [(name, statistics.median(values)) for name, values in samples.items()]


# --- 6. the reports' charts ---------------------------------------------------------------------------------


def tmux_reports(ledger: Path, passphrase: str, timeout: float) -> dict:
    """6 from an idle dashboard: seconds until the summary's figures, and until the trend chart has its 12 months."""
    pane = Pane(ledger, passphrase, timeout)
    try:
        pane.wait({"aging": AGING_BAR})
        pane.wait_still()
        t = time.perf_counter()
        pane.keys("6")
        return pane.wait({"summary": REPORTS_SUMMARY, "chart": lambda s: len(CHART_ROW.findall(s)) >= 12}, since=t)
    finally:
        pane.close()


def trend_phases(ledger: Path, passphrase: str, runs: int = 3) -> list[tuple[str, float]]:
    from datetime import date

    from store.ledger.ledger import Ledger
    from store.read import reports

    as_of = date.today()
    samples: dict[str, list[float]] = {}
    for _ in range(runs):
        with Ledger.open(ledger, passphrase) as led:
            t = time.perf_counter()
            reports.trend(led, as_of)
            samples.setdefault("reports.trend, 12 month ends (one pass per figure)", []).append(time.perf_counter() - t)
            t = time.perf_counter()
            for end in reports.month_ends(as_of):
                reports.summary(led, end)
                reports.dso(led, end)
            samples.setdefault("12 x (summary + dso), what it equals", []).append(time.perf_counter() - t)
    return [(name, statistics.median(values)) for name, values in samples.items()]


def _reports_rows(ledger: Path, passphrase: str, timeout: float, runs: int, phases: bool) -> list[tuple[str, str]]:
    print("6. reports: time to first chart", flush=True)
    marks = [tmux_reports(ledger, passphrase, timeout) for _ in range(runs)]
    rows = [("tmux: 6 -> reports summary shown", fmt(median(m["summary"] for m in marks))),
            ("tmux: 6 -> trend chart with 12 months shown (first chart)", fmt(median(m["chart"] for m in marks)))]
    if phases:
        rows += [(f"worker: {name}", fmt(seconds)) for name, seconds in trend_phases(ledger, passphrase)]
    return rows


# --- 7. every screen: key -> first rows ------------------------------------------------------------------

SCREENS = [("2", "customers"), ("3", "invoices"), ("4", "payments"), ("5", "aging"), ("6", "reports"),
           ("7", "collections"), ("8", "reconcile"), ("9", "sync"), ("f2", "settings"), ("f3", "drafts"),
           ("f4", "terms"), ("enter@2", "customer screen"), ("enter@3", "invoice screen")]
MAIN_TABLE = {"CustomersScreen": "#customers", "InvoicesScreen": "#invoices", "PaymentsScreen": "#payments",
              "AgingScreen": "#aging", "CollectionsScreen": ".coll-table", "ReconcileScreen": "#rec-lines",
              "DraftsScreen": "#drafts", "TermsScreen": "#terms", "CustomerScreen": "#open-items",
              "InvoiceScreen": "#invoice-due", "SyncScreen": "#sync-review"}
FIRST_STATIC = {"DashboardScreen": "#dash-totals", "ReportsScreen": "#rep-summary"}  # first rows: a table drawn
PROGRESSIVE = {"reports", "collections"}  # also timed until every part is shown


def _idle(app, screen) -> bool:
    """None of the screen's jobs is still running and what they posted was handled: a job that has finished has
    only posted its rows, which the screen then shows (a table of thousands of rows: a second or more)."""
    from textual.widget import Widget

    running = [w for w in app.workers if not w.is_finished and isinstance(w.node, Widget)
               and (w.node is screen or screen in w.node.ancestors)]
    return not running and not screen.message_queue_size and not screen._callbacks  # (a job it starts after a refresh)


def _first_rows(app, screen) -> bool:
    """The screen shows its first rows, or (no table of rows) has no job still running."""
    from rich.table import Table
    from textual.css.query import NoMatches

    name = type(screen).__name__
    if name in FIRST_STATIC:
        try:
            if isinstance(screen.query_one(FIRST_STATIC[name]).content, Table):
                return True
        except NoMatches:  # not composed yet
            return False
        if name == "DashboardScreen":
            return False  # else (nothing open: no table) the screen has no job left running
    selector = MAIN_TABLE.get(name)
    if selector and any(getattr(t, "row_count", 0) and not getattr(t, "_require_update_dimensions", False)
                        for t in screen.query(selector)):
        return True  # rows added and measured: the next frame draws them
    return screen.is_mounted and _idle(app, screen) and getattr(screen, "loaded_revision", 0) != -1


def _send(app, key: str) -> None:
    """A key as the terminal sends it: into the driver's queue, nothing awaited."""
    from textual import events

    event = events.Key(key, None)
    event.set_sender(app)
    app._driver.send_message(event)


async def _until(check, timeout: float, poll: float = 0.005) -> float | None:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if check():
            return time.perf_counter() - start
        await asyncio.sleep(poll)
    return None


def _drawn(app) -> bool:
    """The screen has handled what was posted to it, has no callback waiting for its next refresh (a batch of
    rows) and its tables are measured (Textual measures the rows added to a DataTable when it is next idle: until
    then the event loop is still busy with the last screen)."""
    from textual.widgets import DataTable

    screen = app.screen
    return not screen.message_queue_size and not screen._callbacks and not any(t._require_update_dimensions or t._new_rows
                                                     or t.message_queue_size for t in screen.query(DataTable))


async def _quiet(app, timeout: float) -> None:
    """Until no job of the app runs (the idle credit ratings included) and the screen has shown what they
    gave, at most `timeout`: the next key is timed from a calm app, not with the last screen still drawing."""
    await _until(lambda: all(w.is_finished for w in app.workers) and _drawn(app), timeout, poll=0.05)


async def _screens_once(ledger: Path, passphrase: str, timeout: float,
                        only: set[str] | None = None) -> dict[str, tuple[float | None, float]]:
    """name -> (seconds from the key to the first rows or None, CPU seconds of the process meanwhile)."""
    from tui.app.app import DulyApp
    from tui.screens.dashboard import DashboardScreen

    found: dict[str, tuple[float | None, float]] = {}
    t0, c0 = time.perf_counter(), time.process_time()
    app = DulyApp(ledger, passphrase)
    async with app.run_test(size=SIZE):
        took = await _until(lambda: isinstance(app.screen, DashboardScreen) and _first_rows(app, app.screen),
                            timeout)
        found["1 dashboard (from start)"] = (None if took is None else time.perf_counter() - t0,
                                             time.process_time() - c0)
        await _quiet(app, timeout)
        for key, name in SCREENS:
            if only and name not in only:
                continue
            if key.startswith("enter@"):
                _send(app, key.split("@")[1])  # the list first (already loaded once), then Enter on its first row
                await _until(lambda: type(app.screen).__name__ in MAIN_TABLE and _first_rows(app, app.screen),
                             timeout)
                await _quiet(app, timeout)
                before, c0 = app.screen, time.process_time()
                _send(app, "enter")
                took = await _until(lambda: app.screen is not before and _first_rows(app, app.screen), timeout)
                found[name] = (took, time.process_time() - c0)
                await _quiet(app, timeout)
                _send(app, "escape")
                await _until(lambda: app.screen is before, timeout)
            else:
                before, start, c0 = app.screen, time.perf_counter(), time.process_time()
                _send(app, key)
                took = await _until(lambda: app.screen is not before and _first_rows(app, app.screen), timeout)
                found[f"{key} {name}"] = (took, time.process_time() - c0)
                if name in PROGRESSIVE:
                    done = await _until(lambda: _idle(app, app.screen), timeout)
                    found[f"{key} {name} (all)"] = (None if done is None else time.perf_counter() - start,
                                                    time.process_time() - c0)
            await _quiet(app, timeout)
        await app.action_quit()
    return found


def screens_first_rows(ledger: Path, passphrase: str, runs: int, timeout: float,
                       only: set[str] | None = None) -> list[tuple[str, str]]:
    print("7. every screen: key -> first rows (in-process)", flush=True)
    per_run = []
    for i in range(runs):
        found = asyncio.run(_screens_once(ledger, passphrase, timeout, only))
        print(f"  run {i + 1}: " + ", ".join(f"{k} {fmt(v)} (cpu {fmt(c)})" for k, (v, c) in found.items()),
              flush=True)
        per_run.append(found)
    rows = []
    for name in per_run[0]:
        values = [r[name][0] if name in r else None for r in per_run]
        cpu = [r[name][1] for r in per_run if name in r]
        rows.append((f"first rows: {name}", f"{fmt(median(values))} (max {fmt(max((v for v in values if v is not None), default=None))}"
                                            f"{', ' + str(values.count(None)) + ' timed out' if None in values else ''}"
                                            f"; cpu {fmt(median(cpu))})"))
    return rows


# --- 8. lost keys under load -----------------------------------------------------------------------------


def _shown(screen: str) -> int:
    """How many rows the list's status line says are shown (0 when there is none)."""
    found = re.search(r"(\d+) shown|已显示 (\d+)", screen)
    return int(found.group(1) or found.group(2)) if found else 0


def tmux_keys_under_load(ledger: Path, passphrase: str, timeout: float, codes: list[str],
                         burners: int) -> tuple[str, str]:
    print(f"8. 300 x Down in one burst under load ({burners} busy processes)", flush=True)
    target = codes[300] if len(codes) > 300 else None
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(burners)]
    pane = Pane(ledger, passphrase, timeout)
    try:
        pane.wait({"frame": AS_OF})
        pane.keys("2")  # the dashboard still computing
        pane.keys("Down", repeat=300)  # before the customers' first page is there
        t = time.perf_counter()
        # the 301st row is on the 4th page: wait until it is loaded and the pane is still (a busy machine may take
        # seconds a page; the cursor moves on as each page comes)
        pane.wait({"pages": lambda s: _shown(s) >= 400}, since=t, timeout=timeout)
        pane.wait_still(quiet=1.0)
        took = time.perf_counter() - t
        pane.keys("Enter")  # the customer under the cursor: its screen's title names it
        seen = pane.wait({"title": CUSTOMER_TITLE})
        found = CUSTOMER_TITLE.search(pane.last) if seen["title"] is not None else None
        ended = found.group(2) if found else None
    finally:
        pane.close()
        for proc in busy:  # only the processes started here, by their id
            proc.kill()
            proc.wait()
    load = os.getloadavg()[0]
    verdict = "none lost" if ended == target else f"LOST: ended on {ended}"
    return (f"keys: 300 x Down burst after 2, dashboard busy, {burners} burners (load {load:.1f})",
            f"cursor on {ended} (want {target}): {verdict}; settled {fmt(took)}")


# --- main -------------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ledger", required=True, type=Path)
    parser.add_argument("--passphrase", default=os.environ.get("DULY_PASSPHRASE"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rss-runs", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=60.0, help="longest single wait, seconds (≤ 60)")
    parser.add_argument("--skip-inprocess", action="store_true")
    parser.add_argument("--skip-phases", action="store_true")
    parser.add_argument("--only-invoices", action="store_true", help="run section 5 only")
    parser.add_argument("--only-charts", action="store_true", help="run section 6 only")
    parser.add_argument("--only-screens", action="store_true", help="run sections 7 and 8 only")
    parser.add_argument("--only-first-rows", action="store_true", help="run section 7 only")
    parser.add_argument("--screens", default="", help="section 7: only these screens (comma-separated names)")
    parser.add_argument("--burners", type=int, default=2, help="busy processes during the lost-keys run")
    args = parser.parse_args(argv)
    if not args.passphrase:
        parser.error("--passphrase (or DULY_PASSPHRASE) is required")
    if not args.ledger.exists():
        parser.error(f"no ledger at {args.ledger}")
    if not shutil.which("tmux"):
        parser.error("tmux is not installed")
    timeout = min(args.timeout, 60.0)
    ledger = args.ledger.resolve()
    rows: list[tuple[str, str]] = []

    if args.only_invoices:
        try:
            return _invoices_only(ledger, args.passphrase, timeout)
        finally:
            tmux("kill-server", check=False)
    if args.only_charts:
        try:
            for key, value in _reports_rows(ledger, args.passphrase, timeout, args.runs, not args.skip_phases):
                print(f"| {key} | {value} |")
            return 0
        finally:
            tmux("kill-server", check=False)
    only = {name.strip() for name in args.screens.split(",") if name.strip()} or None
    if args.only_first_rows:
        _table(screens_first_rows(ledger, args.passphrase, args.runs, timeout, only))
        return 0
    if args.only_screens:
        try:
            rows = _screen_rows(ledger, args.passphrase, args.runs, timeout, args.burners)
        finally:
            tmux("kill-server", check=False)
        _table(rows)
        return 0

    try:
        print(f"# ledger {ledger} ({ledger.stat().st_size / 2**20:.0f} MiB), {SIZE[0]}x{SIZE[1]}, "
              f"medians of {args.runs}", flush=True)
        print("1. time to first screen", flush=True)
        if not args.skip_inprocess:
            inproc, imports = inprocess_first_screen(ledger, args.passphrase, args.runs, timeout)
            rows.append(("in-process: import tui.app.app (once)", fmt(imports)))
            for key, label in (("anything", "first frame of any screen"), ("frame", "dashboard frame drawn"),
                               ("numbers", "numbers shown (totals)"), ("aging", "aging bars shown")):
                rows.append((f"in-process run_test: {label}", fmt(median(m.get(key) for m in inproc))))
        runs = tmux_first_screen(ledger, args.passphrase, args.runs, timeout)
        for key, label in (("anything", "pane not blank"), ("frame", "dashboard frame drawn (As of)"),
                           ("numbers", "numbers shown (currency row)"), ("aging", "aging figures shown")):
            rows.append((f"tmux duly: {label}", fmt(median(r.get(key) for r in runs))))
        rows.append(("tmux duly: VmHWM once the dashboard is shown", fmt(median(r.get("hwm_kib") for r in runs),
                                                                          "MiB")))

        print("2. peak RSS after c, 300 x Down, 10 x PageDown, a", flush=True)
        codes = first_codes(ledger, args.passphrase, 301)
        rss_runs = [peak_rss(ledger, args.passphrase, timeout, codes) for _ in range(max(1, args.rss_runs))]
        for step, took, mem in rss_runs[-1]["steps"]:
            rows.append((f"rss: {step}", f"{fmt(took)}; VmRSS {fmt(mem.get('VmRSS'), 'MiB')}, "
                                         f"VmHWM {fmt(mem.get('VmHWM'), 'MiB')}"))
        rows.append(("rss: peak (VmHWM) of duly after the whole walk",
                     fmt(median(r.get("hwm_kib") for r in rss_runs), "MiB")))

        print("3. responsiveness: c while the dashboard worker computes", flush=True)
        busy = [tmux_press_c(ledger, args.passphrase, timeout, busy=True) for _ in range(args.runs)]
        idle = [tmux_press_c(ledger, args.passphrase, timeout, busy=False) for _ in range(args.runs)]
        for r in busy:
            print(f"  busy: pressed at {fmt(r['pressed_at'])} (numbers not yet shown: {r['busy_at_press']}), "
                  f"dashboard gone {fmt(r['left_dashboard'])}, customers {fmt(r['customers'])}, first page {fmt(r['customer_page'])}", flush=True)
        busy_n = sum(1 for r in busy if r["busy_at_press"])
        rows.append((f"tmux: c -> customers screen, dashboard busy ({busy_n}/{len(busy)} pressed before numbers)",
                     fmt(median(r["customers"] for r in busy))))
        rows.append(("tmux: c -> customers first page, dashboard busy", fmt(median(r["customer_page"] for r in busy))))
        rows.append(("tmux: c -> dashboard gone from the pane, dashboard busy",
                     fmt(median(r["left_dashboard"] for r in busy))))
        rows.append(("tmux: c -> customers screen, dashboard idle", fmt(median(r["customers"] for r in idle))))
        rows.append(("tmux: c -> customers first page, dashboard idle", fmt(median(r["customer_page"] for r in idle))))
        if not args.skip_inprocess:
            marks = [asyncio.run(_inprocess_once(ledger, args.passphrase, timeout, press_c=True))
                     for _ in range(args.runs)]
            rows.append(("in-process: c -> customers frame, dashboard busy",
                         fmt(median(m["customers"] - m["pressed_c"] for m in marks if "customers" in m))))
            rows.append(("in-process: c -> customers first page, dashboard busy",
                         fmt(median(m["customer_page"] - m["pressed_c"] for m in marks if "customer_page" in m))))

        if not args.skip_phases:
            print("4. dashboard worker phases (fresh connection, medians of 3)", flush=True)
            for name, seconds in dashboard_phases(ledger, args.passphrase):
                rows.append((f"worker: {name}", fmt(seconds)))
        rows += _invoice_rows(ledger, args.passphrase, timeout)
        rows += _reports_rows(ledger, args.passphrase, timeout, args.runs, not args.skip_phases)
        rows += _screen_rows(ledger, args.passphrase, args.runs, timeout, args.burners)
    finally:
        tmux("kill-server", check=False)
        socket_dir = Path(os.environ.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}"
        (socket_dir / SOCKET).unlink(missing_ok=True)

    _table(rows)
    return 0


def _table(rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    print()
    print(f"| {'measure'.ljust(width)} | value |")
    print(f"|{'-' * (width + 2)}|-------|")
    for key, value in rows:
        print(f"| {key.ljust(width)} | {value} |")


def _screen_rows(ledger: Path, passphrase: str, runs: int, timeout: float, burners: int) -> list[tuple[str, str]]:
    rows = screens_first_rows(ledger, passphrase, runs, timeout)
    rows.append(tmux_keys_under_load(ledger, passphrase, timeout, first_codes(ledger, passphrase, 301), burners))
    return rows


def _invoice_rows(ledger: Path, passphrase: str, timeout: float) -> list[tuple[str, str]]:
    print("5. invoices", flush=True)
    codes = first_codes(ledger, passphrase, 1)
    rows = []
    for step, took, mem in tmux_invoices(ledger, passphrase, timeout, codes[0] if codes else None):
        rows.append((f"invoices: {step}", f"{fmt(took)}; VmRSS {fmt(mem.get('VmRSS'), 'MiB')}, "
                                          f"VmHWM {fmt(mem.get('VmHWM'), 'MiB')}"))
    return rows


def _invoices_only(ledger: Path, passphrase: str, timeout: float) -> int:
    for key, value in _invoice_rows(ledger, passphrase, timeout):
        print(f"| {key} | {value} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
