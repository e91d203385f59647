"""Matching bank lines with reasons, and `duly reconcile list|accept|reject|reopen|auto`: nothing applied twice,
nothing unmatched disappears, ambiguous lines are left for a person, a bank fee within tolerance is written
off, and an accepted payer is remembered."""
from __future__ import annotations

from datetime import date

import pytest

from store.files import bank
from store.read import open as openitems
from store.rules import matching
from store.rules.openitems import OpenInvoice
from store.write import customers, invoices, payments, reconcile, settings
from store.errors import Conflict
from tests.support.cli import assert_one_line_error

STATEMENT = (
    "交易日期,借方发生额,贷方发生额,对方户名,对方账号,摘要,附言\n"
    "20260302,,\"10,000.00\",上海恒达贸易有限公司,6222 0001,货款,A7-000001\n"  # number in memo + exact amount
    "20260303,,5000.00,恒达,,货款,\n"  # two customers called 恒达… with an open 5,000.00 each: ambiguous
    "20260304,15.00,,,,手续费,\n"  # money out
    "20260305,,1985.00,ACME Trading Ltd,,payment,\n"  # A7-000004 + A7-000005 less a 15.00 bank fee
    "20260306,,333.00,张三,,借款,\n"  # nobody: stays for a person
)


def d(text: str) -> date:
    return date.fromisoformat(text)


@pytest.fixture
def book(ledger, tmp_path):
    """Three customers, five open invoices A7-000001..5, the statement above imported (GBK)."""
    customers.add(ledger, "HD001", "上海恒达贸易有限公司")
    customers.add(ledger, "HD002", "恒达科技有限公司")
    customers.add(ledger, "AC01", "Acme Trading Co., Ltd.")
    ledger.set_meta("series_prefix", "A7")
    for code, on, amount, due in (("HD001", "2026-02-01", "10000", "2026-03-01"),
                                  ("HD002", "2026-02-01", "5000", "2026-03-01"),
                                  ("HD001", "2026-02-03", "5000", "2026-03-03"),
                                  ("AC01", "2026-02-03", "1200", "2026-03-03"),
                                  ("AC01", "2026-02-04", "800", "2026-03-04")):
        invoices.add(ledger, code, on, amount=amount, due=due)
    src = tmp_path / "bank.csv"
    src.write_bytes(STATEMENT.encode("gbk"))
    bank.import_file(ledger, src)
    return ledger


def line_of(ledger, payer: str) -> dict:
    return next(r for r in reconcile.lines(ledger, status=None) if r["payer"] == payer and r["amount"] > 0)


def open_amount(ledger, number: str) -> int:
    return openitems.invoice_open(ledger, invoices.by_number(ledger, number)["id"])


# --- pure rules ---------------------------------------------------------------------------------------------------


def test_names_are_compared_without_company_suffixes():
    assert matching.normalise_name("上海恒达贸易有限公司") == "上海恒达贸易"
    assert matching.normalise_name("ACME Trading Co., Ltd.") == "acmetrading"
    assert matching.name_similarity("上海恒达贸易有限公司", "上海恒达贸易有限公司") == 1.0
    assert matching.name_similarity("恒达贸易", "上海恒达贸易有限公司") == 0.9  # one holds the other
    assert matching.name_similarity("Acme Trading Ltd", "ACME Trading Co., Ltd.") == 1.0
    # 恒达科技 vs 恒达贸易: 2 of 4 characters in common on each side -> 2*2/8
    assert matching.name_similarity("恒达科技有限公司", "恒达贸易有限公司") == 0.5


def _book(tolerance=0, aliases=None, recorded=()):
    cust = {"c1": matching.Customer("c1", "HD001", "上海恒达贸易有限公司"),
            "c2": matching.Customer("c2", "HD002", "恒达科技有限公司")}
    inv = [OpenInvoice("i1", "A7-000001", "c1", "CNY", d("2026-02-01"), d("2026-03-01"), 100_000, 100_000),
           OpenInvoice("i2", "A7-000002", "c1", "CNY", d("2026-02-02"), d("2026-03-02"), 50_000, 50_000),
           OpenInvoice("i3", "A7-000003", "c2", "CNY", d("2026-02-03"), d("2026-03-03"), 50_000, 50_000)]
    return matching.Book(cust, {i.id: i for i in inv}, aliases or {}, list(recorded), {"CNY": tolerance})


def test_amount_equal_to_several_open_invoices_of_the_payer():
    line = matching.Line("L", d("2026-03-05"), 150_000, "CNY", payer="上海恒达贸易有限公司")
    best = matching.candidates(line, _book())[0]
    assert best.customer_code == "HD001"
    assert [(n, a) for _, n, a in best.allocations] == [("A7-000001", 100_000), ("A7-000002", 50_000)]
    # name 30 + several 25 + paid 4 days after the first due date 10
    assert best.score == 65
    assert best.reasons == ("payer 上海恒达贸易有限公司 is the customer's name",
                            "amount equals 2 open invoices together: A7-000001 + A7-000002",
                            "paid 4 days after the due date 2026-03-01")


def test_shortfall_within_tolerance_is_a_bank_fee_on_the_largest_invoice():
    line = matching.Line("L", d("2026-03-01"), 99_980, "CNY", memo="A7-000001")
    best = matching.candidates(line, _book(tolerance=2_000))[0]
    assert (best.fee, best.fee_invoice, best.allocations) == (20, "A7-000001", (("i1", "A7-000001", 99_980),))
    assert best.score == 45 + 20 + 10
    # Without a tolerance the same line is applied in part and says so.
    strict = matching.candidates(line, _book())[0]
    assert strict.fee == 0 and "applied in part" in strict.reasons[1]


def test_known_alias_beats_a_similar_name():
    line = matching.Line("L", d("2026-03-03"), 50_000, "CNY", payer="恒达")
    tie = matching.candidates(line, _book())
    assert [c.score for c in tie[:2]] == [67, 67]  # 27 name + 30 amount + 10 date, for both customers
    assert matching.unambiguous(tie, 60) is None and matching.why_not(tie, 60).startswith("ambiguous")
    learned = matching.candidates(line, _book(aliases={("name", "恒达"): "c2"}))
    assert (learned[0].customer_code, learned[0].score) == ("HD002", 35 + 30 + 10)
    assert learned[0].reasons[0] == "payer 恒达 is a known payer of HD002"
    assert matching.unambiguous(learned, 70) is learned[0]


def test_money_out_is_never_matched():
    assert matching.candidates(matching.Line("L", d("2026-03-03"), -50_000, "CNY", memo="A7-000003"), _book()) == []


def test_a_payment_recorded_by_hand_is_offered_as_a_link():
    paid = matching.Recorded("p1", "c2", d("2026-03-04"), 50_000, "CNY", "HX-9")
    line = matching.Line("L", d("2026-03-03"), 50_000, "CNY", payer="恒达科技", reference="HX-9")
    best = matching.candidates(line, _book(recorded=[paid]))[0]
    assert best.payment_id == "p1" and best.allocations == ()
    assert best.score == 45 + 5 + 20 + 30  # recorded, a day apart, same reference, the name (without 有限公司)
    assert best.reasons[0] == ("a payment of this amount is already recorded on 2026-03-04: accepting links the line "
                               "to it, nothing new is posted")


# --- the ledger -----------------------------------------------------------------------------------------------------


def test_list_shows_candidates_with_reasons_and_keeps_everything(book):
    listed = reconcile.listing(book, status=None)
    assert [(r["payer"], r["status"], len(c)) for r, c in listed] == [
        ("上海恒达贸易有限公司", "open", 1), ("恒达", "open", 2), ("", "debit", 0), ("ACME Trading Ltd", "open", 1),
        ("张三", "open", 0)]
    first = listed[0][1][0]
    assert (first.customer_code, first.score) == ("HD001", 100)
    assert first.reasons[:3] == ("invoice number A7-000001 in the memo",
                                 "payer 上海恒达贸易有限公司 is the customer's name",
                                 "amount equals the open amount of A7-000001")


def test_accept_posts_payment_and_allocation_once(book):
    row = line_of(book, "上海恒达贸易有限公司")
    decision = reconcile.accept(book, row["id"][:8])
    assert decision.allocations == [("A7-000001", 1_000_000)] and decision.unapplied == 0
    assert open_amount(book, "A7-000001") == 0
    paid = payments.listing(book, customer_code="HD001")
    assert [(p["date"], p["amount"], p["method"], p["applied"]) for p in paid] == [
        ("2026-03-02", 1_000_000, "bank_transfer", 1_000_000)]
    with pytest.raises(Conflict, match="already accepted"):
        reconcile.accept(book, row["id"])
    assert len(payments.listing(book)) == 1
    assert reconcile.by_id(book, row["id"])["status"] == "accepted"


def test_auto_accepts_only_the_unambiguous_and_leaves_the_rest_listed(book):
    run = reconcile.auto(book, 70)
    assert [(x.customer, x.line["payer"]) for x in run.accepted] == [("HD001", "上海恒达贸易有限公司")]
    assert [(r["payer"], why) for r, why in run.left] == [
        ("恒达", "ambiguous: HD001 scores 67, HD002 67"),
        ("ACME Trading Ltd", "best score 40 is below 70"),  # name 30 + paid 2 days after due 10; no sum fits
        ("张三", "no candidate")]
    assert [r["payer"] for r in reconcile.lines(book, status="open")] == ["恒达", "ACME Trading Ltd", "张三"]
    assert open_amount(book, "A7-000002") == 500_000 and open_amount(book, "A7-000003") == 500_000
    # A second run applies nothing twice.
    assert reconcile.auto(book, 70).accepted == [] and len(payments.listing(book)) == 1


def test_fee_within_tolerance_is_written_off(book):
    settings.put(book, "reconcile.fee_tolerance", "20")
    row = line_of(book, "ACME Trading Ltd")
    best = reconcile.listing(book)[2][1][0]
    assert best.reasons[1] == ("amount is 15.00 short of A7-000004 + A7-000005 (2,000.00): written off as a bank "
                               "fee (within the tolerance)")
    decision = reconcile.accept(book, row["id"])
    assert decision.fee == 1_500 and decision.allocations == [("A7-000004", 118_500), ("A7-000005", 80_000)]
    assert open_amount(book, "A7-000004") == 0 and open_amount(book, "A7-000005") == 0
    assert book.rows("SELECT amount, reason FROM writeoffs") == [
        {"amount": 1_500, "reason": f"bank fee (bank line {row['id'][:8]})"}]


def test_accepting_teaches_the_payer_for_next_time(book, tmp_path):
    row = line_of(book, "恒达")
    decision = reconcile.accept(book, row["id"], candidate=2)
    assert decision.customer == "HD002" and open_amount(book, "A7-000002") == 0
    src = tmp_path / "april.csv"
    src.write_text("交易日期,贷方发生额,对方户名,摘要\n2026-04-02,5000.00,恒达,货款\n", encoding="utf-8")
    invoices.add(book, "HD002", "2026-03-10", amount="5000", due="2026-04-01")
    bank.import_file(book, src)
    april = next(c for r, c in reconcile.listing(book) if r["date"] == "2026-04-02")
    assert (april[0].customer_code, april[0].reasons[0]) == ("HD002", "payer 恒达 is a known payer of HD002")
    run = reconcile.auto(book, 70)
    assert [(x.line["date"], x.customer) for x in run.accepted] == [("2026-03-02", "HD001"), ("2026-04-02", "HD002")]


def test_reject_sets_aside_and_reopen_brings_back(book):
    row = line_of(book, "张三")
    reconcile.reject(book, row["id"], "loan from a director")
    assert "张三" not in [r["payer"] for r in reconcile.lines(book)]
    assert reconcile.by_id(book, row["id"])["status"] == "rejected"
    with pytest.raises(Conflict, match="rejected"):
        reconcile.accept(book, row["id"], customer_code="HD001")
    reconcile.reopen(book, row["id"])
    assert "张三" in [r["payer"] for r in reconcile.lines(book)]


def test_match_by_hand_with_allocations(book):
    row = line_of(book, "张三")
    decision = reconcile.accept(book, row["id"], customer_code="HD001", allocate=["A7-000003=300"])
    assert decision.allocations == [("A7-000003", 30_000)] and decision.unapplied == 3_300  # 333.00 - 300.00
    assert open_amount(book, "A7-000003") == 470_000


def test_a_debit_cannot_be_accepted(book):
    debit = next(r for r in reconcile.lines(book, status="debit"))
    with pytest.raises(Conflict, match="debits are kept but not matched"):
        reconcile.accept(book, debit["id"], customer_code="HD001")


def test_a_payment_entered_by_hand_is_linked_not_doubled(book):
    payments.add(book, "HD002", "2026-03-03", "5000", reference="HX-1", allocate=["A7-000002=5000"])
    row = line_of(book, "恒达")
    best = reconcile.listing(book)[1][1][0]
    assert best.payment_id is not None and best.customer_code == "HD002"
    decision = reconcile.accept(book, row["id"])
    assert decision.linked and len(payments.listing(book)) == 1
    assert reconcile.by_id(book, row["id"])["payment_id"] == decision.payment_id


# --- the command line ------------------------------------------------------------------------------------------------


@pytest.fixture
def cli_book(cli, tmp_path):
    assert cli("init", "--series", "A7").code == 0
    for code, name in (("HD001", "上海恒达贸易有限公司"), ("HD002", "恒达科技有限公司")):
        assert cli("customer", "add", code, "--name", name).code == 0
    for code, amount in (("HD001", "10000"), ("HD002", "5000"), ("HD001", "5000")):
        assert cli("invoice", "add", "--customer", code, "--date", "2026-02-01", "--amount", amount,
                   "--due", "2026-03-01").code == 0
    src = tmp_path / "b.csv"
    src.write_bytes(STATEMENT.encode("gbk"))
    assert cli("import", "bank", src).code == 0
    return cli


def test_cli_list_auto_and_accept(cli_book):
    listed = cli_book("reconcile", "list")
    assert listed.code == 0
    assert "invoice number A7-000001 in the memo" in listed.out and "A7-000001 10,000.00" in listed.out
    auto = cli_book("reconcile", "auto", "--min-score", "70")
    assert auto.code == 0 and "1 accepted, 3 left for a person (minimum score 70)" in auto.out
    assert "ambiguous: HD001 scores" in auto.out
    data = cli_book("reconcile", "list", "--format", "json").json()
    ambiguous = next(x for x in data if x["payer"] == "恒达")
    assert [c["customer"] for c in ambiguous["candidates"]] == ["HD001", "HD002"]
    accepted = cli_book("reconcile", "accept", ambiguous["id"][:8], "--candidate", "2")
    assert accepted.code == 0 and "from HD002 applied to A7-000002 5,000.00" in accepted.out
    again = cli_book("reconcile", "accept", ambiguous["id"][:8])
    assert_one_line_error(again, 1, "already accepted")
    everything = cli_book("reconcile", "list", "--status", "all", "--format", "json").json()
    assert sorted(x["status"] for x in everything) == ["accepted", "accepted", "debit", "open", "open"]


def test_cli_reject_unknown_id_is_one_line(cli_book):
    assert_one_line_error(cli_book("reconcile", "reject", "ffffffff"), 1, "unknown bank line")
    assert cli_book("reconcile", "accept", "abcd", "--allocate", "A7-000001=1").code == 2


def test_two_invoice_numbers_in_one_memo_token():
    line = matching.Line("L", d("2026-03-05"), 150_000, "CNY", memo="货款A7-000001/A7-000002")
    best = matching.candidates(line, _book())[0]
    assert [n for _, n, _ in best.allocations] == ["A7-000001", "A7-000002"]
    assert best.reasons[:2] == ("invoice number A7-000001, A7-000002 in the memo",
                                "amount equals 2 open invoices together: A7-000001 + A7-000002")
    assert best.score == 45 + 25 + 10


def test_the_payer_is_found_among_many_customers_with_similar_names():
    cities = ["北京", "广州", "深圳", "杭州", "成都", "武汉", "南京", "苏州", "天津", "重庆"]
    trades = ["贸易", "科技", "物流", "电子", "实业", "建材", "食品", "软件", "化工", "纺织"]
    cust = {f"c{n}": matching.Customer(f"c{n}", f"X{n:03d}", f"{cities[n // 10]}恒达{trades[n % 10]}有限公司")
            for n in range(100)}
    cust["real"] = matching.Customer("real", "SH001", "上海恒达贸易有限公司")
    found = matching.Book(cust, {})
    best = matching.candidates(matching.Line("L", d("2026-03-05"), 100, "CNY", payer="上海恒达贸易有限公司"), found)
    assert (best[0].customer_code, best[0].reasons[0]) == ("SH001", "payer 上海恒达贸易有限公司 is the customer's name")


def test_a_payment_platform_is_not_learned_as_a_payer(book, tmp_path):
    src = tmp_path / "alipay.csv"
    src.write_text("交易日期,贷方发生额,对方户名,对方账号,摘要\n2026-03-07,120.00,支付宝（中国）网络技术有限公司,2088 01,"
                   "转账\n", encoding="utf-8")
    bank.import_file(book, src)
    row = line_of(book, "支付宝（中国）网络技术有限公司")
    reconcile.accept(book, row["id"], customer_code="HD002")
    assert book.rows("SELECT kind, value FROM payer_aliases") == []
    hand = line_of(book, "张三")
    reconcile.accept(book, hand["id"], customer_code="HD002")
    assert book.rows("SELECT kind, value FROM payer_aliases") == [{"kind": "name", "value": "张三"}]


def test_a_pair_that_is_not_the_oldest_run_is_found():
    book = _book()
    extra = OpenInvoice("i4", "A7-000004", "c1", "CNY", d("2026-02-04"), d("2026-03-04"), 30_000, 30_000)
    book = matching.Book(book.customers, {**book.invoices, "i4": extra}, {}, [], {"CNY": 0})
    line = matching.Line("L", d("2026-03-05"), 130_000, "CNY", payer="上海恒达贸易")
    best = matching.candidates(line, book)[0]
    # runs oldest first: 180,000 (all three), 150,000 (two oldest); then pairs: A7-000001 + A7-000004
    assert [n for _, n, _ in best.allocations] == ["A7-000001", "A7-000004"]
    assert best.reasons[1] == "amount equals 2 open invoices together: A7-000001 + A7-000004"


def test_a_listing_with_no_open_line_does_not_read_every_open_invoice(book, monkeypatch):
    """The set-aside lines are listed without candidates, and the matching book (every open invoice: seconds on a
    big ledger) is read only when some line is open."""
    row = line_of(book, "张三")
    reconcile.reject(book, row["id"], "loan from a director")
    open_now = [r for r in reconcile.lines(book, status=None) if r["status"] == "open"]
    assert open_now
    for r in open_now:
        reconcile.reject(book, r["id"], "not ours")

    def not_read(ledger, rows):
        raise AssertionError("the matching book was read with no open line")

    monkeypatch.setattr(reconcile, "book", not_read)
    assert reconcile.listing(book) == []
    rejected = reconcile.listing(book, status="rejected")
    assert "张三" in [r["payer"] for r, _ in rejected] and all(cands == [] for _, cands in rejected)
