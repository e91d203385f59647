"""Errors are types; the CLI and TUI turn them into one line for a person, in that person's language.

An error carries a message id and its values, not finished words:

    raise NotFound(N_("customer {code} not found"), code=code)

The id is the English sentence with named placeholders (N_ marks it for the catalogue: see tui/app/i18n.py for how
a string is added). str(err) is the English line; err.text("zh") the line in Chinese, chosen where it is shown.
A value that is itself a DulyError is worded in the same language ("setting {key}: {reason}", reason=exc)."""
from __future__ import annotations

import errno
from pathlib import Path

from store.i18n import N_, translate


# The names of fields that messages name ("{field_name} {value} is not a date"), worded in the reader's language.
FIELD_NAMES = frozenset((
    N_("date"), N_("reason"), N_("statement date"), N_("as-of date"), N_("invoice date"), N_("void date"),
    N_("payment date"), N_("note"), N_("end date"), N_("due date"), N_("date sent"), N_("contact name"),
    N_("as of"), N_("write-off date"), N_("to date"), N_("their balance"), N_("start date"), N_("resume date"),
    N_("portion"), N_("name"), N_("from date"), N_("dispute date"), N_("debit note date"), N_("date resolved"),
    N_("date answered"), N_("credit note date"), N_("credit limit"), N_("allocation date"), N_("amount"),
    N_("tax"), N_("total"), N_("amount before tax"), N_("review date"), N_("promise date"), N_("day"), N_("days"),
    N_("months"), N_("rate"), N_("settlement cycle"), N_("category"), N_("language"),
))


class DulyError(Exception):
    """Base for every error a user can cause; str(err) is the one line shown, err.text(language) in a language."""

    def __init__(self, message: str = "", /, **values):
        self.msgid = message
        self.values = values
        super().__init__(self.text("en"))

    def text(self, language: str = "en") -> str:
        """The one line in a language (English where the catalogue has no words for it)."""
        shown = {k: v.text(language) if isinstance(v, (DulyError, Said)) else v for k, v in self.values.items()}
        # "invoice date", "amount": the field's own words where the catalogue has them
        for key in ("field_name", "what", "where"):
            if isinstance(shown.get(key), str) and shown[key] in FIELD_NAMES:
                shown[key] = translate(language, shown[key])
        try:
            return translate(language, self.msgid, **shown)
        except (KeyError, IndexError, ValueError):  # words whose placeholders do not fit: say it in English
            return self.msgid.format(**shown) if shown else self.msgid


class Said(str):
    """A line made from a message id and its values where a list of lines is kept as text (an import's problems,
    a run's report): str is the English line, as files, JSON and older callers read it; .text(language) the words
    in a language, which the CLI and the app show (t.error(line) words it)."""

    error: DulyError

    def __new__(cls, message: str, /, **values) -> Said:
        error = DulyError(message, **values)
        said = super().__new__(cls, error.text("en"))
        said.error = error
        return said

    def text(self, language: str = "en") -> str:
        return self.error.text(language)

    @classmethod
    def of(cls, error: DulyError) -> Said:
        """An error kept as a line (a send's outcome): its English words, worded again in the reader's language."""
        said = super().__new__(cls, error.text("en"))
        said.error = error
        return said


def joined(lines: list) -> str:
    """Several lines as one ("a; b"), each kept with its message id, so the reader's language still words them."""
    if not lines:
        return ""
    if len(lines) == 1:
        return lines[0]
    return Said(N_("{first}; {rest}"), first=lines[0], rest=joined(lines[1:]))


class InvalidInput(DulyError):
    def __init__(self, message: str, /, *, field: str | None = None, **values):
        super().__init__(message, **values)
        self.field = field


class WrongPassphrase(DulyError):
    def __init__(self, path: str):
        super().__init__(N_("wrong passphrase for ledger {path} (or the file is not a Duly ledger)"), path=str(path))


class LedgerNotFound(DulyError):
    def __init__(self, path: str):
        super().__init__(N_("no ledger at {path}: create one with `duly init` or `duly demo`"), path=str(path))


class LedgerIsFolder(DulyError):
    def __init__(self, path: str):
        super().__init__(N_("{path} is a folder, not a ledger file: give the file's own path (e.g. {example})"),
                         path=str(path), example=str(Path(path) / "books.duly"))


class LedgerExists(DulyError):
    def __init__(self, path: str):
        super().__init__(N_("a ledger already exists at {path}; refusing to overwrite it"), path=str(path))


class LedgerLocked(DulyError):
    def __init__(self, path: str):
        super().__init__(N_("ledger {path} is busy (another Duly is writing); try again"), path=str(path))


class NotFound(DulyError):
    """A record named by the user does not exist (unknown customer, invoice...)."""


class Conflict(DulyError):
    """The write contradicts what is there (duplicate code, over-allocation...)."""


class BadBackup(DulyError):
    """A backup that failed its checks; nothing was replaced."""


class OtherLedger(BadBackup):
    """A backup of another ledger than the one it would replace (or one that cannot tell): refused unless the user
    says so (`restore --other-ledger`, the restore form's choice)."""

    field = "other_ledger"


class ClockSkew(DulyError):
    """A batch of changes carries a clock too far in the future."""


class DiskFull(DulyError):
    """A write failed for want of space; what was being written was rolled back or removed."""

    def __init__(self, path: str, detail: str = ""):
        if detail:
            super().__init__(N_("the disk is full: cannot write {path} ({detail}); nothing was changed: free some "
                                "space and try again"), path=str(path), detail=detail)
        else:
            super().__init__(N_("the disk is full: cannot write {path}; nothing was changed: free some space and "
                                "try again"), path=str(path))


class DamagedLedger(DulyError):
    """The live ledger fails its page-level checks."""


class LedgerInUse(DulyError):
    def __init__(self, path: str):
        super().__init__(N_("ledger {path} is open in another Duly (the app, a sync, a command still running): "
                            "close it and try again; nothing was replaced"), path=str(path))


_OS_REASONS = {
    errno.ENOENT: N_("no such file or folder"), errno.EACCES: N_("permission denied"),
    errno.EPERM: N_("permission denied"), errno.EISDIR: N_("it is a folder, not a file"),
    errno.ENOTDIR: N_("a part of the path is not a folder"), errno.ENOSPC: N_("the disk is full"),
    errno.EROFS: N_("the file system is read-only"),
}


def os_reason(exc: OSError) -> DulyError:
    """Why an OS call failed, as a value for a message ("cannot read {path}: {reason}"), in the reader's language
    for the usual reasons (the system's own English words for the rest)."""
    known = _OS_REASONS.get(getattr(exc, "errno", None))
    return DulyError(known) if known else DulyError("{reason}", reason=getattr(exc, "strerror", None) or str(exc))
