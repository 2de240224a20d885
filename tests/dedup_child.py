"""Runs (or resumes) a dedup job in its own process, for tests that kill it:
`python -m tests.dedup_child HOME JOB_ID DIE`, the password on stdin. DIE is `none`, `after:K`
(SIGKILL itself once K items are committed) or `finish` (SIGKILL itself inside the finishing
transaction, after the clusters and drops are written and before they commit)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import sys
from typing import Any

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.jobs import JobSummary
from forge_tui.services.accounts import AccountService
from forge_tui.services.backends import BackendService
from forge_tui.services.dedup_jobs import DEDUP_RECIPE
from forge_tui.services.home import open_home
from forge_tui.services.job_runner import RunContext
from forge_tui.services.jobs import JobService, RunOptions

UNUSED_URL = "http://127.0.0.1:9"  # a dedup job asks no model


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


async def main(home_dir: str, job_id: int, when: str, password: str) -> str:
    home = open_home(home_dir)
    recipe = DEDUP_RECIPE
    on_progress = None
    if when == "finish":
        finish = DEDUP_RECIPE.finish
        assert finish is not None

        def dying_finish(run: Any, context: RunContext) -> dict[str, float]:
            finish(run, context)
            die()
            raise AssertionError("unreachable")

        recipe = dataclasses.replace(DEDUP_RECIPE, finish=dying_finish)
    elif when.startswith("after:"):
        limit = int(when.removeprefix("after:"))
        produce = DEDUP_RECIPE.produce

        async def slow_produce(client: Any, run: Any, item: Any) -> Any:
            await asyncio.sleep(0.05)  # so that the kill lands before the last item
            return await produce(client, run, item)

        recipe = dataclasses.replace(DEDUP_RECIPE, produce=slow_produce)

        def on_progress(summary: JobSummary) -> None:
            if summary.done >= limit:
                die()

    try:
        jobs = JobService(home, AccountService(home).unlock("alice", password))
        async with BackendService(BackendSettings(base_url=UNUSED_URL, max_retries=0)) as backend:
            options = RunOptions(concurrency=1, attempts=1)
            summary = await jobs.run(job_id, backend, recipe, on_progress=on_progress, options=options)
        return summary.status.value
    finally:
        home.close()


if __name__ == "__main__":
    home_dir, job_id, when = sys.argv[1:4]
    print(asyncio.run(main(home_dir, int(job_id), when, sys.stdin.readline().strip())))
