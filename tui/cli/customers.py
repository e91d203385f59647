"""`duly customer ...`: the customer archive from the command line."""
from __future__ import annotations

import sys

from store.read import audit
from store.write import customers
from store.rules.money import format_amount, to_decimal_str
from store.i18n import N_

FIELD_OPTIONS = {
    "--name": "name", "--legal-name": "legal_name", "--tax-id": "tax_id", "--address": "address",
    "--email": "email", "--phone": "phone", "--language": "language", "--currency": "currency",
    "--terms": "terms", "--credit-limit": "credit_limit", "--category": "category",
    "--cycle": "settlement_cycle", "--tags": "tags", "--notes": "notes",
}
FIELD_HELP = {
    "--name": N_("the name used on screens and documents"), "--legal-name": N_("the registered name, if different"),
    "--tax-id": N_("统一社会信用代码, 税号, EU VAT number or US EIN"), "--address": N_("postal address"),
    "--email": N_("e-mail for statements and reminders"), "--phone": N_("phone number"),
    "--language": N_("zh or en: the language of its documents"), "--currency": N_("ISO 4217 code (default the ledger's)"),
    "--terms": N_("payment terms by name, e.g. NET30"), "--credit-limit": N_("credit limit as an amount"),
    "--category": N_("A, B, C, VIP, 普通 or 风险"), "--tags": N_("comma-separated tags"), "--notes": N_("free text"),
}


def _field_args(parser, *, name_required: bool) -> None:
    for option, dest in FIELD_OPTIONS.items():
        if option == "--name":
            parser.add_argument(option, dest=dest, required=name_required, help=FIELD_HELP[option])
        elif option == "--cycle":
            parser.add_argument(option, "--settlement-cycle", dest=dest,
                                help="per_order | monthly (月结) | quarterly (季结) | yearly (年结)")
        else:
            parser.add_argument(option, dest=dest, help=FIELD_HELP[option])


def _allow_duplicate(parser) -> None:
    parser.add_argument("--allow-duplicate-tax-id", action="store_true",
                        help="accept a tax id another customer already has (a branch of one company, say)")


def register(sub, common) -> None:
    p = sub.add_parser("customer", parents=[common], help="the customer archive (客户档案)")
    csub = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    q = csub.add_parser("add", parents=[common], help="add a customer")
    q.add_argument("code", help="a new customer code (up to 32 letters, digits, - _ . /)")
    _field_args(q, name_required=True)
    _allow_duplicate(q)
    q.set_defaults(handler=add)

    q = csub.add_parser("list", parents=[common], help="list customers")
    q.add_argument("--search", help="part of a code, name or tax id, or the name's pinyin (hengda) or its "
                   "initials (shhd)")
    q.add_argument("--all", action="store_true", help="include archived customers")
    q.set_defaults(handler=listing)

    q = csub.add_parser("show", parents=[common], help="one customer, its contacts and field history")
    q.add_argument("code", help="the customer code")
    q.set_defaults(handler=show)

    q = csub.add_parser("edit", parents=[common], help="change fields (one change-log entry)")
    q.add_argument("code", help="the customer code")
    q.add_argument("--code", dest="new_code", help="a new customer code")
    _field_args(q, name_required=False)
    _allow_duplicate(q)
    q.set_defaults(handler=edit)

    for action, flag in (("archive", True), ("unarchive", False)):
        q = csub.add_parser(action, parents=[common], help=N_("archive a customer") if flag else N_("unarchive a customer"))
        q.add_argument("code", help="the customer code")
        q.set_defaults(handler=archive, archived=flag)

    q = csub.add_parser("contact", parents=[common], help="add a contact person to a customer")
    q.add_argument("code", help="the customer code")
    q.add_argument("--name", required=True, help="the contact's name")
    for option, text in (("--role", N_("e.g. 财务 or accounts payable")), ("--phone", N_("phone number")),
                         ("--email", N_("e-mail address")), ("--wechat", N_("WeChat id"))):
        q.add_argument(option, help=text)
    q.set_defaults(handler=add_contact)


def _fields(args) -> dict:
    return {dest: getattr(args, dest) for dest in FIELD_OPTIONS.values() if getattr(args, dest, None) is not None}


def add(args, ctx):
    fields = _fields(args)
    name = fields.pop("name")
    customer_id = customers.add(ctx.ledger(), args.code, name, allow_duplicate_tax_id=args.allow_duplicate_tax_id,
                                **fields)
    _warn_similar(ctx, name, customer_id)
    ctx.done(ctx.t("customer {code} added", code=args.code))


def _warn_similar(ctx, name: str, customer_id: str) -> None:
    """A name that normalises to an existing customer's is allowed (two companies may share one) but said."""
    for other in customers.similar_names(ctx.ledger(), name, exclude_id=customer_id):
        ctx.warn(ctx.t("the name {name} looks like customer {code}'s ({other}); if they are one company, archive one",
                       name=repr(name), code=other["code"], other=other["name"]))


def edit(args, ctx):
    fields = _fields(args)
    if args.new_code:
        fields["code"] = args.new_code
    if not fields:
        from tui.cli.context import UsageError

        raise UsageError(N_("nothing to change: give at least one --field value"))
    changed = customers.edit(ctx.ledger(), args.code, allow_duplicate_tax_id=args.allow_duplicate_tax_id, **fields)
    if "name" in changed:
        _warn_similar(ctx, changed["name"][1], customers.by_code(ctx.ledger(), fields.get("code", args.code))["id"])
    ctx.done(ctx.t("customer {code}: {fields} changed", code=args.code, fields=", ".join(sorted(changed))) if changed
             else ctx.t("customer {code}: nothing changed", code=args.code))


def archive(args, ctx):
    customers.set_archived(ctx.ledger(), args.code, args.archived)
    ctx.done(ctx.t("customer {code} archived", code=args.code) if args.archived
             else ctx.t("customer {code} restored from the archive", code=args.code))


def add_contact(args, ctx):
    customers.add_contact(ctx.ledger(), args.code, args.name, role=args.role, phone=args.phone,
                          email=args.email, wechat=args.wechat)
    ctx.done(ctx.t("contact {name} added to {code}", name=args.name, code=args.code))


def _limit(value, currency, json_mode):
    if value is None:
        return None
    return to_decimal_str(value, currency) if json_mode else format_amount(value, currency)


def listing(args, ctx):
    json_mode = ctx.format != "table"
    rows = customers.listing(ctx.ledger(), search=args.search, archived=args.all)
    for row in rows:
        row["credit_limit"] = _limit(row["credit_limit"], row["currency"] or "CNY", json_mode)
        row["archived"] = bool(row["archived"])
        row.pop("id")
    ctx.emit(rows, ["code", "name", "currency", "terms", "credit_limit", "category", "settlement_cycle",
                    "email", "phone"], right={"credit_limit"})


def show(args, ctx):
    ledger = ctx.ledger()
    record = customers.by_code(ledger, args.code)
    json_mode = ctx.format != "table"
    record["credit_limit"] = _limit(record["credit_limit"], record["currency"] or "CNY", json_mode)
    record["archived"] = bool(record["archived"])
    contacts = customers.contacts(ledger, record["id"])
    history = audit.field_history(ledger, record["id"], machine=json_mode)
    ctx.emit_record(record, sections={
        "contacts": (contacts, ["name", "role", "phone", "email", "wechat"]),
        "history": (history, ["local_time", "actor", "subject", "field", "old", "new"]),
    })
