"""The peers' own tools reading Duly's journals: hledger and bean-check, never skipped when missing."""
from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path


def need(tool: str) -> str:
    """A real peer tool; missing means the test fails (CI installs it: .ci/run), it is never skipped."""
    found = shutil.which(tool) or (Path(sys.executable).with_name(tool) if Path(sys.executable).with_name(tool).exists()
                                   else None)
    assert found, f"{tool} is not installed (hledger: apt-get install hledger; bean-check: pip install beancount)"
    return str(found)



def hledger_balances(journal: Path, query: list[str]) -> dict[tuple[str, str], Decimal]:
    out = subprocess.run([need("hledger"), "-f", str(journal), "bal", *query, "--flat", "-N", "-O", "csv",
                          "--layout=bare"], capture_output=True, text=True, check=True).stdout
    found = {}
    for row in csv.DictReader(io.StringIO(out)):
        found[(row["account"], row["commodity"])] = Decimal(row["balance"])
    return found
