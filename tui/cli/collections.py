"""`duly dispute|promise|note|contract|remind ...`: collections (催收) from the command line. The credit scores and
risk alerts are reports (`duly report credit|alerts`, tui.cli.reports)."""
from __future__ import annotations

import sys

from store.write import collections
from store.errors import DulyError
from store.rules.money import format_amount, to_decimal_str
from store.rules.stored_words import Stored

from tui.cli.context import as_of_option, date_given
from store.i18n import N_


def register(sub, common) -> None:
    _register_disputes(sub, common)
    _register_promises(sub, common)
    _register_notes(sub, common)
    _register_contracts(sub, common)
    _register_remind(sub, common)


def _actions(sub, common, name: str, text: str):
    p = sub.add_parser(name, parents=[common], help=text)
    return p.add_subparsers(dest="action", metavar="ACTION", required=True)


def _register_disputes(sub, common) -> None:
    dsub = _actions(sub, common, "dispute", N_("disputes: hold an invoice (or part of it) out of dunning"))
    q = dsub.add_parser("open", parents=[common], help="open a dispute on an invoice")
    q.add_argument("number", help="the invoice number")
    q.add_argument("--amount", metavar="A", help="the disputed part (default: all of it)")
    q.add_argument("--reason", required=True, help="why the invoice is disputed")
    q.add_argument("--review", metavar="D", help="after this date the invoice comes back into dunning")
    q.add_argument("--date", metavar="D", help="opened on (default today)")
    q.set_defaults(handler=dispute_open)
    q = dsub.add_parser("resolve", parents=[common], help="resolve a dispute with a note")
    q.add_argument("id", help="dispute id (or its start), or the invoice number")
    q.add_argument("--note", required=True, help="how the dispute was settled")
    q.add_argument("--date", metavar="D", help="resolved on (default today)")
    q.set_defaults(handler=dispute_resolve)
    q = dsub.add_parser("list", parents=[common], help="disputes, and whether they hold their invoice")
    q.add_argument("--customer", metavar="CODE", help="only this customer's")
    q.add_argument("--status", choices=["open", "resolved"], help="only open or only resolved disputes")
    as_of_option(q)
    q.set_defaults(handler=dispute_list)


def _register_promises(sub, common) -> None:
    psub = _actions(sub, common, "promise", N_("promises to pay: kept or broken, decided from payments"))
    q = psub.add_parser("add", parents=[common], help="record a promise to pay an invoice")
    q.add_argument("number", help="the invoice number")
    # --pay-by, not --date: --date is a document's own date everywhere else, and a promise's own date is
    # --made-on; --date stays as the older spelling (DESIGN §5's command line only grows)
    q.add_argument("--pay-by", "--date", dest="pay_by", required=True, metavar="D",
                   help="the day the customer promised to pay by (older spelling: --date)")
    q.add_argument("--amount", required=True, metavar="A", help="the amount promised")
    q.add_argument("--made-on", metavar="D", help="when the promise was made (default today)")
    q.set_defaults(handler=promise_add)
    q = psub.add_parser("list", parents=[common], help="promises with their status: pending, kept, broken")
    q.add_argument("--customer", metavar="CODE", help="only this customer's")
    as_of_option(q)
    q.set_defaults(handler=promise_list)


def _register_notes(sub, common) -> None:
    nsub = _actions(sub, common, "note", N_("communications log: calls, visits, letters, next action"))
    q = nsub.add_parser("add", parents=[common], help="log a contact with a customer")
    q.add_argument("code", help="the customer code")
    q.add_argument("--channel", required=True, choices=list(collections.NOTE_CHANNELS),
                   help="how the customer was contacted")
    q.add_argument("--text", required=True, help="what was said or agreed")
    q.add_argument("--next", metavar="D", help="date of the next action")
    q.add_argument("--date", metavar="D", help="date of the contact (default today)")
    q.set_defaults(handler=note_add)
    q = nsub.add_parser("list", parents=[common], help="the log, newest first; --due D: follow-ups due by D")
    q.add_argument("code", nargs="?", help="only this customer's notes")
    q.add_argument("--due", metavar="D", help="only notes whose next step is due by D")
    q.set_defaults(handler=note_list)


def _register_contracts(sub, common) -> None:
    ksub = _actions(sub, common, "contract", N_("contracts (合同), with attachments by path and SHA-256"))
    q = ksub.add_parser("add", parents=[common], help="record a contract")
    q.add_argument("code", help="the customer code")
    q.add_argument("--number", required=True, metavar="N", help="the contract number")
    q.add_argument("--signed", required=True, metavar="D", help="the date it was signed")
    q.add_argument("--start", metavar="D", help="first day it applies")
    q.add_argument("--end", metavar="D", help="last day it applies")
    q.add_argument("--terms", metavar="T", help="payment terms it sets")
    q.add_argument("--credit-limit", metavar="A", help="credit limit it grants")
    q.add_argument("--file", metavar="PATH", help="recorded by path and SHA-256, not copied")
    q.add_argument("--notes", metavar="TEXT", help="free text")
    q.set_defaults(handler=contract_add)
    q = ksub.add_parser("attach", parents=[common], help="record a file on a contract (replaces the one before)")
    q.add_argument("code", help="the customer code")
    q.add_argument("number", help="the contract number")
    q.add_argument("--file", required=True, metavar="PATH", help="recorded by path and SHA-256, not copied")
    q.set_defaults(handler=contract_attach)
    q = ksub.add_parser("end", parents=[common],
                        help="end a contract early: its terms and credit limit apply no longer after its last day")
    q.add_argument("code", help="the customer code")
    q.add_argument("number", help="the contract number")
    q.add_argument("--on", required=True, metavar="D", help="the last day it applies")
    q.add_argument("--reason", metavar="TEXT", help="why it ends early")
    q.set_defaults(handler=contract_end)
    q = ksub.add_parser("cancel", parents=[common],
                        help="cancel a contract (作废): it never applied; it stays listed as cancelled")
    q.add_argument("code", help="the customer code")
    q.add_argument("number", help="the contract number")
    q.add_argument("--reason", required=True, metavar="TEXT", help="why it is cancelled")
    q.add_argument("--date", metavar="D", help="cancelled on (default today)")
    q.set_defaults(handler=contract_cancel)
    q = ksub.add_parser("list", parents=[common],
                        help="contracts, where each stands, each file checked against its SHA-256")
    q.add_argument("code", nargs="?", help="only this customer's contracts")
    q.add_argument("--as-of", metavar="D", help="where each contract stands on this day (default today)")
    q.set_defaults(handler=contract_list)


def _register_remind(sub, common) -> None:
    rsub = _actions(sub, common, "remind", N_("reminders (催收): plan, send, log"))
    q = rsub.add_parser("plan", parents=[common], help="what is due for which dunning level, per customer")
    as_of_option(q)
    q.add_argument("--held", action="store_true", help="list what is held back (dispute, promise, sent) and why")
    q.set_defaults(handler=remind_plan)
    q = rsub.add_parser("send", parents=[common], help="send e-mails, make tasks and letters; each level once")
    as_of_option(q)
    q.add_argument("--dry-run", action="store_true", help="show what would be sent; send and record nothing")
    q.add_argument("--letters", metavar="DIR", help="write print-ready letters (plaintext files) into DIR")
    q.add_argument("--letter-format", choices=["txt", "html", "pdf"], default="txt",
                   help="letters as plain text (default), or the dunning letter template as html or pdf")
    q.add_argument("--attach-pdf", action="store_true", help="attach the dunning letter as a PDF to each e-mail")
    q.set_defaults(handler=remind_send)
    q = rsub.add_parser("log", parents=[common], help="reminders sent, with their outcome")
    q.add_argument("code", nargs="?", help="only this customer's reminders")
    q.set_defaults(handler=remind_log)


def _amount(ctx, minor: int | None, currency: str) -> str | None:
    if minor is None:
        return None
    return format_amount(minor, currency) if ctx.format == "table" else to_decimal_str(minor, currency)


# --- disputes, promises, notes, contracts ----------------------------------------------------------------------


def dispute_open(args, ctx):
    dispute_id = collections.open_dispute(ctx.ledger(), args.number, args.reason, amount=args.amount,
                                          review=args.review, on=args.date)
    held = ctx.t(" until {date}", date=args.review) if args.review else ctx.t(" until it is resolved")
    ctx.done(ctx.t("dispute {dispute_id} opened on invoice {number}: out of dunning{held}",
                   dispute_id=dispute_id, number=args.number, held=held))


def dispute_resolve(args, ctx):
    done = collections.resolve_dispute(ctx.ledger(), args.id, args.note, on=args.date)
    ctx.done(ctx.t("dispute {id} resolved on {resolved_on}", id=done['id'], resolved_on=done['resolved_on']))


def dispute_list(args, ctx):
    rows = collections.list_disputes(ctx.ledger(), customer_code=args.customer, status=args.status, as_of=args.as_of)
    for r in rows:
        r["amount"] = _amount(ctx, r["amount"], r["currency"]) if r["amount"] is not None else "all"
        r["holds"] = bool(r["holds"])
    ctx.emit(rows, ["id", "customer", "number", "amount", "reason", "opened", "review", "status", "resolved_on",
                    "holds", "note"], right={"amount"})


def promise_add(args, ctx):
    collections.add_promise(ctx.ledger(), args.number, args.pay_by, args.amount, made_on=args.made_on)
    ctx.done(ctx.t("promise recorded: invoice {number}, {amount} by {pay_by}",
                   number=args.number, amount=args.amount, pay_by=args.pay_by))


def promise_list(args, ctx):
    rows = collections.list_promises(ctx.ledger(), args.as_of, customer_code=args.customer)
    for r in rows:
        r["amount"], r["paid"] = _amount(ctx, r["amount"], r["currency"]), _amount(ctx, r["paid"], r["currency"])
    ctx.emit(rows, ["customer", "number", "made_on", "date", "currency", "amount", "paid", "status"],
             right={"amount", "paid"})


def note_add(args, ctx):
    collections.add_note(ctx.ledger(), args.code, args.channel, args.text, next_action=args.next, on=args.date)
    ctx.done(ctx.t("noted for {code}", code=args.code)
             + (ctx.t("; next action {date}", date=args.next) if args.next else ""))


def note_list(args, ctx):
    rows = collections.list_notes(ctx.ledger(), args.code, due=args.due)
    if ctx.format == "table":  # the notes the app wrote itself (a reminder sent) worded for the reader
        rows = [{**r, "text": Stored(r["text"])} for r in rows]
    ctx.emit(rows, ["at", "customer", "channel", "text", "next_action"])


def contract_add(args, ctx):
    record = collections.add_contract(ctx.ledger(), args.code, args.number, args.signed, start=args.start,
                                      end=args.end, terms=args.terms, credit_limit=args.credit_limit, file=args.file,
                                      notes=args.notes)
    extra = ctx.t("; file {path} sha256 {sha256} (recorded, not copied)", path=record["file_path"],
                  sha256=record["file_sha256"]) if args.file else ""
    ctx.done(ctx.t("contract {number} recorded for {code}{extra}", number=args.number, code=args.code, extra=extra))


def contract_attach(args, ctx):
    record = collections.attach_contract_file(ctx.ledger(), args.code, args.number, args.file)
    ctx.done(ctx.t("contract {number} of {code}: file {path} sha256 {sha256} (recorded, not copied)",
                   number=args.number, code=args.code, path=record["file_path"], sha256=record["file_sha256"]))


def contract_end(args, ctx):
    done = collections.end_contract(ctx.ledger(), args.code, args.number, args.on, args.reason)
    ctx.done(ctx.t("contract {number} of {code} ended: its last day is {on}; its terms and credit limit apply no "
                   "longer after it", number=done["number"], code=done["customer"], on=done["ended_on"]))


def contract_cancel(args, ctx):
    done = collections.cancel_contract(ctx.ledger(), args.code, args.number, args.reason, args.date)
    ctx.done(ctx.t("contract {number} of {code} cancelled on {on}: it never applied", number=done["number"],
                   code=done["customer"], on=done["ended_on"]))


def contract_list(args, ctx):
    rows = collections.list_contracts(ctx.ledger(), args.code, args.as_of)
    out = []
    for r in rows:
        r["credit_limit"] = _amount(ctx, r["credit_limit"], r["currency"] or "CNY")
        # status: where it stands as of the day (in_force, pending, expired, ended, cancelled), not the stored word
        out.append({**{k: v for k, v in r.items() if k != "state"}, "status": r["state"]})
    ctx.emit(out, ["customer", "number", "signed", "start_date", "end_date", "terms", "credit_limit", "status",
                   "ended_on", "end_reason", "file_path", "file_sha256", "file_check"], right={"credit_limit"})


# --- reminders -------------------------------------------------------------------------------------------------


def remind_plan(args, ctx):
    as_of = date_given(args)
    ledger = ctx.ledger()
    rp = collections.reminder_plan(ledger, as_of)
    if args.held:
        codes = {cid: r.code for cid, r in rp.customers.items()}
        rows = sorted(({"customer": codes.get(h.customer_id), "number": h.number, "level": h.level,
                        "reason": h.reason} for h in rp.plan.held), key=lambda r: (r["customer"] or "", r["number"]))
        ctx.emit(rows, ["customer", "number", "level", "reason"])
        return
    rows = collections.plan_rows(rp)
    money_cols = ("open", "asked", "disputed", "fee", "interest", "total")
    for r in rows:
        for c in money_cols:
            r[c] = _amount(ctx, r[c], r["currency"])
    columns = ["customer", "name", "level", "channel", "number", "currency", "due_date", "days_overdue", *money_cols]
    ctx.emit(rows, columns, right={*money_cols, "days_overdue"},
             json_value={"as_of": as_of.isoformat(), "items": rows})
    if ctx.format == "table" and rows:
        print("\n" + ctx.t("{invoices} invoice(s) of {customers} customer(s) due for a reminder as of {date}; "
                           "{held} held back (see --held)", invoices=len(rows),
                           customers=len({r["customer"] for r in rows}), date=as_of, held=len(rp.plan.held)))


def remind_send(args, ctx):
    as_of = date_given(args)
    outcomes = collections.send(ctx.ledger(), as_of, dry_run=args.dry_run, letters_dir=args.letters,
                                letter_format=args.letter_format, attach_pdf=args.attach_pdf)
    rows = [{"customer": o.customer, "channel": o.channel, "invoices": ", ".join(o.invoices), "status": o.status,
             "detail": o.detail} for o in outcomes]
    ctx.emit(rows, ["customer", "channel", "invoices", "status", "detail"])
    if args.letters and any(o.status == "letter" for o in outcomes):
        print(ctx.t("letters written to {folder} as plaintext files (an export: keep or delete them with care)",
                    folder=args.letters), file=sys.stderr)
    bad = [o for o in outcomes if o.status in ("failed", "unknown")]
    if bad:
        raise DulyError(N_("{count} of {count2} reminder message(s) not confirmed ({value}); see `duly remind log`"),
                        count=len(bad), count2=len(outcomes), value=', '.join(sorted({o.status for o in bad})))


def remind_log(args, ctx):
    rows = collections.reminder_log(ctx.ledger(), args.code)
    ctx.emit(rows, ["at", "customer", "number", "level", "channel", "as_of", "outcome"])
