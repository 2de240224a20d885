"""Readable in 256 colours (over SSH COLORTERM is often missing and the terminal gets the xterm-256
palette): every screen's colours are brought down to that palette as a 256-colour terminal would
show them, text must stay distinct from its background, and snapshots at 80×24 record the result."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from rich.color import Color, ColorSystem
from rich.console import Console
from rich.segment import Segment, Segments
from rich.style import Style
from textual.pilot import Pilot

from forge_tui.services.home import Home
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.help import HelpScreen
from forge_tui.ui.screens.audition import AuditionScreen
from forge_tui.ui.screens.datasets import DatasetsScreen
from forge_tui.ui.screens.examples import ExamplesScreen
from forge_tui.ui.screens.export import ExportScreen
from forge_tui.ui.screens.first_run import FirstRunScreen
from forge_tui.ui.screens.settings import SettingsScreen
from forge_tui.ui.screens.templates import TemplatesScreen
from forge_tui.ui.screens.unlock import UnlockScreen
from tests.fake_ollama import FakeOllama
from tests.ui.helpers import (
    add_examples,
    audition_snapshot,
    audition_status,
    batch_done,
    examples_status,
    fill,
    open_examples,
    prepare_backend,
    unlock,
    wait_for_screen,
    wait_until,
)

# Foreground and background closer than this (RGB distance, 0–441) cannot be read.
MIN_DISTANCE = 60.0


@cache
def eight_bit(style: Style) -> Style:
    """The style as a 256-colour terminal draws it (Rich downgrades the same way on output)."""
    color = style.color.downgrade(ColorSystem.EIGHT_BIT) if style.color else None
    bgcolor = style.bgcolor.downgrade(ColorSystem.EIGHT_BIT) if style.bgcolor else None
    return style + Style(color=color, bgcolor=bgcolor)


def screen_segments(app: ForgeApp) -> list[Segment]:
    width, height = app.size
    console = Console(width=width, height=height, force_terminal=True, color_system="truecolor",
                      file=None, legacy_windows=False, safe_box=False)  # fmt: skip
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    assert update is not None
    return [Segment(s.text, eight_bit(s.style) if s.style else None, s.control) for s in console.render(update)]


def _rgb(color: Color | None, default: tuple[int, int, int]) -> tuple[int, int, int]:
    if color is None or color.is_default:
        return default
    triplet = color.get_truecolor()
    return triplet.red, triplet.green, triplet.blue


def unreadable(app: ForgeApp) -> list[str]:
    return too_close(screen_segments(app))


def _words(text: str) -> str:
    """The text without spaces and box or block drawing (borders, bars: decoration, not reading)."""
    return "".join(c for c in text if not c.isspace() and not 0x2500 <= ord(c) <= 0x259F)


def too_close(segments: list[Segment]) -> list[str]:
    """Text whose foreground is too close to its background."""
    found = []
    for segment in segments:
        if segment.control or segment.style is None or not _words(segment.text):
            continue
        style = segment.style
        fg, bg = _rgb(style.color, (255, 255, 255)), _rgb(style.bgcolor, (0, 0, 0))
        if style.reverse:
            fg, bg = bg, fg
        distance = sum((a - b) ** 2 for a, b in zip(fg, bg, strict=True)) ** 0.5
        if distance < MIN_DISTANCE:
            found.append(f"{segment.text.strip()!r}: {fg} on {bg} ({distance:.0f})")
    return found


class EightBitApp(ForgeApp):
    """Screenshots in the 256-colour palette."""

    def export_screenshot(self, *, title: str | None = None, simplify: bool = False) -> str:
        width, height = self.size
        console = Console(width=width, height=height, file=None, force_terminal=True, color_system="256",
                          record=True, legacy_windows=False, safe_box=False)  # fmt: skip
        console.print(Segments(screen_segments(self)))
        return console.export_svg(title=title or self.title)


async def test_every_screen_is_readable_in_256_colours(home: Home, fake: FakeOllama) -> None:
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, FirstRunScreen)
        problems = {"first run": unreadable(app)}
    prepare_backend(home, fake)
    add_examples(home, 30)
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, UnlockScreen)
        problems["unlock"] = unreadable(app)
        await unlock(pilot)
        await wait_for_screen(pilot, DatasetsScreen)
        problems["datasets"] = unreadable(app)
        for key, kind in (("t", TemplatesScreen), ("e", ExamplesScreen), ("x", ExportScreen), ("s", SettingsScreen)):
            await pilot.press(key)
            await wait_for_screen(pilot, kind)
            await pilot.pause(0.2)
            problems[kind.__name__] = unreadable(app)
            await pilot.press("f1")
            await wait_for_screen(pilot, HelpScreen)
            problems[f"help on {kind.__name__}"] = unreadable(app)
            await pilot.press("escape")
            if kind is SettingsScreen:
                await pilot.press("escape")
            await pilot.pause()
        await pilot.press("g")
        await wait_for_screen(pilot, AuditionScreen)
        screen = app.screen
        assert isinstance(screen, AuditionScreen)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: batch_done(screen))
        await pilot.press("space")
        await wait_until(pilot, lambda: "1 starred" in audition_status(screen))
        problems["audition"] = unreadable(app)
    assert {name: found for name, found in problems.items() if found} == {}


def test_the_check_catches_invisible_text() -> None:
    """The check itself: text in (nearly) its background's colour is reported, after the palette."""
    segments = [
        Segment("hidden", eight_bit(Style(color="#262626", bgcolor="#303030"))),
        Segment("shown", eight_bit(Style(color="#e0e0e0", bgcolor="#303030"))),
        Segment("inverted", eight_bit(Style(color="#303030", bgcolor="#2a2a2a", reverse=True))),
    ]
    assert [line.split(":")[0] for line in too_close(segments)] == ["'hidden'", "'inverted'"]


@pytest.mark.parametrize("screen", ["first_run", "audition", "examples"])
def test_snapshot_256_colours_80x24(
    home: Home, fake: FakeOllama, monkeypatch: pytest.MonkeyPatch, snap_compare: Any, screen: str
) -> None:
    run_before: Any = None
    if screen == "audition":
        _, run_before = audition_snapshot(home, fake, monkeypatch, finished=True)
    elif screen == "examples":
        from datetime import UTC, datetime

        from forge_tui.store import examples as example_rows

        monkeypatch.setattr(example_rows, "utcnow", lambda: datetime(2026, 11, 23, 9, 30, tzinfo=UTC))
        fill(home, 40)

        async def select_one(pilot: Pilot[None]) -> None:
            screen = await open_examples(pilot)
            await pilot.press("down", "space")
            await wait_until(pilot, lambda: "1 selected" in examples_status(screen))
            pilot.app.clear_notifications()
            await pilot.pause(0.2)

        run_before = select_one
    assert snap_compare(EightBitApp(home), terminal_size=(80, 24), run_before=run_before)
