"""`forge-tui train BUNDLE`: a trainer run as a job, its metrics as JSON lines, its outcome and output
folder listed by `forge-tui jobs`, a missing bundle or trainer one sentence."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Cli
from tests.passwords import PASSWORD
from tests.train.bundles import fake_bundle


def lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def test_train_prints_metric_events_and_lists_the_run(alice: Cli, tmp_path: Path) -> None:
    bundle = fake_bundle(tmp_path / "bundle", dataset="default")
    ran = alice(
        "train",
        str(bundle),
        "--base",
        "tiny",
        "--password-stdin",
        "--json",
        "--",
        "--max_steps",
        "3",
        input=PASSWORD + "\n",
    )
    assert ran.exit_code == 0, ran.output
    events = lines(ran.stdout)
    metrics = [e for e in events if e["event"] == "metric"]
    assert [m["step"] for m in metrics] == [1, 2, 3]
    assert metrics[0]["loss"] == 3.0 and metrics[-1]["max_steps"] == 3
    end = events[-1]
    assert end["event"] == "end" and end["status"] == "done" and end["kind"] == "train"
    output = str((bundle / "output").resolve())
    assert end["output_dir"] == output
    listed = alice("jobs", "list", "--password-stdin", input=PASSWORD + "\n")
    row = next(line for line in listed.stdout.splitlines() if "output: " + output in line)
    assert "finished" in row


def test_a_detached_run_goes_on_in_its_own_process(alice: Cli, tmp_path: Path) -> None:
    bundle = fake_bundle(tmp_path / "bundle", dataset="default")
    ran = alice("train", str(bundle), "--password-stdin", "--json", "--detach", input=PASSWORD + "\n")
    assert ran.exit_code == 0, ran.output
    detached = lines(ran.stdout)[-1]
    assert detached["event"] == "detached"
    deadline = time.monotonic() + 30
    while True:
        shown = alice("jobs", "show", str(detached["id"]), "--password-stdin", "--json", input=PASSWORD + "\n")
        if json.loads(shown.stdout)["status"] == "done":
            break
        assert time.monotonic() < deadline, shown.stdout
        time.sleep(0.2)
    assert (bundle / "output" / "adapter_model.safetensors").exists()


def test_a_failed_trainer_exits_1_with_its_reason(alice: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_TRAINER_FAIL", "2")
    bundle = fake_bundle(tmp_path / "bundle", dataset="default")
    ran = alice("train", str(bundle), "--password-stdin", input=PASSWORD + "\n")
    assert ran.exit_code == 1
    assert "The trainer exited with code 2: ValueError: the fake trainer was told to fail" in ran.stdout


def test_a_folder_without_a_bundle_is_one_sentence(alice: Cli, tmp_path: Path) -> None:
    ran = alice("train", str(tmp_path), "--password-stdin", input=PASSWORD + "\n")
    assert ran.exit_code != 0
    assert "No forge-bundle.json in" in ran.stderr and "Traceback" not in ran.output
