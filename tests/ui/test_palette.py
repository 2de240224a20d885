"""ctrl+p lists the app's commands: go to a screen, switch dataset, new template, lock."""

from __future__ import annotations

from textual.command import CommandPalette
from textual.pilot import Pilot

from forge_tui.services.accounts import AccountService
from forge_tui.services.home import Home
from forge_tui.services.workspace import Workspace
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.screens.datasets import DatasetsScreen
from forge_tui.ui.screens.examples import ExamplesScreen
from forge_tui.ui.widgets.dialogs import TextPrompt
from tests.ui.test_app import PASSWORD, make_user, type_text, unlock, wait_for_screen, wait_until


async def run_command(pilot: Pilot[None], text: str) -> None:
    await pilot.press("ctrl+p")
    await wait_for_screen(pilot, CommandPalette)
    await type_text(pilot, text)
    await pilot.pause(0.3)
    await pilot.press("enter")


async def test_switch_dataset_and_go_to_screens(home: Home) -> None:
    make_user(home)
    workspace = Workspace.open(home, AccountService(home).unlock("alice", PASSWORD))
    workspace.datasets.create("tides")
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        await wait_for_screen(pilot, DatasetsScreen)
        await run_command(pilot, "go to examples")
        await wait_for_screen(pilot, ExamplesScreen)
        await run_command(pilot, "switch dataset tides")
        await wait_until(pilot, lambda: app.dataset_name == "tides")
        await wait_for_screen(pilot, ExamplesScreen)
        screen = app.screen
        assert isinstance(screen, ExamplesScreen) and screen.dataset_name == "tides"
        await run_command(pilot, "new template")
        await wait_for_screen(pilot, TextPrompt)
    current = Workspace.open(home, AccountService(home).unlock("alice", PASSWORD)).datasets.current()
    assert current is not None and current.name == "tides"
