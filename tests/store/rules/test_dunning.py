"""Dunning rules: which invoice is at which level on which date, the amount asked, fees and interest; hand-worked."""
from __future__ import annotations

from datetime import date

import pytest

from store.rules import dunning
from store.errors import InvalidInput
from store.rules.dunning import Dispute, Promise
from store.rules.openitems import OpenInvoice, OpenItem

LEVELS = dunning.parse_levels(
    "friendly:-3:email; first:7:email; second:30:email:fee=50:fee_pct=1:interest=12; final:60:letter:interest=18")
D = date.fromisoformat


def invoice(number="INV-1", due="2026-03-10", amount=1_000_000, instalments=None, *, customer_id="cust-1",
            doc_date="2026-02-08") -> tuple[OpenInvoice, list[OpenItem]]:
    """An open invoice and its open instalments (what store.read.open gives dunning)."""
    dues = [(D(d), a) for d, a in instalments] if instalments else [(D(due), amount)]
    open_amount = sum(a for _, a in dues)
    inv = OpenInvoice(f"id-{number}", number, customer_id, "CNY", D(doc_date), dues[-1][0], open_amount, open_amount)
    return inv, [OpenItem(inv.id, number, "CNY", inv.doc_date, when, a) for when, a in dues]


def plan_on(day: str, invoices=None, **kw) -> dunning.Plan:
    pairs = invoices or [invoice()]
    return dunning.plan([inv for inv, _ in pairs], [it for _, items in pairs for it in items], LEVELS, D(day), **kw)


@pytest.mark.parametrize("day, level", [
    ("2026-03-06", None),        # 4 days before due: before the friendly reminder's -3
    ("2026-03-07", "friendly"),  # 3 days before due
    ("2026-03-10", "friendly"),  # due today: 0 days overdue
    ("2026-03-16", "friendly"),  # 6 days overdue
    ("2026-03-17", "first"),     # 7 days overdue
    ("2026-04-08", "first"),     # 29
    ("2026-04-09", "second"),    # 30
    ("2026-05-09", "final"),     # 60
    ("2027-01-01", "final"),     # the last level stays
])
def test_invoice_due_10_march_reaches_each_level_on_its_day(day, level):
    items = plan_on(day).items
    assert [i.level.name for i in items] == ([level] if level else [])


def test_second_level_fee_and_interest_in_minor_units():
    # 10,000.00 open, 30 days overdue on 2026-04-09: fee 50.00 + 1% of 10,000.00 = 150.00;
    # interest 10,000.00 × 12% / 365 × 30 = 98.630... -> 98.63.
    (item,) = plan_on("2026-04-09").items
    assert (item.days_overdue, item.asked, item.fee, item.interest, item.total) == (30, 1_000_000, 15_000, 9_863,
                                                                                    1_024_863)


def test_final_level_interest_at_18_percent_for_60_days():
    # 10,000.00 × 18% / 365 × 60 = 295.890... -> 295.89; no fee on this level.
    (item,) = plan_on("2026-05-09").items
    assert (item.fee, item.interest) == (0, 29_589)


def test_interest_rounds_half_up_once():
    # 18.25 × 10% / 365 × 1 day = 0.005 exactly -> 0.01; 18.24 gives 0.004997 -> 0.00.
    assert dunning.interest([(1825, 1)], 1000) == 1
    assert dunning.interest([(1824, 1)], 1000) == 0
    # one rounding over the sum: 0.004997 + 0.004997 = 0.009994 -> 0.01 (rounding each would give 0.00)
    assert dunning.interest([(1824, 1), (1824, 1)], 1000) == 1
    assert dunning.interest([(1825, 0), (1825, -5)], 1000) == 0  # not overdue: no interest


def test_instalments_level_follows_the_earliest_and_asks_only_what_is_overdue():
    inv = invoice(instalments=[("2026-03-10", 300_000), ("2026-04-10", 700_000)])
    (item,) = plan_on("2026-03-20", [inv]).items  # first instalment 10 days overdue, second due in 21 days
    assert (item.level.name, item.days_overdue, item.open_amount, item.asked) == ("first", 10, 1_000_000, 300_000)
    (item,) = plan_on("2026-04-12", [inv]).items  # 33 and 2 days overdue
    # interest: (3,000.00 × 33 + 7,000.00 × 2) × 12% / 365 = 37.150... -> 37.15; fee 50 + 1% × 10,000 = 150
    assert (item.level.name, item.asked, item.interest, item.fee) == ("second", 1_000_000, 3_715, 15_000)


def test_friendly_level_asks_for_instalments_falling_due_within_its_offset():
    inv = invoice(instalments=[("2026-03-10", 300_000), ("2026-03-12", 200_000), ("2026-04-10", 500_000)])
    (item,) = plan_on("2026-03-08", [inv]).items  # -2 days: friendly; the 12 March one is 4 days away: not yet
    assert (item.level.name, item.asked, item.interest) == ("friendly", 300_000, 0)


def test_paid_invoice_never_appears():
    paid = invoice("INV-X", due="2026-01-31", amount=0, doc_date="2026-01-01")
    assert plan_on("2026-06-01", [paid]).items == []


def test_disputed_invoice_is_out_until_its_review_date_passes():
    d = Dispute("id-INV-1", D("2026-03-15"), None, D("2026-04-15"), None, "wrong quantity")
    assert plan_on("2026-03-14", disputes=[d]).items[0].level.name == "friendly"  # before it was opened
    held = plan_on("2026-03-20", disputes=[d])
    assert held.items == [] and "disputed until 2026-04-15: wrong quantity" in held.held[0].reason
    assert plan_on("2026-04-15", disputes=[d]).items == []  # on the review date: still held
    (back,) = plan_on("2026-04-16", disputes=[d]).items  # the day after: back, at the level it has reached
    assert (back.level.name, back.days_overdue) == ("second", 37)


def test_resolved_dispute_returns_the_invoice_from_the_day_it_was_resolved():
    d = Dispute("id-INV-1", D("2026-03-15"), None, None, D("2026-04-01"), "price")
    assert plan_on("2026-03-31", disputes=[d]).items == []
    assert [i.level.name for i in plan_on("2026-04-01", disputes=[d]).items] == ["first"]


def test_partly_disputed_invoice_is_dunned_for_the_rest():
    d = Dispute("id-INV-1", D("2026-03-15"), 200_000, None, None, "one item damaged")
    (item,) = plan_on("2026-04-09", disputes=[d]).items
    # asked 10,000 - 2,000 = 8,000.00; fee 50 + 1% × 8,000 = 130.00; interest 8,000 × 12% / 365 × 30 = 78.90
    assert (item.asked, item.disputed, item.fee, item.interest) == (800_000, 200_000, 13_000, 7_890)


def test_promise_holds_until_its_date_then_kept_or_broken_from_payments():
    made, by = D("2026-03-20"), D("2026-03-31")
    kept = Promise("id-INV-1", made, by, 500_000, payments=((D("2026-03-28"), 500_000),))
    broken = Promise("id-INV-1", made, by, 500_000, payments=((D("2026-03-28"), 200_000), (D("2026-04-02"), 300_000)))
    early = Promise("id-INV-1", made, by, 500_000, payments=((D("2026-03-19"), 500_000),))  # before it was made
    assert dunning.promise_status(kept, D("2026-03-25")) == "pending"
    assert dunning.promise_status(kept, D("2026-03-28")) == "kept"
    assert dunning.promise_status(broken, D("2026-03-31")) == "pending"
    assert dunning.promise_status(broken, D("2026-04-01")) == "broken"  # 2,000 of 5,000 by the date
    assert dunning.promise_status(broken, D("2026-04-05")) == "broken"  # paying later does not mend it
    assert dunning.promise_status(early, D("2026-04-01")) == "broken"
    assert plan_on("2026-03-25", promises=[broken]).items == []
    assert "promise to pay 5000.00 by 2026-03-31" in plan_on("2026-03-31", promises=[broken]).held[0].reason
    assert [i.level.name for i in plan_on("2026-04-01", promises=[broken]).items] == ["first"]


def test_a_level_already_sent_is_not_planned_again_but_the_next_one_is():
    sent = {("id-INV-1", "first")}
    assert plan_on("2026-03-20", sent=sent).items == []
    assert plan_on("2026-03-20", sent=sent).held[0].reason == "level first already sent"
    assert [i.level.name for i in plan_on("2026-04-09", sent=sent).items] == ["second"]


def test_customer_on_hold_is_left_out_with_the_reason():
    other = invoice("INV-2", due="2026-03-10", amount=500_000, customer_id="cust-2")
    result = plan_on("2026-03-20", [invoice(), other], customers_on_hold={"cust-1"})
    assert [i.number for i in result.items] == ["INV-2"]
    assert [(h.number, h.level, h.reason) for h in result.held] == [("INV-1", "first", "customer on hold (tag hold)")]


def test_why_a_reminder_is_held_reads_in_the_readers_language():
    sent = {("id-INV-1", "first")}
    assert plan_on("2026-03-20", sent=sent).held[0].reason.text("zh") == "级别 first 已发送"
    held = plan_on("2026-03-20", [invoice()], customers_on_hold={"cust-1"}).held[0].reason
    assert (str(held), held.text("zh")) == ("customer on hold (tag hold)", "客户暂停催收（标签 hold）")


def test_levels_setting_round_trips_and_names_what_is_wrong():
    assert dunning.check_levels("a:-3:email; b:10:phone:fee=20:fee_pct=1.5:interest=12%") == \
        "a:-3:email:template=friendly; b:10:phone:fee=20:fee_pct=1.5:interest=12:template=first"
    for text, words in [
        ("a:5:email; b:5:phone", "offset 5 must be more than the previous level's (a: 5)"),
        ("a:5:fax", "channel 'fax' is not one of email, phone, letter, wechat, legal"),
        ("a:x:email", "offset 'x' is not a whole number of days"),
        ("a:5:email:fee=1.234", "more than 2 decimal places"),
        ("a:5:email:interest=abc", "'abc' is not a percentage"),
        ("a:5:email:color=red", "'color=red' is not one of fee=..."),
        ("a:5:email; a:9:email", "level name 'a' is used twice"),
    ]:
        with pytest.raises(InvalidInput) as err:
            dunning.check_levels(text)
        assert words in str(err.value), str(err.value)


def test_default_levels_have_zh_and_en_names():
    levels = dunning.parse_levels(dunning.DEFAULT_LEVELS_TEXT)
    assert [lv.title("zh") for lv in levels] == ["友好提醒", "第一次催款", "第二次催款", "电话催收", "最后通知函", "法律程序"]
    assert levels[0].title("en") == "Friendly reminder" and levels[0].offset == -3


def test_the_agreed_rate_replaces_the_levels_only_on_levels_that_charge_interest():
    # final level (18% in LEVELS), 60 days: at the agreed 24%: 10,000.00 × 24% / 365 × 60 = 394.520… -> 394.52
    (item,) = plan_on("2026-05-09", agreed_rates={"id-INV-1": 2400}).items
    assert item.interest == 39_452
    # the first level charges no interest, whatever the customer agreed
    (item,) = plan_on("2026-03-17", agreed_rates={"id-INV-1": 2400}).items
    assert (item.level.name, item.interest) == ("first", 0)
    # another invoice's rate is not this one's
    (item,) = plan_on("2026-05-09", agreed_rates={"id-OTHER": 2400}).items
    assert item.interest == 29_589
