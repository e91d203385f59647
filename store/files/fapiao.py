"""The e-tax platform's issued-invoice export (发票查询统计 → 导出, 数电票 / 全电发票 and older 增值税发票) in.

One row per invoice (the 发票基础信息 sheet): 数电票号码 (20 digits) or 发票代码 + 发票号码, 开票日期, 购买方名称,
购买方纳税人识别号, 金额 (before tax), 税额, 价税合计 (the total), 税率, 发票状态 (正常 / 已作废 / 已红冲 / 部分红冲),
备注; other columns (序号, 销方识别号, 开票人, 发票来源 ...) are read and left alone. The file is read by the importer's
own tabular reading (CSV in UTF-8 or GBK/GB18030, XLSX; a title row above the header is skipped).

What each row becomes:
- 正常 (and 已红冲 / 部分红冲: issued, then reversed by a red-letter invoice of its own) with a positive total: an
  invoice whose number is the fapiao's number (数电票号码, or 发票代码-发票号码), its e-invoice number the 数电票号码,
  one line with 金额 as the amount before tax and 税额 as its tax, exactly as the platform rounded it;
- a red-letter invoice (红字, negative amounts): a credit note for its total against the invoice it reverses
  (数电票号码 / 发票代码+号码 in a 蓝字发票号码 column, or in 备注 as the platform writes it), when that invoice is
  in the ledger or the same file; otherwise an unapplied credit for the buyer;
- 已作废: an invoice already in the ledger is voided; one that is not is skipped (it was never valid).
金额 + 税额 must equal 价税合计 to the cent. The buyer is the customer whose tax id is 购买方纳税人识别号, else the
one whose name is 购买方名称 (and which has no other tax id); buyers that are no customer are listed and the file is
refused, so nothing is guessed. All rows or none, in one transaction. Re-importing adds nothing: an invoice is
known by its number or e-invoice number, a credit note by the red-letter number in its reason (both synced), so a
later export that overlaps an earlier one adds only the new rows.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from store.errors import InvalidInput, Said, joined
from store.files import importer
from store.files.importer import Doc, ImportProblems, Table
from store.rules import money, validate
from store.write import adjustments, invoices
from store.i18n import N_

CURRENCY = "CNY"  # a fapiao is in yuan

COLUMNS = {
    "einvoice": ("数电票号码", "数电发票号码", "全电发票号码", "电子发票号码", "数电票号", "einvoice"),
    "code": ("发票代码", "invoice_code"),
    "number": ("发票号码", "invoice_number"),
    "date": ("开票日期", "开票时间", "date"),
    "buyer": ("购买方名称", "购方名称", "购货方名称", "购买方", "buyer", "buyer_name"),
    "buyer_tax_id": ("购买方纳税人识别号", "购方识别号", "购买方识别号", "购方纳税人识别号", "购方税号", "购买方税号",
                     "购买方统一社会信用代码/纳税人识别号", "buyer_tax_id"),
    "net": ("金额", "合计金额", "不含税金额", "net", "amount"),
    "tax": ("税额", "合计税额", "tax"),
    "total": ("价税合计", "价税合计金额", "total"),
    "tax_rate": ("税率", "税率/征收率", "征收率", "tax_rate"),
    "status": ("发票状态", "status"),
    "original": ("蓝字发票号码", "对应蓝字发票号码", "对应蓝字数电票号码", "原发票号码", "被红冲蓝字数电票号码",
                 "original"),
    "remark": ("备注", "remark"),
    "void_date": ("作废日期", "作废时间"),
    "item": ("货物或应税劳务名称", "货物或应税劳务、服务名称", "项目名称", "商品名称", "item"),
}
REQUIRED = ("date", "buyer", "net", "tax", "status")
ISSUED = ("正常", "已红冲", "部分红冲", "全额红冲", "已部分红冲", "已全额红冲", "normal")
VOIDED = ("已作废", "作废", "voided")
# How the platform names the invoice a red-letter one reverses in 备注.
_BLUE_EINVOICE = re.compile(r"(?:蓝字|原)[^0-9]{0,20}?(\d{20})(?!\d)")
_BLUE_OLD = re.compile(r"(?:正数|蓝字|原)?发票代码\s*[:：]?\s*(\d{10,12})\s*[,，;；\s]*(?:发票)?号码\s*[:：]?\s*(\d{8})")
_RED_IN_REASON = re.compile(r"红字发票 (\S+)")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def _header_row(table: Table) -> int:
    """Skip a title row (e.g. 发票基础信息 / 导出时间) above the real header row, in the first 20 rows."""
    keys = {importer._key(a) for a in COLUMNS["date"]}

    def is_header(cells):
        return any(importer._key(c) in keys for c in cells)

    if is_header(table.headers):
        return 1
    for index, (number, cells) in enumerate(table.rows[:20]):
        if is_header(cells):
            table.headers = cells
            del table.rows[: index + 1]
            return number
    return 1


def map_columns(table: Table, header_line: int = 1) -> list[str]:
    """Each known column by its header; other columns are left alone (the export has many)."""
    aliases = {importer._key(a): name for name, names in COLUMNS.items() for a in names}
    problems = []
    for index, header in enumerate(table.headers):
        name = aliases.get(importer._key(header))
        if name is None:
            continue
        if name in table.columns:
            where = Said(N_("{place}, column {name}"), place=table.where(header_line), name=f'"{header.strip()}"')
            problems.append(Said(N_('{where}: names the same field ({name}) as column "{other}"'), where=where,
                                 name=name, other=table.headers[table.columns[name]].strip()))
        else:
            table.columns[name] = index
    missing = [n for n in REQUIRED if n not in table.columns]
    if not ({"einvoice", "number"} & set(table.columns)):
        missing.insert(0, "einvoice")
    if missing:
        wanted = ", ".join("/".join(COLUMNS[n][:2]) for n in missing)
        problems.append(Said(N_("{source}: not a fapiao export of the e-tax platform: the column(s) {wanted} are "
                                "missing (found: {found})"), source=table.source, wanted=wanted,
                             found=", ".join(h.strip() for h in table.headers if h.strip())))
    return problems


# --- what the check needs to know -------------------------------------------------------------------------


@dataclass
class Known:
    customers: list[dict] = field(default_factory=list)
    invoices: dict[str, dict] = field(default_factory=dict)  # number or e-invoice number -> invoice
    credited: set[str] = field(default_factory=set)  # red-letter numbers that already have their credit note

    _tax_ids: dict[str, list[dict]] | None = None
    _names: dict[str, list[dict]] | None = None

    def _index(self) -> None:
        self._tax_ids, self._names = {}, {}
        for c in self.customers:
            if c["tax_id"]:
                self._tax_ids.setdefault(c["tax_id"].strip().upper(), []).append(c)
            for key in {validate.name_key(c["name"] or ""), validate.name_key(c["legal_name"] or "")} - {""}:
                self._names.setdefault(key, []).append(c)

    def by_tax_id(self, tax_id: str) -> list[dict]:
        if self._tax_ids is None:
            self._index()
        return self._tax_ids.get(tax_id.strip().upper(), [])

    def by_name(self, name: str) -> list[dict]:
        if self._names is None:
            self._index()
        return self._names.get(validate.name_key(name), []) if validate.name_key(name) else []


def known(ledger, table: Table) -> Known:
    found = Known()
    found.customers = ledger.rows("SELECT id, code, name, legal_name, tax_id, archived FROM customers")
    wanted = set()
    for _, cells in table.rows:
        for name in ("einvoice", "original"):
            if table.value(cells, name):
                wanted.add(table.value(cells, name).replace(" ", ""))
        code, number = table.value(cells, "code"), table.value(cells, "number")
        if number:
            wanted.add(f"{code}-{number}" if code else number)
        for match in _BLUE_EINVOICE.finditer(table.value(cells, "remark")):
            wanted.add(match.group(1))
        for match in _BLUE_OLD.finditer(table.value(cells, "remark")):
            wanted.add(f"{match.group(1)}-{match.group(2)}")
    numbers = sorted(wanted)
    for start in range(0, len(numbers), 400):
        chunk = numbers[start:start + 400]
        marks = ",".join("?" * len(chunk))
        for r in ledger.rows(
            f"""SELECT i.id, i.number, i.einvoice, i.date, i.total, i.currency, c.code AS customer,
                  EXISTS (SELECT 1 FROM voids v WHERE v.doc_table='invoices' AND v.doc_id=i.id) AS voided
                FROM invoices i LEFT JOIN customers c ON c.id = i.customer_id
                WHERE i.number IN ({marks}) OR i.einvoice IN ({marks})""", chunk + chunk):
            for key in (r["number"], r["einvoice"]):
                if key:
                    found.invoices[key] = r
    for r in ledger.rows("SELECT reason FROM credit_notes WHERE reason LIKE '红字发票 %'"):
        if match := _RED_IN_REASON.match(r["reason"] or ""):
            found.credited.add(match.group(1))
    return found


# --- the check (pure) --------------------------------------------------------------------------------------


def _day(text: str) -> str:
    match = _DATE.match((text or "").strip())
    if not match:
        raise InvalidInput(N_("{text} is not a date (expected e.g. 2026-03-05 or 2026年03月05日)"),
                           text=repr(text), field="date")
    return validate.iso_date("-".join(match.groups()), "invoice date")


def _amount(text: str, what: str) -> int:
    if not (text or "").strip():
        raise InvalidInput(N_("{what} is empty (expected an amount in yuan, e.g. 1000.00)"), what=what, field=what)
    return money.parse_amount(text.replace("元", ""), CURRENCY, field=what, allow_negative=True)


def _rate(text: str) -> int:
    """'13%' / '0.13' / '13' -> 1300 basis points; 免税, 不征税, *** or empty -> 0 (the stated tax is what counts)."""
    raw = (text or "").strip().rstrip("%")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return 0
    if value < 1:
        value *= 100
    return int(value * 100) if 0 <= value <= 100 else 0


def _yuan(minor: int) -> str:
    return money.to_decimal_str(minor, CURRENCY)


def _original(table: Table, cells: list[str]) -> str:
    """The number of the invoice a red-letter one reverses: its own column, else what 备注 says."""
    given = table.value(cells, "original").replace(" ", "")
    if given:
        return given
    remark = table.value(cells, "remark")
    if match := _BLUE_EINVOICE.search(remark):
        return match.group(1)
    if match := _BLUE_OLD.search(remark):
        return f"{match.group(1)}-{match.group(2)}"
    return ""


def check(table: Table, known: Known, unknown: dict | None = None) -> tuple[list[Doc], list[str]]:
    """What each row becomes, and the problems. `unknown` (given by a caller that lists them) is filled with
    the buyers that are no customer: (buyer name, tax id) -> the lines they are on."""
    rows = importer._Rows(table, "fapiao")
    docs: list[Doc] = []
    numbers: dict[str, int] = {}
    unknown = {} if unknown is None else unknown  # (buyer name, tax id) -> lines
    issued_here: dict[str, str] = {}  # fapiao number -> customer code, for red-letter rows of the same file
    red: list[tuple[Doc, str]] = []  # red-letter rows and the number they reverse, resolved after every row
    for line, cells in table.rows:
        raw = {name: table.value(cells, name) for name in table.columns}
        if not any(raw.get(n) for n in ("einvoice", "number", "date")):
            continue  # a note or a 合计 row below the table
        old = not raw.get("einvoice")
        if not old:
            number = rows.field(line, "einvoice", invoices.einvoice_number, raw["einvoice"])
        elif raw.get("number"):
            code, bare = raw.get("code", "").replace(" ", ""), raw["number"].replace(" ", "")
            number = rows.field(line, "number", invoices.invoice_number, f"{code}-{bare}" if code else bare)
        else:
            rows.problem(line, "einvoice" if "einvoice" in table.columns else "number",
                         Said(N_("the fapiao number is empty (expected the 20-digit 数电票号码, or 发票代码 and 发票号码)")))
            continue
        on = rows.field(line, "date", _day, raw.get("date", ""))
        net = rows.field(line, "net", _amount, raw.get("net", ""), "金额")
        tax = rows.field(line, "tax", _amount, raw.get("tax", ""), "税额")
        total = rows.field(line, "total", _amount, raw["total"], "价税合计") if raw.get("total") else None
        if None in (number, on, net, tax) or (raw.get("total") and total is None):
            continue
        if total is None:
            total = net + tax
        elif net + tax != total:
            rows.problem(line, "total", Said(N_("价税合计 {total} is not 金额 {net} + 税额 {tax} = {sum} (expected them "
                                                "to add up to the cent)"), total=_yuan(total), net=_yuan(net),
                                             tax=_yuan(tax), sum=_yuan(net + tax)))
            continue
        if total == 0:
            rows.problem(line, "total", Said(N_("价税合计 is zero (expected an invoice with an amount)")))
            continue
        if (net < 0) != (total < 0) or (tax and (tax < 0) != (total < 0)):
            rows.problem(line, "tax", Said(N_("金额 {net} and 税额 {tax} have different signs (expected both positive, "
                                              "or both negative on a red-letter invoice)"), net=_yuan(net), tax=_yuan(tax)))
            continue
        if number in numbers:
            rows.problem(line, "einvoice" if not old else "number",
                         Said(N_("fapiao {number} is already on line {first} of this file (expected one row per "
                                 "invoice: export 发票基础信息, not the line-item sheet)"), number=number,
                              first=numbers[number]))
            continue
        numbers[number] = line
        status = re.sub(r"\s+", "", raw.get("status", "")).lower()
        if status not in ISSUED and status not in VOIDED:
            rows.problem(line, "status", Said(N_("发票状态 {status} is not one Duly imports (expected 正常, 已作废, 已红冲 "
                                                 "or 部分红冲)"), status=repr(raw.get("status", ""))))
            continue
        label = f"{number} {_yuan(total)}"
        # one row in import_log per fapiao and state: voiding it later keeps the record of the invoice it became
        fp = importer.fingerprint("fapiao", {"number": number, "voided": status in VOIDED}, 1)
        there = known.invoices.get(number)
        if status in VOIDED:
            if there is None or there["voided"]:
                detail = (Said(N_("already voided")) if there
                          else Said(N_("voided on the platform (已作废); not in the ledger, not imported")))
                docs.append(Doc(line, "skip", label, {}, fp, detail))
            else:
                when = on
                if raw.get("void_date"):
                    when = rows.field(line, "void_date", _day, raw["void_date"])
                    if when is None:
                        continue
                docs.append(Doc(line, "void", label, {"number": there["number"], "date": max(when, there["date"])},
                                fp, Said(N_("voided on the platform (已作废): voids invoice {number}"), number=there["number"])))
            continue
        customer = _buyer(rows, known, line, raw, unknown)
        if customer is None:
            continue
        if total < 0:
            if number in known.credited:
                docs.append(Doc(line, "skip", label, {}, fp, Said(N_("credit note already there"))))
                continue
            red.append((Doc(line, "credit", label, {
                "customer": customer["code"], "date": on, "amount": _yuan(-total), "invoice": None,
                "reason": f"红字发票 {number}"}, fp), _original(table, cells)))
            continue
        if there is not None:
            same = (there["customer"], there["date"], there["total"]) == (customer["code"], on, total)
            if same:
                docs.append(Doc(line, "skip", label, {}, fp, Said(N_("already there as invoice {number}"),
                                                                number=there["number"])))
            else:
                rows.problem(line, "einvoice" if not old else "number",
                             Said(N_("fapiao {number} is already invoice {invoice} of {customer} dated {date}, "
                                     "{amount} {currency} (expected the same buyer, date and 价税合计)"), number=number,
                                  invoice=there["number"], customer=there["customer"], date=there["date"],
                                  amount=_yuan(there["total"]), currency=there["currency"]))
            continue
        issued_here[number] = customer["code"]
        item = raw.get("item") or (f"数电票 {number}" if not old else f"发票 {number}")
        docs.append(Doc(line, "add", label, {
            "customer": customer["code"], "date": on, "number": number, "einvoice": None if old else number,
            "line": invoices.Line(item, "1", net, _rate(raw.get("tax_rate", "")), stated_tax=tax)}, fp,
            f"{customer['code']}: 金额 {_yuan(net)} + 税额 {_yuan(tax)}"))
    for doc, blue in red:
        if _reverse(rows, known, issued_here, doc, blue):
            docs.append(doc)
    docs.sort(key=lambda d: d.line)
    for (name, tax_id), lines in unknown.items():
        first, *more = lines
        also_on = ((N_(" (also on rows {lines})"), N_(" (also on row {lines})")) if table.xlsx
                   else (N_(" (also on lines {lines})"), N_(" (also on line {lines})")))[len(more) == 1]
        also = Said(also_on, lines=", ".join(map(str, more))) if more else ""
        column = "buyer" if "buyer" in table.columns else "buyer_tax_id"
        shown = f"{name or '-'}" + (f" (纳税人识别号 {tax_id})" if tax_id else "")
        rows.problem(first, column, Said(N_("buyer {buyer} is not a customer{also}: add it ({add}) or give an "
                                            "existing customer this tax id ({edit})"), buyer=shown, also=also,
                                         add=f"`duly customer add CODE --name \"{name}\"{' --tax-id ' + tax_id if tax_id else ''}`",
                                         edit=f"`duly customer edit CODE --tax-id {tax_id or 'ID'}`"))
    return docs, rows.problems


def _reverse(rows, known: Known, issued_here: dict[str, str], doc: Doc, blue: str) -> bool:
    """Point a red-letter row's credit note at the invoice it reverses (in the ledger or the file); False after
    a problem."""
    f = doc.fields
    against = known.invoices.get(blue) if blue else None
    if blue and against is None and blue in issued_here:
        against = {"number": blue, "customer": issued_here[blue], "voided": False}
    if against is not None and against["customer"] != f["customer"]:
        rows.problem(doc.line, "buyer", Said(N_("red-letter invoice {number} reverses {blue}, which is customer "
                                                "{owner}'s, not {code}'s (expected the same buyer)"),
                                             number=doc.key.split()[0], blue=blue, owner=against["customer"],
                                             code=f["customer"]))
        return False
    if blue:
        f["reason"] += f" 冲销 {blue}"
    if against is not None and not against["voided"]:
        f["invoice"] = against["number"]
        doc.detail = Said(N_("credit note against invoice {number}"), number=against["number"])
    elif against is not None:
        doc.detail = Said(N_("credit note left unapplied: invoice {number}, which it reverses, is voided"),
                          number=against["number"])
    elif blue:
        doc.detail = Said(N_("credit note left unapplied: the invoice it reverses ({number}) is not in the ledger"),
                          number=blue)
    else:
        doc.detail = Said(N_("credit note left unapplied: the invoice it reverses is not named (no 蓝字发票号码 in 备注)"))
    return True


def _buyer(rows, known: Known, line: int, raw: dict, unknown: dict) -> dict | None:
    """The customer by tax id first, then by name (only a customer with no other tax id); None after a problem."""
    tax_id = raw.get("buyer_tax_id", "").replace(" ", "").upper()
    name = raw.get("buyer", "").strip()
    found = known.by_tax_id(tax_id) if tax_id else []
    column = "buyer_tax_id"
    if not found and name:
        found = [c for c in known.by_name(name)
                 if not tax_id or not c["tax_id"] or c["tax_id"].strip().upper() == tax_id]
        column = "buyer"
    if not found:
        unknown.setdefault((name, tax_id), []).append(line)
        return None
    if len(found) > 1:
        codes = ", ".join(c["code"] for c in found)
        rows.problem(line, column, Said(N_("buyer {buyer} matches several customers ({codes}) (expected one: give one "
                                           "of them the buyer's tax id, or archive the duplicates)"),
                                        buyer=name or tax_id, codes=codes))
        return None
    if found[0]["archived"]:
        rows.problem(line, column, Said(N_("buyer {buyer} is customer {code}, which is archived (expected an active "
                                           "customer: restore it first)"), buyer=name or tax_id, code=found[0]["code"]))
        return None
    return found[0]


# --- posting: one transaction ------------------------------------------------------------------------------


# invoices first, so a red-letter invoice finds the invoice it reverses when both are in the file
_ORDER = {"add": 0, "void": 1, "credit": 2}


def _post_invoices(ledger, docs: list[Doc], issuing: invoices.Issuing) -> list[tuple[str, str, str]]:
    """A run of invoices through invoices.add_many: the rules of invoices.add, one executemany per table. One
    `issuing` for every run of the file, so each buyer's customer record is read once, not once a batch."""
    batch = [{"customer_code": f["customer"], "invoice_date": f["date"], "lines": [f["line"]], "number": f["number"],
              "currency": CURRENCY, "einvoice": f["einvoice"]} for f in (doc.fields for doc in docs)]
    return [("invoices", issued.id, joined(issued.warnings))
            for issued in invoices.add_many(ledger, batch, issuing)]


def _post(ledger, doc: Doc) -> tuple[str, str, str]:
    f = doc.fields
    if doc.action == "add":
        issued = invoices.add(ledger, f["customer"], f["date"], lines=[f["line"]], number=f["number"],
                              currency=CURRENCY, einvoice=f["einvoice"])
        return "invoices", issued.id, joined(issued.warnings)
    if doc.action == "void":
        return "voids", invoices.void(ledger, f["number"], "发票已作废 (e-tax platform)", on=f["date"]), ""
    credit = adjustments.add_credit(ledger, f["customer"], f["date"], f["amount"], f["reason"],
                                    invoice_number=f["invoice"], currency=CURRENCY)
    doc.key = f"{doc.key} → {credit.number}"
    return "credit_notes", credit.id, ""


def run(ledger, path: str | Path, *, dry_run: bool = False) -> importer.Outcome:
    """Import a fapiao export: all rows in one transaction or nothing (ImportProblems names each problem).
    A dry run with problems returns them instead of raising."""
    table = importer.read_table(path)
    problems = map_columns(table, _header_row(table))
    docs: list[Doc] = []
    unknown: dict[tuple[str, str], list[int]] = {}
    if not problems:
        docs, problems = check(table, known(ledger, table), unknown)
    outcome = importer.Outcome("fapiao", table.source, table.encoding, dry_run, docs, problems)
    outcome.unknown_buyers = [{"name": name, "tax_id": tax_id, "lines": lines}
                              for (name, tax_id), lines in unknown.items()]
    if problems:
        if dry_run:
            return outcome
        raise ImportProblems(problems)
    issuing = invoices.Issuing(ledger)
    return importer.write_all(ledger, table, outcome, _post, order=lambda d: (_ORDER[d.action], d.line),
                              post_many=lambda led, docs: _post_invoices(led, docs, issuing),
                              batchable=lambda d: d.action == "add")
