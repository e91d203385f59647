"""Bulk jobs the app starts (an import of a big file, joining a team), run in a Duly process of their own.

The app's process has SQLCipher's memory security on (store.ledger.db.harden_process): every buffer SQLCipher
allocates is locked and wiped, and once on it stays on for the life of the process. That made an import started
from the app 3-6x slower than the same import from the command line, whose bulk commands run without it in an
undumpable process instead (db.BULK_COMMANDS says why), and a join of a 200k-invoice team's book failed there
(MemoryError in its checks) where `duly sync join` took 11-13 s. So the app hands such a job to a child: the same
Python running this module, hardened as a bulk command is, which runs the same store function the app would have
run on its own threads (on_ledger: on a connection it opens with the app's passphrase).

Nothing goes through the disk or the command line: the job (the function, its arguments, the passphrase among
them) is written to the child's stdin, and the child answers on its stdout with pickles: progress reports as the
job goes, then the function's result or the DulyError it raised, which the app shows as it would its own. Only
Duly's own code runs on either end: the function is named by its module and name, and the child is started with
-P, so a module lying in the user's working directory is not imported in its place (and never sees the job).
A child that dies (killed, or the app gone: on Linux it is told to end with its parent) keeps what its store
function had committed and nothing else: an import is one transaction; a join commits in steps of its own."""
from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
import threading
import time
from collections import deque

from store.errors import DulyError
from store.i18n import N_

PROGRESS_EVERY_S = 0.05  # the child reports at most twenty times a second; the screen shows ten


def run_apart(fn, /, *args, progress=None, **kwargs):
    """fn(*args, progress=..., **kwargs) in a child process: its result, or the DulyError (or OSError) it raised,
    raised here. progress(done, total) is called on this thread as the child reports. fn, its arguments and its
    result must pickle (fn a module's own function)."""
    job = pickle.dumps((fn, args, kwargs, progress is not None))
    if not sys.executable:
        raise DulyError(N_("cannot start a Duly process for this job ({reason})"), reason=f"sys.executable = {sys.executable!r}")
    try:
        # -P: not the working directory first on the path (a store.py lying there must not run, and read the job)
        child = subprocess.Popen([sys.executable, "-P", "-m", __name__, str(os.getpid())], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        raise DulyError(N_("cannot start a Duly process for this job ({reason})"),
                        reason=exc.strerror or str(exc)) from None
    last_words: deque[bytes] = deque(maxlen=3)  # stderr drained as it comes (a full pipe would stall the child)
    drain = threading.Thread(target=last_words.extend, args=(child.stderr,), daemon=True)
    try:
        drain.start()
        # a child that ended at once (a broken pipe; EINVAL on Windows) said why on stderr: read below
        with contextlib.suppress(OSError):
            child.stdin.write(job)
            child.stdin.close()
        while True:
            try:
                kind, *what = pickle.load(child.stdout)
            except (EOFError, pickle.UnpicklingError):
                break
            if kind == "progress":
                if progress is not None:
                    progress(*what)
            elif kind == "result":
                return what[0]
            elif kind == "error":
                raise _error(*what)
            elif kind == "raised":
                raise what[0]
        child.wait()
        drain.join(timeout=1)
        said = [line.decode(errors="replace").strip() for line in last_words]
        said = [line for line in said if line]
        raise DulyError(N_("the job stopped before it ended ({reason})"),
                        reason=said[-1][:200] if said else f"exit {child.returncode}")
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        if drain.is_alive():
            drain.join(timeout=1)
        child.stdout.close()
        if not drain.is_alive():  # else a process the job started still holds stderr: closing would wait for it
            child.stderr.close()


def on_ledger(path: str, passphrase: str, fn, /, *args, **kwargs):
    """In the child: fn(ledger, *args, **kwargs) on its own connection to the ledger at path."""
    from store.ledger.ledger import Ledger

    ledger = Ledger.open(path, passphrase)
    try:
        return fn(ledger, *args, **kwargs)
    finally:
        ledger.close()


def _error(cls: type, state: dict, line: str) -> BaseException:
    """The child's error as the class it raised, with its message id and values (pickling an exception calls its
    constructor with the English line, which not every DulyError takes)."""
    error = cls.__new__(cls)
    error.__dict__.update(state)
    error.args = (line,)
    return error


def _end_with_parent(parent: int) -> None:
    """Linux: the child gets SIGTERM when the app's process ends (a job left behind would hold the write lock), and
    ends at once if the app ended before it was told so. Elsewhere the job stops at its next report to the app,
    which no longer reads it (a broken pipe: its transaction is rolled back)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1
    if os.getppid() != parent:
        sys.exit(1)


def main() -> None:
    """The child: read the job from stdin, run it, answer on what was stdout (anything the job prints goes to
    stderr instead, so it cannot break the answers)."""
    from store.ledger.db import harden_process

    harden_process(bulk=True)
    _end_with_parent(int(sys.argv[1]))
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    fn, args, kwargs, reported = pickle.load(sys.stdin.buffer)

    def answer(*message) -> None:
        pickle.dump(message, answers)
        answers.flush()

    shown = [0.0]

    def report(done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - shown[0] >= PROGRESS_EVERY_S or total is None or done >= total:
            shown[0] = now
            answer("progress", done, total)

    try:
        result = fn(*args, **({"progress": report} if reported else {}), **kwargs)
    except DulyError as exc:
        answer("error", type(exc), dict(exc.__dict__), str(exc))
        return
    except OSError as exc:  # a file it could not read or write: the screen words it as it does its own
        answer("raised", exc)
        return
    answer("result", result)


if __name__ == "__main__":
    main()
