"""Reading paraphrased variations from whatever shape a model answers in."""

from __future__ import annotations

import pytest

from forge_tui.core.paraphrase import parse_variations, schema

ORIGINAL = "Explain tides to a child."


@pytest.mark.parametrize(
    "answer",
    [
        '{"variations": ["How do tides work, for a kid?", "Tell a child why the sea rises and falls."]}',
        '["How do tides work, for a kid?", "Tell a child why the sea rises and falls."]',
        'Sure! ```json\n{"paraphrases": ["How do tides work, for a kid?", '
        '"Tell a child why the sea rises and falls."]}\n```',
        'Here they are: [{"text": "How do tides work, for a kid?"}, '
        '{"text": "Tell a child why the sea rises and falls."}]',
        "Here are two paraphrases:\n1. How do tides work, for a kid?\n2) Tell a child why the sea rises and falls.",
        '- "How do tides work, for a kid?"\n* Tell a child why the sea rises and falls.\n',
    ],
)
def test_every_shape_gives_the_same_variations(answer: str) -> None:
    assert parse_variations(answer, ORIGINAL) == [
        "How do tides work, for a kid?",
        "Tell a child why the sea rises and falls.",
    ]


def test_duplicates_and_the_original_are_dropped() -> None:
    answer = '{"variations": ["Explain  tides to a CHILD.", "Why do tides happen?", "why do tides  happen?", "", " "]}'
    assert parse_variations(answer, ORIGINAL) == ["Why do tides happen?"]


def test_broken_json_falls_back_to_lines() -> None:
    answer = '{"variations": ["Why do tides happen?", "What makes the tide'
    assert parse_variations(answer, ORIGINAL) == [answer]  # one line: taken as it is, not lost
    assert parse_variations("", ORIGINAL) == []


def test_schema_asks_for_exactly_n() -> None:
    variations = schema(4)["properties"]["variations"]
    assert (variations["minItems"], variations["maxItems"]) == (4, 4)
