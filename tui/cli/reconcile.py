"""`duly reconcile ...`: bank lines matched to customers and invoices (对账), with reasons; accepted, rejected,
reopened by hand or accepted automatically when unambiguous; and the saved column mappings of bank files.

The lines come in through `duly import bank` (tui.cli.transfer)."""
from __future__ import annotations

from store.files import bank
from store.rules import money
from store.rules.stored_words import Stored
from store.write import reconcile
from tui.cli import output
from tui.cli.context import UsageError
from store.errors import Said
from store.i18n import N_


def register(sub, common) -> None:
    p = sub.add_parser("reconcile", parents=[common], help="match imported bank lines to customers and invoices (对账)")
    rsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = rsub.add_parser("list", parents=[common], help="open bank lines with candidates, scores and reasons")
    q.add_argument("--status", choices=["open", "accepted", "rejected", "debit", "all"], default="open",
                   help="which lines to list (default open)")
    q.set_defaults(handler=list_lines)
    q = rsub.add_parser("accept", parents=[common], help="post the payment of a line (its best candidate by default)")
    q.add_argument("id", metavar="ID", help="the statement line")
    q.add_argument("--candidate", type=int, default=1, metavar="N", help="accept candidate N of the list")
    q.add_argument("--customer", metavar="CODE", help="match by hand to this customer")
    q.add_argument("--allocate", action="append", metavar="NUMBER=AMOUNT", help="with --customer: where it goes")
    q.set_defaults(handler=accept)
    q = rsub.add_parser("reject", parents=[common], help="set a line aside: not a customer's payment")
    q.add_argument("id", metavar="ID", help="the statement line")
    q.add_argument("--reason", metavar="TEXT", help="why it is rejected")
    q.set_defaults(handler=reject)
    q = rsub.add_parser("reopen", parents=[common], help="bring a rejected line back")
    q.add_argument("id", metavar="ID", help="the statement line")
    q.set_defaults(handler=reopen)
    q = rsub.add_parser("auto", parents=[common], help="accept only unambiguous matches scoring at least S")
    q.add_argument("--min-score", type=int, metavar="S", help="default: setting reconcile.min_score, else 70")
    q.set_defaults(handler=auto)
    q = rsub.add_parser("profile", parents=[common], help="saved column mappings of bank files")
    psub = q.add_subparsers(dest="profile_action", metavar="add|list", required=True)
    r = psub.add_parser("add", parents=[common], help="save (or replace) a profile")
    r.add_argument("name", metavar="NAME", help="a name for the profile")
    r.add_argument("--map", action="append", required=True, metavar="FIELD=HEADER",
                   help=Said(N_("fields: {fields}"), fields=", ".join(bank.FIELDS)))
    r.add_argument("--date-format", metavar="FMT", help="e.g. %%d/%%m/%%Y (default: Y-M-D forms, 20260301, 2026年3月1日)")
    r.add_argument("--account", metavar="ACCOUNT", help="your bank account this profile is for")
    r.add_argument("--currency", metavar="C", help="currency of the account")
    r.set_defaults(handler=profile_add)
    r = psub.add_parser("list", parents=[common], help="the generic profile and the saved ones")
    r.set_defaults(handler=profile_list)


# --- reconcile ---------------------------------------------------------------------------------------------------

LIST_COLUMNS = ["id", "date", "amount", "payer", "memo", "status", "#", "score", "customer", "apply", "reasons"]


def _apply_text(ctx, cand, currency) -> str:
    if cand.payment_id:
        return ctx.t("link payment {payment}", payment=cand.payment_id)
    parts = [f"{n} {ctx.amount(a, currency)}" for _, n, a in cand.allocations]
    if cand.fee:
        parts.append(ctx.t("fee {amount}", amount=ctx.amount(cand.fee, currency)))
    return ", ".join(parts) or ctx.t("status.unapplied")


def list_lines(args, ctx):
    found = reconcile.listing(ctx.ledger(), status=None if args.status == "all" else args.status)
    if ctx.format == "json":
        ctx.emit([], [], json_value=[{
            "id": r["id"], "date": r["date"], "amount": money.to_decimal_str(r["amount"], r["currency"]),
            "currency": r["currency"], "payer": r["payer"], "payer_account": r["payer_account"], "memo": r["memo"],
            "reference": r["reference"], "status": r["status"], "customer": r["decided_code"],
            "payment": r["payment_id"], "candidates": [{
                "customer": c.customer_code, "score": c.score, "reasons": list(c.reasons),
                "allocations": [{"invoice": n, "amount": money.to_decimal_str(a, r["currency"])}
                                for _, n, a in c.allocations],
                "fee": money.to_decimal_str(c.fee, r["currency"]), "payment": c.payment_id} for c in cands]}
            for r, cands in found])
        return
    rows = []
    for r, cands in found:
        head = {"id": r["id"][:8], "date": r["date"], "amount": ctx.amount(r["amount"], r["currency"]),
                "payer": r["payer"] or "", "memo": (r["memo"] or "")[:24], "status": r["status"]}
        if r["status"] == "accepted":
            rows.append({**head, "customer": r["decided_code"],
                         "apply": ctx.t("payment {payment}", payment=r["payment_id"] or ""),
                         "reasons": Stored(r["decision_note"])})  # why it was accepted, worded for the reader
        elif r["status"] == "rejected":
            rows.append({**head, "reasons": r["decision_note"] or ctx.t("rejected")})
        elif r["status"] == "debit":
            rows.append({**head, "reasons": ctx.t("money out: kept, not matched")})
        elif not cands:
            rows.append({**head, "reasons": ctx.t("no candidate: `reconcile accept ID --customer CODE`")})
        for n, c in enumerate(cands, start=1):
            blank = {k: "" for k in head} if n > 1 else head
            rows.append({**blank, "#": n, "score": c.score, "customer": c.customer_code,
                         "apply": _apply_text(ctx, c, r["currency"]),
                         "reasons": "; ".join(map(ctx.said, c.reasons))})
    ctx.emit(rows, LIST_COLUMNS, right={"amount", "score"})


def _decision_text(ctx, d: reconcile.Decision) -> str:
    cur = d.line["currency"]
    if d.linked:
        return ctx.t("bank line {line} linked to payment {payment} of {customer} (already recorded)",
                     line=d.line["id"][:8], payment=d.payment_id, customer=d.customer)
    parts = [f"{n} {money.format_amount(a, cur)}" for n, a in d.allocations]
    text = ctx.t("bank line {line}: payment {payment} of {amount} {currency} from {customer}", line=d.line["id"][:8],
                 payment=d.payment_id, amount=money.format_amount(d.line["amount"], cur), currency=cur,
                 customer=d.customer)
    if parts:
        text += ctx.t(" applied to {invoices}", invoices=", ".join(parts))
    if d.fee:
        text += ctx.t("; bank fee {amount} written off", amount=money.format_amount(d.fee, cur))
    if d.unapplied:
        text += ctx.t("; unapplied {amount}", amount=money.format_amount(d.unapplied, cur))
    return text


def accept(args, ctx):
    if args.allocate and not args.customer:
        raise UsageError(N_("reconcile accept: --allocate goes with --customer CODE"))
    d = reconcile.accept(ctx.ledger(), args.id, candidate=args.candidate, customer_code=args.customer,
                         allocate=args.allocate)
    ctx.done(_decision_text(ctx, d))


def reject(args, ctx):
    row = reconcile.reject(ctx.ledger(), args.id, args.reason)
    ctx.done(ctx.t("bank line {value} set aside (rejected); `duly reconcile reopen {value}` brings it back",
                   value=row['id'][:8]))


def reopen(args, ctx):
    row = reconcile.reopen(ctx.ledger(), args.id)
    ctx.done(ctx.t("bank line {value} is open again", value=row['id'][:8]))


def auto(args, ctx):
    run = reconcile.auto(ctx.ledger(), args.min_score)
    if ctx.format == "json":
        print(output.to_json({"min_score": run.min_score, "accepted": [
            {"id": d.line["id"], "customer": d.customer, "payment": d.payment_id, "score": d.candidate.score}
            for d in run.accepted], "left": [{"id": r["id"], "why": why} for r, why in run.left]}))
        return
    for d in run.accepted:
        print(ctx.t("accepted  {what} (score {score})", what=_decision_text(ctx, d), score=d.candidate.score))
    for r, why in run.left:
        print(ctx.t("left      bank line {id} {date} {amount} {payer}: {why}", id=r["id"][:8], date=r["date"],
                    amount=money.format_amount(r["amount"], r["currency"]), payer=r["payer"] or "", why=ctx.said(why)))
    print(ctx.t("{accepted} accepted, {left} left for a person (minimum score {score})", accepted=len(run.accepted),
                left=len(run.left), score=run.min_score))


def profile_add(args, ctx):
    bank.save_profile(ctx.ledger(), args.name, args.map, date_format=args.date_format, account=args.account,
                      currency=args.currency)
    ctx.done(ctx.t("bank profile {name} saved; use it with `duly import bank FILE --profile {name}`", name=args.name))


def profile_list(args, ctx):
    ctx.emit(bank.profiles(ctx.ledger()), ["name", "columns", "date_format", "account", "currency"])
