"""The generation jobs the TUI runs, held as asyncio tasks on the caller's loop, so that they outlive
the screen that started them (planning them is services.generation_jobs).

Progress is kept, not pushed: the runner's callback stores the latest summary and bumps `version`;
a view repaints on its own timer when the version moved (the event loop never waits on a repaint).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from forge_tui.core.errors import ForgeError
from forge_tui.core.jobs import JobSummary
from forge_tui.services import job_kinds
from forge_tui.services.endpoint_pool import open_client
from forge_tui.services.jobs import JobService, with_job_concurrency
from forge_tui.services.settings import SettingsService


class JobHost:
    """The jobs this process runs, each an asyncio task on the loop that started it."""

    def __init__(self, jobs: JobService, settings: SettingsService) -> None:
        self.jobs = jobs
        self.settings = settings
        self.latest: dict[int, JobSummary] = {}
        self.version = 0
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self.on_ended: Callable[[JobSummary | None, str | None], None] | None = None

    def running(self, job_id: int) -> bool:
        task = self._tasks.get(job_id)
        return task is not None and not task.done()

    def start(self, job_id: int) -> None:
        """Runs (or resumes) the job; a job running here already is left alone."""
        if self.running(job_id):
            return
        self._tasks[job_id] = asyncio.create_task(self._run(job_id), name=f"job-{job_id}")

    async def _run(self, job_id: int) -> None:
        ended: JobSummary | None = None
        problem: str | None = None
        try:
            job = self.jobs.get(job_id)
            recipe = job_kinds.recipe_for(job.kind)
            # The job runs on the endpoint it was made with (None: the pool), not on Audition's.
            settings = with_job_concurrency(self.settings.backend(), job).model_copy(update={"endpoint": job.endpoint})
            remember = self.settings.remember_structured_output
            async with open_client(settings, job.model, settings.endpoint, remember) as client:
                ended = await self.jobs.run(job_id, client, recipe, on_progress=self._progress)
        except ForgeError as exc:
            problem = str(exc)
        finally:
            self.latest.pop(job_id, None)
            self.version += 1
        if self.on_ended is not None:
            self.on_ended(ended, problem)

    def _progress(self, summary: JobSummary) -> None:
        self.latest[summary.id] = summary
        self.version += 1

    async def stop_all(self) -> None:
        """Stops every job run here; their finished items are kept and they can be resumed."""
        tasks = [t for t in self._tasks.values() if not t.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, ForgeError):
                await task
        self._tasks.clear()
