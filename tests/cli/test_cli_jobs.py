"""`forge-tui jobs …`: list, show, pause, cancel, retry-failed and resume (foreground with JSON lines,
and detached in a process of its own), against the fake server."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from forge_tui.core.jobs import JobState
from forge_tui.services.job_kinds import register
from forge_tui.services.jobs import JobService
from forge_tui.services.workspace import Workspace
from tests.cli.conftest import Cli
from tests.fake_ollama import FakeOllama
from tests.job_recipe import RECIPE, plan
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
