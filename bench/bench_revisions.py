"""Compare two revisions of Duly on the same book, in one run: does a change make anything slower?

    python bench/bench_revisions.py BEFORE AFTER [--invoices 200000] [--customers 2000] [--runs 5] [--keep DIR]

Each revision is taken out of git (`git archive`) into its own directory with its own virtualenv, so each runs
exactly its own code and its own `duly`. One demo book is built with BEFORE's `duly demo` and copied for AFTER
(AFTER opens it once untimed, which runs any migration), so both read the same rows.

Then, alternating BEFORE and AFTER run by run so that a busy machine slows both alike:
  * whole process (interpreter start, key derivation, query, output): `report aging` (table and json),
    `report summary`, `statement C0001 --format html`, `customer list` — wall time and CPU time (user +
    system), the latter steadier on a shared machine;
  * the terminal app headless (`run_test(size=(120, 40))`, each revision's own bench/bench_tui.py probe): time
    from constructing the app to the dashboard's frame, its totals and its aging bars; and `c` pressed while
    the dashboard still computes, until the customer list's first page;
  * the app in a real terminal (tmux, 120x40), each revision's own probe: from starting tmux to the numbers.

Prints medians and AFTER/BEFORE as a ratio (below 1.00 is faster).

--memory-security off runs the whole-process commands with SQLCipher's cipher_memory_security left at its
default (off), as revisions before the hardening did: the difference between that run and a run as built is
the cost of the wiping alone. (The tmux probe always runs `duly` as built; the in-process probe never turns
it on, as only the command's entry point does.)
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

PASS = "bench"
ROOT = Path(__file__).resolve().parent.parent

# Run by each revision's own interpreter, inside its own tree: the revision's own probe of the app.
APP_PROBE = r"""
import asyncio, json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1] + "/bench")
import bench_tui
ledger, passphrase, what = Path(sys.argv[2]), sys.argv[3], sys.argv[4]
if what == "tmux":
    marks = bench_tui.tmux_first_screen(ledger, passphrase, 1, 60.0)[0]
else:
    marks = asyncio.run(bench_tui._inprocess_once(ledger, passphrase, 60.0, press_c=(what == "press_c")))
print(json.dumps({k: v for k, v in marks.items() if isinstance(v, float)}))
"""


# Runs a revision's command-line entry point with the process hardening's memory wiping left off.
WITHOUT_WIPING = r"""
import contextlib, importlib, sys
module, func = sys.argv[1].split(":")
with contextlib.suppress(ImportError):  # revisions before the house kept the ledger elsewhere: nothing to turn off
    import store.ledger.db as db
    db.harden_process = lambda: None
entry = importlib.import_module(module)
if hasattr(entry, "harden_process"):
    entry.harden_process = lambda: None
sys.argv = ["duly", *sys.argv[2:]]
sys.exit(getattr(entry, func)())
"""


def run(argv, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, capture_output=True, text=True, **kw)
    if proc.returncode:
        raise SystemExit(f"{' '.join(map(str, argv))} failed:\n{proc.stderr.strip()[-2000:]}")
    return proc


class Revision:
    def __init__(self, label: str, rev: str, work: Path):
        self.label = label
        self.sha = run(["git", "-C", str(ROOT), "rev-parse", "--short", rev]).stdout.strip()
        self.tree = work / f"rev-{self.sha}"
        self.python = self.tree / ".venv" / "bin" / "python"
        self.duly = self.tree / ".venv" / "bin" / "duly"
        if not self.python.exists():
            print(f"{label} {self.sha}: installing into its own virtualenv …", flush=True)
            shutil.rmtree(self.tree, ignore_errors=True)
            self.tree.mkdir(parents=True)
            archive = subprocess.Popen(["git", "-C", str(ROOT), "archive", self.sha], stdout=subprocess.PIPE)
            run(["tar", "-x", "-C", str(self.tree)], stdin=archive.stdout)
            archive.wait()
            run([sys.executable, "-m", "venv", str(self.tree / ".venv")])
            run([str(self.python), "-m", "pip", "install", "--quiet", str(self.tree)])
        scripts = (self.tree / "pyproject.toml").read_text(encoding="utf-8").split("[project.scripts]")[1]
        self.entry = scripts.split('duly = "')[1].split('"')[0]  # e.g. tui.cli.main:run

    def command(self, wiping: bool) -> list[str]:
        return [str(self.duly)] if wiping else [str(self.python), "-c", WITHOUT_WIPING, self.entry]


def timed(argv, env) -> tuple[float, float]:
    """(wall seconds, CPU seconds): the CPU time (user + system of the child) moves far less than the wall
    time when other work shares the machine, so both are shown."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    run(argv, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--invoices", type=int, default=200_000)
    ap.add_argument("--customers", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keep", help="work in this directory and keep it (trees, virtualenvs and books are reused)")
    ap.add_argument("--memory-security", choices=["as-built", "off"], default="as-built",
                    help="off: whole-process commands without the memory wiping (see above)")
    args = ap.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="duly-revisions-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DULY_PASSPHRASE": PASS, "DULY_LANG": "en"}
    env.pop("DULY_LEDGER", None)
    try:
        before, after = Revision("before", args.before, work), Revision("after", args.after, work)
        book = work / f"book-{before.sha}-{args.invoices}.duly"
        if not book.exists():
            print(f"building the {args.invoices:,}-invoice demo with {before.sha} …", flush=True)
            scratch = book.with_suffix(".building")
            for stale in work.glob(scratch.name + "*"):
                stale.unlink()
            run([str(before.duly), "--ledger", str(scratch), "demo", "--customers", str(args.customers),
                 "--invoices", str(args.invoices), "--seed", "1"], env=env)
            scratch.rename(book)
        books = {before.label: work / "before.duly", after.label: work / "after.duly"}
        for rev in (before, after):
            shutil.copy2(book, books[rev.label])
            run([str(rev.duly), "--ledger", str(books[rev.label]), "report", "summary"], env=env)  # migrate, warm

        as_of = (date.today() - timedelta(days=30)).isoformat()
        commands = {
            "report aging": ["report", "aging", "--as-of", as_of],
            "report aging --format json": ["report", "aging", "--as-of", as_of, "--format", "json"],
            "report summary": ["report", "summary", "--as-of", as_of],
            "statement (html)": ["statement", "C0001", "--from", "2000-01-01", "--to", as_of, "--format", "html"],
            "customer list": ["customer", "list"],
        }
        times: dict[str, dict[str, list[float]]] = {}
        for _ in range(args.runs):
            for name, argv in commands.items():
                for rev in (before, after):
                    command = rev.command(args.memory_security == "as-built")
                    wall, cpu = timed([*command, "--ledger", str(books[rev.label]), *argv], env)
                    times.setdefault(name, {}).setdefault(rev.label, []).append(wall)
                    times.setdefault(f"{name} (CPU)", {}).setdefault(rev.label, []).append(cpu)
            for what, keys in (("inprocess", ("frame", "numbers", "aging")),
                               ("press_c", ("customers", "customer_page")), ("tmux", ("frame", "numbers"))):
                for rev in (before, after):
                    out = run([str(rev.python), "-c", APP_PROBE, str(rev.tree), str(books[rev.label]), PASS, what],
                              env=env, cwd=rev.tree).stdout
                    marks = json.loads(out.strip().splitlines()[-1])
                    for key in keys:
                        if key in marks:
                            times.setdefault(f"app {what}: {key}", {}).setdefault(rev.label, []).append(marks[key])
        print(f"\n{args.invoices:,} invoices, {args.customers:,} customers; before {before.sha}, after {after.sha}; "
              f"medians of {args.runs}, alternating; memory security {args.memory_security}")
        print(f"{'measure':<44} {'before':>9} {'after':>9} {'after/before':>13}")
        for name, by_rev in times.items():
            b, a = statistics.median(by_rev.get("before", [0])), statistics.median(by_rev.get("after", [0]))
            ratio = f"{a / b:.2f}" if b else "—"
            print(f"{name:<44} {b:>8.2f}s {a:>8.2f}s {ratio:>13}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
