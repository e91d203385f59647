"""Statements of account (对账单): "outstanding as of" a date, or "activity over a period" with the opening
balance brought forward and a running balance; one section per currency; rendered as json, Markdown or HTML.

The closing balance is the customer's aging total as of the end date: both come from store.read.open.position.
"""
from __future__ import annotations

import html
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from store.rules import aging as agelib
from store.rules import money
from store.errors import InvalidInput, NotFound
from store.read.reports import default_edges, position

# Order of documents on the same day: what was billed, then what reduced it.
_ORDER = {"invoice": 0, "debit_note": 0, "credit_note": 1, "payment": 2, "writeoff": 3, "void": 4}
_TITLES = {
    "invoice": "发票 Invoice", "debit_note": "借项 Debit note", "credit_note": "红字/贷项 Credit note",
    "payment": "收款 Payment",
    "writeoff": "核销 Write-off", "void": "作废 Void",
}


def _customer(ledger, customer_id: str) -> dict:
    found = ledger.row("SELECT id, code, name, legal_name, address, currency FROM customers WHERE id=?",
                       (customer_id,))
    if found is None:
        raise NotFound(f"unknown customer {customer_id!r}")
    return found


def _balances(ledger, customer_id: str, as_of: date):
    """Per currency: (balance, aging row, open items, unapplied) of one customer as of a date."""
    pos = position(ledger, as_of, customer_id=customer_id)
    report = agelib.age(pos.items, pos.unapplied, as_of, "due", default_edges(ledger))
    rows = {row["currency"]: row for row in report.rows}
    items: dict[str, list] = defaultdict(list)
    for it in pos.items:
        items[it.currency].append(it)
    unapplied = {u.currency: u.amount for u in pos.unapplied}
    return report.buckets, rows, items, unapplied


def _activity(ledger, customer_id: str, start: date, end: date) -> list[dict[str, Any]]:
    """Every balance-moving document of the customer dated start..end (allocations only move money between
    open items and unapplied cash, so they are not lines)."""
    p = {"c": customer_id, "s": start.isoformat(), "e": end.isoformat()}
    lines: list[dict[str, Any]] = []

    def add(kind, when, currency, number, text, amount):
        lines.append({"date": date.fromisoformat(when), "type": kind, "currency": currency, "number": number or "",
                      "text": text or "", "amount": amount})

    for when, cur, number, total, text, debit in ledger.conn.execute(
        "SELECT date, currency, number, total, description, EXISTS (SELECT 1 FROM debit_notes d WHERE d.id = i.id) "
        "FROM invoices i WHERE customer_id=:c AND date BETWEEN :s AND :e", p):
        add("debit_note" if debit else "invoice", when, cur, number, text, total)
    for when, cur, number, amount, reason in ledger.conn.execute(
        "SELECT date, currency, number, amount, reason FROM credit_notes WHERE customer_id=:c "
        "AND date BETWEEN :s AND :e", p):
        add("credit_note", when, cur, number, reason, -amount)
    for when, cur, ref, amount, method in ledger.conn.execute(
        "SELECT date, currency, reference, amount, method FROM payments WHERE customer_id=:c "
        "AND date BETWEEN :s AND :e", p):
        add("payment", when, cur, ref, method, -amount)
    # A write-off after its invoice was voided changes nothing (the invoice is already out of the balance).
    for when, cur, number, amount, reason in ledger.conn.execute(
        """SELECT w.date, i.currency, i.number, w.amount, w.reason FROM writeoffs w JOIN invoices i ON i.id=w.invoice_id
           WHERE i.customer_id=:c AND w.date BETWEEN :s AND :e AND w.date >= i.date
             AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.doc_id=i.id AND v.doc_table='invoices' AND v.date < w.date)""",
        p):
        add("writeoff", when, cur, number, reason, -amount)
    # A void takes out what was left of the document on the later of the void's and the document's dates.
    for when, cur, number, amount, reason in ledger.conn.execute(
        """SELECT max(v.date, i.date), i.currency, i.number,
                  i.total - coalesce((SELECT sum(w.amount) FROM writeoffs w WHERE w.invoice_id=i.id
                                      AND w.date <= max(v.date, i.date)), 0), v.reason
           FROM voids v JOIN invoices i ON i.id=v.doc_id
           WHERE v.doc_table='invoices' AND i.customer_id=:c AND max(v.date, i.date) BETWEEN :s AND :e""", p):
        add("void", when, cur, number, reason, -amount)
    for when, cur, ref, amount, reason in ledger.conn.execute(
        """SELECT max(v.date, p.date), p.currency, p.reference, p.amount, v.reason FROM voids v
           JOIN payments p ON p.id=v.doc_id
           WHERE v.doc_table='payments' AND p.customer_id=:c AND max(v.date, p.date) BETWEEN :s AND :e""", p):
        add("void", when, cur, ref, reason, amount)
    lines.sort(key=lambda line: (line["date"], _ORDER[line["type"]], line["number"]))
    return lines


def statement_of_account(ledger, customer_id: str, as_of: date | None = None, start: date | None = None,
                         end: date | None = None) -> dict[str, Any]:
    """"Outstanding as of" (as_of) or "activity over a period" (start..end, inclusive) for one customer."""
    if (as_of is None) == (start is None and end is None) or (as_of is None and (start is None or end is None)):
        raise InvalidInput("a statement needs either --as-of D, or --from D and --to D")
    if as_of is None and end < start:
        raise InvalidInput(f"statement period: --to {end} is before --from {start}", field="to")
    customer = _customer(ledger, customer_id)
    head = {"customer": customer["code"], "name": customer["name"], "legal_name": customer["legal_name"],
            "address": customer["address"]}
    if as_of is not None:
        labels, rows, items, unapplied = _balances(ledger, customer_id, as_of)
        sections = []
        for currency in sorted(set(rows) | set(items) | set(unapplied)):
            open_items = sorted(items.get(currency, []), key=lambda it: (it.due_date, it.number))
            row = rows.get(currency, {})
            sections.append({
                "currency": currency,
                "open_items": [{"number": it.number, "date": it.doc_date, "due_date": it.due_date,
                                "days_overdue": max(0, (as_of - it.due_date).days), "open_amount": it.open_amount}
                               for it in open_items],
                "unapplied": unapplied.get(currency, 0),
                "closing_balance": row.get("total", 0),
                "aging": {label: row.get(label, 0) for label in (*labels, agelib.UNAPPLIED)},
            })
        return {**head, "kind": "outstanding", "as_of": as_of, "buckets": labels, "sections": sections}

    _, open_rows, _, _ = _balances(ledger, customer_id, start - timedelta(days=1))
    labels, close_rows, _, _ = _balances(ledger, customer_id, end)
    lines = _activity(ledger, customer_id, start, end)
    sections = []
    for currency in sorted(set(open_rows) | set(close_rows) | {line["currency"] for line in lines}):
        running = opening = open_rows.get(currency, {}).get("total", 0)
        out_lines = []
        for line in lines:
            if line["currency"] != currency:
                continue
            running += line["amount"]
            out_lines.append({"date": line["date"], "type": line["type"], "number": line["number"],
                              "text": line["text"], "debit": max(line["amount"], 0),
                              "credit": max(-line["amount"], 0), "balance": running})
        row = close_rows.get(currency, {})
        sections.append({
            "currency": currency, "opening_balance": opening, "lines": out_lines, "closing_balance": running,
            "aging_total": row.get("total", 0),
            "aging": {label: row.get(label, 0) for label in (*labels, agelib.UNAPPLIED)},
        })
    return {**head, "kind": "activity", "from": start, "to": end, "buckets": labels, "sections": sections}


# --- rendering -----------------------------------------------------------------------------------------

_AMOUNT_KEYS = {"open_amount", "unapplied", "closing_balance", "opening_balance", "debit", "credit", "balance",
                "aging_total"}


def to_json(stmt: dict[str, Any]) -> dict[str, Any]:
    """Dates ISO, amounts as decimal strings in each section's currency."""
    def conv(value, currency):
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: (money.to_decimal_str(v, currency) if (k in _AMOUNT_KEYS or k in stmt["buckets"]
                                                               or k == agelib.UNAPPLIED) and isinstance(v, int)
                        else conv(v, currency)) for k, v in value.items()}
        if isinstance(value, list):
            return [conv(v, currency) for v in value]
        return value

    out = {k: conv(v, None) for k, v in stmt.items() if k != "sections"}
    out["sections"] = [conv(section, section["currency"]) for section in stmt["sections"]]
    return out


def _fmt(amount: int, currency: str) -> str:
    return money.format_amount(amount, currency)


def _title(stmt) -> str:
    if stmt["kind"] == "outstanding":
        return f"对账单 Statement of account — outstanding as of {stmt['as_of'].isoformat()}"
    return f"对账单 Statement of account — {stmt['from'].isoformat()} to {stmt['to'].isoformat()}"


def _tables(stmt):
    """(heading, columns, rows of text, right-aligned columns, closing line) per section: shared by md and html."""
    for s in stmt["sections"]:
        cur = s["currency"]
        if stmt["kind"] == "outstanding":
            cols = ["发票号 Number", "日期 Date", "到期日 Due", "逾期天数 Days overdue", "未收金额 Open"]
            rows = [[i["number"], i["date"].isoformat(), i["due_date"].isoformat(), str(i["days_overdue"]),
                     _fmt(i["open_amount"], cur)] for i in s["open_items"]]
            if s["unapplied"]:
                rows.append(["未核销款 Unapplied", "", "", "", _fmt(-s["unapplied"], cur)])
            extra = []
        else:
            cols = ["日期 Date", "类型 Type", "单号 Number", "摘要 Description", "借方 Debit", "贷方 Credit", "余额 Balance"]
            rows = [["", "期初余额 Opening balance", "", "", "", "", _fmt(s["opening_balance"], cur)]]
            rows += [[ln["date"].isoformat(), _TITLES[ln["type"]], ln["number"], ln["text"],
                      _fmt(ln["debit"], cur) if ln["debit"] else "", _fmt(ln["credit"], cur) if ln["credit"] else "",
                      _fmt(ln["balance"], cur)] for ln in s["lines"]]
            extra = []
        right = {i for i, c in enumerate(cols) if any(w in c for w in ("Open", "Debit", "Credit", "Balance", "Days"))}
        aging = [(label, _fmt(amount, cur)) for label, amount in s["aging"].items()]
        yield cur, cols, rows + extra, right, _fmt(s["closing_balance"], cur), aging


def to_markdown(stmt: dict[str, Any]) -> str:
    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    out = [f"# {cell(_title(stmt))}", "", f"**{cell(stmt['name'])}** ({cell(stmt['customer'])})"]
    if stmt.get("address"):
        out.append(f"  \n{cell(stmt['address'])}")
    for cur, cols, rows, right, closing, aging in _tables(stmt):
        out += ["", f"## {cur}", "", "| " + " | ".join(cols) + " |",
                "|" + "|".join("---:" if i in right else "---" for i in range(len(cols))) + "|"]
        out += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
        out += ["", f"**期末余额 Closing balance: {closing} {cur}**", "", "账龄 Aging: " + ", ".join(
            f"{cell(label)} {amount}" for label, amount in aging)]
    return "\n".join(out) + "\n"


_CSS = """
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "Helvetica Neue",
       Arial, sans-serif; font-size: 11pt; color: #111; margin: 2em; }
h1 { font-size: 16pt; margin-bottom: .2em; } h2 { font-size: 13pt; margin-top: 1.5em; }
table { border-collapse: collapse; width: 100%; margin: .5em 0; }
th, td { border-bottom: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.closing { font-weight: bold; margin-top: .3em; } .aging td { border: 1px solid #ccc; }
@media print {
  @page { size: A4; margin: 15mm; }
  body { margin: 0; font-size: 10pt; }
  th { background: none; }
  section { page-break-inside: avoid; }
  thead { display: table-header-group; }
  tr { page-break-inside: avoid; }
}
"""


def to_html(stmt: dict[str, Any]) -> str:
    e = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
             f"<title>{e(_title(stmt))} — {e(stmt['name'])}</title>", f"<style>{_CSS}</style></head><body>",
             f"<h1>{e(_title(stmt))}</h1>", f"<p><strong>{e(stmt['name'])}</strong> ({e(stmt['customer'])})"]
    if stmt.get("address"):
        parts.append(f"<br>{e(stmt['address'])}")
    parts.append("</p>")
    for cur, cols, rows, right, closing, aging in _tables(stmt):
        parts.append(f"<section><h2>{e(cur)}</h2><table><thead><tr>")
        parts += [f'<th{" class=num" if i in right else ""}>{e(c)}</th>' for i, c in enumerate(cols)]
        parts.append("</tr></thead><tbody>")
        for row in rows:
            parts.append("<tr>" + "".join(f'<td{" class=num" if i in right else ""}>{e(str(v))}</td>'
                                          for i, v in enumerate(row)) + "</tr>")
        parts.append(f'</tbody></table><p class="closing">期末余额 Closing balance: {e(closing)} {e(cur)}</p>')
        parts.append('<table class="aging"><tr>' + "".join(f"<th class=num>{e(label)}</th>" for label, _ in aging)
                     + "</tr><tr>" + "".join(f"<td class=num>{e(amount)}</td>" for _, amount in aging)
                     + "</tr></table></section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
