"""The Training view while a trainer logs, and the time from a key press to the trainer's process.

    python bench/train_view.py [--seconds 15] [--rate 10]

The real app (ForgeApp, headless, 80x24) unlocks a fresh account with a planned training run of a
bundle whose trainer is tests/fake_trainer.py (a real process that prints Hugging Face-style log lines,
--rate steps a second, one line each, and writes trainer_state.json at its checkpoints).

(a) A probe on the app's event loop sleeps 10 ms at a time and keeps how much later than asked it wakes
    (as bench/jobs.py): what a key press would wait. First with the app idle on the Jobs screen (the
    baseline), then with the Training view open while the trainer logs and the chart redraws. Target:
    p99 <= 30 ms while training.
(b) From the key that starts the run (r on Jobs) to the trainer's process started (its pid written by
    services.training once the process exists). Target <= 1 s. The trainer's own start-up (the fake's
    interpreter start, up to its first line; and, when the train extra is installed, the import of TRL's
    SFTTrainer in a fresh interpreter) is printed apart: it is the trainer's time, not ours.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from latency_probe import Probe, percentile  # noqa: E402
from textual.pilot import Pilot  # noqa: E402

from forge_tui.services.accounts import AccountService  # noqa: E402
from forge_tui.services.home import open_home  # noqa: E402
from forge_tui.services.jobs import JobService  # noqa: E402
from forge_tui.services.train_jobs import create_run  # noqa: E402
from forge_tui.services.training import LOG_FILE, PID_FILE  # noqa: E402
from forge_tui.services.workspace import Workspace  # noqa: E402
from forge_tui.ui.app import ForgeApp  # noqa: E402
from forge_tui.ui.dialogs.training import TrainingView  # noqa: E402
from forge_tui.ui.screens.jobs import JobsScreen  # noqa: E402
from forge_tui.ui.widgets.training_chart import TrainingChart  # noqa: E402
from tests.conftest import prepare_home_dir  # noqa: E402
from tests.passwords import PASSWORD  # noqa: E402
from tests.train.bundles import fake_bundle  # noqa: E402

PROBE_INTERVAL = 0.01


async def until(pilot: Pilot[None], check: object, timeout: float = 30.0, step: float = 0.002) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit("bench/train_view.py: timed out")
        await asyncio.sleep(step)


async def probe_for(seconds: float) -> list[float]:
    probe = Probe(PROBE_INTERVAL)
    probe.start()
    await asyncio.sleep(seconds)
    return await probe.stop()


def line(name: str, late: list[float]) -> str:
    return f"{name:<34} p50 {percentile(late, 0.5) * 1000:6.1f} ms   p99 {percentile(late, 0.99) * 1000:6.1f} ms"


async def bench(seconds: float, rate: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = open_home(prepare_home_dir(Path(tmp) / "home"))
        AccountService(home).create_user("alice", "Alice", PASSWORD)
        workspace = Workspace.open(home, AccountService(home).unlock("alice", PASSWORD))
        jobs = JobService(home, workspace.unlocked)
        bundle = fake_bundle(Path(tmp) / "bundle", dataset="default")
        job = create_run(jobs, workspace.datasets, bundle, "tiny/model", ["--max_steps", "1000000"])
        output = Path(job.output_dir or "")
        os.environ["FAKE_TRAINER_RATE"] = str(rate)
        app = ForgeApp(home)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press(*["space" if ch == " " else ch for ch in PASSWORD])
            await pilot.press("enter")
            await until(pilot, lambda: app.screen.__class__.__name__ == "DatasetsScreen")
            await pilot.press("b")
            await until(pilot, lambda: isinstance(app.screen, JobsScreen))
            await asyncio.sleep(1.0)
            idle = await probe_for(seconds)

            pressed = time.perf_counter()
            await pilot.press("r")
            await until(pilot, lambda: (output / PID_FILE).exists())
            spawned = time.perf_counter()
            await until(pilot, lambda: (output / LOG_FILE).exists() and "{'loss'" in (output / LOG_FILE).read_text())
            first_line = time.perf_counter()

            await pilot.press("w")
            await until(pilot, lambda: isinstance(app.screen, TrainingView))
            view = app.screen
            assert isinstance(view, TrainingView)
            chart = view.query_one(TrainingChart)
            draws, steps = chart.draws, len(chart.steps)
            training = await probe_for(seconds)
            draws, steps = chart.draws - draws, len(chart.steps) - steps
            jobs.cancel(job.id)
            await until(pilot, lambda: not (output / PID_FILE).exists(), timeout=20)
        home.close()

    print(f"Training view at 80x24, fake trainer logging {rate:g} lines/s, {seconds:g} s each:")
    print(line("idle app (Jobs screen, baseline)", idle))
    print(line("Training view while training", training) + "   (target p99 <= 30 ms)")
    print(f"  chart redraws: {draws} for {steps} new steps ({draws / seconds:.1f} per second)")
    print(f"key press -> trainer process started: {(spawned - pressed) * 1000:.0f} ms   (target <= 1000 ms)")
    print(f"  trainer's own start-up (fake trainer, to its first log line): {(first_line - spawned) * 1000:.0f} ms")
    print_trl_import()


def print_trl_import() -> None:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", "from trl import SFTTrainer"], capture_output=True, check=False)
    if done.returncode != 0:
        print("  TRL's import time: not measured (the train extra is not installed)")
        return
    took = time.perf_counter() - started
    print(f"  TRL's own import time (from trl import SFTTrainer, fresh interpreter): {took:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rate", type=float, default=10.0, help="trainer log lines (steps) per second")
    options = parser.parse_args()
    asyncio.run(bench(options.seconds, options.rate))


if __name__ == "__main__":
    main()
