"""Ledger-wide commands: init, passwd, backup, restore, audit, settings, tui."""
from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

from store.ledger import backup as backups
from store.ledger import changes, db
from store.read import audit as auditlib
from store.read import settings as settings_in_force
from store.write import settings
from store.errors import DamagedLedger, DulyError, os_reason
from store.ledger.ledger import Ledger
from store.rules.validate import iso_date, passphrase_weakness
from tui.cli.context import UsageError, read_secret
from store.i18n import N_


def _weak_ok(parser) -> None:
    parser.add_argument("--weak-ok", action="store_true",
                        help="accept a passphrase shorter than 10 characters or easy to guess (not advised)")


def strong_enough(passphrase: str, args, ctx) -> None:
    """Refuse a weak passphrase unless the user said --weak-ok: the passphrase is all that protects the file."""
    reason = None if args.weak_ok else passphrase_weakness(passphrase, (ctx.ledger_path.stem,))
    if reason:
        raise DulyError(N_("that passphrase is weak: {reason}; choose a longer one (a few unrelated words work "
                           "well), or pass --weak-ok to keep it"), reason=reason)


def register(sub, common) -> None:
    p = sub.add_parser("init", parents=[common], help="create an encrypted ledger")
    p.add_argument("--series", help="this device's invoice number prefix, e.g. A7")
    p.add_argument("--currency", default="CNY", help="the ledger's home currency (default CNY)")
    _weak_ok(p)
    p.set_defaults(handler=init)

    p = sub.add_parser("tui", parents=[common], help="open the terminal app (same as plain `duly`)")
    p.set_defaults(handler=open_tui)

    p = sub.add_parser("passwd", parents=[common], help="change the passphrase (re-keys the ledger)")
    _weak_ok(p)
    p.add_argument("--new-passphrase-file", metavar="FILE",
                   help="read the new passphrase from FILE (else $DULY_NEW_PASSPHRASE, else a prompt)")
    p.set_defaults(handler=passwd)

    p = sub.add_parser("backup", parents=[common], help="write an encrypted copy of the ledger")
    p.add_argument("file", help="where to write the backup")
    p.set_defaults(handler=backup)

    p = sub.add_parser("restore", parents=[common], help="replace the ledger with a checked backup")
    p.add_argument("file", help="the backup to restore")
    p.add_argument("--yes", action="store_true", help="replace without asking (needed when not at a terminal)")
    p.add_argument("--other-ledger", action="store_true",
                   help="replace the ledger even though the backup is of another one (or it cannot be opened)")
    p.set_defaults(handler=restore)

    p = sub.add_parser("check", parents=[common],
                       help="check the ledger file: its pages, the change log's hash chains, the ledger's invariants")
    p.set_defaults(handler=check)

    p = sub.add_parser("audit", parents=[common], help="the change log as an audit trail; `verify` checks it")
    p.add_argument("action", nargs="?", choices=["list", "verify"], default="list",
                   help="list (default) or verify the hash chains")
    p.add_argument("--from", dest="date_from", metavar="D", help="changes made on or after D")
    p.add_argument("--to", dest="date_to", metavar="D", help="changes made on or before D")
    p.add_argument("--by", choices=["made", "document"], default="made",
                   help="--from/--to select by when the change was made (default) or by the date of the document "
                        "it posted (an invoice's date, a payment's date ...)")
    p.set_defaults(handler=audit)

    p = sub.add_parser("settings", parents=[common], help="read or change settings")
    ssub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = ssub.add_parser("get", parents=[common], help="the value in force for one key or for every key")
    q.add_argument("key", nargs="?", help="one key (omit for every key)")
    q.set_defaults(handler=settings_get)
    q = ssub.add_parser("set", parents=[common], help="change one setting")
    q.add_argument("key", help="the setting's key, e.g. smtp.host")
    q.add_argument("value",
        nargs="?", help="its new value (a secret such as smtp.password: from a prompt or --value-file)")
    q.add_argument("--value-file", metavar="FILE", help="read the value from FILE (for a secret)")
    q.set_defaults(handler=settings_set)


def init(args, ctx):
    db.must_be_new(ctx.ledger_path)
    passphrase = ctx.passphrase(confirm=True)
    strong_enough(passphrase, args, ctx)
    series = settings.check("invoice.series", args.series) if args.series else None
    currency = settings.check("currency", args.currency)
    with Ledger.create(ctx.ledger_path, passphrase, series=series) as ledger:
        settings.first_settings(ledger, currency=currency)
        prefix = ledger.meta("series_prefix")
    ctx.done(ctx.t("created encrypted ledger {ledger_path} (invoice series {prefix}, currency {currency})",
                   ledger_path=ctx.ledger_path, prefix=prefix, currency=currency))


def open_tui(args, ctx):
    if not sys.stdout.isatty():
        # Drawing the app into a file or a pipe would hang there, waiting for keys nobody can see to press.
        print("duly: " + ctx.t("the app needs a terminal; for scripts use a command such as `duly report aging` "
                               "(see `duly --help`)"), file=sys.stderr)
        return 2
    from tui.app.app import run_app

    return run_app(ctx)


def passwd(args, ctx):
    ledger = ctx.ledger()
    new = read_secret(file=args.new_passphrase_file, env="DULY_NEW_PASSPHRASE",
                      prompt=ctx.t("New passphrase: "), confirm=True, repeat=ctx.t("Repeat it: "))
    strong_enough(new, args, ctx)
    ledger.rekey(new)
    ctx.done(ctx.t("passphrase changed for {ledger_path}", ledger_path=ctx.ledger_path))


def backup(args, ctx):
    from tui.cli.progress import shown

    with shown(ctx, ctx.t("writing the backup"), ctx.t("pages")) as progress:
        target = backups.backup(ctx.ledger(), args.file, progress)
    ctx.done(ctx.t("encrypted backup written to {target} (same passphrase as the ledger)", target=target))


def restore(args, ctx):
    from tui.cli.progress import shown

    def confirm(summary: dict) -> bool:
        if args.yes:
            return True
        if progress is not None:
            progress.pause()  # the question has the terminal to itself
        if not sys.stdin.isatty():
            raise DulyError(N_("restore replaces {ledger_path}: confirm with --yes (there is no terminal to ask "
                               "on); nothing was replaced"), ledger_path=ctx.ledger_path)
        now = summary.get("replaces")
        what = ctx.t(" ({customers} customers, {changes} change-log entries)", customers=now["customers"],
                     changes=now["changes"]) if now else ""
        answer = input(ctx.t("Replace {ledger}{what} with {file} ({customers} customers, {changes} change-log "
                             "entries)? The current file is kept as {copy}. [y/N] ", ledger=ctx.ledger_path, what=what,
                             file=args.file, customers=summary["customers"], changes=summary["changes"],
                             copy=summary["safety_copy"]))
        return answer.strip().lower() in ("y", "yes", "是")

    passphrase = ctx.passphrase()
    with shown(ctx, ctx.t("restoring the backup"), ctx.t("pages")) as progress:
        summary = backups.restore(args.file, ctx.ledger_path, passphrase, confirm=confirm,
                                  other_ledger=args.other_ledger, progress=progress)
    kept = ctx.t("; the replaced file is kept as {path}", path=summary["safety_copy"]) if summary.get("safety_copy") \
        else ""
    ctx.done(ctx.t("restored {ledger_path} from {file}: {customers} customers, {changes} change-log entries, all "
                   "checks passed{kept}",
                       ledger_path=ctx.ledger_path, file=args.file, customers=summary['customers'],
                       changes=summary['changes'], kept=kept))


def check(args, ctx):
    ledger = ctx.ledger()
    problems = backups.ledger_problems(ledger.conn)
    if problems:
        if ctx.format == "json":
            print(json.dumps({"ok": False, "problems": problems}, ensure_ascii=False))
        else:
            for line in problems[1:]:
                print(line)
        if len(problems) > 1:
            raise DamagedLedger(N_("ledger {path} fails its checks: {problem} (and {more} more, listed above)"),
                                path=ctx.ledger_path, problem=problems[0], more=len(problems) - 1)
        raise DamagedLedger(N_("ledger {path} fails its checks: {problem}"), path=ctx.ledger_path, problem=problems[0])
    ctx.done(ctx.t("ledger {ledger_path} is sound: every page (integrity and page HMACs), the change log's hash "
                   "chains and the ledger's invariants check", ledger_path=ctx.ledger_path))


def audit(args, ctx):
    ledger = ctx.ledger()
    if args.action == "verify":
        problems = changes.verify(ledger.conn)
        if problems:
            for line in problems:
                print(line)
            raise DulyError(N_("the audit trail has {count} problem(s): {value}"), count=len(problems),
                            value=problems[0])
        count = ledger.conn.execute("SELECT count(*) FROM changes").fetchone()[0]
        ctx.done(ctx.t("audit trail intact: {count} entries, every hash chain checks (this checks the change log's "
                       "chains, not the file's pages: `duly check` does both)", count=count))
        return
    where, params = [], []
    if args.by == "document":  # a change that posted a document dated in the range
        bounds = []
        if args.date_from:
            bounds.append("json_extract(j.value, '$.d.date') >= ?")
            params.append(iso_date(args.date_from, "--from"))
        if args.date_to:
            bounds.append("json_extract(j.value, '$.d.date') <= ?")
            params.append(iso_date(args.date_to, "--to"))
        where.append("EXISTS (SELECT 1 FROM json_each(ops_text(changes.ops)) j WHERE json_extract(j.value, '$.op') = 'event' "
                     f"AND json_extract(j.value, '$.d.date') IS NOT NULL {''.join(' AND ' + b for b in bounds)})")
    if args.by == "made" and args.date_from:
        where.append("at >= ?")
        params.append(iso_date(args.date_from, "--from"))
    if args.by == "made" and args.date_to:
        where.append("at < date(?, '+1 day')")
        params.append(iso_date(args.date_to, "--to"))
    sql = "SELECT at, actor, device, device_seq, ops FROM changes"
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = []
    names = json.loads(ledger.meta("sync.devices") or "{}")  # a team's device names, as the last sync saw them
    documents = auditlib.Names(ledger, machine=ctx.format != "table")
    for row in ledger.rows(sql + " ORDER BY hlc, seq", params):
        ops = _masked_ops(json.loads(changes.ops_text(row.pop("ops"))))
        row["device_name"] = names.get(row["device"], "")
        row["local_time"] = auditlib.local_time(row["at"])
        row["what"] = auditlib.describe(ledger, ops, names=documents)
        row["ops"] = ops
        rows.append(row)
    if ctx.format == "table":  # for people: local time; the device's name when the book is synced
        columns = ["local_time", "actor", *(["device_name"] if names else []), "device_seq", "what"]
    else:
        columns = ["at", "local_time", "actor", "device", *(["device_name"] if names else []), "device_seq", "what"]
    ctx.emit(rows, columns, headers={"local_time": "time", "device_name": "device"})


def _value_file(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise DulyError(N_("cannot read {source}: {reason}"), source=path, reason=os_reason(exc)) from None


def _secret_value(key: str, path: str | None, ctx) -> str:
    """A secret setting from a file or typed at the terminal (not echoed), never from the command line."""
    if path:
        value = _value_file(path)
    elif not sys.stdin.isatty():
        raise DulyError(N_("{key}: no terminal to type it at: pass --value-file FILE"), key=key)
    else:
        value = getpass.getpass(ctx.t("{key} (not shown): ", key=key))
    if not value:
        raise DulyError(N_("{key} must not be empty"), key=key)
    return value


def _masked_ops(ops: list[dict]) -> list[dict]:
    """A secret an older Duly synced as a setting (the SMTP password) stays in its hash-chained log entry, and
    is never printed: its value is shown masked."""
    return [{**op, "v": settings.masked(op["id"], op.get("v"))}
            if op.get("op") == "set" and op.get("t") == "settings" and op.get("id") in settings.SECRETS else op
            for op in ops]


def settings_get(args, ctx):
    ledger = ctx.ledger()
    if args.key:
        value = settings.masked(args.key, settings_in_force.value_in_force(ledger, args.key))
        if ctx.format == "json":
            print(json.dumps({args.key: value}, ensure_ascii=False))
        else:
            print("" if value is None else value)
        return
    rows = settings_in_force.in_force(ledger)  # the value in force of every key, marked set / default / not set
    for row in rows:
        row["value"] = settings.masked(row["key"], row["value"])
    everything = {row["key"]: row["value"] for row in rows}
    everything["defaults"] = [row["key"] for row in rows if row["source"] == "default"]
    ctx.emit(rows, ["key", "source", "value"], json_value=everything)


def settings_set(args, ctx):
    if args.key in settings.SECRETS:
        if args.value is not None:
            raise DulyError(N_("{key} is not taken on the command line (it would stay in the shell history and the "
                               "process list): type it at the prompt, or pass --value-file FILE"),
                            key=args.key)
        value = _secret_value(args.key, args.value_file, ctx)
    elif args.value_file:
        value = _value_file(args.value_file)
    elif args.value is None:
        raise UsageError(N_("settings set {key}: give a value"), key=args.key)
    else:
        value = args.value
    value = settings.put(ctx.ledger(), args.key, value)
    ctx.done(f"{args.key} = {settings.masked(args.key, value)}"
             + (ctx.t(" (kept on this device only: never synced, never in the audit trail)")
                if args.key in settings.SECRETS else ""))
