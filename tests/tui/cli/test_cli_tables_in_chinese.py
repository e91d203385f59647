"""The command line's tables for people in their language: column titles, values from a fixed list
(bank_transfer, per_order, not_due), the total row; English keeps its column keys, save the year buckets, which
read "within 1 year" in English and 1年以内 in Chinese. JSON and CSV keep the keys and values scripts read."""
from __future__ import annotations


def book(cli):
    assert cli("init").code == 0
    assert cli("customer", "add", "HD001", "--name", "上海恒达贸易有限公司", "--cycle", "per_order").code == 0
    assert cli("invoice", "add", "--customer", "HD001", "--date", "2024-01-10", "--amount", "1000").code == 0
    assert cli("payment", "add", "--customer", "HD001", "--date", "2026-01-05", "--amount", "100",
               "--method", "bank_transfer", "--no-allocate").code == 0


def test_tables_in_chinese(cli):
    book(cli)
    customers = cli("--lang", "zh", "customer", "list").out
    assert "编码" in customers and "名称" in customers
    payments = cli("--lang", "zh", "payment", "list").out
    assert "银行转账" in payments and "bank_transfer" not in payments
    aging = cli("--lang", "zh", "report", "aging", "--as-of", "2026-06-30").out
    assert "合计" in aging and "TOTAL" not in aging and "未到期" in aging and "not_due" not in aging
    years = cli("--lang", "zh", "report", "aging", "--as-of", "2026-06-30", "--years").out
    assert "2-3年" in years


def test_year_buckets_read_english_in_english_and_json_keeps_its_keys(cli):
    book(cli)
    years = cli("report", "aging", "--as-of", "2026-06-30", "--years").out
    assert "within 1 year" in years and "2–3 years" in years and "年" not in years.replace("上海恒达贸易有限公司", "")
    assert "TOTAL" in years and "合计" not in years
    shown = cli("--lang", "zh", "payment", "list", "--format", "json").json()
    assert shown[0]["method"] == "bank_transfer"
