"""`duly statement ...`: statements of account (对账单), shown, sent and tracked until the customer confirms.

`duly statement CODE --as-of D | --from D --to D` shows one (table, json, csv, md, html, pdf), from the templates
in force (store.files.documents) in the customer's language;
`duly statement CODE --as-of D --send`, `duly statement --all --as-of D --send [--out DIR]` sends and tracks them;
`duly statement confirm CODE --as-of D [--their-balance A]`, `duly statement resolve CODE --as-of D --note N` and
`duly statement status [CODE] [--open]` record and show the customer's answer.
"""
from __future__ import annotations

import argparse
import sys

from store.files.documents import render
from store.read import statements
from store.rules import money
from store.rules.validate import parse_date
from store.write import confirmations, customers
from tui.cli import output
from tui.cli.context import UsageError
from store.i18n import N_

STATEMENT_FORMATS = ["table", "json", "csv", "md", "html", "pdf"]
STATEMENT_ACTIONS = ("confirm", "resolve", "status")


def register(sub, common) -> None:
    # The statement accepts md and html besides the global formats: the global options (all of them, --lang
    # included) with --format widened (argparse cannot widen a parent's choices).
    own = argparse.ArgumentParser(add_help=False)
    for action in common._actions:
        if "--format" not in action.option_strings:
            own._add_action(action)
    own.add_argument("--format", choices=STATEMENT_FORMATS, default=argparse.SUPPRESS,
                     help="table (for the terminal), json, csv, md (Markdown), html or pdf (A4, to a file or a pipe)")
    q = sub.add_parser("statement", parents=[own], help="statement of account (对账单) for one customer")
    q.add_argument("code", nargs="?", metavar="CODE", help="the customer (or confirm | resolve | status, then CODE)")
    q.add_argument("--as-of", metavar="D", help="outstanding items as of D")
    q.add_argument("--from", dest="date_from", metavar="D", help="activity from D ...")
    q.add_argument("--to", dest="date_to", metavar="D", help="... to D")
    q.add_argument("--doc-lang", choices=["zh", "en"],
                   help="the statement's language (default: the customer's; --lang is the language Duly speaks to you)")
    q.add_argument("--internal-notes", action="store_true",
                   help="show our own notes (reasons of voids, write-offs, credit notes); never shown unless asked")
    q.add_argument("target", nargs="?", metavar="CODE", help="after confirm / resolve / status: the customer")
    q.add_argument("--all", action="store_true", help="every customer with a balance as of --as-of")
    q.add_argument("--send", action="store_true", help="e-mail the statement (settings smtp.*) and track it")
    q.add_argument("--out", metavar="DIR", help="write print-ready statements to DIR (HTML, or PDF with --format pdf): "
                   "a preview, tracked as sent only with --mark-sent")
    q.add_argument("--mark-sent", action="store_true",
                   help="record the statement as sent (handed over or posted): with --out, or alone")
    q.add_argument("--attach-pdf", action="store_true", help="--send: attach the statement as a PDF")
    q.add_argument("--resend", action="store_true", help="send again a statement already sent for that date")
    q.add_argument("--their-balance", metavar="A", help="confirm: the balance the customer's books show")
    q.add_argument("--currency", metavar="C", help="confirm / resolve: which currency (when several)")
    q.add_argument("--on", metavar="D", help="date sent / answered / resolved (default today)")
    q.add_argument("--note", metavar="TEXT", help="the discrepancy the customer reported, or how it was resolved")
    q.add_argument("--open", action="store_true", help="status: only differences not yet resolved")
    q.set_defaults(handler=statement)


def statement(args, ctx):
    action = args.code if args.code in STATEMENT_ACTIONS else None
    if action == "status":
        return statement_status(args, ctx)
    if action:
        if not args.target:
            raise UsageError(N_("statement {action}: give the customer CODE, e.g. `duly statement {action} HD001 "
                                "--as-of 2026-06-30`"), action=action)
        if not args.as_of:
            raise UsageError(N_("statement {action}: give --as-of D (the date of the statement)"), action=action)
        return statement_confirm(args, ctx) if action == "confirm" else statement_resolve(args, ctx)
    if args.target:
        raise UsageError(N_("statement: unexpected {target} after {code}"), target=repr(args.target),
                         code=repr(args.code))
    if args.all or args.send or args.out or args.mark_sent:
        return statement_send(args, ctx)
    if not args.code:
        raise UsageError(N_("statement: give a customer CODE (or --all with --send or --out)"))
    return show(args, ctx)


def show(args, ctx):
    """`duly statement CODE --as-of D` or `--from D --to D`: the statement itself, in the format asked."""
    if args.as_of and (args.date_from or args.date_to):
        raise UsageError(N_("statement: give either --as-of D, or --from D --to D, not both"))
    if not args.as_of and not (args.date_from and args.date_to):
        raise UsageError(N_("statement: give --as-of D, or both --from D and --to D"))
    ledger = ctx.ledger()
    customer = customers.by_code(ledger, args.code)
    if args.as_of:
        stmt = statements.statement_of_account(ledger, customer["id"], as_of=parse_date(args.as_of, "--as-of"))
    else:
        stmt = statements.statement_of_account(ledger, customer["id"], start=parse_date(args.date_from, "--from"),
                                               end=parse_date(args.date_to, "--to"))
    fmt = ctx.format
    notes = args.internal_notes
    if fmt == "json":
        print(output.to_json(statements.to_json(stmt)))
    elif fmt == "csv":
        data = statements.to_json(stmt)
        rows = []
        for section in data["sections"]:
            for line in section.get("lines") or section.get("open_items"):
                rows.append({"currency": section["currency"], **line})
        columns = ["currency", "date", "type", "number", "text", "debit", "credit", "balance"] if stmt[
            "kind"] == "activity" else ["currency", "number", "date", "due_date", "days_overdue", "open_amount"]
        sys.stdout.write(output.to_csv(rows, columns))
    else:
        lang = render.language_of(ledger, customer, args.doc_lang)
        if fmt == "md":
            sys.stdout.write(render.statement_markdown(stmt, lang, internal_notes=notes))
        elif fmt == "table":
            output.page(_statement_table(stmt, render.statement_tables(stmt, lang, internal_notes=notes)),
                        allowed=not getattr(args, "no_pager", False))
        else:
            issued = parse_date(args.on, "--on") if args.on else None
            doc = render.statement(ledger, customer["id"], lang=lang, internal_notes=notes, stmt=stmt, issued=issued)
            write_document(doc, fmt)


def _statement_table(stmt: dict, tables: dict) -> str:
    """The statement laid out for a terminal: a heading, then per currency an aligned table, its closing balance
    and its aging."""
    out = [f"{tables['title']}  {stmt['name']} ({stmt['customer']})", tables["subtitle"]]
    for s in tables["sections"]:
        out += ["", s["currency"], output.table(s["rows"], s["columns"], headers=s["headers"], right=s["right"],
                                               colour=output.colour_wanted()), s["closing"], s["aging"]]
    if not tables["sections"]:
        out += ["", tables["nothing"]]
    return "\n".join(out)


def write_document(doc, fmt: str) -> None:
    """A document to standard output: HTML as text; PDF as bytes, only into a file or a pipe."""
    if fmt == "pdf":
        if sys.stdout.isatty():
            raise UsageError(N_("a PDF is not shown on a terminal: redirect it (`> statement.pdf`) or use --out DIR"))
        sys.stdout.flush()
        sys.stdout.buffer.write(doc.pdf())
        sys.stdout.buffer.flush()
    else:
        sys.stdout.write(doc.html)


# --- sending and confirmation ------------------------------------------------------------------------------


def statement_send(args, ctx):
    if not (args.send or args.out or args.mark_sent):
        raise UsageError(N_("statement --all: say how: --send (e-mail) and/or --out DIR (print-ready files), "
                            "or --mark-sent"))
    if not args.as_of or args.date_from or args.date_to:
        raise UsageError(N_("statement --send/--out: give --as-of D (statements that are tracked are 'outstanding "
                            "as of')"))
    if bool(args.all) == bool(args.code):
        raise UsageError(N_("statement --send/--out: give a customer CODE or --all, not both"))
    if ctx.format in ("md", "csv"):
        raise UsageError(N_("statement --send/--out: files are html or pdf (--format pdf); the list printed is a "
                            "table, or json with --format json"))
    file_format = "pdf" if ctx.format == "pdf" else "html"
    results = confirmations.send(ctx.ledger(), args.as_of, codes=None if args.all else [args.code],
                                 email=args.send, out_dir=args.out, resend=args.resend, on=args.on,
                                 mark_sent=args.mark_sent, file_format=file_format, attach_pdf=args.attach_pdf,
                                 lang=args.doc_lang)
    rows = [{"customer": r.code, "channel": r.channel or "", "address": r.address or "", "outcome": r.outcome,
             "balance": ", ".join(f"{ctx.amount(v, c)} {c}" for c, v in r.balances.items())} for r in results]
    if ctx.format == "json":
        print(output.to_json(rows))
    else:
        ctx.emit(rows, ["customer", "balance", "channel", "address", "outcome"])
        sent = sum(1 for r in results if r.outcome == "sent")
        written = sum(1 for r in results if r.outcome.startswith("written"))
        print(ctx.t("{sent} statement(s) sent as of {date}, {unsent} not", sent=sent, date=args.as_of,
                    unsent=len(results) - sent)
              + (ctx.t(" ({written} written as a preview, not marked as sent)", written=written) if written else "")
              + (ctx.t("; {format} files in {folder} are PLAINTEXT: keep them safe or delete them after use",
                       format=file_format.upper(), folder=args.out) if args.out else ""))
    if any(r.outcome.startswith("failed") for r in results):
        print("duly: " + ctx.t("some statements were not sent (see the outcome column)"), file=sys.stderr)
        return 1


def statement_confirm(args, ctx):
    row = confirmations.confirm(ctx.ledger(), args.target, args.as_of, args.their_balance, currency=args.currency,
                                on=args.on, note=args.note)
    cur = row["currency"]
    ours = money.format_amount(row["our_balance"], cur)
    if row["status"] == "confirmed":
        ctx.done(ctx.t("{target}: statement as of {as_of} confirmed ({ours} {cur})",
                       target=args.target, as_of=args.as_of, ours=ours, cur=cur))
    else:
        ctx.done(ctx.t("{target}: statement as of {as_of} disputed: ours {ours}, theirs {their_balance}, difference "
                       "{difference} {cur} (shown in `duly statement status` until resolved)",
                           target=args.target, as_of=args.as_of, ours=ours,
                           their_balance=money.format_amount(row['their_balance'], cur),
                           difference=money.format_amount(row['difference'], cur), cur=cur))


def statement_resolve(args, ctx):
    row = confirmations.resolve(ctx.ledger(), args.target, args.as_of, args.note, currency=args.currency, on=args.on)
    ctx.done(ctx.t("{target}: difference of {difference} {currency} on the statement as of {as_of} resolved",
                   target=args.target, difference=money.format_amount(row['difference'], row['currency']),
                   currency=row['currency'], as_of=args.as_of))


def statement_status(args, ctx):
    rows = confirmations.status(ctx.ledger(), customer_code=args.target, open_only=args.open)
    for r in rows:
        for k in ("our_balance", "their_balance", "difference"):
            r[k] = "" if r[k] is None else ctx.amount(r[k], r["currency"])
    ctx.emit(rows, ["customer", "name", "as_of", "currency", "status", "channel", "sent_on", "our_balance",
                    "their_balance", "difference", "answered_on", "resolved_on", "note"],
             right={"our_balance", "their_balance", "difference"})
