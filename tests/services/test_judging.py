"""Judging against the fake Ollama (a real HTTP server): the rubric's schema goes out as structured
output, the answer is parsed (valid JSON, JSON inside prose, out-of-range scores, refusals), few-shot
examples come first, transport errors propagate; custom rubrics are kept sealed and move with a key
rotation; calibration figures on a hand-made dataset."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.errors import InvalidInput, NotFound
from forge_tui.core.judging import JudgeFailed, Judgement
from forge_tui.core.models import Example, ExampleContent, ExampleMeta, ReviewState
from forge_tui.core.rubrics import CRITERIA, OVERALL_SCHEMA, Rubric, builtin_rubrics
from forge_tui.llm.errors import BackendError
from forge_tui.services.accounts import AccountService
from forge_tui.services.backends import BackendService
from forge_tui.services.home import Home
from forge_tui.services.judging import (
    calibration_report,
    few_shot_examples,
    fix_answer,
    judge_example,
    judge_pair,
)
from forge_tui.services.key_rotation import rotate_key
from forge_tui.services.rubrics import RubricService
from forge_tui.services.workspace import Workspace
from tests.fake_ollama import FakeOllama
from tests.passwords import PASSWORD

MODEL = "llama3.2"
OVERALL = builtin_rubrics()["overall"]
PAIRWISE = builtin_rubrics()["pairwise"]
SECRET_TEMPLATE = "Rate the zanzibar-marmalade tone of {{ output }}; give a score from 1 to 10."


@pytest.fixture
async def client(fake: FakeOllama) -> AsyncIterator[BackendService]:
    async with BackendService(BackendSettings(base_url=fake.base_url, max_retries=0)) as service:
        yield service


def stored(workspace: Workspace, prompt: str = "Name the capital of Peru.", output: str = "Lima.") -> Example:
    dataset = workspace.datasets.create(f"judged {prompt[:20]}").id
    example_id = workspace.examples.add(dataset, ExampleContent(user_prompt=prompt, output=output))
    return workspace.examples.get(example_id)


async def test_valid_json_from_the_schema_sent_as_structured_output(
    fake: FakeOllama, client: BackendService, workspace: Workspace
) -> None:
    judged = await judge_example(client, OVERALL, stored(workspace), MODEL)
    sent = fake.requests[-1]
    assert sent["format"] == OVERALL_SCHEMA
    assert sent["options"]["temperature"] == 0
    assert "Name the capital of Peru." in sent["messages"][-1]["content"]
    assert judged.rubric == "overall" and judged.model == MODEL and 1 <= judged.score <= 10
    assert set(judged.criteria) == set(CRITERIA) and judged.reason


@pytest.mark.parametrize(
    ("reply", "score", "reason"),
    [
        ('{"score": 8, "reason": "Correct and brief."}', 8.0, "Correct and brief."),
        ('Here is my judgement:\n{"score": 4, "reason": "Too vague."}\nThanks!', 4.0, "Too vague."),
        ("Score: 6/10\nReason: right, but no detail.", 6.0, "right, but no detail."),
    ],
)
async def test_json_and_json_inside_prose(
    fake: FakeOllama, client: BackendService, workspace: Workspace, reply: str, score: float, reason: str
) -> None:
    fake.fixed_reply = reply
    judged = await judge_example(client, OVERALL, stored(workspace), MODEL)
    assert (judged.score, judged.reason) == (score, reason)


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ('{"score": 11, "reason": "Great."}', "The judge gave the score 11, outside the scale of 1 to 10."),
        ('{"score": 0, "reason": "Bad."}', "The judge gave the score 0, outside the scale of 1 to 10."),
        ('{"score": "high", "reason": "Good."}', "The judge gave the score 'high', not a number from 1 to 10."),
        (
            "I cannot evaluate this example.",
            "The judge refused to evaluate the example: 'I cannot evaluate this example'.",
        ),
    ],
)
async def test_out_of_range_scores_and_refusals_fail_clearly(
    fake: FakeOllama, client: BackendService, workspace: Workspace, reply: str, message: str
) -> None:
    fake.fixed_reply = reply
    with pytest.raises(JudgeFailed) as failed:
        await judge_example(client, OVERALL, stored(workspace), MODEL)
    assert str(failed.value) == message


async def test_transport_errors_propagate_for_the_engine_to_retry(client: BackendService, workspace: Workspace) -> None:
    with pytest.raises(BackendError):
        await judge_example(client, OVERALL, stored(workspace), "no-such-model")


async def test_a_custom_rubric_that_does_not_render_for_an_example_is_a_judge_failure(
    client: BackendService, workspace: Workspace
) -> None:
    rubric = Rubric("by topic", "custom", "Score this {{ slots.topic }} answer: {{ output }}")
    with pytest.raises(JudgeFailed, match="The rubric 'by topic' does not render for this example"):
        await judge_example(client, rubric, stored(workspace), MODEL)


async def test_accepted_and_rejected_examples_are_shown_first_as_good_and_poor(
    fake: FakeOllama, client: BackendService, workspace: Workspace
) -> None:
    dataset = workspace.datasets.create("shots").id
    examples = workspace.examples
    kept = examples.add(dataset, ExampleContent(user_prompt="KEPT-Q", output="a"), ExampleMeta())
    dropped = examples.add(
        dataset, ExampleContent(user_prompt="DROPPED-Q", output="b"), ExampleMeta(review=ReviewState.REJECTED)
    )
    examples.add(dataset, ExampleContent(user_prompt="OPEN-Q", output="c"), ExampleMeta(review=ReviewState.UNREVIEWED))
    shots = few_shot_examples(examples, dataset, 4)
    assert sorted(e.id for e in shots) == sorted([kept, dropped])
    fake.fixed_reply = '{"score": 7, "reason": "ok"}'
    await judge_example(client, OVERALL, stored(workspace, "NEW-Q"), MODEL, few_shots=shots)
    messages = fake.requests[-1]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    by_prompt = {messages[i]["content"].split("User's request:\n")[1].split("\n")[0]: messages[i + 1] for i in (1, 3)}
    assert '"score": 9' in by_prompt["KEPT-Q"]["content"] and '"score": 2' in by_prompt["DROPPED-Q"]["content"]
    assert "NEW-Q" in messages[-1]["content"]


async def test_judge_pair_gives_a_verdict(fake: FakeOllama, client: BackendService, workspace: Workspace) -> None:
    fake.fixed_reply = '{"verdict": "b", "score": 8, "reason": "B names the river."}'
    judged = await judge_pair(client, PAIRWISE, stored(workspace), "No idea.", "The Rimac.", MODEL)
    assert (judged.verdict, judged.score) == ("b", 8.0)
    last = fake.requests[-1]["messages"][-1]["content"]
    assert "Answer A:\nNo idea." in last and "Answer B:\nThe Rimac." in last
    fake.fixed_reply = '{"score": 8, "reason": "Both fine."}'
    with pytest.raises(JudgeFailed, match="no verdict"):
        await judge_pair(client, PAIRWISE, stored(workspace, "Other"), "x", "y", MODEL)


async def test_fix_answer_rewrites_from_the_reason(
    fake: FakeOllama, client: BackendService, workspace: Workspace
) -> None:
    fake.fixed_reply = "  Lima is the capital of Peru.  "
    judgement = Judgement(rubric="overall", score=3, reason="It does not answer in a full sentence.")
    fixed = await fix_answer(client, stored(workspace), judgement, MODEL)
    assert fixed == "Lima is the capital of Peru."
    asked = fake.requests[-1]["messages"][-1]["content"]
    assert "It does not answer in a full sentence." in asked and "Answer to improve:\nLima." in asked


def test_custom_rubrics_are_saved_sealed_listed_and_deleted(workspace: Workspace) -> None:
    rubrics = RubricService(workspace.home, workspace.unlocked)
    saved = rubrics.save("Tone", SECRET_TEMPLATE, few_shots=3)
    assert rubrics.get("Tone") == saved
    assert (saved.kind, saved.few_shots, saved.builtin) == ("custom", 3, False)
    assert [r.name for r in rubrics.list()] == ["overall", "pairwise", "tool_call", "Tone"]
    rubrics.save("Tone", SECRET_TEMPLATE + " Be strict.")  # replaced, not added
    assert rubrics.get("Tone").few_shots == 0 and len(rubrics.list()) == 4
    raw = workspace.home.db_path.read_bytes()
    assert b"zanzibar" not in raw and b"Tone" not in raw
    with pytest.raises(InvalidInput, match="must ask for a score"):
        rubrics.save("Vague", "Is {{ output }} good?")
    with pytest.raises(InvalidInput, match="built-in"):
        rubrics.delete("overall")
    rubrics.delete("Tone")
    with pytest.raises(NotFound, match="No rubric named 'Tone'"):
        rubrics.get("Tone")


def test_a_key_rotation_moves_the_custom_rubrics(home: Home) -> None:
    accounts = AccountService(home)
    accounts.create_user("alice", "Alice", PASSWORD)
    before = accounts.unlock("alice", PASSWORD)
    RubricService(home, before).save("Tone", SECRET_TEMPLATE, few_shots=2)
    rotate_key(home, "alice", PASSWORD, lambda step: None)
    after = RubricService(home, AccountService(home).unlock("alice", PASSWORD))
    assert after.get("Tone").template == SECRET_TEMPLATE
    assert [r.name for r in after.list()][-1] == "Tone"


def test_calibration_on_a_hand_made_dataset(workspace: Workspace) -> None:
    """Scores and decisions as in tests/core/test_calibration.py, plus examples that must not count:
    unreviewed, judged by another rubric, not judged at all."""
    dataset = workspace.datasets.create("calibrated").id
    examples = workspace.examples
    plan = [
        (9.0, ReviewState.ACCEPTED),
        (8.0, ReviewState.ACCEPTED),
        (7.0, ReviewState.REJECTED),
        (6.0, ReviewState.ACCEPTED),
        (3.0, ReviewState.REJECTED),
        (2.0, ReviewState.REJECTED),
        (10.0, ReviewState.UNREVIEWED),
    ]
    ids = examples.add_many(
        dataset,
        [(ExampleContent(user_prompt=f"Q{i}", output="A"), ExampleMeta(review=r)) for i, (_s, r) in enumerate(plan)],
    )
    other, unjudged = examples.add_many(
        dataset, [(ExampleContent(user_prompt=f"X{i}", output="A"), ExampleMeta()) for i in range(2)]
    )
    examples.set_judgements(
        dataset,
        [(i, Judgement(rubric="overall", score=s)) for i, (s, _r) in zip(ids, plan, strict=True)]
        + [(other, Judgement(rubric="tone", score=1))],
    )
    report = calibration_report(workspace, dataset, "overall", 7)
    assert report["total"] == 6 and (report["good"], report["bad"]) == (3, 3)
    assert (report["true_good"], report["false_good"], report["true_bad"], report["false_bad"]) == (2, 1, 2, 1)
    assert report["accuracy"] == pytest.approx(4 / 6)
    assert report["spearman"] == pytest.approx(10.5 / (17.5 * 13.5) ** 0.5)
    assert report["suggested_threshold"] == 6.0
    assert (report["decided"], report["unjudged"]) == (8, 2)  # `other` and `unjudged` are accepted, left out
    assert report["summary"].startswith("Over 6 examples (3 kept, 3 turned down) the judge agrees with you on 67%")
    assert unjudged not in examples.judgements(dataset, [unjudged])
    any_rubric = calibration_report(workspace, dataset, None, 7)
    assert any_rubric["total"] == 7 and any_rubric["false_good"] == 1 and any_rubric["true_bad"] == 2
