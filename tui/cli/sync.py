"""`duly sync ...` (a device in a team) and `duly serve` (the team's relay and backup)."""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from store.errors import DulyError, os_reason
from store.ledger import db
from store.i18n import N_
from store.rules.stored_words import Stored


def register(sub, common) -> None:
    p = sub.add_parser("sync", parents=[common], help="end-to-end encrypted sync with a team through a server")
    ssub = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    q = ssub.add_parser("init", parents=[common], help="create a team on a server; this device is its admin")
    q.add_argument("--server", required=True, metavar="URL", help="the sync server's address")
    q.add_argument("--name", help="this device's name in the team (default: the host name)")
    q.add_argument("--team-token", metavar="TOKEN",
                   help="the server's team token, if it has one (or DULY_TEAM_TOKEN)")
    q.add_argument("--insecure", action="store_true", help=_INSECURE)
    q.set_defaults(handler=init)

    q = ssub.add_parser("invite", parents=[common], help="a one-time code for a new device (admin)")
    q.add_argument("--role", choices=["admin", "member", "viewer"], default="member",
                   help="what the new member may do (default member)")
    q.add_argument("--hours", type=int, default=72, help="hours until the code expires (default 72)")
    q.set_defaults(handler=invite)

    q = ssub.add_parser("recovery", parents=[common],
                        help="a new recovery secret to print and keep offline (admin); see `sync revoke` to retire one")
    q.set_defaults(handler=recovery)

    q = ssub.add_parser("join", parents=[common], help="new device: create a ledger from the team's server")
    q.add_argument("--server", required=True, metavar="URL", help="the sync server's address")
    q.add_argument("--invite", required=True, metavar="CODE", help="an invite code, or a recovery secret")
    q.add_argument("--name", help="this device's name in the team (default: the host name)")
    q.add_argument("--insecure", action="store_true", help=_INSECURE)
    q.set_defaults(handler=join)

    q = ssub.add_parser("now", parents=[common], help="pull the team's changes and push this device's")
    q.add_argument("--snapshot", action="store_true", help="also upload an encrypted snapshot for new devices")
    q.set_defaults(handler=now)

    q = ssub.add_parser("status", parents=[common], help="last sync, pending changes, server head, clock offset")
    q.add_argument("--offline", action="store_true", help="do not ask the server; show what was last seen")
    q.set_defaults(handler=status)

    q = ssub.add_parser("review", parents=[common], help="what a sync flagged for review")
    q.add_argument("--all", action="store_true", help="include items already resolved")
    q.add_argument("--resolve", type=int, metavar="ID", help="mark an item as looked at")
    q.set_defaults(handler=review)

    q = ssub.add_parser("devices", parents=[common], help="the team's devices and their roles")
    q.set_defaults(handler=devices)

    q = ssub.add_parser("revoke", parents=[common], help="remove a device and start a new key epoch (admin)")
    q.add_argument("device", help="device id or name")
    q.set_defaults(handler=revoke)

    p = sub.add_parser("serve", parents=[common], help="run a sync server (stores only encrypted bytes)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    p.add_argument("--data", metavar="DIR", help="store in SQLite under DIR")
    p.add_argument("--database", metavar="URL", help="store in PostgreSQL, e.g. postgresql://user@host/duly")
    p.add_argument("--keep-snapshots", type=int, default=3, metavar="N", help="snapshots kept per team (default 3)")
    p.add_argument("--max-body", type=int, default=8 * 1024 * 1024, metavar="BYTES",
                   help="largest request accepted (default 8 MiB)")
    p.add_argument("--team-token-file", metavar="FILE",
                   help="create teams only for clients that give the token in FILE (or DULY_SERVER_TEAM_TOKEN)")
    p.add_argument("--teams-per-minute", type=int, default=10, metavar="N",
                   help="teams one client address may create per minute (default 10)")
    p.set_defaults(handler=serve)


_INSECURE = N_("allow a plain http:// server that is not on this machine (not recommended: use https://)")


def _session(ctx, progress=None):
    from sync.client import Sync

    return Sync(ctx.ledger(), progress=progress)


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat(timespec="minutes").replace("+00:00", "Z")


def _report_text(report, ctx) -> str:
    parts = [ctx.t("pulled {pulled} change(s) ({applied} new)", pulled=report.pulled, applied=report.applied),
             ctx.t("pushed {pushed}", pushed=report.pushed), ctx.t("server head {head}", head=report.head)]
    if report.flagged:
        parts.append(ctx.t("{flagged} new item(s) need review: `duly sync review`", flagged=report.flagged))
    if report.resent:
        parts.append(ctx.t("the server had lost {resent} change(s) of this device (restored from an older backup): "
                           "sent again", resent=report.resent))
    if report.snapshot:
        parts.append(ctx.t("snapshot {snapshot} uploaded", snapshot=report.snapshot))
    return "; ".join(parts)


def init(args, ctx):
    from sync import client

    from tui.cli.progress import shown

    token = client.team_token(args.team_token or os.environ.get("DULY_TEAM_TOKEN"), "the team token")
    with shown(ctx, ctx.t("sending the book"), ctx.t("steps")) as progress:
        started = client.start_team(ctx.ledger(), args.server, name=args.name, insecure=args.insecure,
                                    team_token=token, progress=progress)
    created = ctx.t("team {team} created on {server}; this device ({device}) is its admin; {report}",
                    team=started.team, server=args.server, device=started.device,
                    report=_report_text(started.report, ctx))
    if started.secret_error is not None:
        raise DulyError(N_("{created}; but the recovery secret could not be made ({exc}): make one with `duly sync "
                           "recovery`"), created=created, exc=started.secret_error)
    if ctx.format == "json":
        from tui.cli import output

        print(output.to_json({"ok": True, "team": started.team, "device": started.device,
                              "recovery": started.secret, **started.report.__dict__}))
        return
    print(created)
    _print_recovery(started.secret, args.server, ctx)


def _print_recovery(secret: str, server: str, ctx) -> None:
    print("\n" + ctx.t("RECOVERY SECRET: print it or write it down, and keep it offline. With it, anyone can bring "
                       "this book back on a new machine if every device is lost; it is shown only now:"))
    print(f"  {secret}")
    print(ctx.t("to use it: duly sync join --server {server} --invite <the secret>", server=server))


def recovery(args, ctx):
    from sync import client

    ledger = ctx.ledger()
    secret = client.new_recovery(ledger)
    if ctx.format == "json":
        from tui.cli import output

        print(output.to_json({"recovery": secret}))
        return
    print(ctx.t("a new recovery secret was made; older ones still work until you retire them with "
                "`duly sync revoke <their device>` (see `duly sync devices`)"))
    _print_recovery(secret, ledger.meta("sync.server"), ctx)


def invite(args, ctx):
    from sync import client

    made = client.new_invite(ctx.ledger(), args.role, args.hours)
    if ctx.format == "json":
        from tui.cli import output

        print(output.to_json({"invite": made.code, "role": made.role, "hours": made.hours, "expires": made.expires}))
    else:
        print(ctx.t("one-time invite for a {role} (expires in {hours} h, at {expires}); on the new device run:",
                    role=made.role, hours=made.hours, expires=made.expires)
              + f"\n  duly sync join --server {made.server} --invite {made.code}")


def join(args, ctx):
    from sync import client

    db.must_be_new(ctx.ledger_path)
    client.check_server_url(args.server, insecure=args.insecure)  # before a passphrase is asked for
    from tui.cli.progress import shown

    passphrase = ctx.passphrase(confirm=True)
    with shown(ctx, ctx.t("fetching the book"), ctx.t("steps")) as progress:
        ledger, summary = client.join(ctx.ledger_path, passphrase, args.server, args.invite, name=args.name,
                                      insecure=args.insecure, progress=progress)
    ledger.close()
    if ctx.format == "json":
        from tui.cli import output

        print(output.to_json({"ok": True, **summary}))
        return
    restored = (ctx.t("restored a snapshot ({chunks} chunk(s) verified) and ", chunks=summary["snapshot_chunks"])
                if summary["snapshot_chunks"] else "")
    print(ctx.t("joined team {team} as a {role} (device {device}); {restored}pulled {pulled} change(s); hash chains "
                "and ledger checks passed; ledger {path}", team=summary["team"], role=summary["role"],
                device=summary["device"], restored=restored, pulled=summary["pulled"], path=ctx.ledger_path))
    if summary["flagged"]:
        print(ctx.t("{count} item(s) need review: `duly sync review`", count=summary["flagged"]))


def now(args, ctx):
    from tui.cli.progress import shown

    with shown(ctx, ctx.t("syncing"), ctx.t("steps")) as progress:
        session = _session(ctx, progress)
        try:
            report = session.now(snapshot=args.snapshot)
        finally:
            session.close()
    if ctx.format == "json":
        from tui.cli import output

        print(output.to_json({"ok": True, **report.__dict__}))
    else:
        print(_report_text(report, ctx))


def status(args, ctx):
    session = _session(ctx)
    try:
        info = session.status(online=not args.offline)
    finally:
        session.close()
    if ctx.format != "json":
        info["reachable"] = {True: "yes", False: "no (offline)", None: "not asked"}[info["reachable"]]
        info["clock_offset_ms"] = f"{info['clock_offset_ms']:+d} ms (server minus this device)"
    ctx.emit_record(info)


def review(args, ctx):
    from sync import merge

    ledger = ctx.ledger()
    if args.resolve is not None:
        merge.resolve(ledger, args.resolve)
        ctx.done(ctx.t("review item {resolve} marked as looked at", resolve=args.resolve))
        return
    rows = merge.open_flags(ledger, include_resolved=args.all)
    if ctx.format == "table":  # the flag's message (stored in English) in the reader's language
        rows = [{**r, "message": Stored(r["message"])} for r in rows]
    ctx.emit(rows, ["id", "kind", "message", "found_at"] + (["resolved_at"] if args.all else []))


def devices(args, ctx):
    from sync import client

    rows = [{"id": d["id"], "name": d["name"], "role": d["role"], "added": _when(d["added"]),
             "revoked": _when(d["revoked"]) if d["revoked"] else "", "this": "*" if d["this"] else ""}
            for d in client.team_devices(ctx.ledger())]
    ctx.emit(rows, ["this", "id", "name", "role", "added", "revoked"])


def revoke(args, ctx):
    from sync import client

    epoch = client.remove_device(ctx.ledger(), args.device)
    ctx.done(ctx.t("device {device} removed from the team; new key epoch {epoch} started for the other devices",
                   device=args.device, epoch=epoch))


def serve(args, ctx):
    try:
        import uvicorn

        from sync.server.app import create_app
        from sync.server.storage import open_storage
    except ImportError as exc:
        raise DulyError(N_("the sync server needs its extra packages ({name} is missing): pip install "
                           "'duly[server]' (pipx: pipx install --force '.[server]')"),
                        name=exc.name) from None

    if bool(args.data) == bool(args.database):
        raise DulyError(N_("give exactly one of --data DIR (SQLite) or --database postgresql://…"))
    if args.teams_per_minute < 1:
        raise DulyError(N_("--teams-per-minute must be 1 or more"))
    token = os.environ.get("DULY_SERVER_TEAM_TOKEN")
    where = "DULY_SERVER_TEAM_TOKEN"
    if args.team_token_file:
        where = f"the team token file {args.team_token_file}"
        try:
            token = Path(args.team_token_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DulyError(N_("cannot read {source}: {reason}"), source=where, reason=os_reason(exc)) from None
    if token is not None:
        from sync.client import team_token

        token = team_token(token, where)
        if not token:
            raise DulyError(N_("{where} is empty: a server with an empty token would let anyone create a team"),
                            where=where)
    storage = open_storage(data_dir=args.data, database_url=args.database)
    where = args.database.split("@")[-1] if args.database else args.data
    print(ctx.t("duly sync server on http://{host}:{port} (storage: {where}); Ctrl-C stops it", host=args.host,
                port=args.port, where=where), flush=True)
    if token is None:
        print(ctx.t("anyone who can reach this server can create a team on it; to allow only your own, start it "
                    "with --team-token-file FILE"), flush=True)
    uvicorn.run(create_app(storage, max_body=args.max_body, keep_snapshots=args.keep_snapshots, team_token=token,
                           teams_per_minute=args.teams_per_minute),
                host=args.host, port=args.port, log_level="warning")
