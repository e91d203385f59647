"""`duly recurring …`: recurring invoices (周期性账单): schedules, and the run that issues what is due exactly once."""
from __future__ import annotations

import sys

from store.read import recurring as view
from store.rules.recurrence import FREQUENCIES
from store.write import customers, drafts, recurring
from tui.cli.context import as_of_option


def register(sub, common) -> None:
    p = sub.add_parser("recurring", parents=[common],
                       help="recurring invoices (周期性账单): rent, retainers, 月结 service fees")
    rsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = rsub.add_parser("add", parents=[common], help="a new schedule for a customer")
    q.add_argument("customer", metavar="CODE", help="the customer code")
    q.add_argument("--frequency", required=True, choices=list(FREQUENCIES),
                   help="monthly, quarterly, yearly (on --day) or weekly (on the start's weekday)")
    q.add_argument("--every", metavar="N", help="every N weeks (weekly) or N periods (default 1)")
    q.add_argument("--day", metavar="DAY", help="day of the month 1-31 or 'last' (月末); a day the month lacks "
                   "falls on its last day (default: the start's day)")
    q.add_argument("--start", required=True, metavar="D", help="the first occurrence is on or after this date")
    q.add_argument("--end", metavar="D", help="no occurrence after this date")
    q.add_argument("--count", metavar="N", help="at most N occurrences")
    q.add_argument("--amount", metavar="A", help="what each invoice bills, when there are no lines")
    q.add_argument("--line", action="append", metavar="DESC:QTY:PRICE[:TAX%]", help="repeat for each line")
    q.add_argument("--currency", metavar="C", help="currency (default: the customer's)")
    q.add_argument("--description", metavar="TEXT", help="printed on each invoice")
    q.add_argument("--terms", metavar="T", help="payment terms (default: the customer's when each is issued)")
    q.add_argument("--draft", action="store_true",
                   help="issue each occurrence as a draft for review (`duly draft issue`), not directly")
    q.set_defaults(handler=add)
    q = rsub.add_parser("list", parents=[common], help="schedules, with what each issued and its next date")
    q.add_argument("--customer", metavar="CODE", help="only this customer's schedules")
    q.set_defaults(handler=listing)
    q = rsub.add_parser("show", parents=[common], help="one schedule and every occurrence it issued")
    q.add_argument("number", help="the schedule's number (R-…)")
    q.set_defaults(handler=show)
    q = rsub.add_parser("pause", parents=[common], help="stop issuing until resumed")
    q.add_argument("number", help="the schedule's number (R-…)")
    q.set_defaults(handler=pause)
    q = rsub.add_parser("resume", parents=[common],
                        help="issue again; occurrences of the paused time (before --from) are skipped")
    q.add_argument("number", help="the schedule's number (R-…)")
    q.add_argument("--from", dest="from_date", metavar="D", help="first date to bill again (default today)")
    q.set_defaults(handler=resume)
    q = rsub.add_parser("end", parents=[common], help="no occurrence after a date")
    q.add_argument("number", help="the schedule's number (R-…)")
    q.add_argument("--on", metavar="D", help="the last date that may still be billed (default today)")
    q.set_defaults(handler=end)
    q = rsub.add_parser("run", parents=[common],
                        help="issue every occurrence due up to a date, each exactly once (missed ones caught up)")
    as_of_option(q)
    q.add_argument("--schedule", metavar="NUMBER", help="only this schedule")
    q.set_defaults(handler=run)


def add(args, ctx):
    _, number = recurring.add(ctx.ledger(), args.customer, frequency=args.frequency, start=args.start,
                              every=args.every, day=args.day, end=args.end, count=args.count, amount=args.amount,
                              lines=args.line, currency=args.currency, description=args.description,
                              terms=args.terms, mode="draft" if args.draft else "issue")
    found = view.detail(ctx.ledger(), number)
    ctx.done(ctx.t("schedule {number} saved: {frequency}, {amount} {currency}, first on {first}", number=number,
                   frequency=ctx.said(found["frequency"]), amount=found["amount"], currency=found["currency"],
                   first=found["next"] or "-"))


_COLUMNS = ["number", "customer", "frequency", "start", "end", "count", "currency", "amount", "terms", "mode",
            "status", "issued", "next"]


def listing(args, ctx):
    ledger = ctx.ledger()
    customer_id = customers.by_code(ledger, args.customer)["id"] if args.customer else None
    ctx.emit(view.listing(ledger, customer_id=customer_id), _COLUMNS, right={"amount", "issued"})


def show(args, ctx):
    found = view.detail(ctx.ledger(), args.number)
    occurrences = found.pop("occurrences")
    rows = [{"occurrence": o["occurrence"], "date": o["date"], "invoice": o["invoice"] or "",
             "draft": drafts.ref(o["draft_id"]) if o["draft_id"] else ""} for o in occurrences]
    if ctx.format != "json":
        found["lines"] = "; ".join(found["lines"])
    ctx.emit_record(found, sections={"occurrences": (rows, ["occurrence", "date", "invoice", "draft"])})


def pause(args, ctx):
    row = recurring.pause(ctx.ledger(), args.number)
    ctx.done(ctx.t("schedule {number} paused", number=row['number']))


def resume(args, ctx):
    row = recurring.resume(ctx.ledger(), args.number, args.from_date)
    found = view.detail(ctx.ledger(), row["number"])
    ctx.done(ctx.t("schedule {number} resumed; next on {next}", number=row["number"], next=found["next"] or "-"))


def end(args, ctx):
    row = recurring.end(ctx.ledger(), args.number, args.on)
    found = view.get(ctx.ledger(), row["number"])
    ctx.done(ctx.t("schedule {number} ends on {end_date}", number=row['number'], end_date=found['end_date']))


def run(args, ctx):
    report = recurring.run(ctx.ledger(), args.as_of, only=args.schedule)
    for line in report.issued:
        for warning in line["warnings"]:
            ctx.warn(warning)
    rows = [{k: v for k, v in line.items() if k != "warnings"} for line in report.issued]
    if ctx.format == "table" and not rows:
        print(ctx.t("nothing due: every occurrence up to that date was issued already"))
    else:
        ctx.emit(rows, ["schedule", "occurrence", "date", "invoice", "draft"], right={"occurrence"})
    for problem in report.problems:
        print(f"duly: {ctx.said(problem)}", file=sys.stderr)
    return 1 if report.problems else 0
