"""Training runs as jobs (kind "train"): planned and sealed like every job, with one item, the run.
The item starts the bundle's trainer (services.training) and waits for it: exit code 0 is the item
done, any other the item failed with the trainer's exit code and last error line (the job's error).
Cancelling the job (or stopping this process's run) stops the trainer: SIGINT, SIGTERM, SIGKILL. A
run started again (a resume after a kill) goes on from the last checkpoint where the trainer can.

The job's plain params hold what deploy and the views read: `bundle` and `output_dir` (absolute),
`base_model`, `trainer`, `stage`, `chat_format`, `log`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forge_tui.core.bounded_text import clip
from forge_tui.core.errors import Conflict, InvalidInput
from forge_tui.core.jobs import JobSummary
from forge_tui.i18n import _
from forge_tui.services import job_kinds
from forge_tui.services.datasets import DatasetService
from forge_tui.services.job_runner import NoExample, RunContext
from forge_tui.services.jobs import ItemInputs, JobPlan, JobService, Recipe
from forge_tui.services.model_client import ModelClient
from forge_tui.services.training import (
    LOG_FILE,
    RUN_MARKER,
    Bundle,
    TrainerRun,
    find_executable,
    last_error_line,
    read_bundle,
    resume_args,
)

TRAIN = "train"


@dataclass
class TrainSpec:
    argv: list[str]
    cwd: str
    output_dir: str
    trainer: str
    job_id: int = 0  # set by _prepare at every run


def train_plan(bundle: Bundle, dataset_id: int, base: str | None, extra: list[str]) -> JobPlan:
    """The run of `bundle` on base model `base` (None: the bundle's), `extra` appended to the command."""
    if not base and not bundle.base_model:
        raise InvalidInput(_("The bundle names no base model; choose one with --base."))
    argv = bundle.argv(base, extra)
    base_model = base or bundle.base_model
    output = str(bundle.output_path)
    name = _("Train {trainer} {stage} on '{dataset}' from {base}").format(
        trainer=bundle.trainer, stage=bundle.stage, dataset=clip(bundle.dataset), base=clip(base_model)
    )
    params: dict[str, Any] = {
        "bundle": str(bundle.path),
        "output_dir": output,
        "base_model": base_model,
        "trainer": bundle.trainer,
        "stage": bundle.stage,
        "chat_format": bundle.chat_format,
        "log": bundle.log,
    }
    spec = {"argv": argv, "cwd": str(bundle.path), "output_dir": output, "trainer": bundle.trainer}
    return JobPlan(TRAIN, clip(name, 200), dataset_id, None, spec, params, [ItemInputs(0, {}, 0)])


def create_run(
    jobs: JobService, datasets: DatasetService, folder: Path, base: str | None, extra: list[str]
) -> JobSummary:
    """A planned train job for the bundle in `folder`, on the dataset the bundle was made from."""
    bundle = read_bundle(folder)
    dataset = datasets.get(bundle.dataset)
    if bundle.command and os.sep not in bundle.command[0]:
        find_executable(bundle.command[0], bundle.trainer)  # a missing trainer is said before a job exists
    return jobs.create(train_plan(bundle, dataset.id, base, extra))


def log_path(job: JobSummary) -> Path | None:
    """A train job's log file (None for any other job)."""
    return Path(job.output_dir) / LOG_FILE if job.kind == TRAIN and job.output_dir else None


def _load(spec: dict[str, Any]) -> TrainSpec:
    argv = spec.get("argv")
    if not isinstance(argv, list) or not argv or not all(isinstance(part, str) for part in argv):
        raise Conflict(_("The training job's stored command line is damaged."))
    return TrainSpec(argv, str(spec.get("cwd", "")), str(spec.get("output_dir", "")), str(spec.get("trainer", "")))


def _prepare(spec: TrainSpec, context: RunContext) -> None:
    spec.job_id = context.job_id


def _marker(output: Path) -> dict[str, Any]:
    try:
        found = json.loads((output / RUN_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _started_before(output: Path, job_id: int) -> bool:
    """Whether this job ran the trainer in `output` before (a resume), else marks it as the one that does."""
    if _marker(output).get("job") == job_id:
        return True
    output.mkdir(parents=True, exist_ok=True)
    (output / RUN_MARKER).write_text(json.dumps({"job": job_id, "started_at": time.time()}), encoding="utf-8")
    with contextlib.suppress(OSError):
        (output / LOG_FILE).unlink()  # a new run's log starts empty
    return False


def _finished_before(output: Path, job_id: int) -> bool:
    """Whether this job's trainer already ran to its end (killed between the trainer's exit and the item's
    commit, a resume must not train again from the last checkpoint)."""
    marker = _marker(output)
    return marker.get("job") == job_id and marker.get("finished") is True


def _mark_finished(output: Path, job_id: int) -> None:
    marker = {**_marker(output), "job": job_id, "finished": True}
    (output / RUN_MARKER).write_text(json.dumps(marker), encoding="utf-8")


async def _produce(_client: ModelClient, spec: TrainSpec, _item: ItemInputs) -> NoExample:
    output = Path(spec.output_dir)
    if await asyncio.to_thread(_finished_before, output, spec.job_id):
        return NoExample()
    resuming = await asyncio.to_thread(_started_before, output, spec.job_id)
    argv = spec.argv + (resume_args(spec.trainer, output, spec.argv) if resuming else [])
    run = await TrainerRun.start(argv, Path(spec.cwd), output, spec.trainer)
    try:
        code = await run.wait()
    except asyncio.CancelledError:
        await asyncio.shield(run.stop())
        raise
    if code != 0:
        line = last_error_line(run.log_path)
        if line:
            raise Conflict(_("The trainer exited with code {code}: {line}").format(code=code, line=line))
        raise Conflict(_("The trainer exited with code {code}.").format(code=code))
    await asyncio.to_thread(_mark_finished, output, spec.job_id)
    return NoExample()


def _shortfall(_spec: TrainSpec, context: RunContext) -> str | None:
    """A failed run fails the job with the trainer's own reason."""
    found = context.conn.exec_driver_sql(
        "SELECT error FROM job_item WHERE job_id = ? AND status = 'failed' ORDER BY idx LIMIT 1", (context.job_id,)
    ).first()
    return str(found[0]) if found is not None and found[0] else None


job_kinds.register(TRAIN, Recipe(load=_load, produce=_produce, prepare=_prepare, shortfall=_shortfall))
