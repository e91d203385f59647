"""Finding a customer the way Chinese users type: part of the code, name or tax id, the name's pinyin whole or by
initials; kept in an index as customers are written (here or by sync), so a search is a lookup, not a scan."""
from __future__ import annotations

from store.ledger import schema
from store.ledger.ledger import Ledger
from store.write import customers
from tests.support.cli import PASSPHRASE

HENGDA = "上海恒达贸易有限公司"


def codes(ledger, query: str) -> list[str]:
    return [row["code"] for row in customers.listing(ledger, search=query)]


def test_pinyin_whole_or_by_initials_finds_the_customer(ledger):
    customers.add(ledger, "HD001", HENGDA, tax_id="91310000MA1FL0XX3J")
    customers.add(ledger, "SZ004", "深圳前海供应链管理有限公司")
    customers.add(ledger, "ACME", "Acme Trading Ltd")
    for query in ("hengda", "HengDa", "heng da", "shhd", "hdmy", "恒达", "上海", "hd0", "D001", "MA1FL0", "91310000"):
        assert codes(ledger, query) == ["HD001"], query
    assert codes(ledger, "gongsi") == ["HD001", "SZ004"]
    assert codes(ledger, "trading") == ["ACME"]
    assert codes(ledger, "nobody") == []


def test_a_long_name_costs_terms_in_proportion_to_its_length_and_is_still_found(ledger):
    """Every tail of a name was a term whole: a 3,000-character name added 114 MB to the file (n*n/2 characters).
    Terms are cut to search.TERM_LENGTH characters; a search longer than that matches by its start."""
    from store.rules.search import TERM_LENGTH

    long_name = "长" * 1500 + "恒达" + "长" * 1500 + " Trading"
    customers.add(ledger, "LONG", long_name)
    customers.add(ledger, "HD001", HENGDA)
    stored = ledger.conn.execute("SELECT sum(length(term)), max(length(term)) FROM customer_search "
                                 "WHERE customer_id = (SELECT id FROM customers WHERE code = 'LONG')").fetchone()
    assert stored[1] == TERM_LENGTH and stored[0] < 4 * len(long_name) * TERM_LENGTH  # name and pinyin tails
    assert codes(ledger, "恒达长长") == ["LONG"]
    assert codes(ledger, "长" * 40) == ["LONG"]  # longer than a term: found by its first characters
    assert codes(ledger, "长长 trading") == ["LONG"]
    assert codes(ledger, "恒达") == ["HD001", "LONG"]


def test_a_renamed_customer_is_found_by_its_new_name_only(ledger):
    customers.add(ledger, "HD001", HENGDA)
    customers.edit(ledger, "HD001", name="北京远航科技有限公司")
    assert codes(ledger, "shhd") == []
    assert codes(ledger, "bjyh") == codes(ledger, "yuanhang") == ["HD001"]


def test_search_is_an_index_lookup(ledger):
    customers.add(ledger, "HD001", HENGDA)
    plan = " ".join(str(row[-1]) for row in ledger.conn.execute(
        "EXPLAIN QUERY PLAN SELECT customer_id FROM customer_search WHERE term >= 'heng' AND term < 'henh'"))
    assert "SEARCH customer_search" in plan, plan


def test_the_upgrade_indexes_the_customers_a_ledger_already_holds(tmp_path):
    path = tmp_path / "old.duly"
    with Ledger.create(path, PASSPHRASE, actor="tester") as ledger:
        customers.add(ledger, "HD001", HENGDA)
        ledger.conn.execute("DROP TABLE customer_search")  # as a ledger written before the index existed
        ledger.conn.execute(f"PRAGMA user_version = {schema.MIGRATIONS.index(schema._v_customer_search)}")
    with Ledger.open(path, PASSPHRASE) as ledger:
        assert codes(ledger, "shhd") == ["HD001"]


def test_customer_list_search_on_the_command_line(cli):
    assert cli("init").code == 0
    assert cli("customer", "add", "HD001", "--name", HENGDA).code == 0
    assert cli("customer", "add", "SZ004", "--name", "深圳前海供应链管理有限公司").code == 0
    for query in ("hengda", "shhd"):
        shown = cli("customer", "list", "--search", query, "--format", "json").json()
        assert [row["code"] for row in shown] == ["HD001"]
