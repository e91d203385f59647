"""`duly import bank`, `duly reconcile ...` and the statement-of-account tracking of `duly statement`.

`import bank` is one more kind of `duly import` (tui.cli.transfer.import_kinds). The statement command is
registered by tui.cli.reports; this module adds its sending and confirmation options to that parser:
`duly statement CODE --as-of D --send`, `duly statement --all --as-of D --send [--out DIR]`,
`duly statement confirm CODE --as-of D [--their-balance A]`, `duly statement resolve CODE --as-of D --note N`,
`duly statement status [CODE] [--open]` (when the statement parser is there: tui.cli.main registers only the
modules a command needs).
"""
from __future__ import annotations

import sys

from store.files import bank
from store.rules import money
from store.write import confirmations, reconcile
from tui.cli import output
from tui.cli.transfer import import_kinds
from tui.cli.context import UsageError

STATEMENT_ACTIONS = ("confirm", "resolve", "status")


def register(sub, common) -> None:
    q = import_kinds(sub, common).add_parser("bank", parents=[common],
                                             help="a bank statement (银行流水): CSV (UTF-8 or GBK) or XLSX")
    q.add_argument("file", metavar="FILE", help="the bank statement: CSV, XLSX or OFX")
    q.add_argument("--profile", metavar="NAME",
                   help="a saved column mapping, or a built-in one: wechat, alipay, icbc, ccb, cmb, abc, boc "
                        "(default: detected from the file, else generic headers)")
    q.add_argument("--account", metavar="ACCOUNT", help="our account number, when the file has no column for it")
    q.add_argument("--currency", metavar="C", help="currency when the file has no column for it (default: ledger's)")
    q.add_argument("--dry-run", action="store_true", help="show what would be imported; write nothing")
    q.set_defaults(handler=import_bank)

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
                   help=f"fields: {', '.join(bank.FIELDS)}")
    r.add_argument("--date-format", metavar="FMT", help="e.g. %%d/%%m/%%Y (default: Y-M-D forms, 20260301, 2026年3月1日)")
    r.add_argument("--account", metavar="ACCOUNT", help="your bank account this profile is for")
    r.add_argument("--currency", metavar="C", help="currency of the account")
    r.set_defaults(handler=profile_add)
    r = psub.add_parser("list", parents=[common], help="the generic profile and the saved ones")
    r.set_defaults(handler=profile_list)

    q = sub.choices.get("statement")
    if q is None:
        return  # only this module's own commands were asked for (tui.cli.main loads the modules a command needs)
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


# --- import bank -------------------------------------------------------------------------------------------------


def _amount(ctx, minor: int, currency: str) -> str:
    return money.format_amount(minor, currency) if ctx.format == "table" else money.to_decimal_str(minor, currency)


def import_bank(args, ctx):
    found = bank.import_file(ctx.ledger(), args.file, profile=args.profile, account=args.account,
                             currency=args.currency, dry_run=args.dry_run)
    verb = "would import" if found.dry_run else "imported"
    if found.found and ctx.format != "json":  # what the file was recognised as (and for a bill, what was left out)
        if found.profile in bank.WALLETS:
            income = len(found.added) + len(found.skipped)
            left = ", ".join(f"{n} {why}" for why, n in sorted(found.ignored.items()))
            print(f"{found.found}: {found.rows} rows, {income} income received"
                  + (f"; left out: {left}" if left else ""))
        else:
            print(f"{found.found}: {found.rows} line{'s' if found.rows != 1 else ''}")
    summary = (f"{verb} {len(found.added)} new bank lines ({found.credits} in, {found.debits} out), "
               f"{len(found.skipped)} already there ({found.source}, {found.encoding}, profile {found.profile})")
    if ctx.format == "json":
        print(output.to_json({"ok": True, "dry_run": found.dry_run, "file": found.source, "encoding": found.encoding,
                              "profile": found.profile, "added": len(found.added), "skipped": len(found.skipped),
                              "found": found.found or None, "rows": found.rows, "left_out": found.ignored,
                              "lines": [{"id": b.id, "line": b.line, "date": b.date,
                                         "amount": money.to_decimal_str(b.amount, b.currency), "currency": b.currency,
                                         "payer": b.payer, "memo": b.memo, "reference": b.reference,
                                         "new": b in found.added} for b in (*found.added, *found.skipped)]}))
        return
    if found.dry_run:
        ctx.emit([{"id": b.id[:8], "line": b.line, "date": b.date, "amount": _amount(ctx, b.amount, b.currency),
                   "payer": b.payer, "memo": b.memo, "new": "yes" if b in found.added else "already there"}
                  for b in sorted((*found.added, *found.skipped), key=lambda b: b.line)],
                 ["id", "line", "date", "amount", "payer", "memo", "new"], right={"amount"})
    print(summary + ("; nothing was written" if found.dry_run else "; `duly reconcile list` shows the matches"))


# --- reconcile ---------------------------------------------------------------------------------------------------

LIST_COLUMNS = ["id", "date", "amount", "payer", "memo", "status", "#", "score", "customer", "apply", "reasons"]


def _apply_text(ctx, cand, currency) -> str:
    if cand.payment_id:
        return f"link payment {cand.payment_id}"
    parts = [f"{n} {_amount(ctx, a, currency)}" for _, n, a in cand.allocations]
    if cand.fee:
        parts.append(f"fee {_amount(ctx, cand.fee, currency)}")
    return ", ".join(parts) or "unapplied"


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
        head = {"id": r["id"][:8], "date": r["date"], "amount": _amount(ctx, r["amount"], r["currency"]),
                "payer": r["payer"] or "", "memo": (r["memo"] or "")[:24], "status": r["status"]}
        if r["status"] == "accepted":
            rows.append({**head, "customer": r["decided_code"], "apply": f"payment {r['payment_id'] or ''}",
                         "reasons": r["decision_note"] or ""})
        elif r["status"] == "rejected":
            rows.append({**head, "reasons": r["decision_note"] or "rejected"})
        elif r["status"] == "debit":
            rows.append({**head, "reasons": "money out: kept, not matched"})
        elif not cands:
            rows.append({**head, "reasons": "no candidate: `reconcile accept ID --customer CODE`"})
        for n, c in enumerate(cands, start=1):
            blank = {k: "" for k in head} if n > 1 else head
            rows.append({**blank, "#": n, "score": c.score, "customer": c.customer_code,
                         "apply": _apply_text(ctx, c, r["currency"]), "reasons": "; ".join(c.reasons)})
    ctx.emit(rows, LIST_COLUMNS, right={"amount", "score"})


def _decision_text(d: reconcile.Decision) -> str:
    cur = d.line["currency"]
    if d.linked:
        return f"bank line {d.line['id'][:8]} linked to payment {d.payment_id} of {d.customer} (already recorded)"
    parts = [f"{n} {money.format_amount(a, cur)}" for n, a in d.allocations]
    text = (f"bank line {d.line['id'][:8]}: payment {d.payment_id} of {money.format_amount(d.line['amount'], cur)} "
            f"{cur} from {d.customer}" + (f" applied to {', '.join(parts)}" if parts else ""))
    if d.fee:
        text += f"; bank fee {money.format_amount(d.fee, cur)} written off"
    if d.unapplied:
        text += f"; unapplied {money.format_amount(d.unapplied, cur)}"
    return text


def accept(args, ctx):
    if args.allocate and not args.customer:
        raise UsageError("reconcile accept: --allocate goes with --customer CODE")
    d = reconcile.accept(ctx.ledger(), args.id, candidate=args.candidate, customer_code=args.customer,
                         allocate=args.allocate)
    ctx.done(_decision_text(d))


def reject(args, ctx):
    row = reconcile.reject(ctx.ledger(), args.id, args.reason)
    ctx.done(f"bank line {row['id'][:8]} set aside (rejected); `duly reconcile reopen {row['id'][:8]}` brings it back")


def reopen(args, ctx):
    row = reconcile.reopen(ctx.ledger(), args.id)
    ctx.done(f"bank line {row['id'][:8]} is open again")


def auto(args, ctx):
    run = reconcile.auto(ctx.ledger(), args.min_score)
    if ctx.format == "json":
        print(output.to_json({"min_score": run.min_score, "accepted": [
            {"id": d.line["id"], "customer": d.customer, "payment": d.payment_id, "score": d.candidate.score}
            for d in run.accepted], "left": [{"id": r["id"], "why": why} for r, why in run.left]}))
        return
    for d in run.accepted:
        print(f"accepted  {_decision_text(d)} (score {d.candidate.score})")
    for r, why in run.left:
        print(f"left      bank line {r['id'][:8]} {r['date']} {money.format_amount(r['amount'], r['currency'])} "
              f"{r['payer'] or ''}: {why}")
    print(f"{len(run.accepted)} accepted, {len(run.left)} left for a person (minimum score {run.min_score})")


def profile_add(args, ctx):
    bank.save_profile(ctx.ledger(), args.name, args.map, date_format=args.date_format, account=args.account,
                      currency=args.currency)
    ctx.done(f"bank profile {args.name} saved; use it with `duly import bank FILE --profile {args.name}`")


def profile_list(args, ctx):
    ctx.emit(bank.profiles(ctx.ledger()), ["name", "columns", "date_format", "account", "currency"])


# --- statements: sending and confirmation ------------------------------------------------------------------------


def statement(args, ctx):
    action = args.code if args.code in STATEMENT_ACTIONS else None
    if action == "status":
        return statement_status(args, ctx)
    if action:
        if not args.target:
            raise UsageError(f"statement {action}: give the customer CODE, e.g. `duly statement {action} HD001 "
                             "--as-of 2026-06-30`")
        if not args.as_of:
            raise UsageError(f"statement {action}: give --as-of D (the date of the statement)")
        return statement_confirm(args, ctx) if action == "confirm" else statement_resolve(args, ctx)
    if args.target:
        raise UsageError(f"statement: unexpected {args.target!r} after {args.code!r}")
    if args.all or args.send or args.out or args.mark_sent:
        return statement_send(args, ctx)
    if not args.code:
        raise UsageError("statement: give a customer CODE (or --all with --send or --out)")
    from tui.cli import reports as report_cmds

    return report_cmds.statement(args, ctx)


def statement_send(args, ctx):
    if not (args.send or args.out or args.mark_sent):
        raise UsageError("statement --all: say how: --send (e-mail) and/or --out DIR (print-ready files), "
                         "or --mark-sent")
    if not args.as_of or args.date_from or args.date_to:
        raise UsageError("statement --send/--out: give --as-of D (statements that are tracked are 'outstanding as of')")
    if bool(args.all) == bool(args.code):
        raise UsageError("statement --send/--out: give a customer CODE or --all, not both")
    if ctx.format in ("md", "csv"):
        raise UsageError("statement --send/--out: files are html or pdf (--format pdf); the list printed is a "
                         "table, or json with --format json")
    file_format = "pdf" if ctx.format == "pdf" else "html"
    results = confirmations.send(ctx.ledger(), args.as_of, codes=None if args.all else [args.code],
                                 email=args.send, out_dir=args.out, resend=args.resend, on=args.on,
                                 mark_sent=args.mark_sent, file_format=file_format, attach_pdf=args.attach_pdf,
                                 lang=args.lang)
    rows = [{"customer": r.code, "channel": r.channel or "", "address": r.address or "", "outcome": r.outcome,
             "balance": ", ".join(f"{_amount(ctx, v, c)} {c}" for c, v in r.balances.items())} for r in results]
    if ctx.format == "json":
        print(output.to_json(rows))
    else:
        ctx.emit(rows, ["customer", "balance", "channel", "address", "outcome"])
        sent = sum(1 for r in results if r.outcome == "sent")
        written = sum(1 for r in results if r.outcome.startswith("written"))
        print(f"{sent} statement(s) sent as of {args.as_of}, {len(results) - sent} not"
              + (f" ({written} written as a preview, not marked as sent)" if written else "")
              + (f"; {file_format.upper()} files in {args.out} are PLAINTEXT: keep them safe or delete them after "
                 "use" if args.out else ""))
    if any(r.outcome.startswith("failed") for r in results):
        print("duly: some statements were not sent (see the outcome column)", file=sys.stderr)
        return 1


def statement_confirm(args, ctx):
    row = confirmations.confirm(ctx.ledger(), args.target, args.as_of, args.their_balance, currency=args.currency,
                                on=args.on, note=args.note)
    cur = row["currency"]
    ours = money.format_amount(row["our_balance"], cur)
    if row["status"] == "confirmed":
        ctx.done(f"{args.target}: statement as of {args.as_of} confirmed ({ours} {cur})")
    else:
        ctx.done(f"{args.target}: statement as of {args.as_of} disputed: ours {ours}"
                 f", theirs {money.format_amount(row['their_balance'], cur)}, difference "
                 f"{money.format_amount(row['difference'], cur)} {cur} (shown in `duly statement status` until "
                 "resolved)")


def statement_resolve(args, ctx):
    row = confirmations.resolve(ctx.ledger(), args.target, args.as_of, args.note, currency=args.currency, on=args.on)
    ctx.done(f"{args.target}: difference of {money.format_amount(row['difference'], row['currency'])} "
             f"{row['currency']} on the statement as of {args.as_of} resolved")


def statement_status(args, ctx):
    rows = confirmations.status(ctx.ledger(), customer_code=args.target, open_only=args.open)
    for r in rows:
        for k in ("our_balance", "their_balance", "difference"):
            r[k] = "" if r[k] is None else _amount(ctx, r[k], r["currency"])
    ctx.emit(rows, ["customer", "name", "as_of", "currency", "status", "channel", "sent_on", "our_balance",
                    "their_balance", "difference", "answered_on", "resolved_on", "note"],
             right={"our_balance", "their_balance", "difference"})
