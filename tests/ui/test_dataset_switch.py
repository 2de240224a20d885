"""A dataset switched while Examples, Export or Datasets is shown: the same screen shows the new
dataset in place (the app posts DatasetSwitched; nothing is rebuilt). And the keys these screens
name in their status lines and toasts are the keys bound, remapped ones included."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input

from forge_tui.core.models import DatasetInfo, ExampleContent, ExampleMeta
from forge_tui.services.home import Home, open_home
from forge_tui.services.workspace import Workspace
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.common import Confirm
from forge_tui.ui.messages import SwitchDataset
from forge_tui.ui.screens.datasets import DatasetsScreen
from forge_tui.ui.screens.examples import ExamplesScreen
from forge_tui.ui.widgets.example_table import ExampleTable
from tests.ui.helpers import (
    examples_status,
    fill,
    open_examples,
    open_export,
    static_text,
    unlock,
    wait_for_screen,
    wait_until,
)


def with_tides(workspace: Workspace) -> DatasetInfo:
    """A second dataset, "tides", with one example; the current one stays as it was."""
    tides = workspace.datasets.create("tides")
    workspace.examples.add_many(tides.id, [(ExampleContent(user_prompt="tide q", output="tide a"), ExampleMeta())])
    return tides


async def test_examples_shows_a_switched_dataset_in_place(home: Home) -> None:
    tides = with_tides(fill(home, 3))
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_examples(pilot)
        table = screen.query_one(ExampleTable)
        assert "'default': 3 examples" in examples_status(screen)
        await pilot.press("space")  # a selection in the old dataset does not carry over
        app.post_message(SwitchDataset(tides.id))
        await wait_until(pilot, lambda: "'tides': 1 example " in examples_status(screen))
        assert app.screen is screen and screen.query_one(ExampleTable) is table
        row = table.current()
        assert row is not None and row.cells["prompt"] == "tide q"
        assert table.total == 1 and not table.selected


async def test_export_shows_a_switched_dataset_in_place(home: Home, tmp_path: Path) -> None:
    tides = with_tides(fill(home, 3))
    app = ForgeApp(home)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await open_export(pilot)
        destination = screen.query_one("#destination", Input)
        await wait_until(pilot, lambda: "question 0" in static_text(screen, "#export-preview"))
        assert destination.value.endswith("default-openai-chat.jsonl")
        app.post_message(SwitchDataset(tides.id))
        await wait_until(pilot, lambda: "tide q" in static_text(screen, "#export-preview"))
        assert app.screen is screen and destination.value.endswith("tides-openai-chat.jsonl")
        destination.value = str(tmp_path / "out.jsonl")
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: static_text(screen, "#export-result").startswith("Wrote"))
    assert "tide a" in (tmp_path / "out.jsonl").read_text(encoding="utf-8")
    assert "answer 0" not in (tmp_path / "out.jsonl").read_text(encoding="utf-8")


def current_mark(screen: DatasetsScreen, dataset: DatasetInfo) -> str:
    return str(screen.query_one(DataTable).get_cell(str(dataset.id), "current"))


async def test_datasets_marks_a_dataset_switched_elsewhere(home: Home) -> None:
    workspace = fill(home, 1)
    default = workspace.datasets.current()
    assert default is not None
    tides = with_tides(workspace)
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        await wait_for_screen(pilot, DatasetsScreen)
        screen = app.screen
        assert isinstance(screen, DatasetsScreen) and current_mark(screen, default) == "●"
        app.post_message(SwitchDataset(tides.id))  # as the command palette does
        await wait_until(pilot, lambda: current_mark(screen, tides) == "●")
        assert current_mark(screen, default) == "" and app.screen is screen


async def test_status_lines_and_toasts_name_remapped_keys(fast_home_dir: Path) -> None:
    config = fast_home_dir / "config.toml"
    remapped = '\n[keys]\n"datasets.show_archived" = "z"\n"examples.undo" = "ctrl+z"\n"examples.delete" = "ctrl+k"\n'
    config.write_text(config.read_text(encoding="utf-8") + remapped, encoding="utf-8")
    home = open_home(fast_home_dir)
    try:
        fill(home, 3)
        app = ForgeApp(home)
        async with app.run_test(size=(100, 30)) as pilot:
            await unlock(pilot)
            await wait_for_screen(pilot, DatasetsScreen)
            assert "archived hidden (z shows them)" in static_text(app.screen, "#datasets-summary")
            await pilot.press("e")
            await wait_for_screen(pilot, ExamplesScreen)
            screen = app.screen
            assert isinstance(screen, ExamplesScreen)
            await pilot.press("space")
            assert "1 selected (^k removes them)" in examples_status(screen)
            await pilot.press("ctrl+k")
            await wait_for_screen(pilot, Confirm)
            await pilot.press("y")
            await wait_until(pilot, lambda: any("^z undoes it" in n.message for n in app._notifications))
            assert "^z undoes the last delete" in examples_status(screen)
    finally:
        home.close()
