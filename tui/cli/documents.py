"""`duly terms|invoice|payment|credit|writeoff ...`: posting the receivables documents (DESIGN §5)."""
from __future__ import annotations

import sys
from datetime import date

from store.write import adjustments, debit_notes, invoices, payments, terms as termsbook
from store.rules.money import format_amount, to_decimal_str
from store.rules.terms import BUILTIN_ZH, describe
from store.rules.validate import iso_date
from tui.cli import output
from tui.cli.context import UsageError
from store.i18n import N_


def register(sub, common) -> None:
    _register_terms(sub, common)
    _register_invoice(sub, common)
    _register_payment(sub, common)

    p = sub.add_parser("credit", parents=[common], help="credit notes (贷项通知单)")
    csub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = csub.add_parser("add", parents=[common], help="issue a credit note, optionally against an invoice")
    q.add_argument("--customer", required=True, metavar="CODE", help="the customer code")
    q.add_argument("--date", required=True, metavar="D", help="the credit note's date")
    q.add_argument("--amount", required=True, metavar="A", help="the amount credited")
    q.add_argument("--invoice", metavar="NUMBER", help="apply it to this invoice (up to its open amount)")
    q.add_argument("--reason", required=True, help="why it is credited")
    q.add_argument("--currency", metavar="C", help="currency (default: the customer's)")
    q.set_defaults(handler=credit_add)
    q = csub.add_parser("list", parents=[common], help="list credit notes")
    q.add_argument("--customer", metavar="CODE", help="only this customer's credit notes")
    q.set_defaults(handler=credit_list)

    p = sub.add_parser("debit", parents=[common],
                       help="debit notes (借项通知单): raise what a customer owes (a fee, a credit's reversal)")
    dsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = dsub.add_parser("add", parents=[common], help="issue a debit note (it is open like an invoice)")
    q.add_argument("--customer", metavar="CODE", help="the customer code (with --reverses: taken from the credit)")
    q.add_argument("--date", required=True, metavar="D", help="the debit note's date")
    q.add_argument("--amount", metavar="A", help="the amount (with --reverses: default all of the credit note)")
    q.add_argument("--reverses", metavar="CN-…", help="the credit note it reverses (at most once)")
    q.add_argument("--invoice", metavar="NUMBER",
                   help="the invoice it is charged on (a fee for it): its customer and currency")
    q.add_argument("--reason", required=True, help="why the customer owes it")
    q.add_argument("--due", metavar="D", help="due date (default: the debit note's date)")
    q.add_argument("--currency", metavar="C", help="currency (default: the customer's)")
    q.set_defaults(handler=debit_add)
    q = dsub.add_parser("list", parents=[common], help="list debit notes")
    q.add_argument("--customer", metavar="CODE", help="only this customer's debit notes")
    q.set_defaults(handler=debit_list)

    p = sub.add_parser("writeoff", parents=[common], help="write off what an invoice has open (坏账核销)")
    p.add_argument("number", help="the invoice number")
    p.add_argument("--date", required=True, metavar="D", help="the write-off's date")
    p.add_argument("--amount", metavar="A", help="default: everything open on that date")
    p.add_argument("--reason", required=True, help="why it is written off")
    p.set_defaults(handler=writeoff)


def _register_terms(sub, common) -> None:
    p = sub.add_parser("terms", parents=[common], help="payment terms (账期)")
    tsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = tsub.add_parser("add", parents=[common], help="save payment terms made of instalment lines")
    q.add_argument("name", help="a name for the terms, e.g. NET30")
    q.add_argument("--line", action="append", required=True, metavar="PORTION:DELAY:N[:MONTHS]",
                   help="e.g. 100%%:days_after_end_of_month:30, 30%%:days_after:0, balance:days_after:60")
    q.add_argument("--discount", metavar="PCT/DAYS", help="early-payment discount, e.g. 2/10")
    q.add_argument("--late-interest", metavar="PCT", help="yearly late interest, e.g. 12%%")
    q.set_defaults(handler=terms_add)
    q = tsub.add_parser("list", parents=[common], help="built-in and saved terms")
    q.set_defaults(handler=terms_list)
    q = tsub.add_parser("preview", parents=[common], help="the due dates a sample invoice would get")
    q.add_argument("name", nargs="?", help="terms to preview (omit to preview --line)")
    q.add_argument("--date", required=True, metavar="D", help="the invoice date to preview from")
    q.add_argument("--amount", metavar="A", help="sample total (default 10000)")
    q.add_argument("--line", action="append", help="preview unsaved lines instead of named terms")
    q.set_defaults(handler=terms_preview)


def _register_invoice(sub, common) -> None:
    p = sub.add_parser("invoice", parents=[common], help="invoices (发票)")
    isub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = isub.add_parser("add", parents=[common], help="issue an invoice")
    q.add_argument("--customer", required=True, metavar="CODE", help="the customer code")
    q.add_argument("--date", required=True, metavar="D", help="the invoice's own date")
    q.add_argument("--amount", metavar="A", help="the total, when there are no lines")
    q.add_argument("--line", action="append", metavar="DESC:QTY:PRICE[:TAX%]", help="repeat for each line")
    q.add_argument("--terms", metavar="T", help="payment terms (default: the customer's)")
    q.add_argument("--due", metavar="D", help="one due date (instead of terms)")
    q.add_argument("--number", metavar="N", help="default: the next number of this device's series")
    q.add_argument("--currency", metavar="C", help="currency (default: the customer's)")
    q.add_argument("--contract", metavar="N", help="the contract number it belongs to")
    q.add_argument("--einvoice", metavar="20DIGITS", help="数电票号码")
    q.add_argument("--description", metavar="TEXT", help="a description for the invoice")
    q.set_defaults(handler=invoice_add)

    q = isub.add_parser("list", parents=[common], help="list invoices with their open amounts")
    q.add_argument("--customer", metavar="CODE", help="only this customer's invoices")
    q.add_argument("--open", action="store_true", help="only invoices with something open")
    q.add_argument("--overdue", action="store_true", help="only invoices with an instalment past due")
    q.add_argument("--as-of", metavar="D", help="open amounts as of D (default today)")
    q.add_argument("--limit", type=int, metavar="N", help="at most N invoices")
    q.set_defaults(handler=invoice_list)

    q = isub.add_parser("show", parents=[common], help="one invoice with its lines, instalments and what was applied")
    q.add_argument("number", help="the invoice number")
    q.add_argument("--as-of", metavar="D", help="open amount as of D (default today)")
    q.set_defaults(handler=invoice_show)

    q = isub.add_parser("void", parents=[common], help="void an invoice (refused while money is applied to it)")
    q.add_argument("number", help="the invoice number")
    q.add_argument("--reason", required=True, help="why it is voided")
    q.add_argument("--date", metavar="D", help="default today")
    q.set_defaults(handler=invoice_void)

    q = isub.add_parser("unapply", parents=[common],
                        help="take every payment and credit note off an invoice; the money becomes unapplied again")
    q.add_argument("number", help="the invoice number")
    q.add_argument("--date", metavar="D", help="default today")
    q.set_defaults(handler=invoice_unapply)


def _register_payment(sub, common) -> None:
    p = sub.add_parser("payment", parents=[common], help="payments received (收款) and allocations (核销)")
    psub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = psub.add_parser("add", parents=[common], help="record a payment and apply it")
    q.add_argument("--customer", required=True, metavar="CODE", help="the customer code")
    q.add_argument("--date", required=True, metavar="D", help="the date the money arrived")
    q.add_argument("--amount", required=True, metavar="A", help="the amount received")
    q.add_argument("--method", metavar="M", help="bank_transfer (银行转账), cash (现金), card (刷卡), "
                   "alipay (支付宝), wechat (微信), other")
    q.add_argument("--reference", metavar="R", help="bank reference or payer's note")
    q.add_argument("--note", metavar="TEXT", help="free text")
    q.add_argument("--currency", metavar="C", help="currency (default: the customer's)")
    how = q.add_mutually_exclusive_group()
    how.add_argument("--allocate", action="append", metavar="NUMBER=AMOUNT", help="repeat for each invoice")
    how.add_argument("--no-allocate", action="store_true", help="keep it all unapplied")
    q.set_defaults(handler=payment_add)

    q = psub.add_parser("list", parents=[common], help="list payments")
    q.add_argument("--customer", metavar="CODE", help="only this customer's payments")
    q.add_argument("--limit", type=int, metavar="N", help="at most N payments")
    q.set_defaults(handler=payment_list)

    q = psub.add_parser("allocate", parents=[common], help="apply unapplied money to invoices")
    q.add_argument("items", nargs="*", metavar="PAYMENT_ID [NUMBER=AMOUNT ...]",
                   help="the payment, then invoices with the amount to apply to each")
    q.add_argument("--customer", metavar="CODE", help="every unapplied payment and credit of the customer")
    q.add_argument("--date", metavar="D", help="date of the allocations (default today)")
    q.set_defaults(handler=payment_allocate)

    q = psub.add_parser("void", parents=[common], help="void a payment and reopen what it paid")
    q.add_argument("id", help="the payment (number or id)")
    q.add_argument("--reason", required=True, help="why it is voided")
    q.add_argument("--date", metavar="D", help="default today")
    q.set_defaults(handler=payment_void)


# --- output helpers --------------------------------------------------------------------------------


def _machine(ctx) -> bool:
    return ctx.format != "table"


def _amounts(rows: list[dict], columns: tuple[str, ...], machine: bool, currency: str | None = None) -> list[dict]:
    """Amount columns as decimal strings (json, csv) or with thousands separators (tables)."""
    show = to_decimal_str if machine else format_amount
    for row in rows:
        cur = currency or row.get("currency") or "CNY"
        for col in columns:
            if row.get(col) is not None:
                row[col] = show(row[col], cur)
    return rows


def _json(value) -> None:
    print(output.to_json(value))


# --- terms -----------------------------------------------------------------------------------------


def terms_add(args, ctx):
    termsbook.add(ctx.ledger(), args.name, args.line, discount=args.discount, late_interest=args.late_interest)
    found = termsbook.resolve(ctx.ledger(), args.name.strip())
    ctx.done(ctx.t("terms {name} saved: {meaning}", name=found.name,
                   meaning=describe(found, "zh" if ctx.language() == "zh" else "en")))


def terms_list(args, ctx):
    ledger = ctx.ledger()
    currency = termsbook.home_currency(ledger)
    rows = [{"name": t.name, "zh_name": BUILTIN_ZH.get(t.name, "") if source == "builtin" else "", "source": source,
             "en": describe(t, "en", currency), "zh": describe(t, "zh", currency)}
            for t, source in termsbook.all_terms(ledger)]
    ctx.emit(rows, ["name", "zh_name", "source", "zh", "en"])


def terms_preview(args, ctx):
    if not args.name and not args.line:
        raise UsageError(N_("give terms NAME or --line ... to preview"))
    found, currency, items = termsbook.preview(ctx.ledger(), args.name, args.date, args.amount, lines=args.line)
    rows = _amounts([{"seq": i, "due_date": d, "amount": a} for i, (d, a) in enumerate(items, 1)],
                    ("amount",), _machine(ctx), currency)
    if ctx.format == "json":
        _json({"terms": found.name, "date": args.date, "currency": currency, "due_items": rows})
        return
    if ctx.format == "table":
        print(f"{found.name}: {describe(found, 'zh' if ctx.language() == 'zh' else 'en', currency)}")
    ctx.emit(rows, ["seq", "due_date", "amount"], right={"amount"})


# --- invoices --------------------------------------------------------------------------------------


def invoice_add(args, ctx):
    if args.amount is not None and args.line:
        raise UsageError(N_("give --amount or --line, not both"))
    if args.amount is None and not args.line:
        raise UsageError(N_("give --amount A or at least one --line DESC:QTY:PRICE[:TAX%]"))
    issued = invoices.add(
        ctx.ledger(), args.customer, args.date, amount=args.amount, lines=args.line, terms=args.terms, due=args.due,
        number=args.number, currency=args.currency, contract=args.contract, einvoice=args.einvoice,
        description=args.description,
    )
    show_issued(issued, ctx)


def show_issued(issued, ctx) -> None:
    """What `invoice add` and `draft issue` print about the invoice they posted."""
    for warning in issued.warnings:
        ctx.warn(warning)
    cur = issued.currency
    if ctx.format == "json":
        _json({"id": issued.id, "number": issued.number, "currency": cur,
               "total": to_decimal_str(issued.total, cur), "tax": to_decimal_str(issued.tax, cur),
               "due_items": [{"due_date": d, "amount": to_decimal_str(a, cur)} for d, a in issued.due_items],
               "warnings": issued.warnings})
        return
    if issued.tax:
        print(ctx.t("invoice {number} issued: {amount} (tax {tax})", number=issued.number,
                    amount=format_amount(issued.total, cur, symbol=True), tax=format_amount(issued.tax, cur)))
    else:
        print(ctx.t("invoice {number} issued: {amount}", number=issued.number,
                    amount=format_amount(issued.total, cur, symbol=True)))
    for d, a in issued.due_items:
        print("  " + ctx.t("due {date}  {amount}", date=d, amount=format_amount(a, cur)))


def invoice_list(args, ctx):
    rows = invoices.listing(ctx.ledger(), customer_code=args.customer, open_only=args.open,
                            overdue_only=args.overdue, as_of=args.as_of, limit=args.limit)
    columns = ["number", "customer", "date", "due_date", "currency", "total", "open", "status"]
    rows = _amounts([{c: r[c] for c in [*columns, "id"]} for r in rows], ("total", "open"), _machine(ctx))
    today = args.as_of or date.today().isoformat()
    ctx.emit(rows, columns, headers={"due_date": "due"}, right={"total", "open"},
             overdue=lambda r: ["open", "due_date"] if r["status"] == "open" and (r["due_date"] or today) < today
             else [])


def invoice_show(args, ctx):
    found = invoices.detail(ctx.ledger(), args.number, args.as_of)
    machine = _machine(ctx)
    inv = found["invoice"]
    cur = inv["currency"]
    record = {k: inv[k] for k in ("number", "customer", "customer_name", "date", "due_date", "currency", "total",
                                  "tax", "open", "status", "terms", "contract", "einvoice", "description")}
    _amounts([record], ("total", "tax", "open"), machine, cur)
    if found["recurring"]:
        record["recurring_schedule"] = found["recurring"]["schedule"]
        record["recurring_occurrence"] = found["recurring"]["occurrence"]
    if found["debit_note"]:
        record["debit_note_reverses"] = found["debit_note"]["reverses"]
    if found["void"]:
        record["voided_on"] = found["void"]["date"]
        record["void_reason"] = found["void"]["reason"]
    lines = found["lines"]
    for line in lines:
        line["tax_rate"] = f"{line.pop('tax_bp') / 100:g}%"
    _amounts(lines, ("unit_price", "amount", "tax"), machine, cur)
    for rows, cols in ((found["due_items"], ("amount", "open")), (found["allocations"], ("amount",)),
                       (found["credit_notes"], ("amount",)), (found["writeoffs"], ("amount",))):
        _amounts(rows, cols, machine, cur)
    ctx.emit_record(record, sections={
        "lines": (lines, ["pos", "description", "qty", "unit_price", "tax_rate", "amount", "tax"]),
        "due_items": (found["due_items"], ["seq", "due_date", "amount", "open"]),
        "allocations": (found["allocations"], ["date", "source", "payment", "credit_note", "amount"]),
        "credit_notes": (found["credit_notes"], ["number", "date", "amount", "reason"]),
        "writeoffs": (found["writeoffs"], ["number", "date", "amount", "reason"]),
    })


def invoice_void(args, ctx):
    invoices.void(ctx.ledger(), args.number, args.reason, args.date)
    ctx.done(ctx.t("invoice {number} voided", number=args.number))


def invoice_unapply(args, ctx):
    led = ctx.ledger()
    undone = invoices.unapply(led, args.number, args.date)
    cur = invoices.by_number(led, args.number)["currency"]
    if ctx.format == "json":
        ctx.emit([], [], json_value={"invoice": args.number, "unapplied": [
            {**u, "amount": to_decimal_str(u["amount"], cur)} for u in undone]})
        return
    parts = [ctx.t("credit note {number} {amount}", number=u["number"], amount=format_amount(u["amount"], cur))
             if u["number"] else ctx.t("payment {id} {amount}", id=u["id"], amount=format_amount(u["amount"], cur))
             for u in undone]
    ctx.done(ctx.t("invoice {number}: took off {parts}; that money is unapplied again", number=args.number,
                   parts=", ".join(parts)))


# --- payments --------------------------------------------------------------------------------------


def _applied_text(result: payments.Applied, ctx) -> str:
    cur = result.currency
    parts = [f"{n} {format_amount(a, cur)}" for n, a in result.allocations]
    text = ctx.t("applied to {invoices}", invoices=", ".join(parts)) if parts else ctx.t("nothing applied")
    if result.unapplied:
        text += ctx.t("; {amount} unapplied", amount=format_amount(result.unapplied, cur, symbol=True))
    return text


def _applied_json(result: payments.Applied) -> dict:
    cur = result.currency
    out = {"id": result.id, "amount": to_decimal_str(result.amount, cur), "currency": cur,
           "allocations": [{"invoice": n, "amount": to_decimal_str(a, cur)} for n, a in result.allocations],
           "unapplied": to_decimal_str(result.unapplied, cur)}
    if result.number:
        out["number"] = result.number
    return out


def payment_add(args, ctx):
    result = payments.add(ctx.ledger(), args.customer, args.date, args.amount, method_name=args.method,
                          reference=args.reference, note=args.note, currency=args.currency,
                          allocate=args.allocate, auto=not args.no_allocate)
    if ctx.format == "json":
        _json(_applied_json(result))
        return
    print(ctx.t("payment {number} recorded: {amount}, {applied}", number=result.number,
                amount=format_amount(result.amount, result.currency, symbol=True), applied=_applied_text(result, ctx)))


def payment_list(args, ctx):
    rows = payments.listing(ctx.ledger(), customer_code=args.customer, limit=args.limit)
    rows = _amounts(rows, ("amount", "applied", "unapplied"), _machine(ctx))
    ctx.emit(rows, ["number", "customer", "date", "currency", "amount", "method", "reference", "applied",
                    "unapplied", "status"], right={"amount", "applied", "unapplied"})


def payment_allocate(args, ctx):
    items = list(args.items)
    payment_id = None
    if not args.customer:
        if not items:
            raise UsageError(N_("give a PAYMENT_ID (see `duly payment list`) or --customer CODE"))
        payment_id = items.pop(0)
    elif items and "=" not in items[0]:
        raise UsageError(N_("give either a PAYMENT_ID or --customer CODE, not both"))
    results = payments.allocate(ctx.ledger(), payment_id=payment_id, customer_code=args.customer, pairs=items,
                                on=args.date)
    if ctx.format == "json":
        _json([_applied_json(r) for r in results])
        return
    for r in results:
        print(ctx.t(N_("credit note {number}: {applied}") if r.kind == "credit note" else
                    N_("payment {number}: {applied}"), number=r.number or r.id, applied=_applied_text(r, ctx)))


def payment_void(args, ctx):
    reopened = payments.void(ctx.ledger(), args.id, args.reason, args.date)
    payment = payments.by_id(ctx.ledger(), args.id)
    cur = payment["currency"]
    text = ", ".join(f"{n} {format_amount(a, cur)}" for n, a in reopened)
    ctx.done(ctx.t("payment {payment} voided", payment=payment["number"] or payment["id"])
             + (ctx.t("; reopened {invoices}", invoices=text) if text else ""))


# --- credit notes and write-offs -------------------------------------------------------------------


def credit_add(args, ctx):
    result = adjustments.add_credit(ctx.ledger(), args.customer, args.date, args.amount, args.reason,
                                    invoice_number=args.invoice, currency=args.currency)
    if ctx.format == "json":
        _json(_applied_json(result))
        return
    print(ctx.t("credit note {number} issued: {amount}, {applied}", number=result.number,
                amount=format_amount(result.amount, result.currency, symbol=True), applied=_applied_text(result, ctx)))


def credit_list(args, ctx):
    rows = adjustments.credit_listing(ctx.ledger(), customer_code=args.customer)
    rows = _amounts(rows, ("amount", "applied", "unapplied"), _machine(ctx))
    ctx.emit(rows, ["number", "customer", "date", "currency", "amount", "invoice", "applied", "unapplied", "reason"],
             right={"amount", "applied", "unapplied"})


def writeoff(args, ctx):
    row_id, amount, cur = adjustments.write_off(ctx.ledger(), args.number, args.date, args.reason, args.amount)
    number = adjustments.writeoff_number(ctx.ledger(), row_id)
    if ctx.format == "json":
        _json({"invoice": args.number, "number": number, "date": iso_date(args.date),
               "amount": to_decimal_str(amount, cur), "currency": cur})
        return
    print(ctx.t("invoice {number}: {amount} written off ({writeoff})", number=args.number,
                amount=format_amount(amount, cur, symbol=True), writeoff=number))


# --- debit notes -----------------------------------------------------------------------------------


def debit_add(args, ctx):
    note = debit_notes.add(ctx.ledger(), args.customer, args.date, args.reason, amount=args.amount,
                           reverses=args.reverses, due=args.due, currency=args.currency,
                           invoice=args.invoice)
    for warning in note.warnings:
        ctx.warn(warning)
    amount = format_amount(note.amount, note.currency, symbol=True)
    if note.reverses and note.applied_credit:
        text = ctx.t("debit note {number} of {amount} issued, reversing credit note {credit} ({applied} of its "
                     "unused credit applied to it)", number=note.number, amount=amount, credit=note.reverses,
                     applied=format_amount(note.applied_credit, note.currency, symbol=True))
    elif note.reverses:
        text = ctx.t("debit note {number} of {amount} issued, reversing credit note {credit}", number=note.number,
                     amount=amount, credit=note.reverses)
    else:
        text = ctx.t("debit note {number} of {amount} issued", number=note.number, amount=amount)
    ctx.done(text)


def debit_list(args, ctx):
    rows = _amounts(debit_notes.listing(ctx.ledger(), customer_code=args.customer), ("amount", "open"), _machine(ctx))
    ctx.emit(rows, ["number", "customer", "date", "due_date", "currency", "amount", "open", "reverses", "reason"],
             right={"amount", "open"})
