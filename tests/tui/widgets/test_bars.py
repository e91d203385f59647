"""The bar charts' drawing: a stacked bar is the bar of its sum, cut where one part meets the next."""
from __future__ import annotations

from tui.widgets.bars import bar, stacked


def test_a_stacked_bar_is_the_bar_of_its_sum_in_its_parts_order():
    segments = stacked(((30, "red"), (70, "green")), 100, 20)
    assert "".join(text for text, _ in segments) == bar(100, 100, 20) == "█" * 20
    assert segments == [("█" * 6, "red"), ("█" * 14, "green")]


def test_a_small_part_keeps_a_cell_and_the_tail_keeps_its_eighths():
    segments = stacked(((1, "red"), (42, "green")), 100, 10)
    assert [style for _, style in segments] == ["red", "green"]
    assert segments[0][0] == "█" and "".join(t for t, _ in segments) == bar(43, 100, 10) == "████▎"


def test_nothing_positive_draws_nothing():
    assert stacked(((0, "red"), (-5, "green")), 100, 10) == []
    assert stacked(((0, "red"), (50, "green")), 100, 10) == [("█" * 5, "green")]
