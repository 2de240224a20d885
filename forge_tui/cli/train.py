"""`forge-tui train BUNDLE [--base MODEL] [--detach] [--json] [-- TRAINER ARGS…]`: a training run as
a job (services.train_jobs), watched from its log: a progress line on a terminal, JSON lines of
metric events with --json."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from forge_tui.cli.common import JsonOpt, PasswordStdin, UserOpt, command_help, echo, errors, progress
from forge_tui.cli.jobs import DetachOpt
from forge_tui.core.train_metrics import MetricPoint, TrainMetrics, progress_text
from forge_tui.i18n import _

if TYPE_CHECKING:
    from forge_tui.core.jobs import JobSummary
    from forge_tui.services.jobs import JobService
    from forge_tui.services.workspace import Workspace

POLL_S = 0.25


def metric_event(job_id: int, point: MetricPoint, metrics: TrainMetrics) -> dict[str, Any]:
    rate, eta = metrics.steps_per_s(), metrics.eta_s()
    return {
        "event": "metric",
        "id": job_id,
        "step": point.step,
        "max_steps": metrics.max_steps,
        "loss": point.loss,
        "learning_rate": point.learning_rate,
        "epoch": point.epoch,
        "grad_norm": point.grad_norm,
        "steps_per_s": round(rate, 4) if rate is not None else None,
        "eta_s": round(eta) if eta is not None else None,
    }


async def run_watched(jobs: JobService, job: JobSummary, workspace: Workspace, as_json: bool) -> JobSummary:
    """Runs the train job here, printing its metrics as they reach its log."""
    from forge_tui.services.endpoint_pool import open_client
    from forge_tui.services.job_kinds import recipe_for
    from forge_tui.services.train_watch import TrainWatch

    assert job.output_dir is not None
    watch = TrainWatch(Path(job.output_dir))
    on_terminal = sys.stderr.isatty() and not as_json

    def show() -> None:
        _lines, points = watch.poll()
        if as_json:
            for point in points:
                echo(json.dumps(metric_event(job.id, point, watch.metrics)))
        elif on_terminal and points:
            progress(progress_text(watch.metrics))

    async def follow() -> None:
        while True:
            await asyncio.sleep(POLL_S)
            show()

    settings = workspace.settings.backend()
    async with open_client(settings, "", None) as client:
        follower = asyncio.create_task(follow())
        try:
            final = await jobs.run(job.id, client, recipe_for(job.kind))
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
            show()
            if on_terminal:
                echo("", err=True)
    return final


@command_help(
    _(
        "Run a trainer bundle (made by `forge-tui bundle`) as a job: the trainer installed in this "
        "environment starts in the bundle folder, its log goes to the output folder, and its step, "
        "loss, steps per second and ETA are shown as it trains. Arguments after -- go to the trainer "
        "(`forge-tui train BUNDLE -- --max_steps 3`). Exit 0 when the trainer finished; 1 when it "
        "failed or was stopped; 2 for bad input; 130 on Ctrl-C (the trainer is stopped and the job "
        "left paused: `forge-tui jobs resume ID` goes on from its last checkpoint)."
    )
)
def train(
    ctx: typer.Context,
    bundle: Annotated[
        Path, typer.Argument(metavar="BUNDLE", help=_("The bundle folder (it holds forge-bundle.json)."))
    ],
    base: Annotated[
        str | None, typer.Option("--base", metavar="MODEL", help=_("The base model to train (default: the bundle's)."))
    ] = None,
    detached: DetachOpt = False,
    as_json: JsonOpt = False,
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
) -> None:
    from forge_tui.cli.jobs import finish, open_jobs, start_detached
    from forge_tui.services.train_jobs import create_run

    with errors():
        home, workspace, jobs, password = open_jobs(user, password_stdin)
        job = create_run(jobs, workspace.datasets, bundle, base, list(ctx.args))
        if as_json:
            echo(json.dumps({"event": "plan", "id": job.id, "output_dir": job.output_dir}))
        else:
            echo(_("Job {id} trains into {folder}.").format(id=job.id, folder=job.output_dir))
        if detached:
            start_detached(home, workspace, password, job.id, [], as_json)
            return
        final = asyncio.run(run_watched(jobs, job, workspace, as_json))
    finish(final, as_json)
