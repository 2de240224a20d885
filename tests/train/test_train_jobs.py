"""Training runs as jobs, with tests/fake_trainer.py as a real trainer process."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.errors import NotFound
from forge_tui.core.jobs import JobState, JobSummary
from forge_tui.services import training
from forge_tui.services.backends import BackendService
from forge_tui.services.job_kinds import recipe_for
from forge_tui.services.jobs import JobService, RunOptions
from forge_tui.services.train_jobs import create_run, train_plan
from forge_tui.services.train_watch import TrainWatch
from forge_tui.services.training import read_bundle
from forge_tui.services.workspace import Workspace
from tests.passwords import PASSWORD
from tests.train.bundles import fake_bundle

UNUSED_URL = "http://127.0.0.1:9"
ONE = RunOptions(concurrency=1, attempts=1)


async def run(jobs: JobService, job_id: int) -> JobSummary:
    async with BackendService(BackendSettings(base_url=UNUSED_URL, max_retries=0)) as backend:
        return await jobs.run(job_id, backend, recipe_for("train"), options=ONE)


def started(bundle: Path) -> dict[str, object]:
    found: dict[str, object] = json.loads((bundle / "output" / "fake_started.json").read_text())
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (not reaped yet) counts as gone.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


@pytest.fixture
def jobs(workspace: Workspace) -> JobService:
    workspace.datasets.create("d")
    return JobService(workspace.home, workspace.unlocked)


async def test_a_run_finishes_with_its_metrics_and_output_listed(
    workspace: Workspace, jobs: JobService, tmp_path: Path
) -> None:
    bundle = fake_bundle(tmp_path / "bundle")
    job = create_run(jobs, workspace.datasets, bundle, "tiny/model", ["--max_steps", "4"])
    final = await run(jobs, job.id)
    assert final.status is JobState.DONE, final.error
    listed = jobs.get(job.id)
    assert listed.output_dir == str((bundle / "output").resolve())
    assert started(bundle)["argv"] == ["--model_name_or_path", "tiny/model", "--max_steps", "4"]
    watch = TrainWatch(Path(listed.output_dir))
    _lines, points = watch.poll()
    assert [p.step for p in points] == [1, 2, 3, 4]
    assert points[0].loss == 3.0 and points[0].learning_rate == 5e-05
    assert watch.metrics.max_steps == 4
    assert (bundle / "output" / "adapter_model.safetensors").exists()


async def test_a_missing_trainer_fails_the_job_with_the_pip_command(
    workspace: Workspace, jobs: JobService, tmp_path: Path
) -> None:
    bundle = fake_bundle(tmp_path / "bundle", command=["no-such-trainer-here", "sft"])
    with pytest.raises(NotFound, match=re.escape("pip install 'forge-tui[train]'")):
        create_run(jobs, workspace.datasets, bundle, None, [])  # said before a job exists
    assert jobs.list() == []
    # A trainer gone by the time the run starts (a resume in another environment) fails the job the same way.
    job = jobs.create(train_plan(read_bundle(bundle), workspace.datasets.get("d").id, None, []))
    final = await run(jobs, job.id)
    assert final.status is JobState.FAILED
    assert final.error is not None and "pip install 'forge-tui[train]'" in final.error


async def test_a_failing_trainer_fails_the_job_with_its_exit_code_and_last_error_line(
    workspace: Workspace, jobs: JobService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TRAINER_FAIL", "3")
    bundle = fake_bundle(tmp_path / "bundle")
    job = create_run(jobs, workspace.datasets, bundle, None, [])
    final = await run(jobs, job.id)
    assert final.status is JobState.FAILED
    assert final.error == "The trainer exited with code 3: ValueError: the fake trainer was told to fail"


async def wait_for(check: object, timeout: float = 10.0) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("ignores_sigint", [False, True])
async def test_cancelling_stops_the_trainer(
    workspace: Workspace,
    jobs: JobService,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    ignores_sigint: bool,
) -> None:
    monkeypatch.setenv("FAKE_TRAINER_RATE", "5")
    if ignores_sigint:  # SIGTERM follows the grace period
        monkeypatch.setenv("FAKE_TRAINER_IGNORE_INT", "1")
        monkeypatch.setattr(training, "STOP_GRACE_S", 0.3)
    bundle = fake_bundle(tmp_path / "bundle")
    job = create_run(jobs, workspace.datasets, bundle, None, ["--max_steps", "1000"])
    running = asyncio.create_task(run(jobs, job.id))
    await wait_for(lambda: (bundle / "output" / "fake_started.json").exists())
    pid = int(str(started(bundle)["pid"]))
    jobs.cancel(job.id)
    final = await asyncio.wait_for(running, 10)
    assert final.status is JobState.CANCELLED
    assert not alive(pid)
    log = (bundle / "output" / "train.log").read_text()
    assert ("Interrupted" in log) is not ignores_sigint
    assert ("Terminated by SIGTERM" in log) is ignores_sigint


def test_after_a_kill_of_forge_tui_a_resume_goes_on_from_the_last_checkpoint(
    workspace: Workspace, jobs: JobService, tmp_path: Path, fast_home_dir: Path
) -> None:
    bundle = fake_bundle(tmp_path / "bundle")
    # Slow enough that the trainer the killed run left behind still runs when the resume starts.
    env = {**os.environ, "FAKE_TRAINER_RATE": "20", "PYTHONPATH": str(Path.cwd())}
    command = [sys.executable, "-c", "from forge_tui.cli import main; main()", "--home", str(fast_home_dir)]
    command += ["train", str(bundle), "--password-stdin", "--json", "--", "--max_steps", "60"]
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(PASSWORD + "\n")
    child.stdin.close()
    plan = json.loads(child.stdout.readline())
    deadline = time.monotonic() + 30
    while not (bundle / "output" / "checkpoint-4").exists():
        assert time.monotonic() < deadline and child.poll() is None
        time.sleep(0.05)
    first_trainer = int(str(started(bundle)["pid"]))
    child.kill()
    child.wait()
    stored = jobs.get(plan["id"])
    assert stored.status is JobState.RUNNING and stored.output_dir is not None  # shown as "stopped (resume it)"
    final = asyncio.run(run(jobs, plan["id"]))
    assert final.status is JobState.DONE, final.error
    argv = started(bundle)["argv"]
    assert isinstance(argv, list) and argv[-2] == "--resume_from_checkpoint"
    assert int(Path(argv[-1]).name.removeprefix("checkpoint-")) >= 4
    assert not alive(first_trainer)  # the trainer the killed run left behind was ended
    state = json.loads((bundle / "output" / "trainer_state.json").read_text())
    assert [entry["step"] for entry in state["log_history"]] == list(range(1, 61))


async def test_a_new_run_of_the_same_bundle_starts_afresh_with_a_new_log(
    workspace: Workspace, jobs: JobService, tmp_path: Path
) -> None:
    bundle = fake_bundle(tmp_path / "bundle")
    first = create_run(jobs, workspace.datasets, bundle, None, ["--max_steps", "4"])
    assert (await run(jobs, first.id)).status is JobState.DONE
    second = create_run(jobs, workspace.datasets, bundle, None, ["--max_steps", "4"])
    assert (await run(jobs, second.id)).status is JobState.DONE
    assert "--resume_from_checkpoint" not in str(started(bundle)["argv"])  # checkpoint-4 of the first run
    assert (bundle / "output" / "train.log").read_text().count("{'loss'") == 4


async def test_pausing_stops_the_trainer_and_resuming_goes_on_from_its_checkpoint(
    workspace: Workspace, jobs: JobService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TRAINER_RATE", "20")
    bundle = fake_bundle(tmp_path / "bundle")
    job = create_run(jobs, workspace.datasets, bundle, None, ["--max_steps", "30"])
    running = asyncio.create_task(run(jobs, job.id))
    await wait_for(lambda: (bundle / "output" / "checkpoint-2").exists())
    pid = int(str(started(bundle)["pid"]))
    jobs.pause(job.id)
    paused = await asyncio.wait_for(running, 5)  # not after the trainer's 30 steps
    assert paused.status is JobState.PAUSED and not alive(pid)
    final = await run(jobs, job.id)
    assert final.status is JobState.DONE
    assert "--resume_from_checkpoint" in str(started(bundle)["argv"])


async def test_a_run_whose_trainer_finished_before_a_kill_is_not_trained_again(
    workspace: Workspace, jobs: JobService, tmp_path: Path
) -> None:
    """Killed after the trainer's exit but before the item's commit: the resume ends the job without
    starting the trainer again (which would train on from the last checkpoint)."""
    bundle = fake_bundle(tmp_path / "bundle")
    job = create_run(jobs, workspace.datasets, bundle, None, ["--max_steps", "3"])
    assert (await run(jobs, job.id)).status is JobState.DONE
    log = (bundle / "output" / "train.log").read_text()
    with jobs.home.engine.begin() as conn:  # the state a kill -9 before the commit leaves
        conn.exec_driver_sql("UPDATE job_item SET status = 'pending' WHERE job_id = ?", (job.id,))
        conn.exec_driver_sql("UPDATE job SET status = 'paused' WHERE id = ?", (job.id,))
    assert (await run(jobs, job.id)).status is JobState.DONE
    assert (bundle / "output" / "train.log").read_text() == log  # no second "$ trainer …" line


async def test_a_new_run_beside_an_earlier_runs_checkpoints_reads_and_resumes_only_its_own(
    workspace: Workspace, jobs: JobService, tmp_path: Path
) -> None:
    """An earlier run of the bundle left checkpoint-8 (and its trainer_state.json): the new run's
    progress is its own 4 steps, and a resume of it would go on from its own checkpoint-4."""
    bundle = fake_bundle(tmp_path / "bundle")
    first = create_run(jobs, workspace.datasets, bundle, None, ["--max_steps", "8"])
    assert (await run(jobs, first.id)).status is JobState.DONE
    output = bundle / "output"
    assert (output / "checkpoint-8").is_dir()
    time.sleep(1.1)  # the earlier run's files are older than the new run's start by more than the slack
    second = create_run(jobs, workspace.datasets, bundle, None, ["--max_steps", "4"])
    assert (await run(jobs, second.id)).status is JobState.DONE
    watch = TrainWatch(output)
    watch.poll()
    assert watch.metrics.last_step == 4 and watch.metrics.max_steps == 4
    assert training.latest_checkpoint(output) == output / "checkpoint-4"
