"""Pause that frees the GPU (issue 17): a job paused on Ollama unloads its model (`keep_alive: 0`) once
its requests in flight ended, and resuming loads it again and goes on with exactly the planned items."""

from __future__ import annotations

import asyncio

import httpx

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.jobs import JobState, JobSummary
from forge_tui.core.models import Example
from forge_tui.services.backends import BackendService
from forge_tui.services.jobs import JobService, RunOptions
from forge_tui.services.workspace import Workspace
from tests.fake_ollama import FakeOllama
from tests.job_recipe import MODEL, RECIPE, plan, planned_slots

OPTIONS = RunOptions(concurrency=4, attempts=3, backoff_s=0.01)


async def run(jobs: JobService, job_id: int, settings: BackendSettings) -> JobSummary:
    async with BackendService(settings) as backend:
        return await jobs.run(job_id, backend, RECIPE, options=OPTIONS)


def loaded(fake: FakeOllama) -> list[str]:
    return [m["name"] for m in httpx.get(f"{fake.base_url}/api/ps").json()["models"]]


def done_items(workspace: Workspace, job_id: int) -> list[tuple[int, str]]:
    with workspace.home.engine.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT idx, example_id FROM job_item WHERE job_id = ? AND status = 'done' ORDER BY idx", (job_id,)
        )
        return [(int(idx), str(example_id)) for idx, example_id in found.fetchall()]


async def test_pause_unloads_the_model_and_resume_loads_it_and_finishes_the_plan(
    workspace: Workspace, fake: FakeOllama
) -> None:
    count = 40
    dataset_id = workspace.datasets.create("generated").id
    jobs = JobService(workspace.home, workspace.unlocked)
    job_id = jobs.create(plan(dataset_id, count)).id
    settings = BackendSettings(base_url=fake.base_url, max_retries=0)
    fake.token_latency = 0.01

    running = asyncio.create_task(run(jobs, job_id, settings))
    while jobs.get(job_id).done < 4:
        assert not running.done(), running
        await asyncio.sleep(0.02)
    assert fake.keep_alive_requests == []  # a first run loads nothing ahead: its first request does
    jobs.pause(job_id)
    paused = await asyncio.wait_for(running, 20)
    assert paused.status is JobState.PAUSED and paused.done < count

    [unload] = fake.keep_alive_requests
    assert unload.body == {"model": MODEL, "keep_alive": 0}
    assert unload.chats_in_flight == 0  # sent once the requests in flight ended
    asked_before_pause = len(fake.requests)
    assert unload.chats_received == asked_before_pause  # and nothing asked since
    assert MODEL not in loaded(fake)

    fake.token_latency = 0
    finished = await asyncio.wait_for(run(jobs, job_id, settings), 30)
    assert (finished.status, finished.done, finished.failed) == (JobState.DONE, count, 0)
    load = fake.keep_alive_requests[1]
    assert load.body == {"model": MODEL} and not load.unload
    assert load.chats_received == asked_before_pause  # loaded before the resumed run asked anything
    assert len(fake.keep_alive_requests) == 2 and MODEL in loaded(fake)  # a finished job unloads nothing

    # Exactly the planned items, each once: one example per item, with its planned slot values.
    made = {e.id: e for e in workspace.examples.scan(dataset_id) if isinstance(e, Example)}
    items = done_items(workspace, job_id)
    assert [idx for idx, _ in items] == list(range(count))
    assert sorted(made) == sorted(example_id for _, example_id in items)
    assert all(made[example_id].content.slots == planned_slots(idx) for idx, example_id in items)


async def test_a_model_another_running_job_asks_stays_loaded(workspace: Workspace, fake: FakeOllama) -> None:
    dataset_id = workspace.datasets.create("generated").id
    jobs = JobService(workspace.home, workspace.unlocked)
    first = jobs.create(plan(dataset_id, 40)).id
    second = jobs.create(plan(dataset_id, 40)).id
    settings = BackendSettings(base_url=fake.base_url, max_retries=0)
    fake.token_latency = 0.01

    runs = [asyncio.create_task(run(jobs, job_id, settings)) for job_id in (first, second)]
    while jobs.get(first).done < 2 or jobs.get(second).done < 2:
        await asyncio.sleep(0.02)
    jobs.pause(first)
    assert (await asyncio.wait_for(runs[0], 20)).status is JobState.PAUSED
    assert fake.keep_alive_requests == []  # the second job still asks the model
    jobs.pause(second)
    assert (await asyncio.wait_for(runs[1], 20)).status is JobState.PAUSED
    assert [(r.model, r.unload) for r in fake.keep_alive_requests] == [(MODEL, True)]


async def test_an_openai_compatible_server_is_left_as_it_is(workspace: Workspace, fake: FakeOllama) -> None:
    dataset_id = workspace.datasets.create("generated").id
    jobs = JobService(workspace.home, workspace.unlocked)
    job_id = jobs.create(plan(dataset_id, 30)).id
    settings = BackendSettings(kind="openai", base_url=f"{fake.base_url}/v1", max_retries=0)
    fake.token_latency = 0.01

    running = asyncio.create_task(run(jobs, job_id, settings))
    while jobs.get(job_id).done < 2:
        await asyncio.sleep(0.02)
    jobs.pause(job_id)
    assert (await asyncio.wait_for(running, 20)).status is JobState.PAUSED
    fake.token_latency = 0
    assert (await asyncio.wait_for(run(jobs, job_id, settings), 30)).status is JobState.DONE
    assert fake.keep_alive_requests == []
