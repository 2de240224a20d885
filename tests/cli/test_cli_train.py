"""`forge-tui train BUNDLE`: a trainer run as a job, its metrics as JSON lines, its outcome and output
folder listed by `forge-tui jobs`, a missing bundle or trainer one sentence."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import signal
import subprocess
import sys
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


def test_on_a_terminal_a_progress_line_shows_step_loss_rate_and_eta(
    alice: Cli, fast_home_dir: Path, tmp_path: Path
) -> None:
    bundle = fake_bundle(tmp_path / "bundle", dataset="default")
    command = [sys.executable, "-c", "from forge_tui.cli import main; main()", "--home", str(fast_home_dir)]
    command += ["train", str(bundle), "--password-stdin", "--", "--max_steps", "20"]
    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(Path.cwd()), "FAKE_TRAINER_RATE": "20"}
    child = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=follower, env=env, text=True
    )
    os.close(follower)
    out, _err = child.communicate(PASSWORD + "\n", timeout=60)
    shown = b""
    with contextlib.suppress(OSError):
        while chunk := os.read(leader, 65536):
            shown += chunk
    os.close(leader)
    assert child.returncode == 0, out
    assert "\\u000d" not in shown.decode()  # a real carriage return redraws the line, not its escape
    last = [part.strip() for part in shown.decode().split("\r") if part.strip()][-1]
    assert re.fullmatch(r"step 20/20, loss 0\.15, [\d.]+ steps/s, ETA 0m 00s", last), shown.decode()[-500:]


def test_ctrl_c_stops_the_trainer_and_leaves_the_job_paused(alice: Cli, fast_home_dir: Path, tmp_path: Path) -> None:
    bundle = fake_bundle(tmp_path / "bundle", dataset="default")
    command = [sys.executable, "-c", "from forge_tui.cli import main; main()", "--home", str(fast_home_dir)]
    command += ["train", str(bundle), "--password-stdin", "--json", "--", "--max_steps", "100000"]
    env = {**os.environ, "PYTHONPATH": str(Path.cwd()), "FAKE_TRAINER_RATE": "20"}
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(PASSWORD + "\n")
    child.stdin.close()
    job_id = json.loads(child.stdout.readline())["id"]
    assert json.loads(child.stdout.readline())["event"] == "metric"  # the trainer runs
    trainer = json.loads((bundle / "output" / "fake_started.json").read_text())["pid"]
    child.send_signal(signal.SIGINT)
    assert child.wait(timeout=30) == 130
    assert "Interrupted" in (bundle / "output" / "train.log").read_text()
    with pytest.raises(ProcessLookupError):
        os.kill(trainer, 0)
    shown = alice("jobs", "show", str(job_id), "--password-stdin", "--json", input=PASSWORD + "\n")
    assert json.loads(shown.stdout)["status"] == "paused"
