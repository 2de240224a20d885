"""Keys remapped in config.toml show as remapped wherever a key is named: F1, the footer, the command
palette and the screens' status lines."""

from __future__ import annotations

import socket
from pathlib import Path

from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static
from textual.widgets._footer import FooterKey

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.services.accounts import AccountService
from forge_tui.services.home import open_home
from forge_tui.services.settings import SettingsService
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.help import HelpScreen
from forge_tui.ui.screens.datasets import DatasetsScreen
from forge_tui.ui.screens.settings import SettingsScreen
from tests.ui.helpers import (
    at_datasets,
    make_user,
    remap_keys,
    screen_text,
    type_text,
    unlock,
    wait_for_screen,
    wait_until,
)

REMAPPED = {"app.audition": "f6", "app.lock": "ctrl+b", "settings.refresh": "f7"}
# What each remapped binding does, and its key as the footer writes it.
SHOWN = {"Audition": "f6", "Lock": "^b", "Refresh models": "f7"}


def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


async def palette_entries(pilot: Pilot[None], query: str) -> list[str]:
    """What the open palette lists for `query` (title and description of each command)."""
    palette = pilot.app.screen
    assert isinstance(palette, CommandPalette)
    palette.query_one(Input).value = ""
    await type_text(pilot, query)
    commands = palette.query_one(CommandList)
    await wait_until(pilot, lambda: commands.option_count > 0)
    return [str(commands.get_option_at_index(i).prompt) for i in range(commands.option_count)]


async def test_remapped_keys_show_in_help_footer_palette_and_status_line(fast_home_dir: Path) -> None:
    remap_keys(fast_home_dir, REMAPPED)
    home = open_home(fast_home_dir)
    make_user(home)
    # A server that does not answer: the model lists stay empty and their prompt names the refresh key.
    SettingsService(home, AccountService(home).get("alice")).save_backend(BackendSettings(base_url=dead_url()))
    app = ForgeApp(home)
    async with app.run_test(size=(120, 30)) as pilot:
        await unlock(pilot)
        await wait_for_screen(pilot, DatasetsScreen)
        await pilot.press("s")
        await wait_for_screen(pilot, SettingsScreen)

        assert app.screen.query_one("#generation-model", Select).prompt == "(press f7 to load the list)"

        footer = {key.description: key.key_display for key in app.screen.query(FooterKey).results(FooterKey)}
        assert {what: footer.get(what) for what in SHOWN} == SHOWN

        await pilot.press("f1")
        await wait_for_screen(pilot, HelpScreen)
        rows = str(app.screen.query_one(".help-keys", Static).render()).splitlines()
        for what, key in SHOWN.items():
            assert any(row.split()[:2] == [key, what.split()[0]] for row in rows), (what, rows)
        await pilot.press("escape")
        await wait_for_screen(pilot, SettingsScreen)

        await pilot.press("ctrl+p")
        await wait_for_screen(pilot, CommandPalette)
        entries = await palette_entries(pilot, "go to audition")
        assert "Go to Audition\nGenerate answers and keep the good ones (f6)" in entries
        entries = await palette_entries(pilot, "lock")
        assert "Lock\nHide everything until the password is given again (^b)" in entries
    home.close()


async def test_f1_on_examples_and_export_names_their_keys_as_remapped(fast_home_dir: Path) -> None:
    remap_keys(
        fast_home_dir, {"examples.search": "f9", "table.open": "f8", "export.run": "f4", "examples.clear": "f10"}
    )
    home = open_home(fast_home_dir)
    make_user(home)
    app = ForgeApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        await at_datasets(pilot)
        shown: list[str] = []
        for screen_key in ("e", "x"):
            await pilot.press(screen_key)
            await wait_until(pilot, lambda: not isinstance(app.screen, DatasetsScreen))
            if screen_key == "e":
                assert "f10 to go back" in app.screen.query_one("#examples-search", Input).placeholder
            await pilot.press("f1")
            await wait_for_screen(pilot, HelpScreen)
            shown.append(screen_text(app.screen))
            await pilot.press("escape")
            await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))
            await pilot.press("d")
            await wait_for_screen(pilot, DatasetsScreen)
    examples, export = shown
    assert "f8 opens one" in examples and "f9 searches every field" in examples
    assert "/ searches" not in examples and "Enter opens" not in examples
    assert "f4 exports" in export and "ctrl+e exports" not in export
