"""Bank statement files (银行流水) in: CSV (UTF-8 with or without a BOM, GBK/GB18030) or XLSX, as banks give them,
and OFX (1.x SGML or 2.x XML, read by ofxtools). CAMT.053 is not read (no well-kept parser on PyPI).

A bank file is read through a column-mapping profile: the generic one recognises the usual headers
(交易日期, 记账日期, 贷方发生额, 借方发生额, 收入金额, 对方户名, 对方账号, 摘要, 附言, 用途, Date, Amount, Credit,
Debit, Payee, Reference ...); a named profile (table bank_profiles, synced) maps a bank's own headers. The header
row is looked for in the first rows, so the preamble many banks print above it (账号, 户名, 起止日期) does not
matter; columns the profile does not know are left alone, and a footer row (合计 / Total) is skipped.

Money in is a positive amount, money out a negative one. Debits (fees, transfers out) are kept but never
matched to receivables.

A line already imported is never imported twice. Each line's fingerprint is a SHA-256 of its account, date,
signed amount, currency, reference, payer, payer account and memo, plus how many identical lines came before it
in the same file (two identical transfers on one day stay two). The line's id is the first 16 hex digits of
that fingerprint, and bank_lines is insert-once by id: re-importing a file, or an export that overlaps an
earlier one, adds only the lines not seen before, here or on another device of the team.
"""
from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from store.files import importer
from store.rules import money, validate
from store.errors import InvalidInput, NotFound, Said, os_reason
from store.ledger.ids import uuid7
from store.i18n import N_

# field -> the headers of the generic profile (compared after importer._key: case, spaces, a unit in brackets)
GENERIC = {
    "date": ("交易日期", "记账日期", "入账日期", "交易时间", "日期", "date", "transaction_date", "booking_date",
             "value_date", "posting_date"),
    "amount": ("交易金额", "发生额", "金额", "amount"),
    "credit": ("贷方发生额", "贷方金额", "收入金额", "收入", "存入金额", "存入", "credit", "credit_amount", "deposit",
               "paid_in"),
    "debit": ("借方发生额", "借方金额", "支出金额", "支出", "取出金额", "debit", "debit_amount", "withdrawal",
              "paid_out"),
    "direction": ("借贷标志", "借贷方向", "收支方向", "收支标志", "dr/cr", "direction"),
    "payer": ("对方户名", "对方名称", "对方账户名称", "对方账户名", "付款人名称", "付款人", "对方单位", "payee", "payer",
              "counterparty", "payer_name"),
    "payer_account": ("对方账号", "对方账户", "付款人账号", "payer_account", "counterparty_account"),
    "memo": ("摘要", "附言", "用途", "附言/用途", "交易附言", "备注", "memo", "description", "narrative", "details",
             "remark"),
    "reference": ("交易流水号", "流水号", "凭证号", "交易参考号", "参考号", "reference", "ref", "transaction_id"),
    "currency": ("币种", "币别", "currency"),
    "balance": ("余额", "账户余额", "balance"),
    "account": ("本方账号", "我方账号", "账号", "account"),
}
FIELDS = tuple(GENERIC)
_MULTI = {"memo"}  # several columns (摘要, 附言, 用途) are joined into one memo
_FOOTER = re.compile(r"(合计|总计|小计|本页|共\s*\d+\s*笔|^total|^sum)", re.IGNORECASE)
_IN = {"贷", "c", "cr", "credit", "收", "收入", "入", "+"}
_OUT = {"借", "d", "dr", "debit", "支", "支出", "出", "-"}


@dataclass(frozen=True)
class Profile:
    name: str
    columns: dict[str, tuple[str, ...]]  # field -> headers
    date_format: str | None = None  # strptime format for dates such as 03/01/2026; None: Y-M-D forms
    account: str | None = None
    currency: str | None = None


GENERIC_PROFILE = Profile("generic", GENERIC)

# The big banks' own exports (企业网银 / 个人网银 明细下载), by the headers each prints. A bank file is recognised by
# the first signature (a set of headers, compared as _norm does) that its header row holds.
BANKS = {
    "icbc": (Profile("icbc", {
        "date": ("交易时间", "交易日期"), "credit": ("贷方发生额", "交易金额(收入)"),
        "debit": ("借方发生额", "交易金额(支出)"), "payer": ("对方单位名称", "对方户名"),
        "payer_account": ("对方账号", "对方账户"), "memo": ("摘要", "用途", "个性化信息"), "reference": ("凭证号",),
        "balance": ("余额",), "account": ("本方账号",), "currency": ("交易币种",)}),
        N_("工商银行 (ICBC) statement"), ({"借/贷", "对方单位名称", "贷方发生额"}, {"交易金额(收入)", "交易场所"})),
    "ccb": (Profile("ccb", {
        "date": ("交易时间", "记账日期"), "credit": ("贷方发生额(收入)",), "debit": ("借方发生额(支取)",),
        "payer": ("对方户名",), "payer_account": ("对方账号",), "memo": ("摘要", "备注"),
        "reference": ("账户明细编号-交易流水号",), "balance": ("余额",), "account": ("账号",), "currency": ("币种",)}),
        N_("建设银行 (CCB) statement"), ({"贷方发生额(收入)", "借方发生额(支取)"},)),
    "cmb": (Profile("cmb", {
        "date": ("交易日",), "credit": ("贷方金额",), "debit": ("借方金额",), "payer": ("收/付方名称",),
        "payer_account": ("收/付方帐号", "收/付方账号"), "memo": ("摘要", "用途", "业务摘要"), "reference": ("流水号",),
        "balance": ("余额",)}),
        N_("招商银行 (CMB) statement"), ({"交易日", "贷方金额", "收/付方名称"},)),
    "abc": (Profile("abc", {
        "date": ("交易时间", "交易日期"), "credit": ("收入金额",), "debit": ("支出金额",), "amount": ("交易金额",),
        "payer": ("对方户名",), "payer_account": ("对方账号",),
        "memo": ("交易说明", "交易摘要", "交易附言", "交易用途"), "balance": ("本次余额",)}),
        N_("农业银行 (ABC) statement"), ({"收入金额", "支出金额", "本次余额"}, {"交易金额", "本次余额", "交易行"})),
    "boc": (Profile("boc", {
        "date": ("交易日期",), "amount": ("交易金额",), "payer": ("付款人名称",), "payer_account": ("付款人账号",),
        "memo": ("摘要", "用途", "交易附言", "备注"), "reference": ("交易流水号",), "balance": ("交易后余额",),
        "currency": ("交易货币",)}),
        N_("中国银行 (BOC) statement"), ({"付款人名称", "收款人名称", "交易后余额"},)),
}


def _norm(header: str) -> str:
    """A bank's header as printed: width, spaces and case aside, and without the English that 中国银行 adds in
    square brackets ('交易日期[ Transaction Date ]' -> '交易日期'); a unit in brackets is kept ('交易金额(收入)')."""
    text = unicodedata.normalize("NFKC", (header or "").replace("\ufeff", ""))
    text = re.sub(r"\s*\[[^\]]*\]\s*$", "", text)
    return re.sub(r"\s+", "", text).lower()


def _detect_bank(rows) -> tuple[Profile, str] | None:
    for _, cells in rows[:40]:
        printed = {_norm(c) for c in cells if c}
        for profile, label, signatures in BANKS.values():
            if any({_norm(h) for h in sig} <= printed for sig in signatures):
                return profile, label
    return None


@dataclass(frozen=True)
class BankLine:
    """One line of a bank statement, parsed."""

    id: str
    line: int
    date: str
    amount: int  # + in, - out
    currency: str
    payer: str
    payer_account: str
    memo: str
    reference: str
    balance: int | None
    account: str

    @property
    def is_credit(self) -> bool:
        return self.amount > 0


@dataclass
class Parsed:
    source: str
    encoding: str
    profile: str
    lines: list[BankLine] = field(default_factory=list)
    found: str = ""  # what the file was recognised as, for people: 'WeChat Pay bill'
    rows: int = 0  # transaction rows read (a bill: income and the rest)
    ignored: dict[str, int] = field(default_factory=dict)  # why rows were left out -> how many


# --- reading ---------------------------------------------------------------------------------------------


def _raw_rows(path: Path) -> tuple[str, list[tuple[int, list[str]]]]:
    """(encoding, [(line or row number, cells)]) of every row of a CSV or XLSX file."""
    source = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(N_("cannot read {source}: {reason}"), source=source, reason=os_reason(exc),
                           field="file") from None
    if path.suffix.lower() == ".xls" or data.startswith(importer.OLE):
        return "XLS", [(n, [c.strip() for c in cells]) for n, cells in importer.xls_rows(data, source)]
    if importer.is_ods(path, data):
        return "ODS", [(n, [c.strip() for c in cells]) for n, cells in importer.ods_rows(data, source)]
    if data.startswith(b"PK\x03\x04") or path.suffix.lower() in (".xlsx", ".xlsm"):
        rows, _ = importer.xlsx_rows(data, source)
        return "XLSX", [(n, [c.strip() for c in cells]) for n, cells in rows]
    text, encoding = importer.decode(data, source)
    sample = "\n".join(text.splitlines()[:40])
    counts = {d: sample.count(d) for d in (",", "\t", ";")}
    delimiter = max(counts, key=counts.get) if any(counts.values()) else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"')
    rows, last = [], 0
    try:
        for cells in reader:
            start, last = last + 1, reader.line_num
            rows.append((start, [c.strip() for c in cells]))
    except csv.Error as exc:
        raise InvalidInput(N_("{source} line {line}: not readable as CSV ({reason})"), source=source, line=last + 1,
                           reason=str(exc), field="file") from None
    return encoding, rows


def _find_header(rows, profile: Profile, source: str) -> tuple[int, dict[str, list[int]], list[str]]:
    """(index in rows, field -> column indexes, headers) of the first row that names a date and an amount."""
    lookup, exact = {}, {}
    for name, headers in profile.columns.items():
        for header in (*headers, *((name,) if profile is GENERIC_PROFILE else ())):
            lookup.setdefault(importer._key(header), name)
            exact.setdefault(_norm(header), name)
    for index, (_, cells) in enumerate(rows[:40]):
        found: dict[str, list[int]] = {}
        for col, cell in enumerate(cells):
            # the header as printed first: 交易金额(收入) and 交易金额(支出) are two columns, not one 交易金额
            name = exact.get(_norm(cell)) or lookup.get(importer._key(cell))
            if name and (name in _MULTI or name not in found):
                found.setdefault(name, []).append(col)
        if "date" in found and ({"amount", "credit"} & set(found)):
            return index, found, cells
    wanted = "a date column and an amount or credit column"
    if profile is GENERIC_PROFILE:
        wanted += " (e.g. 交易日期 + 贷方发生额, or Date + Amount); for other headers save a profile " \
                  "(`duly reconcile profile add NAME --map date=HEADER --map credit=HEADER ...`)"
    else:
        wanted += f" named as profile {profile.name!r} says ({', '.join(sum(profile.columns.values(), ()))})"
    raise InvalidInput(N_("{source}: no header row found in the first 40 rows: expected {wanted}"),
                       source=source, wanted=wanted, field="file")


def _amount(text: str, currency: str, where: str) -> int:
    raw = text.replace("￥", "").replace("¥", "").replace("元", "").replace("RMB", "").replace("CNY", "").strip()
    negative = raw.startswith("(") and raw.endswith(")")
    raw = raw.strip("()").strip()
    suffix = raw[-2:].upper() if len(raw) > 2 else ""
    if suffix in ("CR", "DR"):
        raw, negative = raw[:-2].strip(), suffix == "DR"
    if not raw or raw in ("-", "--"):
        return 0
    try:
        minor = money.parse_amount(raw.lstrip("+"), currency, field="amount", allow_negative=True)
    except InvalidInput:
        raise InvalidInput(N_("{where}: {text} is not an amount (expected e.g. 1,234.56)"),
                           where=where, text=repr(text), field="amount") from None
    return -minor if negative else minor


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def _date(text: str, fmt: str | None, where: str) -> str:
    text = text.strip()
    day = None
    with contextlib.suppress(ValueError):  # not a real date: the message below says what was expected
        if fmt:
            day = datetime.strptime(text, fmt).date()
        elif re.fullmatch(r"\d{8}(\s.*)?", text):
            day = datetime.strptime(text[:8], "%Y%m%d").date()
        elif match := _DATE.match(text):
            day = datetime(*map(int, match.groups())).date()
    if day is not None:
        try:  # a line dated 9999-12-31 would break matching (a window of days around it) for good
            return validate.in_range(day, "date", text).isoformat()
        except InvalidInput as exc:
            raise InvalidInput(N_("{where}: {exc}"), where=where, exc=exc, field="date") from None
    expected = f"a date like {datetime(2026, 3, 1).strftime(fmt)}" if fmt else "a date like 2026-03-01, 2026/3/1, " \
        "20260301 or 2026年3月1日 (for other forms save a profile with --date-format)"
    raise InvalidInput(N_("{where}: {text} is not a date (expected {expected})"), where=where,
                       text=repr(text), expected=expected, field="date")


def fingerprint(values: dict, occurrence: int) -> str:
    body = json.dumps({"bank": values, "n": occurrence}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def parse(path: str | Path, profile: Profile = GENERIC_PROFILE, *, account: str | None = None,
          currency: str = "CNY") -> Parsed:
    """Every transaction line of a bank file; InvalidInput names the file, line, column and value of a problem."""
    path = Path(path)
    source = str(path)
    if _is_ofx(path):
        return _parse_ofx(path, source)
    encoding, rows = _raw_rows(path)
    if profile is GENERIC_PROFILE or profile.name in WALLETS:
        found = _wallet_header(rows, profile.name if profile.name in WALLETS else None)
        if found is not None:
            return _parse_wallet(source, encoding, rows, *found)
        if profile.name in WALLETS:
            wechat = N_("{source} is not a WeChat Pay bill: no header row with 交易时间, 收/支, 金额, 当前状态/交易状态 "
                        "and 交易单号/交易订单号 in its first 60 rows")
            alipay = N_("{source} is not an Alipay bill: no header row with 交易时间, 收/支, 金额, 当前状态/交易状态 "
                        "and 交易单号/交易订单号 in its first 60 rows")
            raise InvalidInput(wechat if profile.name == "wechat" else alipay, source=source, field="file")
    found_bank = BANKS[profile.name][1] if profile.name in BANKS else ""
    if profile is GENERIC_PROFILE and (detected := _detect_bank(rows)) is not None:
        profile, found_bank = detected
    start, cols, headers = _find_header(rows, profile, source)
    xlsx = encoding in ("XLSX", "XLS", "ODS")
    parsed = Parsed(source, encoding, profile.name, found=found_bank)
    seen: dict[str, int] = {}

    def cell(cells, name):
        return " ".join(cells[i] for i in cols.get(name, []) if i < len(cells) and cells[i]).strip()

    def where(number, name):
        col = cols[name][0]
        letter = f"{importer._letters(col)} " if xlsx else ""
        return _place(source, xlsx, number, f'{letter}"{headers[col]}"')

    for number, cells in rows[start + 1:]:
        if not any(cells):
            continue
        when = cell(cells, "date")
        if not when and not any(cell(cells, n) for n in ("amount", "credit", "debit")):
            continue  # a note row below the table
        if not re.match(r"\d", when) and _FOOTER.search(" ".join(cells[:4])):
            continue  # 合计 / Total
        on = _date(when, profile.date_format, where(number, "date"))
        named = cell(cells, "currency")
        cur = _currency(named, where(number, "currency")) if named else (profile.currency or currency)
        if "amount" in cols:
            amount = _amount(cell(cells, "amount"), cur, where(number, "amount"))
            flag = cell(cells, "direction").lower()
            if flag and amount > 0:
                if flag in _OUT:
                    amount = -amount
                elif flag not in _IN:
                    raise InvalidInput(N_("{number}: {flag} is neither in nor out (expected 贷/借, C/D, CR/DR, 收/支)"),
                                       number=where(number, 'direction'), flag=repr(flag), field="direction")
        else:
            credit = _amount(cell(cells, "credit"), cur, where(number, "credit"))
            debit = _amount(cell(cells, "debit"), cur, where(number, "debit")) if "debit" in cols else 0
            amount = credit - abs(debit)
        if amount == 0:
            continue  # a zero line (an interest accrual notice) moves nothing
        balance = _amount(cell(cells, "balance"), cur, where(number, "balance")) if cell(cells, "balance") else None
        values = {"account": cell(cells, "account") or profile.account or account or "", "date": on,
                  "amount": amount, "currency": cur, "reference": cell(cells, "reference"),
                  "payer": " ".join(cell(cells, "payer").split()), "payer_account": cell(cells, "payer_account"),
                  "memo": " ".join(cell(cells, "memo").split())}
        parsed.lines.append(_line(values, seen, number, balance))
    parsed.rows = len(parsed.lines)
    return parsed


def _line(values: dict, seen: dict[str, int], number: int, balance: int | None) -> BankLine:
    """The line with its id: the fingerprint of its values and of how many identical lines came before it."""
    key = json.dumps(values, sort_keys=True, ensure_ascii=False)
    seen[key] = seen.get(key, 0) + 1
    return BankLine(id=fingerprint(values, seen[key])[:16], line=number, balance=balance, **values)


# --- WeChat Pay and Alipay bills (微信支付账单, 支付宝账单) -------------------------------------------------------

# profile name -> (what people call it, the account its lines are booked on, the word its preamble carries)
WALLETS = {"wechat": (N_("WeChat Pay bill"), "微信支付", "微信"), "alipay": (N_("Alipay bill"), "支付宝", "支付宝")}
WALLET_COLUMNS = {
    "date": ("交易时间", "交易创建时间"),
    "type": ("交易类型", "交易分类"),
    "payer": ("交易对方",),
    "payer_account": ("对方账号",),
    "item": ("商品", "商品说明", "商品名称"),
    "direction": ("收/支",),
    "amount": ("金额",),  # 金额(元): the unit in brackets does not count
    "method": ("支付方式", "收/付款方式"),
    "status": ("当前状态", "交易状态"),
    "reference": ("交易单号", "交易订单号", "交易号"),
    "merchant_reference": ("商户单号", "商家订单号", "商户订单号"),
    "memo": ("备注",),
}
_WALLET_REQUIRED = ("date", "direction", "amount", "status", "reference")
# Final states of money received: a transfer or payment that arrived (支付成功, 已收钱, 交易成功 ...).
_RECEIVED = {"支付成功", "已收钱", "朋友已收钱", "对方已收钱", "已存入零钱", "已到账", "交易成功", "已入账", "收款成功"}
# A refund row in one of these states has not gone out yet (退款中, 处理中, 待…, 失败, 关闭).
_UNFINISHED = ("中", "待", "失败", "关闭")


def _wallet_header(rows, forced: str | None) -> tuple[str, int, dict[str, int]] | None:
    """(wallet, index of the header row, field -> column) when the file is a WeChat Pay or Alipay bill."""
    lookup = {importer._key(h): name for name, headers in WALLET_COLUMNS.items() for h in headers}
    for index, (_, cells) in enumerate(rows[:60]):
        cols: dict[str, int] = {}
        for col, cell in enumerate(cells):
            name = lookup.get(importer._key(cell))
            if name and name not in cols:
                cols[name] = col
        if all(n in cols for n in _WALLET_REQUIRED):
            preamble = " ".join(" ".join(c) for _, c in rows[:index])
            wallet = forced or next((w for w, (_, _, word) in WALLETS.items() if word in preamble), None) or (
                "wechat" if importer._key(cells[cols["status"]]) == "当前状态" else "alipay")
            return wallet, index, cols
    return None


def _parse_wallet(source: str, encoding: str, rows, wallet: str, start: int, cols: dict[str, int]) -> Parsed:
    """Income in a final state becomes a bank line (payer 交易对方, reference 交易单号), and so does a refund paid out
    (支出 whose 交易类型 or 当前状态 says 退款), as money out; other money out, neutral rows (不计收支, /) and rows not
    completed (an income refunded in full, closed, pending) are counted and left out."""
    label, account, _ = WALLETS[wallet]
    parsed = Parsed(source, encoding, wallet, found=label)
    headers = rows[start][1]
    xlsx = encoding in ("XLSX", "XLS", "ODS")
    seen: dict[str, int] = {}

    def cell(cells, name):
        index = cols.get(name)
        value = cells[index].strip() if index is not None and index < len(cells) else ""
        return "" if value == "/" else value

    def where(number, name):
        col = cols[name]
        letter = f"{importer._letters(col)} " if xlsx else ""
        return _place(source, xlsx, number, f'{letter}"{headers[col]}"')

    for number, cells in rows[start + 1:]:
        when = cell(cells, "date")
        if not re.match(r"\d", when):
            continue  # a blank, a ---- rule or a note below the table
        parsed.rows += 1
        direction, status = cell(cells, "direction"), cell(cells, "status")
        refund = direction == "支出" and "退款" in cell(cells, "type") + status  # money given back to a payer
        if refund and any(word in status for word in _UNFINISHED):
            reason = Said(N_("not completed ({status})"), status=status)
        elif refund:
            reason = ""
        elif direction != "收入":
            reason = Said(N_("money out")) if direction == "支出" else Said(N_("neither in nor out (不计收支)"))
        elif status not in _RECEIVED:
            reason = (Said(N_("not completed ({status})"), status=status) if status
                      else Said(N_("not completed (no status)")))
        else:
            reason = ""
        if reason:
            parsed.ignored[reason] = parsed.ignored.get(reason, 0) + 1
            continue
        on = _date(when, None, where(number, "date"))
        amount = _amount(cell(cells, "amount"), "CNY", where(number, "amount"))
        if amount <= 0:
            raise InvalidInput(N_("{number}: {cells} is income (收入) but not more than zero (expected a positive "
                                  "amount)"),
                               number=where(number, 'amount'), cells=repr(cell(cells, 'amount')), field="amount")
        if refund:
            amount = -amount  # money out: kept as a debit line, never matched to invoices (store.write.reconcile)
        memo = " ".join(p for p in (cell(cells, "type"), cell(cells, "item"), cell(cells, "memo")) if p)
        values = {"account": account, "date": on, "amount": amount, "currency": "CNY",
                  "reference": cell(cells, "reference"), "payer": " ".join(cell(cells, "payer").split()),
                  "payer_account": cell(cells, "payer_account"), "memo": " ".join(memo.split())}
        parsed.lines.append(_line(values, seen, number, None))
    return parsed


# --- OFX (through ofxtools) ----------------------------------------------------------------------------------


def _is_ofx(path: Path) -> bool:
    if path.suffix.lower() in (".ofx", ".qfx"):
        return True
    try:
        with path.open("rb") as f:
            head = f.read(512).lstrip()
    except OSError:
        return False
    return head.startswith(b"OFXHEADER") or (head.startswith(b"<?xml") and b"<?OFX" in head)


def _parse_ofx(path: Path, source: str) -> Parsed:
    """OFX 1.x (SGML) or 2.x (XML): each statement's transactions. FITID, unique per account, is the reference;
    DTPOSTED's date in UTC is the line's date."""
    from ofxtools.header import OFXHeaderError
    from ofxtools.Parser import OFXTree, ParseError

    tree = OFXTree()
    try:
        with warnings.catch_warnings():  # ofxtools warns on stderr about tags it skips; one error line is ours
            warnings.simplefilter("ignore")
            tree.parse(str(path))
            ofx = tree.convert()
        statements = list(ofx.statements)
    except (ParseError, OFXHeaderError, ValueError, KeyError, IndexError, AttributeError) as exc:
        raise InvalidInput(N_("{source} is not a readable OFX statement ({exc})"),
                           source=source, exc=exc, field="file") from None
    parsed = Parsed(source, "OFX", "ofx")
    seen: dict[str, int] = {}
    number = 0
    for stmt in statements:
        account = getattr(stmt.account, "acctid", "") or ""
        for trn in stmt.banktranlist or ():
            number += 1
            cur = money.check_currency(getattr(trn, "currency", None) and trn.currency.cursym or stmt.curdef)
            where = f"{source} transaction {number} (FITID {trn.fitid})"
            amount = _amount(str(trn.trnamt), cur, where)
            if amount == 0:
                continue
            payee = getattr(trn, "payee", None)
            to = getattr(trn, "bankacctto", None)
            try:
                on = validate.in_range(trn.dtposted.date(), "date").isoformat()
            except InvalidInput as exc:
                raise InvalidInput(N_("{where}: {exc}"), where=where, exc=exc, field="date") from None
            values = {"account": account, "date": on, "amount": amount, "currency": cur,
                      "reference": trn.fitid or "", "payer": " ".join((trn.name or (payee.name if payee else "")
                                                                       or "").split()),
                      "payer_account": (to.acctid if to else "") or "", "memo": " ".join((trn.memo or "").split())}
            parsed.lines.append(_line(values, seen, number, None))
    return parsed


_CURRENCY_NAMES = {"人民币": "CNY", "美元": "USD", "欧元": "EUR", "港币": "HKD", "港元": "HKD", "日元": "JPY",
                   "英镑": "GBP"}


def _currency(text: str, where: str) -> str:
    found = _CURRENCY_NAMES.get(text.strip()) or text.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", found):
        raise InvalidInput(N_("{where}: {text} is not a currency (expected CNY, USD ... or 人民币, 美元 ...)"),
                           where=where, text=repr(text),
                           field="currency")
    return found


# --- profiles (saved column mappings) ----------------------------------------------------------------------


def _profile_row(ledger, name: str) -> dict | None:
    return ledger.row("SELECT * FROM bank_profiles WHERE name=? AND coalesce(archived, 0)=0 ORDER BY id LIMIT 1",
                      (name,))


def load_profile(ledger, name: str | None) -> Profile:
    if not name or name == "generic":
        return GENERIC_PROFILE
    row = _profile_row(ledger, name)  # a saved profile comes first, even with a built-in's name
    if row is None and name in WALLETS:
        return Profile(name, {})
    if row is None and name in BANKS:
        return BANKS[name][0]
    if row is None:
        known = [r["name"] for r in ledger.rows("SELECT name FROM bank_profiles WHERE coalesce(archived,0)=0")]
        names = ", ".join(["generic", *WALLETS, *BANKS, *sorted(known)])
        raise NotFound(N_("unknown bank profile {name} (known: {names})"), name=repr(name), names=names)
    columns = {k: tuple(v) for k, v in json.loads(row["columns"]).items()}
    return Profile(row["name"], columns, row["date_format"], row["account"], row["currency"])


def parse_mapping(pairs: list[str]) -> dict[str, tuple[str, ...]]:
    """['date=交易时间', 'memo=附言', 'memo=用途'] -> {'date': ('交易时间',), 'memo': ('附言', '用途')}."""
    columns: dict[str, list[str]] = {}
    for pair in pairs or []:
        name, sep, header = (pair or "").partition("=")
        name = name.strip().lower()
        if not sep or not header.strip():
            raise InvalidInput(N_("column mapping {pair}: expected FIELD=HEADER, e.g. credit=收入金额"),
                               pair=repr(pair), field="map")
        if name not in FIELDS:
            raise InvalidInput(N_("column mapping {pair}: unknown field {name} (expected one of: {fields})"),
                               pair=repr(pair), name=repr(name), fields=', '.join(FIELDS), field="map")
        columns.setdefault(name, []).append(header.strip())
    if "date" not in columns or not ({"amount", "credit"} & set(columns)):
        raise InvalidInput(N_("a bank profile maps at least date and amount (signed) or credit (money in), e.g. "
                              "--map date=交易时间 --map credit=收入"), field="map")
    return {k: tuple(v) for k, v in columns.items()}


def save_profile(ledger, name: str, pairs: list[str], *, date_format: str | None = None,
                 account: str | None = None, currency: str | None = None) -> str:
    """Add or replace a named profile. One transaction."""
    name = (name or "").strip()
    if not name or name == "generic":
        raise InvalidInput(N_("a bank profile needs a name other than 'generic'"), field="name")
    columns = parse_mapping(pairs)
    if date_format:
        try:
            datetime(2026, 3, 1).strftime(date_format)
            datetime.strptime(datetime(2026, 3, 1).strftime(date_format), date_format)
        except ValueError:
            raise InvalidInput(N_("date format {date_format} is not a strptime format like %d/%m/%Y"),
                               date_format=repr(date_format),
                               field="date_format") from None
    cur = money.check_currency(currency) if currency else None
    with ledger.writing() as tx:
        row = _profile_row(ledger, name)
        row_id = row["id"] if row else uuid7()
        tx.set("bank_profiles", row_id, name=name, columns=json.dumps(columns, ensure_ascii=False),
               date_format=date_format or None, account=(account or "").strip() or None, currency=cur, archived=0)
    return row_id


def _place(source: str, xlsx: bool, number: int, column: str) -> Said:
    """Where a cell is ("a.csv line 3, column "金额""), in each language: the importers' own words for it."""
    place = (Said(N_("{source} row {line}"), source=source, line=number) if xlsx
             else Said(N_("{source} line {line}"), source=source, line=number))
    return Said(N_("{place}, column {name}"), place=place, name=column)


def profiles(ledger) -> list[dict]:
    rows = [{"name": "generic", "columns": "; ".join(f"{k}={'/'.join(v[:3])}…" for k, v in GENERIC.items()),
             "date_format": "", "account": "", "currency": ""}]
    for name, (label, account, _) in WALLETS.items():
        rows.append({"name": name, "columns": Said(N_("{label} (built in, detected): {columns}"), label=Said(label),
                                                   columns="; ".join(f"{k}={'/'.join(v)}"
                                                                     for k, v in WALLET_COLUMNS.items())),
                     "date_format": "", "account": account, "currency": "CNY"})
    for name, (profile, label, _) in BANKS.items():
        rows.append({"name": name, "columns": Said(N_("{label} (built in, detected): {columns}"), label=Said(label),
                                                   columns="; ".join(f"{k}={'/'.join(v)}"
                                                                     for k, v in profile.columns.items())),
                     "date_format": "", "account": "", "currency": ""})
    for r in ledger.rows("SELECT * FROM bank_profiles WHERE coalesce(archived,0)=0 ORDER BY name"):
        cols = json.loads(r["columns"])
        rows.append({"name": r["name"], "columns": "; ".join(f"{k}={'/'.join(v)}" for k, v in cols.items()),
                     "date_format": r["date_format"] or "", "account": r["account"] or "",
                     "currency": r["currency"] or ""})
    return rows


# --- import ------------------------------------------------------------------------------------------------


@dataclass
class Imported:
    source: str
    encoding: str
    profile: str
    added: list[BankLine]
    skipped: list[BankLine]
    dry_run: bool = False
    found: str = ""
    rows: int = 0
    ignored: dict[str, int] = field(default_factory=dict)

    @property
    def credits(self) -> int:
        return sum(1 for b in self.added if b.is_credit)

    @property
    def debits(self) -> int:
        return sum(1 for b in self.added if not b.is_credit)


def import_file(ledger, path: str | Path, *, profile: str | None = None, account: str | None = None,
                currency: str | None = None, dry_run: bool = False) -> Imported:
    """Read a bank file and post its new lines, all in one transaction; lines seen before are skipped."""
    chosen = load_profile(ledger, profile)
    cur = money.check_currency(currency or chosen.currency or ledger.setting("currency", "CNY") or "CNY")
    parsed = parse(path, chosen, account=account, currency=cur)
    ids = [b.id for b in parsed.lines]
    there: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        there |= {r["id"] for r in ledger.rows(
            f"SELECT id FROM bank_lines WHERE id IN ({','.join('?' * len(chunk))})", chunk)}
    added = [b for b in parsed.lines if b.id not in there]
    skipped = [b for b in parsed.lines if b.id in there]
    outcome = Imported(parsed.source, parsed.encoding, parsed.profile, added, skipped, dry_run, parsed.found,
                       parsed.rows, parsed.ignored)
    if added and not dry_run:
        with ledger.writing() as tx:
            tx.events("bank_lines", [(b.id, {
                "account": b.account, "date": b.date, "amount": b.amount, "currency": b.currency, "payer": b.payer,
                "payer_account": b.payer_account, "memo": b.memo, "reference": b.reference, "balance": b.balance,
                "source": Path(parsed.source).name, "line": b.line}) for b in added])
    return outcome
