"""The main screens in Traditional Chinese at 80×24, in the 256-colour palette (as over SSH): Datasets,
Templates, Audition with cards, Examples, Export and Jobs. Each is a snapshot, every text on it is
readable, and no one-line label needs more cells than it has (wide characters take two)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from textual.pilot import Pilot
from textual.screen import Screen

from forge_tui import i18n
from forge_tui.services.home import Home
from forge_tui.store import examples as example_rows
from forge_tui.ui.screens.datasets import DatasetsScreen
from forge_tui.ui.screens.examples import ExamplesScreen
from forge_tui.ui.screens.export import ExportScreen
from forge_tui.ui.screens.jobs import JobsScreen
from forge_tui.ui.screens.templates import TemplatesScreen
from tests.fake_ollama import FakeOllama
from tests.ui.helpers import add_examples, at_datasets, audition_snapshot, open_screen, prepare_backend, wait_until
from tests.ui.test_256_colours import EightBitApp, unreadable
from tests.ui.test_zh_tw_screens import clipped

SCREENS: dict[str, tuple[str, type[Screen[Any]]]] = {
    "datasets": ("", DatasetsScreen),
    "templates": ("t", TemplatesScreen),
    "examples": ("e", ExamplesScreen),
    "export": ("x", ExportScreen),
    "jobs": ("b", JobsScreen),
}
FIXED = "2026-11-23 09:30:00.000000"


def stock(home: Home, fake: FakeOllama, monkeypatch: pytest.MonkeyPatch) -> None:
    """alice with 12 examples in her dataset, every date fixed, the fake as her model server."""
    monkeypatch.setattr(example_rows, "utcnow", lambda: datetime(2026, 11, 23, 9, 30, tzinfo=UTC))
    prepare_backend(home, fake)
    add_examples(home, 12)
    with home.engine.begin() as connection:
        connection.execute(text("UPDATE dataset SET created_at = :at"), {"at": FIXED})
        connection.execute(text("UPDATE template SET created_at = :at, updated_at = :at"), {"at": FIXED})


def on_screen(name: str) -> Any:
    key, kind = SCREENS[name]

    async def run_before(pilot: Pilot[None]) -> None:
        if key:
            await open_screen(pilot, key, kind)
        else:
            await at_datasets(pilot)
        await pilot.pause(0.3)
        pilot.app.clear_notifications()
        await pilot.pause(0.2)

    return run_before


@pytest.mark.parametrize("name", [*SCREENS, "audition"])
def test_snapshot_zh_tw_80x24(
    home: Home, fake: FakeOllama, monkeypatch: pytest.MonkeyPatch, snap_compare: Any, name: str
) -> None:
    if name == "audition":
        _, settle = audition_snapshot(home, fake, monkeypatch, finished=True)
    else:
        stock(home, fake, monkeypatch)
        settle = on_screen(name)
    i18n.set_language("zh_TW")
    found: dict[str, list[str]] = {}

    async def run_before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await wait_until(pilot, lambda: not pilot.app.screen.is_modal)
        app = pilot.app
        assert isinstance(app, EightBitApp)
        found["unreadable"] = unreadable(app)
        found["cut off"] = clipped(app)

    assert snap_compare(EightBitApp(home), terminal_size=(80, 24), run_before=run_before)
    assert found == {"unreadable": [], "cut off": []}
