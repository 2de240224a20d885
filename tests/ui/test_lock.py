"""Pilot test: after ctrl+l and unlock, every screen works on the unlocked session (the screens and
widgets opened before the lock keep the services they were given)."""

from __future__ import annotations

from textual.widgets import Static

from forge_tui.services.home import Home
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.example_detail import ExampleDetail
from forge_tui.ui.screens.audition import AuditionScreen
from forge_tui.ui.screens.datasets import DatasetsScreen
from forge_tui.ui.screens.examples import ExamplesScreen
from forge_tui.ui.screens.export import ExportScreen
from forge_tui.ui.screens.settings import SettingsScreen
from forge_tui.ui.screens.templates import TemplatesScreen
from forge_tui.ui.screens.unlock import UnlockScreen
from forge_tui.ui.widgets.example_table import ExampleTable
from tests.fake_ollama import FakeOllama
from tests.ui.helpers import (
    add_examples,
    audition_status,
    batch_done,
    open_examples,
    outputs,
    prepare_backend,
    unlock,
    wait_for_screen,
    wait_until,
)


async def test_lock_unlock_then_every_screen_works_on_the_new_session(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake)
    workspace = add_examples(home, 60)
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_examples(pilot)
        await pilot.press("ctrl+l")
        await unlock(pilot)
        await wait_for_screen(pilot, ExamplesScreen)
        assert app.screen is screen

        # The table opened before the lock reads pages it has not seen yet.
        table = screen.query_one(ExampleTable)
        for _ in range(5):
            await pilot.press("pagedown")
        assert table.cursor > 30
        row = table.current()
        assert row is not None and row.cells["answer"] == f"answer {table.cursor}"
        await pilot.press("enter")
        await wait_for_screen(pilot, ExampleDetail)
        await pilot.press("escape")
        await wait_for_screen(pilot, ExamplesScreen)

        await pilot.press("d")
        await wait_for_screen(pilot, DatasetsScreen)
        await pilot.press("v")
        await wait_until(pilot, lambda: any(n.title == "Verified" for n in app._notifications))

        await pilot.press("x")
        await wait_for_screen(pilot, ExportScreen)
        await wait_until(pilot, lambda: "answer 0" in str(app.screen.query_one("#export-preview", Static).render()))

        await pilot.press("t")
        await wait_for_screen(pilot, TemplatesScreen)
        await pilot.press("s")
        await wait_for_screen(pilot, SettingsScreen)
        await pilot.press("escape")

        await pilot.press("g")
        await wait_for_screen(pilot, AuditionScreen)
        audition = app.screen
        assert isinstance(audition, AuditionScreen)
        await wait_until(pilot, lambda: audition.query(".slot-input"))
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: batch_done(audition))
        await pilot.press("space")
        await wait_until(pilot, lambda: "1 starred" in audition_status(audition))
        await pilot.press("ctrl+s")  # add the starred card to the dataset
        await wait_until(pilot, lambda: len(outputs(workspace)) == 61)

        await pilot.press("e")
        await wait_for_screen(pilot, ExamplesScreen)
        await pilot.press("end")
        table = app.screen.query_one(ExampleTable)
        assert table.total == 61 and table.cursor == 60
        assert not isinstance(app.screen, UnlockScreen) and app.is_running
