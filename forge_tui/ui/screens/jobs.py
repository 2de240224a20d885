"""Jobs (`b`): every job with its state and progress, the selected one's model servers and last errors; new, pause,
resume, cancel, retry failed items, open its examples. The app's JobHost runs the jobs, so they go on
while the user is elsewhere; this screen reads their progress on a timer (at most REPAINT_HZ)."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding

from forge_tui.core.generation import Coverage
from forge_tui.core.jobs import RESUMABLE, JobState, JobSummary
from forge_tui.core.judge_form import JudgeForm
from forge_tui.core.pool_stats import EndpointStats
from forge_tui.core.templates import TemplateInfo
from forge_tui.i18n import N_, _, ngettext
from forge_tui.services.documents import DocumentService
from forge_tui.services.endpoints import with_endpoint
from forge_tui.services.generation_jobs import (
    JobForm,
    dataset_values,
    default_sources,
    generation_plan,
    spec_from_form,
)
from forge_tui.services.job_configs import JobConfigService
from forge_tui.services.job_host import JobHost
from forge_tui.services.jobs import ItemError, JobPlan
from forge_tui.services.train_jobs import TRAIN
from forge_tui.services.workspace import Workspace
from forge_tui.ui.current import current_dataset, no_dataset
from forge_tui.ui.dialogs.common import Confirm
from forge_tui.ui.dialogs.judge_job import JudgeJobForm
from forge_tui.ui.dialogs.new_job import NewJobForm, PlanPreview
from forge_tui.ui.dialogs.topic_tree import Expand, topic_expander
from forge_tui.ui.dialogs.training import TrainingView
from forge_tui.ui.messages import ShowJobExamples
from forge_tui.ui.screens.base import WorkspaceScreen
from forge_tui.ui.widgets.endpoint_table import EndpointTable
from forge_tui.ui.widgets.footer import ForgeFooter
from forge_tui.ui.widgets.header import ForgeHeader
from forge_tui.ui.widgets.job_detail import JobDetail
from forge_tui.ui.widgets.job_list import JobTable

REPAINT_HZ = 5
READ_EVERY_S = 1.0  # the database read again this often, for jobs other processes run
ERRORS_SHOWN = 5


class JobsScreen(WorkspaceScreen):
    TITLE = N_("Jobs")
    BINDINGS = [
        Binding("n", "new", N_("New job"), id="jobs.new"),
        Binding("j", "new_judge", N_("Judge"), id="jobs.new_judge"),
        Binding("p", "pause", N_("Pause"), id="jobs.pause"),
        Binding("r", "resume", N_("Resume"), id="jobs.resume"),
        Binding("c", "cancel_job", N_("Cancel"), id="jobs.cancel"),
        Binding("f", "retry_failed", N_("Retry failed"), id="jobs.retry_failed"),
        Binding("o", "open_examples", N_("Examples"), id="jobs.open_examples"),
        Binding("w", "training", N_("Training"), id="jobs.training"),
    ]

    def __init__(self, workspace: Workspace, host: JobHost, last_template: Callable[[], int | None]) -> None:
        super().__init__(workspace)
        self.host = host
        self._last_template = last_template
        self._seen = -1
        self._read_at = 0.0

    def help_text(self) -> str:
        keys = ("new", "new_judge", "pause", "resume", "cancel_job", "retry_failed", "open_examples", "training")
        return _(
            "A job makes many examples unattended and goes on while you use other screens. "
            "{new} plans a new one from the last template you opened, {new_judge} a judge "
            "job that scores the current dataset's examples with a rubric and acts on those below a threshold; "
            "nothing is sent until you start it. {pause} pauses (once its requests in flight end, its "
            "model is unloaded from Ollama to free the GPU), {resume} resumes (loading it again), "
            "{cancel_job} cancels it for good (what it made stays), "
            "{retry_failed} asks the failed items again, "
            "{open_examples} shows only its examples. Its examples are marked unreviewed. A job that "
            "ran on several model servers shows each one's state, requests in flight, limit, rate and errors. "
            "{training} opens a training run (`forge-tui train`): its log, loss chart, rate and ETA, and a key "
            "that stops it."
        ).format(**{action: self.key(action) for action in keys})

    def compose(self) -> ComposeResult:
        yield ForgeHeader()
        yield JobTable(id="jobs-table")
        yield EndpointTable(id="job-endpoints")
        yield JobDetail(id="job-detail")
        yield ForgeFooter()

    def on_mount(self) -> None:
        self.query_one(JobTable).focus()
        self.set_interval(1 / REPAINT_HZ, self._tick, name="jobs-repaint")
        self.refresh_jobs()

    @property
    def selected(self) -> JobSummary | None:
        return self.query_one(JobTable).selected

    # --- showing ---------------------------------------------------------------------------------
    def _tick(self) -> None:
        now = asyncio.get_running_loop().time()
        if self.host.version != self._seen or now - self._read_at >= READ_EVERY_S:
            self.refresh_jobs()

    @work(exclusive=True, group="jobs-read")
    async def refresh_jobs(self) -> None:
        self._seen = self.host.version
        self._read_at = asyncio.get_running_loop().time()
        chosen = self.selected
        read = await self.report_async(N_("Cannot read the jobs"), functools.partial(self._read, chosen))
        if not self.is_attached or not self.query(JobTable):
            return  # the screen was closed (or the app shut down) while its thread read
        if read is not None:
            jobs, errors, endpoints, coverage = read
            self._show([self._live(j) for j in jobs], errors, endpoints, coverage)

    def _read(
        self, chosen: JobSummary | None
    ) -> tuple[list[JobSummary], list[ItemError], list[EndpointStats], list[Coverage]]:
        """Every job, and the last errors, model servers' figures and coverage against its target of
        the chosen one (or else the newest), as its runner wrote them in whichever process runs it; in
        a thread."""
        jobs = self.host.jobs.list()
        job = next((j for j in jobs if chosen and j.id == chosen.id), jobs[0] if jobs else None)
        if job is None:
            return jobs, [], [], []
        found = self.host.jobs
        return jobs, found.errors(job.id, ERRORS_SHOWN), found.endpoint_stats(job.id), found.coverage(job.id)

    def _live(self, job: JobSummary) -> JobSummary:
        """A job this process runs, with the runner's own counts and rate (newer than the database's)."""
        latest = self.host.latest.get(job.id)
        if latest is None or job.status is not JobState.RUNNING:
            return job
        return dataclasses.replace(
            job, done=latest.done, failed=latest.failed, per_minute=latest.per_minute, eta_s=latest.eta_s
        )

    def _show(
        self,
        jobs: list[JobSummary],
        errors: list[ItemError],
        endpoints: list[EndpointStats],
        coverage: list[Coverage] | None = None,
    ) -> None:
        table = self.query_one(JobTable)
        table.show(jobs)
        self.query_one(EndpointTable).show(endpoints)
        self.query_one(JobDetail).show(table.selected, errors, coverage or [])

    @on(JobTable.Chosen)
    def _chosen(self) -> None:
        self.refresh_jobs()

    # --- a new job ------------------------------------------------------------------------------
    @work(group="dialog")
    async def action_new(self) -> None:
        dataset = current_dataset(self)
        if dataset is None:
            self.notify(no_dataset(self.key("show_datasets")), title=_("Cannot plan"), severity="warning")
            return
        templates = self.report(N_("Cannot plan"), self.workspace.templates.list) or []
        if not templates:
            self.notify(
                _("There is no template yet: make one on Templates."), title=_("Cannot plan"), severity="warning"
            )
            return
        form = self.report(N_("Cannot plan"), lambda: self._first_form(templates, dataset.id))
        expand = self._expander()
        endpoints = [e.name for e in self.workspace.settings.backend().endpoints]
        configs = JobConfigService(self.workspace.home, self.workspace.unlocked)
        while form is not None and (
            typed := await self.app.push_screen_wait(NewJobForm(templates, form, expand, endpoints, configs))
        ):
            form = typed  # a refused form opens again as it was typed
            plan = await self._plan(typed, templates)
            if plan is not None and await self.app.push_screen_wait(PlanPreview(plan)):
                created = self.report(N_("Cannot create the job"), functools.partial(self.host.jobs.create, plan))
                if created is not None and self._start(created.id):
                    self.notify(
                        ngettext("Job {id} started: {n} item.", "Job {id} started: {n} items.", created.total).format(
                            id=created.id, n=created.total
                        )
                    )
                return

    @work(group="dialog")
    async def action_new_judge(self) -> None:
        """The judge job dialog for the current dataset; its plan's size is confirmed before it starts."""
        from forge_tui.core.rubrics import builtin_rubrics  # with the judge, on first use
        from forge_tui.services.judge_jobs import choice_from_form, judge_plan

        dataset = current_dataset(self)
        if dataset is None:
            self.notify(no_dataset(self.key("show_datasets")), title=_("Cannot plan"), severity="warning")
            return
        backend = self.workspace.settings.backend()
        form = JudgeForm(model=backend.judge_model or backend.generation_model or "", endpoint=backend.endpoint or "")
        endpoints = [e.name for e in backend.endpoints]
        configs = JobConfigService(self.workspace.home, self.workspace.unlocked)
        while typed := await self.app.push_screen_wait(JudgeJobForm(form, list(builtin_rubrics()), endpoints, configs)):
            form = typed
            plan = await self.report_async(
                N_("Cannot plan"),
                lambda: with_endpoint(
                    judge_plan(self.workspace.examples, choice_from_form(typed, dataset.id)), typed.endpoint or None
                ),
            )
            if plan is None:
                continue
            if not plan.items:
                # `only` is a review state as typed in the filter language (unreviewed, accepted, …).
                none = _("Dataset '{name}' has no {only} examples to judge.")
                self.notify(none.format(name=dataset.name, only=typed.only), severity="warning")
                continue
            ask = ngettext(
                "Judge {n} {only} example with {rubric} on {model}?",
                "Judge {n} {only} examples with {rubric} on {model}?",
                len(plan.items),
            ).format(n=len(plan.items), only=typed.only, rubric=typed.rubric, model=typed.model)
            if await self.app.push_screen_wait(Confirm(ask, yes=_("Start"), no=_("Back"))):
                created = self.report(N_("Cannot create the job"), functools.partial(self.host.jobs.create, plan))
                if created is not None and self._start(created.id):
                    self.notify(
                        ngettext(
                            "Job {id} started: {n} example to judge.",
                            "Job {id} started: {n} examples to judge.",
                            created.total,
                        ).format(id=created.id, n=created.total)
                    )
                return

    def _expander(self) -> Expand:
        settings = self.workspace.settings
        return topic_expander(settings.backend, settings.remember_structured_output)

    def _first_form(self, templates: list[TemplateInfo], dataset_id: int) -> JobForm:
        last = self._last_template()
        template = next((t for t in templates if t.id == last), templates[0])
        backend = self.workspace.settings.backend()
        return JobForm(
            template_id=template.id,
            dataset_id=dataset_id,
            model=backend.generation_model or "",
            max_tokens=str(backend.max_tokens),
            sources=default_sources(template),
            endpoint=backend.endpoint or "",
        )

    async def _plan(self, form: JobForm, templates: list[TemplateInfo]) -> JobPlan | None:
        template = next((t for t in templates if t.id == form.template_id), None)
        if template is None:
            self.notify(_("Choose a template for the job."), title=_("Cannot plan"), severity="warning")
            return None
        datasets = dataset_values(self.workspace.datasets, self.workspace.examples)
        documents = DocumentService(self.workspace.home, self.workspace.unlocked).passages
        endpoint = form.endpoint or None
        return await self.report_async(
            N_("Cannot plan"),
            lambda: with_endpoint(generation_plan(spec_from_form(form, template, datasets, documents)), endpoint),
        )

    # --- steering -------------------------------------------------------------------------------
    def action_pause(self) -> None:
        job = self.selected
        if job is not None and self.report(N_("Cannot pause"), lambda: self.host.jobs.pause(job.id)) is not None:
            self.refresh_jobs()

    def action_resume(self) -> None:
        job = self.selected
        if job is None or self.host.running(job.id):
            return
        if job.status not in RESUMABLE or job.running_elsewhere:
            if job.running_elsewhere:
                why = _("Job {id} runs in another process; there is nothing to resume.")
            else:
                why = _("Job {id} is {state}; there is nothing to resume.")
            self.notify(why.format(id=job.id, state=job.status.value), severity="warning")
            return
        self._start(job.id)

    @work(group="dialog")
    async def action_cancel_job(self) -> None:
        job = self.selected
        if job is None or not await self.app.push_screen_wait(
            Confirm(
                _("Cancel job {id} for good? The examples it made stay.").format(id=job.id),
                yes=_("Cancel job"),
                no=_("Keep"),
            )
        ):
            return
        if self.report(N_("Cannot cancel"), lambda: self.host.jobs.cancel(job.id)) is not None:
            self.refresh_jobs()

    def action_retry_failed(self) -> None:
        job = self.selected
        if job is None:
            return
        retried = self.report(N_("Cannot retry"), lambda: self.host.jobs.retry_failed(job.id))
        if retried is None:
            return
        _job, moved = retried
        if not moved:
            self.notify(_("Job {id} has no failed items.").format(id=job.id))
            return
        if self._start(job.id):
            self.notify(
                ngettext(
                    "Asking {n} failed item of job {id} again.", "Asking {n} failed items of job {id} again.", moved
                ).format(n=moved, id=job.id)
            )

    def _start(self, job_id: int) -> bool:
        """Runs the job in the app's host (its end is the app's toast); False if it could not start."""

        def start() -> bool:
            self.host.start(job_id)
            return True

        started = self.report(N_("Cannot start the job"), start)
        self.refresh_jobs()
        return started is not None

    def action_training(self) -> None:
        job = self.selected
        if job is None or job.kind != TRAIN:
            self.notify(_("Choose a training run (`forge-tui train` starts one)."), severity="warning")
            return
        self.app.push_screen(TrainingView(self.host.jobs, job, self.workspace.settings.backend))

    def action_open_examples(self) -> None:
        job = self.selected
        if job is not None and job.dataset_id is not None:
            self.post_message(ShowJobExamples(job.dataset_id, job.id))
