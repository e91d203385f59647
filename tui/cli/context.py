"""What every command needs: where the ledger is, its passphrase, and how to print results."""
from __future__ import annotations

import getpass
import os
import sys
from datetime import date
from pathlib import Path

from store.errors import DulyError, WrongPassphrase, os_reason
from store.ledger.ledger import Ledger
from store.i18n import known, translate
from store.rules.aging import YEAR_LABELS
from store.rules.money import format_amount, to_decimal_str
from store.rules.validate import parse_date
from tui.app.i18n import choose_language
from tui.cli import output
from store.i18n import N_


# Columns whose values come from a fixed list, and the catalogue's family of words for them ("method.cash").
VALUE_WORDS = {"method": "method", "status": "status", "channel": "channel", "kind": "alert", "bucket": "bucket",
               "settlement_cycle": "cycle", "cycle": "cycle", "language": "language", "action": "action",
               "source": "source", "field": "field"}


class UsageError(DulyError):
    """Wrong use of the command line (exit 2)."""


def default_ledger_path() -> Path:
    """The platform's user data dir: XDG on Linux, Application Support on macOS, APPDATA on Windows."""
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    elif os.name == "nt":
        base = Path(os.environ.get("APPDATA") or Path.home())
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "duly" / "ledger.duly"


def read_secret(*, file: str | None, env: str, prompt: str, confirm: bool = False, repeat: str = "Repeat it: ") -> str:
    """A passphrase from a file, an environment variable, or the terminal (in that order); prompt and repeat are
    what the terminal asks, in the reader's language."""
    if file:
        try:
            text = Path(file).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise DulyError(N_("cannot read passphrase file {file}: {reason}"), file=file,
                            reason=os_reason(exc)) from None
        if not text:
            raise DulyError(N_("passphrase file {file} is empty"), file=file)
        return text
    if os.environ.get(env):
        return os.environ[env]
    if not sys.stdin.isatty():
        raise DulyError(N_("no passphrase: set {env}, pass a passphrase file, or run in a terminal"), env=env)
    first = getpass.getpass(prompt)
    if not first:
        raise DulyError(N_("the passphrase must not be empty"))
    if confirm and getpass.getpass(repeat) != first:
        raise DulyError(N_("the two passphrases differ; nothing was changed"))
    return first


class Context:
    def __init__(self, args):
        self.args = args
        path = getattr(args, "ledger", None) or os.environ.get("DULY_LEDGER")
        self.ledger_path = Path(path).expanduser() if path else default_ledger_path()
        self.format = getattr(args, "format", None) or "table"
        self._ledger: Ledger | None = None

    def language(self) -> str:
        """The language of what this command prints: tui.app.i18n.choose_language's rule (--lang, DULY_LANG,
        this device's `language` setting once the ledger is open, the locale, English)."""
        setting = None
        if self._ledger is not None:
            from store.write.settings import get

            try:
                setting = get(self._ledger, "language")
            except Exception:  # a ledger closed or broken under us: the rule goes on without it
                setting = None
        return choose_language(setting, flag=getattr(self.args, "lang", None))

    def t(self, msgid: str, /, **values) -> str:
        """Words for people in this command's language (see tui/app/i18n.py for how to add one)."""
        return translate(self.language(), msgid, **values)

    def said(self, line: object) -> str:
        """A line kept with its message id (an error, a store.errors.Said) in this command's language; text as it is."""
        text = getattr(line, "text", None)
        return text(self.language()) if callable(text) else str(line)

    def warn(self, line: object) -> None:
        """`duly: warning: …` on stderr, in this command's language."""
        print("duly: " + self.t("warning: {warning}", warning=self.said(line)), file=sys.stderr)

    def passphrase(self, *, confirm: bool = False) -> str:
        return read_secret(
            file=getattr(self.args, "passphrase_file", None), env="DULY_PASSPHRASE",
            prompt=self.t("Passphrase for {path}: ", path=self.ledger_path), confirm=confirm,
            repeat=self.t("Repeat it: "),
        )

    def ledger(self) -> Ledger:
        if self._ledger is None:
            self._ledger = self._open_with_agent() or Ledger.open(self.ledger_path, self.passphrase(),
                                                                   on_upgrade=self._upgrading)
            from store.write.settings import currency_problems

            for problem in currency_problems(self._ledger):
                self.warn(problem)
        return self._ledger

    def _open_with_agent(self) -> Ledger | None:
        """The ledger opened with the key `duly unlock` left in the agent, if it holds one for this file (a
        passphrase file given explicitly wins). A key that no longer opens it (a new passphrase) is dropped."""
        if getattr(self.args, "passphrase_file", None):
            return None
        from tui.cli import key_agent as agent

        key = agent.key_for(self.ledger_path)
        if not key:
            return None
        try:
            return Ledger.open(self.ledger_path, key, on_upgrade=self._upgrading)
        except WrongPassphrase:
            agent.forget(self.ledger_path)
            return None

    def _upgrading(self, found: int, target: int) -> None:
        print("duly: " + self.t("upgrading {path} from schema {found} to {target} (once; a big ledger takes a few "
                                "seconds)", path=self.ledger_path, found=found, target=target),
              file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None

    # -- output ----------------------------------------------------------------------------------
    def emit(self, rows: list[dict], columns: list[str], *, headers: dict | None = None,
             right: set[str] = frozenset(), json_value=None, overdue=None) -> None:
        """Print a list as a table, csv, or json (json_value replaces rows when given). A table at a terminal is
        paged when long and coloured: negative amounts, and the cells overdue(row) names."""
        if self.format == "json":
            print(output.to_json(rows if json_value is None else json_value))
        elif self.format == "csv":
            sys.stdout.write(output.to_csv(rows, columns))
        elif rows:
            rows, headers = self._worded(rows, columns, headers or {})
            text = output.table(rows, columns, headers=headers, right=right, colour=output.colour_wanted(),
                                overdue=overdue)
            output.page(text, allowed=not getattr(self.args, "no_pager", False))
        else:
            print(self.t("(none)"))

    def _worded(self, rows: list[dict], columns: list[str], headers: dict) -> tuple[list[dict], dict]:
        """A table for people in their language: column titles, and values from a fixed list (bank_transfer,
        not_due, per_order) as words. English keeps the column keys scripts know, save the year buckets' words."""
        language = self.language()
        has = self.t_has
        worded = {}
        for col in columns:
            shown = headers.get(col, col)
            if has(f"bucket.{col}") and (language != "en" or col in YEAR_LABELS):
                worded[col] = translate(language, f"bucket.{col}")
            elif language != "en" and has(f"col.{shown}"):
                worded[col] = translate(language, f"col.{shown}")
            else:
                worded[col] = shown
        if language == "en":
            return rows, worded
        kinds = {col: VALUE_WORDS[col] for col in columns if col in VALUE_WORDS}

        def word(col, value):
            key = f"{kinds[col]}.{value}"
            return translate(language, key) if isinstance(value, str) and has(key) else value

        def said(value):  # a cell kept with its message id (store.errors.Said: an import's row detail)
            text = getattr(value, "text", None)
            return text(language) if callable(text) else value

        return [{**row, **{c: said(row[c]) for c in columns if c in row},
                 **{c: word(c, row.get(c)) for c in kinds}} for row in rows], worded

    @staticmethod
    def t_has(msgid: str) -> bool:
        return known(msgid)

    def emit_record(self, record: dict, *, sections: dict[str, tuple[list[dict], list[str]]] | None = None) -> None:
        """Print one record (key: value lines) and optional sub-lists."""
        sections = sections or {}
        if self.format == "json":
            print(output.to_json({**record, **{k: rows for k, (rows, _) in sections.items()}}))
            return
        if self.format == "csv":
            sys.stdout.write(output.to_csv([record], list(record)))
            return
        language = self.language()

        def label(key: str) -> str:  # a field's or a section's title in the reader's language (English: the key)
            return translate(language, f"col.{key}") if language != "en" and known(f"col.{key}") else key

        [shown], _ = self._worded([record], list(record), {})  # values from a fixed list as words
        if language != "en":  # a yes/no field (archived) in words
            shown = {k: self.t("yes") if v is True else self.t("no") if v is False else v for k, v in shown.items()}
        width = max(output.cell_width(label(k)) for k in record)
        for key, value in shown.items():
            print(f"{output.pad(label(key), width)}  {output.terminal_text('' if value is None else str(value))}")
        for title, (rows, columns) in sections.items():
            print(f"\n{label(title)}:")
            if rows:
                rows, headers = self._worded(rows, columns, {})
                print(output.table(rows, columns, headers=headers))
            else:
                print("  " + self.t("(none)"))

    def amount(self, minor: int, currency: str) -> str:
        """An amount as this output shows it: thousands separators in a table, a plain decimal in json and csv."""
        return format_amount(minor, currency) if self.format == "table" else to_decimal_str(minor, currency)

    def done(self, message: str) -> None:
        """A confirmation for people; scripts asking for json get {"ok": ..., "message": ...}."""
        if self.format == "json":
            print(output.to_json({"ok": True, "message": message}))
        else:
            print(output.terminal_text(message))


def as_of_option(parser) -> None:
    """The --as-of D option of a report."""
    parser.add_argument("--as-of", metavar="D", help="the report date (default today)")


def date_given(args, name: str = "as_of", flag: str = "--as-of") -> date:
    """The date the user gave for an option (named by flag in a refusal), else today."""
    value = getattr(args, name, None)
    return parse_date(value, flag) if value else date.today()
