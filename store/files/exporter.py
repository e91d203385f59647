"""Plaintext exports (DESIGN §3: explicit, and they say so): CSV per table, an XLSX workbook, an hledger
journal and a beancount file.

The journals post every document as a double-entry transaction, amounts in their currency as the commodity:
- invoice:      Assets:Receivable:<CODE>  total  /  Income:Sales  (net)  /  Liabilities:Output-Tax  (tax)
- payment:      Assets:Bank  amount  /  Assets:Receivable:<CODE>  what it applied that day (per invoice)
                /  Liabilities:Unapplied:<CODE>  the rest
- credit note:  Income:Sales-Returns  amount  /  Receivable (applied that day)  /  Unapplied (the rest)
- allocation on a later date (or a reversal): Liabilities:Unapplied:<CODE>  /  Assets:Receivable:<CODE>
- write-off:    Expenses:Bad-Debts  /  Assets:Receivable:<CODE>
- void of an invoice: the reverse of what was still open of it on the void date (Income:Sales / Receivable);
  void of a payment: Liabilities:Unapplied:<CODE> / Assets:Bank (its allocations are reversed by the
  negative allocations the void posted, exported like any other allocation).
- realised exchange difference (已实现汇兑损益), as Odoo and ERPNext book it: a transaction of its own in the base
  currency for each row `duly report fx-realised` shows (a foreign payment's part applied to an invoice; the
  rows come from store.read.fx.realised, never computed here), dated with the payment. The receivable is
  measured again from the invoice date's rate to the payment date's and the difference goes to one account,
  Income:Exchange-Difference (a gain is a credit, a loss a debit; ERPNext's one Exchange Gain/Loss account,
  财务费用—汇兑损益): Odoo's exchange-difference entry puts the amount on the receivable in the company currency
  with no foreign amount; in a journal whose receivable is kept in the foreign currency that is a pair of
  postings to Assets:Receivable:<CODE>, +amount at its base value on the payment date and -amount at its base
  value on the invoice date (`@@`, the costs the tools balance by), so the receivable's foreign balance is
  unchanged and the transaction balances in the base currency:
      Assets:Receivable:<CODE>     1000.00 USD @@ 7056.70 CNY
      Assets:Receivable:<CODE>    -1000.00 USD @@ 7123.40 CNY
      Income:Exchange-Difference     66.70 CNY
  Rows without a rate for either date (fx-realised leaves them out and names them) and rows of no difference
  post nothing; a voided payment makes no difference (as in the report). Over any run of dates the account's
  balance, negated, is fx-realised's total for those dates. The unrealised revaluation (`report revaluation`)
  is not posted: it belongs to a chosen period end (Odoo posts it then and reverses it the next day), which an
  export of the whole book does not have; the price directives let `hledger bal -V -e D` value the open
  foreign receivables at the rates as of D instead.
So, per customer and currency, Assets:Receivable:<CODE> + Liabilities:Unapplied:<CODE> is the balance the
aging report shows as that customer's total. Invoice numbers and customer codes go in as tags (hledger,
ledger) or metadata (beancount).
"""
from __future__ import annotations

import csv
import json
import os
import re
from collections import defaultdict
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path

from store.ledger import db
from store.read import fx as fxread
from store.read.open import invoice_open_sql, position as open_position
from store.write.terms import home_currency
from store.read import reports
from store.rules import fx, money, safetext, validate
from store.i18n import N_
from store.errors import InvalidInput, Said, os_reason

RECEIVABLE, UNAPPLIED, BANK = "Assets:Receivable", "Liabilities:Unapplied", "Assets:Bank"
SALES, TAX, RETURNS, BAD_DEBTS = "Income:Sales", "Liabilities:Output-Tax", "Income:Sales-Returns", "Expenses:Bad-Debts"
EXCHANGE = "Income:Exchange-Difference"


def _target(path, *, directory: bool = False) -> Path:
    target = Path(path).expanduser()
    parent = target if directory else target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(N_("cannot write to {parent}: {reason}"), parent=parent, reason=os_reason(exc),
                           field="path") from None
    return target


@contextmanager
def plaintext_file(target: Path, mode: str = "w", **open_args):
    """A plaintext file Duly hands out (an export, a reminder letter): created readable by its owner only
    (0600), written beside `target` and moved onto it once complete, so an error while writing leaves
    nothing half-written. Errors are raised as they came (OSError): the caller says what failed."""
    temp = target.with_name(f".{target.name}.part")
    try:
        # chmod too: the .part may be left from before, with another mode
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.chmod(temp, 0o600)
        with open(fd, mode, **open_args) as fh:
            yield fh
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


@contextmanager
def _writing(target: Path, mode: str = "w", **open_args):
    """An export's `plaintext_file`; an error while writing says in one line what could not be written."""
    try:
        with plaintext_file(target, mode, **open_args) as fh:
            yield fh
    except OSError as exc:
        if db.out_of_space(exc):
            raise db.disk_full(target, exc) from None
        raise InvalidInput(N_("cannot write {target}: {reason}"), target=target, reason=os_reason(exc),
                           field="path") from None


# --- CSV: one file per table, the importable ones in the import's own columns ------------------------

CUSTOMER_COLUMNS = ["code", "name", "legal_name", "tax_id", "address", "email", "phone", "language", "currency",
                    "terms", "credit_limit", "category", "settlement_cycle", "tags", "notes", "archived"]
INVOICE_COLUMNS = ["number", "customer", "date", "due_date", "amount", "currency", "terms", "description",
                   "contract", "einvoice", "lines"]
TERMS_COLUMNS = ["name", "lines", "discount_bp", "discount_days", "late_interest_bp", "archived"]
PAYMENT_COLUMNS = ["customer", "date", "amount", "currency", "method", "reference", "note", "invoice"]


def _write_csv(path: Path, columns: list[str], rows, tick=None) -> int:
    count = 0
    with _writing(path, encoding="utf-8-sig", newline="") as fh:  # the BOM lets Excel read UTF-8
        out = csv.writer(fh)
        out.writerow(columns)
        for row in rows:
            out.writerow([safetext.spreadsheet_cell("" if row.get(c) is None else str(row[c])) for c in columns])
            count += 1
            if tick is not None:
                tick()
    return count


class _Ticks:
    """`progress(done, total)` told every few hundred rows of an export (and once at the end), or nothing."""

    EVERY = 500

    def __init__(self, progress, total: int):
        self.progress, self.total, self.done = progress, total, 0
        if progress is not None:
            progress(0, total)

    def __call__(self) -> None:
        self.done += 1
        if self.progress is not None and self.done % self.EVERY == 0:
            self.progress(min(self.done, self.total), max(self.total, self.done))

    def end(self) -> None:
        if self.progress is not None:
            self.progress(self.done, self.done)


def _count(ledger, *tables: str) -> int:
    return sum(ledger.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)


def _invoice_lines(ledger) -> dict[str, str]:
    """{invoice id: its lines as JSON, [[description, qty, unit price, tax rate in basis points, tax], ...]} (amounts
    as decimal text), for the invoice import's `lines` column."""
    found: dict[str, list] = defaultdict(list)
    for invoice_id, currency, description, qty, unit_price, tax_bp, tax in ledger.conn.execute(
            """SELECT l.invoice_id, i.currency, l.description, l.qty, l.unit_price, l.tax_bp, l.tax
               FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id ORDER BY l.invoice_id, l.pos"""):
        found[invoice_id].append([description, qty, money.to_decimal_str(unit_price, currency), tax_bp,
                                  money.to_decimal_str(tax, currency)])
    return {k: json.dumps(v, ensure_ascii=False, separators=(",", ":")) for k, v in found.items()}


def _payment_applied(ledger) -> dict[str, str]:
    """{payment id: what it applied, "NUMBER=AMOUNT;..." by invoice number} for the payment import's `invoice`
    column: the net per invoice (a reversal nets against what it reverses), invoices netting to nothing left out.
    One query for the whole book (one per payment took most of an export's time)."""
    found: dict[str, list[str]] = defaultdict(list)
    for payment_id, currency, number, net in ledger.conn.execute(
            """SELECT a.payment_id, p.currency, i.number, sum(a.amount) FROM allocations a
               JOIN invoices i ON i.id = a.invoice_id JOIN payments p ON p.id = a.payment_id
               WHERE a.payment_id IS NOT NULL GROUP BY a.payment_id, i.number HAVING sum(a.amount) > 0
               ORDER BY a.payment_id, i.number"""):
        found[payment_id].append(f"{number}={money.to_decimal_str(net, currency)}")
    return {k: ";".join(v) for k, v in found.items()}


def csv_rows(ledger) -> dict[str, tuple[list[str], object]]:
    """{file name: (columns, rows)}: everything a new ledger needs, in the columns `duly import` reads: terms (the
    ledger's own), customers, invoices (with their lines and tax; voided ones too, voids.csv voids them again),
    payments (voided ones left out) with what each applied, credit notes, write-offs and voids. Imported in that
    order into a new ledger they give the same aging at every date (allocations are dated by their payment, as
    an import posts them). The invoices and payments are generators read as they are written, so an export's
    memory does not hold the book's rows twice."""
    dec = money.to_decimal_str
    terms_rows = ledger.rows(f"SELECT {', '.join(TERMS_COLUMNS)} FROM terms ORDER BY name")
    for r in terms_rows:
        r["archived"] = 1 if r["archived"] else 0
    custs = []
    for r in ledger.rows(f"SELECT {', '.join(CUSTOMER_COLUMNS)} FROM customers ORDER BY code"):
        cur = r["currency"] or "CNY"
        r["credit_limit"] = None if r["credit_limit"] is None else dec(r["credit_limit"], cur)
        r["archived"] = 1 if r["archived"] else 0
        custs.append(r)

    def invs():
        lines = _invoice_lines(ledger)
        for r in _dict_rows(ledger,
                """SELECT i.id, i.number, c.code AS customer, i.date, i.due_date, i.total, i.currency, i.terms,
                          i.description, i.contract, i.einvoice,
                          (SELECT count(*) FROM due_items d WHERE d.invoice_id = i.id) AS parts
                   FROM invoices i JOIN customers c ON c.id = i.customer_id
                   ORDER BY i.date, i.number"""):
            r["amount"] = dec(r.pop("total"), r["currency"])
            r["lines"] = lines.get(r.pop("id"))
            if r.pop("parts") > 1 and r["terms"]:
                r["due_date"] = None  # the terms make the instalments again on import
            elif r["due_date"]:
                r["terms"] = None  # one due date says it all
            yield r

    def pays():
        applied = _payment_applied(ledger)
        for r in _dict_rows(ledger,
                """SELECT p.id, c.code AS customer, p.date, p.amount, p.currency, p.method, p.reference, p.note
                   FROM payments p JOIN customers c ON c.id = p.customer_id
                   WHERE p.id NOT IN (SELECT doc_id FROM voids WHERE doc_table = 'payments')
                   ORDER BY p.date, p.id"""):
            r["invoice"] = applied.get(r.pop("id")) or "-"
            r["amount"] = dec(r["amount"], r["currency"])
            yield r

    credits = ledger.rows(
        """SELECT n.number, c.code AS customer, n.date, n.amount, n.currency, i.number AS invoice, n.reason
           FROM credit_notes n JOIN customers c ON c.id = n.customer_id LEFT JOIN invoices i ON i.id = n.invoice_id
           ORDER BY n.date, n.number""")
    for r in credits:
        r["amount"] = dec(r["amount"], r["currency"])
    offs = ledger.rows(
        """SELECT i.number AS invoice, c.code AS customer, w.date, w.amount, i.currency, w.reason
           FROM writeoffs w JOIN invoices i ON i.id = w.invoice_id JOIN customers c ON c.id = i.customer_id
           ORDER BY w.date, i.number""")
    for r in offs:
        r["amount"] = dec(r["amount"], r["currency"])
    # voided invoices are in invoices.csv and voided again by this file; a voided payment is left out of both
    voids = ledger.rows(
        """SELECT v.doc_table AS document, i.number AS ref, v.date, v.reason
           FROM voids v JOIN invoices i ON i.id = v.doc_id WHERE v.doc_table = 'invoices'
           ORDER BY v.date, v.id""")
    return {
        "terms.csv": (TERMS_COLUMNS, terms_rows),
        "customers.csv": (CUSTOMER_COLUMNS, custs),
        "invoices.csv": (INVOICE_COLUMNS, invs()),
        "payments.csv": (PAYMENT_COLUMNS, pays()),
        "credit_notes.csv": (["number", "customer", "date", "amount", "currency", "invoice", "reason"], credits),
        "writeoffs.csv": (["invoice", "customer", "date", "amount", "currency", "reason"], offs),
        "voids.csv": (["document", "ref", "date", "reason"], voids),
    }


def _dict_rows(ledger, sql: str, params=()):
    """The rows of a query as dicts, read one at a time (Ledger.rows reads them all)."""
    cur = ledger.conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    for row in cur:
        yield dict(zip(names, row))


def export_csv(ledger, directory, progress=None) -> str:
    """One CSV file per table into `directory`. `progress(done, total)` is told how many rows are written."""
    target = _target(directory, directory=True)
    tick = _Ticks(progress, _count(ledger, "terms", "customers", "invoices", "payments", "credit_notes",
                                   "writeoffs", "voids"))
    counts = {name: _write_csv(target / name, cols, rows, tick) for name, (cols, rows) in csv_rows(ledger).items()}
    tick.end()
    return Said(N_("{n} CSV files to {target} ({counts})"), n=len(counts), target=str(target),
                counts=", ".join(f"{n} {c}" for n, c in counts.items()))


# --- XLSX: customers, open items, aging, with number formats ------------------------------------------

def _number_format(currency: str) -> str:
    exp = money.exponent(currency)
    return "#,##0" + ("." + "0" * exp if exp else "")


def _amount(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-money.exponent(currency))


def export_xlsx(ledger, path, as_of: str | None = None, progress=None) -> str:
    """Customers, open items and aging as of a date, with number formats; `progress` told rows written."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    on = validate.parse_date(as_of, "as-of date") if as_of else date.today()
    target = _target(path)
    book = Workbook()
    bold = Font(bold=True)

    def sheet(title: str, headers: list[str], rows: list[list], money_cols: dict[int, int], date_cols: set[int]):
        ws = book.create_sheet(title)
        ws.append(headers)
        for cell in ws[1]:
            cell.font = bold
        for values in rows:
            tick()
            # control characters a worksheet cannot hold (ESC in a name) as visible escapes, as the other exports
            ws.append([ILLEGAL_CHARACTERS_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", v) if isinstance(v, str) else v
                       for v in values])
            r = ws.max_row
            for cell in ws[r]:
                if isinstance(cell.value, str) and safetext.formula_like(cell.value):
                    # text stays text: openpyxl would write '=...' as a live formula; the quote prefix also
                    # keeps Excel from making it one when the cell is edited (OWASP, CSV injection)
                    cell.data_type = "s"
                    cell.quotePrefix = True
            for col, cur_col in money_cols.items():
                ws.cell(r, col + 1).number_format = _number_format(values[cur_col] or "CNY")
            for col in date_cols:
                ws.cell(r, col + 1).number_format = "yyyy-mm-dd"
        ws.freeze_panes = "A2"
        for i, head in enumerate(headers):
            ws.column_dimensions[ws.cell(1, i + 1).column_letter].width = max(12, len(head) + 4)
        return ws

    custs = ledger.rows("SELECT code, name, tax_id, email, phone, currency, terms, credit_limit, category "
                        "FROM customers ORDER BY code")
    pos = open_position(ledger, on)
    items = sorted(pos.invoices, key=lambda i: (i.customer, i.due_date, i.number))
    rows = [[i.customer, i.name, i.number, i.doc_date, i.due_date, i.currency, _amount(i.total, i.currency),
             _amount(i.open_amount, i.currency), max((on - i.due_date).days, 0)] for i in items]
    rows += [[u.customer, u.name, "(unapplied)", None, None, u.currency, None, _amount(-u.amount, u.currency), None]
             for u in sorted(pos.unapplied, key=lambda u: (u.customer, u.currency))]
    report = reports.aging(ledger, on)
    tick = _Ticks(progress, len(custs) + len(rows) + len(report.rows) + len(report.totals))
    book.remove(book.active)
    sheet("Customers", ["code", "name", "tax_id", "email", "phone", "currency", "terms", "credit_limit", "category"],
          [[c["code"], c["name"], c["tax_id"], c["email"], c["phone"], c["currency"], c["terms"],
            None if c["credit_limit"] is None else _amount(c["credit_limit"], c["currency"] or "CNY"), c["category"]]
           for c in custs], {7: 5}, set())
    sheet(f"Open items {on.isoformat()}", ["customer", "name", "number", "date", "due_date", "currency", "total",
                                            "open", "days_overdue"], rows, {6: 5, 7: 5}, {3, 4})
    columns = ["total", *report.buckets, "unapplied"]
    sheet(f"Aging {on.isoformat()}", ["customer", "name", "currency", *columns],
          [[r["customer"], r["name"], r["currency"], *[_amount(r[c], r["currency"]) for c in columns]]
           for r in report.rows]
          + [["TOTAL", "", cur, *[_amount(t[c], cur) for c in columns]] for cur, t in report.totals.items()],
          {3 + k: 2 for k in range(len(columns))}, set())
    with _writing(target, "wb") as fh:
        book.save(fh)
    tick.end()
    return Said(N_("{target} (customers, {n} open invoices, aging as of {date})"), target=str(target), n=len(items),
                date=on.isoformat())


# --- journals ------------------------------------------------------------------------------------------

def bean_account_part(code: str) -> str:
    """A customer code as a beancount account component: [A-Z0-9][A-Za-z0-9-]*."""
    part = re.sub(r"[^A-Za-z0-9-]", "-", code)
    if not part or not (part[0].isdigit() or "A" <= part[0] <= "Z"):
        part = "C-" + part
    return part


def account_parts(codes: list[str], beancount: bool) -> dict[str, str]:
    """{customer code: account component}, unique even when two codes clean up to the same text."""
    out, taken = {}, set()
    for code in sorted(codes):
        part = bean_account_part(code) if beancount else code
        base, n = part, 1
        while part in taken:
            n += 1
            part = f"{base}-{n}"
        taken.add(part)
        out[code] = part
    return out


class _Entries:
    """Every document of the ledger as a transaction: (date, payee, narration, tags, postings), where a
    posting is (account, minor amount, currency, {tag: value}) and, when it has a cost in another currency,
    then (minor cost, cost currency): the cost's sign is the amount's (journals write its absolute value)."""

    def __init__(self, ledger, beancount: bool):
        self.ledger = ledger
        rows = ledger.rows("SELECT id, code, name FROM customers")
        self.parts = account_parts([r["code"] for r in rows], beancount)
        self.customer = {r["id"]: (r["code"], r["name"] or r["code"]) for r in rows}
        self.by_code = {r["code"]: r["id"] for r in rows}
        self.numbers = dict(ledger.conn.execute("SELECT id, number FROM invoices"))

    def rec(self, cid: str) -> str:
        return f"{RECEIVABLE}:{self.parts[self.customer[cid][0]]}"

    def una(self, cid: str) -> str:
        return f"{UNAPPLIED}:{self.parts[self.customer[cid][0]]}"

    def accounts(self) -> list[str]:
        fixed = [BANK, SALES, TAX, RETURNS, BAD_DEBTS, EXCHANGE]
        per = [f"{root}:{part}" for part in sorted(self.parts.values()) for root in (RECEIVABLE, UNAPPLIED)]
        return fixed + per

    def expected(self) -> int:
        """About how many transactions iterating will give (for progress): one per document, void and write-off,
        and one per allocation not made on its document's day (exchange differences come on top)."""
        later = self.ledger.conn.execute(
            """SELECT count(*) FROM allocations a LEFT JOIN payments p ON p.id = a.payment_id
               LEFT JOIN credit_notes n ON n.id = a.credit_id
               WHERE NOT (a.amount > 0 AND a.date = coalesce(p.date, n.date))""").fetchone()[0]
        return later + _count(self.ledger, "invoices", "payments", "credit_notes", "writeoffs", "voids")

    def currencies(self) -> list[str]:
        return sorted({r[0] for t in ("invoices", "payments", "credit_notes")
                       for r in self.ledger.conn.execute(f"SELECT DISTINCT currency FROM {t}")})

    def _same_day(self, column: str, table: str) -> dict[str, list[tuple[str, int]]]:
        found = defaultdict(list)
        for src, inv, amount in self.ledger.conn.execute(
            f"""SELECT a.{column}, a.invoice_id, a.amount FROM allocations a JOIN {table} s ON s.id = a.{column}
                WHERE a.date = s.date AND a.amount > 0 ORDER BY a.id"""):
            found[src].append((inv, amount))
        return found

    def __iter__(self):
        conn = self.ledger.conn
        for iid, number, cid, on, cur, total, tax, debit, reverses in conn.execute(
                "SELECT i.id, i.number, i.customer_id, i.date, i.currency, i.total, i.tax, d.id, d.credit_id "
                "FROM invoices i LEFT JOIN debit_notes d ON d.id = i.id ORDER BY i.date, i.number"):
            code, name = self.customer[cid]
            tags = {"invoice": number, "customer": code}
            # a debit note that reverses a credit note takes back what the credit put on sales returns
            income = RETURNS if reverses else SALES
            postings = [(self.rec(cid), total, cur, {}), (income, -(total - (tax or 0)), cur, {})]
            if tax:
                postings.append((TAX, -tax, cur, {}))
            yield on, name, f"{'Debit note' if debit else 'Invoice'} {number}", tags, postings
        for table, column, account, title in (("payments", "payment_id", BANK, "Payment"),
                                              ("credit_notes", "credit_id", RETURNS, "Credit note")):
            same_day = self._same_day(column, table)
            extra = "reference" if table == "payments" else "number"
            for sid, cid, on, amount, cur, ref in conn.execute(
                    f"SELECT id, customer_id, date, amount, currency, {extra} FROM {table} ORDER BY date, id"):
                code, name = self.customer[cid]
                postings = [(account, amount, cur, {})]
                for inv, part in same_day.get(sid, ()):
                    postings.append((self.rec(cid), -part, cur, {"invoice": self.numbers[inv]}))
                rest = amount - sum(p for _, p in same_day.get(sid, ()))
                if rest:
                    postings.append((self.una(cid), -rest, cur, {}))
                tags = {"customer": code, **({"reference": ref} if ref else {})}
                yield on, name, f"{title} {ref or ''}".strip(), tags, postings
        for inv, cid, on, amount, cur in conn.execute(
            """SELECT a.invoice_id, i.customer_id, a.date, a.amount, i.currency FROM allocations a
               JOIN invoices i ON i.id = a.invoice_id
               LEFT JOIN payments p ON p.id = a.payment_id LEFT JOIN credit_notes n ON n.id = a.credit_id
               WHERE NOT (a.amount > 0 AND a.date = coalesce(p.date, n.date)) ORDER BY a.date, a.id"""):
            code, name = self.customer[cid]
            number = self.numbers[inv]
            yield (on, name, f"Allocation to {number}", {"invoice": number, "customer": code},
                   [(self.una(cid), amount, cur, {}), (self.rec(cid), -amount, cur, {})])
        for inv, cid, on, amount, cur in conn.execute(
            """SELECT w.invoice_id, i.customer_id, w.date, w.amount, i.currency FROM writeoffs w
               JOIN invoices i ON i.id = w.invoice_id ORDER BY w.date, w.id"""):
            code, name = self.customer[cid]
            number = self.numbers[inv]
            yield (on, name, f"Write-off {number}", {"invoice": number, "customer": code},
                   [(BAD_DEBTS, amount, cur, {}), (self.rec(cid), -amount, cur, {})])
        for number, cid, on, cur, left in conn.execute(
            f"""SELECT i.number, i.customer_id, v.date, i.currency, {invoice_open_sql('v.date')}
               FROM voids v JOIN invoices i ON i.id = v.doc_id WHERE v.doc_table = 'invoices' ORDER BY v.date"""):
            code, name = self.customer[cid]
            if left:
                yield (on, name, f"Void of invoice {number}", {"invoice": number, "customer": code, "void": "yes"},
                       [(SALES, left, cur, {}), (self.rec(cid), -left, cur, {})])
        for cid, on, amount, cur, ref in conn.execute(
            """SELECT p.customer_id, v.date, p.amount, p.currency, p.reference FROM voids v
               JOIN payments p ON p.id = v.doc_id WHERE v.doc_table = 'payments' ORDER BY v.date"""):
            code, name = self.customer[cid]
            yield (on, name, f"Void of payment {ref or ''}".strip(), {"customer": code, "void": "yes"},
                   [(self.una(cid), amount, cur, {}), (BANK, -amount, cur, {})])
        yield from self.exchange_differences()

    def exchange_differences(self):
        """fx-realised's rows over the whole book, each as the transaction the module docstring shows."""
        found = fxread.realised(self.ledger, date.min, date.max)
        base = found["base"]
        for row in found["rows"]:
            if not row["difference"]:
                continue
            cid, cur, amount = self.by_code[row["customer"]], row["currency"], row["amount"]
            tags = {"invoice": row["invoice"], "customer": row["customer"],
                    **({"payment": row["payment"]} if row["payment"] else {})}
            narration = (f"Exchange difference {row['invoice']}: {money.to_decimal_str(amount, cur)} {cur} "
                         f"booked at {fx.rate_text(row['invoice_rate'])} on {row['invoice_date']}, "
                         f"received at {fx.rate_text(row['payment_rate'])}")
            yield (row["date"], self.customer[cid][1], narration, tags,
                   [(self.rec(cid), amount, cur, {}, (row["received"], base)),
                    (self.rec(cid), -amount, cur, {}, (-row["booked"], base)),
                    (EXCHANGE, -row["difference"], base, {})])


def _cost(cost: list) -> str:
    """A posting's total cost as both journals write it (`@@`, always positive: its sign is the amount's)."""
    if not cost:
        return ""
    minor, cur = cost[0]
    return f" @@ {money.to_decimal_str(abs(minor), cur)} {cur}"


def _hledger_text(text: str) -> str:
    # names come from people and files: control characters become visible escapes (safetext), never raw
    return " ".join(safetext.terminal_text(str(text)).replace(";", ",").split())


def export_hledger(ledger, path, progress=None) -> str:
    """An hledger journal (ledger-cli reads it too). `progress(done, total)` is told how many transactions are
    written."""
    target = _target(path)
    entries = _Entries(ledger, beancount=False)
    tick = _Ticks(progress, entries.expected())
    count = 0
    with _writing(target, encoding="utf-8") as fh:
        fh.write("; Duly export (plaintext). Balance of a customer = Assets:Receivable:<CODE> + "
                 "Liabilities:Unapplied:<CODE>\n\n")
        for account in entries.accounts():
            fh.write(f"account {account}\n")
        fh.write("\n")
        for cur, on, rate, base in _prices(ledger):  # `hledger bal -X CNY` values at these rates
            fh.write(f"P {on} {cur} {rate} {base}\n")
        fh.write("\n")
        for on, payee, narration, tags, postings in entries:
            fh.write(f"{on} * {_hledger_text(payee)} | {_hledger_text(narration)}\n")
            for key, value in tags.items():
                fh.write(f"    ; {key}: {_hledger_text(value)}\n")
            for account, amount, cur, meta, *cost in postings:
                note = "".join(f"  ; {k}: {_hledger_text(v)}" for k, v in meta.items())
                fh.write(f"    {account}  {money.to_decimal_str(amount, cur)} {cur}{_cost(cost)}{note}\n")
            fh.write("\n")
            count += 1
            tick()
    tick.end()
    return Said(N_("{target} ({count} transactions, hledger journal)"), target=str(target), count=count)


def _prices(ledger):
    """The exchange rates (`duly rate`) as the journals' price directives: currency, date, rate, base."""
    base = home_currency(ledger)
    return [(r["currency"], r["date"], r["rate"], base) for r in fxread.rates(ledger)]


def _bean_string(text: str) -> str:
    text = safetext.terminal_text(str(text))  # as in _hledger_text: no raw control characters
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def export_beancount(ledger, path, progress=None) -> str:
    """A beancount file; `progress` as for export_hledger."""
    target = _target(path)
    entries = _Entries(ledger, beancount=True)
    tick = _Ticks(progress, entries.expected())
    first = ledger.conn.execute(
        "SELECT min(d) FROM (SELECT min(date) AS d FROM invoices UNION ALL SELECT min(date) FROM payments "
        "UNION ALL SELECT min(date) FROM credit_notes)").fetchone()[0] or date.today().isoformat()
    currencies = entries.currencies()
    count = 0
    with _writing(target, encoding="utf-8") as fh:
        fh.write("; Duly export (plaintext). Balance of a customer = Assets:Receivable:<CODE> + "
                 "Liabilities:Unapplied:<CODE>\n")
        fh.write('option "title" "Duly receivables"\n')
        for cur in currencies:
            fh.write(f'option "operating_currency" "{cur}"\n')
        fh.write("\n")
        for cur in currencies:
            fh.write(f"{first} commodity {cur}\n")
        for account in entries.accounts():
            fh.write(f"{first} open {account}\n")
        fh.write("\n")
        for cur, on, rate, base in _prices(ledger):
            fh.write(f"{on} price {cur} {rate} {base}\n")
        fh.write("\n")
        for on, payee, narration, tags, postings in entries:
            fh.write(f"{on} * {_bean_string(payee)} {_bean_string(narration)}\n")
            for key, value in tags.items():
                fh.write(f"  {key}: {_bean_string(value)}\n")
            for account, amount, cur, meta, *cost in postings:
                fh.write(f"  {account}  {money.to_decimal_str(amount, cur)} {cur}{_cost(cost)}\n")
                for k, v in meta.items():
                    fh.write(f"    {k}: {_bean_string(v)}\n")
            fh.write("\n")
            count += 1
            tick()
    tick.end()
    return Said(N_("{target} ({count} transactions, beancount)"), target=str(target), count=count)
