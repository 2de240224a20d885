"""`forge-tui jobs export-batch|import-batch`: the README's round trip with the stand-in for
`vllm run-batch` run as its own process, and the counts and exit codes of a bad results file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from forge_tui.core.generation import GenerationSpec
from forge_tui.core.jobs import JobState
from forge_tui.services.jobs import JobService
from forge_tui.services.workspace import Workspace
from tests.cli.conftest import Cli
from tests.fake_ollama import FakeOllama
from tests.fake_run_batch import CORRUPT_LINE
from tests.passwords import PASSWORD
from tests.services.test_generation_jobs import TEMPLATE

STDIN = PASSWORD + "\n"
ROOT = Path(__file__).resolve().parents[2]


def new_job(workspace: Workspace, count: int) -> int:
    dataset_id = workspace.datasets.create("batched").id
    spec = GenerationSpec(template=TEMPLATE, count=count, dataset_id=dataset_id, model="llama3.2", seed=5)
    jobs = JobService(workspace.home, workspace.unlocked)
    return jobs.create(jobs.plan(spec)).id


def test_export_run_batch_import_round_trip(
    alice: Cli, workspace_of: Workspace, fake: FakeOllama, tmp_path: Path
) -> None:
    job_id = new_job(workspace_of, 3)
    requests, results = tmp_path / "requests.jsonl", tmp_path / "results.jsonl"
    exported = alice("jobs", "export-batch", str(job_id), "--out", str(requests), "--password-stdin", input=STDIN)
    assert exported.exit_code == 0, exported.output
    assert "Wrote 3 requests" in exported.output and "plaintext" in exported.output

    stand_in = [sys.executable, "-m", "tests.fake_run_batch", "-i", str(requests), "-o", str(results)]
    subprocess.run([*stand_in, "--url", fake.base_url], cwd=ROOT, check=True, timeout=60)

    imported = alice("jobs", "import-batch", str(job_id), str(results), "--json", "--password-stdin", input=STDIN)
    assert imported.exit_code == 0, imported.output
    counts = json.loads(imported.output)
    assert (counts["stored"], counts["finished"], counts["open"], counts["problems"]) == (3, 3, 0, [])
    job = JobService(workspace_of.home, workspace_of.unlocked).get(job_id)
    assert (job.status, job.done) == (JobState.DONE, 3)

    again = alice("jobs", "export-batch", str(job_id), "--out", str(requests), "--password-stdin", input=STDIN)
    assert again.exit_code == 1 and "no open items" in again.output


def test_a_file_with_nothing_to_store_lists_its_lines_and_exits_1(
    alice: Cli, workspace_of: Workspace, tmp_path: Path
) -> None:
    job_id = new_job(workspace_of, 2)
    results = tmp_path / "results.jsonl"
    error = {"id": "x", "custom_id": f"job-{job_id}-item-0-req-0", "response": None, "error": "out of memory"}
    unknown = {"id": "y", "custom_id": "request-1", "response": {"status_code": 200, "body": {}}, "error": None}
    results.write_text("\n".join([json.dumps(error), CORRUPT_LINE, json.dumps(unknown)]) + "\n", encoding="utf-8")
    imported = alice("jobs", "import-batch", str(job_id), str(results), "--password-stdin", input=STDIN)
    assert imported.exit_code == 1
    assert "1 unknown, 1 errors, 1 corrupt" in imported.output
    assert "line      1  errors" in imported.output and "out of memory" in imported.output
    assert f"Nothing from {results} was stored into job {job_id}." in imported.output
    assert "Traceback" not in imported.output
