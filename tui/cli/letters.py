"""`duly letter confirmation | dunning | request`: the letters a bookkeeper signs and sends, from the templates in
force (`duly template`), as HTML or A4 PDF, in the customer's language.

A letter written to standard output or into --out DIR is a preview; `letter confirmation --mark-sent` records the
balance confirmation as sent, so the customer's reply slip is taken by `duly statement confirm` (agreed, or
disputed with their figure) and tracked by `duly statement status`."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from store.files.documents import render
from store.i18n import N_
from store.rules.validate import parse_date
from store.write import collections, confirmations, customers
from tui.cli.context import date_given


def register(sub, common) -> None:
    # A letter is html or pdf: the global options with --format narrowed (argparse cannot change a parent's choices).
    own = argparse.ArgumentParser(add_help=False)
    for action in common._actions:
        if "--format" not in action.option_strings:
            own._add_action(action)
    own.add_argument("--format", choices=["html", "pdf"], default=argparse.SUPPRESS,
                     help="html (default) or pdf (A4; to a file, a pipe or --out DIR)")
    p = sub.add_parser("letter", parents=[own], help="confirmation letters, dunning letters, payment requests")
    lsub = p.add_subparsers(dest="letter", metavar="LETTER", required=True)
    for name, handler, text in (
        ("confirmation", confirmation, N_("往来款项询证函: our balance as of D, with the reply slip to sign or correct")),
        ("dunning", dunning, N_("催款函: the customer's invoices due for a reminder as of D, at their level")),
        ("request", request, N_("请款单: a payment request for open invoices, with the account to pay into")),
    ):
        q = lsub.add_parser(name, parents=[own], help=text)
        q.add_argument("code", metavar="CODE", help="the customer")
        q.add_argument("--as-of", metavar="D", help="the date of the balance (default today)")
        q.add_argument("--doc-lang", choices=["zh", "en"],
                       help="the letter's language (default: the customer's; --lang is the language Duly speaks)")
        q.add_argument("--out", metavar="DIR", help="write the letter into DIR (a plaintext file) instead of stdout")
        q.add_argument("--on", metavar="D", help="the date on the letter (default today)")
        if name == "confirmation":
            q.add_argument("--reply-by", metavar="D", help="the date the reply slip is asked back by")
            q.add_argument("--mark-sent", action="store_true",
                           help="record it as sent: the reply is then taken by `duly statement confirm`")
        if name == "request":
            q.add_argument("--invoice", action="append", metavar="NUMBER",
                           help="the invoices asked for (repeat; default every open one)")
        q.set_defaults(handler=handler)


def _issued(args):
    return parse_date(args.on, "--on") if args.on else None


def _emit(args, ctx, doc) -> str | None:
    """The letter to stdout, or into --out DIR; the path written, if any."""
    fmt = "pdf" if ctx.format == "pdf" else "html"
    if not args.out:
        from tui.cli.statements import write_document

        write_document(doc, fmt)
        return None
    path = render.save(doc, Path(args.out) / f"{doc.filename}.{fmt}", fmt)
    print(ctx.t("{path} written (PLAINTEXT: keep it safe or delete it after use)", path=path), file=sys.stderr)
    return str(path)


def confirmation(args, ctx):
    ledger = ctx.ledger()
    as_of = date_given(args)
    customer = customers.by_code(ledger, args.code)
    doc = render.confirmation(ledger, customer["id"], as_of, lang=args.doc_lang, issued=_issued(args),
                              reply_by=parse_date(args.reply_by, "--reply-by") if args.reply_by else None)
    path = _emit(args, ctx, doc)
    if args.mark_sent:
        confirmations.mark_sent(ledger, args.code, as_of.isoformat(), channel="letter", address=path, on=args.on)
        print(ctx.t("{code}: balance confirmation as of {date} recorded as sent; record the reply with "
                    "`duly statement confirm {code} --as-of {date} [--their-balance A]`", code=args.code, date=as_of),
              file=sys.stderr)


def dunning(args, ctx):
    ledger = ctx.ledger()
    as_of = date_given(args)
    doc = collections.dunning_letter(ledger, args.code, as_of, lang=args.doc_lang, issued=_issued(args))
    _emit(args, ctx, doc)


def request(args, ctx):
    ledger = ctx.ledger()
    as_of = date_given(args)
    customer = customers.by_code(ledger, args.code)
    doc = render.payment_request(ledger, customer["id"], as_of, numbers=args.invoice, lang=args.doc_lang,
                                 issued=_issued(args))
    if not ledger.setting("company.bank_account"):
        print("duly: " + ctx.t("note: company.bank_account is not set, so the request names no account to pay into "
                               "(`duly settings set company.bank_account …`)"), file=sys.stderr)
    _emit(args, ctx, doc)


