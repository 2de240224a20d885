"""The issue's typical uses of augment, each a whole job against the fake server: every answer translated
to zh-TW into a new dataset, answers made shorter in place, a `difficulty` field added from a rubric,
and user prompts rewritten in a casual tone. Each checks what the model was asked and what was kept."""

from __future__ import annotations

from typing import Any

from forge_tui.core import augment
from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.jobs import JobState
from forge_tui.core.models import Example, ExampleContent, ExampleMeta
from forge_tui.services.augment_jobs import AugmentChoice, augment_plan
from forge_tui.services.backends import BackendService
from forge_tui.services.job_kinds import recipe_for
from forge_tui.services.jobs import JobService, RunOptions
from forge_tui.services.workspace import Workspace
from tests.fake_ollama import FakeOllama

FAST = RunOptions(concurrency=4, attempts=1, backoff_s=0.01)
MODEL = "llama3.2:latest"
QUESTIONS = ["How do I boil an egg?", "What is a prime number?", "Why is the sky blue?", "How do tides work?"]


def fill(workspace: Workspace) -> int:
    dataset_id = workspace.datasets.create("cooking").id
    workspace.examples.add_many(
        dataset_id,
        [
            (
                ExampleContent(
                    system_prompt="You are a careful teacher.",
                    user_prompt=q,
                    output=f"A long and detailed answer to '{q}' that goes on for a while.",
                    reasoning="step by step",
                    slots={"topic": f"topic {i}"},
                    extra={"source_row": i, "tags": ["a", "b"]},
                ),
                ExampleMeta(),
            )
            for i, q in enumerate(QUESTIONS)
        ],
    )
    return dataset_id


def contents(workspace: Workspace, dataset_id: int) -> list[ExampleContent]:
    examples = [e for e in workspace.examples.scan(dataset_id) if isinstance(e, Example)]
    return sorted((e.content for e in examples), key=lambda c: str(c.extra.get("source_row")))


async def run_job(workspace: Workspace, fake: FakeOllama, **choice: Any) -> tuple[int, int]:
    """Plans and runs the job; returns (its id, the dataset it changed)."""
    jobs = JobService(workspace.home, workspace.unlocked)
    plan = augment_plan(workspace, AugmentChoice(model=MODEL, **choice))
    job_id = jobs.create(plan).id
    async with BackendService(BackendSettings(base_url=fake.base_url, max_retries=0)) as backend:
        await jobs.run(job_id, backend, recipe_for("augment"), options=FAST)
    summary = jobs.get(job_id)
    assert (summary.status, summary.done, summary.failed) == (JobState.DONE, len(QUESTIONS), 0)
    return job_id, plan.dataset_id


def asked(fake: FakeOllama) -> list[str]:
    return [r["messages"][-1]["content"] for r in fake.requests if r.get("messages")]


async def test_every_answer_translated_to_zh_tw_into_a_new_dataset(workspace: Workspace) -> None:
    source = fill(workspace)
    original = contents(workspace, source)
    with FakeOllama() as fake:
        fake.fixed_reply = "水煮蛋的做法很簡單。"
        _, into = await run_job(
            workspace,
            fake,
            dataset_id=source,
            field="answer",
            instruction="Translate the answer into Traditional Chinese as used in Taiwan.",
            language="zh-TW",
            into="cooking-zh-TW",
        )
        prompts = asked(fake)
    assert all("Write the new value in zh-TW." in p for p in prompts) and len(prompts) == len(QUESTIONS)
    assert contents(workspace, source) == original
    translated = contents(workspace, into)
    assert [c.output for c in translated] == ["水煮蛋的做法很簡單。"] * len(QUESTIONS)
    assert [c.model_copy(update={"output": ""}) for c in translated] == [
        c.model_copy(update={"output": ""}) for c in original
    ]
    assert workspace.datasets.get("cooking-zh-TW").id == into


async def test_answers_made_shorter_in_place_with_the_old_answer_as_rejected(workspace: Workspace) -> None:
    source = fill(workspace)
    original = contents(workspace, source)
    with FakeOllama() as fake:
        fake.fixed_reply = "Short."
        job_id, changed = await run_job(
            workspace,
            fake,
            dataset_id=source,
            field="answer",
            instruction="Make this answer to {{ user_prompt }} at most ten words.",
            keep_as_rejected=True,
        )
        prompts = asked(fake)
    assert changed == source
    assert sorted(p.split("\n")[1] for p in prompts) == sorted(
        f"Make this answer to {q} at most ten words." for q in QUESTIONS
    )
    shorter = contents(workspace, source)
    assert [c.output for c in shorter] == ["Short."] * len(QUESTIONS)
    assert [c.rejected for c in shorter] == [[c.output] for c in original]
    summary = JobService(workspace.home, workspace.unlocked).get(job_id)
    assert summary.results == {augment.PROCESSED: len(QUESTIONS), augment.CHANGED: len(QUESTIONS)}


async def test_a_difficulty_field_added_from_a_rubric(workspace: Workspace) -> None:
    source = fill(workspace)
    original = contents(workspace, source)
    rubric = "Rate how hard the question is: easy, medium or hard. Reply with the one word."
    with FakeOllama() as fake:
        fake.replies_by_prompt_substring = {"prime": "hard", "tides": "medium", "egg": "easy", "sky": "easy"}
        _, into = await run_job(
            workspace,
            fake,
            dataset_id=source,
            field="new:difficulty",
            instruction=rubric,
            context=("user_prompt", "answer"),
            into="cooking-rated",
        )
        prompts = asked(fake)
    assert all(rubric in p and "Write the value of the new field 'difficulty'." in p for p in prompts)
    assert all("user_prompt:\n" in p and "answer:\n" in p for p in prompts)
    rated = contents(workspace, into)
    assert [c.extra["difficulty"] for c in rated] == ["easy", "hard", "easy", "medium"]
    assert [{k: v for k, v in c.extra.items() if k != "difficulty"} for c in rated] == [c.extra for c in original]


async def test_user_prompts_rewritten_in_a_casual_tone(workspace: Workspace) -> None:
    source = fill(workspace)
    original = contents(workspace, source)
    with FakeOllama() as fake:
        fake.replies_by_prompt_substring = {q: f"hey, {q.lower()}" for q in QUESTIONS}
        _, into = await run_job(
            workspace,
            fake,
            dataset_id=source,
            field="user_prompt",
            instruction="Rewrite the question as a person would type it in a hurry, casually.",
            into="cooking-casual",
        )
    casual = contents(workspace, into)
    assert [c.user_prompt for c in casual] == [f"hey, {q.lower()}" for q in QUESTIONS]
    assert [c.output for c in casual] == [c.output for c in original]
    assert [c.system_prompt for c in casual] == [c.system_prompt for c in original]
