"""ctrl+p lists the app's commands: go to a screen, switch dataset, new template, lock."""

from __future__ import annotations

from typing import Any

from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input

from forge_tui.core.judging import Judgement
from forge_tui.core.models import ExampleContent, ExampleMeta, ReviewState
from forge_tui.services.accounts import AccountService
from forge_tui.services.backup import DatabaseSummary
from forge_tui.services.home import Home
from forge_tui.services.workspace import Workspace
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.common import TextPrompt
from forge_tui.ui.screens.datasets import DatasetsScreen
from forge_tui.ui.screens.examples import ExamplesScreen
from forge_tui.ui.screens.unlock import UnlockScreen
from tests.passwords import PASSWORD
from tests.ui.helpers import at_datasets, make_user, remap_keys, type_text, unlock, wait_for_screen, wait_until


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


async def palette_lists(pilot: Pilot[None], text: str) -> list[str]:
    """The titles the palette lists for `text`; the palette is closed again."""
    await pilot.press("ctrl+p")
    await wait_for_screen(pilot, CommandPalette)
    await type_text(pilot, text)
    commands = pilot.app.screen.query_one(CommandList)
    await wait_until(pilot, lambda: commands.option_count > 0)
    titles = [str(commands.get_option_at_index(i).prompt).split("\n")[0] for i in range(commands.option_count)]
    await pilot.press("escape")
    return titles


async def test_the_dataset_list_follows_creates_and_switches_at_once(home: Home) -> None:
    make_user(home)
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        await wait_for_screen(pilot, DatasetsScreen)
        # The list is read here, when the palette first asks, and again after each change.
        assert not [t for t in await palette_lists(pilot, "dataset") if t.startswith("Switch dataset")]
        await pilot.press("n")
        await wait_for_screen(pilot, TextPrompt)
        await type_text(pilot, "tides")
        await pilot.press("enter")
        await wait_for_screen(pilot, DatasetsScreen)
        assert "Switch dataset: tides" in await palette_lists(pilot, "switch dataset")
        await run_command(pilot, "switch dataset tides")
        await wait_until(pilot, lambda: app.dataset_name == "tides")
        assert await palette_lists(pilot, "switch dataset") == ["Switch dataset: default"]
        # Locked, the palette offers none of the workspace's commands.
        await pilot.press("ctrl+l")
        await wait_for_screen(pilot, UnlockScreen)
        titles = await palette_lists(pilot, "s")
        assert not [t for t in titles if t.startswith(("Switch dataset", "Go to", "Lock"))], titles


async def test_keys_remapped_in_config_and_theme_remembered(fast_home_dir: Any) -> None:
    from forge_tui.services.home import open_home
    from forge_tui.ui.dialogs.help import HelpScreen

    remap_keys(fast_home_dir, {"app.examples": "f5"})
    home = open_home(fast_home_dir)
    make_user(home)
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        await at_datasets(pilot)
        await pilot.press("e")  # no longer bound
        await pilot.pause(0.2)
        assert isinstance(app.screen, DatasetsScreen)
        await pilot.press("f5")
        await wait_for_screen(pilot, ExamplesScreen)
        await pilot.press("f1")
        await wait_for_screen(pilot, HelpScreen)
        assert "[examples.search]" in str(app.screen.query_one(".help-keys").render())
        app.theme = "nord"
        await pilot.pause(0.2)
    again = ForgeApp(home)
    async with again.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        await wait_for_screen(pilot, DatasetsScreen)
        assert again.theme == "nord"
    home.close()


async def test_the_database_is_backed_up_from_the_palette(home: Home, tmp_path: Any) -> None:
    make_user(home)
    target = tmp_path / "copy.db"
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        await wait_for_screen(pilot, DatasetsScreen)
        await run_command(pilot, "back up the database")
        await wait_for_screen(pilot, TextPrompt)
        field = app.screen.query_one(Input)
        assert field.value.endswith(".db")  # a dated file in the home folder, offered
        field.value = str(target)
        await pilot.press("enter")
        await wait_until(pilot, lambda: any(n.title == "Backed up" for n in app._notifications), timeout=20)
        (told,) = [n for n in app._notifications if n.title == "Backed up"]
        assert "alice" in told.message and str(target) in told.message
        await run_command(pilot, "back up the database")
        await wait_for_screen(pilot, TextPrompt)
        app.screen.query_one(Input).value = str(home.db_path)
        await pilot.press("enter")
        await wait_until(pilot, lambda: any(n.title == "Cannot back up" for n in app._notifications), timeout=20)
    assert DatabaseSummary.of(target).accounts == ["alice"]


async def test_judge_calibration_from_the_palette(home: Home) -> None:
    make_user(home)
    workspace = Workspace.open(home, AccountService(home).unlock("alice", PASSWORD))
    dataset = workspace.datasets.current()
    assert dataset is not None
    decided = [(ReviewState.ACCEPTED, 9.0), (ReviewState.ACCEPTED, 8.0), (ReviewState.REJECTED, 3.0)]
    ids = workspace.examples.add_many(
        dataset.id,
        [(ExampleContent(user_prompt=f"Q{i}", output="A"), ExampleMeta(review=r)) for i, (r, _) in enumerate(decided)],
    )
    judged = [Judgement(rubric="overall", score=s, reason="r") for _, s in decided]
    workspace.examples.set_judgements(dataset.id, list(zip(ids, judged, strict=True)))
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        await wait_for_screen(pilot, DatasetsScreen)
        await run_command(pilot, "judge calibration")
        await wait_until(pilot, lambda: any(n.title.startswith("Judge calibration") for n in app._notifications))
        (told,) = [n for n in app._notifications if n.title.startswith("Judge calibration")]
        assert (
            "Over 3 examples (2 kept, 1 turned down) the judge agrees with you on 100% at threshold 7" in told.message
        )
