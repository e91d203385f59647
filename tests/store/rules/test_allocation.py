"""Applying money to invoices: oldest first, never over an invoice or the payment."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from store.rules.allocation import auto_allocate, check_allocations, spread_over_instalments
from store.rules.openitems import OpenItem
from store.errors import Conflict, InvalidInput, NotFound
from store.rules.terms import BUILTIN_TERMS, instalments


def due(invoice: str, number: str, due_date: date, open_amount: int) -> OpenItem:
    """An open instalment as allocation sees it."""
    return OpenItem(invoice, number, "CNY", due_date, due_date, open_amount)


DUES = [
    due("i-may", "A7-000003", date(2026, 5, 31), 50000),
    due("i-mar-b", "A7-000002", date(2026, 3, 31), 30000),
    due("i-mar-a", "A7-000001", date(2026, 3, 31), 20000),
]


# --- auto_allocate ---------------------------------------------------------------------------------


def test_oldest_due_first_ties_by_number():
    assert auto_allocate(60000, DUES) == [("i-mar-a", 20000), ("i-mar-b", 30000), ("i-may", 10000)]


def test_small_payment_goes_only_to_the_oldest():
    assert auto_allocate(15000, DUES) == [("i-mar-a", 15000)]


def test_payment_larger_than_everything_open_pays_each_invoice_exactly():
    assert auto_allocate(999999, DUES) == [("i-mar-a", 20000), ("i-mar-b", 30000), ("i-may", 50000)]


def test_zero_payment_allocates_nothing_and_negative_is_refused():
    assert auto_allocate(0, DUES) == []
    with pytest.raises(InvalidInput):
        auto_allocate(-1, DUES)


def test_invoices_with_nothing_open_are_skipped():
    dues = [due("paid", "A7-1", date(2026, 1, 1), 0), due("open", "A7-2", date(2026, 2, 1), 100)]
    assert auto_allocate(100, dues) == [("open", 100)]


def test_instalments_of_one_invoice_are_summed_into_one_allocation():
    dues = [
        due("inv", "A7-1", date(2026, 1, 1), 300),
        due("other", "A7-2", date(2026, 2, 1), 100),
        due("inv", "A7-1", date(2026, 3, 2), 700),
    ]
    assert auto_allocate(1050, dues) == [("inv", 950), ("other", 100)]


@given(
    amount=st.integers(0, 10**7),
    opens=st.lists(st.tuples(st.dates(), st.integers(-100, 10**6)), max_size=12),
)
def test_auto_allocate_never_exceeds_and_exhausts(amount, opens):
    dues = [due(f"i{k}", f"N{k:03d}", d, a) for k, (d, a) in enumerate(opens)]
    result = auto_allocate(amount, dues)
    by_id = {d.invoice_id: d.open_amount for d in dues}
    assert all(0 < a <= by_id[i] for i, a in result)
    assert len({i for i, _ in result}) == len(result)
    total_open = sum(a for a in by_id.values() if a > 0)
    assert sum(a for _, a in result) == min(amount, total_open)


# --- check_allocations -----------------------------------------------------------------------------

OPEN = {"i1": 50000, "i2": 30000}
NUMBERS = {"i1": "A7-000001", "i2": "A7-000002"}


def test_allocations_within_open_and_payment_pass():
    assert check_allocations(80000, {"i1": 50000, "i2": 30000}, OPEN, NUMBERS) is None


def test_allocation_over_the_open_amount_names_invoice_and_amounts():
    with pytest.raises(Conflict) as err:
        check_allocations(100000, {"i1": 60000}, OPEN, NUMBERS)
    message = str(err.value)
    assert "A7-000001" in message and "600.00 CNY" in message and "500.00 CNY" in message


def test_allocations_over_the_payment_are_refused():
    with pytest.raises(Conflict) as err:
        check_allocations(70000, {"i1": 50000, "i2": 30000}, OPEN, NUMBERS, currency="USD")
    assert "800.00 USD" in str(err.value) and "700.00 USD" in str(err.value)


@pytest.mark.parametrize("amount", [0, -100])
def test_allocation_must_be_positive(amount):
    with pytest.raises(Conflict, match="A7-000002.*more than zero"):
        check_allocations(100000, {"i2": amount}, OPEN, NUMBERS)


def test_allocation_to_an_invoice_that_is_not_open_is_not_found():
    with pytest.raises(NotFound, match="A7-000009"):
        check_allocations(100000, {"i9": 100}, OPEN, {**NUMBERS, "i9": "A7-000009"})


# --- spread_over_instalments -----------------------------------------------------------------------


def test_partial_payment_clears_the_first_instalment_first():
    schedule = instalments(BUILTIN_TERMS["30/70"], 100000, date(2026, 1, 10))
    assert spread_over_instalments(50000, schedule) == [(date(2026, 1, 10), 0), (date(2026, 3, 11), 50000)]


def test_nothing_paid_leaves_every_instalment_open():
    schedule = [(date(2026, 3, 1), 700), (date(2026, 1, 1), 300)]
    assert spread_over_instalments(0, schedule) == [(date(2026, 1, 1), 300), (date(2026, 3, 1), 700)]


def test_overpayment_clears_everything():
    schedule = [(date(2026, 1, 1), 300), (date(2026, 3, 1), 700)]
    assert spread_over_instalments(5000, schedule) == [(date(2026, 1, 1), 0), (date(2026, 3, 1), 0)]


def test_negative_paid_is_refused():
    with pytest.raises(InvalidInput):
        spread_over_instalments(-1, [(date(2026, 1, 1), 300)])
