"""The built-in terms by their Chinese names (月结30 is EOM30), wherever terms are typed or imported."""
from __future__ import annotations

from store.rules.terms import builtin_name


def test_chinese_names_and_any_case_mean_the_built_in():
    assert builtin_name("月结30") == builtin_name("月结30天") == builtin_name("eom30") == "EOM30"
    assert builtin_name("月结60") == "EOM60"
    assert builtin_name("货到付款") == "COD"
    assert builtin_name("NET45") is None


def test_typed_on_the_command_line_and_shown_by_terms_list(cli, tmp_path):
    assert cli("init").code == 0
    assert cli("customer", "add", "HD001", "--name", "上海恒达贸易有限公司", "--terms", "月结30").code == 0
    assert cli("customer", "show", "HD001", "--format", "json").json()["terms"] == "EOM30"
    made = cli("invoice", "add", "--customer", "HD001", "--date", "2026-01-15", "--amount", "100", "--terms", "月结60",
               "--format", "json")
    assert made.code == 0, made.err
    assert [d["due_date"] for d in made.json()["due_items"]] == ["2026-04-01"]  # end of January + 60 days
    listed = {row["name"]: row for row in cli("terms", "list", "--format", "json").json()}
    assert listed["EOM30"]["zh_name"] == "月结30"
    assert cli("terms", "add", "月结30", "--line", "100%:days_after:30").code == 1  # a built-in's name


def test_imported_customers_and_invoices_may_name_terms_in_chinese(cli, tmp_path):
    assert cli("init").code == 0
    people = tmp_path / "customers.csv"
    people.write_text("客户编码,客户名称,账期\nHD001,上海恒达贸易有限公司,月结30\n", encoding="utf-8")
    done = cli("import", "customers", str(people))
    assert done.code == 0, done.err
    assert cli("customer", "show", "HD001", "--format", "json").json()["terms"] == "EOM30"
