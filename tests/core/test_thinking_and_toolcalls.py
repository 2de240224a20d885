"""Pure normalisation: <think> splitting across chunk boundaries, tool calls written as text."""

from __future__ import annotations

import itertools
import json

from hypothesis import given
from hypothesis import strategies as st

from forge_tui.core.thinking import ThinkSplitter, split_thinking
from forge_tui.core.toolcalls import parse_arguments, tool_calls_from_text

texts = st.text(alphabet=st.sampled_from(list("ab <>/thinkT\n")), max_size=60)


def feed_in_pieces(text: str, cuts: list[int]) -> tuple[str, str]:
    splitter = ThinkSplitter()
    answer, thinking = [], []
    points = sorted({c % (len(text) + 1) for c in cuts} | {0, len(text)})
    for start, end in itertools.pairwise(points):
        a, t = splitter.feed(text[start:end])
        answer.append(a)
        thinking.append(t)
    a, t = splitter.flush()
    return "".join(answer) + a, "".join(thinking) + t


def test_think_block_is_separated() -> None:
    assert split_thinking("<think>plan it</think>The answer.") == ("The answer.", "plan it")
    assert split_thinking("no reasoning here") == ("no reasoning here", "")


def test_unclosed_think_is_all_thinking() -> None:
    assert split_thinking("<think>still thinking") == ("", "still thinking")


def test_tag_split_across_chunks() -> None:
    assert feed_in_pieces("<think>x</think>yes", [1, 3, 8, 10, 12]) == ("yes", "x")


@given(
    st.lists(st.tuples(st.booleans(), st.text(alphabet="abc xyz", max_size=10)), max_size=6),
    st.lists(st.integers(0, 200), max_size=10),
)
def test_any_chunking_gives_the_same_split(parts: list[tuple[bool, str]], cuts: list[int]) -> None:
    text = "".join(f"<think>{p}</think>" if inside else p for inside, p in parts)
    expected_answer = "".join(p for inside, p in parts if not inside)
    expected_thinking = "".join(p for inside, p in parts if inside)
    assert feed_in_pieces(text, cuts) == (expected_answer, expected_thinking)


@given(texts, st.lists(st.integers(0, 200), max_size=10))
def test_nothing_is_lost_or_invented(text: str, cuts: list[int]) -> None:
    whole = feed_in_pieces(text, [])
    assert feed_in_pieces(text, cuts) == whole
    if "<think>" not in text:
        assert whole == (text, "")
    answer, thinking = whole
    assert len(answer) + len(thinking) <= len(text)


OFFERED = ["get_weather", "search"]


def test_bare_object_call() -> None:
    calls = tool_calls_from_text('{"name": "get_weather", "arguments": {"city": "Paris"}}', OFFERED)
    assert [(c.name, c.arguments) for c in calls] == [("get_weather", {"city": "Paris"})]


def test_string_arguments_fenced_and_tagged_and_lists() -> None:
    fenced = '```json\n{"name": "search", "arguments": "{\\"q\\": \\"tea\\"}"}\n```'
    assert tool_calls_from_text(fenced, OFFERED)[0].arguments == {"q": "tea"}
    tagged = (
        '<tool_call>{"name": "search", "arguments": {"q": "a"}}</tool_call>\n'
        '<tool_call>{"name": "get_weather", "arguments": {}}</tool_call>'
    )
    assert [c.name for c in tool_calls_from_text(tagged, OFFERED)] == ["search", "get_weather"]
    listed = json.dumps({"tool_calls": [{"function": {"name": "search", "arguments": {"q": "b"}}}]})
    assert tool_calls_from_text(listed, OFFERED)[0].arguments == {"q": "b"}


def test_prose_unknown_names_and_broken_json_are_not_calls() -> None:
    assert tool_calls_from_text("The weather in Paris is mild.", OFFERED) == []
    assert tool_calls_from_text('{"name": "delete_all", "arguments": {}}', OFFERED) == []
    assert tool_calls_from_text('{"name": "search", "arguments": {', OFFERED) == []
    assert tool_calls_from_text('{"name": "search"}', []) == []


def test_parse_arguments_accepts_objects_and_json_strings_only() -> None:
    assert parse_arguments({"a": 1}) == {"a": 1}
    assert parse_arguments('{"a": 1}') == {"a": 1}
    assert parse_arguments("") == {}
    for bad in ("[1, 2]", "3"):
        try:
            parse_arguments(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")
