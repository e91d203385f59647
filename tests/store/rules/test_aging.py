"""Aging (账龄): buckets by days past due or since invoice, unapplied cash as a negative column."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from store.rules.aging import (
    DEFAULT_EDGES,
    YEAR_LABELS,
    OpenItem,
    Unapplied,
    age,
    anniversary,
    bucket_for,
    bucket_labels,
    days_past_due,
    parse_edges,
    to_json,
    year_bucket,
)
from store.rules.allocation import auto_allocate
from store.errors import InvalidInput

AS_OF = date(2026, 6, 30)


def item(customer, number, due, amount, *, doc=None, currency="CNY", name=None):
    return OpenItem(number, number, currency, doc or due - timedelta(days=30), due, amount, customer,
                    name or f"Customer {customer}")


def row_of(report, customer, currency="CNY"):
    [row] = [r for r in report.rows if r["customer"] == customer and r["currency"] == currency]
    return row


# --- labels and buckets ----------------------------------------------------------------------------


def test_default_labels():
    assert bucket_labels(DEFAULT_EDGES) == ["not_due", "1-30", "31-60", "61-90", "91-120", "120+"]


def test_custom_edges_make_their_own_labels():
    assert bucket_labels((15, 45)) == ["not_due", "1-15", "16-45", "45+"]
    assert bucket_labels((7,)) == ["not_due", "1-7", "7+"]


def test_invoice_basis_labels_start_at_zero_without_not_due():
    assert bucket_labels(DEFAULT_EDGES, "invoice") == ["0-30", "31-60", "61-90", "91-120", "120+"]


def test_parse_edges():
    assert parse_edges("30,60,90,120") == (30, 60, 90, 120)
    assert parse_edges(" 15, 45 ") == (15, 45)


@pytest.mark.parametrize("text", ["", "30,30", "60,30", "0,30", "30,-60", "30,sixty", "30,,60"])
def test_parse_edges_refuses_anything_but_increasing_positive_days(text):
    with pytest.raises(InvalidInput, match="aging buckets"):
        parse_edges(text)


def test_bucket_labels_refuse_bad_edges():
    with pytest.raises(InvalidInput, match="increase"):
        bucket_labels((30, 20))
    with pytest.raises(InvalidInput, match="positive"):
        bucket_labels((0, 30))


@pytest.mark.parametrize(
    ("days", "label"),
    [(-5, "not_due"), (0, "not_due"), (1, "1-30"), (30, "1-30"), (31, "31-60"), (60, "31-60"),
     (61, "61-90"), (90, "61-90"), (91, "91-120"), (120, "91-120"), (121, "120+"), (5000, "120+")],
)
def test_bucket_for_edges_belong_to_the_lower_bucket(days, label):
    assert bucket_for(days, DEFAULT_EDGES) == label


def test_bucket_for_custom_edges():
    assert bucket_for(15, (15, 45)) == "1-15"
    assert bucket_for(16, (15, 45)) == "16-45"
    assert bucket_for(46, (15, 45)) == "45+"


@pytest.mark.parametrize(
    ("when", "as_of", "label"),
    [
        (date(2022, 6, 1), date(2023, 6, 1), "1年以内"),  # the first anniversary itself is still within a year
        (date(2022, 6, 1), date(2023, 6, 2), "1-2年"),
        (date(2023, 3, 1), date(2024, 3, 1), "1年以内"),  # 366 days across 29 February: still one year
        (date(2024, 2, 29), date(2025, 2, 28), "1年以内"),  # 29 February's anniversary is 28 February
        (date(2024, 2, 29), date(2025, 3, 1), "1-2年"),
        (date(2023, 2, 28), date(2024, 2, 29), "1-2年"),  # its anniversary, 28 February, has passed
        (date(2023, 3, 1), date(2024, 2, 29), "1年以内"),
        (date(2021, 6, 30), date(2023, 6, 30), "1-2年"),  # exactly two years
        (date(2021, 6, 29), date(2023, 6, 30), "2-3年"),
        (date(2023, 6, 30), date(2026, 6, 30), "2-3年"),  # exactly three years, 1,096 days
        (date(2023, 6, 29), date(2026, 6, 30), "3年以上"),
        (date(2026, 7, 1), date(2026, 6, 30), "1年以内"),  # dated after as_of
    ],
)
def test_year_buckets_count_calendar_anniversaries(when, as_of, label):
    assert year_bucket(when, as_of) == label


@settings(max_examples=300)
@given(st.dates(date(1990, 1, 1), date(2040, 12, 31)), st.integers(0, 1500))
def test_year_bucket_is_the_number_of_anniversaries_passed(when, age_days):
    """Whatever the dates, the bucket is the first n whose n-th anniversary of `when` is not before as_of."""
    as_of = when + timedelta(days=age_days)
    n = next((n for n in (1, 2, 3) if as_of <= anniversary(when, n)), 4)
    assert year_bucket(when, as_of) == YEAR_LABELS[n - 1]


def test_due_today_is_not_past_due():
    assert days_past_due(AS_OF, AS_OF) == 0
    assert days_past_due(date(2026, 3, 31), AS_OF) == 91


# --- age -------------------------------------------------------------------------------------------


def test_items_land_in_buckets_by_days_past_due():
    report = age(
        [
            item("C001", "A7-1", date(2026, 5, 31), 100000),  # 30 days
            item("C001", "A7-2", date(2026, 7, 1), 50000),  # not due
            item("C001", "A7-3", AS_OF, 7000),  # due today: not due
            item("C002", "A7-4", date(2026, 3, 31), 20000),  # 91 days
            item("C002", "A7-5", date(2026, 2, 28), 30000),  # 122 days
        ],
        [],
        AS_OF,
    )
    assert report.buckets == ["not_due", "1-30", "31-60", "61-90", "91-120", "120+"]
    c1, c2 = report.rows
    assert (c1["not_due"], c1["1-30"], c1["31-60"], c1["total"]) == (57000, 100000, 0, 157000)
    assert (c2["91-120"], c2["120+"], c2["not_due"], c2["total"]) == (20000, 30000, 0, 50000)
    assert report.totals == {
        "CNY": {"total": 207000, "not_due": 57000, "1-30": 100000, "31-60": 0, "61-90": 0,
                "91-120": 20000, "120+": 30000, "unapplied": 0}
    }


def test_the_same_item_moves_bucket_as_the_as_of_date_advances():
    inv = [item("C001", "A7-1", date(2026, 5, 31), 100000)]
    expected = {
        date(2026, 5, 31): "not_due",
        date(2026, 6, 1): "1-30",
        date(2026, 6, 30): "1-30",
        date(2026, 7, 1): "31-60",
        date(2026, 9, 28): "91-120",  # 120 days
        date(2026, 9, 29): "120+",
    }
    for as_of, label in expected.items():
        [row] = age(inv, [], as_of).rows
        assert row[label] == 100000, (as_of, label)
        assert row["total"] == 100000


def test_partial_payment_leaves_only_the_rest_of_the_newer_invoice_open():
    invoices = {"i1": ("A7-1", date(2026, 3, 31), 100000), "i2": ("A7-2", date(2026, 5, 31), 100000)}
    paid = dict(auto_allocate(150000, [OpenItem(i, n, "CNY", d, d, a) for i, (n, d, a) in invoices.items()]))
    items = [
        item("C001", n, d, a - paid.get(i, 0)) for i, (n, d, a) in invoices.items() if a - paid.get(i, 0)
    ]
    for as_of, bucket in [(date(2026, 6, 30), "1-30"), (date(2026, 7, 15), "31-60"), (date(2026, 9, 1), "91-120")]:
        row = row_of(age(items, [], as_of), "C001")
        assert row[bucket] == 50000
        assert row["91-120" if bucket != "91-120" else "120+"] == 0  # the older invoice is paid off
        assert row["total"] == 50000


def test_unapplied_cash_is_a_negative_column_in_the_total():
    report = age(
        [item("C001", "A7-1", date(2026, 5, 31), 100000)],
        [Unapplied("C001", "Customer C001", "CNY", 20000), Unapplied("C001", "Customer C001", "CNY", 500)],
        AS_OF,
    )
    [row] = report.rows
    assert row["unapplied"] == -20500
    assert row["1-30"] == 100000
    assert row["total"] == 79500
    assert report.totals["CNY"]["unapplied"] == -20500


def test_customer_with_only_unapplied_cash_has_a_negative_row():
    report = age([], [Unapplied("C009", "预付客户", "CNY", 30000)], AS_OF)
    assert report.rows == [
        {"customer": "C009", "name": "预付客户", "currency": "CNY", "total": -30000, "not_due": 0, "1-30": 0,
         "31-60": 0, "61-90": 0, "91-120": 0, "120+": 0, "unapplied": -30000}
    ]


def test_negative_unapplied_amount_is_refused():
    with pytest.raises(InvalidInput, match="positive"):
        age([], [Unapplied("C001", "x", "CNY", -1)], AS_OF)


def test_one_row_per_customer_and_currency_sorted():
    report = age(
        [
            item("C002", "A7-3", date(2026, 6, 1), 100),
            item("C001", "A7-2", date(2026, 6, 1), 200, currency="USD"),
            item("C001", "A7-1", date(2026, 6, 1), 300),
            item("C001", "A7-4", date(2026, 6, 2), 400),
        ],
        [],
        AS_OF,
    )
    assert [(r["customer"], r["currency"], r["total"]) for r in report.rows] == [
        ("C001", "CNY", 700), ("C001", "USD", 200), ("C002", "CNY", 100)
    ]
    assert {cur: t["total"] for cur, t in report.totals.items()} == {"CNY": 800, "USD": 200}


def test_rows_with_nothing_open_are_left_out():
    report = age([item("C001", "A7-1", date(2026, 6, 1), 0), item("C002", "A7-2", date(2026, 6, 1), 5)], [], AS_OF)
    assert [r["customer"] for r in report.rows] == ["C002"]


def test_invoice_basis_ages_from_the_invoice_date_not_the_due_date():
    # 月结30 invoice: dated Jan 15, due Mar 2. On Apr 15 it is 44 days past due but 90 days old.
    inv = [item("C001", "A7-1", date(2026, 3, 2), 100000, doc=date(2026, 1, 15))]
    by_due = age(inv, [], date(2026, 4, 15))
    by_invoice = age(inv, [], date(2026, 4, 15), basis="invoice")
    assert by_due.rows[0]["31-60"] == 100000
    assert by_invoice.buckets == ["0-30", "31-60", "61-90", "91-120", "120+"]
    assert by_invoice.rows[0]["61-90"] == 100000
    assert by_invoice.basis == "invoice"


def test_invoice_basis_puts_an_invoice_dated_today_in_the_first_bucket():
    inv = [
        item("C001", "A7-1", date(2026, 7, 30), 100, doc=AS_OF),
        item("C001", "A7-2", date(2026, 6, 30), 200, doc=date(2026, 5, 31)),  # 30 days old
        item("C001", "A7-3", date(2026, 6, 29), 400, doc=date(2026, 5, 30)),  # 31 days old
    ]
    [row] = age(inv, [], AS_OF, basis="invoice").rows
    assert (row["0-30"], row["31-60"]) == (300, 400)


def test_unknown_basis_is_refused():
    with pytest.raises(InvalidInput, match="basis"):
        age([], [], AS_OF, basis="payment")


def test_custom_edges_in_a_report():
    inv = [item("C001", "A", date(2026, 6, 15), 1), item("C001", "B", date(2026, 6, 14), 10),
           item("C001", "C", date(2026, 5, 15), 100), item("C001", "D", date(2026, 5, 16), 1000)]
    report = age(inv, [], AS_OF, edges=parse_edges("15,45"))
    assert report.buckets == ["not_due", "1-15", "16-45", "45+"]
    [row] = report.rows
    assert (row["1-15"], row["16-45"], row["45+"]) == (1, 1010, 100)  # 15, 16, 46 and 45 days


def test_year_buckets_on_invoice_basis():
    inv = [
        item("C001", "A", date(2026, 2, 1), 1, doc=date(2025, 7, 1)),  # 364 days old
        item("C001", "B", date(2025, 8, 1), 10, doc=date(2025, 6, 29)),  # 366 days
        item("C001", "C", date(2024, 8, 1), 100, doc=date(2024, 6, 30)),  # 730 days
        item("C001", "D", date(2023, 8, 1), 1000, doc=date(2023, 6, 30)),  # 1096 days: three years exactly
        item("C001", "E", date(2023, 8, 1), 10000, doc=date(2023, 6, 29)),  # a day more
    ]
    report = age(inv, [], AS_OF, basis="invoice", years=True)
    assert report.buckets == YEAR_LABELS
    [row] = report.rows
    assert [row[label] for label in YEAR_LABELS] == [1, 110, 1000, 10000]


def test_year_buckets_on_due_basis_keep_not_due_first():
    inv = [item("C001", "A", date(2026, 7, 31), 5), item("C001", "B", date(2025, 6, 30), 7)]  # 365 past due
    report = age(inv, [], AS_OF, years=True)
    assert report.buckets == ["not_due", *YEAR_LABELS]
    [row] = report.rows
    assert (row["not_due"], row["1年以内"], row["1-2年"]) == (5, 7, 0)


# --- JSON ------------------------------------------------------------------------------------------


def test_json_shape_has_decimal_strings_per_currency():
    report = age(
        [item("C001", "A7-1", date(2026, 5, 31), 123456, name="华东贸易"),
         item("C002", "A7-2", date(2026, 8, 1), 5000, currency="JPY", name="Tanaka")],
        [Unapplied("C001", "华东贸易", "CNY", 20000)],
        AS_OF,
        edges=(30,),
    )
    assert to_json(report) == {
        "as_of": "2026-06-30",
        "basis": "due",
        "buckets": ["not_due", "1-30", "30+"],
        "rows": [
            {"customer": "C001", "name": "华东贸易", "currency": "CNY", "total": "1034.56", "not_due": "0.00",
             "1-30": "1234.56", "30+": "0.00", "unapplied": "-200.00"},
            {"customer": "C002", "name": "Tanaka", "currency": "JPY", "total": "5000", "not_due": "5000",
             "1-30": "0", "30+": "0", "unapplied": "0"},
        ],
        "totals": {
            "CNY": {"total": "1034.56", "not_due": "0.00", "1-30": "1234.56", "30+": "0.00", "unapplied": "-200.00"},
            "JPY": {"total": "5000", "not_due": "5000", "1-30": "0", "30+": "0", "unapplied": "0"},
        },
    }


# --- property --------------------------------------------------------------------------------------

_customers = st.sampled_from(["C001", "C002", "C003"])
_currencies = st.sampled_from(["CNY", "USD", "JPY"])
_dates = st.dates(date(2022, 1, 1), date(2027, 12, 31))
_items = st.builds(
    OpenItem, st.text(max_size=3), st.text(max_size=3), _currencies, _dates, _dates, st.integers(-10**6, 10**9),
    _customers, st.just("n"),
)
_unapplied = st.builds(Unapplied, _customers, st.just("n"), _currencies, st.integers(0, 10**9))
_edges = st.lists(st.integers(1, 400), min_size=1, max_size=6, unique=True).map(lambda xs: tuple(sorted(xs)))


@settings(max_examples=200)
@given(
    items=st.lists(_items, max_size=30),
    unapplied=st.lists(_unapplied, max_size=6),
    as_of=_dates,
    basis=st.sampled_from(["due", "invoice"]),
    edges=_edges,
    years=st.booleans(),
)
def test_buckets_plus_unapplied_equal_every_total(items, unapplied, as_of, basis, edges, years):
    report = age(items, unapplied, as_of, basis=basis, edges=edges, years=years)
    columns = [*report.buckets, "unapplied"]
    for row in report.rows:
        assert sum(row[c] for c in columns) == row["total"]
        key = (row["customer"], row["currency"])
        expected = sum(i.open_amount for i in items if (i.customer, i.currency) == key)
        expected -= sum(u.amount for u in unapplied if (u.customer, u.currency) == key)
        assert row["total"] == expected
        assert row["unapplied"] <= 0
        assert any(row[c] for c in columns)
    assert [(r["customer"], r["currency"]) for r in report.rows] == sorted((r["customer"], r["currency"]) for r in report.rows)
    for currency, totals in report.totals.items():
        rows = [r for r in report.rows if r["currency"] == currency]
        for c in ["total", *columns]:
            assert totals[c] == sum(r[c] for r in rows)
    assert set(report.totals) == {r["currency"] for r in report.rows}
