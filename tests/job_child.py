"""Runs (or resumes) a job in its own process, for tests that kill it:
`python -m tests.job_child HOME JOB_ID BASE_URL CONCURRENCY [KIND]`, the password on stdin. With a KIND
(augment, judge, …) the job runs that kind's own recipe, else the stand-in of tests/job_recipe.py."""

from __future__ import annotations

import asyncio
import sys

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.services.accounts import AccountService
from forge_tui.services.backends import BackendService
from forge_tui.services.home import open_home
from forge_tui.services.job_kinds import recipe_for
from forge_tui.services.jobs import JobService, RunOptions
from tests.job_recipe import RECIPE


async def main(home_dir: str, job_id: int, base_url: str, concurrency: int, password: str, kind: str | None) -> str:
    home = open_home(home_dir)
    try:
        jobs = JobService(home, AccountService(home).unlock("alice", password))
        settings = BackendSettings(base_url=base_url, max_retries=0, concurrency=concurrency)
        async with BackendService(settings) as backend:
            options = RunOptions(concurrency=concurrency, attempts=3, backoff_s=0.05)
            recipe = recipe_for(kind) if kind else RECIPE
            summary = await jobs.run(job_id, backend, recipe, options=options)
        return summary.status.value
    finally:
        home.close()


if __name__ == "__main__":
    home_dir, job_id, base_url, concurrency = sys.argv[1:5]
    kind = sys.argv[5] if len(sys.argv) > 5 else None
    password = sys.stdin.readline().strip()
    print(asyncio.run(main(home_dir, int(job_id), base_url, int(concurrency), password, kind)))
