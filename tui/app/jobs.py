"""What the app's screens hand to a Duly process of their own (tui.app.apart): thin layers over what the command
line runs, kept out of the screens' modules so that the child, which imports the function it is given by name,
does not load Textual and the screens (0.9 s of a child's start). Each function imports what it runs when it runs:
an import's child need not load the sync client (httpx: half a second), nor a join's the importer."""
from __future__ import annotations

SHOWN = 12  # rows of an import's preview shown; the counts cover them all


def import_file(ledger, path: str, kind: str, dry_run: bool, progress=None) -> dict:
    """`duly import KIND FILE [--dry-run]`: importer.run, or fapiao.run for the tax platform's export. A dry run
    returns its problems; a write with problems raises ImportProblems and writes nothing."""
    from store.files import fapiao, importer

    if kind == "fapiao":
        outcome = fapiao.run(ledger, path, dry_run=dry_run)
    else:
        outcome = importer.run(ledger, path, kind, dry_run=dry_run, progress=progress)
    docs = outcome.docs
    return {"kind": kind, "source": outcome.source, "encoding": outcome.encoding, "dry_run": outcome.dry_run,
            "counts": {action: outcome.count(action) for action in ("add", "update", "credit", "void", "skip")},
            "rows": [{"line": d.line, "action": d.action, "key": d.key, "detail": d.detail} for d in docs[:SHOWN]],
            "more": max(0, len(docs) - SHOWN), "problems": outcome.problems, "warnings": outcome.warnings,
            "unknown_buyers": outcome.unknown_buyers}


def join_at(path, passphrase: str, server: str, code: str, *, name: str | None, insecure: bool,
            transport=None, progress=None) -> dict:
    """`client.join` for the app: the new ledger is closed again, the app opens it on its database thread.
    Returns the join's summary."""
    from sync import client

    ledger, summary = client.join(path, passphrase, server, code, name=name, insecure=insecure, transport=transport,
                                  progress=progress)
    ledger.close()
    return summary
