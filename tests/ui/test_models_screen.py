"""The Models screen (`m`) at 80×24 against the fake Ollama: the table of every endpoint's models with what
is loaded, details from /api/show, pull with per-layer progress and cancel, a pull that fails, delete with
confirmation, copy, unload, "use as default", and the picture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from textual.pilot import Pilot
from textual.widgets import DataTable, ProgressBar, Static

from forge_tui import i18n
from forge_tui.core.backend_settings import BackendSettings
from forge_tui.services.accounts import AccountService
from forge_tui.services.deploy import DeployService, Run
from forge_tui.services.home import Home
from forge_tui.services.settings import SettingsService
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.commands import SCREEN_COMMANDS
from forge_tui.ui.dialogs.common import Confirm, TextPrompt
from forge_tui.ui.dialogs.model_pull import PullDialog
from forge_tui.ui.dialogs.pick import PickOne
from forge_tui.ui.screens.models import ModelsScreen
from forge_tui.ui.widgets.model_details import ModelDetailsPane
from tests.adapters import peft_adapter
from tests.fake_ollama import FakeOllama
from tests.ui.helpers import open_screen, prepare_backend, static_text, type_text, wait_for_screen, wait_until

SIZE = (80, 24)


def names(screen: ModelsScreen) -> list[str]:
    return [r.name for r in screen._rows]


def details(screen: ModelsScreen) -> str:
    return static_text(screen.query_one(ModelDetailsPane), "#model-details-text")


async def opened(pilot: Pilot[None]) -> ModelsScreen:
    screen = await open_screen(pilot, "m", ModelsScreen)
    await wait_until(pilot, lambda: not screen._loading and screen.query_one(ModelDetailsPane).details is not None)
    return screen


async def test_the_table_shows_every_model_what_is_loaded_and_the_details(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake)
    httpx.post(f"{fake.base_url}/api/generate", json={"model": "qwen3:0.6b"})
    assert "show_models" in {action for _title, _about, action in SCREEN_COMMANDS}
    app = ForgeApp(home)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        assert names(screen) == ["llama3.2:latest", "qwen3:0.6b"]
        assert "2 models · 1 loaded" in static_text(screen, "#models-summary")
        assert "llama3.2:latest on default" in details(screen) and "tools" in details(screen)
        await pilot.press("down")
        await wait_until(pilot, lambda: "thinking" in details(screen))
        table = screen.query_one(DataTable)
        row = [str(cell) for cell in table.get_row_at(1)]
        assert row[6] == "522.7 MB"  # in VRAM
        assert row[7] == "qwen3"  # family
        assert row[8][:2] == "20" and len(row[8]) == 10  # modified, as a date


async def test_a_pull_shows_each_layer_and_the_model_joins_the_table(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake)
    fake.pull_delay, fake.pull_steps = 0.06, 3
    app = ForgeApp(home)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        await pilot.press("n")
        await wait_for_screen(pilot, TextPrompt)
        await type_text(pilot, "gemma3:270m")
        await pilot.press("enter")
        await wait_for_screen(pilot, PullDialog)
        dialog = app.screen
        assert isinstance(dialog, PullDialog)
        await wait_until(pilot, lambda: len(dialog.query(ProgressBar)) >= 2)
        first = dialog.query(".layer-bytes").first(Static)
        shown = str(first.render())
        assert "291.6 MB of 291.6 MB" in shown and shown.endswith("/s")  # bytes and rate of the first layer
        assert "gemma3:270m" in static_text(dialog, "#pull-title") and "esc cancels the pull." in static_text(
            dialog, "#pull-hint"
        )
        await wait_for_screen(pilot, ModelsScreen)
        await wait_until(pilot, lambda: "gemma3:270m" in names(screen))
        assert len(dialog.board.layers) == 4 and dialog.board.done
        assert screen.selected() is not None and screen.selected().name == "gemma3:270m"  # type: ignore[union-attr]


async def test_a_pull_is_cancelled_with_escape_and_a_bad_name_says_why(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake)
    fake.pull_delay, fake.pull_steps = 0.05, 50
    app = ForgeApp(home)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        await pilot.press("n")
        await wait_for_screen(pilot, TextPrompt)
        await type_text(pilot, "llava:7b")
        await pilot.press("enter")
        await wait_for_screen(pilot, PullDialog)
        await wait_until(pilot, lambda: len(app.screen.query(ProgressBar)) >= 1)
        await pilot.press("escape")
        await wait_for_screen(pilot, ModelsScreen)
        await wait_until(pilot, lambda: fake.pulls == [("llava:7b", "cancelled")])
        assert "llava:7b" not in names(screen)
        await pilot.press("n")
        await wait_for_screen(pilot, TextPrompt)
        await type_text(pilot, "nosuch")
        await pilot.press("enter")
        await wait_for_screen(pilot, ModelsScreen)
        await wait_until(pilot, lambda: any("has no model 'nosuch'" in n.message for n in app._notifications))


async def test_delete_asks_copy_unload_and_use_as_default(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake)
    httpx.post(f"{fake.base_url}/api/generate", json={"model": "llama3.2:latest"})
    app = ForgeApp(home)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        await pilot.press("c")
        await wait_for_screen(pilot, TextPrompt)
        await pilot.press(*["backspace"] * 20)
        await type_text(pilot, "mine:v1")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "mine:v1" in names(screen))
        assert screen.selected().name == "mine:v1"  # type: ignore[union-attr]
        await pilot.press("delete")
        await wait_for_screen(pilot, Confirm)
        await pilot.press("n")  # keep it
        await wait_for_screen(pilot, ModelsScreen)
        assert fake.model("mine:v1") is not None
        await pilot.press("delete")
        await wait_for_screen(pilot, Confirm)
        await pilot.press("y")
        await wait_until(pilot, lambda: "mine:v1" not in names(screen) and not screen._loading)
        assert fake.model("mine:v1") is None
        screen.query_one(DataTable).move_cursor(row=0)
        await wait_until(pilot, lambda: screen.selected() is not None and screen.selected().loaded)  # type: ignore[union-attr]
        await pilot.press("u")
        await wait_until(pilot, lambda: not any(r.loaded for r in screen._rows) and not screen._loading)
        assert fake.keep_alive_requests[-1].unload
        await pilot.press("a")
        await wait_for_screen(pilot, PickOne)
        await pilot.press("down", "down", "enter")  # judge
        await wait_for_screen(pilot, ModelsScreen)
        await wait_until(pilot, lambda: any("default judge model" in n.message for n in app._notifications))
    saved = SettingsService(home, AccountService(home).get("alice")).backend()
    assert saved.judge_model == "llama3.2:latest"


def test_snapshot(home: Home, fake: FakeOllama, snap_compare: Any) -> None:
    prepare_backend(home, fake)
    httpx.post(f"{fake.base_url}/api/generate", json={"model": "qwen3:0.6b", "keep_alive": -1})

    async def run_before(pilot: Pilot[None]) -> None:
        await opened(pilot)
        await wait_until(pilot, lambda: pilot.app.backend_status == "● Ollama")  # type: ignore[attr-defined]
        pilot.app.clear_notifications()
        await pilot.pause(0.2)

    assert snap_compare(ForgeApp(home), terminal_size=SIZE, run_before=run_before)


async def test_in_zh_tw_the_screen_and_the_pull_dialog_are_translated(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake)
    fake.pull_delay, fake.pull_steps = 0.05, 20
    i18n.set_language("zh_TW")
    app = ForgeApp(home)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        table = screen.query_one(DataTable)
        assert [str(c.label) for c in table.columns.values()][:2] == ["模型", "端點"]
        assert "2 個模型 · 0 個已載入" in static_text(screen, "#models-summary")
        assert "llama3.2:latest" in details(screen) and "脈絡長度：131072" in details(screen)
        await pilot.press("n")
        await wait_for_screen(pilot, TextPrompt)
        await type_text(pilot, "llava:7b")
        await pilot.press("enter")
        await wait_for_screen(pilot, PullDialog)
        await wait_until(pilot, lambda: len(app.screen.query(ProgressBar)) >= 1)
        assert "正在把「llava:7b」下載到「default」" in static_text(app.screen, "#pull-title")
        assert " / " in str(app.screen.query(".layer-bytes").first(Static).render())
        await pilot.press("escape")
        await wait_for_screen(pilot, ModelsScreen)
        await wait_until(pilot, lambda: any("已取消下載「llava:7b」" in n.message for n in app._notifications))


async def test_a_deployed_model_shows_after_refresh(home: Home, fake: FakeOllama, tmp_path: Path) -> None:
    prepare_backend(home, fake)
    deployer = DeployService(BackendSettings(kind="ollama", base_url=fake.base_url))
    plan = deployer.plan(Run(peft_adapter(tmp_path / "output")), "tuned", base="llama3.2")
    app = ForgeApp(home)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        assert "tuned:latest" not in names(screen)
        async for _step in deployer.deploy(plan):
            pass
        await pilot.press("r")
        await wait_until(pilot, lambda: "tuned:latest" in names(screen))
        table = screen.query_one(DataTable)
        table.move_cursor(row=names(screen).index("tuned:latest"))
        await wait_until(pilot, lambda: "tuned:latest on default" in details(screen))
