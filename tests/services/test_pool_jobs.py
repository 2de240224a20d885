"""Jobs on a pool of model servers (services.endpoint_pool through services.jobs): the adaptive limit
finds a pushing-back server's capacity, a slow endpoint gets a smaller share, an endpoint that dies
mid-job loses nothing, and a pause lets the requests in flight finish."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.endpoints import POOL, Endpoint
from forge_tui.core.jobs import JobState, JobSummary
from forge_tui.core.models import Example
from forge_tui.services.backends import BackendService
from forge_tui.services.endpoint_pool import EndpointPool, open_client
from forge_tui.services.jobs import JobService
from forge_tui.services.workspace import Workspace
from tests.fake_ollama import FakeOllama
from tests.job_recipe import MODEL, RECIPE, plan, planned_slots

SHORT_REPLY = "Tides follow the moon across the long bay."  # 9 words: ten chunks with the last one


def pushing_back(capacity: int, token_latency: float) -> FakeOllama:
    fake = FakeOllama(token_latency=token_latency)
    fake.capacity = capacity
    fake.fixed_reply = SHORT_REPLY
    return fake


async def pool_of(fakes: list[FakeOllama], max_concurrency: int) -> EndpointPool:
    endpoints = [Endpoint(name=f"gpu{i}", url=f.base_url, max_concurrency=max_concurrency) for i, f in enumerate(fakes)]
    return open_client(BackendSettings(endpoints=endpoints), MODEL, POOL)


@pytest.fixture
def jobs(workspace: Workspace) -> JobService:
    return JobService(workspace.home, workspace.unlocked)


@pytest.fixture
def dataset_id(workspace: Workspace) -> int:
    return workspace.datasets.create("generated").id


def assert_each_item_done_once(workspace: Workspace, dataset_id: int, job_id: int, count: int) -> None:
    made = [e for e in workspace.examples.scan(dataset_id) if isinstance(e, Example)]
    assert len(made) == count
    with workspace.home.engine.connect() as conn:
        items = conn.exec_driver_sql(
            "SELECT idx, status, example_id FROM job_item WHERE job_id = ? ORDER BY idx", (job_id,)
        ).fetchall()
    assert [status for _, status, _ in items] == ["done"] * count
    by_id = {e.id: e for e in made}
    assert sorted(example_id for *_, example_id in items) == sorted(by_id)
    for idx, _, example_id in items:
        assert by_id[example_id].content.slots == planned_slots(idx)


@pytest.mark.slow
async def test_a_2000_item_job_converges_near_a_pushing_back_servers_capacity(
    workspace: Workspace, jobs: JobService, dataset_id: int
) -> None:
    count = 2000
    created = jobs.create(plan(dataset_id, count))
    samples: list[tuple[float, int, int]] = []  # (seconds since start, requests asked, refused)
    with pushing_back(capacity=32, token_latency=0.01) as fake:
        async with await pool_of([fake], max_concurrency=64) as pool:
            started = time.monotonic()

            def sample(_: JobSummary) -> None:
                samples.append((time.monotonic() - started, len(fake.requests), fake.refused))

            finished = await asyncio.wait_for(jobs.run(created.id, pool, RECIPE, on_progress=sample), 60)
            (stats,) = pool.stats()
    assert (finished.status, finished.done, finished.failed) == (JobState.DONE, count, 0)
    assert 24 <= stats.limit <= 40, stats
    assert fake.max_in_flight <= 32
    warm = next(s for s in samples if s[0] >= 2.0)
    asked, refused = len(fake.requests) - warm[1], fake.refused - warm[2]
    assert refused / asked < 0.10, (refused, asked)
    assert stats.answered == count and stats.max_concurrency == 64
    assert_each_item_done_once(workspace, dataset_id, created.id, count)


@pytest.mark.slow
async def test_a_4x_slower_endpoint_gets_about_a_quarter_of_the_share_of_each_fast_one(
    workspace: Workspace, jobs: JobService, dataset_id: int
) -> None:
    count = 900
    created = jobs.create(plan(dataset_id, count))
    with ExitStack() as stack:
        fast_a, fast_b, slow = (
            stack.enter_context(pushing_back(capacity=8, token_latency=latency)) for latency in (0.005, 0.005, 0.02)
        )
        async with await pool_of([fast_a, fast_b, slow], max_concurrency=8) as pool:
            finished = await asyncio.wait_for(jobs.run(created.id, pool, RECIPE), 60)
            answered = {s.name: s.answered for s in pool.stats()}
    assert (finished.status, finished.done, finished.failed) == (JobState.DONE, count, 0)
    share = answered["gpu2"] / ((answered["gpu0"] + answered["gpu1"]) / 2)
    assert 0.15 <= share <= 0.4, answered
    assert sum(answered.values()) == count


async def test_an_endpoint_stopped_mid_job_loses_nothing(
    workspace: Workspace, jobs: JobService, dataset_id: int
) -> None:
    count = 300
    created = jobs.create(plan(dataset_id, count))
    with ExitStack() as stack:
        fakes = [stack.enter_context(pushing_back(capacity=16, token_latency=0.004)) for _ in range(3)]
        async with await pool_of(fakes, max_concurrency=16) as pool:
            running = asyncio.create_task(jobs.run(created.id, pool, RECIPE))
            while jobs.get(created.id).done < 60:
                await asyncio.sleep(0.01)
            fakes[1].stop()
            finished = await asyncio.wait_for(running, 60)
            states = {s.name: s.state.value for s in pool.stats()}
    assert (finished.status, finished.done, finished.failed) == (JobState.DONE, count, 0)
    assert states["gpu1"] == "dropped" and states["gpu0"] != "dropped"
    assert_each_item_done_once(workspace, dataset_id, created.id, count)
    figures = jobs.endpoint_stats(created.id)
    assert [f.name for f in figures] == ["gpu0", "gpu1", "gpu2"]
    assert sum(f.answered for f in figures) == count


@pytest.fixture
def slow_fake() -> Iterator[FakeOllama]:
    with FakeOllama(token_latency=0.02) as server:
        server.fixed_reply = " ".join(f"word{i}" for i in range(60))  # about 1.2 s an answer
        yield server


async def paused_after_start(jobs: JobService, job_id: int, fake: FakeOllama, cancel: bool) -> tuple[JobSummary, Any]:
    settings = BackendSettings(base_url=fake.base_url, max_retries=0, concurrency=4)
    async with BackendService(settings) as backend:
        running = asyncio.create_task(jobs.run(job_id, backend, RECIPE))
        while fake.in_flight < 4:
            await asyncio.sleep(0.01)
        asked = len(fake.requests)
        jobs.pause(job_id, cancel_in_flight=cancel)
        return await asyncio.wait_for(running, 10), asked


async def test_a_pause_lets_the_requests_in_flight_finish_and_keeps_them(
    workspace: Workspace, jobs: JobService, dataset_id: int, slow_fake: FakeOllama
) -> None:
    created = jobs.create(plan(dataset_id, 40))
    paused, asked = await paused_after_start(jobs, created.id, slow_fake, cancel=False)
    assert paused.status is JobState.PAUSED
    assert paused.done == asked == 4  # the four in flight were answered and committed, no new one asked
    assert len(slow_fake.requests) == asked and slow_fake.disconnects == 0


async def test_a_pause_that_cancels_in_flight_drops_those_requests(
    workspace: Workspace, jobs: JobService, dataset_id: int, slow_fake: FakeOllama
) -> None:
    created = jobs.create(plan(dataset_id, 40))
    paused, _ = await paused_after_start(jobs, created.id, slow_fake, cancel=True)
    assert (paused.status, paused.done) == (JobState.PAUSED, 0)
    await asyncio.sleep(0.2)
    assert slow_fake.disconnects == 4


async def test_a_stalled_request_does_not_hold_a_pause_for_long(
    workspace: Workspace, jobs: JobService, dataset_id: int, fake: FakeOllama
) -> None:
    created = jobs.create(plan(dataset_id, 6))
    fake.faults_by_seed = {1005: "stall"}  # item 5's answer stops streaming and never ends
    settings = BackendSettings(base_url=fake.base_url, max_retries=0, concurrency=4)
    async with BackendService(settings) as backend:
        running = asyncio.create_task(jobs.run(created.id, backend, RECIPE))
        while jobs.get(created.id).done < 5:
            await asyncio.sleep(0.01)
        jobs.pause(created.id)
        started = time.monotonic()
        paused = await asyncio.wait_for(running, 10)
    assert time.monotonic() - started < 4  # not the 60 s of the between-tokens timeout
    assert (paused.status, paused.done, paused.failed) == (JobState.PAUSED, 5, 0)
    assert [item.idx for item in jobs.items(created.id)] == list(range(6))
    with workspace.home.engine.connect() as conn:
        pending = conn.exec_driver_sql(
            "SELECT idx FROM job_item WHERE job_id = ? AND status = 'pending'", (created.id,)
        )
        assert [row[0] for row in pending] == [5]
