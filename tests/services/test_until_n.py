"""Generation jobs that keep going until N examples pass (issue 18), against the fake Ollama whose
judge model fails one answer in three: exactly N pass, the 1:2 quotas hold among them, the failing
ones are kept rejected with their judgement, the attempts cap stops a hopeless job with its count,
dedup refuses repeats, and a job resumed after an interrupt or a kill -9 continues the count."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.errors import Conflict
from forge_tui.core.generation import GenerationSpec, JudgeSettings, SlotSource, SourceType
from forge_tui.core.jobs import JobState, JobSummary
from forge_tui.core.models import Example, ReviewState
from forge_tui.services.backends import BackendService
from forge_tui.services.batch_files import BatchFiles
from forge_tui.services.generation_jobs import GENERATION_RECIPE
from forge_tui.services.jobs import JobService, RunOptions
from forge_tui.services.workspace import Workspace
from tests.fake_ollama import FakeOllama
from tests.passwords import PASSWORD
from tests.services.test_generation_jobs import TEMPLATE

FAST = RunOptions(concurrency=4, attempts=2, backoff_s=0.01)
JUDGE = "qwen3:0.6b"
WEIGHTED = {"tone": SlotSource(type=SourceType.WEIGHTED)}
TOO_STRICT = "the judge threshold or dedup may be too strict."


@pytest.fixture(autouse=True)
def _parts(monkeypatch: pytest.MonkeyPatch, fake: FakeOllama) -> None:
    fake.judge_model = JUDGE


def until_spec(workspace: Workspace, **fields: Any) -> GenerationSpec:
    dataset_id = workspace.datasets.create(f"until {len(workspace.datasets.list())}").id
    values: dict[str, Any] = {
        "template": TEMPLATE,
        "count": 30,
        "target_accepted": 30,
        "dataset_id": dataset_id,
        "model": "llama3.2",
        "seed": 5,
        "judge": JudgeSettings(model=JUDGE, threshold=7),
        "quotas": True,
        "max_attempts": 120,
        "sources": WEIGHTED,
    }
    return GenerationSpec(**{**values, **fields})


async def run(workspace: Workspace, fake: FakeOllama, spec: GenerationSpec, job_id: int | None = None) -> JobSummary:
    jobs = JobService(workspace.home, workspace.unlocked)
    if job_id is None:
        job_id = jobs.create(jobs.plan(spec)).id
    async with BackendService(BackendSettings(base_url=fake.base_url, max_retries=0)) as backend:
        return await jobs.run(job_id, backend, GENERATION_RECIPE, options=FAST)


def made(workspace: Workspace, spec: GenerationSpec) -> list[Example]:
    return [e for e in workspace.examples.scan(spec.dataset_id) if isinstance(e, Example)]


def passing(examples: list[Example]) -> list[Example]:
    return [e for e in examples if e.meta.review is not ReviewState.REJECTED]


async def test_exactly_n_pass_with_the_weights_held_among_them(workspace: Workspace, fake: FakeOllama) -> None:
    spec = until_spec(workspace)
    final = await run(workspace, fake, spec)
    examples = made(workspace, spec)
    passed, rejected = passing(examples), [e for e in examples if e.meta.review is ReviewState.REJECTED]
    assert final.status is JobState.DONE and final.error is None
    assert len(passed) == 30
    assert {e.meta.review for e in passed} == {ReviewState.UNREVIEWED}
    assert Counter(e.content.slots["tone"] for e in passed) == {"calm": 10, "dry": 20}
    # About one in three fails the judge: kept, rejected, each with its score and judgement.
    assert 5 <= len(rejected) <= 40
    assert all(e.meta.score is not None and e.meta.score < 7 for e in rejected)
    assert all(e.meta.score is not None and e.meta.score >= 7 for e in passed)
    judged = workspace.examples.judgements(spec.dataset_id, [e.id for e in examples])
    assert len(judged) == len(examples) and {j.model for j in judged.values()} == {JUDGE}
    assert final.done == final.total == 120  # the attempts not needed end done without an example


async def test_the_attempts_cap_stops_a_hopeless_job_with_its_count(workspace: Workspace, fake: FakeOllama) -> None:
    fake.judge_fail_every = 1  # every answer fails the judge
    spec = until_spec(workspace, target_accepted=5, count=5, max_attempts=8, quotas=False)
    final = await run(workspace, fake, spec)
    assert final.status is JobState.FAILED
    assert final.error == f"0 of 5 passed after 8 attempts: {TOO_STRICT}"
    examples = made(workspace, spec)
    assert len(examples) == 8 and {e.meta.review for e in examples} == {ReviewState.REJECTED}


async def test_dedup_refuses_repeated_answers(workspace: Workspace, fake: FakeOllama) -> None:
    fake.fixed_reply = "Tides rise and fall twice a day because the moon pulls the oceans towards it."
    spec = until_spec(
        workspace, target_accepted=3, count=3, max_attempts=6, judge=None, quotas=False, dedup_threshold=0.8
    )
    final = await run(workspace, fake, spec)
    assert final.error == f"1 of 3 passed after 6 attempts: {TOO_STRICT}"
    examples = made(workspace, spec)
    assert len(passing(examples)) == 1 and len(examples) == 6


async def test_a_resumed_job_continues_the_count(workspace: Workspace, fake: FakeOllama) -> None:
    fake.token_latency = 0.001
    spec = until_spec(workspace)
    jobs = JobService(workspace.home, workspace.unlocked)
    job_id = jobs.create(jobs.plan(spec)).id
    async with BackendService(BackendSettings(base_url=fake.base_url, max_retries=0)) as backend:
        first = asyncio.ensure_future(jobs.run(job_id, backend, GENERATION_RECIPE, options=FAST))

        async def stop_after_some_passed() -> None:
            while len(passing(made(workspace, spec))) < 10:
                await asyncio.sleep(0.05)
            first.cancel()

        await asyncio.wait_for(stop_after_some_passed(), 20)
        with pytest.raises(asyncio.CancelledError):
            await first
    interrupted = passing(made(workspace, spec))
    assert 10 <= len(interrupted) < 30 and jobs.get(job_id).status is JobState.PAUSED
    final = await run(workspace, fake, spec, job_id)
    passed = passing(made(workspace, spec))
    assert final.status is JobState.DONE
    assert len(passed) == 30 and {e.id for e in interrupted} <= {e.id for e in passed}
    assert Counter(e.content.slots["tone"] for e in passed) == {"calm": 10, "dry": 20}


async def test_an_until_n_job_is_refused_as_an_offline_batch(workspace: Workspace, tmp_path: Path) -> None:
    spec = until_spec(workspace)
    jobs = JobService(workspace.home, workspace.unlocked)
    job_id = jobs.create(jobs.plan(spec)).id
    with pytest.raises(Conflict, match="keeps going until N pass; it cannot run as an offline batch"):
        await BatchFiles(workspace.home, workspace.unlocked).export(job_id, tmp_path / "batch.jsonl")
    assert not (tmp_path / "batch.jsonl").exists()


def start_child(workspace: Workspace, job_id: int, fake: FakeOllama) -> subprocess.Popen[str]:
    args = [sys.executable, "-m", "tests.until_n_child", str(workspace.home.path), str(job_id), fake.base_url]
    child = subprocess.Popen(
        args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2]
    )
    assert child.stdin is not None
    child.stdin.write(PASSWORD + "\n")
    child.stdin.close()
    return child


@pytest.mark.slow
def test_after_kill_9_the_resumed_job_continues_the_count(workspace: Workspace, fake: FakeOllama) -> None:
    fake.token_latency = 0.002
    spec = until_spec(workspace)
    jobs = JobService(workspace.home, workspace.unlocked)
    job_id = jobs.create(jobs.plan(spec)).id
    child = start_child(workspace, job_id, fake)
    deadline = time.monotonic() + 60
    while len(passing(made(workspace, spec))) < 10 and child.poll() is None:
        assert time.monotonic() < deadline, "the job made no progress"
        time.sleep(0.02)
    assert child.poll() is None, "the job finished before it could be killed"
    child.kill()
    child.wait()
    assert child.stdout is not None
    child.stdout.close()
    killed = passing(made(workspace, spec))
    assert 10 <= len(killed) < 30 and jobs.get(job_id).status is JobState.RUNNING
    child = start_child(workspace, job_id, fake)
    child.wait(timeout=60)
    assert child.stdout is not None
    with child.stdout:
        out = child.stdout.read()
    assert child.returncode == 0 and out.strip() == "done"
    passed = passing(made(workspace, spec))
    assert len(passed) == 30 and {e.id for e in killed} <= {e.id for e in passed}
    assert Counter(e.content.slots["tone"] for e in passed) == {"calm": 10, "dry": 20}
