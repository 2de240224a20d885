"""The Training view (from Jobs): a training run's log as it streams, its loss and learning rate
against steps, its step rate and ETA, and a key that stops the trainer (the job is cancelled: its
runner, in this process or another, stops the trainer with SIGINT, then SIGTERM).

It reads the run's files (services.train_watch) in a worker thread a few times a second and redraws
the chart only when points arrived."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Log

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.base_models import ollama_name_for
from forge_tui.core.errors import ForgeError
from forge_tui.core.jobs import JobState, JobSummary
from forge_tui.core.train_metrics import progress_text
from forge_tui.i18n import N_, _
from forge_tui.services.deploy import DeployService, Run
from forge_tui.services.jobs import JobService
from forge_tui.services.train_watch import TrainWatch
from forge_tui.ui.dialogs.common import Confirm, TextPrompt
from forge_tui.ui.keys import key_for
from forge_tui.ui.localized import Localized
from forge_tui.ui.widgets.footer import ForgeFooter
from forge_tui.ui.widgets.plain import PlainStatic
from forge_tui.ui.widgets.training_chart import TrainingChart, legend

POLL_S = 0.25  # the files read, and the chart redrawn when points arrived, at most this often
JOB_READ_S = 1.0
LOG_LINES = 200

# What the view calls a training run's job states.
OUTCOMES = {
    JobState.PLANNED: N_("planned"),
    JobState.RUNNING: N_("training"),
    JobState.PAUSED: N_("paused"),
    JobState.DONE: N_("finished"),
    JobState.FAILED: N_("failed"),
    JobState.CANCELLED: N_("stopped"),
}


class TrainingView(Localized, ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", N_("Close"), id="training.close"),
        Binding("s", "stop", N_("Stop training"), id="training.stop"),
        Binding("d", "deploy", N_("Deploy to Ollama"), id="training.deploy"),
    ]

    def __init__(self, jobs: JobService, job: JobSummary, backend: Callable[[], BackendSettings] | None = None) -> None:
        super().__init__()
        self.jobs = jobs
        self.job = job
        self.backend = backend  # the account's model servers now, for deploy (None: no deploy here)
        self._bindings_for: JobState | None = None
        self.files = TrainWatch(Path(job.output_dir or "."))
        self._drawn = -1
        self._job_read = 0.0
        self._polling = False
        self._params: dict[str, object] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="training"):
            yield PlainStatic("", id="training-title")
            yield PlainStatic("", id="training-status")
            yield PlainStatic("", id="training-legend")
            yield TrainingChart(id="training-chart")
            yield Log(max_lines=LOG_LINES, id="training-log")
        yield ForgeFooter()

    def on_mount(self) -> None:
        self.set_interval(POLL_S, self._poll, name="training-poll")
        self._poll()

    def draw_text(self) -> None:
        job = self.job
        if job.status is not self._bindings_for:
            self._bindings_for = job.status  # deploy is offered once the run has finished
            self.refresh_bindings()
        title = _("Training: job {id}, {trainer} {stage} from {base} ({state})").format(
            id=job.id,
            trainer=self._param("trainer"),
            stage=self._param("stage"),
            base=self._param("base_model"),
            state=_(OUTCOMES[job.status]),
        )
        self.query_one("#training-title", PlainStatic).update(title)
        status = progress_text(self.files.metrics)
        if job.status is JobState.FAILED and job.error:
            status = job.error
        stop = _("{key} stops the trainer.").format(key=self.key("stop")) if job.status is JobState.RUNNING else ""
        self.query_one("#training-status", PlainStatic).update(f"{status}  {stop}".strip())
        shown = legend()
        legend_line = self.query_one("#training-legend", PlainStatic)
        legend_line.display = shown is not None
        legend_line.update(shown or "")

    def _param(self, name: str) -> str:
        return str(self._params.get(name) or "?")

    def key(self, action: str) -> str:
        return key_for(self, action)

    @work(exclusive=True, group="training-poll")
    async def _poll(self) -> None:
        if self._polling:
            return
        self._polling = True
        try:
            lines, _points = await asyncio.to_thread(self.files.poll)
            now = asyncio.get_running_loop().time()
            if now - self._job_read >= JOB_READ_S:
                self._job_read = now
                with contextlib.suppress(ForgeError):
                    self.job, self._params = await asyncio.to_thread(self._read_job)
            if not self.is_attached:
                return
            if lines:
                self.query_one(Log).write_lines(lines)
            if self.files.metrics.version != self._drawn:
                self._drawn = self.files.metrics.version
                self.query_one(TrainingChart).show(self.files.metrics)
            self.draw_text()
        finally:
            self._polling = False

    def _read_job(self) -> tuple[JobSummary, dict[str, object]]:
        return self.jobs.get(self.job.id), self.jobs.params(self.job.id)

    @work(group="dialog")
    async def action_stop(self) -> None:
        if self.job.status not in (JobState.RUNNING, JobState.PLANNED, JobState.PAUSED):
            return
        asked = _("Stop training job {id}? The trainer is interrupted; its last checkpoint stays.").format(
            id=self.job.id
        )
        if await self.app.push_screen_wait(Confirm(asked, yes=N_("Stop training"), no=N_("Keep training"))):
            try:
                self.job = await asyncio.to_thread(self.jobs.cancel, self.job.id)
            except ForgeError as exc:
                self.notify(str(exc), title=_("Cannot stop the training"), severity="error")
            self.draw_text()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "deploy":
            return self.backend is not None and self.job.status is JobState.DONE
        return True

    @work(group="dialog")
    async def action_deploy(self) -> None:
        """The finished run's adapter made an Ollama model (services.deploy), step by step in the status."""
        if self.backend is None or self.job.status is not JobState.DONE or not self.job.output_dir:
            return
        suggested = "forge-run-" + str(self.job.id)  # a model name (an identifier), not prose
        name = await self.app.push_screen_wait(TextPrompt(_("Name of the new Ollama model"), suggested))
        if not name or not name.strip():
            return
        trained_on = str(self._params.get("base_model") or "")
        base = await self.app.push_screen_wait(
            TextPrompt(
                _("The Ollama model it builds on (FROM)"), ollama_name_for(trained_on) or "" if trained_on else ""
            )
        )
        if not base or not base.strip():
            return
        chat_format = self._params.get("chat_format")
        run = Run(
            Path(self.job.output_dir),
            base_model=trained_on or None,
            chat_format=chat_format if isinstance(chat_format, str) and chat_format else None,
            job_id=self.job.id,
        )
        service = DeployService(self.backend())
        status = self.query_one("#training-status", PlainStatic)
        try:
            plan = await asyncio.to_thread(service.plan, run, name.strip(), base=base.strip())
            if await service.exists(plan.name, plan.endpoint):
                asked = _("Replace the model '{name}' on endpoint '{endpoint}'?").format(
                    name=plan.name, endpoint=plan.endpoint
                )
                if not await self.app.push_screen_wait(Confirm(asked, yes=N_("Replace"))):
                    return
            async for step in service.deploy(plan):
                line = step.text()
                if line is not None:
                    status.update(line)
        except ForgeError as exc:
            self.notify(str(exc), title=_("Cannot deploy"), severity="error", timeout=12)
            self.draw_text()
            return
        done = _("Deployed '{name}' on endpoint '{endpoint}' (FROM {base}): Models ({key}) compares it with its base.")
        models_key = key_for(self.app, "show_models")
        self.notify(
            done.format(name=plan.name, endpoint=plan.endpoint, base=plan.spec.base, key=models_key), timeout=12
        )
        self.draw_text()

    def action_close(self) -> None:
        self.dismiss(None)
