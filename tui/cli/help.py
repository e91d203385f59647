"""`duly help COMMAND` and `duly completion SHELL` (the examples that end each command's help: tui.cli.examples)."""
from __future__ import annotations

import argparse

from tui.cli.context import UsageError
from tui.cli.examples import did_you_mean
from store.i18n import N_



def register(sub, common) -> None:
    p = sub.add_parser("help", parents=[common], help="help on a command (same as `duly COMMAND --help`)")
    p.add_argument("topic", nargs="*", metavar="COMMAND", help="a command and its subcommand, e.g. invoice add")
    p.set_defaults(handler=show_help)

    p = sub.add_parser("completion", parents=[common], help="print a shell completion script")
    p.add_argument("shell", choices=["bash", "zsh", "fish"], help="the shell to complete for")
    p.set_defaults(handler=completion)


def show_help(args, ctx):
    from tui.cli.main import COMMANDS, build_parser

    if not args.topic:
        build_parser(None).print_help()
        return 0
    known = sorted({name for names in COMMANDS.values() for name in names})
    if args.topic[0] not in known:
        close = did_you_mean(args.topic[0], known)
        if close:
            raise UsageError(N_("no command {value}; did you mean {words}? (see `duly help`)"),
                             value=repr(args.topic[0]), words=close)
        raise UsageError(N_("no command {value} (see `duly help`)"), value=repr(args.topic[0]))
    argv = [*args.topic, "--help"]
    build_parser(argv).parse_args(argv)  # prints the help and exits 0, or names a wrong subcommand (exit 2)
    return 0


_FILE_METAVARS = {"FILE", "PATH"}
_DIR_METAVARS = {"DIR"}


def completion(args, ctx):
    import shtab

    from tui.cli.main import build_parser

    parser = build_parser(None)
    _mark_paths(parser, shtab)
    print(shtab.complete(parser, shell=args.shell))
    return 0


def _mark_paths(parser: argparse.ArgumentParser, shtab) -> None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _mark_paths(child, shtab)
        elif action.metavar in _FILE_METAVARS or (action.metavar is None and action.dest in ("file", "path")):
            action.complete = shtab.FILE
        elif action.metavar in _DIR_METAVARS:
            action.complete = shtab.DIRECTORY
