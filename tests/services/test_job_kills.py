"""Nothing lost, nothing twice: a job whose process is killed with SIGKILL at random points, and
resumed each time, ends with exactly one example per planned item, with the planned slot values."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from forge_tui.core.jobs import JobState
from forge_tui.services.jobs import JobService
from forge_tui.services.workspace import Workspace
from tests.fake_ollama import FakeOllama
from tests.job_recipe import plan, planned_slots
from tests.passwords import PASSWORD

COUNT = 300
CONCURRENCY = 8
KILLS = 3
CHILD_TIMEOUT = 120


def start_child(workspace: Workspace, job_id: int, fake: FakeOllama) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.job_child",
            str(workspace.home.path),
            str(job_id),
            fake.base_url,
            str(CONCURRENCY),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    assert child.stdin is not None
    child.stdin.write(PASSWORD + "\n")
    child.stdin.close()
    return child


def done_count(workspace: Workspace, job_id: int) -> int:
    with workspace.home.engine.connect() as conn:
        found = conn.exec_driver_sql("SELECT count(*) FROM job_item WHERE job_id = ? AND status = 'done'", (job_id,))
        return int(found.scalar_one())


@pytest.mark.slow
def test_kill_9_three_times_then_exactly_one_example_per_item(workspace: Workspace) -> None:
    dataset_id = workspace.datasets.create("generated").id
    jobs = JobService(workspace.home, workspace.unlocked)
    job_id = jobs.create(plan(dataset_id, COUNT)).id
    rng = random.Random()
    with FakeOllama(token_latency=0.003, parallel=CONCURRENCY) as fake:
        for _ in range(KILLS):
            before = done_count(workspace, job_id)
            target = before + rng.randrange(5, 60)
            child = start_child(workspace, job_id, fake)
            deadline = time.monotonic() + CHILD_TIMEOUT
            while done_count(workspace, job_id) < target and child.poll() is None:
                assert time.monotonic() < deadline, "the job made no progress"
                time.sleep(rng.uniform(0.001, 0.02))
            assert child.poll() is None, "the job finished before it could be killed"
            child.kill()
            child.wait()
            assert child.stdout is not None
            child.stdout.close()
            assert jobs.get(job_id).status is JobState.RUNNING  # as the killed process left it
            assert done_count(workspace, job_id) < COUNT
        child = start_child(workspace, job_id, fake)
        child.wait(timeout=CHILD_TIMEOUT)
        assert child.stdout is not None
        with child.stdout:
            out = child.stdout.read()
    assert child.returncode == 0 and out.strip() == "done"

    summary = jobs.get(job_id)
    assert (summary.status, summary.done, summary.failed) == (JobState.DONE, COUNT, 0)
    examples = workspace.examples.scan(dataset_id)
    made = {e.id: e for e in examples if not hasattr(e, "reason")}
    assert len(made) == COUNT
    with workspace.home.engine.connect() as conn:
        items = conn.exec_driver_sql(
            "SELECT idx, example_id FROM job_item WHERE job_id = ? ORDER BY idx", (job_id,)
        ).fetchall()
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    assert sorted(example_id for _, example_id in items) == sorted(made)
    for idx, example_id in items:
        assert made[example_id].content.slots == planned_slots(idx)
