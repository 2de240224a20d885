"""Reading a judge's answer: JSON as asked, JSON inside prose or a fence, plain "Score: 7/10" text;
out-of-range and non-numeric scores, unknown verdicts and refusals are clear JudgeFailed errors."""

from __future__ import annotations

import pytest

from forge_tui.core.judge_output import parse_judgement
from forge_tui.core.judging import JudgeFailed
from forge_tui.core.rubrics import builtin_rubrics

RUBRICS = builtin_rubrics()
OVERALL, PAIRWISE, TOOL_CALL = RUBRICS["overall"], RUBRICS["pairwise"], RUBRICS["tool_call"]


def test_valid_json_gives_score_criteria_and_reason() -> None:
    text = (
        '{"criteria": {"content_quality": 8, "alignment": 9, "factual_correctness": 7, "format": 6, '
        '"training_usefulness": 8}, "score": 8, "reason": "Clear and right."}'
    )
    judged = parse_judgement(text, OVERALL, "judge-model")
    assert (judged.rubric, judged.model, judged.score, judged.reason) == (
        "overall",
        "judge-model",
        8.0,
        "Clear and right.",
    )
    assert judged.criteria == {
        "content_quality": 8.0,
        "alignment": 9.0,
        "factual_correctness": 7.0,
        "format": 6.0,
        "training_usefulness": 8.0,
    }


@pytest.mark.parametrize(
    ("text", "score", "reason"),
    [
        ('Sure! Here is my verdict: {"score": 6, "reason": "Too short."} Hope this helps.', 6.0, "Too short."),
        ('```json\n{"score": "7", "explanation": "Fine."}\n```', 7.0, "Fine."),
        ("Score: 7/10\nReason: decent but vague.", 7.0, "decent but vague."),
        ("**Score:** 9\nReason: excellent", 9.0, "excellent"),
        ("I rate it 4 out of 10 because it is wrong about dates.", 4.0, "it is wrong about dates."),
        ('{"rating": 5.5, "why": "Average."}', 5.5, "Average."),
    ],
)
def test_the_fallback_reads_json_in_prose_fences_and_text(text: str, score: float, reason: str) -> None:
    judged = parse_judgement(text, OVERALL, "m")
    assert (judged.score, judged.reason) == (score, reason)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('{"score": 11, "reason": "x"}', "the score 11, outside the scale of 1 to 10"),
        ('{"score": 0, "reason": "x"}', "the score 0, outside the scale of 1 to 10"),
        ('{"score": "high", "reason": "x"}', "the score 'high', not a number from 1 to 10"),
        ("Score: -3", "the score -3, outside the scale of 1 to 10"),
        ("Score: excellent", "the score 'excellent', not a number from 1 to 10"),
        ("Score: 4/5", "the score 4/5, not on the scale of 1 to 10"),
        ('{"score": 7, "criteria": {"format": 12}}', "the format score 12, outside the scale of 1 to 10"),
        ('{"score": true}', "the score True, not a number from 1 to 10"),
    ],
)
def test_a_score_off_the_scale_is_never_clamped(text: str, said: str) -> None:
    with pytest.raises(JudgeFailed) as failed:
        parse_judgement(text, OVERALL, "m")
    assert str(failed.value) == f"The judge gave {said}."


@pytest.mark.parametrize(
    "text",
    [
        "I cannot evaluate this content.",
        "I'm sorry, but I can't help with rating that.",
        "As an AI language model, I am unable to judge this.",
    ],
)
def test_a_refusal_is_named(text: str) -> None:
    with pytest.raises(JudgeFailed, match=r"^The judge refused to evaluate the example: '.+'\.$"):
        parse_judgement(text, OVERALL, "m")


def test_an_answer_without_a_score_says_so_in_one_bounded_sentence() -> None:
    with pytest.raises(JudgeFailed) as failed:
        parse_judgement("The answer is fine overall. " * 40, OVERALL, "m")
    message = str(failed.value)
    assert message.startswith("The judge's answer held no score: 'The answer is fine overall.")
    assert len(message) < 140 and "\n" not in message
    with pytest.raises(JudgeFailed, match="was empty"):
        parse_judgement("  \n", OVERALL, "m")


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ('{"verdict": "A", "score": 8, "reason": "A is right."}', "a"),
        ('{"verdict": "Answer B", "score": 6, "reason": "B is shorter."}', "b"),
        ('{"winner": "equal", "score": 5, "reason": "Same."}', "tie"),
        ("Winner: B\nScore: 7\nReason: B cites a source.", "b"),
    ],
)
def test_pairwise_verdicts(text: str, verdict: str) -> None:
    assert parse_judgement(text, PAIRWISE, "m").verdict == verdict


def test_pairwise_needs_a_known_verdict() -> None:
    with pytest.raises(JudgeFailed, match=r"verdict 'c' is not a, b or tie"):
        parse_judgement('{"verdict": "c", "score": 5, "reason": "?"}', PAIRWISE, "m")
    with pytest.raises(JudgeFailed, match=r"no verdict \(a, b or tie\)"):
        parse_judgement('{"score": 5, "reason": "?"}', PAIRWISE, "m")


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ('{"verdict": "fits", "score": 9, "reason": "Right tool."}', "fits"),
        ('{"verdict": "does not fit", "score": 2, "reason": "Wrong city."}', "does not fit"),
        ('{"fits": false, "score": 3, "reason": "Missing argument."}', "does not fit"),
        ("The call does not fit the request. Score: 2/10", "does not fit"),
    ],
)
def test_tool_call_verdicts(text: str, verdict: str) -> None:
    assert parse_judgement(text, TOOL_CALL, "m").verdict == verdict
