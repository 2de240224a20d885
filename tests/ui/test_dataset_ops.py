"""Dataset operations from the TUI at 80×24: merge/sample/split on Datasets (`o`), and copy/move of
the selected rows on Examples to a dataset picked from a list."""

from __future__ import annotations

from forge_tui.core.models import Example
from forge_tui.services.home import Home
from forge_tui.services.workspace import Workspace
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.common import Confirm
from forge_tui.ui.dialogs.dataset_ops import DatasetOpDialog
from forge_tui.ui.dialogs.pick import PickOne
from forge_tui.ui.screens.datasets import DatasetsScreen
from tests.ui.helpers import (
    at_datasets,
    examples_status,
    fill,
    open_examples,
    static_text,
    wait_for_screen,
    wait_for_workers,
    wait_until,
)

SIZE = (80, 24)


def outputs_of(workspace: Workspace, name: str) -> list[str]:
    ds = workspace.datasets.get(name)
    return [e.content.output for e in workspace.examples.scan(ds.id) if isinstance(e, Example)]


def names(workspace: Workspace) -> set[str]:
    return {d.name for d in workspace.datasets.list()}


async def test_split_from_the_datasets_screen_asks_before_replacing(home: Home) -> None:
    workspace = fill(home, 10)
    app = ForgeApp(home)
    async with app.run_test(size=SIZE) as pilot:
        await at_datasets(pilot)
        for attempt in range(2):
            await pilot.press("o")
            await wait_for_screen(pilot, PickOne)
            await pilot.press("down", "down", "enter")  # merge, sample, split
            await wait_for_screen(pilot, DatasetOpDialog)
            await pilot.press("enter")  # valid 0.1, test 0.1, seed 7 as offered
            if attempt == 1:
                await wait_for_screen(pilot, Confirm)
                await pilot.press("y")
            await wait_for_screen(pilot, DatasetsScreen)
            await wait_for_workers(pilot)
            await wait_until(pilot, lambda: {"default-train", "default-valid", "default-test"} <= names(workspace))
        assert [len(outputs_of(workspace, f"default-{p}")) for p in ("train", "valid", "test")] == [8, 1, 1]


async def test_a_bad_number_is_named_in_the_dialog(home: Home) -> None:
    workspace = fill(home, 3)
    app = ForgeApp(home)
    async with app.run_test(size=SIZE) as pilot:
        await at_datasets(pilot)
        await pilot.press("o")
        await wait_for_screen(pilot, PickOne)
        await pilot.press("down", "enter")  # sample
        await wait_for_screen(pilot, DatasetOpDialog)
        await pilot.press("end", "backspace", "backspace", "backspace", *"many", "enter")
        dialog = app.screen
        assert isinstance(dialog, DatasetOpDialog)
        await wait_until(pilot, lambda: static_text(dialog, "#op-error") == "How many must be an integer, not 'many'.")
        assert not ({"default-sample"} & names(workspace))


async def test_copy_and_move_the_selection_from_examples(home: Home) -> None:
    workspace = fill(home, 4)
    workspace.datasets.create("keep")
    app = ForgeApp(home)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_examples(pilot)
        await wait_for_workers(pilot)
        await pilot.press("space", "down", "space")  # the first two rows
        await pilot.press("C")
        await wait_for_screen(pilot, PickOne)
        await pilot.press("enter")  # the only other dataset: keep
        await wait_until(pilot, lambda: len(outputs_of(workspace, "keep")) == 2)
        await wait_for_workers(pilot)
        assert app.screen is screen
        await pilot.press("M")  # the same selection, moved now
        await wait_for_screen(pilot, PickOne)
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(outputs_of(workspace, "keep")) == 4)
        await wait_until(pilot, lambda: "'default': 2 examples" in examples_status(screen))
    assert sorted(outputs_of(workspace, "keep")) == ["answer 0", "answer 0", "answer 1", "answer 1"]
    assert outputs_of(workspace, "default") == ["answer 2", "answer 3"]
