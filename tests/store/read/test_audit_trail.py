"""The audit trail reads like one: documents by their numbers and codes, amounts as money, local times, and a
contact's changes as the contact's."""
from __future__ import annotations

import time

import pytest

from store.read import audit


@pytest.fixture
def book(cli, tmp_path):
    assert cli("init", "--series", "A7").code == 0
    assert cli("customer", "add", "C1", "--name", "Acme", "--credit-limit", "2000").code == 0
    assert cli("customer", "contact", "C1", "--name", "王会计", "--phone", "13800000000").code == 0
    assert cli("customer", "edit", "C1", "--credit-limit", "5000").code == 0
    assert cli("invoice", "add", "--customer", "C1", "--date", "2026-01-05", "--amount", "1000").code == 0
    assert cli("payment", "add", "--customer", "C1", "--date", "2026-01-06", "--amount", "300").code == 0
    assert cli("writeoff", "A7-000001", "--date", "2026-06-30", "--reason", "bad debt").code == 0
    secret = tmp_path / "smtp-password"
    secret.write_text("hunter2\n", encoding="utf-8")
    assert cli("settings", "set", "smtp.password", "--value-file", str(secret)).code == 0
    return cli


def test_audit_names_documents_and_shows_money_not_row_ids_or_minor_units(book):
    out = book("audit").out
    lines = out.splitlines()[2:]
    assert "customer C1: credit_limit = 5,000.00 CNY" in lines[3]
    assert "invoice A7-000001 posted: total 1,000.00 CNY, tax 0.00 CNY, customer C1" in lines[4]
    assert "payment RC-A7-000001 posted: amount 300.00 CNY, customer C1" in lines[5]
    assert "300.00 CNY of payment RC-A7-000001 applied to invoice A7-000001" in lines[5]
    assert "write-off WO-A7-000001 posted: amount 700.00 CNY, invoice A7-000001" in lines[6]
    assert "contact 王会计 of customer C1" in lines[2]
    assert "hunter2" not in out and len(lines) == 7  # the SMTP password is the device's own: never in the log
    assert "500000" not in out and "…" not in lines[3]  # no raw minor units, no row-id tails


def test_audit_shows_local_time_for_people_and_keeps_utc_for_scripts(book, monkeypatch):
    rows = book("audit", "--format", "json").json()
    assert all(r["at"].endswith("Z") for r in rows)
    assert all(r["local_time"] == audit.local_time(r["at"]) for r in rows)
    assert "credit_limit = 5000.00" in rows[3]["what"]  # machines get decimal strings
    first = book("audit").out.splitlines()[2]
    assert first.startswith(rows[0]["local_time"])


def test_local_time_converts_from_utc(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        assert audit.local_time("2026-01-05T23:59:59.999Z") == "2026-01-06 07:59:59"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_field_history_names_a_contacts_change_as_the_contacts_and_shows_money(book):
    assert book("customer", "edit", "C1", "--name", "Acme Trading").code == 0
    shown = book("customer", "show", "C1", "--format", "json").json()
    history = shown["history"]
    names = [(h["subject"], h["old"], h["new"]) for h in history if h["field"] == "name"]
    assert names == [("customer", None, "Acme"), ("contact 王会计", None, "王会计"), ("customer", "Acme", "Acme Trading")]
    limits = [(h["old"], h["new"]) for h in history if h["field"] == "credit_limit"]
    assert limits == [(None, "2000.00"), ("2000.00", "5000.00")]
    table = book("customer", "show", "C1").out
    assert "2,000.00 CNY  5,000.00 CNY" in table
    assert "contact 王会计  name" in table


def test_audit_selects_by_the_document_date_as_well_as_by_when_the_change_was_made(book):
    assert book("invoice", "add", "--customer", "C1", "--date", "2025-12-20", "--amount", "5").code == 0

    def posted(*argv):
        rows = book("audit", "--format", "json", *argv).json()
        return [r["what"].split(" posted")[0] for r in rows]

    assert posted("--by", "document", "--from", "2026-01-01", "--to", "2026-01-31") == [
        "invoice A7-000001", "payment RC-A7-000001"]
    assert posted("--by", "document", "--to", "2025-12-31") == ["invoice A7-000002"]
    assert len(posted("--by", "document", "--from", "2026-06-30")) == 1  # the write-off
    assert len(posted("--from", "2026-01-01")) == len(book("audit", "--format", "json").json())  # made today


def test_audit_reads_in_chinese_for_a_chinese_reader_and_stays_english_for_scripts(book):
    assert book("customer", "archive", "C1").code == 0
    out = book("--lang", "zh", "audit").out
    assert "客户 C1：信用额度 = 5,000.00 CNY" in out
    assert "发票 A7-000001 已记账：" in out and "A7-000001 核销坏账" not in out
    assert "客户 C1 的联系人 王会计" in out
    assert "客户 C1：已归档 = 是" in out  # yes and no in words
    assert "结算周期 = 逐单" in out and "方式 其他" in out  # values from a fixed list in words
    for english in ("posted", "customer C1", "(empty)", " of ", "applied to"):
        assert english not in out, english
    rows = book("--lang", "zh", "audit", "--format", "json").json()
    assert "customer C1: credit_limit = 5000.00" in rows[3]["what"]  # scripts read the English line
