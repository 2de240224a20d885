"""The score filters and orders of core.example_filter: bounds, judged/unjudged, the table's cell and a
typed threshold."""

from __future__ import annotations

import pytest

from forge_tui.core.example_filter import ExampleFilter, ExampleOrder, parse_score, score_label
from forge_tui.core.models import ExampleMeta


def scored(score: float | None) -> ExampleMeta:
    return ExampleMeta(score=score)


def test_bounds_take_min_inclusive_max_exclusive_and_leave_unjudged_out() -> None:
    wanted = ExampleFilter().with_scores(min_score=5, max_score=8)
    assert [s for s in (None, 4.9, 5.0, 7.9, 8.0) if wanted.admits(scored(s))] == [5.0, 7.9]
    assert ExampleFilter().with_scores(min_score=7).admits(scored(10.0))
    assert not ExampleFilter().with_scores(max_score=7).admits(scored(None))
    assert ExampleFilter().with_scores().takes_all


def test_judged_cycles_all_judged_unjudged() -> None:
    judged = ExampleFilter().next_judged()
    unjudged = judged.next_judged()
    assert (judged.judged, unjudged.judged, unjudged.next_judged().judged) == (True, False, None)
    assert judged.admits(scored(2.0)) and not judged.admits(scored(None))
    assert unjudged.admits(scored(None)) and not unjudged.admits(scored(2.0))


def test_orders_cycle_and_cells_show_one_decimal() -> None:
    assert [o.cycled() for o in ExampleOrder] == [ExampleOrder.SCORE_DESC, ExampleOrder.SCORE_ASC, ExampleOrder.TIME]
    assert (score_label(7.25), score_label(10), score_label(None)) == ("7.2", "10.0", "")


@pytest.mark.parametrize("typed", ["abc", "0.5", "11", "nan"])
def test_a_bad_threshold_is_one_sentence(typed: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_score(typed)
    assert str(raised.value).endswith(".") and len(str(raised.value)) < 80


def test_a_typed_threshold() -> None:
    assert (parse_score(" 7.5 "), parse_score(""), parse_score("1")) == (7.5, None, 1.0)
