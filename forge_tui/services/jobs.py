"""Jobs of one account: create a planned job (written whole, sealed), list and show them, pause,
resume, cancel, retry failed items, and run one on the caller's event loop (services.job_runner). A
run that ends paused unloads the job's models, and a resumed run loads them first (services.gpu_release).

Pause and cancel only change the job's row, so they work from any process: the runner re-reads
the status twice a second and stops taking items.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC
from typing import TYPE_CHECKING, Any, TypeVar

from sqlmodel import Session

from forge_tui.core.endpoints import model_key
from forge_tui.core.errors import Conflict, ForgeError, NotFound
from forge_tui.core.generation import Coverage, GenerationSpec, coverage
from forge_tui.core.jobs import (
    RESUMABLE,
    JobState,
    JobSummary,
    concurrency_of,
    endpoint_of,
    output_dir_of,
    results_of,
)
from forge_tui.core.pool_stats import EndpointStats
from forge_tui.i18n import _
from forge_tui.services import gpu_release
from forge_tui.services.accounts import Unlocked
from forge_tui.services.home import Home
from forge_tui.services.job_runner import JobRunner, Progress, Recipe, RunOptions, runner_alive
from forge_tui.services.model_client import ModelClient
from forge_tui.store import job_targets
from forge_tui.store import jobs as rows
from forge_tui.store.db import read_session, write_session
from forge_tui.store.jobs import ItemError, ItemInputs
from forge_tui.store.tables import Dataset, Job
from forge_tui.store.vault import AccountKeys

__all__ = ["ItemError", "ItemInputs", "JobPlan", "JobService", "JobState", "JobSummary", "Recipe", "RunOptions"]

if TYPE_CHECKING:
    from forge_tui.core.backend_settings import BackendSettings

S = TypeVar("S")
RATE_WINDOW_S = 60.0  # the rate of a job another process runs: items done in the last minute


@dataclass(frozen=True)
class JobPlan:
    """A job ready to be written: every item's inputs and seed, the spec it is run with (sealed),
    and for the preview the spread of slot values and a few rendered prompts."""

    kind: str
    name: str
    dataset_id: int
    template_id: int | None
    spec: dict[str, Any]
    params: dict[str, Any]  # plain: the model, counts, temperature — never content
    items: list[ItemInputs]
    spread: dict[str, Counter[str]] = field(default_factory=dict)
    prompts: list[str] = field(default_factory=list)


def with_job_concurrency(settings: BackendSettings, job: JobSummary) -> BackendSettings:
    """The settings to run `job` on: with no endpoints configured, Settings' one server may have as many
    requests in flight as the job was made with (configured endpoints keep their own maximum)."""
    if job.concurrency is None or settings.endpoints:
        return settings
    return settings.model_copy(update={"concurrency": job.concurrency})


class JobService:
    def __init__(self, home: Home, unlocked: Unlocked) -> None:
        self.home = home
        self.unlocked = unlocked

    @property
    def _owner(self) -> int:
        return self.unlocked.user.id

    # --- creating -----------------------------------------------------------------------------------
    def plan(self, spec: GenerationSpec) -> JobPlan:
        """A generation job's plan: every item, the spread of slot values, a few rendered prompts."""
        from forge_tui.services.generation_jobs import generation_plan  # it builds on this module

        return generation_plan(spec)

    def create(self, plan: JobPlan) -> JobSummary:
        """Writes the job and its whole plan in one transaction, status planned."""
        if not plan.items:
            raise Conflict(_("A job needs at least one item."))
        with write_session(self.home.engine) as s:
            dataset = s.get(Dataset, plan.dataset_id)
            if dataset is None or dataset.owner_id != self._owner:
                raise NotFound(_("No dataset with id {dataset_id}.").format(dataset_id=plan.dataset_id))
            if not self.unlocked.can_open(dataset):
                raise Conflict(
                    _("Dataset '{name}' cannot be opened with this session's key; unlock again.").format(
                        name=dataset.name
                    )
                )
            row = rows.insert(
                s,
                self.unlocked.keys_in(s),
                self._owner,
                plan.kind,
                plan.name,
                plan.dataset_id,
                plan.template_id,
                plan.spec,
                plan.params,
                plan.items,
            )
            return self._summary(s, row)

    # --- reading ------------------------------------------------------------------------------------
    def get(self, job_id: int) -> JobSummary:
        with read_session(self.home.engine) as s:
            return self._summary(s, self._find(s, job_id))

    def params(self, job_id: int) -> dict[str, Any]:
        """The job's plain params (a training run's: services.train_jobs)."""
        with read_session(self.home.engine) as s:
            return dict(self._find(s, job_id).params)

    def errors(self, job_id: int, limit: int = 20) -> list[ItemError]:
        """The job's last failed items, newest first, each with its reason."""
        with read_session(self.home.engine) as s:
            self._find(s, job_id)
            return rows.errors(s, job_id, limit)

    def spec(self, job_id: int) -> dict[str, Any]:
        with read_session(self.home.engine) as s:
            row = self._find(s, job_id)
            return rows.open_job(self._keys(row), row)[1]

    def items(self, job_id: int) -> list[ItemInputs]:
        """Every planned item, opened."""
        with read_session(self.home.engine) as s:
            row = self._find(s, job_id)
            return rows.planned(s, self._keys(row).cipher(rows.ITEM_TABLE), job_id)

    def coverage(self, job_id: int) -> list[Coverage]:
        """An "until N pass" generation job's passing examples per weighted slot value against its
        share of the target; empty for any other job."""
        with read_session(self.home.engine) as s:
            row = self._find(s, job_id)
            if row.kind != "generate" or "target" not in row.params:
                return []
            keys = self._keys(row)
            spec = GenerationSpec.model_validate(rows.open_job(keys, row)[1])
            passed = job_targets.passed_inputs(s.connection(), job_id, keys.cipher(rows.ITEM_TABLE))
            return coverage(spec, passed)

    def models(self, job_id: int) -> list[str]:
        """The models the job asks: generation, and paraphrase or second answer where its spec has them."""
        with read_session(self.home.engine) as s:
            row = self._find(s, job_id)
            plain = str(row.params.get("model") or "")
            data_key = self.unlocked.key_with(row.key_check)
            try:
                spec = rows.open_job(AccountKeys.of(data_key), row)[1] if data_key else {}
            except ForgeError:
                spec = {}
        return gpu_release.job_models(spec, [plain])

    def models_to_load(self, job_id: int) -> list[str]:
        """What a run loads before its first item: the job's models when it is resumed (it ran before,
        can go on, and no process runs it now); none for a first run, whose first request loads them."""
        job = self.get(job_id)
        if job.started_at is None or job.status not in RESUMABLE or job.running_elsewhere:
            return []
        return self.models(job_id)

    def unfinished(self) -> list[JobSummary]:
        """Jobs that can go on and that no process is running now (a killed run's job, a paused one)."""
        return [job for job in self.list() if job.status in RESUMABLE and not job.running_elsewhere]

    # --- steering -----------------------------------------------------------------------------------
    def pause(self, job_id: int, cancel_in_flight: bool = False) -> JobSummary:
        """A running job stops taking items within a second (its runner may be another process); the
        requests in flight finish (or with `cancel_in_flight` are dropped, their items pending again)."""
        with write_session(self.home.engine) as s:
            # A training run's one item is the trainer: pausing stops it (resuming goes on from its
            # last checkpoint) rather than waiting for it to finish.
            cancel_in_flight = cancel_in_flight or self._find(s, job_id).kind == "train"
            rows.set_state(s, job_id, pause_in_flight="cancel" if cancel_in_flight else "finish")
        return self._change(job_id, {JobState.PLANNED, JobState.RUNNING, JobState.PAUSED}, JobState.PAUSED, "paused")

    def endpoint_stats(self, job_id: int) -> list[EndpointStats]:
        """Per model server, as the job's runner last wrote them (empty before it ran on a pool)."""
        with read_session(self.home.engine) as s:
            self._find(s, job_id)
            return [EndpointStats.from_json(entry) for entry in rows.endpoint_stats(s, job_id)]

    def cancel(self, job_id: int) -> JobSummary:
        """Stops the job for good; the examples it made stay in the dataset."""
        return self._change(
            job_id, {JobState.PLANNED, JobState.RUNNING, JobState.PAUSED, JobState.FAILED}, JobState.CANCELLED, None
        )

    def retry_failed(self, job_id: int) -> tuple[JobSummary, int]:
        """Failed items become pending again and the job can be resumed; returns it and how many."""
        with write_session(self.home.engine) as s:
            row = self._find(s, job_id)
            if row.status == JobState.CANCELLED:
                raise Conflict(_("Job {job_id} was cancelled; it cannot run again.").format(job_id=job_id))
            moved = rows.requeue(s, job_id)
            if moved and row.status in (JobState.DONE, JobState.FAILED):
                reason = _("{count} failed items to retry").format(count=moved)
                rows.set_state(
                    s, job_id, status=JobState.PAUSED.value, pause_reason=reason, finished_at=None, error=None
                )
            s.refresh(row)
            return self._summary(s, row), moved

    async def run(
        self,
        job_id: int,
        client: ModelClient,
        recipe: Recipe[S],
        on_progress: Progress | None = None,
        options: RunOptions | None = None,
    ) -> JobSummary:
        """Runs (or resumes) the job until every item is done or failed, or it is paused or cancelled.
        `client` is one server (run as a pool of one) or an EndpointPool; as many items are asked at
        once as the pool may have in flight, and its adaptive limits decide how many are, unless the job
        was made with a concurrency of its own (at most that many then). Attempts default to the
        Settings' retries."""
        if options is None:
            made_with = (await asyncio.to_thread(self.get, job_id)).concurrency
            options = RunOptions(concurrency=made_with, attempts=max(1, client.settings.max_retries))
        for model in await asyncio.to_thread(self.models_to_load, job_id):
            await gpu_release.reload(client, model)
        runner = JobRunner(self.home, self.unlocked, job_id, client, recipe, options, on_progress)
        ended = await runner.run()
        if ended.status is JobState.PAUSED:
            await self.free_gpu(job_id, client)
        return ended

    async def free_gpu(self, job_id: int, client: ModelClient) -> list[str]:
        """Unloads the paused job's models (Ollama: `keep_alive: 0`), except one that a job running now
        asks, or all when the job runs again meanwhile; returns the models freed."""

        def in_use() -> set[str] | None:
            if self.get(job_id).status is not JobState.PAUSED:
                return None
            return {model_key(job.model) for job in self.list() if job.running_elsewhere and job.model}

        busy = await asyncio.to_thread(in_use)
        if busy is None:
            return []
        freed: list[str] = []
        for model in await asyncio.to_thread(self.models, job_id):
            if model_key(model) not in busy:
                freed += await gpu_release.release(client, model)
        return freed

    # Last in the class: below it, `list` in an annotation would name this method.
    def list(self) -> list[JobSummary]:
        """Newest first."""
        with read_session(self.home.engine) as s:
            return [self._summary(s, row) for row in rows.list_for_owner(s, self._owner)]

    # --- helpers ------------------------------------------------------------------------------------
    def _change(self, job_id: int, allowed: set[JobState], to: JobState, reason: str | None) -> JobSummary:
        with write_session(self.home.engine) as s:
            row = self._find(s, job_id)
            status = JobState(row.status)
            if status not in allowed:
                raise Conflict(
                    _("Job {job_id} is {status}; it cannot be {to}.").format(
                        job_id=job_id, status=status.value, to=to.value
                    )
                )
            values: dict[str, Any] = {"status": to.value, "pause_reason": reason}
            if to is JobState.CANCELLED:
                values["finished_at"] = rows.stored_now()
            rows.set_state(s, job_id, **values)
            s.refresh(row)
            return self._summary(s, row)

    def _find(self, session: Session, job_id: int) -> Job:
        row = rows.owned(session, self._owner, job_id)
        if row is None:
            raise NotFound(_("No job with id {job_id}.").format(job_id=job_id))
        return row

    def _keys(self, row: Job) -> AccountKeys:
        data_key = self.unlocked.key_with(row.key_check)
        if data_key is None:
            raise Conflict(
                _("Job {job_id} was sealed with a key this session does not hold; unlock again.").format(job_id=row.id)
            )
        return AccountKeys.of(data_key)

    def _summary(self, session: Session, row: Job) -> JobSummary:
        assert row.id is not None
        data_key = self.unlocked.key_with(row.key_check)
        name = rows.open_name(AccountKeys.of(data_key) if data_key else None, row) or ""
        now = time.time()
        alive = runner_alive(row, now)
        per_minute = eta = None
        if alive and row.started_at is not None:
            made = rows.finished_since(session, row.id, now - RATE_WINDOW_S)
            if made:
                started = row.started_at.replace(tzinfo=row.started_at.tzinfo or UTC).timestamp()
                since = min(RATE_WINDOW_S, max(1.0, now - started))
                per_minute = made / since * 60
                eta = max(0, row.total - row.done - row.failed) / per_minute * 60
        return JobSummary(
            id=row.id,
            kind=row.kind,
            name=name,
            status=JobState(row.status),
            total=row.total,
            done=row.done,
            failed=row.failed,
            model=str(row.params.get("model", "")),
            dataset_id=row.dataset_id,
            template_id=row.template_id,
            pause_reason=row.pause_reason,
            error=row.error,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            per_minute=per_minute,
            eta_s=eta,
            running_elsewhere=alive,
            endpoint=endpoint_of(row.params),
            results=results_of(row.params),
            concurrency=concurrency_of(row.params),
            output_dir=output_dir_of(row.params),
        )
