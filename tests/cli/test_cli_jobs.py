"""`forge-tui jobs …`: list, show, pause, cancel, retry-failed and resume (foreground with JSON lines,
and detached in a process of its own), against the fake server."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from forge_tui.core.jobs import JobState
from forge_tui.core.pool_stats import EndpointState, EndpointStats
from forge_tui.services.job_kinds import register
from forge_tui.services.jobs import JobService
from forge_tui.services.workspace import Workspace
from forge_tui.store.jobs import write_endpoint_stats
from tests.cli.conftest import Cli
from tests.fake_ollama import FakeOllama
from tests.job_recipe import MODEL, RECIPE, plan
from tests.passwords import PASSWORD

KIND = "echo"  # the stand-in recipe, registered for these tests
STDIN = PASSWORD + "\n"


@pytest.fixture(autouse=True)
def echo_recipe() -> None:
    register(KIND, RECIPE)


def new_job(workspace: Workspace, count: int, model: str = "llama3.2:latest") -> int:
    dataset_id = workspace.datasets.create(f"generated {time.monotonic_ns()}").id
    return JobService(workspace.home, workspace.unlocked).create(plan(dataset_id, count, model=model, kind=KIND)).id


def test_resume_runs_a_job_with_json_lines_and_list_shows_it(
    alice: Cli, workspace_of: Workspace, fake: FakeOllama
) -> None:
    job_id = new_job(workspace_of, 6)
    listed = alice("jobs", "list", "--password-stdin", input=STDIN)
    assert listed.exit_code == 0, listed.output
    assert f"{job_id:>4}  planned" in listed.output and "6 answers about topics" in listed.output

    ran = alice("jobs", "resume", str(job_id), "--url", fake.base_url, "--json", "--password-stdin", input=STDIN)
    assert ran.exit_code == 0, ran.output
    events = [json.loads(line) for line in ran.output.splitlines()]
    assert events[-1]["event"] == "end" and events[-1]["status"] == "done" and events[-1]["done"] == 6
    assert all(e["event"] == "progress" for e in events[:-1]) and events

    shown = alice("jobs", "show", str(job_id), "--json", "--password-stdin", input=STDIN)
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["errors"] == []
    again = alice("jobs", "resume", str(job_id), "--url", fake.base_url, "--password-stdin", input=STDIN)
    assert again.exit_code == 1 and "nothing left to run" in again.output


def test_a_missing_model_pauses_the_job_with_exit_6_and_show_names_why(
    alice: Cli, workspace_of: Workspace, fake: FakeOllama
) -> None:
    job_id = new_job(workspace_of, 30, model="no-such-model")
    ran = alice("jobs", "resume", str(job_id), "--url", fake.base_url, "--password-stdin", input=STDIN)
    assert ran.exit_code == 6, ran.output
    assert f"Job {job_id} paused: model missing" in ran.output
    shown = alice("jobs", "show", str(job_id), "--password-stdin", input=STDIN)
    assert "state     paused: model missing" in shown.output
    assert "no-such-model" in shown.output  # the server's reason, per item


def test_pause_cancel_and_retry_failed(alice: Cli, workspace_of: Workspace) -> None:
    job_id = new_job(workspace_of, 3)
    paused = alice("jobs", "pause", str(job_id), "--password-stdin", input=STDIN)
    assert paused.exit_code == 0 and f"Job {job_id} paused" in paused.output
    retried = alice("jobs", "retry-failed", str(job_id), "--password-stdin", input=STDIN)
    assert retried.exit_code == 0 and "0 failed items" in retried.output
    cancelled = alice("jobs", "cancel", str(job_id), "--json", "--password-stdin", input=STDIN)
    assert cancelled.exit_code == 0 and json.loads(cancelled.output)["status"] == "cancelled"
    refused = alice("jobs", "pause", str(job_id), "--password-stdin", input=STDIN)
    assert refused.exit_code == 1
    assert refused.output.strip() == f"forge-tui: Job {job_id} is cancelled; it cannot be paused."
    missing = alice("jobs", "show", "999", "--password-stdin", input=STDIN)
    assert missing.exit_code == 5 and "No job with id 999." in missing.output


@pytest.mark.slow
def test_resume_detached_runs_in_a_process_of_its_own(alice: Cli, workspace_of: Workspace, fast_home_dir: Path) -> None:
    """The detached process unlocks with the password it was handed and logs to jobs/ID.log. It has
    no stand-in recipe registered, so it stops with the sentence for an unknown kind."""
    job_id = new_job(workspace_of, 4)
    started = alice("jobs", "resume", str(job_id), "--detach", "--json", "--password-stdin", input=STDIN)
    assert started.exit_code == 0, started.output
    assert json.loads(started.output)["id"] == job_id
    log = fast_home_dir / "jobs" / f"{job_id}.log"
    deadline = time.monotonic() + 60
    while "forge-tui:" not in (log.read_text() if log.exists() else "") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert log.read_text().strip() == "forge-tui: This version of forge-tui cannot run jobs of kind 'echo'."
    assert JobService(workspace_of.home, workspace_of.unlocked).get(job_id).status is JobState.PLANNED


GPU_A = EndpointStats("gpu-a", "http://10.0.0.5:11434", EndpointState.HEALTHY, 12, 16, 32, 342.0, 1250.5, 0.0, 900, 0)
GPU_B = EndpointStats("gpu-b", "http://10.0.0.6:8000", EndpointState.BACKING_OFF, 3, 4, 32, 41.0, 150.0, 0.125, 80, 9)


def test_show_prints_each_endpoints_figures(alice: Cli, workspace_of: Workspace) -> None:
    job_id = new_job(workspace_of, 3)
    with workspace_of.home.engine.begin() as conn:
        write_endpoint_stats(conn, job_id, [GPU_A.to_json(), GPU_B.to_json()])
    shown = alice("jobs", "show", str(job_id), "--password-stdin", input=STDIN)
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("endpoints "))
    assert lines[header].split() == [
        "endpoints",
        "Endpoint",
        "State",
        "In",
        "flight",
        "Limit",
        "/min",
        "Tokens/s",
        "Errors",
    ]
    assert lines[header + 1].split() == ["gpu-a", "healthy", "12", "16/32", "342", "1250", "0%"]
    assert lines[header + 2].split() == ["gpu-b", "backing", "off", "3", "4/32", "41", "150", "12%"]

    as_json = json.loads(alice("jobs", "show", str(job_id), "--json", "--password-stdin", input=STDIN).output)
    assert as_json["endpoints"] == [GPU_A.to_json(), GPU_B.to_json()]
    assert as_json["endpoints"][1]["state"] == "backing off"

    bare = new_job(workspace_of, 2)  # no figures before it ran on a pool: no table
    assert "endpoints" not in alice("jobs", "show", str(bare), "--password-stdin", input=STDIN).output
    assert (
        json.loads(alice("jobs", "show", str(bare), "--json", "--password-stdin", input=STDIN).output)["endpoints"]
        == []
    )


def test_pause_with_cancel_in_flight_is_written_on_the_job(alice: Cli, workspace_of: Workspace) -> None:
    job_id = new_job(workspace_of, 3)
    paused = alice("jobs", "pause", str(job_id), "--cancel-in-flight", "--json", "--password-stdin", input=STDIN)
    assert paused.exit_code == 0, paused.output
    assert json.loads(paused.output)["status"] == "paused" and json.loads(paused.output)["in_flight"] == "cancel"
    with workspace_of.home.engine.connect() as conn:
        found = conn.exec_driver_sql("SELECT pause_in_flight FROM job WHERE id = ?", (job_id,)).scalar()
    assert found == "cancel"


def done_count(workspace: Workspace, job_id: int) -> int:
    with workspace.home.engine.connect() as conn:
        found = conn.exec_driver_sql("SELECT count(*) FROM job_item WHERE job_id = ? AND status = 'done'", (job_id,))
        return int(found.scalar_one())


@pytest.mark.slow
def test_pause_from_the_shell_unloads_in_the_process_that_runs_the_job_and_resume_loads(
    alice: Cli, workspace_of: Workspace, fake: FakeOllama, fast_home_dir: Path
) -> None:
    job_id = new_job(workspace_of, 200)
    fake.token_latency = 0.01
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.job_child", str(fast_home_dir), str(job_id), fake.base_url, "4"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    try:
        assert child.stdin is not None
        child.stdin.write(STDIN)
        child.stdin.close()
        deadline = time.monotonic() + 60
        while done_count(workspace_of, job_id) < 4:
            assert child.poll() is None and time.monotonic() < deadline, "the job made no progress"
            time.sleep(0.05)
        paused = alice("jobs", "pause", str(job_id), "--password-stdin", input=STDIN)
        assert paused.exit_code == 0, paused.output
        assert "then the process running it unloads the model" in paused.output
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        assert child.stdout is not None
        with child.stdout:
            out = child.stdout.read()
    assert out.strip() == "paused"
    [unload] = fake.keep_alive_requests  # sent by the child, after its requests in flight ended
    assert unload.body == {"model": MODEL, "keep_alive": 0} and unload.chats_in_flight == 0

    fake.token_latency = 0
    resumed = alice("jobs", "resume", str(job_id), "--url", fake.base_url, "--password-stdin", input=STDIN)
    assert resumed.exit_code == 0, resumed.output
    assert f"Loading {MODEL} for job {job_id}" in resumed.output
    assert [(r.model, r.unload) for r in fake.keep_alive_requests] == [(MODEL, True), (MODEL, False)]
    assert JobService(workspace_of.home, workspace_of.unlocked).get(job_id).done == 200
