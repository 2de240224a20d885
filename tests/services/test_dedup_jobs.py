"""Dedup as a job: a job over a planted dataset finds DedupService.find()'s clusters and drops by the
keep rule; a dry run drops nothing; killed with SIGKILL (mid-job, or inside the finishing transaction)
and resumed it ends with the same clusters and each duplicate dropped once; pause and resume."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import subprocess
import sys
import time

import pytest

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.jobs import JobState, JobSummary
from forge_tui.core.models import ExampleContent, ExampleMeta, ReviewState
from forge_tui.services.backends import BackendService
from forge_tui.services.dedup import DedupService, DuplicateCluster, KeepRule
from forge_tui.services.dedup_jobs import DEDUP_RECIPE, DedupRun, DedupSpec, dedup_plan
from forge_tui.services.job_kinds import recipe_for
from forge_tui.services.job_runner import NoExample
from forge_tui.services.jobs import ItemInputs, JobService, RunOptions
from forge_tui.services.model_client import ModelClient
from forge_tui.services.workspace import Workspace
from tests.dedup_child import UNUSED_URL
from tests.dedup_texts import reword, text
from tests.passwords import PASSWORD

CHILD_TIMEOUT = 60
ONE = RunOptions(concurrency=1, attempts=1)


def planted(workspace: Workspace, name: str = "town") -> tuple[int, list[str]]:
    """60 distinct answers, a rewording of every sixth, an exact copy of the second; one rejected
    copy that no run looks at."""
    rng = random.Random(4)
    dataset = workspace.datasets.create(name).id
    originals = [text(rng) for _ in range(60)]
    answers = originals + [reword(rng, originals[i]) for i in range(0, 60, 6)] + [originals[1].upper()]
    items = [(ExampleContent(user_prompt="Tell me.", output=a), ExampleMeta()) for a in answers]
    items.append(
        (ExampleContent(user_prompt="Tell me.", output=originals[2]), ExampleMeta(review=ReviewState.REJECTED))
    )
    return dataset, workspace.examples.add_many(dataset, items)


def shape(clusters: list[DuplicateCluster]) -> list[tuple[list[str], bool, dict[tuple[str, str], float]]]:
    return [(c.members, c.exact, c.similarity) for c in clusters]


def rejected(workspace: Workspace, dataset: int) -> int:
    return workspace.examples.review_counts(dataset).get(ReviewState.REJECTED, 0)


async def run(jobs: JobService, job_id: int) -> JobSummary:
    async with BackendService(BackendSettings(base_url=UNUSED_URL, max_retries=0)) as backend:
        return await jobs.run(job_id, backend, DEDUP_RECIPE, options=ONE)


async def test_a_dedup_job_finds_the_clusters_find_finds_and_drops_by_the_keep_rule(workspace: Workspace) -> None:
    dataset, _ids = planted(workspace)
    dedup = DedupService(workspace.home, workspace.unlocked, workspace.examples)
    expected = shape(dedup.find(dataset, 0.8))
    assert len(expected) == 11
    jobs = JobService(workspace.home, workspace.unlocked)
    plan = dedup_plan(workspace.examples, dataset, DedupSpec(threshold=0.8, keep=KeepRule.FIRST), chunk_size=7)
    assert len(plan.items) == 11  # 71 examples not rejected
    job = jobs.create(plan)
    assert recipe_for(job.kind) is DEDUP_RECIPE

    summary = await run(jobs, job.id)

    assert (summary.status, summary.done, summary.total) == (JobState.DONE, 11, 11)
    assert summary.results == {"examples": 71, "clusters": 11, "dropped": 11}
    clusters = dedup.clusters(dataset)
    assert shape(clusters) == expected
    assert all(c.decision == "kept" and c.kept == [c.members[0]] for c in clusters)
    assert rejected(workspace, dataset) == 1 + 11
    assert jobs.get(job.id).results == summary.results
    # The view undoes a job's drops as it undoes its own.
    assert dedup.undo(clusters[0].id) == 1


async def test_a_dry_run_stores_the_clusters_and_drops_nothing(workspace: Workspace) -> None:
    dataset, _ids = planted(workspace)
    jobs = JobService(workspace.home, workspace.unlocked)
    spec = DedupSpec(exact_only=True, dry_run=True)
    job = jobs.create(dedup_plan(workspace.examples, dataset, spec, chunk_size=20))
    summary = await run(jobs, job.id)
    assert summary.results == {"examples": 71, "clusters": 1, "dropped": 0}
    (cluster,) = DedupService(workspace.home, workspace.unlocked, workspace.examples).clusters(dataset)
    assert cluster.exact and cluster.decision == "open"
    assert rejected(workspace, dataset) == 1


def start_child(workspace: Workspace, job_id: int, when: str) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.dedup_child", str(workspace.home.path), str(job_id), when],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None
    child.stdin.write(PASSWORD + "\n")
    child.stdin.close()
    return child


def finished(child: subprocess.Popen[str]) -> tuple[int, str]:
    child.wait(timeout=CHILD_TIMEOUT)
    assert child.stdout is not None
    with child.stdout:
        return child.returncode, child.stdout.read().strip()


@pytest.mark.slow
@pytest.mark.parametrize("when", ["after:4", "finish"])
def test_killed_with_sigkill_and_resumed_it_ends_with_the_same_clusters_each_dropped_once(
    workspace: Workspace, when: str
) -> None:
    dataset, _ids = planted(workspace)
    dedup = DedupService(workspace.home, workspace.unlocked, workspace.examples)
    expected = shape(dedup.find(dataset, 0.8))
    jobs = JobService(workspace.home, workspace.unlocked)
    job_id = jobs.create(dedup_plan(workspace.examples, dataset, DedupSpec(), chunk_size=7)).id

    code, _out = finished(start_child(workspace, job_id, when))
    assert code == -9
    done = jobs.get(job_id).done
    assert (0 < done < 11) if when != "finish" else done < 11  # the last items commit with the finish
    assert rejected(workspace, dataset) == 1  # nothing dropped before the finishing transaction commits

    assert finished(start_child(workspace, job_id, "none")) == (0, "done")
    summary = jobs.get(job_id)
    assert (summary.status, summary.done) == (JobState.DONE, 11)
    assert summary.results == {"examples": 71, "clusters": 11, "dropped": 11}
    clusters = dedup.clusters(dataset)
    assert shape(clusters) == expected
    assert [len(c.dropped) for c in clusters] == [len(c.members) - 1 for c in clusters]
    assert rejected(workspace, dataset) == 1 + 11


async def test_paused_it_stops_between_chunks_and_resumed_it_finishes(workspace: Workspace) -> None:
    dataset, _ids = planted(workspace)
    jobs = JobService(workspace.home, workspace.unlocked)
    job_id = jobs.create(dedup_plan(workspace.examples, dataset, DedupSpec(), chunk_size=1)).id

    async def slow_produce(client: ModelClient, run: DedupRun, item: ItemInputs) -> NoExample:
        await asyncio.sleep(0.05)
        return await DEDUP_RECIPE.produce(client, run, item)  # type: ignore[return-value]

    slow = dataclasses.replace(DEDUP_RECIPE, produce=slow_produce)
    async with BackendService(BackendSettings(base_url=UNUSED_URL, max_retries=0)) as backend:
        running = asyncio.create_task(jobs.run(job_id, backend, slow, options=ONE))
        deadline = time.monotonic() + 20
        while jobs.get(job_id).done < 3:
            assert time.monotonic() < deadline and not running.done()
            await asyncio.sleep(0.01)
        jobs.pause(job_id)
        paused = await running
    assert paused.status is JobState.PAUSED and 3 <= paused.done < 71
    assert DedupService(workspace.home, workspace.unlocked, workspace.examples).clusters(dataset) == []
    assert rejected(workspace, dataset) == 1

    summary = await run(jobs, job_id)
    assert summary.status is JobState.DONE
    assert summary.results == {"examples": 71, "clusters": 11, "dropped": 11}
    assert rejected(workspace, dataset) == 1 + 11
