"""JSON from files people bring: nested up to the limit and no deeper, never a lone surrogate."""

from __future__ import annotations

import pytest

from forge_tui.core.json_input import MAX_DEPTH, JsonProblem, loads


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_values_nest_up_to_the_limit_and_no_deeper() -> None:
    assert loads(nested(MAX_DEPTH)) is not None
    assert loads('{"a": ' * MAX_DEPTH + "1" + "}" * MAX_DEPTH) is not None
    for text in (nested(MAX_DEPTH + 1), '{"a": ' * 500 + "1" + "}" * 500, nested(100_000)):
        with pytest.raises(JsonProblem, match=f"^nested deeper than {MAX_DEPTH} levels$"):
            loads(text)
    assert loads("[" + "1," * 500 + "1]") == [1] * 501  # many brackets-free items are not deep


def test_a_lone_surrogate_is_not_text() -> None:
    assert loads('"\\ud83d\\ude00"') == "😀"
    for text in ('"\\ud800"', '{"\\udfff": 1}', '[["a\\uDC80b"]]'):
        with pytest.raises(JsonProblem, match="lone surrogate"):
            loads(text)
