"""A customer entered twice is caught: the same tax id is refused unless allowed; a name that normalises to an
existing one is said; imports apply the same rule."""
from __future__ import annotations

import pytest

from store.rules.validate import name_key, uscc_check_char
from store.ledger.ledger import Ledger
from tests.support.cli import PASSPHRASE, assert_one_line_error

USCC = "91350100M000100Y43"


@pytest.mark.parametrize("a,b", [
    ("ACME Ltd.", "Acme Limited"), ("ACME Co., Ltd.", "acme"), ("上海恒达贸易有限公司", "上海恒达贸易"),
    ("上海恒达贸易有限公司", "上海恒达贸易（有限公司）"), ("Ａｃｍｅ Inc", "ACME"),
])
def test_names_that_differ_only_in_case_width_punctuation_or_legal_form_have_one_key(a, b):
    assert name_key(a) == name_key(b)


@pytest.mark.parametrize("a,b", [("Acme", "Acme Tools"), ("Sinco", "Sin"), ("恒达贸易", "恒达物流")])
def test_different_names_have_different_keys(a, b):
    assert name_key(a) != name_key(b)


@pytest.fixture
def book(cli):
    assert cli("init").code == 0
    assert cli("customer", "add", "C1", "--name", "上海恒达贸易有限公司", "--tax-id", USCC).code == 0
    return cli


def test_a_second_customer_with_the_same_tax_id_is_refused_unless_allowed(book):
    result = book("customer", "add", "C2", "--name", "Other", "--tax-id", USCC.lower())
    assert_one_line_error(result, 1, "tax id", "C1", "--allow-duplicate-tax-id")
    assert book("customer", "show", "C2").code == 1  # nothing written
    assert book("customer", "add", "C2", "--name", "Other", "--tax-id", USCC, "--allow-duplicate-tax-id").code == 0


def test_editing_a_tax_id_onto_another_customers_is_refused_unless_allowed(book):
    assert book("customer", "add", "C2", "--name", "Other").code == 0
    assert_one_line_error(book("customer", "edit", "C2", "--tax-id", USCC), 1, "C1")
    assert book("customer", "edit", "C1", "--tax-id", USCC, "--name", "Renamed").code == 0  # its own: fine
    assert book("customer", "edit", "C2", "--tax-id", USCC, "--allow-duplicate-tax-id").code == 0


def test_a_name_like_an_existing_customers_warns_but_is_added(book):
    result = book("customer", "add", "C2", "--name", "上海恒达贸易")
    assert result.code == 0 and "C2 added" in result.out
    assert "warning" in result.err and "C1" in result.err
    assert book("customer", "add", "C3", "--name", "北京远方科技").err == ""
    renamed = book("customer", "edit", "C3", "--name", "上海 恒达贸易 有限公司")
    assert renamed.code == 0 and "C1" in renamed.err and "C2" in renamed.err


def test_imports_refuse_a_known_tax_id_and_warn_on_a_known_name(book, tmp_path):
    dup = tmp_path / "dup.csv"
    dup.write_text(f"code,name,tax_id\nN1,New One,\nN2,Someone,{USCC}\n", encoding="utf-8")
    result = book("import", "customers", dup)
    assert result.code == 1 and "line 3" in result.err and "tax id" in result.err
    assert book("customer", "show", "N1").code == 1  # all rows or none
    same_file = tmp_path / "twice.csv"
    valid = "91110000MA0000000" + uscc_check_char("91110000MA0000000")
    same_file.write_text(f"code,name,tax_id\nN1,One,{valid}\nN2,Two,{valid}\n", encoding="utf-8")
    assert "line 3" in book("import", "customers", same_file).err
    names = tmp_path / "names.csv"
    names.write_text("code,name\nN3,上海恒达贸易 (有限公司)\nN4,ACME Ltd\nN5,Acme Limited\n", encoding="utf-8")
    result = book("import", "customers", names, "--format", "json")
    assert result.code == 0, result.err
    warnings = result.json()["warnings"]
    assert any("N3" not in w and "C1" in w for w in warnings)
    assert any("N4" in w for w in warnings)  # N5 is like N4, earlier in the same file
    assert len(warnings) == 2


def test_an_import_told_so_adds_customers_whose_tax_id_another_has(book, tmp_path):
    """Issue 20: the explicit flag that `customer add/edit` take lets an import in too, on adds and updates."""
    valid = "91110000MA0000000" + uscc_check_char("91110000MA0000000")
    assert book("customer", "add", "C2", "--name", "Second", "--tax-id", valid).code == 0
    branches = tmp_path / "branches.csv"
    branches.write_text(f"code,name,tax_id\nB1,Hengda Branch One,{USCC}\nB2,Hengda Branch Two,{USCC}\n"
                        f"C2,Second,{USCC}\n", encoding="utf-8")
    assert_one_line_error(book("import", "customers", branches), 1, "line 2", "tax id", "--allow-duplicate-tax-id")
    result = book("import", "customers", branches, "--allow-duplicate-tax-id")
    assert result.code == 0, result.err
    with Ledger.open(book.path, PASSPHRASE) as led:
        taxed = {r["code"]: r["tax_id"] for r in led.rows("SELECT code, tax_id FROM customers")}
    assert taxed["B1"] == taxed["B2"] == taxed["C2"] == taxed["C1"] == USCC
    payments = tmp_path / "payments.csv"
    payments.write_text("customer,date,amount\nC1,2026-03-01,10\n", encoding="utf-8")
    assert_one_line_error(book("import", "payments", payments, "--allow-duplicate-tax-id"), 2,
                          "--allow-duplicate-tax-id")
