"""`duly unlock` and `duly lock`: the key agent (tui.cli.key_agent) for this session's commands."""
from __future__ import annotations

from store.errors import DulyError
from store.ledger.ledger import Ledger
from tui.cli import key_agent as agent
from store.i18n import N_


def register(sub, common) -> None:
    p = sub.add_parser("unlock", parents=[common],
                       help="hold the ledger's key in a private agent so commands skip the key derivation")
    p.add_argument("--idle", type=float, default=agent.DEFAULT_IDLE_MINUTES, metavar="MINUTES",
                   help="forget the key after this many minutes without use (default %(default)g)")
    p.set_defaults(handler=unlock)
    p = sub.add_parser("lock", parents=[common], help="end the agent: every key it held is forgotten")
    p.set_defaults(handler=lock)


def unlock(args, ctx):
    if args.idle <= 0:
        raise DulyError(N_("--idle must be more than 0 minutes"))
    if not ctx.ledger_path.exists():
        Ledger.open(ctx.ledger_path, "")  # raises LedgerNotFound with its advice
    key = agent.derive_key(ctx.ledger_path, ctx.passphrase())
    Ledger.open(ctx.ledger_path, key).close()  # a wrong passphrase stops here (WrongPassphrase)
    try:
        agent.start(args.idle)
        agent.put(ctx.ledger_path, key)
    except OSError as exc:
        raise DulyError(N_("cannot start the key agent at {agent}: {exc}"), agent=agent.socket_path(),
                        exc=exc) from None
    ctx.done(ctx.t("unlocked {ledger_path}: commands use the key held in memory by the agent until {idle} minutes "
                   "pass without use or `duly lock`", ledger_path=ctx.ledger_path, idle=format(args.idle, 'g')))


def lock(args, ctx):
    if agent.stop():
        ctx.done(ctx.t("locked: the agent has forgotten every key and ended"))
    else:
        ctx.done(ctx.t("no agent was running"))
