"""The Training view (from Jobs): a trainer run by the app's JobHost streams its log, its chart gets
the points, the stop key stops the trainer; a snapshot at 80×24."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from textual.pilot import Pilot
from textual.widgets import Input, Log, OptionList

from forge_tui import i18n
from forge_tui.core.jobs import JobState, JobSummary
from forge_tui.core.models import ExampleContent, ExampleMeta
from forge_tui.services.accounts import AccountService
from forge_tui.services.bundles import write_bundle
from forge_tui.services.home import Home
from forge_tui.services.jobs import JobService
from forge_tui.services.train_jobs import create_run
from forge_tui.services.workspace import Workspace
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.common import Confirm, TextPrompt
from forge_tui.ui.dialogs.pick import PickOne
from forge_tui.ui.dialogs.training import TrainingView
from forge_tui.ui.messages import TrainBundle
from forge_tui.ui.screens.datasets import DatasetsScreen
from forge_tui.ui.screens.export import ExportScreen
from forge_tui.ui.screens.jobs import JobsScreen
from forge_tui.ui.widgets.training_chart import TrainingChart
from tests.adapters import peft_adapter
from tests.fake_ollama import FakeOllama
from tests.passwords import PASSWORD
from tests.train.bundles import fake_bundle
from tests.ui.helpers import prepare_backend, unlock, wait_for_screen, wait_until


def planned_run(home: Home, fake: FakeOllama, folder: Path, extra: list[str]) -> JobSummary:
    """alice's account (its model server the fake, so that no toast says a server is missing) and a
    planned run of a bundle of the fake trainer."""
    prepare_backend(home, fake)
    workspace = Workspace.open(home, AccountService(home).unlock("alice", PASSWORD))
    jobs = JobService(home, workspace.unlocked)
    return create_run(jobs, workspace.datasets, fake_bundle(folder, dataset="default"), "tiny/model", extra)


async def open_training(pilot: Pilot[None], resume: bool) -> TrainingView:
    """Unlocks and opens the planned run from Jobs (started with r)."""
    await unlock(pilot)
    await wait_for_screen(pilot, DatasetsScreen)
    await pilot.press("b")
    await wait_for_screen(pilot, JobsScreen)
    if resume:
        await pilot.press("r")
    await pilot.press("w")
    await wait_for_screen(pilot, TrainingView)
    view = pilot.app.screen
    assert isinstance(view, TrainingView)
    return view


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


async def test_the_view_streams_the_log_draws_the_points_and_stops_the_trainer(
    home: Home, fake: FakeOllama, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TRAINER_RATE", "20")
    job = planned_run(home, fake, tmp_path / "bundle", ["--max_steps", "100000"])
    async with ForgeApp(home).run_test(size=(80, 24)) as pilot:
        view = await open_training(pilot, resume=True)
        chart = view.query_one(TrainingChart)
        await wait_until(pilot, lambda: len(chart.steps) >= 5, timeout=15)
        assert chart.steps[:5] == [1, 2, 3, 4, 5] and chart.losses[0] == 3.0
        assert any("'loss'" in line for line in view.query_one(Log).lines)
        await wait_until(pilot, lambda: view.job.status is JobState.RUNNING, timeout=5)
        started = json.loads((tmp_path / "bundle" / "output" / "fake_started.json").read_text())
        await pilot.press("s")
        await wait_for_screen(pilot, Confirm)
        await pilot.press("y")
        await wait_for_screen(pilot, TrainingView)
        await wait_until(pilot, lambda: not alive(started["pid"]), timeout=15)
        await wait_until(pilot, lambda: view.job.status is JobState.CANCELLED, timeout=5)
        assert "stopped" in str(view.query_one("#training-title").render())
        await pilot.press("escape")
        await wait_for_screen(pilot, JobsScreen)
    assert job.output_dir is not None


LOG = [
    "$ trl sft --config sft_config.yaml",
    *[
        str(
            {
                "loss": f"{3.0 / s:.4g}",
                "grad_norm": "1.2",
                "learning_rate": f"{5e-5 * (1 - s / 12):.4g}",
                "epoch": "0.5",
            }
        )
        for s in range(1, 13)
    ],
]


def test_snapshot(home: Home, fake: FakeOllama, tmp_path: Path, snap_compare: Any) -> None:
    job = planned_run(home, fake, tmp_path / "bundle", [])
    assert job.output_dir is not None
    output = Path(job.output_dir)
    output.mkdir(parents=True)
    (output / "train.log").write_text("\n".join(LOG) + "\n")
    (output / "trainer_state.json").write_text(json.dumps({"max_steps": 24, "log_history": []}))
    app = ForgeApp(home)

    async def run_before(pilot: Pilot[None]) -> None:
        view = await open_training(pilot, resume=False)
        chart = view.query_one(TrainingChart)
        await wait_until(pilot, lambda: len(chart.steps) == 12 and view.files.metrics.max_steps == 24, timeout=10)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


async def test_jobs_lists_a_finished_run_with_its_outcome_and_output_folder(
    home: Home, fake: FakeOllama, tmp_path: Path
) -> None:
    job = planned_run(home, fake, tmp_path / "bundle", ["--max_steps", "2"])
    async with ForgeApp(home).run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await wait_for_screen(pilot, DatasetsScreen)
        await pilot.press("b")
        await wait_for_screen(pilot, JobsScreen)
        await pilot.press("r")
        detail = pilot.app.screen.query_one("#job-state")
        await wait_until(pilot, lambda: "finished" in str(detail.render()), timeout=15)
        assert f"Output folder: {job.output_dir}" in str(detail.render()).replace("\n", "")


async def test_a_bundle_written_on_export_trains_at_once_when_asked(
    home: Home, fake: FakeOllama, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Export's bundle, then "Train now": the run is a job of the app's host, shown as it trains. The
    bundle's own trainer (trl) is swapped for the fake one, which is what a test can run."""
    monkeypatch.setenv("FAKE_TRAINER_RATE", "50")
    prepare_backend(home, fake)
    workspace = Workspace.open(home, AccountService(home).unlock("alice", PASSWORD))
    workspace.examples.add_many(
        workspace.datasets.get("default").id,
        [(ExampleContent(user_prompt=f"q{i}", output=f"a{i}"), ExampleMeta()) for i in range(4)],
    )
    target = tmp_path / "bundle"
    written = write_bundle(workspace.examples, workspace.datasets.get("default"), "trl", target)
    manifest = json.loads((target / "forge-bundle.json").read_text())
    assert written.records == 4 and manifest["command"][0] == "trl"
    fake_bundle(target, dataset="default")  # the same folder, its command now the fake trainer
    async with ForgeApp(home).run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await wait_for_screen(pilot, DatasetsScreen)
        pilot.app.post_message(TrainBundle(target))
        await wait_for_screen(pilot, TrainingView)
        view = pilot.app.screen
        assert isinstance(view, TrainingView)
        await wait_until(pilot, lambda: len(view.query_one(TrainingChart).steps) >= 3, timeout=15)
        await wait_until(pilot, lambda: view.job.status is JobState.DONE, timeout=30)
        await pilot.press("escape")
        await wait_for_screen(pilot, JobsScreen)


async def test_train_now_after_an_export_bundle_and_a_missing_trainer_is_said(
    home: Home, fake: FakeOllama, tmp_path: Path
) -> None:
    prepare_backend(home, fake)
    workspace = Workspace.open(home, AccountService(home).unlock("alice", PASSWORD))
    workspace.examples.add_many(
        workspace.datasets.get("default").id,
        [(ExampleContent(user_prompt=f"q{i}", output=f"a{i}"), ExampleMeta()) for i in range(4)],
    )
    target = tmp_path / "b"
    async with ForgeApp(home).run_test(size=(80, 24), notifications=True) as pilot:
        await unlock(pilot)
        await wait_for_screen(pilot, DatasetsScreen)
        await pilot.press("x")
        await wait_for_screen(pilot, ExportScreen)
        await pilot.press("ctrl+t")
        await wait_for_screen(pilot, PickOne)
        options = pilot.app.screen.query_one(OptionList)
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        options.highlighted = ids.index("axolotl")  # its command, axolotl, is not installed here
        await pilot.press("enter")
        await wait_for_screen(pilot, TextPrompt)
        pilot.app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await wait_for_screen(pilot, Confirm)
        assert "Start training" in str(pilot.app.screen.query_one(".dialog-title").render())
        await pilot.press("y")
        await wait_until(
            pilot, lambda: any("Cannot start training" in (n.title or "") for n in pilot.app._notifications)
        )
        message = next(n.message for n in pilot.app._notifications if n.title == "Cannot start training")
        assert "pip install" in message and "axolotl" in message
        assert JobService(home, workspace.unlocked).list() == []
        assert (target / "forge-bundle.json").is_file()


async def test_in_zh_tw_the_chart_keeps_to_its_width_and_the_legend_is_a_line_of_its_own(
    home: Home, fake: FakeOllama, tmp_path: Path
) -> None:
    """plotext counts characters, not cells: Chinese labels inside the chart pushed its lines past 80."""
    job = planned_run(home, fake, tmp_path / "bundle", [])
    assert job.output_dir is not None
    output = Path(job.output_dir)
    output.mkdir(parents=True)
    (output / "train.log").write_text("\n".join(LOG) + "\n")
    i18n.set_language("zh_TW")
    async with ForgeApp(home).run_test(size=(80, 24)) as pilot:
        view = await open_training(pilot, resume=False)
        chart = view.query_one(TrainingChart)
        await wait_until(pilot, lambda: len(chart.steps) == 12)
        await pilot.pause(0.3)
        lines = str(chart.render()).splitlines()
        assert lines and max(cell_len(line) for line in lines) <= chart.size.width, lines
        assert "損失" not in "".join(lines)
        assert "損失" in str(view.query_one("#training-legend").render())


async def test_d_deploys_a_finished_run_to_ollama_and_says_where_to_compare_it(
    home: Home, fake: FakeOllama, tmp_path: Path
) -> None:
    job = planned_run(home, fake, tmp_path / "bundle", ["--max_steps", "2"])
    assert job.output_dir is not None
    async with ForgeApp(home).run_test(size=(80, 24), notifications=True) as pilot:
        view = await open_training(pilot, resume=True)
        await wait_until(pilot, lambda: view.job.status is JobState.DONE, timeout=15)
        # What the fake trainer leaves is no adapter; a PEFT one of a Llama base stands in for it.
        peft_adapter(Path(job.output_dir), base_model="meta-llama/Llama-3.2-1B-Instruct")
        await pilot.pause()
        assert view.check_action("deploy", ()) is True
        await pilot.press("d")
        await wait_for_screen(pilot, TextPrompt)
        assert pilot.app.screen.query_one(Input).value == f"forge-run-{job.id}"
        pilot.app.screen.query_one(Input).value = "my-tuned"
        await pilot.press("enter")
        await wait_for_screen(pilot, TextPrompt)
        assert pilot.app.screen.query_one(Input).value == ""  # "tiny/model" has no Ollama name forge-tui knows
        pilot.app.screen.query_one(Input).value = "llama3.2"
        await pilot.press("enter")
        await wait_for_screen(pilot, TrainingView)
        await wait_until(pilot, lambda: any("Deployed 'my-tuned" in n.message for n in pilot.app._notifications))
        assert [c["model"] for c in fake.creates] == ["my-tuned"]
        assert (Path(job.output_dir) / "Modelfile").read_text().startswith("# Made by forge-tui")
