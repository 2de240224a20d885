"""Rubrics: the built-in templates render an example's fields in the sandbox, few-shot examples come
first with high or low scores, and a custom rubric is checked before it is kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from forge_tui.core.errors import InvalidInput
from forge_tui.core.judge_output import parse_judgement
from forge_tui.core.models import Example, ExampleContent, ExampleMeta
from forge_tui.core.rubrics import (
    CRITERIA,
    OVERALL_SCHEMA,
    builtin_rubrics,
    check_custom_rubric,
    example_values,
    judge_messages,
    render_prompt,
    shot_reply,
)
from forge_tui.core.templates import TemplateError, TemplateLimitError

WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def example(prompt: str = "Name the capital of Peru.", output: str = "Lima.", **content: object) -> Example:
    return Example(
        id="e1",
        dataset_id=1,
        content=ExampleContent(user_prompt=prompt, output=output, **content),  # type: ignore[arg-type]
        meta=ExampleMeta(),
        created_at=WHEN,
        updated_at=WHEN,
    )


def test_the_built_in_rubrics_render_the_fields_they_judge() -> None:
    rubrics = builtin_rubrics()
    assert set(rubrics) == {"overall", "pairwise", "tool_call"}
    overall = render_prompt(rubrics["overall"], example_values(example(system_prompt="Answer in one word.")))
    assert "Answer in one word." in overall and "Name the capital of Peru." in overall and "Lima." in overall
    assert all(name in overall for name in CRITERIA)
    assert rubrics["overall"].schema == OVERALL_SCHEMA
    assert set(OVERALL_SCHEMA["properties"]["criteria"]["properties"]) == set(CRITERIA)
    pair = render_prompt(rubrics["pairwise"], example_values(example(), "Lima.", "Cusco."))
    assert "Answer A:\nLima." in pair and "Answer B:\nCusco." in pair
    call = {"name": "weather", "arguments": {"city": "Lima"}}
    tool = render_prompt(
        rubrics["tool_call"],
        example_values(example(output="", tool_calls=[call], extra={"tools": [{"name": "weather"}]})),
    )
    assert '"city": "Lima"' in tool and '[{"name": "weather"}]' in tool


def test_few_shot_examples_come_first_with_high_and_low_scores_that_parse() -> None:
    overall = builtin_rubrics()["overall"]
    messages = judge_messages(
        overall,
        example_values(example("Q3")),
        [(example_values(example("Q1")), True), (example_values(example("Q2")), False)],
    )
    assert [m.role for m in messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert "Q1" in messages[1].content and "Q2" in messages[3].content and "Q3" in messages[5].content
    good = parse_judgement(messages[2].content, overall, "m")
    poor = parse_judgement(messages[4].content, overall, "m")
    assert (good.score, poor.score) == (9.0, 2.0)
    assert set(good.criteria) == set(CRITERIA)
    tool_call = builtin_rubrics()["tool_call"]
    assert parse_judgement(shot_reply(tool_call, good=False), tool_call, "m").verdict == "does not fit"


def test_a_custom_rubric_is_checked_on_a_sample_example() -> None:
    rubric = check_custom_rubric("  Politeness ", "Is this polite? {{ output }} Give a score 1-10.", few_shots=4)
    assert (rubric.name, rubric.kind, rubric.few_shots) == ("Politeness", "custom", 4)
    with pytest.raises(InvalidInput, match="must ask for a score"):
        check_custom_rubric("Vague", "Is this good? {{ output }}")
    with pytest.raises(TemplateError, match="does not render for a sample example"):
        check_custom_rubric("Typo", "Score {{ outptu }}")
    with pytest.raises(TemplateError, match="line 1"):
        check_custom_rubric("Broken", "Score {% if %}")
    with pytest.raises(TemplateLimitError):
        check_custom_rubric("Huge", "score {{ 'x' * 10**9 }}")
    with pytest.raises(TemplateError):
        check_custom_rubric("Escape", "score {{ ''.__class__.__mro__ }}")
    with pytest.raises(InvalidInput, match="built-in rubric"):
        check_custom_rubric("overall", "score {{ output }}")
    with pytest.raises(InvalidInput, match="0 to 20 few-shot"):
        check_custom_rubric("Many", "score {{ output }}", few_shots=21)
