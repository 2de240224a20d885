"""The first screens in Traditional Chinese at 80×24: snapshots in the 256-colour palette (as over SSH),
every text readable, and nothing cut off (wide characters take two cells)."""

from __future__ import annotations

from typing import Any

import pytest
from rich.cells import cell_len
from textual.pilot import Pilot
from textual.widget import Widget

from forge_tui import i18n
from forge_tui.services.home import Home
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.localized import TLabel, TStatic
from forge_tui.ui.screens.first_run import FirstRunScreen
from forge_tui.ui.screens.unlock import UnlockScreen
from forge_tui.ui.wrap import wrap
from tests.ui.helpers import make_user, wait_for_screen
from tests.ui.test_256_colours import EightBitApp, unreadable


def clipped(app: ForgeApp) -> list[str]:
    """Labels whose text needs more lines, wrapped at their width in cells, than the widget has."""
    found = []
    for widget in app.screen.query(TLabel):
        text = str(widget.render())
        width, height = widget.content_region.width, widget.content_region.height
        if cell_len(text) > width * max(height, 1) or len(wrap(text, width)) > max(height, 1):
            found.append(f"{text!r}: {cell_len(text)} cells in {width}×{height}")
    return found


def fully_shown(widget: Widget) -> bool:
    region = widget.region
    return region.height > 0 and widget.screen.region.contains_region(region)


@pytest.mark.parametrize("screen", ["first_run", "unlock"])
async def test_readable_and_nothing_cut_off_in_zh_tw(home: Home, screen: str) -> None:
    if screen == "unlock":
        make_user(home)
    i18n.set_language("zh_TW")
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, FirstRunScreen if screen == "first_run" else UnlockScreen)
        texts = [str(w.render()) for w in app.screen.query(TLabel)]
        assert "使用者名稱" in texts
        assert unreadable(app) == []
        assert clipped(app) == []
        assert all(fully_shown(w) for w in [*app.screen.query(TLabel), *app.screen.query(TStatic)])


@pytest.mark.parametrize("screen", ["first_run", "unlock"])
def test_snapshot_zh_tw_80x24(home: Home, snap_compare: Any, screen: str) -> None:
    if screen == "unlock":
        make_user(home)
    i18n.set_language("zh_TW")

    async def settle(pilot: Pilot[None]) -> None:
        await wait_for_screen(pilot, FirstRunScreen if screen == "first_run" else UnlockScreen)

    assert snap_compare(EightBitApp(home), terminal_size=(80, 24), run_before=settle)
