"""Errors are types; the CLI and TUI turn them into one line for a person."""
from __future__ import annotations


class DulyError(Exception):
    """Base for every error a user can cause; str(err) is the one line shown."""


class InvalidInput(DulyError):
    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


class WrongPassphrase(DulyError):
    def __init__(self, path: str):
        super().__init__(f"wrong passphrase for ledger {path} (or the file is not a Duly ledger)")


class LedgerNotFound(DulyError):
    def __init__(self, path: str):
        super().__init__(f"no ledger at {path}: create one with `duly init` or `duly demo`")


class LedgerExists(DulyError):
    def __init__(self, path: str):
        super().__init__(f"a ledger already exists at {path}; refusing to overwrite it")


class LedgerLocked(DulyError):
    def __init__(self, path: str):
        super().__init__(f"ledger {path} is busy (another Duly is writing); try again")


class NotFound(DulyError):
    """A record named by the user does not exist (unknown customer, invoice...)."""


class Conflict(DulyError):
    """The write contradicts what is there (duplicate code, over-allocation...)."""


class BadBackup(DulyError):
    """A backup that failed its checks; nothing was replaced."""


class ClockSkew(DulyError):
    """A batch of changes carries a clock too far in the future."""


class DiskFull(DulyError):
    """A write failed for want of space; what was being written was rolled back or removed."""

    def __init__(self, path: str, detail: str = ""):
        why = f" ({detail})" if detail else ""
        super().__init__(f"the disk is full: cannot write {path}{why}; nothing was changed: free some space "
                         "and try again")


class DamagedLedger(DulyError):
    """The live ledger fails its page-level checks."""


class LedgerInUse(DulyError):
    def __init__(self, path: str):
        super().__init__(f"ledger {path} is open in another Duly (the app, a sync, a command still running): "
                         "close it and try again; nothing was replaced")
