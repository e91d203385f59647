"""`duly`: the command line (DESIGN §5). Thin over the store: parse, call, print, exit code."""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback

from store.ledger.db import bulk_command, harden_process
from store.errors import DulyError, Said
from store.rules.safetext import terminal_text
from store.i18n import N_, translate
from tui.app.i18n import LANGUAGE_RULE, LANGUAGES, choose_language
from tui.cli.context import Context, UsageError

# Each module registers the top-level commands it owns, each with its whole parser and its handlers
# (`fn(args, ctx) -> int | None`); no module touches another's parser. Listed with those commands, so that a
# command imports only the module it needs
# (importing every module costs 0.3-0.7 s per run). tests/tui/cli/test_cli_foundation.py checks this table.
COMMANDS = {
    "tui.cli.ledger": ("audit", "backup", "check", "init", "passwd", "restore", "settings", "tui"),
    "tui.cli.customers": ("customer",),
    "tui.cli.documents": ("credit", "debit", "invoice", "payment", "terms", "writeoff"),
    "tui.cli.drafts": ("draft",),
    "tui.cli.recurring": ("recurring",),
    "tui.cli.reports": ("demo", "report"),
    "tui.cli.statements": ("statement",),
    "tui.cli.collections": ("contract", "dispute", "note", "promise", "remind"),
    "tui.cli.sync": ("serve", "sync"),
    "tui.cli.transfer": ("export", "import"),
    "tui.cli.reconcile": ("reconcile",),
    "tui.cli.templates": ("template",),
    "tui.cli.letters": ("letter",),
    "tui.cli.help": ("completion", "help"),
    "tui.cli.agent": ("lock", "unlock"),
    "tui.cli.rates": ("rate",),
}
COMMAND_MODULES = list(COMMANDS)
_VALUE_OPTIONS = {"--ledger", "--passphrase-file", "--format", "--lang"}


def modules_for(argv: list[str] | None) -> list[str]:
    """The command modules a command line needs: those of its command; all of them for help, an unknown
    command or none given (a bare `duly` opens the TUI, which the ledger module registers)."""
    if argv is None:
        return COMMAND_MODULES
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token in ("-h", "--help"):
            return COMMAND_MODULES
        elif token in _VALUE_OPTIONS:
            skip = True
        elif not token.startswith("-"):
            found = [m for m, names in COMMANDS.items() if token in names]
            return found or COMMAND_MODULES
    return ["tui.cli.ledger"]


def common_options() -> argparse.ArgumentParser:
    """Global options, accepted before and after the subcommand."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--ledger", default=argparse.SUPPRESS, metavar="PATH",
                        help="ledger file (default: $DULY_LEDGER or the user data dir)")
    common.add_argument("--passphrase-file", default=argparse.SUPPRESS, metavar="FILE",
                        help="read the passphrase from FILE (else $DULY_PASSPHRASE, else a prompt)")
    common.add_argument("--format", choices=["table", "json", "csv"], default=argparse.SUPPRESS,
                        help="output format for lists and reports")
    common.add_argument("--lang", choices=list(LANGUAGES), default=argparse.SUPPRESS,
                        help=f"{LANGUAGE_RULE} (zh: 简体中文)")
    common.add_argument("--no-pager", action="store_true", default=argparse.SUPPRESS,
                        help="print long tables straight to the terminal (else they go through $DULY_PAGER or less)")
    return common


# argparse's own words (usage, its errors, its help headings), looked up through gettext's _() at run time: the
# command line points that _() at the catalogue, so a bad option is refused in the reader's language too.
ARGPARSE_WORDS = (
    N_("usage: "), N_("positional arguments"), N_("options"), N_("show this help message and exit"),
    N_("argument %(argument_name)s: %(message)s"), N_("unrecognized arguments: %s"),
    N_("not allowed with argument %s"), N_("ignored explicit argument %r"),
    N_("the following arguments are required: %s"), N_("one of the arguments %s is required"),
    N_("expected one argument"), N_("expected at most one argument"), N_("expected at least one argument"),
    N_("expected %s argument"), N_("expected %s arguments"),
    N_("ambiguous option: %(option)s could match %(matches)s"), N_("invalid %(type)s value: %(value)r"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("{message} (see `{prog} --help`)"), N_("; did you mean {words}?"), N_("no command {value}{hint}"),
    N_("invalid choice: {value}{hint}"),
)


SPOKEN = {"language": "en"}  # the language of this run's --help and argparse's words (set by speak)


def speak(language: str) -> None:
    """argparse's words in a language, for this run (argparse reads them through its module's _ and ngettext)."""
    SPOKEN["language"] = language
    argparse._ = lambda text: translate(language, text)
    argparse.ngettext = lambda one, many, n: translate(language, one if n == 1 else many)


def language_given(argv: list[str]) -> str:
    """The language by the rule before the ledger is open: --lang (read before argparse runs), DULY_LANG, the
    locale."""
    flag = None
    for i, token in enumerate(argv):
        if token == "--lang" and i + 1 < len(argv):
            flag = argv[i + 1]
        elif token.startswith("--lang="):
            flag = token.partition("=")[2]
    return choose_language(None, flag=flag)


class Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, "duly: " + argparse._("{message} (see `{prog} --help`)").format(message=message, prog=self.prog)
                  + "\n")

    def _check_value(self, action, value):
        """A word that is not one of the choices gets the close ones suggested (`duly invoce` -> invoice)."""
        if action.choices is not None and value not in action.choices:
            from tui.cli.examples import did_you_mean

            hint = did_you_mean(str(value), action.choices)
            if hint:
                hint = argparse._("; did you mean {words}?").format(words=hint)
            if isinstance(action, argparse._SubParsersAction):
                raise argparse.ArgumentError(None, argparse._("no command {value}{hint}").format(
                    value=repr(value), hint=hint))
            if hint:
                raise argparse.ArgumentError(action, argparse._("invalid choice: {value}{hint}").format(
                    value=repr(value), hint=hint))
        super()._check_value(action, value)


def version() -> str:
    """The installed distribution's version (the wheel's metadata; an editable install has it too)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("duly")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser for this command line (`argv`), or for every command (None)."""
    common = common_options()
    parser = Parser(prog="duly", description="Duly: a local-first accounts-receivable ledger. A date (D) is "
                    "YYYY-MM-DD, today, yesterday or tomorrow.", parents=[common],
                    epilog=f"Language (语言): {LANGUAGE_RULE}.")
    parser.add_argument("--version", action="version", version=f"duly {version()}",
                        help="print Duly's version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in modules_for(argv):
        importlib.import_module(name).register(sub, common)
    from tui.cli.examples import add_examples

    add_examples(sub)
    _accept_date_words(parser)
    localise_help(parser, SPOKEN["language"])
    return parser


def localise_help(parser: argparse.ArgumentParser, language: str) -> None:
    """Every help text of a parser and its subcommands in a language: each is its own message id (the English
    text, extracted from tui/cli/*.py by tests/support/catalogue.py); the examples stay as typed. The language is
    --lang, DULY_LANG or the locale: --help never opens the ledger, so the device's `language` setting is not read."""
    if language == "en":
        return
    if parser.description:
        parser.description = translate(language, parser.description)
    if parser.epilog:
        head, sep, rest = parser.epilog.partition("\n")
        if head == "examples:":
            parser.epilog = translate(language, N_("examples:")) + sep + rest
        elif LANGUAGE_RULE in parser.epilog:
            rule = translate(language, LANGUAGE_RULE)
            parser.epilog = translate(language, N_("Language: {rule}"), rule=rule) + "。"
        else:
            parser.epilog = translate(language, parser.epilog)
    for action in parser._actions:
        if action.dest == "lang" and action.help and LANGUAGE_RULE in action.help:
            action.help = translate(language, LANGUAGE_RULE) + " (zh: 简体中文)"
        elif isinstance(action.help, Said):  # a help text with values ("one of: {names}"): worded, then filled
            action.help = action.help.text(language)
        elif action.help and action.help is not argparse.SUPPRESS:
            action.help = translate(language, action.help)
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                if choice.help:
                    choice.help = translate(language, choice.help)
            for child in {id(p): p for p in action.choices.values()}.values():
                localise_help(child, language)


def typed_date(text: str) -> str:
    """A date option's value: today / yesterday / tomorrow become ISO dates; the store checks the rest."""
    from datetime import date

    from store.rules.validate import relative_date

    return relative_date(text, date.today())


def _accept_date_words(parser: argparse.ArgumentParser) -> None:
    """Every date option (metavar D) takes today, yesterday and tomorrow besides YYYY-MM-DD."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _accept_date_words(child)
        elif action.metavar == "D" and action.type is None:
            action.type = typed_date


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    speak(language_given(argv))
    parser = build_parser(argv)
    args = parser.parse_args(argv)  # opens nothing: the process is hardened before any ledger is opened
    harden_process(bulk=bulk_command(getattr(args, "command", None), getattr(args, "action", None)))
    if not getattr(args, "handler", None):
        if args.command is None:
            args.command = "tui"
            from tui.cli.ledger import open_tui

            args.handler = open_tui
        else:
            parser.parse_args([args.command, "--help"])
    ctx = Context(args)
    try:
        code = args.handler(args, ctx)
        return int(code or 0)
    except UsageError as exc:
        print(f"duly: {exc.text(ctx.language())}", file=sys.stderr)
        return 2
    except DulyError as exc:
        print(f"duly: {terminal_text(exc.text(ctx.language()))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("duly: " + ctx.t("interrupted; nothing half-written was kept"), file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the last line of defence: one line, never a traceback
        if os.environ.get("DULY_DEBUG"):
            traceback.print_exc()
        print("duly: " + ctx.t("internal error: {kind}: {error} (set DULY_DEBUG=1 for details)",
                               kind=type(exc).__name__, error=exc), file=sys.stderr)
        return 1
    finally:
        ctx.close()


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
