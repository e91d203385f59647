"""Lines the app writes into the ledger by itself (why a bank line was accepted, the note a sent reminder leaves, a
bank fee's write-off reason): stored in English, as every device, export and script has always read them, and
worded in the reader's language where they are shown, by matching the stored line against the message ids it is
made from (a line written before this was kept reads the same way). What a person typed, and any line no id
matches, is shown as it is.

Writers make these lines with store.errors.Said and one of the ids below; readers wrap a stored line in Stored, which
the command line's tables and the app's t() word like any Said."""
from __future__ import annotations

import re
from functools import cache

from store.errors import Said
from store.i18n import N_, translate

# why a candidate matched a bank line (store/rules/matching.py; tests/store/rules/test_stored_words.py keeps the two
# lists the same), and the lines the writers of reconcile and collections make
STORED = (
    N_("best score {score} is below {min_score}"), N_("paid on the due date {date}"),
    N_("amount equals {n} open invoices together: {numbers}"), N_("no candidate"),
    N_("ambiguous: {code} scores {score}, {code2} {score2}"), N_("payer account {account} is a known account of {code}"),
    N_("amount is {fee} short of {numbers} ({owed}): written off as a bank fee (within the tolerance)"),
    N_("amount equals the open amount of {numbers}"), N_("payer {payer} is a known payer of {code}"),
    N_("payer {payer} is the customer's name"), N_("payer {payer} is close to {name} ({percent} %)"),
    N_("paid {n} day after the due date {date}"), N_("paid {n} days after the due date {date}"),
    N_("paid {n} day before the due date {date}"), N_("paid {n} days before the due date {date}"),
    N_("invoice number {numbers} in the memo"), N_("{reason} (the oldest due of {n} of that amount)"),
    N_("a payment of this amount is already recorded on {date}: accepting links the line to it, nothing new is "
       "posted"),
    N_("amount differs from their open {open}: the rest stays unapplied"),
    N_("amount differs from their open {open}: applied in part"),
    N_("nothing open: applied oldest due first, the rest unapplied"),
    N_("no open invoice or combination matches {amount}: applied oldest due first, the rest unapplied"),
    N_("on the same day"), N_("same reference {reference}"), N_("{n} day apart"), N_("{n} days apart"),
    # store/write/reconcile.py
    N_("matched by hand"), N_("bank fee (bank line {line})"),
    # store/write/collections.py: the note a reminder leaves, a level's charge
    N_("reminder ({levels}) e-mailed to {email}: {numbers}"),
    N_("reminder ({levels}) to {email}: outcome unknown ({error}): {numbers}"),
    N_("reminder ({levels}) by {channel}: task for {numbers}"), N_("reminder ({levels}) letter written: {numbers}"),
    N_("{level}: fee {fee} + interest {interest} on {number}"),
)
# what a sync flagged for review (sync/merge.py, store/write/drafts.py): matched whole, as some hold a "; "
STORED_WHOLE = (
    N_("setting {key} was set to {value} by {device}, which is not an admin device (applied like any change; set it "
       "back with `duly settings set` if it was not meant)"),
    N_("payment of {amount} from customer {customer} (reference {reference}) was recorded twice: on {date} by "
       "{device} and on {other_date} by {other_device}; both are kept: void one if it is the same payment"),
    N_("invoice {number} has {applied} applied to a total of {total} ({excess} too much) after merging changes from "
       "two devices"),
    N_("payment of {amount} dated {date} has {applied} applied to invoices ({excess} too much) after merging changes "
       "from two devices"),
    N_("credit note of {amount} dated {date} has {applied} applied to invoices ({excess} too much) after merging "
       "changes from two devices"),
    N_("draft {draft} was issued on two devices, as invoices {numbers}: both are posted; void the one that should not "
       "exist"),
    N_("draft {draft} was deleted on a device that had not seen it issued as invoice {numbers}; the invoice is posted "
       "without that change: issue a credit note, or void it and issue the draft's content again"),
    N_("draft {draft} was edited ({fields}) on a device that had not seen it issued as invoice {numbers}; the invoice "
       "is posted without that change: issue a credit note, or void it and issue the draft's content again"),
    N_("recurring schedule {schedule} occurrence {occurrence} ({date}) was issued here and by {device} with different "
       "content ({tables}); this device keeps its own copy: void the invoice and issue the right one by hand if it is "
       "wrong"),
)
# lines that start with an id and go on with what came from a file (a payment's note: the bank line, its payer
# and memo as the statement gave them)
STORED_PREFIXES = (N_("bank line {line}"),)
_FIELD = re.compile(r"\{(\w+)\}")


@cache
def _pattern(msgid: str, prefix: bool = False) -> re.Pattern:
    parts, seen, at = [], set(), 0
    for found in _FIELD.finditer(msgid):
        parts.append(re.escape(msgid[at:found.start()]))
        name = found.group(1)
        parts.append(f"(?P={name})" if name in seen else (rf"(?P<{name}>\S+)" if prefix else f"(?P<{name}>.+?)"))
        seen.add(name)
        at = found.end()
    parts.append(re.escape(msgid[at:]))
    return re.compile("".join(parts) + ("(?P<_rest>(?: .*)?)" if prefix else ""), re.DOTALL)


def reword(text: str | None, language: str) -> str:
    """A stored line in a language: each part ('; ' between parts) the app made from an id, worded; the rest as it
    is."""
    if not text or language == "en":
        return text or ""
    for msgid in STORED_WHOLE:
        found = _pattern(msgid).fullmatch(text)
        if found:
            return translate(language, msgid, **found.groupdict())
    parts = text.split("; ")  # (no id of STORED holds a "; ")
    worded = [_one(part, language) for part in parts]
    if not any(worded):
        return text  # none of it the app's: as it was typed
    between = translate(language, N_("{first}; {rest}"), first="", rest="")  # "; " in the reader's language
    return between.join(w or part for w, part in zip(worded, parts))


def _one(text: str, language: str) -> str | None:
    for msgid in STORED:
        found = _pattern(msgid).fullmatch(text)
        if found:
            return translate(language, msgid, **{k: reword(v, language) for k, v in found.groupdict().items()})
    for msgid in STORED_PREFIXES:
        found = _pattern(msgid, prefix=True).fullmatch(text)
        if found:
            values = found.groupdict()
            rest = values.pop("_rest")
            return translate(language, msgid, **values) + rest
    return None


class Stored(Said):
    """A line as the ledger holds it: str is the stored text (English for the app's own lines, as JSON and CSV
    give it); text(language) the line worded for a reader (see the module's docstring)."""

    def __new__(cls, text: str | None) -> Stored:
        return str.__new__(cls, text or "")

    def text(self, language: str = "en") -> str:
        return reword(str(self), language)
