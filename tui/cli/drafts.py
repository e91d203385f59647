"""`duly draft …`: invoices being prepared (草稿), editable on any device until issued."""
from __future__ import annotations

from store.write import drafts
from tui.cli.documents import show_issued


def _fields(q, *, editing: bool) -> None:
    if editing:
        q.add_argument("--customer", metavar="CODE", help="the customer code")
    q.add_argument("--date", metavar="D", help="the invoice's own date")
    q.add_argument("--amount", metavar="A", help="the total, when there are no lines")
    q.add_argument("--line", action="append", metavar="DESC:QTY:PRICE[:TAX%]", help="repeat for each line")
    q.add_argument("--terms", metavar="T", help="payment terms (default: the customer's)")
    q.add_argument("--due", metavar="D", help="one due date (instead of terms)")
    q.add_argument("--currency", metavar="C", help="currency (default: the customer's)")
    q.add_argument("--einvoice", metavar="20DIGITS", help="数电票号码")
    q.add_argument("--description", metavar="TEXT", help="a description for the invoice")


def register(sub, common) -> None:
    p = sub.add_parser("draft", parents=[common], help="draft invoices (草稿): edit on any device, then issue")
    dsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = dsub.add_parser("add", parents=[common], help="start a draft invoice for a customer")
    q.add_argument("--customer", required=True, metavar="CODE", help="the customer code")
    _fields(q, editing=False)
    q.set_defaults(handler=add)
    q = dsub.add_parser("list", parents=[common], help="open drafts (--all: issued and deleted ones too)")
    q.add_argument("--all", action="store_true", help="include issued and deleted drafts")
    q.set_defaults(handler=listing)
    q = dsub.add_parser("show", parents=[common], help="one draft")
    q.add_argument("ref", help="the draft's reference as `draft list` shows it (the end of its id)")
    q.set_defaults(handler=show)
    q = dsub.add_parser("edit", parents=[common], help="change fields of a draft (refused once it is issued)")
    q.add_argument("ref", help="the draft (reference or id)")
    _fields(q, editing=True)
    q.set_defaults(handler=edit)
    q = dsub.add_parser("issue", parents=[common], help="post the draft as an invoice (every invoice rule applies)")
    q.add_argument("ref", help="the draft (reference or id)")
    q.add_argument("--number", metavar="N", help="default: the next number of this device's series")
    q.set_defaults(handler=issue)
    q = dsub.add_parser("delete", parents=[common], help="drop a draft that will not be issued")
    q.add_argument("ref", help="the draft (reference or id)")
    q.set_defaults(handler=delete)


def _given(args) -> dict:
    return {"date": args.date, "amount": args.amount, "lines": args.line, "terms": args.terms, "due": args.due,
            "currency": args.currency, "einvoice": args.einvoice, "description": args.description}


def add(args, ctx):
    draft_id = drafts.add(ctx.ledger(), args.customer, **_given(args))
    ctx.done(ctx.t("draft {draft_id} saved; issue it with `duly draft issue {draft_id}`",
                   draft_id=drafts.ref(draft_id)))


def listing(args, ctx):
    rows = drafts.listing(ctx.ledger(), include_closed=args.all)
    columns = ["ref", "customer", "date", "due_date", "terms", "currency", "amount", "description", "status",
               "invoice"]
    ctx.emit(rows, columns, right={"amount"})


def show(args, ctx):
    ledger = ctx.ledger()
    found = drafts.get(ledger, args.ref)
    [row] = drafts.listing(ledger, include_closed=True, draft_id=found["id"])
    if ctx.format != "json":
        row["lines"] = "; ".join(row["lines"])
    ctx.emit_record(row)


def edit(args, ctx):
    changed = drafts.edit(ctx.ledger(), args.ref, customer=args.customer, **_given(args))
    ctx.done(ctx.t("draft {ref}: {fields} changed", ref=args.ref, fields=", ".join(sorted(changed))) if changed
             else ctx.t("draft {ref}: nothing changed", ref=args.ref))


def issue(args, ctx):
    show_issued(drafts.issue(ctx.ledger(), args.ref, number=args.number), ctx)


def delete(args, ctx):
    drafts.delete(ctx.ledger(), args.ref)
    ctx.done(ctx.t("draft {ref} deleted", ref=args.ref))
