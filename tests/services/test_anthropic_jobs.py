"""A job on an Anthropic endpoint (through the endpoint pool, services.endpoint_pool.open_client) that
the fake Anthropic server refuses with 529 "overloaded" and cuts off with `overloaded_error` events
mid-answer: every item is done once all the same, asked again rather than failed."""

from __future__ import annotations

import asyncio

import pytest

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.endpoints import Endpoint
from forge_tui.core.jobs import JobState
from forge_tui.core.models import Example
from forge_tui.services.endpoint_pool import open_client
from forge_tui.services.jobs import JobService, RunOptions
from forge_tui.services.workspace import Workspace
from tests.fake_anthropic import FakeAnthropic
from tests.job_recipe import RECIPE, plan

KEY_ENV = "FORGE_TEST_POOL_ANTHROPIC_KEY"
KEY = "sk-ant-pool-test"
MODEL = "claude-haiku-4-5"


async def test_an_overloaded_anthropic_endpoint_loses_no_item(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    dataset_id = workspace.datasets.create("from claude").id
    jobs = JobService(workspace.home, workspace.unlocked)
    created = jobs.create(plan(dataset_id, 6, model=MODEL))
    with FakeAnthropic(api_key=KEY) as claude:
        claude.retry_after = 0
        claude.error_status, claude.error_count = 529, 2
        claude.overloaded_after, claude.overloaded_count = 3, 2
        endpoint = Endpoint(name="claude", kind="anthropic", url=claude.base_url, api_key_env=KEY_ENV)
        settings = BackendSettings(endpoints=[endpoint], max_retries=3)
        async with open_client(settings, MODEL, None) as pool:
            options = RunOptions(concurrency=2, attempts=3, backoff_s=0.01)
            finished = await asyncio.wait_for(jobs.run(created.id, pool, RECIPE, options=options), 30)
        asked = len(claude.requests)
    assert (finished.status, finished.done, finished.failed) == (JobState.DONE, 6, 0)
    assert asked == 6 + 2 + 2  # each refusal and each cut-off answer asked again, once
    made = [e for e in workspace.examples.scan(dataset_id) if isinstance(e, Example)]
    assert len(made) == 6 and all(e.content.output for e in made)
