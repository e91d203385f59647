"""`duly template list | show | edit | reset`: the templates of the documents sent to customers (statements,
confirmation letters, dunning letters, payment requests), zh and en. An edited template is kept in the ledger
(synced to the team); one that does not parse is refused, naming its line, and the version in force stays."""
from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from store.errors import DulyError, Said, os_reason
from store.files.documents import engine
from store.write import templates
from store.i18n import N_
from tui.cli.context import UsageError


def register(sub, common) -> None:
    p = sub.add_parser("template", parents=[common], help="document templates (statements, letters), zh and en")
    tsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = tsub.add_parser("list", parents=[common], help="every template and whether it is edited or the default")
    q.set_defaults(handler=template_list)
    for action, handler, text in (("show", template_show, N_("print the template in force (or --default)")),
                                  ("edit", template_edit, N_("change a template in $VISUAL / $EDITOR, or from --file")),
                                  ("reset", template_reset, N_("go back to the default template"))):
        q = tsub.add_parser(action, parents=[common], help=text)
        q.add_argument("name", metavar="NAME", help=Said(N_("one of: {names}"), names=", ".join(engine.NAMES)))
        if action == "show":
            q.add_argument("--default", action="store_true", help="the default shipped with Duly")
        if action == "edit":
            q.add_argument("--file", metavar="FILE", help="take the new template from FILE (no editor)")
        q.set_defaults(handler=handler)


def template_list(args, ctx):
    rows = templates.listing(ctx.ledger())
    if ctx.format == "table" and ctx.language() != "en":  # what each template is for, in the reader's language
        for row in rows:
            row["document"] = engine.DESCRIPTIONS[row["name"].partition(".")[0]][0]
    ctx.emit(rows, ["name", "language", "source", "document"])


def template_show(args, ctx):
    engine.check_name(args.name)
    text = engine.default_source(args.name) if args.default else templates.source(ctx.ledger(), args.name)[0]
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = os_reason(exc) if isinstance(exc, OSError) else DulyError(N_("not UTF-8 text"))
        raise DulyError(N_("cannot read {path}: {reason}"), path=path, reason=reason) from None


def _edit_in_editor(name: str, text: str) -> str:
    if not sys.stdin.isatty():
        raise UsageError(N_("template edit {name}: no terminal for an editor: pass --file FILE"), name=name)
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.TemporaryDirectory(prefix="duly-template-") as tmp:
        path = Path(tmp) / f"{name}.html"
        path.write_text(text, encoding="utf-8")
        try:
            done = subprocess.run([*shlex.split(editor), str(path)])
        except (OSError, ValueError) as exc:
            raise DulyError(N_("cannot start the editor {editor}: {reason}"), editor=repr(editor), reason=str(exc)) from None
        if done.returncode != 0:
            raise DulyError(N_("the editor {editor} exited with {code}: template {name} not changed"),
                            editor=repr(editor), code=done.returncode, name=name)
        return _read(str(path))


def template_edit(args, ctx):
    engine.check_name(args.name)
    ledger = ctx.ledger()
    before, _ = templates.source(ledger, args.name)
    after = _read(args.file) if args.file else _edit_in_editor(args.name, before)
    if after == before:
        ctx.done(ctx.t("template {name} unchanged", name=args.name))
        return
    templates.put(ledger, args.name, after)  # refused (nothing kept) when it does not parse
    ctx.done(ctx.t("template {name} saved (synced to the team; `duly template reset {name}` goes back to the "
                   "default)", name=args.name))


def template_reset(args, ctx):
    if templates.reset(ctx.ledger(), args.name):
        ctx.done(ctx.t("template {name} is the default again", name=args.name))
    else:
        ctx.done(ctx.t("template {name} was the default already", name=args.name))
