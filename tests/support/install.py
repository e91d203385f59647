"""Duly as a user installs it: the wheel built from this checkout, installed without `-e` into a fresh virtualenv
(a laptop install: no server extra). Building and installing take most of a minute, so they happen once per test
run, shared by every test that needs them, in every pytest-xdist worker: the first to get there builds under a
lock, the others wait for it and reuse the result."""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Install:
    wheel: Path
    duly: Path  # the `duly` script of the fresh virtualenv


def _run(cmd) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def _shared_dir(tmp_path_factory) -> Path:
    """This run's own directory, the same for every xdist worker (each worker's basetemp is a folder of it)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def install(tmp_path_factory) -> Install:
    """The wheel and the installed `duly`, built on the first call of the run."""
    where = _shared_dir(tmp_path_factory) / "duly-install"
    where.mkdir(exist_ok=True)
    venv = where / "venv"
    with open(where / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (where / "done").exists():
            out = where / "wheel"
            built = _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(ROOT)])
            assert built.returncode == 0, built.stderr
            (found,) = out.glob("duly-*.whl")
            made = _run([sys.executable, "-m", "venv", str(venv)])
            assert made.returncode == 0, made.stderr
            added = _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(found)])
            assert added.returncode == 0, added.stderr
            (where / "done").write_text(found.name, encoding="utf-8")
        wheel = where / "wheel" / (where / "done").read_text(encoding="utf-8")
    return Install(wheel, venv / "bin" / "duly")
