"""Templates a user can change (`duly template list | show | edit | reset`): kept in the ledger, refused when
they do not parse (naming the line), and rendered in a sandbox with limits, so a template cannot reach Python's
internals or hang the program."""
from __future__ import annotations

import time

import pytest

from store.files.documents import engine
from tests.support.cli import PASSPHRASE, assert_one_line_error

CONTEXT = {"customer": {"name": "上海恒达贸易有限公司"}}


def test_template_list_show_edit_reset(cli, tmp_path):
    assert cli("init").code == 0
    rows = cli("template", "list", "--format", "json").json()
    assert [r["name"] for r in rows] == list(engine.NAMES)
    assert {r["source"] for r in rows} == {"default"}
    default = cli("template", "show", "statement.zh").out
    assert "对账单" in default and default == engine.default_source("statement.zh")

    mine = tmp_path / "mine.html"
    mine.write_text(default.replace("<h1>对账单</h1>", "<h1>客户对账单（请核对）</h1>"), encoding="utf-8")
    assert cli("template", "edit", "statement.zh", "--file", mine).code == 0
    assert "客户对账单（请核对）" in cli("template", "show", "statement.zh").out
    assert cli("template", "show", "statement.zh", "--default").out == default
    listed = {r["name"]: r["source"] for r in cli("template", "list", "--format", "json").json()}
    assert listed["statement.zh"] == "edited" and listed["statement.en"] == "default"
    from store.ledger.ledger import Ledger

    with Ledger.open(cli.path, PASSPHRASE) as led:  # kept in the synced settings table
        assert "客户对账单" in led.setting("template.statement.zh")

    assert "default again" in cli("template", "reset", "statement.zh").out
    assert cli("template", "show", "statement.zh").out == default
    assert "already" in cli("template", "reset", "statement.zh").out


def test_a_template_that_does_not_parse_is_refused_naming_the_line_and_nothing_is_kept(cli, tmp_path):
    assert cli("init").code == 0
    broken = tmp_path / "broken.html"
    broken.write_text("<h1>对账单</h1>\n<p>{{ customer.name </p>\n", encoding="utf-8")
    assert_one_line_error(cli("template", "edit", "statement.zh", "--file", broken), 1, "template statement.zh",
                          "line 2")
    assert cli("template", "show", "statement.zh").out == engine.default_source("statement.zh")
    assert_one_line_error(cli("template", "show", "statement.fr"), 1, "unknown template")


@pytest.mark.parametrize("source", [
    "<p>{{ ''.__class__.__mro__[1].__subclasses__() }}</p>",
    "<p>{{ cycler.__init__.__globals__.os.system('true') }}</p>",
    "<p>{{ self._TemplateReference__context }}</p>",
    "<p>{{ customer.name.__class__ }}</p>",
    "<p>{{ customer.update({'name': 'x'}) }}</p>",
])
def test_a_template_reaching_python_internals_is_refused(source):
    with pytest.raises(engine.TemplateError, match=r"template statement\.zh, line 1: .*(unsafe|refused)"):
        engine.render("statement.zh", source, CONTEXT)


@pytest.mark.parametrize(("source", "words"), [
    ("<p>\n{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}</p>", "longer than"),
    ("{% for a in range(100000) %}{% for b in range(100000) %}xxxxxxxxxxxxxxxxxxxxxxxxxxx{% endfor %}{% endfor %}",
     "grew past"),
    ("{{ 'x' * 1000000000 }}", "refused"),
    ("{{ 9 ** 99999999 }}", "refused"),
    ("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "calls itself"),
])
def test_a_template_that_loops_or_blows_up_is_stopped(source, words):
    started = time.monotonic()
    with pytest.raises(engine.TemplateError, match=words):
        engine.render("statement.zh", source, CONTEXT, seconds=2, max_output=1_000_000)
    assert time.monotonic() - started < 10


def test_the_timeout_names_the_line_of_the_loop():
    with pytest.raises(engine.TemplateError, match="line 3"):
        engine.render("dunning.en", "<p>\n</p>\n{% for a in range(100000) %}{% for b in range(100000) %}"
                      "{% endfor %}{% endfor %}", CONTEXT, seconds=0.5)


def test_a_misspelt_field_is_an_error_not_an_empty_space():
    with pytest.raises(engine.TemplateError, match=r"template statement\.en, line 2: 'customr' is undefined"):
        engine.render("statement.en", "<p>\n{{ customr.name }}</p>", CONTEXT)


def test_text_from_the_ledger_is_escaped():
    out = engine.render("statement.en", "<p>{{ customer.name }}</p>", {"customer": {"name": "<b>A&B</b>"}})
    assert out == "<p>&lt;b&gt;A&amp;B&lt;/b&gt;</p>"
