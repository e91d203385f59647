"""Statements of account sent and confirmed (对账单确认): one row per customer, statement date and currency in
the synced table statement_log, with our balance, how and when it was sent, and the customer's answer.

status: sending (the send was started; if it stays so, the outcome is unknown) -> sent | failed; then
confirmed (their figure equals ours, or they simply agree) or disputed (their figure and the difference
ours - theirs are kept) -> resolved. A disputed difference is shown per customer until it is resolved.
The row id is derived from (customer, statement date, currency), so two devices tracking the same statement
update one row (last writer wins per field) instead of keeping two.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path

from store.files import mailer
from store.files.documents import render
from store.read import reports, statements
from store.rules import money, validate
from store.write import customers
from store.errors import Conflict, InvalidInput
from store.i18n import N_

DONE = ("sent", "confirmed", "disputed", "resolved")


def row_id(customer_id: str, as_of: str, currency: str) -> str:
    return hashlib.sha256(f"statement\n{customer_id}\n{as_of}\n{currency}".encode()).hexdigest()[:32]


def balances(ledger, customer_id: str, as_of: str) -> dict[str, int]:
    """{currency: closing balance} of the customer's statement as of a date (the aging total)."""
    stmt = statements.statement_of_account(ledger, customer_id, as_of=date.fromisoformat(as_of))
    return {s["currency"]: s["closing_balance"] for s in stmt["sections"]}


def _rows(ledger, customer_id: str, as_of: str) -> dict[str, dict]:
    return {r["currency"]: r for r in ledger.rows(
        "SELECT * FROM statement_log WHERE customer_id=? AND as_of=?", (customer_id, as_of))}


def _today(on: str | None, what: str) -> str:
    return validate.iso_date(on, what) if on else date.today().isoformat()


# --- sending -----------------------------------------------------------------------------------------------------


@dataclass
class Sent:
    code: str
    balances: dict[str, int] = field(default_factory=dict)
    channel: str | None = None
    address: str | None = None
    outcome: str = ""


def _when(stmt: dict, lang: str) -> str:
    if stmt["kind"] == "outstanding":
        return f"截至 {stmt['as_of'].isoformat()}" if lang == "zh" else f"as of {stmt['as_of'].isoformat()}"
    start, end = stmt["from"].isoformat(), stmt["to"].isoformat()
    return f"{start} 至 {end}" if lang == "zh" else f"{start} to {end}"


def statement_words(doc, customer: dict, stmt: dict) -> tuple[str, str]:
    """(subject, plain text) of the e-mail that carries a statement, in the statement's language."""
    when = _when(stmt, doc.lang)
    if doc.lang == "zh":
        subject = f"【{doc.company}】对账单（{when}）— {customer['name']}"
        ask = "请核对以下对账单，并回复确认余额；如有差异，请告知贵司账面余额。\n\n"
    else:
        subject = f"[{doc.company}] Statement of account {when} — {customer['name']}"
        ask = "Please check this statement and confirm the balance; if your books differ, tell us your figure.\n\n"
    return subject, ask + render.statement_markdown(stmt, doc.lang)


def _envelope(sender: str, customer: dict, subject: str, text: str, doc, message_id: str,
              attach_pdf: bool) -> EmailMessage:
    """A document by e-mail: the text, the document's HTML as the alternative, its PDF attached when asked."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = formataddr((" ".join(customer["name"].split()), customer["email"]))
    msg["Subject"] = subject
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = message_id
    msg["Content-Language"] = "zh-CN" if doc.lang == "zh" else "en"
    msg.set_content(text, charset="utf-8")
    msg.add_alternative(doc.html, subtype="html", charset="utf-8")
    if attach_pdf:
        msg.add_attachment(doc.pdf(), maintype="application", subtype="pdf", filename=f"{doc.filename}.pdf")
    return msg


def _message(sender: str, doc, customer: dict, stmt: dict, message_id: str, attach_pdf: bool) -> EmailMessage:
    subject, text = statement_words(doc, customer, stmt)
    return _envelope(sender, customer, subject, text, doc, message_id, attach_pdf)


def _targets(ledger, as_of: str, codes: list[str] | None) -> list[dict]:
    if codes is not None:
        return [customers.by_code(ledger, code) for code in codes]
    with_balance = sorted({r["customer"] for r in reports.aging(ledger, date.fromisoformat(as_of)).rows
                           if r["total"] != 0})
    return [customers.by_code(ledger, code) for code in with_balance]


def send(ledger, as_of: str, *, codes: list[str] | None = None, email: bool = True, out_dir: str | None = None,
         resend: bool = False, on: str | None = None, smtp_timeout: float = 60, mark_sent: bool = False,
         file_format: str = "html", attach_pdf: bool = False, lang: str | None = None,
         start: str | None = None) -> list[Sent]:
    """Send the statement as of a date to each customer (codes, or every customer with a balance): by e-mail
    (settings smtp.*) to customers with an address when `email`; others get a print-ready file (HTML or PDF) in
    out_dir. A file written is a preview: it counts as sent only with mark_sent. An e-mail counts as sent once
    the server took it. A statement already sent for that date is skipped unless `resend`. With `start`, the
    document shows the activity from start to the date (opening balance brought forward); it is tracked as of
    the date, whose balance is its closing balance.

    Every document is rendered before anything is sent or written: a template that fails stops the whole run
    with nothing sent (engine.TemplateError)."""
    as_of = validate.iso_date(as_of, "statement date")
    start = validate.iso_date(start, "period start") if start else None
    sent_on = _today(on, "date sent")
    if file_format not in ("html", "pdf"):
        raise InvalidInput(N_("statement files are html or pdf, not {format}"), format=repr(file_format), field="format")
    targets = _targets(ledger, as_of, codes)
    smtp = None
    if email and any(c["email"] for c in targets):
        try:
            settings = mailer.SmtpSettings.from_ledger(ledger)
        except InvalidInput:
            raise InvalidInput(N_("e-mailing statements needs settings smtp.host and smtp.from (`duly settings set "
                                  "smtp.host mail.example.com`), or use --out DIR for print-ready files"),
                               field="smtp.host") from None
        smtp = mailer.Smtp(settings, timeout=smtp_timeout)
    plans = [_plan(ledger, customer, as_of, sent_on, smtp, out_dir, resend, mark_sent, file_format, lang, start)
             for customer in targets]  # every template renders (or fails) before anything goes out
    results = []
    try:
        for plan in plans:
            results.append(_send_one(ledger, plan, as_of, sent_on, smtp, file_format, attach_pdf, mark_sent))
    finally:
        if smtp is not None:
            smtp.close()
    return results


@dataclass
class _Plan:
    customer: dict
    result: Sent
    stmt: dict | None = None
    doc: object | None = None
    pdf: bytes | None = None


def _plan(ledger, customer: dict, as_of: str, sent_on: str, smtp, out_dir, resend: bool, mark_sent: bool,
          file_format: str, lang: str | None, start: str | None = None) -> _Plan:
    """What will happen for one customer, with the document rendered (nothing is written here)."""
    stmt = statements.statement_of_account(ledger, customer["id"], as_of=date.fromisoformat(as_of))
    result = Sent(customer["code"], {s["currency"]: s["closing_balance"] for s in stmt["sections"]})
    if not result.balances:
        result.balances = {customer["currency"] or ledger.setting("currency", "CNY") or "CNY": 0}
    plan = _Plan(customer, result)
    before = _rows(ledger, customer["id"], as_of)
    tracked = smtp is not None and customer["email"] or mark_sent
    if before and not resend and tracked:
        states = {r["status"] for r in before.values()}
        if "sending" in states:
            result.outcome = ("skipped: an earlier send was interrupted and may have arrived; check, then use "
                              "--resend")
            return plan
        if states & set(DONE):
            first = min(r["sent_on"] or "" for r in before.values())
            result.outcome = f"skipped: already sent{f' on {first}' if first else ''} (--resend sends it again)"
            return plan
    if smtp is not None and customer["email"]:
        result.channel, result.address = "email", customer["email"]
    elif out_dir:
        result.channel = "print"
        result.address = str(Path(out_dir) / f"{customer['code']}-{as_of}.{file_format}")
    elif mark_sent:
        result.channel = "print"  # handed over outside Duly (printed from a file made earlier, say)
    else:
        result.outcome = "skipped: no e-mail address (use --out DIR for a print-ready copy)"
        return plan
    if start:
        stmt = statements.statement_of_account(ledger, customer["id"], start=date.fromisoformat(start),
                                               end=date.fromisoformat(as_of))
    plan.stmt = stmt
    plan.doc = render.statement(ledger, customer["id"], lang=lang, stmt=stmt, issued=date.fromisoformat(sent_on))
    return plan


def _send_one(ledger, plan: _Plan, as_of: str, sent_on: str, smtp, file_format: str, attach_pdf: bool,
              mark_sent: bool) -> Sent:
    result, customer = plan.result, plan.customer
    if plan.doc is None:
        return result
    if result.channel == "print":
        return _write_file(ledger, plan, as_of, sent_on, file_format, mark_sent)
    _write_state(ledger, customer, as_of, result, status="sending", sent_on=None)
    try:
        smtp.send(_message(smtp.settings.sender, plan.doc, customer, plan.stmt,
                           make_msgid(f"statement.{customer['code']}.{as_of}"), attach_pdf))
    except mailer.SendUncertain as exc:
        result.outcome = f"failed: {exc} (it may have arrived; left as 'sending')"
        return result
    except mailer.SendFailed as exc:
        _write_state(ledger, customer, as_of, result, status="failed", sent_on=None, note=str(exc)[:300])
        result.outcome = f"failed: {exc}"
        return result
    _write_state(ledger, customer, as_of, result, status="sent", sent_on=sent_on)
    result.outcome = "sent"
    return result


def _write_file(ledger, plan: _Plan, as_of: str, sent_on: str, file_format: str, mark_sent: bool) -> Sent:
    """A print-ready file (a plaintext export, 0600, whole or not at all); tracked as sent only when marked so."""
    from store.files import exporter

    result = plan.result
    if result.address:
        try:
            Path(result.address).parent.mkdir(parents=True, exist_ok=True)
            data = plan.doc.pdf() if file_format == "pdf" else plan.doc.html.encode("utf-8")
            with exporter.plaintext_file(Path(result.address), mode="wb") as fh:
                fh.write(data)
        except OSError as exc:
            result.outcome = f"failed: cannot write {result.address}: {exc.strerror or exc}"
            return result
    if not mark_sent:
        result.outcome = "written (a preview: not marked as sent; --mark-sent records it)"
        return result
    _write_state(ledger, plan.customer, as_of, result, status="sent", sent_on=sent_on)
    result.outcome = "sent"
    return result


def confirmation_words(doc, customer: dict, as_of: str) -> tuple[str, str]:
    """(subject, plain text) of the e-mail that carries a balance confirmation letter."""
    if doc.lang == "zh":
        return (f"【{doc.company}】往来款项询证函（截至 {as_of}）— {customer['name']}",
                f"{customer['name']}：\n\n附件为截至 {as_of} 的往来款项询证函。请核对后在回执上签字盖章寄回；如金额不符，"
                f"请在回执上注明贵司账面金额及原因。\n\n此致\n{doc.company}\n")
    return (f"[{doc.company}] Balance confirmation as of {as_of} — {customer['name']}",
            f"Dear {customer['name']},\n\nAttached is our balance confirmation as of {as_of}. Please check it, sign "
            f"and return the reply slip; if your books show another amount, state it and why on the slip.\n\n"
            f"Kind regards,\n{doc.company}\n")


def email_confirmation(ledger, code: str, as_of: str, *, lang: str | None = None, on: str | None = None,
                       reply_by: str | None = None, smtp_timeout: float = 60) -> Sent:
    """E-mail the balance confirmation letter (往来款项询证函) as of a date to the customer's address, the letter as
    the HTML part and as a PDF; recorded as sent once the server took it (the reply is then taken by `confirm`)."""
    as_of = validate.iso_date(as_of, "statement date")
    sent_on = _today(on, "date sent")
    customer = customers.by_code(ledger, code)
    if not customer["email"]:
        raise InvalidInput(N_("{code} has no e-mail address"), code=customer["code"], field="email")
    doc = render.confirmation(ledger, customer["id"], date.fromisoformat(as_of), lang=lang,
                              issued=date.fromisoformat(sent_on),
                              reply_by=date.fromisoformat(validate.iso_date(reply_by, "reply by")) if reply_by else None)
    smtp = mailer.Smtp(mailer.SmtpSettings.from_ledger(ledger), timeout=smtp_timeout)
    subject, text = confirmation_words(doc, customer, as_of)
    msg = _envelope(smtp.settings.sender, customer, subject, text, doc,
                    make_msgid(f"confirmation.{customer['code']}.{as_of}"), attach_pdf=True)
    result = Sent(customer["code"], balances(ledger, customer["id"], as_of), "email", customer["email"])
    if not result.balances:
        result.balances = {customer["currency"] or ledger.setting("currency", "CNY") or "CNY": 0}
    _write_state(ledger, customer, as_of, result, status="sending", sent_on=None)
    try:
        smtp.send(msg)
    except mailer.SendUncertain as exc:
        result.outcome = f"failed: {exc} (it may have arrived; left as 'sending')"
        return result
    except mailer.SendFailed as exc:
        _write_state(ledger, customer, as_of, result, status="failed", sent_on=None, note=str(exc)[:300])
        result.outcome = f"failed: {exc}"
        return result
    finally:
        smtp.close()
    _write_state(ledger, customer, as_of, result, status="sent", sent_on=sent_on)
    result.outcome = "sent"
    return result


def mark_sent(ledger, code: str, as_of: str, *, channel: str, address: str | None = None,
              on: str | None = None) -> Sent:
    """Record the statement (or the balance confirmation letter) as of a date as sent by hand: posted, handed over;
    the customer's reply is then taken by `confirm`."""
    as_of = validate.iso_date(as_of, "statement date")
    sent_on = _today(on, "date sent")
    customer = customers.by_code(ledger, code)
    result = Sent(customer["code"], balances(ledger, customer["id"], as_of), channel, address, "sent")
    if not result.balances:
        result.balances = {customer["currency"] or ledger.setting("currency", "CNY") or "CNY": 0}
    _write_state(ledger, customer, as_of, result, status="sent", sent_on=sent_on)
    return result


def _write_state(ledger, customer: dict, as_of: str, result: Sent, *, status: str, sent_on: str | None,
                 note: str | None = None) -> None:
    with ledger.writing() as tx:
        for cur, balance in result.balances.items():
            tx.set("statement_log", row_id(customer["id"], as_of, cur), customer_id=customer["id"], as_of=as_of,
                   currency=cur, our_balance=balance, channel=result.channel, address=result.address,
                   sent_on=sent_on, status=status, their_balance=None, difference=None, answered_on=None,
                   resolved_on=None, note=note)


# --- answers -----------------------------------------------------------------------------------------------------


def _pick(ledger, customer: dict, as_of: str, currency: str | None) -> tuple[str, dict | None, int]:
    """(currency, existing row or None, our balance) of the statement being answered."""
    rows = _rows(ledger, customer["id"], as_of)
    ours = balances(ledger, customer["id"], as_of)
    options = sorted(set(rows) | set(ours)) or [customer["currency"] or ledger.setting("currency", "CNY") or "CNY"]
    if currency:
        cur = money.check_currency(currency)
    elif len(options) == 1:
        cur = options[0]
    else:
        raise InvalidInput(N_("{code} has balances in {options} as of {as_of}: give --currency"),
                           code=customer['code'], options=', '.join(options), as_of=as_of,
                           field="currency")
    row = rows.get(cur)
    return cur, row, row["our_balance"] if row else ours.get(cur, 0)


def confirm(ledger, code: str, as_of: str, their_balance: str | None = None, *, currency: str | None = None,
            on: str | None = None, note: str | None = None) -> dict:
    """Record the customer's answer: confirmed (no figure, or the same figure) or disputed with the difference
    ours - theirs. Works for a statement handed over outside Duly too (it is then tracked from here). One
    transaction."""
    as_of = validate.iso_date(as_of, "statement date")
    answered = _today(on, "date answered")
    with ledger.writing() as tx:
        customer = customers.by_code(ledger, code)
        cur, row, ours = _pick(ledger, customer, as_of, currency)
        if row and row["status"] == "resolved":
            raise Conflict(N_("{code}: the statement as of {as_of} was already resolved on {resolved_on}"), code=code,
                           as_of=as_of, resolved_on=row['resolved_on'])
        theirs = money.parse_amount(their_balance, cur, field="their balance", allow_negative=True) \
            if their_balance not in (None, "") else ours
        status = "confirmed" if theirs == ours else "disputed"
        fields = {"customer_id": customer["id"], "as_of": as_of, "currency": cur, "our_balance": ours,
                  "status": status, "their_balance": theirs, "difference": ours - theirs, "answered_on": answered,
                  "note": (note or "").strip() or None}
        if row is None:
            fields.update(channel=None, address=None, sent_on=None, resolved_on=None)
        tx.set("statement_log", row_id(customer["id"], as_of, cur), **fields)
    return {**(row or {}), **fields}


def resolve(ledger, code: str, as_of: str, note: str | None, *, currency: str | None = None,
            on: str | None = None) -> dict:
    """Close a disputed statement's difference (the note says how: a missing payment found, a credit note ...)."""
    as_of = validate.iso_date(as_of, "statement date")
    note = validate.required_text(note, "note")
    when = _today(on, "date resolved")
    with ledger.writing() as tx:
        customer = customers.by_code(ledger, code)
        cur, row, _ = _pick(ledger, customer, as_of, currency)
        if row is None or row["status"] != "disputed":
            if row is None:
                raise Conflict(N_("{code}: the statement as of {date} ({currency}) is not tracked, not disputed"),
                               code=code, date=as_of, currency=cur)
            raise Conflict(N_("{code}: the statement as of {date} ({currency}) is {status}, not disputed"), code=code,
                           date=as_of, currency=cur, status=row["status"])
        tx.set("statement_log", row["id"], status="resolved", resolved_on=when, note=note)
    return {**row, "status": "resolved", "resolved_on": when, "note": note}


def status(ledger, *, customer_code: str | None = None, open_only: bool = False) -> list[dict]:
    """Per customer and currency: the latest statement tracked, plus every earlier one still disputed."""
    where, params = "", []
    if customer_code:
        where, params = "WHERE s.customer_id = ?", [customers.by_code(ledger, customer_code)["id"]]
    rows = ledger.rows(f"""SELECT s.*, c.code AS customer, c.name FROM statement_log s
                           JOIN customers c ON c.id = s.customer_id {where}
                           ORDER BY c.code, s.currency, s.as_of DESC""", params)
    out, seen = [], set()
    for r in rows:
        latest = (r["customer"], r["currency"]) not in seen
        seen.add((r["customer"], r["currency"]))
        if r["status"] == "disputed" or (latest and not open_only):
            r.pop("id"), r.pop("customer_id")
            out.append(r)
    return out
