"""Where a contract stands on a day: pure, from its recorded fields (signed, start_date, end_date, status,
ended_on), for the contract screens and lists and for an invoice that names it."""
from __future__ import annotations

# Where a contract stands on a day. Its terms and credit limit are what was agreed for the days it is in force,
# from its start (or, with none, the day it was signed) through its last day; a cancelled contract never was.
CONTRACT_STATES = ("pending", "in_force", "expired", "ended", "cancelled")


def last_day(row: dict) -> str | None:
    """The last day a contract applies: the day it was ended early on, else its agreed end (None: open-ended);
    None for a cancelled one, which never applied."""
    if row.get("status") == "cancelled":
        return None
    return row.get("ended_on") if row.get("status") == "ended" else row.get("end_date")


def contract_state(row: dict, on: str) -> str:
    """pending (before it starts), in_force, expired (after its agreed end), ended (after the day it was ended early
    on; before that day it is still in force) or cancelled (never in force)."""
    if row.get("status") == "cancelled":
        return "cancelled"
    first, last = row.get("start_date") or row.get("signed"), last_day(row)
    if first and on < first:
        return "pending"
    if last and on > last:
        return "ended" if row.get("status") == "ended" else "expired"
    return "in_force"
