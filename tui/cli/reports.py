"""`duly report ...` (aging, summary, DSO, CEI, forecast, provision, days to pay, expected dates, credit scores,
risk alerts) and `duly demo`. Statements of account are `duly statement` (tui.cli.statements)."""
from __future__ import annotations

import sys
import time
from datetime import date

from store.rules import aging as agelib
from store.files import demo
from store.read import fx as fxread
from store.read import reports
from store.rules import fx
from store.write import settings
from store.errors import NotFound
from store.ledger import db
from store.ledger.ledger import Ledger
from store.rules.money import format_amount, to_decimal_str
from store.rules.validate import parse_date
from tui.cli.context import UsageError, as_of_option, date_given
from store.i18n import N_

def register(sub, common) -> None:
    p = sub.add_parser("report", parents=[common],
                       help="aging, AR summary, DSO, CEI, forecast, provision, exchange differences")
    rsub = p.add_subparsers(dest="report", metavar="REPORT", required=True)

    q = rsub.add_parser("aging", parents=[common], help="aged receivables (账龄) as of a date")
    as_of_option(q)
    q.add_argument("--basis", choices=list(agelib.BASES), default="due", help="age by due date or invoice date")
    group = q.add_mutually_exclusive_group()
    group.add_argument("--buckets", metavar="30,60,90,120", help="bucket edges in days")
    group.add_argument("--years", action="store_true", help="year buckets: 1年以内 / 1-2年 / 2-3年 / 3年以上")
    _in_option(q)
    q.set_defaults(handler=aging)

    for name, handler, text in (
        ("summary", summary, N_("AR summary per currency")),
        ("dso", dso, N_("days sales outstanding")),
        ("forecast", forecast, N_("expected cash-in per week (13 weeks)")),
        ("provision", provision, N_("bad-debt provision (坏账准备) by aging bucket")),
        ("days-to-pay", days_to_pay, N_("per customer: average days to pay, days late, trend")),
        ("expected", expected, N_("expected payment date per open invoice")),
    ):
        q = rsub.add_parser(name, parents=[common], help=text)
        as_of_option(q)
        if name == "dso":
            q.add_argument("--days", type=int, default=90, help="period of credit sales (default 90)")
        if name == "forecast":
            q.add_argument("--weeks", type=int, default=13, help="how many weeks ahead (default 13)")
        if name == "provision":
            q.add_argument("--rates", metavar="not_due=0,1-30=1,...", help="percent per bucket (else provision.rates)")
        if name == "summary":
            _in_option(q)
        q.set_defaults(handler=handler)

    q = rsub.add_parser("revaluation", parents=[common],
                        help="unrealised exchange difference of open foreign invoices as of a date (`duly rate`)")
    as_of_option(q)
    q.set_defaults(handler=revaluation)
    q = rsub.add_parser("fx-realised", parents=[common],
                        help="realised exchange difference of foreign payments over a period (`duly rate`)")
    q.add_argument("--from", dest="date_from", required=True, metavar="D", help="first day of the period")
    q.add_argument("--to", dest="date_to", required=True, metavar="D", help="last day of the period")
    q.set_defaults(handler=fx_realised)

    q = rsub.add_parser("cei", parents=[common], help="collection effectiveness index over a period")
    q.add_argument("--from", dest="date_from", required=True, metavar="D", help="first day of the period")
    q.add_argument("--to", dest="date_to", required=True, metavar="D", help="last day of the period")
    q.set_defaults(handler=cei)

    q = rsub.add_parser("credit", parents=[common], help="credit score 0-100, rating A-D, factors and policy")
    as_of_option(q)
    q.add_argument("--customer", metavar="CODE", help="one customer, factor by factor")
    q.set_defaults(handler=credit_scores)
    q = rsub.add_parser("alerts", parents=[common], help="risk alerts (预警), each with its reason")
    as_of_option(q)
    q.set_defaults(handler=risk_alerts)

    q = sub.add_parser("demo", parents=[common], help="create a realistic demo ledger (zh + en names)")
    q.add_argument("--customers", type=int, default=demo.DEFAULT_CUSTOMERS,
                   help="how many customers (default %(default)s)")
    q.add_argument("--invoices", type=int, default=demo.DEFAULT_INVOICES,
                   help="how many invoices (default %(default)s)")
    q.add_argument("--seed", type=int, default=1, help="random seed: the same seed makes the same book (default 1)")
    q.set_defaults(handler=make_demo)


def _in_option(q) -> None:
    q.add_argument("--in", dest="in_currency", metavar="CUR",
                   help="every currency converted into CUR at its latest rate on or before the date (`duly rate`)")


def _rates_note(ctx, conv) -> None:
    """Which rates a converted report used and which currencies it left out (on stderr: the table stays a table)."""
    if conv is None or ctx.format == "json":
        return
    used = ", ".join(f"{cur} {fx.rate_text(r.rate)} ({r.on})" for cur, r in sorted(conv.used.items()))
    print(ctx.t("in {currency} at the rate as of {date}: {used}", currency=conv.target, date=conv.as_of,
                used=used or ctx.t("no conversion needed")), file=sys.stderr)
    if conv.missing:
        print(ctx.t("left out, no rate on or before {date}: {currencies} (`duly rate set CUR RATE --date D`)",
                    date=conv.as_of, currencies=", ".join(conv.missing)), file=sys.stderr)


def _amount(ctx, minor: int, currency: str) -> str:
    return format_amount(minor, currency) if ctx.format == "table" else to_decimal_str(minor, currency)


# --- report aging ----------------------------------------------------------------------------------------


def aging(args, ctx):
    edges = agelib.parse_edges(args.buckets) if args.buckets else None
    report = reports.aging(ctx.ledger(), date_given(args), args.basis, edges, args.years)
    conv = None
    if args.in_currency:
        report, conv = fxread.aging_in(report, ctx.ledger(), args.in_currency)
    columns = ["customer", "name", "currency", *report.buckets, agelib.UNAPPLIED, "total"]
    if ctx.format == "json":
        found = agelib.to_json(report)
        ctx.emit([], columns, json_value=found if conv is None else {**found, "conversion": conv.as_json()})
        return
    _rates_note(ctx, conv)
    amounts = (*report.buckets, agelib.UNAPPLIED, "total")
    rows = [{**row, **{c: _amount(ctx, row[c], row["currency"]) for c in amounts}} for row in report.rows]
    if ctx.format == "table":
        for cur, tot in report.totals.items():
            rows.append({"customer": "", "name": "", "currency": "", **{c: "" for c in amounts}})
            rows.append({"customer": ctx.t("TOTAL"), "name": "", "currency": cur,
                         **{c: _amount(ctx, tot[c], cur) for c in amounts}})
    late = [b for b in report.buckets if b != agelib.NOT_DUE] if args.basis == "due" else []
    ctx.emit(rows, columns, right=set(amounts), overdue=lambda row: [c for c in late if _nonzero(row.get(c))])


def _nonzero(text) -> bool:
    """A formatted amount that is not zero ('1,200.00' yes, '0.00' and '' no)."""
    return any(ch in "123456789" for ch in str(text or ""))


# --- summary, dso, cei -------------------------------------------------------------------------------------


def summary(args, ctx):
    result = reports.summary(ctx.ledger(), date_given(args))
    conv, counts = None, ["open_invoices", "customers"]
    if args.in_currency:
        result, conv = fxread.summary_in(result, ctx.ledger(), args.in_currency, date_given(args))
        counts = ["open_invoices"]
    money_cols = ("receivable", "overdue", "not_due", "unapplied", "balance")
    rows = [{"currency": cur, **{k: _amount(ctx, v, cur) if k in money_cols else v for k, v in row.items()}}
            for cur, row in result.items()]
    found = {"as_of": date_given(args).isoformat(), "currencies": {
        r["currency"]: {k: v for k, v in r.items() if k != "currency"} for r in rows}}
    _rates_note(ctx, conv)
    ctx.emit(rows, ["currency", *money_cols, *counts], right=set(money_cols) | set(counts),
             overdue=lambda row: ["overdue"] if _nonzero(row["overdue"]) else [],
             json_value=found if conv is None else {**found, "conversion": conv.as_json()})


# --- foreign currency -------------------------------------------------------------------------------------


def _fx_rows(ctx, result: dict, columns: list[str], money_cols: set[str], base_cols: set[str]) -> list[dict]:
    base = result["base"]
    rows = []
    for row in result["rows"]:
        out = {**row}
        for c in money_cols:
            out[c] = _amount(ctx, row[c], row["currency"])
        for c in base_cols:
            out[c] = _amount(ctx, row[c], base)
        for c in ("booked_rate", "rate", "invoice_rate", "payment_rate"):
            if c in out:
                out[c] = fx.rate_text(out[c])
        rows.append(out)
    if ctx.format == "table" and rows:
        rows.append({c: "" for c in columns})
        rows.append({**{c: "" for c in columns}, columns[0]: ctx.t("TOTAL"),
                     "difference": _amount(ctx, result["difference"], base)})
    return rows


def _fx_missing(ctx, result: dict, message: str) -> None:
    """The rows left out for want of a rate, on stderr in the reader's language (the app's words for it)."""
    if result["missing"] and ctx.format != "json":
        currencies = ", ".join(sorted({m["currency"] for m in result["missing"]}))
        print(ctx.t(message, n=len(result["missing"]), currencies=currencies) + " (`duly rate set CUR RATE --date D`)",
              file=sys.stderr)


def _fx_headers(ctx, columns: list[str]) -> dict[str, str]:
    """The exchange-difference tables' column titles in Chinese are the Rates screen's (汇率, 入账汇率, 重估折合...);
    English keeps the column keys scripts know, as every table does."""
    if ctx.language() == "en":
        return {}
    return {c: ctx.t(f"rates.col.{c}") for c in columns if ctx.t_has(f"rates.col.{c}")}


def revaluation(args, ctx):
    result = fxread.revaluation(ctx.ledger(), date_given(args))
    columns = ["customer", "number", "currency", "open", "booked_rate", "rate", "booked", "revalued", "difference"]
    rows = _fx_rows(ctx, result, columns, {"open"}, {"booked", "revalued", "difference"})
    _fx_missing(ctx, result, N_("rates.missing_invoices"))
    ctx.emit(rows, columns, headers=_fx_headers(ctx, columns),
             right={"open", "booked_rate", "rate", "booked", "revalued", "difference"},
             json_value={"as_of": result["as_of"].isoformat(), "base": result["base"],
                         "difference": to_decimal_str(result["difference"], result["base"]),
                         "rows": [r for r in rows if r.get("number")], "missing": [
                             {**m, "open": to_decimal_str(m["open"], m["currency"])} for m in result["missing"]]})


def fx_realised(args, ctx):
    start, end = parse_date(args.date_from, "--from"), parse_date(args.date_to, "--to")
    result = fxread.realised(ctx.ledger(), start, end)
    columns = ["payment", "date", "invoice", "invoice_date", "customer", "currency", "amount", "invoice_rate",
               "payment_rate", "booked", "received", "difference"]
    rows = _fx_rows(ctx, result, columns, {"amount"}, {"booked", "received", "difference"})
    _fx_missing(ctx, result, N_("rates.missing_payments"))
    ctx.emit(rows, columns, headers=_fx_headers(ctx, columns),
             right={"amount", "invoice_rate", "payment_rate", "booked", "received", "difference"},
             json_value={"from": start.isoformat(), "to": end.isoformat(), "base": result["base"],
                         "difference": to_decimal_str(result["difference"], result["base"]),
                         "rows": [r for r in rows if r.get("payment")], "missing": [
                             {**m, "amount": to_decimal_str(m["amount"], m["currency"])} for m in result["missing"]]})


def _ratio_text(value) -> str | None:
    return None if value is None else str(value)


def dso(args, ctx):
    result = reports.dso(ctx.ledger(), date_given(args), args.days)
    rows = [{"currency": cur, "receivables": _amount(ctx, r["receivables"], cur), "sales": _amount(ctx, r["sales"], cur),
             "days": r["days"], "dso": _ratio_text(r["dso"])} for cur, r in result.items()]
    ctx.emit(rows, ["currency", "receivables", "sales", "days", "dso"], right={"receivables", "sales", "days", "dso"})


def cei(args, ctx):
    start, end = date_given(args, "date_from", "--from"), date_given(args, "date_to", "--to")
    result = reports.cei(ctx.ledger(), start, end)
    cols = ["beginning_ar", "sales", "ending_ar", "ending_current_ar"]
    rows = [{"currency": cur, **{c: _amount(ctx, r[c], cur) for c in cols}, "cei": _ratio_text(r["cei"])}
            for cur, r in result.items()]
    ctx.emit(rows, ["currency", *cols, "cei"], right={*cols, "cei"})


# --- behaviour, expected dates, forecast, provision ------------------------------------------------------


def days_to_pay(args, ctx):
    rows = reports.customer_days_to_pay(ctx.ledger(), date_given(args))
    for row in rows:
        row.pop("customer_id")
    ctx.emit(rows, ["customer", "name", "paid_invoices", "avg_days_to_pay", "avg_days_late", "recent_days_late",
                    "prior_days_late", "trend_days", "trend"],
             right={"paid_invoices", "avg_days_to_pay", "avg_days_late", "recent_days_late", "prior_days_late",
                    "trend_days"})


def expected(args, ctx):
    rows = reports.expected_payment_dates(ctx.ledger(), date_given(args))
    for row in rows:
        row["open_amount"] = _amount(ctx, row["open_amount"], row["currency"])
        row["due_date"], row["expected"] = row["due_date"].isoformat(), row["expected"].isoformat()
    ctx.emit(rows, ["expected", "customer", "name", "number", "currency", "due_date", "open_amount", "avg_days_late"],
             right={"open_amount", "avg_days_late"})


def forecast(args, ctx):
    rows = reports.forecast(ctx.ledger(), date_given(args), args.weeks)
    for row in rows:
        row["amount"] = _amount(ctx, row["amount"], row["currency"])
        row["start"] = row["start"].isoformat()
        row["end"] = row["end"].isoformat() if row["end"] else ""
    ctx.emit(rows, ["week", "start", "end", "currency", "amount", "source"], right={"amount"})


def provision(args, ctx):
    as_of = date_given(args)
    result = reports.provision(ctx.ledger(), as_of, args.rates)
    rows = []
    for row in result["rows"]:
        cur = row["currency"]
        rows.append({"currency": cur, "bucket": row["bucket"], "open_amount": _amount(ctx, row["open_amount"], cur),
                     "rate": f"{row['rate_bp'] / 100:g}%" if ctx.format == "table" else str(row["rate_bp"] / 100),
                     "provision": _amount(ctx, row["provision"], cur)})
    if ctx.format == "table":
        for cur, tot in result["totals"].items():
            rows.append({"currency": cur, "bucket": ctx.t("TOTAL"), "open_amount": _amount(ctx, tot["open_amount"], cur),
                         "rate": "", "provision": _amount(ctx, tot["provision"], cur)})
    ctx.emit(rows, ["currency", "bucket", "open_amount", "rate", "provision"], right={"open_amount", "rate", "provision"},
             json_value={"as_of": as_of.isoformat(), "rows": rows, "totals": {
                 cur: {k: to_decimal_str(v, cur) for k, v in tot.items()} for cur, tot in result["totals"].items()}})


# --- credit and alerts ---------------------------------------------------------------------------------------------


def credit_scores(args, ctx):
    from store.read import credit  # imported when used: the other reports start faster
    from store.rules.credit import WEIGHTS

    as_of = date_given(args)
    found = credit.scores(ctx.ledger(), as_of)
    if args.customer:
        found = [s for s in found if s.facts.code == args.customer]
        if not found:
            from store.write import customers

            customers.by_code(ctx.ledger(), args.customer)  # unknown code: NotFound
            raise NotFound(N_("customer {customer} is archived with nothing open, so it has no credit score as of "
                              "{as_of}"), customer=args.customer, as_of=as_of)
    data = [{"customer": s.facts.code, "name": s.facts.name, "score": s.score, "rating": s.rating,
             "policy": s.policy(ctx.language()),
             "factors": [{"factor": f.name, "weight": f.weight, "value": f.value, "points": f.points}
                         for f in s.factors]} for s in found]
    if ctx.format == "json":
        ctx.emit([], [], json_value={"as_of": as_of.isoformat(), "customers": data})
        return
    if args.customer and ctx.format == "table":
        s = data[0]
        ctx.emit_record({k: s[k] for k in ("customer", "name", "score", "rating", "policy")},
                        sections={"factors": ([{**f, "points": "n/a" if f["points"] is None else f["points"]}
                                               for f in s["factors"]], ["factor", "weight", "value", "points"])})
        return
    names = list(WEIGHTS)
    rows = [{**{k: d[k] for k in ("customer", "name", "score", "rating")},
             **{f["factor"]: "-" if f["points"] is None else f["points"] for f in d["factors"]},
             "policy": d["policy"]} for d in data]
    ctx.emit(rows, ["customer", "name", "score", "rating", *names, "policy"], right={"score", *names})
    if ctx.format == "table":
        print("\n" + ctx.t("weights: {weights} (points 0-100 each; '-' does not apply); `--customer CODE` shows the "
                           "measured values", weights=", ".join(f"{n} {w}" for n, w in WEIGHTS.items())))


def risk_alerts(args, ctx):
    from store.read import alerts  # imported when used: it reads the collections records too

    as_of: date = date_given(args)
    found = alerts.alerts(ctx.ledger(), as_of)
    rows = [{"customer": a.customer, "name": a.name, "kind": a.kind, "reason": a.why(ctx.language())} for a in found]
    ctx.emit(rows, ["customer", "name", "kind", "reason"], json_value={"as_of": as_of.isoformat(), "alerts": rows})


# --- demo ------------------------------------------------------------------------------------------------------


def make_demo(args, ctx):
    db.must_be_new(ctx.ledger_path)
    if args.customers < 1 or args.invoices < 0:
        raise UsageError(N_("demo: --customers must be at least 1 and --invoices at least 0"))
    passphrase = ctx.passphrase(confirm=True)
    started = time.monotonic()
    with Ledger.create(ctx.ledger_path, passphrase) as ledger:
        from tui.cli.progress import shown

        with shown(ctx, ctx.t("making the demo book"), ctx.t("invoices")) as progress:
            counts = demo.build(ledger, customers=args.customers, invoices=args.invoices, seed=args.seed,
                                progress=progress)
        settings.get(ledger, "currency")
    ctx.done(ctx.t("demo ledger {path}: {customers} customers, {invoices} invoices, {payments} payments, "
                   "{credit_notes} credit notes, {writeoffs} write-offs, {voids} voids ({seconds} s)",
                   path=ctx.ledger_path, **counts, seconds=f"{time.monotonic() - started:.1f}"))
