"""Offline batch: a job's open items exported as OpenAI Batch input, answered by a stand-in for
`vllm run-batch` (tests/fake_run_batch.py) from the fake Ollama, and imported back by custom_id."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.errors import Conflict
from forge_tui.core.generation import ExampleKind, GenerationSpec
from forge_tui.core.jobs import JobState
from forge_tui.core.models import Example
from forge_tui.services.accounts import AccountService
from forge_tui.services.backends import BackendService
from forge_tui.services.batch_files import BatchFiles, ImportReport
from forge_tui.services.generation_jobs import GENERATION_RECIPE
from forge_tui.services.jobs import JobService, RunOptions
from forge_tui.services.key_rotation import rotate_key
from forge_tui.services.workspace import Workspace
from tests.db_bytes import db_files, found_in, marker
from tests.fake_ollama import FakeOllama
from tests.fake_run_batch import run_batch
from tests.passwords import PASSWORD
from tests.services.test_generation_jobs import TEMPLATE

BATCH_INPUT_KEYS = {"custom_id", "method", "url", "body"}


def check_batch_input_line(raw: str) -> dict[str, Any]:
    """The OpenAI Batch input shape (platform.openai.com/docs/api-reference/batch/request-input):
    custom_id (string), method "POST", url an endpoint path, body the request of that endpoint."""
    line = json.loads(raw)
    assert isinstance(line, dict) and set(line) == BATCH_INPUT_KEYS, line
    assert isinstance(line["custom_id"], str) and line["custom_id"]
    assert line["method"] == "POST" and line["url"] == "/v1/chat/completions"
    body = line["body"]
    assert isinstance(body, dict) and isinstance(body["model"], str) and body["model"]
    assert body.get("stream") is False and "stream_options" not in body
    assert isinstance(body["messages"], list) and body["messages"]
    for message in body["messages"]:
        assert message["role"] in ("system", "user", "assistant", "tool") and isinstance(message["content"], str)
    return line


def make_job(workspace: Workspace, **fields: Any) -> int:
    dataset_id = workspace.datasets.create(f"batch {len(workspace.datasets.list())}").id
    values: dict[str, Any] = {
        "template": TEMPLATE,
        "count": 3,
        "dataset_id": dataset_id,
        "model": "llama3.2",
        "seed": 3,
    }
    jobs = JobService(workspace.home, workspace.unlocked)
    return jobs.create(jobs.plan(GenerationSpec(**{**values, **fields}))).id


def made(workspace: Workspace, job_id: int) -> list[Example]:
    dataset_id = JobService(workspace.home, workspace.unlocked).get(job_id).dataset_id
    assert dataset_id is not None
    return [e for e in workspace.examples.scan(dataset_id) if isinstance(e, Example)]


async def one_round(
    workspace: Workspace, fake: FakeOllama, job_id: int, tmp_path: Path, **stand_in: Any
) -> tuple[list[str], ImportReport]:
    batch = BatchFiles(workspace.home, workspace.unlocked)
    requests, results = tmp_path / "requests.jsonl", tmp_path / "results.jsonl"
    await batch.export(job_id, requests)
    lines = requests.read_text(encoding="utf-8").splitlines()
    run_batch(requests, results, fake.base_url, **stand_in)
    return lines, await batch.import_results(job_id, results)


async def test_export_writes_one_batch_input_line_per_open_item_readable_by_its_owner_only(
    workspace: Workspace, tmp_path: Path
) -> None:
    job_id = make_job(workspace, count=4)
    out = tmp_path / "requests.jsonl"
    report = await BatchFiles(workspace.home, workspace.unlocked).export(job_id, out)
    lines = [check_batch_input_line(raw) for raw in out.read_text(encoding="utf-8").splitlines()]
    assert report.requests == 4
    assert [line["custom_id"] for line in lines] == [f"job-{job_id}-item-{i}-req-0" for i in range(4)]
    assert lines[0]["body"]["messages"][0] == {"role": "system", "content": "You are terse."}
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


async def test_round_trip_makes_exactly_the_examples_a_normal_run_makes(
    workspace: Workspace, fake: FakeOllama, tmp_path: Path
) -> None:
    batched = make_job(workspace)
    lines, report = await one_round(workspace, fake, batched, tmp_path)
    assert len(lines) == 3
    assert (report.stored, report.finished, report.open, report.duplicate, report.errors) == (3, 3, 0, 0, 0)
    job = JobService(workspace.home, workspace.unlocked).get(batched)
    assert (job.status, job.done, job.failed) == (JobState.DONE, 3, 0)

    ran = make_job(workspace)
    jobs = JobService(workspace.home, workspace.unlocked)
    async with BackendService(BackendSettings(kind="openai", base_url=fake.base_url, max_retries=0)) as backend:
        await jobs.run(ran, backend, GENERATION_RECIPE, options=RunOptions(concurrency=2, attempts=1))

    def kept(examples: list[Example]) -> list[tuple[Any, Any]]:
        ordered = sorted(examples, key=lambda e: int(e.meta.params["item"]))
        return [(e.content.model_dump(), e.meta.model_dump(exclude={"job_id"})) for e in ordered]

    from_batch, from_run = made(workspace, batched), made(workspace, ran)
    assert len(from_batch) == 3 and {e.meta.job_id for e in from_batch} == {batched}
    assert kept(from_batch) == kept(from_run)


async def test_a_partial_results_file_leaves_the_rest_open_for_the_next_round(
    workspace: Workspace, fake: FakeOllama, tmp_path: Path
) -> None:
    job_id = make_job(workspace, count=5)
    _, report = await one_round(workspace, fake, job_id, tmp_path, limit=2)
    assert (report.stored, report.finished, report.open) == (2, 2, 3)
    lines, report = await one_round(workspace, fake, job_id, tmp_path)
    assert [json.loads(line)["custom_id"] for line in lines] == [f"job-{job_id}-item-{i}-req-0" for i in (2, 3, 4)]
    assert (report.stored, report.finished, report.open) == (3, 3, 0)
    assert len(made(workspace, job_id)) == 5


async def test_duplicate_error_corrupt_and_unknown_lines_are_counted_listed_and_never_stored_twice(
    workspace: Workspace, fake: FakeOllama, tmp_path: Path
) -> None:
    job_id = make_job(workspace, count=4)
    _, report = await one_round(workspace, fake, job_id, tmp_path, duplicate_first=True, error_at=2, corrupt_at=3)
    results = tmp_path / "results.jsonl"
    # Lines: answer 0, its duplicate, answer 1, the error for item 2, a corrupt line, answer 3.
    assert (report.lines, report.stored, report.finished, report.open) == (6, 3, 3, 1)
    assert (report.duplicate, report.errors, report.corrupt, report.unknown) == (1, 1, 1, 0)
    assert [(p.line, p.kind) for p in report.problems] == [(2, "duplicate"), (4, "errors"), (5, "corrupt")]

    with results.open("a", encoding="utf-8") as out:
        out.write(results.read_text(encoding="utf-8").splitlines()[0].replace(f"job-{job_id}-", "job-999-") + "\n")
    again = await BatchFiles(workspace.home, workspace.unlocked).import_results(job_id, results)
    assert (again.stored, again.finished, again.duplicate, again.unknown) == (0, 0, 4, 1)
    assert len(made(workspace, job_id)) == 3  # item 2 is still open; nothing was written twice

    lines, report = await one_round(workspace, fake, job_id, tmp_path)
    assert [json.loads(line)["custom_id"] for line in lines] == [f"job-{job_id}-item-2-req-0"]
    assert report.finished == 1 and len(made(workspace, job_id)) == 4


async def test_a_preference_job_finishes_over_two_rounds(
    workspace: Workspace, fake: FakeOllama, tmp_path: Path
) -> None:
    job_id = make_job(workspace, kind=ExampleKind.PREFERENCE, second_model="qwen3:0.6b", count=2)
    first, report = await one_round(workspace, fake, job_id, tmp_path)
    assert [json.loads(line)["body"]["model"] for line in first] == ["llama3.2", "llama3.2"]
    assert (report.stored, report.finished, report.open) == (2, 0, 2)
    second, report = await one_round(workspace, fake, job_id, tmp_path)
    assert [json.loads(line)["custom_id"] for line in second] == [f"job-{job_id}-item-{i}-req-1" for i in (0, 1)]
    assert [json.loads(line)["body"]["model"] for line in second] == ["qwen3:0.6b", "qwen3:0.6b"]
    assert (report.stored, report.finished, report.open) == (2, 2, 0)
    examples = made(workspace, job_id)
    assert len(examples) == 2 and all(e.content.output and len(e.content.rejected) == 1 for e in examples)
    with pytest.raises(Conflict, match="no open items"):
        await BatchFiles(workspace.home, workspace.unlocked).export(job_id, tmp_path / "again.jsonl")


async def test_a_multi_turn_job_asks_each_turn_in_its_own_round(
    workspace: Workspace, fake: FakeOllama, tmp_path: Path
) -> None:
    job_id = make_job(workspace, kind=ExampleKind.MULTI_TURN, turns=2, count=1)
    rounds = 0
    while JobService(workspace.home, workspace.unlocked).get(job_id).status is not JobState.DONE:
        lines, _ = await one_round(workspace, fake, job_id, tmp_path)
        assert [json.loads(line)["custom_id"] for line in lines] == [f"job-{job_id}-item-0-req-{rounds}"]
        rounds += 1
        assert rounds <= 3
    assert rounds == 3  # answer, the simulated user's next message, the second answer
    (example,) = made(workspace, job_id)
    assert [t["role"] for t in example.content.turns] == ["user", "assistant", "user"]


async def test_answers_kept_between_rounds_still_open_after_a_key_rotation(
    workspace: Workspace, fake: FakeOllama, tmp_path: Path
) -> None:
    job_id = make_job(workspace, kind=ExampleKind.PREFERENCE, second_model="qwen3:0.6b", count=2)
    _, report = await one_round(workspace, fake, job_id, tmp_path)
    assert (report.stored, report.finished) == (2, 0)

    rotate_key(workspace.home, "alice", PASSWORD)
    rotated = Workspace.open(workspace.home, AccountService(workspace.home).unlock("alice", PASSWORD))
    lines, report = await one_round(rotated, fake, job_id, tmp_path)
    assert [json.loads(line)["custom_id"] for line in lines] == [f"job-{job_id}-item-{i}-req-1" for i in (0, 1)]
    assert (report.stored, report.finished, report.open) == (2, 2, 0)


async def test_answers_kept_between_rounds_are_sealed_in_the_database(
    workspace: Workspace, fake: FakeOllama, tmp_path: Path
) -> None:
    fake.fixed_reply = marker()
    job_id = make_job(workspace, kind=ExampleKind.PREFERENCE, second_model="qwen3:0.6b", count=2)
    _, report = await one_round(workspace, fake, job_id, tmp_path)
    assert report.stored == 2 and fake.fixed_reply in (tmp_path / "results.jsonl").read_text(encoding="utf-8")
    assert found_in(db_files(workspace.home), fake.fixed_reply) == []
