"""`duly rate …`: exchange rates (汇率) to the ledger's base currency, typed or imported from a CSV."""
from __future__ import annotations

from store.errors import InvalidInput
from store.files import rates as rate_files
from store.read import fx as fxread
from store.write import fx
from store.i18n import N_
from tui.cli.context import date_given


def register(sub, common) -> None:
    p = sub.add_parser("rate", parents=[common], help="exchange rates (汇率) to the base currency: set, list, import")
    rsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = rsub.add_parser("set", parents=[common], help="the rate of a currency on a date (a correction sets it again)")
    q.add_argument("currency", help="ISO 4217 code, e.g. USD")
    q.add_argument("rate", help="base-currency units for one unit, e.g. 7.1234")
    q.add_argument("--date", dest="on", default="today", metavar="D", help="the rate's date (default today)")
    q.add_argument("--per", type=int, default=1, metavar="N",
                   help="the rate is quoted for N units (the PBOC quotes per 100: --per 100)")
    q.set_defaults(handler=set_rate)
    q = rsub.add_parser("list", parents=[common], help="the rates kept, by currency and date")
    q.add_argument("--currency", metavar="C", help="one currency")
    q.set_defaults(handler=listing)
    q = rsub.add_parser("import", parents=[common],
                        help="rates from a CSV/XLSX with columns date, currency, rate (日期, 币种, 汇率/中间价)")
    q.add_argument("file", help="the file to read")
    q.add_argument("--per", type=int, default=1, metavar="N", help="the file's rates are quoted for N units")
    q.set_defaults(handler=import_rates)


def _per(args) -> int:
    if args.per <= 0:
        raise InvalidInput(N_("--per {per}: must be a positive number of units"), per=args.per, field="per")
    return args.per


def set_rate(args, ctx):
    on = date_given(args, "on", "--date").isoformat()
    saved = fx.set_rate(ctx.ledger(), args.currency, on, args.rate, per=_per(args))
    ctx.done(ctx.t("1 {currency} = {rate} {base} on {date}",
                   currency=saved['currency'], rate=saved['rate'], base=saved['base'], date=saved['date']))


def listing(args, ctx):
    rows = fxread.rates(ctx.ledger(), args.currency)
    ctx.emit(rows, ["currency", "date", "rate", "source"], right={"rate"})


def import_rates(args, ctx):
    count = rate_files.import_file(ctx.ledger(), args.file, per=_per(args))
    ctx.done(ctx.t(N_("{count} rate imported from {file}") if count == 1 else N_("{count} rates imported from {file}"),
                   count=count, file=args.file))
