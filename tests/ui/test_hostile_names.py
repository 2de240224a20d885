"""A dataset name holding markup and terminal escape sequences, stored before names refused them,
shows literally everywhere the TUI draws it: the Datasets table, the header, a toast, the palette.
And the Export screen's spreadsheet-safe switch for CSV/TSV."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

from rich.console import Console
from textual.command import CommandPalette
from textual.widgets import Checkbox, DataTable, Input, Select

from forge_tui.core.control_chars import CONTROL_CHARS
from forge_tui.core.models import ExampleContent, ExampleMeta
from forge_tui.services.accounts import AccountService
from forge_tui.services.home import Home
from forge_tui.services.workspace import Workspace
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.screens.datasets import DatasetsScreen
from tests.passwords import PASSWORD
from tests.ui.helpers import make_user, open_export, static_text, type_text, unlock, wait_for_screen, wait_until

# Markup (with a closing tag that opens nothing), a window title, a screen clear, a C1 CSI.
HOSTILE = "[bold]x[/bold] [/b] \x1b]0;PWNED\x07\x1b[2J\x9b31m"
SHOWN = "[bold]x[/bold] [/b] \\u001b]0;PWNED\\u0007\\u001b[2J\\u009b31m"


def drawn(app: ForgeApp) -> str:
    """The text the app writes to the terminal (lines joined by newlines; Textual's own cursor
    moves and styles left out)."""
    width, height = app.size
    console = Console(width=width, height=height, force_terminal=True, color_system="truecolor", legacy_windows=False)
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    assert update is not None
    return "".join("\n" if segment.control else segment.text for segment in console.render(update))


def assert_safe(app: ForgeApp) -> str:
    screen = drawn(app)
    assert not {c for c in screen if c in CONTROL_CHARS and c != "\n"}
    return screen


def store_hostile_dataset(home: Home) -> None:
    make_user(home)
    Workspace.open(home, AccountService(home).unlock("alice", PASSWORD)).datasets.create("tides")
    with sqlite3.connect(home.db_path) as db:
        db.execute("UPDATE dataset SET name = ? WHERE name = 'tides'", (HOSTILE,))


async def test_a_hostile_dataset_name_shows_literally(home: Home) -> None:
    store_hostile_dataset(home)
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await unlock(pilot)
        await wait_for_screen(pilot, DatasetsScreen)
        assert SHOWN in assert_safe(app)  # the table row

        await pilot.press("ctrl+p")
        await wait_for_screen(pilot, CommandPalette)
        await type_text(pilot, "switch")
        await wait_until(pilot, lambda: "Switch dataset" in drawn(app))
        assert f"Switch dataset: {SHOWN}" in assert_safe(app)
        await pilot.press("escape")
        await wait_for_screen(pilot, DatasetsScreen)

        screen = app.screen
        assert isinstance(screen, DatasetsScreen)
        row = next(i for i, d in enumerate(screen._rows) if d.name == HOSTILE)
        screen.query_one(DataTable).move_cursor(row=row)
        await pilot.press("enter")  # switch to it: the header and a toast name it
        await wait_until(pilot, lambda: app.dataset_name == HOSTILE)
        await wait_until(pilot, lambda: "Now working in" in drawn(app))
        shown = assert_safe(app)
        assert f"dataset: {SHOWN[:20]}" in shown  # the header cuts it to fit
        assert "Now working in '[bold]x[/bold] [/b]" in shown and f"{SHOWN[20:]}'." in shown  # a toast, wrapped

        await pilot.press("r")  # the rename prompt offers the name with its escapes as plain text
        await pilot.pause()
        assert app.screen.query_one(Input).value == SHOWN
        assert "Rename '[bold]x[/bold] [/b]" in assert_safe(app)


async def test_spreadsheet_safe_switch_for_csv_and_tsv(home: Home, tmp_path: Path) -> None:
    make_user(home)
    workspace = Workspace.open(home, AccountService(home).unlock("alice", PASSWORD))
    dataset = workspace.datasets.current()
    assert dataset is not None
    answers = ["=1+1", "- an item", "plain"]
    workspace.examples.add_many(
        dataset.id, [(ExampleContent(user_prompt="q", output=a), ExampleMeta()) for a in answers]
    )
    app = ForgeApp(home)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await open_export(pilot)
        switch = screen.query_one("#spreadsheet-safe", Checkbox)
        assert not switch.display  # JSONL: nothing to guard
        screen.query_one("#format", Select).value = "alpaca"
        screen.query_one("#file-type", Select).value = "csv"
        await pilot.pause()
        assert switch.display and not switch.value
        switch.value = True
        screen.query_one("#destination", Input).value = str(tmp_path / "out.csv")
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: static_text(screen, "#export-result").startswith("Wrote"))
    with (tmp_path / "out.csv").open(encoding="utf-8", newline="") as f:
        outputs = [row["output"] for row in csv.DictReader(f)]
    assert outputs == ["'=1+1", "'- an item", "plain"]
