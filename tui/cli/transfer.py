"""`duly import ...` and `duly export ...`: files in (customers, invoices, payments and fapiao exports: all rows or
none; bank statements, for reconciliation) and plaintext files out."""
from __future__ import annotations

from store.i18n import N_
from tui.cli import output


def register(sub, common) -> None:
    p = sub.add_parser("import", parents=[common],
                       help="import customers, invoices, payments, fapiao exports or bank files (CSV, XLSX, XLS, ODS)")
    kinds = p.add_subparsers(dest="kind", metavar="KIND", required=True)
    for kind, text in (("customers", N_("customers (客户档案): code, name, tax_id, email, terms, credit_limit …")),
                       ("invoices", N_("invoices (发票): customer, date, amount, number, due_date, terms …")),
                       ("payments", N_("payments (收款): customer, date, amount, method, reference, invoice")),
                       ("terms", N_("payment terms (账期) as `export csv` writes them: name, lines (JSON) …")),
                       ("credit_notes", N_("credit notes (红字/贷项): customer, date, amount, invoice, reason")),
                       ("writeoffs", N_("write-offs (坏账核销): invoice, date, amount, reason")),
                       ("voids", N_("voids (作废): document (invoices), ref (the invoice number), date, reason"))):
        q = kinds.add_parser(kind, parents=[common], help=text)
        q.add_argument("file", metavar="FILE", help="CSV (UTF-8 or GBK), XLSX, XLS or ODS with a header row")
        q.add_argument("--dry-run", action="store_true", help="check and show what would be written; write nothing")
        if kind == "customers":
            q.add_argument("--allow-duplicate-tax-id", action="store_true",
                           help="let a customer take a tax id another customer has (a branch, say)")
        q.set_defaults(handler=import_file, import_kind=kind)

    q = kinds.add_parser("fapiao", parents=[common],
                         help="the e-tax platform's issued-invoice export (数电票/发票查询统计) → invoices, credit notes")
    q.add_argument("file", metavar="FILE", help="the export as XLSX, XLS, ODS or CSV (UTF-8 or GBK)")
    q.add_argument("--dry-run", action="store_true", help="check and show what would be written; write nothing")
    q.set_defaults(handler=import_fapiao)

    q = kinds.add_parser("bank", parents=[common], help="a bank statement (银行流水): CSV (UTF-8 or GBK) or XLSX")
    q.add_argument("file", metavar="FILE", help="the bank statement: CSV, XLSX, XLS, ODS or OFX")
    q.add_argument("--profile", metavar="NAME",
                   help="a saved column mapping, or a built-in one: wechat, alipay, icbc, ccb, cmb, abc, boc "
                        "(default: detected from the file, else generic headers)")
    q.add_argument("--account", metavar="ACCOUNT", help="our account number, when the file has no column for it")
    q.add_argument("--currency", metavar="C", help="currency when the file has no column for it (default: ledger's)")
    q.add_argument("--dry-run", action="store_true", help="show what would be imported; write nothing")
    q.set_defaults(handler=import_bank)

    p = sub.add_parser("export", parents=[common], help="write the ledger out as plaintext: csv, xlsx, hledger, beancount")
    esub = p.add_subparsers(dest="target", metavar="FORMAT", required=True)
    q = esub.add_parser("csv", parents=[common], help="one CSV file per table into DIR (re-importable)")
    q.add_argument("path", metavar="DIR", help="the folder to write the CSV files into")
    q.set_defaults(handler=export, writer="export_csv")
    q = esub.add_parser("xlsx", parents=[common], help="a workbook: customers, open items, aging")
    q.add_argument("path", metavar="FILE", help="the workbook to write")
    q.add_argument("--as-of", metavar="D", help="open items and aging as of D (default today)")
    q.set_defaults(handler=export, writer="export_xlsx")
    q = esub.add_parser("hledger", parents=[common], help="an hledger / ledger journal")
    q.add_argument("path", metavar="FILE", help="the journal to write")
    q.set_defaults(handler=export, writer="export_hledger")
    q = esub.add_parser("beancount", parents=[common], help="a beancount file")
    q.add_argument("path", metavar="FILE", help="the file to write")
    q.set_defaults(handler=export, writer="export_beancount")


def import_file(args, ctx):
    from store.files import importer  # imported when used: every other command starts faster

    from tui.cli.progress import shown

    ledger = ctx.ledger()
    with shown(ctx, ctx.t("importing {kind}", kind=ctx.t(f"files.kind.{args.import_kind}")), ctx.t("rows")) as progress:
        # a row per line is shown only by a dry run or in JSON: otherwise the counts are enough (and memory stays
        # bounded on a file of any size)
        outcome = importer.run(ledger, args.file, args.import_kind, dry_run=args.dry_run, progress=progress,
                               allow_duplicate_tax_id=getattr(args, "allow_duplicate_tax_id", False),
                               keep_rows=args.dry_run or ctx.format == "json")
    rows = [{"line": d.line, "action": d.action, "key": d.key, "detail": d.detail} for d in outcome.docs]
    added, updated, skipped = outcome.count("add"), outcome.count("update"), outcome.count("skip")
    summary = (ctx.t("would import {added} new {kind}", added=f"{added:,}", kind=outcome.kind) if outcome.dry_run
               else ctx.t("imported {added} new {kind}", added=f"{added:,}", kind=outcome.kind))
    summary += (ctx.t(", {updated} updated", updated=f"{updated:,}") if updated else "") + ctx.t(
        ", {skipped} already there ({source}, {encoding})", skipped=f"{skipped:,}", source=outcome.source,
        encoding=outcome.encoding)
    _report(ctx, outcome, rows, ["line", "action", "key", "detail"], summary,
            {"kind": outcome.kind, "added": added, "updated": updated, "skipped": skipped})


_FAPIAO_ACTIONS = {"add": "invoice", "credit": "credit note", "void": "void", "skip": "skip"}


def import_fapiao(args, ctx):
    from store.files import fapiao

    outcome = fapiao.run(ctx.ledger(), args.file, dry_run=args.dry_run)
    rows = [{"line": d.line, "action": _FAPIAO_ACTIONS[d.action], "fapiao": d.key, "detail": d.detail}
            for d in outcome.docs]
    counts = {a: outcome.count(a) for a in _FAPIAO_ACTIONS}
    parts = {"invoices": ctx.t(N_("{n} invoice") if counts["add"] == 1 else N_("{n} invoices"), n=counts["add"]),
             "credits": ctx.t(N_("{n} credit note (红字)") if counts["credit"] == 1 else N_("{n} credit notes (红字)"),
                              n=counts["credit"]),
             "voided": ctx.t(N_("{n} voided (已作废)"), n=counts["void"]),
             "skipped": ctx.t(N_("{n} skipped"), n=counts["skip"])}
    summary = ctx.t(N_("would import {invoices}, {credits}, {voided}, {skipped} ({source}, {encoding})")
                    if outcome.dry_run else N_("imported {invoices}, {credits}, {voided}, {skipped} ({source}, "
                                               "{encoding})"), **parts, source=outcome.source,
                    encoding=outcome.encoding)
    _report(ctx, outcome, rows, ["line", "action", "fapiao", "detail"], summary,
            {"invoices": counts["add"], "credit_notes": counts["credit"], "voided": counts["void"],
             "skipped": counts["skip"]})


def _report(ctx, outcome, rows: list[dict], columns: list[str], summary: str, counts: dict) -> None:
    """What every import says: JSON for scripts; for people the rows of a dry run, warnings and the summary;
    the problems as an error (exit 1)."""
    from store.files import importer

    if ctx.format == "json":
        print(output.to_json({"ok": not outcome.problems, "dry_run": outcome.dry_run, "file": outcome.source,
                              "encoding": outcome.encoding, **counts, "rows": rows,
                              "problems": outcome.problems, "warnings": outcome.warnings}))
    elif outcome.dry_run:
        for problem in outcome.problems:
            print(ctx.said(problem))
        if not outcome.problems:
            ctx.emit(rows, columns)
    for warning in outcome.warnings:
        ctx.warn(warning)
    if outcome.problems:
        raise importer.ImportProblems(outcome.problems)
    if ctx.format != "json":
        print(summary + (ctx.t("; nothing was written") if outcome.dry_run else ""))


def import_bank(args, ctx):
    from store.files import bank
    from store.rules.money import to_decimal_str

    found = bank.import_file(ctx.ledger(), args.file, profile=args.profile, account=args.account,
                             currency=args.currency, dry_run=args.dry_run)
    if found.found and ctx.format != "json":  # what the file was recognised as (and for a bill, what was left out)
        if found.profile in bank.WALLETS:
            income = sum(1 for b in (*found.added, *found.skipped) if b.amount > 0)
            refunds = len(found.added) + len(found.skipped) - income
            left = ", ".join(f"{n} {ctx.said(why)}" for why, n in sorted(found.ignored.items()))
            print(ctx.t("{found}: {rows} rows, {income} income received", found=ctx.t(found.found), rows=found.rows,
                        income=income)
                  + (ctx.t(N_(", {refunds} refund paid out (money out)") if refunds == 1 else
                           N_(", {refunds} refunds paid out (money out)"), refunds=refunds) if refunds else "")
                  + (ctx.t("; left out: {left}", left=left) if left else ""))
        else:
            print(ctx.t(N_("{found}: {rows} line") if found.rows == 1 else N_("{found}: {rows} lines"),
                        found=ctx.t(found.found), rows=f"{found.rows:,}"))
    summary = (ctx.t("would import") if found.dry_run else ctx.t("imported")) + " " + ctx.t(
        "{added} new bank lines ({credits} in, {debits} out), {skipped} already there ({source}, {encoding}, "
        "profile {profile})", added=f"{len(found.added):,}", credits=f"{found.credits:,}",
        debits=f"{found.debits:,}", skipped=f"{len(found.skipped):,}", source=found.source, encoding=found.encoding,
        profile=found.profile)
    if ctx.format == "json":
        print(output.to_json({"ok": True, "dry_run": found.dry_run, "file": found.source, "encoding": found.encoding,
                              "profile": found.profile, "added": len(found.added), "skipped": len(found.skipped),
                              "found": found.found or None, "rows": found.rows, "left_out": found.ignored,
                              "lines": [{"id": b.id, "line": b.line, "date": b.date,
                                         "amount": to_decimal_str(b.amount, b.currency), "currency": b.currency,
                                         "payer": b.payer, "memo": b.memo, "reference": b.reference,
                                         "new": b in found.added} for b in (*found.added, *found.skipped)]}))
        return
    if found.dry_run:
        ctx.emit([{"id": b.id[:8], "line": b.line, "date": b.date, "amount": ctx.amount(b.amount, b.currency),
                   "payer": b.payer, "memo": b.memo, "new": ctx.t("yes") if b in found.added else ctx.t("already there")}
                  for b in sorted((*found.added, *found.skipped), key=lambda b: b.line)],
                 ["id", "line", "date", "amount", "payer", "memo", "new"], right={"amount"})
    print(summary + (ctx.t("; nothing was written") if found.dry_run else ctx.t("; `duly reconcile list` shows the matches")))


def export(args, ctx):
    from store.files import exporter

    from tui.cli.progress import shown

    kwargs = {"as_of": args.as_of} if getattr(args, "as_of", None) else {}
    unit = ctx.t("transactions") if args.writer in ("export_hledger", "export_beancount") else ctx.t("rows")
    with shown(ctx, ctx.t("exporting {format}", format=args.writer.removeprefix("export_")), unit) as progress:
        written = getattr(exporter, args.writer)(ctx.ledger(), args.path, progress=progress, **kwargs)
    ctx.done(ctx.t("wrote {written} — PLAINTEXT: this copy is not encrypted; keep it safe or delete it after use",
                   written=ctx.said(written)))
