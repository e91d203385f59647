"""The documents a bookkeeper sends, from the ledger to HTML (through the template in force) and to PDF.

Each builder gathers what the document says into plain fields (amounts already written for people, codes
already in words) and renders the template NAME.LANG; the PDF is laid out from that same HTML. A template
that cannot be used raises engine.TemplateError before anything is written or sent.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from store.errors import InvalidInput, NotFound
from store.i18n import N_
from store.files.documents import engine, labels, pdf
from store.read import statements
from store.read.company import company_profile
from store.rules import money
from store.write import settings, templates
from store.i18n import N_

# (module-level: Babel's extractor loses N_() calls further down this file, after the f-strings of dunning())
REQUEST_NOT_OPEN = N_("payment request: {numbers} is not open for {code} as of {date}")
REQUEST_NOTHING_OPEN = N_("payment request: {code} has no open invoice as of {date}")

STYLE = """
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "Helvetica Neue",
       Arial, sans-serif; font-size: 10.5pt; color: #111; margin: 2em auto; max-width: 60em; }
h1 { font-size: 17pt; text-align: center; margin: .2em 0 .6em; } h2 { font-size: 12.5pt; margin: 1.2em 0 .3em; }
.letterhead { border-bottom: 2px solid #111; padding-bottom: .4em; margin-bottom: .8em; }
.letterhead .company { font-size: 14pt; font-weight: bold; } .small { font-size: 8.5pt; color: #444; }
table { border-collapse: collapse; width: 100%; margin: .4em 0; }
th, td { border-bottom: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #eee; } .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.plain td, table.plain th { border: none; background: none; padding: 1px 6px 1px 0; }
table.grid td, table.grid th { border: 1px solid #777; } tr.total td { font-weight: bold; border-top: 2px solid #111; }
td.tall { height: 22mm; } .right { text-align: right; } .center { text-align: center; }
.slip { border: 1px solid #111; padding: .6em 1em; margin-top: 1.2em; }
.slip::before { content: "✂ - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -";
                display: block; margin: -1.6em 0 .6em; color: #555; }
.page-break { page-break-after: always; }
@media print {
  @page { size: A4; margin: 16mm 18mm; }
  body { margin: 0; max-width: none; font-size: 9.5pt; }
  thead { display: table-header-group; } tr { page-break-inside: avoid; } .slip { page-break-inside: avoid; }
}
"""


@dataclass(frozen=True)
class Document:
    """A rendered document: its template, language, HTML, and what the PDF needs for its metadata and footer."""
    template: str
    lang: str
    title: str
    html: str
    company: str
    customer: str  # the customer's code
    filename: str  # without extension, e.g. HD001-statement-2026-03-31

    def pdf(self) -> bytes:
        return pdf.to_pdf(self.html, title=self.title, author=self.company,
                          footer=labels.word("page", self.lang), footer_left=self.company)

    def data(self, fmt: str) -> bytes:
        """The document as a file's bytes: html or pdf."""
        if fmt not in ("html", "pdf"):
            raise InvalidInput(N_("a document is saved as html or pdf, not {fmt}"), fmt=repr(fmt), field="format")
        return self.pdf() if fmt == "pdf" else self.html.encode("utf-8")


def save(doc: Document, path: str | Path, fmt: str) -> Path:
    """Write a document to a file (a plaintext export: created 0600, whole or not at all). Writing is a preview:
    nothing is recorded as sent here."""
    from store.files import exporter

    target = Path(path).expanduser()
    data = doc.data(fmt)  # rendered first: a PDF that cannot be made leaves no file behind
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with exporter.plaintext_file(target, mode="wb") as fh:
            fh.write(data)
    except OSError as exc:
        raise InvalidInput(N_("cannot write {target}: {reason}"), target=target, reason=exc.strerror or exc,
                           field="path") from None
    return target


def _customer(ledger, customer_id: str) -> dict:
    found = ledger.row("SELECT id, code, name, legal_name, address, email, phone, tax_id, language, currency "
                       "FROM customers WHERE id=?", (customer_id,))
    if found is None:
        raise NotFound(N_("unknown customer {code}"), code=repr(customer_id))
    return found


def language_of(ledger, customer: dict, lang: str | None = None) -> str:
    """The language a document to this customer is written in: asked for, else the customer's, else the one set
    for the ledger on this device (setting `language`, kept per device: a reminder falls back to it too), else
    Chinese."""
    chosen = lang or customer.get("language") or settings.get(ledger, "language") or "zh"
    if chosen not in engine.LANGS:
        raise InvalidInput(N_("language {language} is not one of {languages}"), language=repr(chosen),
                           languages=", ".join(engine.LANGS), field="lang")
    return chosen


def _render(ledger, doc: str, lang: str, context: dict) -> str:
    name = f"{doc}.{lang}"
    source, _ = templates.source(ledger, name)
    return engine.render(name, source, {**context, "style": engine.safe(STYLE), "lang": lang})


def _common(ledger, customer: dict, lang: str, issued: date) -> dict:
    return {"company": company_profile(ledger), "issued": issued.isoformat(),
            "customer": {"code": customer["code"], "name": customer["name"],
                         "legal_name": customer["legal_name"] or customer["name"],
                         "address": customer["address"] or "", "tax_id": customer["tax_id"] or ""}}


def _amt(amount: int, currency: str) -> str:
    return money.format_amount(amount, currency)


# --- statement of account (对账单) ---------------------------------------------------------------------------------


def _line_text(line: dict, lang: str, internal_notes: bool) -> str:
    """What a statement line says to the customer: the invoice's description, the payment's method in words;
    reasons for a void, write-off or credit note are our notes, shown only when asked for."""
    kind = line["type"]
    if kind in ("invoice", "debit_note"):  # what was billed, as billed (a debit note says what the fee is for)
        return line["text"]
    if kind == "payment":
        return labels.method(line["text"], lang)
    return line["text"] if internal_notes else ""


def statement_context(stmt: dict, lang: str, *, internal_notes: bool = False) -> dict:
    sections = []
    for s in stmt["sections"]:
        cur = s["currency"]
        aging = [{"label": labels.aging_bucket(label, lang), "amount": _amt(amount, cur)}
                 for label, amount in s["aging"].items() if amount or label != "unapplied"]
        section = {"currency": cur, "closing_balance": _amt(s["closing_balance"], cur), "aging": aging}
        if stmt["kind"] == "outstanding":
            section["rows"] = [{"number": i["number"], "date": i["date"].isoformat(),
                                "due_date": i["due_date"].isoformat(), "days_overdue": i["days_overdue"] or "",
                                "amount": _amt(i["open_amount"], cur)} for i in s["open_items"]]
            section["unapplied"] = _amt(-s["unapplied"], cur) if s["unapplied"] else ""
        else:
            section["opening_balance"] = _amt(s["opening_balance"], cur)
            section["rows"] = [{"date": ln["date"].isoformat(), "kind": labels.line_kind(ln["type"], lang),
                                "number": ln["number"], "text": _line_text(ln, lang, internal_notes),
                                "debit": _amt(ln["debit"], cur) if ln["debit"] else "",
                                "credit": _amt(ln["credit"], cur) if ln["credit"] else "",
                                "balance": _amt(ln["balance"], cur)} for ln in s["lines"]]
            section["total_debit"] = _amt(sum(ln["debit"] for ln in s["lines"]), cur)
            section["total_credit"] = _amt(sum(ln["credit"] for ln in s["lines"]), cur)
        sections.append(section)
    period = {"kind": stmt["kind"]}
    if stmt["kind"] == "outstanding":
        period["as_of"] = stmt["as_of"].isoformat()
    else:
        period.update({"from": stmt["from"].isoformat(), "to": stmt["to"].isoformat()})
    return {"statement": period, "sections": sections}


def statement(ledger, customer_id: str, *, as_of: date | None = None, start: date | None = None,
              end: date | None = None, lang: str | None = None, internal_notes: bool = False,
              issued: date | None = None, stmt: dict | None = None) -> Document:
    """对账单: outstanding as of a date, or activity over a period (store.read.statements), per currency
    (stmt: that statement when the caller has it already)."""
    customer = _customer(ledger, customer_id)
    lang = language_of(ledger, customer, lang)
    if stmt is None:
        stmt = statements.statement_of_account(ledger, customer_id, as_of=as_of, start=start, end=end)
    when = stmt.get("as_of") or stmt["to"]
    context = {**_common(ledger, customer, lang, issued or date.today()),
               **statement_context(stmt, lang, internal_notes=internal_notes)}
    title = ("对账单" if lang == "zh" else "Statement of account") + f" — {customer['name']}"
    return Document("statement", lang, title, _render(ledger, "statement", lang, context),
                    context["company"]["name"], customer["code"], f"{customer['code']}-statement-{when.isoformat()}")


def statement_tables(stmt: dict, lang: str, *, internal_notes: bool = False) -> dict:
    """The statement as plain tables for a terminal or Markdown: {title, subtitle, sections: [{currency,
    columns, headers, right, rows, closing, aging}]}, every word in the language asked for."""
    w = labels.statement_words(lang)
    ctx = statement_context(stmt, lang, internal_notes=internal_notes)
    period = ctx["statement"]
    subtitle = w["outstanding"].format(as_of=period["as_of"]) if period["kind"] == "outstanding" else \
        w["period"].format(start=period["from"], end=period["to"])
    sections = []
    for s in ctx["sections"]:
        if period["kind"] == "outstanding":
            columns = ["number", "date", "due_date", "days_overdue", "amount"]
            rows = [dict(r) for r in s["rows"]]
            if s["unapplied"]:
                rows.append({"number": w["unapplied"], "amount": s["unapplied"]})
        else:
            columns = ["date", "kind", "number", "text", "debit", "credit", "balance"]
            rows = [{"kind": w["opening"], "balance": s["opening_balance"]}, *s["rows"]]
        headers = {c: w["doc"] if c == "number" and period["kind"] != "outstanding" else w[c] for c in columns}
        sections.append({"currency": s["currency"], "columns": columns, "headers": headers,
                         "right": {"days_overdue", "amount", "debit", "credit", "balance"} & set(columns),
                         "rows": rows, "closing": f"{w['closing']}: {s['closing_balance']} {s['currency']}",
                         "aging": f"{w['aging']}: " + ", ".join(f"{a['label']} {a['amount']}" for a in s["aging"])})
    return {"title": w["title"], "subtitle": subtitle, "sections": sections, "nothing": w["nothing"]}


def statement_markdown(stmt: dict, lang: str, *, internal_notes: bool = False) -> str:
    """The statement as Markdown (the app's preview, an e-mail's plain-text part)."""
    def cell(text) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    tables = statement_tables(stmt, lang, internal_notes=internal_notes)
    w = labels.statement_words(lang)
    out = [f"# {tables['title']}", "", f"**{cell(stmt['name'])}** ({cell(stmt['customer'])})", "", tables["subtitle"]]
    for s in tables["sections"]:
        cols = s["columns"]
        out += ["", f"## {w['currency']}: {s['currency']}", "",
                "| " + " | ".join(cell(s["headers"][c]) for c in cols) + " |",
                "|" + "|".join("---:" if c in s["right"] else "---" for c in cols) + "|"]
        out += ["| " + " | ".join(cell(r.get(c, "")) for c in cols) + " |" for r in s["rows"]]
        out += ["", f"**{cell(s['closing'])}**", "", cell(s["aging"])]
    if not tables["sections"]:
        out += ["", tables["nothing"]]
    return "\n".join(out) + "\n"


# --- balance confirmation letter (往来款项询证函) -----------------------------------------------------------------


def confirmation(ledger, customer_id: str, as_of: date, *, lang: str | None = None, reply_by: date | None = None,
                 issued: date | None = None) -> Document:
    """往来款项询证函: as of D our books show you owe X; agree (sign and stamp) or state your figure and why."""
    customer = _customer(ledger, customer_id)
    lang = language_of(ledger, customer, lang)
    stmt = statements.statement_of_account(ledger, customer_id, as_of=as_of)
    balances = [{"currency": s["currency"], "amount": _amt(s["closing_balance"], s["currency"]),
                 "owed_to_us": s["closing_balance"] >= 0,
                 "items": len(s["open_items"])} for s in stmt["sections"]]
    if not balances:
        cur = customer["currency"] or ledger.setting("currency") or "CNY"
        balances = [{"currency": cur, "amount": _amt(0, cur), "owed_to_us": True, "items": 0}]
    context = {**_common(ledger, customer, lang, issued or date.today()), "as_of": as_of.isoformat(),
               "reply_by": reply_by.isoformat() if reply_by else "", "balances": balances,
               **statement_context(stmt, lang)}
    title = ("往来款项询证函" if lang == "zh" else "Balance confirmation") + f" — {customer['name']}"
    return Document("confirmation", lang, title, _render(ledger, "confirmation", lang, context),
                    context["company"]["name"], customer["code"],
                    f"{customer['code']}-confirmation-{as_of.isoformat()}")


# --- dunning letter (催款函) ----------------------------------------------------------------------------------------


def dunning(ledger, customer_id: str, items: list, as_of: date, doc_dates: dict[str, str], *,
            lang: str | None = None, issued: date | None = None) -> Document:
    """催款函 at the highest level among the items (store.rules.dunning.PlanItem), with the fee and the interest of
    each invoice as lines and the totals per currency."""
    if not items:
        raise InvalidInput(N_("a dunning letter needs at least one overdue invoice"))
    customer = _customer(ledger, customer_id)
    lang = language_of(ledger, customer, lang)
    top = max(items, key=lambda i: i.level.offset).level
    rows, totals = [], {}
    for it in sorted(items, key=lambda i: (i.currency, i.due_date, i.number)):
        cur = it.currency
        rows.append({"number": it.number, "date": doc_dates.get(it.invoice_id, ""), "due_date": it.due_date.isoformat(),
                     "days_overdue": max(it.days_overdue, 0), "currency": cur, "amount": _amt(it.asked, cur),
                     "fee": _amt(it.fee, cur) if it.fee else "", "interest": _amt(it.interest, cur) if it.interest
                     else "", "total": _amt(it.total, cur)})
        t = totals.setdefault(cur, {"amount": 0, "fee": 0, "interest": 0, "total": 0})
        for key, value in (("amount", it.asked), ("fee", it.fee), ("interest", it.interest), ("total", it.total)):
            t[key] += value
    context = {**_common(ledger, customer, lang, issued or date.today()), "as_of": as_of.isoformat(),
               "level": {"name": top.name, "wording": top.template, "title": top.title(lang),
                         "interest_rate": f"{top.interest_bp / 100:g}%" if top.interest_bp else ""},
               "rows": rows, "totals": [{"currency": cur, **{k: _amt(v, cur) for k, v in t.items()},
                                         "has_fee": bool(t["fee"]), "has_interest": bool(t["interest"])}
                                        for cur, t in sorted(totals.items())]}
    title = ("催款函" if lang == "zh" else "Payment reminder") + f" — {customer['name']}"
    return Document("dunning", lang, title, _render(ledger, "dunning", lang, context), context["company"]["name"],
                    customer["code"], f"{customer['code']}-dunning-{top.name}-{as_of.isoformat()}")


# --- payment request (请款单) ---------------------------------------------------------------------------------------


def payment_request(ledger, customer_id: str, as_of: date, *, numbers: list[str] | None = None,
                    lang: str | None = None, issued: date | None = None) -> Document:
    """请款单: the invoices asked for (the named ones, else every one open as of the date) with their lines, what
    is open on each, the total per currency and the account to pay into."""
    customer = _customer(ledger, customer_id)
    lang = language_of(ledger, customer, lang)
    stmt = statements.statement_of_account(ledger, customer_id, as_of=as_of)
    open_by_number: dict[str, dict] = {}
    for s in stmt["sections"]:
        for item in s["open_items"]:
            entry = open_by_number.setdefault(item["number"], {"currency": s["currency"], "open": 0,
                                                                "due_date": item["due_date"]})
            entry["open"] += item["open_amount"]
            entry["due_date"] = min(entry["due_date"], item["due_date"])
    wanted = numbers or sorted(open_by_number)
    missing = [n for n in wanted if n not in open_by_number]
    if missing:
        raise InvalidInput(REQUEST_NOT_OPEN,
                           numbers=", ".join(missing), code=customer["code"], date=as_of.isoformat(), field="invoice")
    if not wanted:
        raise InvalidInput(REQUEST_NOTHING_OPEN, code=customer["code"],
                           date=as_of.isoformat())
    invoices, totals = [], {}
    for number in wanted:
        inv = ledger.row("SELECT id, date, total, tax, currency, description FROM invoices WHERE number=? AND "
                         "customer_id=?", (number, customer_id))
        cur, opened = inv["currency"], open_by_number[number]
        lines = [{"description": ln["description"] if ln["description"] not in (None, "", "amount")
                  else (inv["description"] or labels.word("invoiced_amount", lang)), "qty": ln["qty"] or "",
                  "unit_price": _amt(ln["unit_price"], cur) if ln["unit_price"] is not None else "",
                  "tax_rate": f"{(ln['tax_bp'] or 0) / 100:g}%", "amount": _amt(ln["amount"] + (ln["tax"] or 0), cur)}
                 for ln in ledger.rows("SELECT description, qty, unit_price, tax_bp, amount, tax FROM invoice_lines "
                                       "WHERE invoice_id=? ORDER BY pos", (inv["id"],))]
        invoices.append({"number": number, "date": inv["date"], "due_date": opened["due_date"].isoformat(),
                         "currency": cur, "description": inv["description"] or "", "lines": lines,
                         "total": _amt(inv["total"], cur), "tax": _amt(inv["tax"] or 0, cur),
                         "open": _amt(opened["open"], cur)})
        totals[cur] = totals.get(cur, 0) + opened["open"]
    context = {**_common(ledger, customer, lang, issued or date.today()), "as_of": as_of.isoformat(),
               "invoices": invoices,
               "totals": [{"currency": c, "amount": _amt(v, c)} for c, v in sorted(totals.items())],
               # the earliest due date, or the day of the request when that has passed
               "pay_by": max(min(i["due_date"] for i in invoices), (issued or date.today()).isoformat())}
    title = ("请款单" if lang == "zh" else "Payment request") + f" — {customer['name']}"
    return Document("payment_request", lang, title, _render(ledger, "payment_request", lang, context),
                    context["company"]["name"], customer["code"],
                    f"{customer['code']}-payment-request-{as_of.isoformat()}")
