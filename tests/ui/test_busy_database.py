"""Another process keeps the database busy (a real OS process holds SQLite's write lock): the app says
so in a sentence where the change was asked for, and keeps running."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from forge_tui.services.home import Home, open_home
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.common import Confirm
from forge_tui.ui.screens.datasets import DatasetsScreen
from forge_tui.ui.screens.examples import ExamplesScreen
from forge_tui.ui.screens.unlock import UnlockScreen
from tests.conftest import prepare_home_dir
from tests.lock_holder import write_lock_held
from tests.ui.helpers import (
    add_examples,
    error_text,
    examples_status,
    make_user,
    open_examples,
    outputs,
    unlock,
    wait_for_screen,
    wait_until,
)

pytestmark = pytest.mark.slow  # starts a process that holds the lock

BUSY = "Another forge-tui (or another program) kept the database busy for over 2 s"
NOTICE = "Another forge-tui is writing to the database; retrying…"


@pytest.fixture
def busy_home(tmp_path: Path) -> Iterator[Home]:
    """alice's data directory, where a change waits at most two seconds for another writer."""
    path = prepare_home_dir(tmp_path / "home")
    with (path / "config.toml").open("a", encoding="utf-8") as config:
        config.write("\n[database]\nbusy_wait_seconds = 2\n")
    home = open_home(path)
    make_user(home)
    try:
        yield home
    finally:
        home.close()


def toasts(pilot: Pilot[None]) -> list[str]:
    return [str(n.message) for n in pilot.app._notifications]


async def test_unlock_while_another_process_writes_says_so_and_works_after(busy_home: Home) -> None:
    app = ForgeApp(busy_home)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, UnlockScreen)
        with write_lock_held(busy_home.db_path):
            await unlock(pilot)  # unlocking writes a login attempt
            await wait_until(pilot, lambda: error_text(app, "#unlock-error").startswith(BUSY))
        assert NOTICE in toasts(pilot)
        assert isinstance(app.screen, UnlockScreen) and app.is_running
        await unlock(pilot)
        await wait_for_screen(pilot, DatasetsScreen)


async def test_a_delete_that_finds_the_database_busy_is_a_toast_and_deletes_nothing(busy_home: Home) -> None:
    workspace = add_examples(busy_home, 3)
    app = ForgeApp(busy_home)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_examples(pilot)
        await pilot.press("space")
        await pilot.press("delete")
        await wait_for_screen(pilot, Confirm)
        with write_lock_held(busy_home.db_path):
            await pilot.press("y")
            await wait_until(pilot, lambda: any(t.startswith(BUSY) for t in toasts(pilot)))
        assert app.is_running
        await wait_for_screen(pilot, ExamplesScreen)
        assert "3 examples" in examples_status(screen)
    assert outputs(workspace) == ["answer 0", "answer 1", "answer 2"]
