"""Import customers, invoices and payments from a CSV or XLSX file (DESIGN §5, §6).

Three steps, so that a file is all rows or none:
1. read: the file becomes a Table of text cells with their line numbers (CSV in UTF-8 with or without a
   BOM, UTF-16 with a BOM, or GBK/GB18030, detected; XLSX: the first sheet). Headers are the JSON field
   names or the usual Chinese headers (客户编号, 金额, 到期日 ...).
2. check (pure, no I/O): every row is validated against what the ledger already holds (a `Known`
   snapshot read beforehand) and becomes a `Doc` to add, update or skip. Every problem names the file,
   the line, the column, the value and what was expected; all of them are collected.
3. post: one `ledger.writing()` transaction calls the store's own write functions (customers.add,
   invoices.add, payments.add ...) for each Doc, so their rules apply unchanged; any error rolls back
   the whole file. `dry_run` runs the same transaction and rolls it back.

Re-importing a file adds nothing. How a row is recognised as already there:
- customers: by code; an existing code with the same fields is skipped, with other fields it is updated
  (only the columns the file fills);
- invoices: by number (numbers are unique in a ledger): the same number for the same customer, date, total
  and currency is skipped, any other use of the number is an error; a row without a number by the
  fingerprint of its source row (below);
- payments: by the fingerprint of the source row, and a payment with a reference is also skipped when the
  ledger already has one of the same customer, date, amount, currency and reference (entered by hand or
  synced from another device).
The fingerprint is the first 16 bytes of a SHA-256 of the row's normalised values and of how many identical rows
came before it in the same file (two identical cash payments on one day stay two); the local table `import_log`
keeps each imported row's fingerprint with the document it became.
"""
from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from itertools import islice
from operator import itemgetter
from typing import Callable, Iterable, Iterator

from store.ledger import db, schema
from store.read import open as openitems
from store.rules import money, safetext, validate
from store.read.openbook import OpenBook
from store.write import adjustments, customers, invoices, payments, terms as termsbook
from store.errors import DulyError, InvalidInput, Said, joined, os_reason
from store.rules.terms import BUILTIN_TERMS, terms_name
from store.i18n import N_

# --- the columns of each kind ------------------------------------------------------------------------

CUSTOMER_COLUMNS = {
    "code": ("客户编号", "客户编码", "客户代码", "编号", "代码", "customer_code"),
    "name": ("客户名称", "名称", "客户名", "公司名称"),
    "legal_name": ("法定名称", "全称", "公司全称", "开票名称"),
    "tax_id": ("税号", "纳税人识别号", "统一社会信用代码", "信用代码"),
    "address": ("地址", "公司地址"),
    "email": ("邮箱", "电子邮件", "邮件", "e-mail"),
    "phone": ("电话", "联系电话", "手机", "手机号"),
    "language": ("语言",),
    "currency": ("币种", "货币", "币别"),
    "terms": ("账期", "付款条件", "付款条款", "结算条件"),
    "credit_limit": ("信用额度", "额度"),
    "category": ("类别", "分类", "客户类别", "客户等级"),
    "settlement_cycle": ("结算周期", "结算方式"),
    "tags": ("标签",),
    "notes": ("备注", "说明"),
    "archived": ("已归档", "归档", "停用"),
}
_CUSTOMER = ("客户", "客户编号", "客户编码", "客户代码", "customer_code")
INVOICE_COLUMNS = {
    "number": ("发票号", "发票号码", "单号", "单据号", "编号"),
    "customer": _CUSTOMER,
    "date": ("日期", "发票日期", "开票日期"),
    "due_date": ("到期日", "到期日期", "应收日期", "due"),
    # 金额 is the total of a plain file; beside 价税合计 or 税额 it is the amount before tax (see _tax_columns)
    "amount": ("金额",),
    "total": ("价税合计", "含税金额", "总额", "合计金额"),
    "net": ("不含税金额", "净额", "net_amount", "subtotal"),
    "tax": ("税额", "tax_amount"),
    "tax_rate": ("税率", "征收率"),
    "currency": ("币种", "货币", "币别"),
    "terms": ("账期", "付款条件", "付款条款"),
    "description": ("摘要", "说明", "描述", "内容"),
    "contract": ("合同号", "合同编号", "合同"),
    "einvoice": ("数电票号码", "电子发票号码", "全电发票号码"),
    # what `duly export csv` writes: the invoice's lines as JSON, [[description, qty, unit price, tax basis points,
    # tax], ...]; the amount is then their total with tax
    "lines": ("明细",),
}
PAYMENT_COLUMNS = {
    "customer": _CUSTOMER,
    "date": ("日期", "收款日期", "到账日期", "付款日期"),
    "amount": ("金额", "收款金额", "到账金额"),
    "currency": ("币种", "货币", "币别"),
    "method": ("付款方式", "收款方式", "支付方式", "结算方式"),
    "reference": ("参考号", "流水号", "交易流水号", "凭证号", "银行流水号", "ref"),
    "note": ("摘要", "备注", "说明"),
    "invoice": ("发票号", "发票号码", "核销发票", "allocate", "allocations"),
}
# The other documents `duly export csv` writes, so that an export imported into a new ledger is the same book.
TERMS_COLUMNS = {"name": ("名称", "账期名称"), "lines": ("明细",), "discount_bp": (), "discount_days": (),
                 "late_interest_bp": (), "archived": ("已归档",)}
CREDIT_COLUMNS = {"number": ("红字发票号", "贷项通知单号"), "customer": _CUSTOMER, "date": ("日期",), "amount": ("金额",),
                  "currency": ("币种", "货币", "币别"), "invoice": ("发票号", "发票号码", "原发票号"),
                  "reason": ("原因", "摘要", "备注")}
WRITEOFF_COLUMNS = {"invoice": ("发票号", "发票号码"), "customer": _CUSTOMER, "date": ("日期", "核销日期"),
                    "amount": ("金额",), "currency": ("币种", "货币", "币别"), "reason": ("原因", "摘要", "备注")}
VOID_COLUMNS = {"document": ("单据类型",), "ref": ("单号", "发票号", "收款单号"), "date": ("日期", "作废日期"),
                "reason": ("原因", "摘要", "备注")}

# In a payment's invoice column: keep the payment unapplied (an empty cell applies it oldest due first).
NO_ALLOCATION = ("-", "none", "无", "不核销")
# Columns a spreadsheet often carries that the import does not need (read, then left alone).
IGNORED = ("customer_name", "客户名称", "客户名", "open", "未收金额", "status", "状态", "id")


def _key(header: str) -> str:
    """'Due Date ' / 'due-date' / '金额（元）' -> 'due_date' / 'due_date' / '金额'."""
    text = (header or "").replace("\ufeff", "").strip()
    text = re.sub(r"\s*[（(][^()（）]*[)）]\s*$", "", text)
    return re.sub(r"[\s\-]+", "_", text.lower())


# --- reading a file ----------------------------------------------------------------------------------


@dataclass
class Table:
    """The cells of a file as text, with where each came from."""

    source: str  # the file as the user named it
    encoding: str  # 'UTF-8', 'UTF-8 with BOM', 'GB18030/GBK', 'UTF-16', 'XLSX'
    headers: list[str]
    rows: Iterable[tuple[int, list[str]]]  # (line or row number, cells): a list, or a stream read as it is used
    columns: dict[str, int] = field(default_factory=dict)  # field -> index, set by `map_columns`
    expected: int = 0  # about how many data rows a stream holds (for progress; 0: not known)

    @property
    def xlsx(self) -> bool:
        """A workbook (XLSX, XLS or ODS): places are rows and column letters."""
        return self.encoding in ("XLSX", "XLS", "ODS")

    def values_of(self) -> Callable[[list[str]], dict[str, str]]:
        """A function from a row's cells to {field: cell as `value` gives it} for every mapped column (made once
        per batch: the columns are known by then)."""
        names, where = list(self.columns), list(self.columns.values())
        if not names:
            return lambda cells: {}
        width = max(where) + 1
        pick = itemgetter(*where) if len(where) > 1 else (lambda cells: (cells[where[0]],))

        def values(cells: list[str]) -> dict[str, str]:
            if len(cells) < width:
                cells = cells + [""] * (width - len(cells))
            return dict(zip(names, map(str.strip, pick(cells))))
        return values

    def value(self, cells: list[str], name: str) -> str:
        index = self.columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    def where(self, line: int, name: str | None = None) -> Said:
        """A place in the file, said in each language ("a.csv line 3, column "金额" (amount)")."""
        place = (Said(N_("{source} row {line}"), source=self.source, line=line) if self.xlsx
                 else Said(N_("{source} line {line}"), source=self.source, line=line))
        if name is None or name not in self.columns:
            return place if name is None else Said(N_("{place}, column {name}"), place=place, name=name)
        index = self.columns[name]
        header = self.headers[index].strip()
        letter = f"{_letters(index)} " if self.xlsx else ""
        named = f'"{header}"' + (f" ({name})" if _key(header) != name else "")
        return Said(N_("{place}, column {name}"), place=place, name=f"{letter}{named}")


def _letters(index: int) -> str:
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


SNIFF_CHARS = 4096


def decode(data: bytes, source: str) -> tuple[str, str]:
    """(text, encoding name) of a CSV file: UTF-8 (BOM or not), UTF-16 with BOM, else GB18030 (GBK's superset)."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="strict"), "UTF-8 with BOM"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "UTF-16"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError as utf8_error:
        line = data[: utf8_error.start].count(b"\n") + 1
        # Chinese text that is valid UTF-8 before the bad byte says the file was written as UTF-8 and a part
        # in another encoding was put in (rows pasted from a GBK export): read as GBK, every UTF-8 name before
        # it would become mojibake. A GBK file almost never starts with three such characters by chance.
        before = data[: utf8_error.start].decode("utf-8")
        if sum(1 for ch in before if ord(ch) >= 0x800) >= 3:
            raise InvalidInput(
                N_("{source} line {line}: byte 0x{value} is not UTF-8, though the text before it is UTF-8 (expected "
                   "one encoding for the whole file: save it again as UTF-8)"),
                source=source, line=line, value=format(data[utf8_error.start], '02x'), field="file") from None
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise InvalidInput(
                N_("{source} line {line}: byte 0x{value} is neither UTF-8 nor GBK/GB18030 text (expected a CSV "
                   "saved as UTF-8 or GBK)"), source=source, line=line,
                value=format(data[utf8_error.start], '02x'), field="file") from None
        _refuse_unlikely_gbk(text, source)
        return text, "GB18030/GBK"


def _unlikely_in_gbk(ch: str) -> bool:
    """A character a Chinese GBK file rarely holds: outside GB2312, or kana / Greek / Cyrillic (rows A4-A7)."""
    try:
        encoded = ch.encode("gb2312")
    except UnicodeEncodeError:
        return True
    return 0xA4 <= encoded[0] <= 0xA7


def _refuse_unlikely_gbk(text: str, source: str) -> None:
    """GB18030 decodes almost any bytes, so a Latin-1 file ('Müller' -> 'M黮ler') or a Big5 one ('台北' -> '禩')
    reads "successfully" as nonsense. Real GBK text is mostly GB2312 characters; when most of the non-ASCII
    characters are not, the file is refused at the first such character rather than imported as nonsense.
    (A GBK file whose only Chinese is one rare character is refused too: saving it as UTF-8 settles it.)"""
    wide = [ch for ch in text if ord(ch) > 0x7F]
    odd = sum(1 for ch in wide if _unlikely_in_gbk(ch))
    if not wide or odd * 2 <= len(wide):
        return
    for number, line in enumerate(text.split("\n"), start=1):
        at = next((i for i, ch in enumerate(line) if ord(ch) > 0x7F and _unlikely_in_gbk(ch)), None)
        if at is None:
            continue
        delimiter = max((",", ";", "\t"), key=text.split("\n", 1)[0].count)
        column = line[:at].count(delimiter) + 1
        word = line[max(0, line.rfind(delimiter, 0, at) + 1):].split(delimiter, 1)[0].strip()
        raise InvalidInput(
            N_("{source} line {number}, column {column}: read as GBK this is {word}, which is not Chinese text (a "
               "Latin-1/Windows-1252 or Big5 file?); expected UTF-8 or GBK: save the file as UTF-8"),
            source=source, number=number, column=column, word=repr(word), field="file")


def _cell_text(value) -> str:
    """An XLSX cell as the text a person would have typed."""
    if value is None:
        return ""
    if isinstance(value, bool):  # a TRUE cell is a yes, never an amount of 1
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        # What the cell shows: Excel keeps 15 significant digits, so a formula's binary leftovers
        # (=1000*1.13 stored as 1129.9999999999998) are not read as an amount with too many decimals.
        text = format(value, ".15g")
        return format(Decimal(text), "f") if "e" in text else text
    if isinstance(value, (int, Decimal)):
        return str(value)
    return str(value)


def read_table(path: str | Path) -> Table:
    """The header row and the data rows of a CSV or XLSX file (blank rows left out), all read."""
    table = open_table(path)
    table.rows = list(table.rows)
    return table


# a line as csv reads it from a file opened with newline='': ended by \r\n, \r or \n (or the end of the text)
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def open_table(path: str | Path) -> Table:
    """The header row of a CSV or XLSX file, and its data rows as a stream (blank rows left out): read as the
    import goes, so that memory does not grow with the file. A problem found further on (a quote never closed)
    is raised from the stream."""
    path = Path(path)
    source = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(N_("cannot read {source}: {reason}"), source=source, reason=os_reason(exc),
                           field="file") from None
    if path.suffix.lower() == ".xls" or data.startswith(OLE):
        return _table_of(source, "XLS", xls_rows(data, source))
    if is_ods(path, data):
        return _table_of(source, "ODS", ods_rows(data, source))
    if data.startswith(b"PK\x03\x04") or path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path, data, source)
    text, encoding = decode(data, source)
    del data
    # the sniffer is quadratic in what it reads (a 100 KB header line took minutes): a bounded sample of the
    # header line is enough to tell , from ; from tab
    first = text[:SNIFF_CHARS].split("\n", 1)[0]
    try:
        dialect = csv.Sniffer().sniff(first, delimiters=",;\t") if first else csv.excel
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader((m.group() for m in _LINE.finditer(text)), delimiter=dialect.delimiter, quotechar='"')
    try:
        headers = next(reader, None)
    except csv.Error as exc:
        raise InvalidInput(N_("{source} line {line}: not readable as CSV ({reason})"), source=source, line=1,
                           reason=str(exc), field="file") from None
    if not headers or not any(h.strip() for h in headers):
        raise InvalidInput(N_("{source} line 1: expected a header row (e.g. code,name or 客户编号,客户名称)"), source=source,
                           field="file")
    return Table(source, encoding, headers, _csv_rows(reader, source, headers, dialect.delimiter),
                 expected=text.count("\n"))


def _csv_rows(reader, source: str, headers: list[str], delimiter: str) -> Iterator[tuple[int, list[str]]]:
    last = reader.line_num
    try:
        for cells in reader:
            start, last = last + 1, reader.line_num
            text = "".join(cells)  # blank when every cell is
            if not text.isspace() and text:
                if last > start:  # a row on one line has no line break in a cell, so no rows swallowed
                    _refuse_swallowed_rows(source, start, cells, headers, delimiter)
                # a cell `duly export csv` quoted against formulas ('=..., '-) reads back as it was written
                if "'" in text and any(c[:1] == "'" for c in cells):
                    cells = [safetext.from_spreadsheet_cell(c) for c in cells]
                yield start, cells
    except csv.Error as exc:
        raise InvalidInput(N_("{source} line {line}: not readable as CSV ({reason})"), source=source, line=last + 1,
                           reason=str(exc), field="file") from None


def _refuse_swallowed_rows(source: str, line: int, cells: list[str], headers: list[str], delimiter: str) -> None:
    """A quote that is never closed makes the following rows part of one cell, imported as one long name. A
    cell may hold a line break (an address), but not lines that are rows of their own."""
    wanted = max(1, len(headers) - 1)
    for index, cell in enumerate(cells):
        inner = cell.splitlines()[1:]
        if any(part.count(delimiter) >= wanted for part in inner):
            header = headers[index].strip() if index < len(headers) else ""
            named = f' "{header}"' if header else ""
            raise InvalidInput(
                N_("{source} line {line}, column {column}{named}: a quote opens this cell and is not closed before "
                   "the next {count} line(s), which look like rows of their own (expected a closing \" or no quote)"),
                source=source, line=line, column=index + 1, named=named, count=len(inner), field="file")


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a compound file: an old .xls, or an encrypted .xlsx


def xls_rows(data: bytes, source: str) -> list[tuple[int, list[str]]]:
    """Every row of the first sheet of an old binary Excel file (.xls), read by xlrd, as the text a person sees."""
    import xlrd

    if not data.startswith(OLE):
        raise InvalidInput(N_("{source} is not an Excel workbook (it does not start as an .xls or .xlsx file does)"),
                           source=source,
                           field="file")
    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True)
    except xlrd.XLRDError as exc:
        reason = str(exc)
        if "encrypt" in reason.lower() or b"EncryptionInfo" in data[:65536] or b"E\x00n\x00c\x00r\x00y" in data:
            raise InvalidInput(N_("{source} is password-protected (encrypted): open it in Excel, remove the "
                                  "password and save it again"),
                               source=source, field="file") from None
        raise InvalidInput(N_("{source} is not a readable .xls workbook ({reason})"),
                           source=source, reason=reason, field="file") from None
    except (ValueError, IndexError, KeyError, AssertionError, OSError) as exc:
        raise InvalidInput(N_("{source} is not a readable .xls workbook ({exc})"),
                           source=source, exc=exc, field="file") from None
    try:
        sheet = book.sheet_by_index(0)
        rows = []
        for number in range(sheet.nrows):
            cells = []
            for cell in sheet.row(number):
                value = cell.value
                if cell.ctype == xlrd.XL_CELL_DATE:
                    try:
                        value = xlrd.xldate_as_datetime(value, book.datemode)
                    except (ValueError, OverflowError, xlrd.xldate.XLDateError):
                        pass  # shown as the number it is; the check names it
                elif cell.ctype == xlrd.XL_CELL_NUMBER and float(value).is_integer():
                    value = int(value)
                elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                    value = bool(value)
                elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
                    value = None
                cells.append(_cell_text(value))
            rows.append((number + 1, cells))
        return rows
    finally:
        book.release_resources()


ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"  # an .ods zip's first entry, stored uncompressed


def is_ods(path: Path, data: bytes) -> bool:
    """An OpenDocument spreadsheet (LibreOffice, WPS): by its name, or by the mimetype a renamed one still carries."""
    return path.suffix.lower() == ".ods" or (data.startswith(b"PK\x03\x04") and ODS_MIME in data[:128])


def ods_rows(data: bytes, source: str) -> list[tuple[int, list[str]]]:
    """Every row of the first sheet of an OpenDocument spreadsheet (.ods), read by python-calamine, as the text a
    person sees (numbered from row 1, blank rows included: the caller leaves them out)."""
    from python_calamine import CalamineError, CalamineWorkbook, PasswordError

    if not data.startswith(b"PK\x03\x04"):
        raise InvalidInput(N_("{source} is not an OpenDocument spreadsheet (it does not start as an .ods file does)"),
                           source=source, field="file")
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        values = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except PasswordError:
        raise InvalidInput(N_("{source} is password-protected (encrypted): open it in Excel, remove the "
                              "password and save it again"), source=source, field="file") from None
    except (CalamineError, ValueError, IndexError) as exc:
        raise InvalidInput(N_("{source} is not a readable .ods spreadsheet ({exc})"), source=source, exc=exc,
                           field="file") from None
    # calamine gives numbers as floats, dates as date/datetime, empty cells as "": shown as the cell shows them
    return [(number, [_cell_text(v if v != "" else None) for v in row]) for number, row in enumerate(values, start=1)]


def _table_of(source: str, encoding: str, rows: list[tuple[int, list[str]]]) -> Table:
    """The first non-empty row is the header; blank rows are left out."""
    headers: list[str] | None = None
    body = []
    for number, cells in rows:
        if headers is None:
            if any(c.strip() for c in cells):
                headers = cells
            continue
        if any(c.strip() for c in cells):
            body.append((number, cells))
    if not headers:
        raise InvalidInput(N_("{source}: the first sheet is empty (expected a header row)"),
                           source=source, field="file")
    return Table(source, encoding, headers, body, expected=len(body))


def _read_xlsx(path: Path, data: bytes, source: str) -> Table:
    rows, expected = xlsx_rows(data, source)
    headers: list[str] | None = None
    try:
        for _, cells in rows:
            if any(cells):
                headers = cells
                break
    except BaseException:
        rows.close()
        raise
    if not headers:
        rows.close()
        raise InvalidInput(N_("{source}: the first sheet is empty (expected a header row)"), source=source,
                           field="file")
    return Table(source, "XLSX", headers, _nonblank(rows), expected=expected)


def _nonblank(rows: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
    """The rows after the header, read as they are used; blank rows left out."""
    try:
        for number, cells in rows:
            if any(c.strip() for c in cells):
                yield number, cells
    finally:
        rows.close()


class _NotAsShown(Exception):
    """A number that calamine gives as a float but whose digits in the file a float may not hold."""


def xlsx_rows(data: bytes, source: str) -> tuple[Iterator[tuple[int, list[str]]], int]:
    """Every row of the first worksheet of an .xlsx workbook, as the text a person sees (numbered from row 1, blank
    rows included: the caller leaves them out), and about how many rows there are. The one reader of .xlsx for
    every importer.

    Read by python-calamine (Rust; about 9x less CPU than openpyxl on a 100k-row export): the sheet's values are
    held in compact form while its rows are turned into text as they are used. A number cell is the float of its
    text, as openpyxl gives it, shown to 15 significant digits as Excel does (_cell_text), so an amount comes out
    to the cent as the file shows it. Two kinds of cell calamine cannot give as openpyxl does, and a workbook with
    either is read by openpyxl instead (the old reader, slow but exact): an error cell (#N/A, #REF!), which calamine
    reads as empty (a silently empty due date or currency), and a whole number of 16 or more digits, which the file
    may hold exactly (a 20-digit 数电票号码 written as a number) and a float does not; openpyxl then reads from
    that row on."""
    import zipfile
    import zlib

    from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        with archive:
            # an .xlsb (or another zip) goes to openpyxl too, which refuses it as before: its cells are not XML
            # that _has_error_cells could look through
            exact = "xl/workbook.xml" not in archive.namelist() or _has_error_cells(archive)
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, OSError, ValueError) as exc:
        raise _unreadable_xlsx(source, exc) from None
    if exact:
        return _openpyxl_rows(data, source)
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        first = next((m.name for m in book.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet), None)
        sheet = book.get_sheet_by_name(first) if first is not None else None
    except (CalamineError, ValueError, IndexError, KeyError) as exc:
        raise _unreadable_xlsx(source, exc) from None
    if sheet is None or not sheet.height:
        return (row for row in ()), 0
    return _calamine_rows(sheet, data, source), sheet.end[0] + 1


def _unreadable_xlsx(source: str, exc: Exception) -> InvalidInput:
    import zipfile

    if isinstance(exc, zipfile.BadZipFile):
        exc = DulyError(N_("it is not a zip archive, as an .xlsx file is"))
    return InvalidInput(N_("{source} is not a readable .xlsx workbook ({exc})"), source=source, exc=exc, field="file")


def _has_error_cells(archive) -> bool:
    """Whether a worksheet of the workbook holds an error cell (<c t="e">), read without parsing the XML."""
    mark = b't="e"'
    for info in archive.infolist():
        if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
            with archive.open(info) as f:
                tail = b""
                while chunk := f.read(1 << 20):
                    if mark in chunk or mark in tail + chunk[:len(mark)]:
                        return True
                    tail = chunk[-len(mark):]
    return False


def _calamine_rows(sheet, data: bytes, source: str) -> Iterator[tuple[int, list[str]]]:
    # iter_rows starts at row 1 but at the sheet's first used column: the columns before it are put back, so
    # that a column's letter is where it is in the sheet
    pad = [""] * sheet.start[1]
    seen: dict[str, str] = {}
    for number, values in enumerate(sheet.iter_rows(), start=1):
        try:
            cells = [_calamine_text(v) for v in values]
        except _NotAsShown:
            rows, _ = _openpyxl_rows(data, source, first_row=number)
            yield from rows
            return
        # an export repeats most of its cells (the seller, 正常, the buyer's name): one string for each, not one
        # per cell, which a table read whole (a fapiao export) holds for every row
        if len(seen) > 50_000:
            seen.clear()
        cells = [seen.setdefault(c, c) for c in cells]
        yield number, pad + cells if pad else cells


def _calamine_text(value) -> str:
    if type(value) is str:  # most cells, and an empty one ("")
        return value
    if type(value) is float and value.is_integer() and abs(value) >= 1e15:
        raise _NotAsShown
    return _cell_text(value)


def _openpyxl_rows(data: bytes, source: str, first_row: int = 1) -> tuple[Iterator[tuple[int, list[str]]], int]:
    """What xlsx_rows gives, read by openpyxl (read-only: the sheet is streamed), from first_row on."""
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise _unreadable_xlsx(source, exc) from None
    if not book.worksheets:
        book.close()
        return (row for row in ()), 0
    sheet = book.worksheets[0]

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for number, values in enumerate(sheet.iter_rows(min_row=first_row, values_only=True), start=first_row):
                yield number, [_cell_text(v) for v in values]
        finally:
            book.close()

    return rows(), sheet.max_row or 0


def _tax_columns(table: Table) -> list[str]:
    """An invoice file's amounts: 价税合计 (total) is what the invoice is for; 金额 (amount) beside it or beside
    税额 is the amount before tax; 金额 alone is the total, as before. After this `amount` is the total's column,
    `net` and `tax` the split when the file has one."""
    cols = table.columns
    if "amount" in cols and ({"total", "tax"} & set(cols)):
        if "net" in cols:
            first = table.headers[cols["net"]].strip()
            return [Said(N_('{where}: names the amount before tax, as column "{first}" does (expected one of them)'),
                         where=table.where(1, "amount"), first=first)]
        cols["net"] = cols.pop("amount")
    if "total" in cols:
        cols["amount"] = cols.pop("total")
    if "amount" not in cols and "net" not in cols:
        return [Said(N_("{where}: the column {wanted} is missing (found: {found})"), where=table.where(1),
                     wanted="amount/金额/价税合计", found=", ".join(h.strip() for h in table.headers if h.strip()))]
    if "amount" not in cols and "tax" not in cols:
        return [Said(N_('{where}: the column tax/税额 is missing beside "{net}" (expected 税额, or a 价税合计 column '
                        "with the total)"), where=table.where(1), net=table.headers[cols["net"]].strip())]
    return []


def map_columns(table: Table, columns: dict[str, tuple[str, ...]], required: tuple[str, ...]) -> list[str]:
    """Find each field's column by its name or alias; problems for unknown, repeated or missing columns."""
    aliases = {}
    for name, names in columns.items():
        for alias in (name, *names):
            aliases.setdefault(_key(alias), name)
    problems = []
    for index, header in enumerate(table.headers):
        key = _key(header)
        if not key or key in {_key(i) for i in IGNORED} and key not in aliases:
            continue
        name = aliases.get(key)
        where = Said(N_("{place}, column {name}"), place=table.where(1),
                     name=f'{_letters(index) + " " if table.xlsx else ""}"{header.strip()}"')
        if name is None:
            problems.append(Said(N_("{where}: unknown column (expected one of: {names}, or their Chinese names)"),
                                 where=where, names=", ".join(columns)))
        elif name in table.columns:
            problems.append(Said(N_('{where}: names the same field ({name}) as column "{other}"'), where=where,
                                 name=name, other=table.headers[table.columns[name]].strip()))
        else:
            table.columns[name] = index
    for name in required:
        if name not in table.columns:
            wanted = "/".join((name, *[a for a in columns[name] if not a.isascii()][:2]))
            problems.append(Said(N_("{where}: the column {wanted} is missing (found: {found})"), where=table.where(1),
                                 wanted=wanted, found=", ".join(h.strip() for h in table.headers if h.strip())))
    return problems


# --- what a row becomes ------------------------------------------------------------------------------


@dataclass
class Doc:
    """One row's document: what will happen to it, and with what."""

    line: int
    action: str  # "add" | "update" | "skip"
    key: str  # for people: a customer code, an invoice number, 'C0001 2026-03-01 1200.00 CNY'
    fields: dict
    fingerprint: bytes  # the key of its row in the import log (`fingerprint`)
    detail: str = ""


@dataclass
class Known:
    """What the check needs to know about the ledger, read before (so the check itself is pure)."""

    currency: str = "CNY"
    customers: dict[str, dict] = field(default_factory=dict)  # code -> row
    invoices: dict[str, dict] = field(default_factory=dict)  # number -> {customer, date, total, currency, open}
    terms: set[str] = field(default_factory=set)
    fingerprints: set[bytes] = field(default_factory=set)  # the import log's keys of this kind
    payments: set[tuple] = field(default_factory=set)  # (customer code, date, amount, currency, reference)
    name_keys: dict[str, str] | None = None  # validate.name_key(name) -> customer code, made on first use
    # the largest rowid of the payments there before this import (a row it writes gets a larger one): what a
    # batch's references are compared with, without remembering each payment the import wrote
    payments_before: int = 0


UNKNOWN_TERMS = N_("unknown payment terms {terms} (expected built-in terms such as NET30 or terms added with "
                   "`duly terms add`)")


class ImportProblems(InvalidInput):
    """Everything wrong with a file; str() is the first problem and how many more there are."""

    def __init__(self, problems: list[str]):
        more = len(problems) - 1
        if more > 1:
            super().__init__(N_("{first} (and {more} more problems: `--dry-run` lists them all); nothing was imported"),
                             first=problems[0], more=more, field="file")
        elif more:
            super().__init__(N_("{first} (and 1 more problem: `--dry-run` lists them all); nothing was imported"),
                             first=problems[0], field="file")
        else:
            super().__init__(N_("{first}; nothing was imported"), first=problems[0], field="file")
        self.problems = problems


# A fingerprint as the import log keeps it: the first 16 bytes of the SHA-256 (the log's unique index of them is
# what a random key goes into: the smaller, the more of it the cache keeps).
KEY_BYTES = 16


def fingerprint(kind: str, values: dict, occurrence: int) -> bytes:
    body = json.dumps({"kind": kind, "row": values, "n": occurrence}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(body.encode()).digest()[:KEY_BYTES]


# json.dumps(values, sort_keys=True, ensure_ascii=False), made by the json module (any values)
_ROW_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode
_JSON_TEXT = json.encoder.encode_basestring  # a str as JSON without escaping non-ASCII, as ensure_ascii=False


class _NotPlain(Exception):
    """A value _row_json leaves to the json module."""


def _json_value(value) -> str:
    kind = type(value)
    if kind is str:
        return _JSON_TEXT(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if kind is list:
        return "[" + ", ".join(map(_json_value, value)) + "]"
    raise _NotPlain


def _row_json(values: dict) -> str:
    """The same text as json.dumps(values, sort_keys=True, ensure_ascii=False) for a row's values (text, whole
    numbers, None and lists of them: what the checks put in a fingerprint) without making an encoder for each row;
    any other value goes to the json module. Invoices and payments write theirs out in full (below): a fifth of
    json.dumps' time."""
    try:
        return "{" + ", ".join([f"{_JSON_TEXT(k)}: {_json_value(values[k])}" for k in sorted(values)]) + "}"
    except (_NotPlain, TypeError):  # TypeError: keys that do not sort (never a check's)
        return _ROW_JSON(values)


def _invoice_row_json(customer: str, on: str, total: int, currency: str, due: str, terms: str, description: str,
                      number: str, tax: int | None) -> str:
    """_row_json of an invoice row's values {customer, date, amount, currency, due, terms, description, number}, and
    tax (a whole number) when the file splits the total (tax None: it does not), written out in their sorted order."""
    j = _JSON_TEXT
    taxed = "" if tax is None else f'"tax": {int.__repr__(tax)}, '
    return (f'{{"amount": {int.__repr__(total)}, "currency": {j(currency)}, "customer": {j(customer)}, '
            f'"date": {j(on)}, "description": {j(description)}, "due": {j(due)}, "number": {j(number)}, '
            f'{taxed}"terms": {j(terms)}}}')


def _payment_row_json(customer: str, on: str, amount: int, currency: str, method: str, reference: str,
                      invoice: str | list) -> str:
    """_row_json of a payment row's values {customer, date, amount, currency, method, reference, invoice} (invoice
    "-" or [[number, amount], ...]), written out in their sorted order."""
    j = _JSON_TEXT
    named = (j(invoice) if type(invoice) is str
             else "[" + ", ".join([f"[{j(n)}, {int.__repr__(p)}]" for n, p in invoice]) + "]")
    return (f'{{"amount": {int.__repr__(amount)}, "currency": {j(currency)}, "customer": {j(customer)}, '
            f'"date": {j(on)}, "invoice": {named}, "method": {j(method)}, "reference": {j(reference)}}}')


class _Rows:
    """Walks the rows of a table, collecting problems with where they are."""

    def __init__(self, table: Table, kind: str):
        self.table, self.kind = table, kind
        self.kind_json = json.dumps(kind)
        self.problems: list[str] = []
        self.seen: dict[str, int] = {}  # a row's values (hashed) -> how many times seen so far in the file
        self.memo: dict = {}  # what a check keeps from one batch of the file to the next

    def problem(self, line: int, name: str | None, message: str | DulyError) -> None:
        """A problem where it is; message an error (said in the reader's language) or a Said."""
        self.problems.append(Said(N_("{where}: {reason}"), where=self.table.where(line, name), reason=message))

    def field(self, line: int, name: str, fn: Callable, *args, **kw):
        """fn(value, ...) or None after noting its InvalidInput against the column."""
        try:
            return fn(*args, **kw)
        except InvalidInput as exc:
            self.problem(line, name, exc)
            return None

    def occurrence(self, values: dict) -> bytes:
        return self.occurrence_of(_row_json(values))

    def occurrence_of(self, row: str) -> bytes:
        """occurrence() of the values whose JSON (as _row_json makes it) is `row`."""
        body = hashlib.sha256(row.encode()).digest()
        n = self.seen[body] = self.seen.get(body, 0) + 1
        # fingerprint(self.kind, values, n), the row's JSON made once
        return hashlib.sha256(f'{{"kind": {self.kind_json}, "n": {n}, "row": {row}}}'.encode()).digest()[:KEY_BYTES]


def _flag(text: str) -> bool:
    key = text.strip().lower()
    if key in ("1", "true", "yes", "y", "是", "x"):
        return True
    if key in ("0", "false", "no", "n", "否", ""):
        return False
    raise InvalidInput(N_("{text} is not yes or no (expected 1/0, true/false, 是/否)"),
                       text=repr(text), field="archived")


def check_customers(table: Table, known: Known, rows: _Rows | None = None,
                    batch: Iterable | None = None) -> tuple[list[Doc], list[str]]:
    """The docs of a batch of rows (default: every row of the table); `rows` carries what the check keeps from
    batch to batch (the problems so far, codes seen)."""
    rows = rows or _Rows(table, "customers")
    docs: list[Doc] = []
    first_line: dict[str, int] = rows.memo.setdefault("first_line", {})
    values_of = table.values_of()
    for line, cells in (table.rows if batch is None else batch):
        raw = values_of(cells)
        code = rows.field(line, "code", validate.code, raw.get("code", ""))
        if code is None:
            continue
        if code in first_line:
            rows.problem(line, "code", Said(N_("customer code {code} is already on line {first} of this file (expected "
                                               "each code once)"), code=repr(code), first=first_line[code]))
            continue
        first_line[code] = line
        current = known.customers.get(code)
        currency = raw.get("currency") or (current or {}).get("currency") or known.currency
        clean, ok = {}, True
        for name, text in raw.items():
            if name in ("code", "archived") or text == "":
                continue
            if name == "currency":
                value = rows.field(line, name, money.check_currency, text)
            else:
                value = rows.field(line, name, lambda n=name, t=text: customers.normalise({n: t}, currency)[n])
            ok = ok and value is not None
            clean[name] = value
        archived = rows.field(line, "archived", _flag, raw.get("archived", ""))
        ok = ok and archived is not None
        if clean.get("terms") and clean["terms"] not in known.terms:
            rows.problem(line, "terms", Said(UNKNOWN_TERMS, terms=repr(clean["terms"])))
            ok = False
        if current is None and not clean.get("name"):
            rows.problem(line, "name" if "name" in table.columns else None,
                         Said(N_("customer {code} is new, so its name must not be empty"), code=code))
            ok = False
        if not ok:
            continue
        values = {"code": code, **{k: v for k, v in clean.items()}}
        fp = fingerprint("customers", values, 1)
        # The store normalises what a person typed: it gets the text; the check compares normalised values.
        typed = {k: raw[k] for k in clean}
        if current is None:
            docs.append(Doc(line, "add", code, {**typed, "archived": bool(archived)}, fp,
                            _similar_name(known, code, clean["name"])))
            continue
        changes = {k: typed[k] for k, v in clean.items() if current.get(k) != v}
        if "archived" in table.columns and bool(current.get("archived")) != bool(archived):
            changes["archived"] = bool(archived)
        if changes:
            docs.append(Doc(line, "update", code, changes, fp,
                            Said(N_("changes {fields}"), fields=", ".join(sorted(changes)))))
        else:
            docs.append(Doc(line, "skip", code, {}, fp, Said(N_("already there, unchanged"))))
    return docs, rows.problems


def _similar_name(known: Known, code: str, name: str) -> str:
    """A warning when a new customer's name normalises to the name of one in the ledger or earlier in the file."""
    if known.name_keys is None:
        known.name_keys = {validate.name_key(r["name"] or ""): c for c, r in known.customers.items()}
    key = validate.name_key(name)
    other = known.name_keys.setdefault(key, code) if key else code
    return (Said(N_("the name looks like customer {other}'s; if they are one company, archive one"), other=other)
            if other != code else "")


def _customer(rows: _Rows, known: Known, line: int, text: str) -> dict | None:
    if not text:
        rows.problem(line, "customer", Said(N_("the customer code must not be empty")))
        return None
    found = known.customers.get(text)
    if found is None:
        rows.problem(line, "customer", Said(N_("unknown customer {code} (expected the code of an existing customer; "
                                               "import the customers file first)"), code=repr(text)))
        return None
    if found.get("archived"):
        rows.problem(line, "customer", Said(N_("customer {code} is archived (expected an active customer)"),
                                            code=repr(text)))
        return None
    return found


def _positive(text: str, currency: str, what: str) -> int:
    minor = money.parse_amount(text, currency, field=what)
    if minor <= 0:
        raise InvalidInput(N_("{what}: {text} must be more than zero"), what=what, text=repr(text), field="amount")
    return minor


def check_invoices(table: Table, known: Known, rows: _Rows | None = None,
                   batch: Iterable | None = None) -> tuple[list[Doc], list[str]]:
    rows = rows or _Rows(table, "invoices")
    docs: list[Doc] = []
    numbers: dict[str, int] = rows.memo.setdefault("numbers", {})
    values_of = table.values_of()
    for line, cells in (table.rows if batch is None else batch):
        raw = values_of(cells)
        customer = _customer(rows, known, line, raw.get("customer", ""))
        on = rows.field(line, "date", validate.iso_date, raw.get("date", ""), "invoice date")
        currency = rows.field(line, "currency", money.check_currency,
                              raw.get("currency") or (customer or {}).get("currency") or known.currency)
        total, net, tax = _invoice_amounts(rows, line, raw, currency) if currency else (None, None, None)
        tax_bp = rows.field(line, "tax_rate", invoices.parse_tax, raw["tax_rate"]) if raw.get("tax_rate") else 0
        due = rows.field(line, "due_date", validate.iso_date, raw["due_date"], "due date") if raw.get("due_date") else ""
        if due and on and due < on:
            rows.problem(line, "due_date", Said(N_("due date {due} is before the invoice date {date} (expected on or "
                                                   "after it)"), due=due, date=on))
            due = None
        terms = terms_name(raw["terms"]) if raw.get("terms") else ""  # 月结30 is EOM30
        if terms and terms not in known.terms:
            rows.problem(line, "terms", Said(UNKNOWN_TERMS, terms=repr(terms)))
            terms = None
        einvoice = (rows.field(line, "einvoice", invoices.einvoice_number, raw["einvoice"])
                    if raw.get("einvoice") else "")
        number = rows.field(line, "number", invoices.invoice_number, raw["number"]) if raw.get("number") else ""
        items = rows.field(line, "lines", _lines, raw["lines"], currency) if raw.get("lines") and currency else []
        if items and total is not None and sum(i.amount + i.tax for i in items) != total:
            rows.problem(line, "lines", Said(N_("the lines add up to {lines} with tax, not the amount {amount} (expected "
                                                "the same)"),
                                             lines=money.to_decimal_str(sum(i.amount + i.tax for i in items), currency),
                                             amount=money.to_decimal_str(total, currency)))
            continue
        if None in (customer, on, currency, total, due, terms, einvoice, number, tax_bp, items):
            continue
        # the fingerprint of {customer, date, amount, currency, due, terms, description, number, and tax if split}
        fp = rows.occurrence_of(_invoice_row_json(customer["code"], on, total, currency, due, terms,
                                                  raw.get("description", ""), number, None if net is None else tax))
        label = number or f"{customer['code']} {on} {money.to_decimal_str(total, currency)} {currency}"
        fields = {"customer": customer["code"], "date": on, "amount": money.to_decimal_str(total, currency),
                  "currency": currency, "due": due or None, "terms": terms or None, "number": number or None,
                  "description": raw.get("description") or None, "contract": raw.get("contract") or None,
                  "einvoice": einvoice or None, "total": total,
                  "lines": items or (None if net is None else [
                      invoices.Line(raw.get("description") or "金额", "1", net, tax_bp, stated_tax=tax)])}
        if number:
            if number in numbers:
                rows.problem(line, "number", Said(N_("duplicate invoice number {number}: already on line {first} of "
                                                     "this file (expected each number once)"),
                                                  number=repr(number), first=numbers[number]))
                continue
            numbers[number] = line
            there = known.invoices.get(number)
            if there is not None:
                same = (there["customer"], there["date"], there["total"], there["currency"]) == (
                    customer["code"], on, total, currency)
                if same:
                    docs.append(Doc(line, "skip", number, {}, fp, Said(N_("already there"))))
                else:
                    rows.problem(line, "number", Said(
                        N_("duplicate invoice number {number}: the ledger already has it for {customer} dated {date}, "
                           "{amount} {currency} (expected a new number, or that same invoice)"), number=repr(number),
                        customer=there["customer"], date=there["date"],
                        amount=money.to_decimal_str(there["total"], there["currency"]), currency=there["currency"]))
                continue
        elif fp in known.fingerprints:
            docs.append(Doc(line, "skip", label, {}, fp, Said(N_("imported before"))))
            continue
        docs.append(Doc(line, "add", label, fields, fp))
    return docs, rows.problems


_QTYS: dict[str, str] = {}  # quantities as written -> as parse_qty gives them (most are 1, 2, 10 ...)


def _lines(text: str, currency: str) -> list:
    """The `lines` column (JSON, as `duly export csv` writes it) as invoice lines with their stated tax."""
    try:
        found = json.loads(text)
        if not isinstance(found, list) or not found:
            raise ValueError
        out = []
        for description, qty, price, tax_bp, tax in found:
            qty = str(qty)
            if (quantity := _QTYS.get(qty)) is None:
                quantity = invoices.parse_qty(qty, "line")
                if len(_QTYS) < 10_000:
                    _QTYS[qty] = quantity
            out.append(invoices.Line(str(description), quantity,
                                     money.parse_amount(str(price), currency, field="lines"), int(tax_bp),
                                     stated_tax=money.parse_amount(str(tax), currency, field="lines")))
        return out
    except (ValueError, TypeError) as exc:
        if isinstance(exc, InvalidInput):
            raise
        raise InvalidInput(N_("{text} is not a list of lines (expected JSON like {example}, as `duly export csv` "
                              "writes it)"), text=repr(text[:60]), example='[["Goods","2","10.00",1300,"2.60"]]',
                           field="lines") from None


def _invoice_amounts(rows: _Rows, line: int, raw: dict, currency: str) -> tuple:
    """(total, amount before tax, tax) of an invoice row; net and tax are None for a file with only a total.
    金额 + 税额 must equal 价税合计 to the cent; (None, None, None) after a problem."""
    net = rows.field(line, "net", _not_negative, raw["net"], currency, "amount before tax") if "net" in raw else None
    tax = rows.field(line, "tax", _not_negative, raw["tax"], currency, "tax") if "tax" in raw else None
    if (net is None and "net" in raw) or (tax is None and "tax" in raw):
        return None, None, None
    if "amount" not in raw:
        total = net + tax
        if total <= 0:
            rows.problem(line, "net", Said(N_("amount before tax plus tax must be more than zero")))
            return None, None, None
        return total, net, tax
    split = "net" in raw or "tax" in raw
    total = rows.field(line, "amount", _positive, raw["amount"], currency, "total" if split else "amount")
    if total is None:
        return None, None, None
    if net is not None and tax is not None and net + tax != total:
        rows.problem(line, "amount", Said(N_("total {total} is not the amount before tax {net} + tax {tax} = {sum} "
                                             "(expected them to add up to the cent)"),
                                          total=money.to_decimal_str(total, currency),
                                          net=money.to_decimal_str(net, currency), tax=money.to_decimal_str(tax, currency),
                                          sum=money.to_decimal_str(net + tax, currency)))
        return None, None, None
    if net is None and tax is None:
        return total, None, None
    net = total - tax if net is None else net
    tax = total - net if tax is None else tax
    if net < 0 or tax < 0:
        rows.problem(line, "tax" if "tax" in raw else "net",
                     Said(N_("more than the total {total}"), total=money.to_decimal_str(total, currency)))
        return None, None, None
    return total, net, tax


def _not_negative(text: str, currency: str, what: str) -> int:
    if not (text or "").strip():
        raise InvalidInput(N_("{what} is empty (expected an amount, 0 if there is none)"), what=what, field=what)
    minor = money.parse_amount(text, currency, field=what)
    return minor


def _split_allocations(text: str) -> list[str]:
    if ";" not in text and "；" not in text:  # one invoice, as most rows name
        return [text.strip()] if text.strip() else []
    return [part.strip() for part in re.split(r"[;；]", text) if part.strip()]


def check_payments(table: Table, known: Known, rows: _Rows | None = None,
                   batch: Iterable | None = None) -> tuple[list[Doc], list[str]]:
    rows = rows or _Rows(table, "payments")
    docs: list[Doc] = []
    # what the file leaves open of each invoice it names: while every batch before was written, the ledger (read
    # for this batch: `known`) says it, and only this batch's invoices are kept; after a problem nothing more is
    # written, and what the rows before left open is carried from batch to batch
    if rows.problems or batch is None:
        left: dict[str, int] = rows.memo.setdefault("left", {})
    else:
        left = rows.memo["left"] = {}
    for number, inv in known.invoices.items():
        left.setdefault(number, inv["open"])
    values_of = table.values_of()
    for line, cells in (table.rows if batch is None else batch):
        raw = values_of(cells)
        customer = _customer(rows, known, line, raw.get("customer", ""))
        on = rows.field(line, "date", validate.iso_date, raw.get("date", ""), "payment date")
        currency = rows.field(line, "currency", money.check_currency,
                              raw.get("currency") or (customer or {}).get("currency") or known.currency)
        amount = rows.field(line, "amount", _positive, raw.get("amount", ""), currency, "amount") if currency else None
        kind = rows.field(line, "method", payments.method, raw.get("method", ""))
        pairs: list[tuple[str, int]] | None = []
        spec = raw.get("invoice", "")
        keep = spec.strip().lower() in NO_ALLOCATION
        if spec and not keep and amount is not None:
            parts = _split_allocations(spec)
            if len(parts) == 1 and "=" not in parts[0]:
                pairs = [(parts[0], amount)]
            else:
                pairs = rows.field(line, "invoice", payments.parse_pairs, parts, currency)
        if None in (customer, on, currency, amount, kind, pairs):
            continue
        reference = raw.get("reference", "")
        # the fingerprint of {customer, date, amount, currency, method, reference, invoice}
        fp = rows.occurrence_of(_payment_row_json(customer["code"], on, amount, currency, kind, reference,
                                                  "-" if keep else [[n, p] for n, p in pairs]))
        amount_text = money.to_decimal_str(amount, currency)
        label = f"{customer['code']} {on} {amount_text} {currency}"
        if fp in known.fingerprints:
            docs.append(Doc(line, "skip", label, {}, fp, Said(N_("imported before"))))
            continue
        if reference and (customer["code"], on, amount, currency, reference) in known.payments:
            docs.append(Doc(line, "skip", label, {}, fp, Said(N_("already recorded with reference {reference}"),
                                                                 reference=reference)))
            continue
        bad = False
        for number, part in pairs:
            inv = known.invoices.get(number)
            if inv is None:
                rows.problem(line, "invoice", Said(N_("unknown invoice {number} (expected an invoice number in the "
                                                      "ledger)"), number=repr(number)))
            elif inv["customer"] != customer["code"]:
                rows.problem(line, "invoice", Said(N_("invoice {number} belongs to {owner}, not {code} (expected one of "
                                                      "this customer's invoices)"), number=number,
                                                   owner=inv["customer"], code=customer["code"]))
            elif inv["currency"] != currency:
                rows.problem(line, "invoice", Said(N_("invoice {number} is in {currency}, the payment in {paid_in}"),
                                                   number=number, currency=inv["currency"], paid_in=currency))
            elif part > left[number]:
                rows.problem(line, "invoice", Said(
                    N_("payment of {amount} {currency} allocated to invoice {number} is more than its open amount "
                       "{open} {currency} (expected at most that; leave the column empty to apply oldest due first "
                       "and keep the rest unapplied)"), amount=money.to_decimal_str(part, currency), currency=currency,
                    number=number, open=money.to_decimal_str(left[number], currency)))
            else:
                continue
            bad = True
        if sum(p for _, p in pairs) > amount:
            rows.problem(line, "invoice", Said(N_("allocations total {total}, more than the payment of {amount}"),
                                               total=money.to_decimal_str(sum(p for _, p in pairs), currency),
                                               amount=money.to_decimal_str(amount, currency)))
            bad = True
        if bad:
            continue
        for number, part in pairs:
            left[number] -= part
        docs.append(Doc(line, "add", label, {
            "customer": customer["code"], "date": on, "amount": amount_text,
            "currency": currency, "method": kind, "reference": reference or None, "note": raw.get("note") or None,
            "allocate": [f"{n}={amount_text if p == amount else money.to_decimal_str(p, currency)}"
                         for n, p in pairs] or None, "auto": not keep}, fp))
    return docs, rows.problems


def _documents(table: Table, known: Known, rows: _Rows, batch, kind: str, required: tuple[str, ...],
               dated: bool = True) -> list[Doc]:
    """Docs of rows that another store function checks in full when it writes them (terms, credit notes, write-offs,
    voids): the required cells and the date are checked here, and a row imported before is skipped."""
    docs = []
    values_of = table.values_of()
    for line, cells in (table.rows if batch is None else batch):
        raw = values_of(cells)
        missing = [name for name in required if not raw.get(name)]
        for name in missing:
            rows.problem(line, name if name in table.columns else None,
                         Said(N_("the {name} must not be empty"), name=name))
        on = rows.field(line, "date", validate.iso_date, raw.get("date", ""), f"{kind} date") if dated else ""
        if missing or on is None:
            continue
        fp = rows.occurrence(raw)
        label = " ".join(raw.get(k, "") for k in ("name", "number", "invoice", "ref", "customer", "date") if raw.get(k))
        if fp in known.fingerprints:
            docs.append(Doc(line, "skip", label, {}, fp, Said(N_("imported before"))))
        else:
            docs.append(Doc(line, "add", label, raw, fp))
    return docs


def check_terms(table: Table, known: Known, rows: _Rows | None = None, batch=None):
    rows = rows or _Rows(table, "terms")
    docs = []
    for doc in _documents(table, known, rows, batch, "terms", ("name", "lines"), dated=False):
        if doc.action == "add" and doc.fields["name"] in known.terms:  # the same name: there already
            doc.action, doc.fields, doc.detail = "skip", {}, Said(N_("already there"))
        docs.append(doc)
    return docs, rows.problems


def check_credit_notes(table: Table, known: Known, rows: _Rows | None = None, batch=None):
    rows = rows or _Rows(table, "credit_notes")
    return _documents(table, known, rows, batch, "credit note", ("customer", "amount", "reason")), rows.problems


def check_writeoffs(table: Table, known: Known, rows: _Rows | None = None, batch=None):
    rows = rows or _Rows(table, "writeoffs")
    return _documents(table, known, rows, batch, "write-off", ("invoice", "reason")), rows.problems


def check_voids(table: Table, known: Known, rows: _Rows | None = None, batch=None):
    rows = rows or _Rows(table, "voids")
    docs = _documents(table, known, rows, batch, "void", ("document", "ref", "reason"))
    for doc in docs:
        if doc.action == "add" and doc.fields["document"] not in ("invoices", "payments"):
            rows.problem(doc.line, "document", Said(N_("{document} cannot be voided (expected invoices or payments)"),
                                                    document=repr(doc.fields["document"])))
    return docs, rows.problems


def _one_by_one(write: Callable[[object, dict], tuple[str, str]]):
    """The post of a kind whose rows are written one at a time by a store function (few rows: no batch write)."""
    def post(ledger, docs: list[Doc], posting: "Posting", known: Known) -> list[tuple[str, str, str]]:
        done = []
        for index, doc in enumerate(docs):
            try:
                table_name, row_id = write(ledger, doc.fields)
            except DulyError as exc:
                raise invoices.RowFailed(index, exc) from None
            done.append((table_name, row_id, ""))
        return done
    return post


def _post_terms(ledger, f: dict) -> tuple[str, str]:
    return "terms", termsbook.add_stored(ledger, {**f, "archived": _flag(f.get("archived", ""))})


def _post_credit(ledger, f: dict) -> tuple[str, str]:
    applied = adjustments.add_credit(ledger, f["customer"], f["date"], f["amount"], f["reason"],
                                     invoice_number=f.get("invoice") or None, currency=f.get("currency") or None)
    return "credit_notes", applied.id


def _post_writeoff(ledger, f: dict) -> tuple[str, str]:
    row_id, _, _ = adjustments.write_off(ledger, f["invoice"], f["date"], f["reason"], f.get("amount") or None)
    return "writeoffs", row_id


def _post_void(ledger, f: dict) -> tuple[str, str]:
    if f["document"] == "invoices":
        return "voids", invoices.void(ledger, f["ref"], f["reason"], f["date"])
    payments.void(ledger, f["ref"], f["reason"], f["date"])
    return "voids", payments.by_id(ledger, f["ref"])["id"]


# --- what the check needs to know (reads) -------------------------------------------------------------


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _column_values(table: Table, name: str, batch: Iterable | None = None) -> list[str]:
    return sorted({table.value(cells, name) for _, cells in (table.rows if batch is None else batch)} - {""})


def known(ledger, table: Table, kind: str, batch: list | None = None) -> Known:
    """What the check of `kind` needs to know of the ledger for a batch of rows (default: every row)."""
    return known_for_batch(ledger, known_base(ledger, kind), table, kind, table.rows if batch is None else batch)


def known_base(ledger, kind: str) -> Known:
    """What every batch of a file needs: customers, terms, rows imported before."""
    found = Known(currency=ledger.setting("currency", "CNY") or "CNY")
    found.customers = {r["code"]: r for r in ledger.rows("SELECT * FROM customers")}
    found.terms = set(BUILTIN_TERMS) | {r["name"] for r in ledger.rows(
        "SELECT name FROM terms WHERE coalesce(archived, 0) = 0")}
    found.fingerprints = {r[0] for r in ledger.conn.execute(
        "SELECT fingerprint FROM import_log WHERE kind = ?", (kind,))}
    if kind == "payments":
        found.payments_before = ledger.conn.execute("SELECT coalesce(max(rowid), 0) FROM payments").fetchone()[0]
    return found


def known_for_batch(ledger, found: Known, table: Table, kind: str, batch: Iterable) -> Known:
    """The invoices a batch names and the payments with its references, as the ledger has them now (so a
    batch sees what the batches before it wrote)."""
    found.invoices, found.payments = {}, set()
    numbers: list[str] = []
    if kind == "invoices":
        numbers = _column_values(table, "number", batch)
    elif kind == "payments":
        numbers = sorted({n.partition("=")[0].strip() for v in _column_values(table, "invoice", batch)
                          for n in _split_allocations(v)})
        # the payments of the batch's customers on the batch's dates with its references, each looked up by the
        # (customer, date) index: a full scan of the payments for each batch grew with the book
        wanted = set()
        value = table.value
        for _, cells in (batch if "reference" in table.columns else ()):  # no reference column: nothing to look up
            reference = value(cells, "reference")
            customer = found.customers.get(value(cells, "customer")) if reference else None
            if customer is None:
                continue
            with contextlib.suppress(InvalidInput):  # a bad date is the check's to name
                wanted.add((customer["id"], validate.iso_date(value(cells, "date")), reference))
        for chunk in _chunks(sorted(wanted), 300):
            for code, on, amount, currency, reference in ledger.conn.execute(
                f"""WITH wanted (customer_id, date, reference) AS (VALUES {','.join(['(?,?,?)'] * len(chunk))})
                    SELECT DISTINCT c.code, p.date, p.amount, p.currency, p.reference FROM wanted w
                    JOIN payments p ON p.customer_id = w.customer_id AND p.date = w.date AND p.reference = w.reference
                    JOIN customers c ON c.id = p.customer_id
                    WHERE p.rowid <= ?
                      AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.doc_id = p.id AND v.doc_table = 'payments')""",
                    [v for triple in chunk for v in triple] + [found.payments_before]):
                found.payments.add((code, on, amount, currency, reference))
    for chunk in _chunks(numbers):
        params = {"d": openitems.END}
        params.update({f"n{k}": v for k, v in enumerate(chunk)})
        named = ",".join(f":n{k}" for k in range(len(chunk)))
        for r in ledger.rows(
            f"""SELECT o.number, o.date, o.total, o.currency, o.open, c.code AS customer
                FROM ({openitems.OPEN_SQL} WHERE i.number IN ({named})) o
                JOIN invoices i ON i.id = o.id LEFT JOIN customers c ON c.id = i.customer_id""", params):
            found.invoices[r["number"]] = r
    return found


# --- posting: one transaction through the store's own write functions ---------------------------------


def post_customer(ledger, doc: Doc, *, allow_duplicate_tax_id: bool = False) -> tuple[str, str, str]:
    """Add or update one customer; a tax id another customer has is refused (as by `customer add/edit`)
    unless allowed."""
    fields = dict(doc.fields)
    archived = fields.pop("archived", None)
    if doc.action == "add":
        # in the add itself: a second set of the same field in one transaction carries the same clock stamp,
        # and last-writer-wins keeps the first (a new customer marked archived in the file stayed active)
        # (the detail of an added row is its warning: a new name like another's)
        return "customers", customers.add(ledger, doc.key, fields.pop("name"), **fields, archived=bool(archived),
                                          allow_duplicate_tax_id=allow_duplicate_tax_id), doc.detail
    if fields:
        customers.edit(ledger, doc.key, allow_duplicate_tax_id=allow_duplicate_tax_id, **fields)
    row_id = customers.by_code(ledger, doc.key)["id"]
    if archived is not None:
        customers.set_archived(ledger, doc.key, archived)
    return "customers", row_id, ""


class Posting:
    """What writing a file keeps from one batch to the next: the caches of the store's batch writes."""

    def __init__(self, ledger, kind: str, allow_duplicate_tax_id: bool = False, keep_rows: bool = True):
        self.allow_duplicate_tax_id = allow_duplicate_tax_id
        self.keep_rows = keep_rows  # whether each row's doc is kept (and so worth its detail)
        self.issuing = invoices.Issuing(ledger) if kind == "invoices" else None
        self.paying = payments.Paying(ledger, OpenBook(ledger)) if kind == "payments" else None


def post_customers(ledger, docs: list[Doc], posting: Posting, known: Known) -> list[tuple[str, str, str]]:
    """One store write per customer (a file of customers is small, and each row may add or update)."""
    done = []
    for index, doc in enumerate(docs):
        try:
            done.append(post_customer(ledger, doc, allow_duplicate_tax_id=posting.allow_duplicate_tax_id))
        except DulyError as exc:
            raise invoices.RowFailed(index, exc) from None
    return done


def post_invoices(ledger, docs: list[Doc], posting: Posting, known: Known) -> list[tuple[str, str, str]]:
    """A batch of invoices through invoices.add_many: the rules of invoices.add, one executemany per table."""
    batch = [{"customer_code": f["customer"], "invoice_date": f["date"], "amount": None if f["lines"] else f["amount"],
              "lines": f["lines"], "terms": f["terms"], "due": f["due"], "number": f["number"],
              "currency": f["currency"], "contract": f["contract"], "einvoice": f["einvoice"],
              "description": f["description"]} for f in (doc.fields for doc in docs)]
    done = []
    for doc, issued in zip(docs, invoices.add_many(ledger, batch, posting.issuing)):
        doc.key = issued.number
        done.append(("invoices", issued.id, joined(issued.warnings)))
    return done


def post_payments(ledger, docs: list[Doc], posting: Posting, known: Known) -> list[tuple[str, str, str]]:
    """A batch of payments through payments.add_many: the rules of payments.add, each customer's open items read
    once (store.read.openbook), one executemany per table."""
    batch = [{"customer_code": f["customer"], "paid_on": f["date"], "amount": f["amount"], "method_name": f["method"],
              "reference": f["reference"], "note": f["note"], "currency": f["currency"], "allocate": f["allocate"],
              "auto": f["auto"]} for f in (doc.fields for doc in docs)]
    done = []
    for doc, applied in zip(docs, payments.add_many(ledger, batch, posting.paying)):
        if posting.keep_rows:
            doc.detail = _applied_detail(applied)
        done.append(("payments", applied.id, ""))
    return done


def _applied_detail(applied) -> Said:
    """What a payment was applied to, for the row's line in a dry run or JSON."""
    shown = ", ".join(f"{n} {money.to_decimal_str(a, applied.currency)}" for n, a in applied.allocations)
    unapplied = (Said(N_("; unapplied {amount}"), amount=money.to_decimal_str(applied.unapplied, applied.currency))
                 if applied.unapplied else "")
    return (Said(N_("applied to {invoices}{unapplied}"), invoices=shown, unapplied=unapplied) if shown
            else Said(N_("nothing applied{unapplied}"), unapplied=unapplied))


@dataclass(frozen=True)
class Kind:
    name: str
    columns: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    check: Callable[..., tuple[list[Doc], list[str]]]
    post: Callable[[object, list[Doc], Posting, Known], list[tuple[str, str, str]]]


KINDS = {
    "customers": Kind("customers", CUSTOMER_COLUMNS, ("code",), check_customers, post_customers),
    "invoices": Kind("invoices", INVOICE_COLUMNS, ("customer", "date"), check_invoices, post_invoices),
    "payments": Kind("payments", PAYMENT_COLUMNS, ("customer", "date", "amount"), check_payments, post_payments),
    "terms": Kind("terms", TERMS_COLUMNS, ("name", "lines"), check_terms, _one_by_one(_post_terms)),
    "credit_notes": Kind("credit_notes", CREDIT_COLUMNS, ("customer", "date", "amount", "reason"), check_credit_notes,
                         _one_by_one(_post_credit)),
    "writeoffs": Kind("writeoffs", WRITEOFF_COLUMNS, ("invoice", "date", "reason"), check_writeoffs,
                      _one_by_one(_post_writeoff)),
    "voids": Kind("voids", VOID_COLUMNS, ("document", "ref", "date", "reason"), check_voids, _one_by_one(_post_void)),
}

# A file is read, checked and written this many rows at a time, all in one transaction: memory holds one batch.
BATCH_ROWS = 2000
_LOG_COLUMNS = ("fingerprint", "kind", "doc_table", "doc_id", "source", "line", "at")

# Which column an error from a store write function belongs to (InvalidInput.field -> import column).
_STORE_FIELD = {"due": "due_date", "allocate": "invoice", "qty": "amount", "line": "amount"}


@dataclass
class Outcome:
    kind: str
    source: str
    encoding: str
    dry_run: bool
    docs: list[Doc]  # each row's doc (without its fields), unless the run was told not to keep them
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # action -> rows
    # a fapiao export's buyers that are no customer yet: {name, tax_id, lines}, for the user to add or map
    unknown_buyers: list[dict] = field(default_factory=list)

    def count(self, action: str) -> int:
        return self.counts.get(action, 0) if self.counts else sum(1 for d in self.docs if d.action == action)


class _DryRun(Exception):
    """Raised inside the write to roll it back after a dry run."""


def check(ledger, path: str | Path, kind: str) -> tuple[Table, list[Doc], list[str]]:
    """Read and check a file without writing: (table, docs, problems)."""
    spec = KINDS[kind]
    table = read_table(path)
    problems = map_columns(table, spec.columns, spec.required)
    if kind == "invoices" and not problems:
        problems = _tax_columns(table)
    if problems:
        return table, [], problems
    docs, problems = spec.check(table, known(ledger, table, kind))
    return table, docs, problems


def run(ledger, path: str | Path, kind: str, *, dry_run: bool = False, allow_duplicate_tax_id: bool = False,
        progress: Callable[[int, int], None] | None = None, keep_rows: bool = True) -> Outcome:
    """Import a file of `kind`: all rows in one transaction, or nothing (ImportProblems names each problem).
    The file is read as a stream and checked and written BATCH_ROWS rows at a time inside that transaction, so
    memory holds one batch whatever the file's size; after the first problem the rest is only checked, so every
    problem is listed, and nothing is kept. With dry_run the same writes run and are rolled back; the outcome says
    what they would have been. A dry run with problems returns them in `problems` instead of raising.
    allow_duplicate_tax_id (customers only): a customer may take a tax id another customer has, as `customer add
    --allow-duplicate-tax-id`. `progress(done, total)` is told how many rows of about how many are done.
    keep_rows=False keeps only the counts of what each row became, not a doc per row."""
    if kind not in KINDS:
        raise InvalidInput(N_("cannot import {kind}: expected one of {kinds}"), kind=repr(kind),
                           kinds=', '.join(KINDS), field="kind")
    spec = KINDS[kind]
    if allow_duplicate_tax_id and kind != "customers":
        raise InvalidInput(N_("--allow-duplicate-tax-id is for importing customers, not {kind}"), kind=kind,
                           field="allow_duplicate_tax_id")
    table = open_table(path)
    try:
        with db.collecting_less():
            return _run(ledger, table, spec, dry_run=dry_run, allow_duplicate_tax_id=allow_duplicate_tax_id,
                        progress=progress, keep_rows=keep_rows)
    finally:
        close = getattr(table.rows, "close", None)
        if close is not None:  # a workbook read as a stream is closed, however the import ended
            close()


def _cache_deferred(ledger, kind: str, dry_run: bool):
    """A payments import refreshes the settlement cache of the documents it touches once, at its end, in the order
    of their ids, not after each batch (200k payments allocated oldest due first: 1.15x faster; naming their
    invoices: the same). Only the payments' OpenBook reads the cache meanwhile, and it reads a
    customer before this import wrote anything of that customer's (and refreshes what is pending before it forgets
    any). Not in a dry run, whose writes are rolled back. An invoices import keeps its refresh per batch: the
    credit check reads the balances of the cache as each batch leaves them."""
    if kind != "payments" or dry_run:
        return contextlib.nullcontext()
    return schema.doc_state_deferred(ledger.conn)


def _run(ledger, table: Table, spec: Kind, *, dry_run: bool, allow_duplicate_tax_id: bool,
         progress: Callable[[int, int], None] | None, keep_rows: bool) -> Outcome:
    kind = spec.name
    outcome = Outcome(kind, table.source, table.encoding, dry_run, [])
    outcome.problems = map_columns(table, spec.columns, spec.required)
    if kind == "invoices" and not outcome.problems:
        outcome.problems = _tax_columns(table)
    if outcome.problems:
        if dry_run:
            return outcome
        raise ImportProblems(outcome.problems)
    at = datetime.now().astimezone().isoformat(timespec="seconds")
    source = Path(table.source).name
    base = known_base(ledger, kind)
    walk = _Rows(table, kind)
    posting = Posting(ledger, kind, allow_duplicate_tax_id, keep_rows)
    seen = 0
    stream = iter(table.rows)
    with contextlib.suppress(_DryRun):  # a dry run rolls the writes back by raising it out of the transaction
        with ledger.writing() as tx, _cache_deferred(ledger, kind, dry_run):
            while batch := list(islice(stream, BATCH_ROWS)):
                seen += len(batch)
                docs, _ = spec.check(table, known_for_batch(ledger, base, table, kind, batch), walk, batch)
                del batch
                for doc in docs:
                    outcome.counts[doc.action] = outcome.counts.get(doc.action, 0) + 1
                if not walk.problems:  # after a problem the rest of the file is only checked
                    _post(ledger, tx, spec, docs, posting, base, walk, outcome, source, at)
                for doc in docs:
                    doc.fields, doc.fingerprint = {}, b""
                if keep_rows:
                    outcome.docs.extend(docs)
                if progress is not None:
                    progress(seen, max(seen, table.expected))
            if progress is not None:
                progress(seen, seen)
            outcome.problems = walk.problems
            if outcome.problems and not dry_run:
                raise ImportProblems(outcome.problems)
            if dry_run:
                raise _DryRun
    return outcome


def write_all(ledger, table: Table, outcome: Outcome, post: Callable[[object, Doc], tuple[str, str, str]], *,
              order: Callable[[Doc], object] | None = None,
              progress: Callable[[int, int], None] | None = None,
              post_many: Callable[[object, list[Doc]], list[tuple[str, str, str]]] | None = None,
              batchable: Callable[[Doc], bool] = lambda doc: False) -> Outcome:
    """Post every document of the outcome that is not a skip (in `order`, else in file order) through
    `post(ledger, doc) -> (table, id, warning)`, all in one transaction, each noted in the import log so that a
    re-import adds nothing. All or nothing: the first error of the store becomes ImportProblems naming the file,
    the row and, when the store names a field, its column. With outcome.dry_run the same writes run and are
    rolled back. `progress(done, total)` is told how many of the documents are written. Consecutive documents for
    which `batchable(doc)` holds go to `post_many(ledger, docs)` instead, up to BATCH_ROWS at a time (the store's
    bulk path, e.g. invoices.add_many, whose RowFailed names the refused one). The fapiao import writes through
    here (customers, invoices, payments and the other kinds stream through `run`, in batches)."""
    docs = [doc for doc in outcome.docs if doc.action != "skip"]
    if order is not None:
        docs.sort(key=order)
    at = datetime.now().astimezone().isoformat(timespec="seconds")
    source = Path(table.source).name
    with contextlib.suppress(_DryRun):  # a dry run rolls the writes back by raising it out of the transaction
        with ledger.writing() as tx:
            done = 0
            while done < len(docs):
                if progress is not None:
                    progress(done, len(docs))
                run, many = 1, post_many is not None and batchable(docs[done])
                while many and done + run < len(docs) and run < BATCH_ROWS and batchable(docs[done + run]):
                    run += 1
                group = docs[done:done + run]
                try:
                    posted = post_many(ledger, group) if many else [post(ledger, group[0])]
                except (DulyError, invoices.RowFailed) as exc:
                    doc, exc = (group[exc.index], exc.error) if isinstance(exc, invoices.RowFailed) else (group[0], exc)
                    column = _STORE_FIELD.get(getattr(exc, "field", None), getattr(exc, "field", None))
                    where = table.where(doc.line, column if column in table.columns else None)
                    raise ImportProblems([Said(N_("{where}: {reason}"), where=where, reason=exc)]) from None
                log = []
                for doc, (table_name, row_id, warning) in zip(group, posted):
                    if warning:
                        outcome.warnings.append(Said(N_("{where}: {reason}"), where=table.where(doc.line),
                                                     reason=warning))
                    log.append((doc.fingerprint, outcome.kind, table_name, row_id, source, doc.line, at))
                tx.local_rows("import_log", _LOG_COLUMNS, log)
                tx.seal_if_full()
                done += run
            if progress is not None:
                progress(len(docs), len(docs))
            if outcome.dry_run:
                raise _DryRun
    return outcome


def _post(ledger, tx, spec: Kind, docs: list[Doc], posting: Posting, known: Known, walk: _Rows, outcome: Outcome,
          source: str, at: str) -> None:
    """Write a checked batch; a row the store refuses becomes a problem of the file, where it is."""
    todo = [doc for doc in docs if doc.action != "skip"]
    if not todo:
        return
    try:
        done = spec.post(ledger, todo, posting, known)
    except invoices.RowFailed as failed:
        doc, exc = todo[failed.index], failed.error
        column = _STORE_FIELD.get(getattr(exc, "field", None), getattr(exc, "field", None))
        walk.problems.append(Said(N_("{where}: {reason}"),
                                  where=walk.table.where(doc.line, column if column in walk.table.columns else None),
                                  reason=exc))
        return
    log = []
    for doc, (table_name, row_id, warning) in zip(todo, done):
        if warning:
            outcome.warnings.append(Said(N_("{where}: {reason}"), where=walk.table.where(doc.line), reason=warning))
        log.append((doc.fingerprint, spec.name, table_name, row_id, source, doc.line, at))
    log.sort()  # by fingerprint: they go into the log's index of fingerprints in order, not at random pages
    tx.local_rows("import_log", _LOG_COLUMNS, log)
    tx.seal_if_full()
