"""Draft invoices (草稿): prepared and edited per field, then issued as an ordinary invoice in one transaction;
closed once issued. (How two devices disagreeing on a draft is flagged is in test_sync_e2e.)"""
from __future__ import annotations

import pytest

from store.write import customers, drafts, invoices
from store.errors import Conflict, InvalidInput, NotFound
from store.ledger.ledger import Ledger
from tests.support.cli import PASSPHRASE, assert_one_line_error


@pytest.fixture
def book(cli):
    assert cli("init", "--series", "D1").code == 0
    assert cli("customer", "add", "HD", "--name", "上海恒达贸易有限公司", "--terms", "EOM30").code == 0
    return cli


def _ref(cli) -> str:
    return cli("draft", "list", "--format", "json").json()[-1]["ref"]


def _entries(cli) -> int:
    with Ledger.open(cli.path, PASSPHRASE) as led:
        return led.conn.execute("SELECT count(*) FROM changes").fetchone()[0]


def test_a_draft_is_edited_then_issued_with_every_invoice_rule(book):
    assert book("draft", "add", "--customer", "HD", "--amount", "800").code == 0
    ref = _ref(book)
    assert book("draft", "edit", ref, "--date", "2026-01-15", "--line", "咨询服务:2:500.00:6%").code == 0
    shown = book("draft", "show", ref, "--format", "json").json()
    assert (shown["amount"], shown["lines"], shown["status"]) == ("1060.00", ["咨询服务:2:500.00:6%"], "draft")
    before = _entries(book)
    issued = book("draft", "issue", ref, "--format", "json").json()
    assert issued["number"] == "D1-000001" and issued["total"] == "1060.00" and issued["tax"] == "60.00"
    # EOM30 from the customer, as `invoice add` would choose: end of January + 30 days.
    assert issued["due_items"] == [{"due_date": "2026-03-02", "amount": "1060.00"}]
    assert _entries(book) == before + 1  # the invoice and the draft's closing are one transaction
    listed = book("draft", "list", "--all", "--format", "json").json()
    assert [(d["status"], d["invoice"]) for d in listed] == [("issued", "D1-000001")]
    assert book("draft", "list", "--format", "json").json() == []


def test_an_issued_draft_is_closed(book):
    book("draft", "add", "--customer", "HD", "--date", "2026-02-01", "--amount", "100")
    ref = _ref(book)
    assert book("draft", "issue", ref).code == 0
    for argv in (("edit", ref, "--amount", "5"), ("issue", ref), ("delete", ref)):
        assert_one_line_error(book("draft", *argv), 1, "was issued as invoice D1-000001")
    assert book("invoice", "list", "--format", "json").json()[0]["total"] == "100.00"


def test_a_draft_that_cannot_be_issued_says_why_and_writes_nothing(book):
    book("draft", "add", "--customer", "HD", "--amount", "100")
    ref = _ref(book)
    before = _entries(book)
    assert_one_line_error(book("draft", "issue", ref), 1, "has no date", f"draft edit {ref} --date")
    book("draft", "edit", ref, "--date", "2026-02-01")
    assert_one_line_error(book("draft", "issue", ref, "--number", "BAD NUMBER!"), 1, "invoice number")
    assert _entries(book) == before + 1  # only the edit
    assert book("invoice", "list", "--format", "json").json() == []


@pytest.mark.parametrize("argv, said", [
    (("--amount", "1.234"), "more than 2 decimal places"),
    (("--amount", "10", "--line", "x:1:10"), "not both"),
    (("--date", "2026-02-30"), "2026-02-30"),
    (("--date", "2026-03-10", "--due", "2026-03-01"), "before the invoice date"),
    (("--terms", "NOSUCH"), "NOSUCH"),
])
def test_bad_draft_fields_are_refused_by_name(book, argv, said):
    result = book("draft", "add", "--customer", "HD", *argv)
    assert_one_line_error(result, 1, said)
    assert book("draft", "list", "--format", "json").json() == []


def test_changing_the_currency_keeps_the_amount_and_checks_it(ledger):
    customers.add(ledger, "HD", "Hengda")
    draft_id = drafts.add(ledger, "HD", date="2026-01-05", amount="1200")
    drafts.edit(ledger, drafts.ref(draft_id), currency="JPY")
    assert drafts.get(ledger, drafts.ref(draft_id))["amount"] == 1200  # 1,200 yen: yen have no minor unit
    other = drafts.add(ledger, "HD", amount="10.50")
    with pytest.raises(InvalidInput, match="decimal"):
        drafts.edit(ledger, drafts.ref(other), currency="JPY")
    drafts.delete(ledger, drafts.ref(other))
    with pytest.raises(Conflict, match="deleted"):
        drafts.edit(ledger, drafts.ref(other), amount="3")
    priced = drafts.add(ledger, "HD", lines=["design:1:10.50"])
    with pytest.raises(InvalidInput, match="decimal"):  # the lines are checked again for the new currency
        drafts.edit(ledger, drafts.ref(priced), currency="JPY")


def test_a_reference_is_the_end_of_an_id_not_a_pattern(ledger):
    customers.add(ledger, "HD", "Hengda")
    drafts.add(ledger, "HD", amount="5")
    with pytest.raises(NotFound):
        drafts.get(ledger, "____")
    with pytest.raises(NotFound):
        drafts.get(ledger, "%%%%")


def test_an_unreadable_issue_record_from_another_device_is_flagged_not_fatal(ledger):
    """A draft_issues event whose `seen` another device wrote as something else must not stop the merge scan
    (which would fail every later sync): it counts as having seen nothing, so the draft is flagged."""
    customers.add(ledger, "HD", "Hengda")
    draft_id = drafts.add(ledger, "HD", date="2026-01-05", amount="5")
    for seen in ("[1]", "not json", None):
        invoice = invoices.add(ledger, "HD", "2026-01-05", amount="5")
        with ledger.writing() as tx:
            tx.event("draft_issues", draft_id=draft_id, invoice_id=invoice.id, seen=seen)
        kinds = [kind for kind, *_ in drafts.conflicts(ledger.conn, {draft_id})]
        assert kinds[-1] == "draft_edited_after_issue"
