"""Runs (or resumes) an "until N pass" generation job in its own process, for the test that kills it:
`python -m tests.until_n_child HOME JOB_ID BASE_URL`, the password on stdin."""

from __future__ import annotations

import asyncio
import sys

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.services.accounts import AccountService
from forge_tui.services.backends import BackendService
from forge_tui.services.generation_jobs import GENERATION_RECIPE
from forge_tui.services.home import open_home
from forge_tui.services.jobs import JobService, RunOptions


async def main(home_dir: str, job_id: int, base_url: str, password: str) -> str:
    home = open_home(home_dir)
    try:
        jobs = JobService(home, AccountService(home).unlock("alice", password))
        async with BackendService(BackendSettings(base_url=base_url, max_retries=0)) as backend:
            options = RunOptions(concurrency=4, attempts=2, backoff_s=0.05)
            summary = await jobs.run(job_id, backend, GENERATION_RECIPE, options=options)
        return summary.status.value
    finally:
        home.close()


if __name__ == "__main__":
    home_dir, job_id, base_url = sys.argv[1:4]
    print(asyncio.run(main(home_dir, int(job_id), base_url, sys.stdin.readline().strip())))
