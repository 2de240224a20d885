"""Augment jobs (services.augment_jobs) against the fake server: a preview that changes nothing; a job
in place where a known tenth fails (the fake gives those an empty answer), ending with the originals
kept, exact counts, and an undo that restores every value once; a job into a new dataset that copies
every example; and a job killed with SIGKILL and resumed that changes each example once."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from forge_tui.core import augment
from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.errors import Conflict
from forge_tui.core.jobs import JobState, JobSummary
from forge_tui.core.models import Example, ExampleContent, ExampleMeta
from forge_tui.services.augment_jobs import AugmentChoice, augment_plan, ending_line, preview, undo
from forge_tui.services.backends import BackendService
from forge_tui.services.job_kinds import recipe_for
from forge_tui.services.jobs import JobService, RunOptions
from forge_tui.services.workspace import Workspace
from tests.fake_ollama import FakeOllama
from tests.passwords import PASSWORD

FAST = RunOptions(concurrency=4, attempts=2, backoff_s=0.01)
MODEL = "llama3.2:latest"
COUNT = 30
SHORT = "A short answer."


def fill(workspace: Workspace, count: int = COUNT, name: str = "source") -> tuple[int, list[str]]:
    dataset_id = workspace.datasets.create(name).id
    items = [
        (
            ExampleContent(
                user_prompt=f"Question {i}?",
                output=f"Long answer number {i} {'FAILS' if i % 10 == 3 else 'WORKS'} with many words",
                slots={"topic": f"t{i}"},
                reasoning=f"thinking {i}",
                extra={"keep": i},
            ),
            ExampleMeta(),
        )
        for i in range(count)
    ]
    return dataset_id, workspace.examples.add_many(dataset_id, items)


def replies(fake: FakeOllama) -> None:
    fake.replies_by_prompt_substring = {"FAILS": "", "WORKS": SHORT}


def choice(dataset_id: int, **over: object) -> AugmentChoice:
    values: dict[str, object] = {
        "dataset_id": dataset_id,
        "field": "answer",
        "instruction": "Make the answer to {{ user_prompt }} shorter.",
        "model": MODEL,
        "context": ("user_prompt",),
    }
    values.update(over)
    return AugmentChoice(**values)  # type: ignore[arg-type]


def by_id(workspace: Workspace, dataset_id: int) -> dict[str, Example]:
    return {e.id: e for e in workspace.examples.scan(dataset_id) if isinstance(e, Example)}


async def run(workspace: Workspace, job_id: int, fake: FakeOllama) -> JobSummary:
    jobs = JobService(workspace.home, workspace.unlocked)
    async with BackendService(BackendSettings(base_url=fake.base_url, max_retries=0, concurrency=8)) as backend:
        await jobs.run(job_id, backend, recipe_for("augment"), options=FAST)
    return jobs.get(job_id)


async def test_a_preview_shows_three_before_and_after_and_changes_nothing(workspace: Workspace) -> None:
    dataset_id, ids = fill(workspace, 5)
    before = by_id(workspace, dataset_id)
    with FakeOllama() as fake:
        replies(fake)
        async with BackendService(BackendSettings(base_url=fake.base_url, max_retries=0)) as backend:
            rows = await preview(backend, workspace, choice(dataset_id))
    assert [r.example_id for r in rows] == ids[:3]
    assert [r.after for r in rows] == [SHORT] * 3
    assert rows[0].before == "Long answer number 0 WORKS with many words"
    assert ("added", "A short answer.") in rows[0].diff or any(tag == "added" for tag, _ in rows[0].diff)
    assert by_id(workspace, dataset_id) == before


async def test_in_place_a_failing_tenth_keeps_originals_with_exact_counts_and_undo_restores(
    workspace: Workspace,
) -> None:
    dataset_id, ids = fill(workspace)
    original = by_id(workspace, dataset_id)
    jobs = JobService(workspace.home, workspace.unlocked)
    job_id = jobs.create(augment_plan(workspace, choice(dataset_id, keep_as_rejected=True))).id
    with FakeOllama() as fake:
        replies(fake)
        ended = await run(workspace, job_id, fake)
    assert (ended.status, ended.done, ended.failed) == (JobState.DONE, 27, 3)
    assert ended.results == {augment.PROCESSED: 27, augment.CHANGED: 27}
    assert ending_line(ended).startswith("30 processed, 27 changed, 0 unchanged, 3 failed in ")
    assert {e.reason for e in jobs.errors(job_id)} == {"The model gave an empty answer."}
    now = by_id(workspace, dataset_id)
    for i, example_id in enumerate(ids):
        old = original[example_id].content
        if i % 10 == 3:
            assert now[example_id].content == old
        else:
            assert now[example_id].content == old.model_copy(update={"output": SHORT, "rejected": [old.output]})
    assert undo(workspace, job_id) == 27
    assert {i: e.content for i, e in by_id(workspace, dataset_id).items()} == {
        i: e.content for i, e in original.items()
    }
    with pytest.raises(Conflict, match="undone already"):
        undo(workspace, job_id)


async def test_into_a_new_dataset_copies_every_example_and_leaves_the_source(workspace: Workspace) -> None:
    dataset_id, _ = fill(workspace, 10)
    original = by_id(workspace, dataset_id)
    jobs = JobService(workspace.home, workspace.unlocked)
    plan = augment_plan(
        workspace, choice(dataset_id, field="new:difficulty", into="source-augmented", context=("answer",))
    )
    job_id = jobs.create(plan).id
    with FakeOllama() as fake:
        replies(fake)
        ended = await run(workspace, job_id, fake)
    assert (ended.done, ended.failed) == (9, 1)
    assert by_id(workspace, dataset_id) == original
    copies = sorted(by_id(workspace, plan.dataset_id).values(), key=lambda e: str(e.content.extra["keep"]))
    assert len(copies) == 10
    for copy in copies:
        i = copy.content.extra["keep"]
        source = next(e for e in original.values() if e.content.extra["keep"] == i)
        expected = (
            source.content if i == 3 else source.content.model_copy(update={"extra": {"keep": i, "difficulty": SHORT}})
        )
        assert copy.content == expected


CHILD_COUNT = 120
CHILD_TIMEOUT = 60


def start_child(workspace: Workspace, job_id: int, fake: FakeOllama) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.job_child", str(workspace.home.path), str(job_id), fake.base_url, "4", "augment"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    assert child.stdin is not None
    child.stdin.write(PASSWORD + "\n")
    child.stdin.close()
    return child


def done_count(workspace: Workspace, job_id: int) -> int:
    with workspace.home.engine.connect() as conn:
        found = conn.exec_driver_sql("SELECT count(*) FROM job_item WHERE job_id = ? AND status = 'done'", (job_id,))
        return int(found.scalar_one())


@pytest.mark.slow
def test_an_augment_job_killed_with_sigkill_resumes_and_changes_each_example_once(workspace: Workspace) -> None:
    dataset_id, _ = fill(workspace, CHILD_COUNT)
    jobs = JobService(workspace.home, workspace.unlocked)
    job_id = jobs.create(augment_plan(workspace, choice(dataset_id, keep_as_rejected=True))).id
    with FakeOllama(token_latency=0.002, parallel=4) as fake:
        fake.fixed_reply = SHORT
        child = start_child(workspace, job_id, fake)
        deadline = time.monotonic() + CHILD_TIMEOUT
        while done_count(workspace, job_id) < 20 and child.poll() is None:
            assert time.monotonic() < deadline, "the job made no progress"
            time.sleep(0.005)
        assert child.poll() is None, "the job finished before it could be killed"
        child.kill()
        child.wait()
        assert child.stdout is not None
        child.stdout.close()
        assert 0 < done_count(workspace, job_id) < CHILD_COUNT
        child = start_child(workspace, job_id, fake)
        child.wait(timeout=CHILD_TIMEOUT)
        assert child.stdout is not None
        with child.stdout:
            out = child.stdout.read()
    assert child.returncode == 0 and out.strip() == "done"
    summary = jobs.get(job_id)
    assert (summary.status, summary.done, summary.failed) == (JobState.DONE, CHILD_COUNT, 0)
    assert summary.results == {augment.PROCESSED: CHILD_COUNT, augment.CHANGED: CHILD_COUNT}
    for example in by_id(workspace, dataset_id).values():
        assert example.content.output == SHORT
        assert len(example.content.rejected) == 1  # the old answer kept once, not twice


async def test_the_concurrency_a_job_was_made_with_is_the_number_of_requests_in_flight(workspace: Workspace) -> None:
    """As the TUI runs it (JobHost on Settings, whose concurrency is 4): fewer, and more, than Settings'."""
    import asyncio

    from forge_tui.services.augment_jobs import start_choice
    from forge_tui.services.job_host import JobHost

    dataset_id, _ = fill(workspace, 12)
    with FakeOllama(parallel=16, first_byte_delay=0.05) as fake:
        fake.fixed_reply = SHORT
        workspace.settings.save_backend(BackendSettings(base_url=fake.base_url, concurrency=4))
        host = JobHost(JobService(workspace.home, workspace.unlocked), workspace.settings)
        for wanted in (2, 6):
            fake.max_in_flight = 0
            job = start_choice(workspace, choice(dataset_id, concurrency=wanted))
            assert job.concurrency == wanted
            host.start(job.id)
            while host.running(job.id):
                await asyncio.sleep(0.02)
            assert JobService(workspace.home, workspace.unlocked).get(job.id).done == 12
            assert fake.max_in_flight == wanted
