"""Generation jobs end to end: JobService with the real generation recipe against the fake Ollama
(tool calls, zh-TW flags, multi-turn, thinking, stratified counts, exactly N job examples)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.example_filter import ExampleFilter
from forge_tui.core.generation import ExampleKind, GenerationSpec, SlotSource, SourceType
from forge_tui.core.jobs import JobState, JobSummary
from forge_tui.core.models import Example, ExampleSource, ReviewState
from forge_tui.core.templates import SlotDef, TemplateInfo, WeightedValue
from forge_tui.services.backends import BackendService
from forge_tui.services.generation_jobs import GENERATION_RECIPE
from forge_tui.services.jobs import JobService, RunOptions
from forge_tui.services.workspace import Workspace
from tests.fake_ollama import FakeOllama
from tests.services.generation_templates import SIMPLIFIED, TOOLS

FAST = RunOptions(concurrency=4, attempts=3, backoff_s=0.01)
TEMPLATE = TemplateInfo(
    name="Explain",
    system_prompt="You are terse.",
    user_prompt="Explain {{ topic }} in a {{ tone }} tone.",
    slots=[
        SlotDef(name="topic", default="tides"),
        SlotDef(
            name="tone",
            default="calm",
            values=[WeightedValue(value="calm", weight=1), WeightedValue(value="dry", weight=2)],
        ),
    ],
)


async def run_job(workspace: Workspace, fake: FakeOllama, **fields: Any) -> tuple[JobSummary, list[Example]]:
    dataset_id = workspace.datasets.create(f"generated {len(workspace.datasets.list())}").id
    values: dict[str, Any] = {"template": TEMPLATE, "count": 4, "dataset_id": dataset_id, "model": "llama3.2"}
    spec = GenerationSpec(**{"seed": 3, **values, **fields})
    jobs = JobService(workspace.home, workspace.unlocked)
    job = jobs.create(jobs.plan(spec))
    async with BackendService(BackendSettings(base_url=fake.base_url, max_retries=0)) as backend:
        final = await jobs.run(job.id, backend, GENERATION_RECIPE, options=FAST)
    found = [e for e in workspace.examples.scan(dataset_id) if isinstance(e, Example)]
    return final, found


async def test_exactly_n_unreviewed_job_examples(workspace: Workspace, fake: FakeOllama) -> None:
    final, made = await run_job(workspace, fake, count=7)
    assert (final.status, final.done, final.failed) == (JobState.DONE, 7, 0)
    assert len(made) == 7
    assert {(e.meta.source, e.meta.job_id, e.meta.review) for e in made} == {
        (ExampleSource.JOB, final.id, ReviewState.UNREVIEWED)
    }


async def test_weights_one_to_two_give_exactly_10_and_20_examples(workspace: Workspace, fake: FakeOllama) -> None:
    final, made = await run_job(workspace, fake, count=30, sources={"tone": SlotSource(type=SourceType.WEIGHTED)})
    assert final.done == 30
    assert Counter(e.content.slots["tone"] for e in made) == {"calm": 10, "dry": 20}


async def test_schema_invalid_tool_calls_fail_their_items_with_the_reason(
    workspace: Workspace, fake: FakeOllama
) -> None:
    fake.invalid_tool_calls = 100  # every call and its one retry leave out a required argument
    final, made = await run_job(workspace, fake, template=TOOLS, kind=ExampleKind.TOOL_CALLING, count=2)
    assert (final.done, final.failed) == (0, 2) and made == []
    errors = JobService(workspace.home, workspace.unlocked).errors(final.id)
    assert len(errors) == 2 and all("unit" in e.reason for e in errors)
    assert len(fake.requests) == 4  # each item asked twice, not retried by the engine


async def test_zh_tw_answers_in_simplified_chinese_are_flagged(workspace: Workspace, fake: FakeOllama) -> None:
    fake.fixed_reply = SIMPLIFIED
    final, made = await run_job(workspace, fake, language="zh-TW", count=3)
    assert final.done == 3
    assert {e.meta.language_flag for e in made} == {"Simplified Chinese"}
    job_only = ExampleFilter(job_id=final.id)
    assert workspace.examples.count(made[0].dataset_id, job_only) == 3


async def test_multi_turn_examples_have_t_user_turns(workspace: Workspace, fake: FakeOllama) -> None:
    final, made = await run_job(workspace, fake, kind=ExampleKind.MULTI_TURN, turns=3, count=2)
    assert final.done == 2
    for example in made:
        assert [t["role"] for t in example.content.turns] == ["user", "assistant", "user", "assistant", "user"]
        assert example.content.output


async def test_thinking_lands_in_reasoning_through_a_job(workspace: Workspace, fake: FakeOllama) -> None:
    final, made = await run_job(workspace, fake, model="qwen3:0.6b", count=2)
    assert final.done == 2
    assert all(e.content.reasoning and "<think>" not in e.content.output for e in made)
