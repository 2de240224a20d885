"""What the Pilot tests share: typing, waiting (for a screen, a condition, the app's workers), alice's
account and unlocking it, and opening the screens with something in them.

Waits: `wait_for_workers` when what the test needs is the result of the app's own workers (an unlock,
a verify, a search); `wait_until` for anything else, above all for conditions that span a real server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from textual.dom import DOMNode
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, Static
from textual.worker import WorkerState

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.models import Example, ExampleContent, ExampleMeta
from forge_tui.services import audition as audition_service
from forge_tui.services.accounts import AccountService
from forge_tui.services.config import CONFIG_FILE
from forge_tui.services.home import Home
from forge_tui.services.settings import SettingsService
from forge_tui.services.workspace import Workspace
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.screens.audition import AuditionScreen
from forge_tui.ui.screens.datasets import DatasetsScreen
from forge_tui.ui.screens.examples import ExamplesScreen
from forge_tui.ui.screens.export import ExportScreen
from forge_tui.ui.screens.unlock import UnlockScreen
from tests.fake_ollama import FakeOllama
from tests.passwords import PASSWORD

# Each step builds a text of nearly 1 MB: 100,000 of them take far longer than any preview's time limit.
SLOW_TEMPLATE = "{% for i in range(100000) %}{% if 'y' * 900000 + 'y' * 90000 == 'z' %}{% endif %}{% endfor %}"

RunBefore = Callable[[Pilot[None]], Awaitable[None]]

# --- typing and reading -------------------------------------------------------------------------


async def type_text(pilot: Pilot[None], text: str) -> None:
    await pilot.press(*["space" if ch == " " else ch for ch in text])


def static_text(node: DOMNode, selector: str) -> str:
    """What the Static under `node` that `selector` names shows."""
    return str(node.query_one(selector, Static).render())


def error_text(app: ForgeApp, selector: str) -> str:
    return static_text(app.screen, selector)


# --- waiting ------------------------------------------------------------------------------------


async def wait_until(pilot: Pilot[None], condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Until condition() holds (`timeout` seconds at most), then one more repaint."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"the condition never held in {timeout:g} s")
        await pilot.pause(0.05)
    await pilot.pause(0.1)


async def wait_for_screen(pilot: Pilot[None], kind: type, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not isinstance(pilot.app.screen, kind):
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {kind.__name__}, the app shows {type(pilot.app.screen).__name__}")
        await pilot.pause(0.05)
    await pilot.pause()  # let it finish mounting and paint


async def wait_for_workers(pilot: Pilot[None], timeout: float = 10.0) -> None:
    """Until none of the app's workers is pending or running, those they start included, then a repaint.

    A worker that failed or was cancelled counts as done: the app shows its own errors."""
    app = pilot.app
    deadline = time.monotonic() + timeout
    while unfinished := [w for w in app.workers if not w.is_finished]:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"workers still running after {timeout:g} s: {[w.name for w in unfinished]}")
        running = [w for w in unfinished if w.state is WorkerState.RUNNING]
        if running:
            waiting = asyncio.ensure_future(app.workers.wait_for_complete(running))
            # Retrieved here so that a worker's failure is not logged again as an unretrieved exception.
            waiting.add_done_callback(lambda done: done.cancelled() or done.exception())
            # Not cancelled on timeout: cancelling it would cancel the app's workers it waits on.
            await asyncio.wait([waiting], timeout=left)
        await pilot.pause()
    await pilot.pause()


# --- alice's account ----------------------------------------------------------------------------


def make_user(home: Home, username: str = "alice") -> None:
    AccountService(home).create_user(username, "Alice", PASSWORD)


async def unlock(pilot: Pilot[None], password: str = PASSWORD) -> None:
    await wait_for_screen(pilot, UnlockScreen)
    await type_text(pilot, password)
    await pilot.press("enter")


def prepare_backend(home: Home, fake: FakeOllama, **settings: Any) -> None:
    """alice's account, whose model server is `fake` (with `settings` over the usual models)."""
    make_user(home)
    user = AccountService(home).get("alice")
    values = {"base_url": fake.base_url, "generation_model": "llama3.2", "paraphrase_model": "qwen3:0.6b"}
    SettingsService(home, user).save_backend(BackendSettings(**(values | settings)))


# --- examples -----------------------------------------------------------------------------------


def fill(home: Home, n: int) -> Workspace:
    """alice's account with n examples in its current dataset."""
    make_user(home)
    return add_examples(home, n)


def add_examples(home: Home, n: int) -> Workspace:
    """n examples in alice's current dataset (the account exists already)."""
    workspace = Workspace.open(home, AccountService(home).unlock("alice", PASSWORD))
    dataset = workspace.datasets.current()
    assert dataset is not None
    items = [
        (ExampleContent(user_prompt=f"question {i}", output=f"answer {i}", slots={"topic": f"t{i}"}), ExampleMeta())
        for i in range(n)
    ]
    workspace.examples.add_many(dataset.id, items)
    return workspace


def outputs(workspace: Workspace) -> list[str]:
    dataset = workspace.datasets.current()
    assert dataset is not None
    return [e.content.output for e in workspace.examples.scan(dataset.id) if isinstance(e, Example)]


ScreenT = TypeVar("ScreenT", bound=Screen[Any])


async def at_datasets(pilot: Pilot[None]) -> None:
    """Unlocks and waits for the Datasets screen, where every unlock lands."""
    await unlock(pilot)
    await wait_for_screen(pilot, DatasetsScreen)


async def open_screen(pilot: Pilot[None], key: str, kind: type[ScreenT]) -> ScreenT:
    """Unlocks, waits for Datasets, then presses `key` and waits for the screen of `kind`."""
    await at_datasets(pilot)
    await pilot.press(key)
    await wait_for_screen(pilot, kind)
    screen = pilot.app.screen
    assert isinstance(screen, kind)
    return screen


def remap_keys(home_dir: Path, keys: dict[str, str]) -> None:
    """Adds a [keys] table to the data directory's config.toml: binding id -> key."""
    config = home_dir / CONFIG_FILE
    lines = "".join(f'"{binding}" = "{key}"\n' for binding, key in keys.items())
    config.write_text(config.read_text(encoding="utf-8") + "\n[keys]\n" + lines, encoding="utf-8")


async def open_examples(pilot: Pilot[None]) -> ExamplesScreen:
    """Unlocks and opens the Examples screen."""
    return await open_screen(pilot, "e", ExamplesScreen)


def examples_status(screen: ExamplesScreen) -> str:
    return static_text(screen, "#examples-status")


# --- export -------------------------------------------------------------------------------------


async def open_export(pilot: Pilot[None]) -> ExportScreen:
    """Unlocks and opens the Export screen."""
    return await open_screen(pilot, "x", ExportScreen)


# --- audition -----------------------------------------------------------------------------------


async def open_audition(pilot: Pilot[None]) -> AuditionScreen:
    """Unlocks and opens the Audition screen, once its slots are shown."""
    await unlock(pilot)
    await wait_for_screen(pilot, DatasetsScreen)
    await pilot.press("g")
    await wait_for_screen(pilot, AuditionScreen)
    screen = pilot.app.screen
    assert isinstance(screen, AuditionScreen)
    await wait_until(pilot, lambda: screen.query(".slot-input"))
    return screen


def batch_done(screen: AuditionScreen) -> bool:
    session = screen.session
    return session is not None and bool(session.cards) and all(c.finished for c in session.cards)


def mid_stream(screen: AuditionScreen) -> bool:
    """Card 1 finished, cards 2 and 3 three pieces in (see `audition_snapshot`)."""
    cards = screen.session.cards if screen.session else []
    return len(cards) == 3 and cards[0].finished and all(len(c.parts) == 3 for c in cards[1:])


def audition_status(screen: AuditionScreen) -> str:
    return static_text(screen, "#batch-status")


def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The audition service's clock stands still (elapsed times in snapshots stay the same)."""

    class Clock:
        @staticmethod
        def monotonic() -> float:
            return 1000.0

    monkeypatch.setattr(audition_service, "time", Clock)


def audition_snapshot(
    home: Home, fake: FakeOllama, monkeypatch: pytest.MonkeyPatch, finished: bool
) -> tuple[ForgeApp, RunBefore]:
    """An app and the steps that bring it (or another ForgeApp on `home`) to a batch of seed 7 on the
    Audition screen: finished with card 1 starred, or (not `finished`) cards 2 and 3 stalled mid-stream."""
    prepare_backend(home, fake)
    frozen_clock(monkeypatch)
    if not finished:
        # Seed 7 is the paraphrase request's and card 1's: card 1 finishes, cards 2 and 3 get 3 pieces and stall.
        fake.faults_by_seed = {8: "stall", 9: "stall"}

    async def run_before(pilot: Pilot[None]) -> None:
        screen = await open_audition(pilot)
        shown = pilot.app
        assert isinstance(shown, ForgeApp)
        await wait_until(pilot, lambda: shown.backend_status == "● Ollama")
        screen.query_one("#seed", Input).value = "7"
        await pilot.press("ctrl+r")
        if finished:
            await wait_until(pilot, lambda: batch_done(screen))
            await pilot.press("space")
        else:
            await wait_until(pilot, lambda: mid_stream(screen))
        pilot.app.clear_notifications()
        await pilot.pause(0.2)

    return ForgeApp(home), run_before


def screen_text(screen: Screen[Any]) -> str:
    """Every Static's text on `screen` and every wrapped paragraph's (F1 help's), joined by spaces."""
    from textual.widgets import Static

    from forge_tui.ui.widgets.wrapped_static import WrappedStatic

    texts = [str(s.render()) for s in screen.query(Static)] + [w.text for w in screen.query(WrappedStatic)]
    return " ".join(texts)
