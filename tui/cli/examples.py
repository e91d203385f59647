"""What every command's help ends with (examples), and "did you mean" for a mistyped word: used by the parser
itself (tui.cli.main), so kept apart from the `help` and `completion` commands (tui.cli.help)."""
from __future__ import annotations

import argparse
import difflib

# The examples shown at the end of each top-level command's help (and, filtered, of its subcommands').
EXAMPLES = {
    "audit": """\
  duly audit --from yesterday
  duly audit --from 2026-01-01 --to 2026-01-31 --format csv
  duly audit verify""",
    "backup": """\
  duly backup ~/backups/ledger-2026-03-31.duly""",
    "completion": """\
  duly completion bash > ~/.local/share/bash-completion/completions/duly
  duly completion zsh > ~/.zfunc/_duly        # with fpath+=(~/.zfunc) before compinit
  duly completion fish > ~/.config/fish/completions/duly.fish""",
    "contract": """\
  duly contract add C001 --number HT-2026-01 --signed 2026-01-05 --terms NET30
  duly contract end C001 HT-2026-01 --on 2026-09-30 --reason "customer closed the site"
  duly contract cancel C001 HT-2026-02 --reason "signed in error"
  duly contract list C001 --as-of 2026-10-01""",
    "credit": """\
  duly credit add --customer C001 --date today --amount 200 --invoice A7-000012 --reason "damaged goods"
  duly credit list --customer C001""",
    "debit": """\
  duly debit add --customer C001 --date today --amount 50 --reason "returned-cheque fee"
  duly debit add --reverses CN-A7-000003 --date today --reason "credit note issued in error"
  duly debit list --customer C001""",
    "customer": """\
  duly customer add C001 --name "厦门某公司" --tax-id 91350100M000100Y43 --terms NET30
  duly customer list --search 厦门
  duly customer show C001 --format json
  duly customer edit C001 --credit-limit 50000 --cycle 月结
  duly customer contact C001 --name "Li Lei" --phone 13800000000""",
    "demo": """\
  duly demo --ledger demo.duly
  duly demo --customers 2000 --invoices 200000 --seed 7""",
    "dispute": """\
  duly dispute open A7-000012 --amount 300 --reason "short delivery" --review 2026-04-30
  duly dispute list --status open
  duly dispute resolve 01HX... --note "credit note issued\"""",
    "rate": """\
  duly rate set USD 7.1234 --date 2026-06-30
  duly rate import 中间价.csv --per 100       # the PBOC quotes per 100 units
  duly rate list --currency USD""",
    "draft": """\
  duly draft add --customer C001 --line "Consulting:10:800:6"
  duly draft list
  duly draft issue 1""",
    "recurring": """\
  duly recurring add C001 --frequency monthly --day last --start 2026-01-31 --amount 8000 --description "月租"
  duly recurring add C002 --frequency weekly --every 2 --start 2026-03-02 --count 10 --line "Cleaning:1:600:6%"
  duly recurring list --customer C001
  duly recurring run --as-of today
  duly recurring pause R-A7-0001
  duly recurring resume R-A7-0001 --from 2026-06-01""",
    "export": """\
  duly export csv ~/exports
  duly export xlsx book.xlsx
  duly export beancount book.beancount""",
    "help": """\
  duly help customer
  duly help invoice add""",
    "import": """\
  duly import customers customers.csv --dry-run
  duly import invoices invoices.xlsx
  duly import fapiao 发票查询统计.xlsx --dry-run
  duly import bank statement.csv --profile icbc""",
    "init": """\
  duly init
  duly init --series B2 --currency USD""",
    "invoice": """\
  duly invoice add --customer C001 --date today --amount 12000 --terms NET30
  duly invoice add --customer C001 --date 2026-03-01 --line "Widgets:100:12.5:13"
  duly invoice list --open --customer C001
  duly invoice show A7-000012
  duly invoice void A7-000012 --reason "issued twice\"""",
    "lock": """\
  duly lock""",
    "unlock": """\
  duly unlock
  duly unlock --idle 60 --ledger ~/books/acme.duly""",
    "note": """\
  duly note add C001 --channel phone --text "promised to pay Friday" --next tomorrow
  duly note list --due today""",
    "passwd": """\
  duly passwd
  DULY_NEW_PASSPHRASE=... duly passwd""",
    "payment": """\
  duly payment add --customer C001 --date today --amount 5000 --method bank_transfer --reference "TX 991"
  duly payment add --customer C001 --date yesterday --amount 800 --allocate A7-000012=800
  duly payment list --customer C001
  duly payment allocate --customer C001""",
    "promise": """\
  duly promise add A7-000012 --pay-by 2026-04-15 --amount 3000
  duly promise list --customer C001""",
    "reconcile": """\
  duly import bank statement.csv
  duly reconcile list
  duly reconcile accept 12
  duly reconcile auto --min-score 90""",
    "remind": """\
  duly remind plan --as-of today
  duly remind send --as-of today --dry-run
  duly remind log C001""",
    "report": """\
  duly report aging --as-of today
  duly report aging --as-of 2026-03-31 --basis invoice --format json
  duly report summary --as-of today
  duly report forecast --as-of today --weeks 13
  duly report aging --in CNY        # every currency at its rate as of the date (duly rate)""",
    "restore": """\
  duly restore ~/backups/ledger-2026-03-31.duly
  duly restore ~/backups/ledger-2026-03-31.duly --yes   # in a script: no question asked""",
    "check": """\
  duly check
  duly check --format json""",
    "serve": """\
  duly serve --host 0.0.0.0 --port 8765 --data /srv/duly""",
    "settings": """\
  duly settings get
  duly settings get smtp.host
  duly settings set smtp.host smtp.example.com""",
    "statement": """\
  duly statement C001 --as-of today
  duly statement C001 --from 2026-01-01 --to 2026-03-31 --format pdf > statement.pdf
  duly statement --all --as-of 2026-03-31 --send --out ~/statements --mark-sent""",
    "template": """\
  duly template list
  duly template show statement.zh
  duly template edit statement.zh            # in $VISUAL / $EDITOR; or --file my-statement.html
  duly template reset statement.zh""",
    "letter": """\
  duly letter confirmation C001 --as-of 2026-03-31 --format pdf --out ~/letters --mark-sent
  duly letter dunning C001 --as-of today --format pdf > 催款函.pdf
  duly letter request C001 --as-of today --invoice A7-000001""",
    "sync": """\
  duly sync init --server https://sync.example.com
  duly sync invite --role member
  duly sync join --server https://sync.example.com --invite CODE
  duly sync now""",
    "terms": """\
  duly terms add NET30EOM --line "100%:days_after_end_of_month:30"
  duly terms preview NET30EOM --date today
  duly terms list""",
    "tui": """\
  duly
  duly tui --ledger demo.duly""",
    "writeoff": """\
  duly writeoff A7-000012 --date today --reason "customer insolvent\"""",
}


def add_examples(sub: argparse._SubParsersAction) -> None:
    """End each top-level command's help (and its subcommands') with its examples."""
    for name, parser in sub.choices.items():
        text = EXAMPLES.get(name)
        if not text:
            continue
        _set_epilog(parser, text)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for child, subparser in action.choices.items():
                    lines = [line for line in text.splitlines() if line.startswith(f"  duly {name} {child}")]
                    if lines:
                        _set_epilog(subparser, "\n".join(lines))


def _set_epilog(parser: argparse.ArgumentParser, text: str) -> None:
    parser.epilog = "examples:\n" + text
    parser.formatter_class = argparse.RawDescriptionHelpFormatter


def did_you_mean(word: str, choices) -> str:
    """'invoice' (or 'invoice, invoices') when choices are close to the word, else '' (the caller words it)."""
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=3, cutoff=0.6)
    return " / ".join(close)


# Options whose value is a path: the completion scripts offer file (or folder) names for them.
