"""Pilot tests of the Templates screen, and snapshots at 80×24 and 120×40."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Checkbox, Collapsible, DataTable, Input, Label, OptionList, Static, TextArea
from textual.worker import Worker

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.template_preview import preview_text
from forge_tui.services.accounts import AccountService
from forge_tui.services.home import Home, open_home
from forge_tui.services.settings import SettingsService
from forge_tui.services.templates import TemplateService
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.common import Confirm, TextPrompt
from forge_tui.ui.dialogs.pick import PickOne
from forge_tui.ui.dialogs.slot_editor import SlotEditor
from forge_tui.ui.messages import TemplateOpened
from forge_tui.ui.screens.audition import AuditionScreen
from forge_tui.ui.screens.datasets import DatasetsScreen
from forge_tui.ui.screens.templates import TemplatesScreen
from forge_tui.ui.widgets import template_editor
from forge_tui.ui.widgets.template_editor import TemplateEditor
from forge_tui.ui.widgets.template_list import TemplateList
from tests.fake_ollama import FakeOllama
from tests.passwords import PASSWORD
from tests.ui.helpers import SLOW_TEMPLATE, make_user, open_screen, type_text, unlock, wait_for_screen, wait_until


def prepare(home: Home, fake: FakeOllama) -> TemplateService:
    make_user(home)
    unlocked = AccountService(home).unlock("alice", PASSWORD)
    SettingsService(home, unlocked.user).save_backend(BackendSettings(base_url=fake.base_url))
    return TemplateService(home, unlocked)


async def open_templates(pilot: Pilot[None], filtered: str | None = None) -> TemplatesScreen:
    """Opens Templates; with `filtered`, types it into the list's filter and focuses the list."""
    screen = await open_screen(pilot, "t", TemplatesScreen)
    if filtered is not None:
        screen.query_one("#templates-filter", Input).value = filtered
        await pilot.pause()
        screen.query_one(TemplateList).focus()
    return screen


def preview(screen: TemplatesScreen) -> str:
    return str(screen.query_one("#preview", Static).render())


async def preview_rendered(pilot: Pilot[None]) -> None:
    """Until the preview that runs in a worker has finished."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete([w for w in pilot.app.workers if w.group == "preview"])
    await pilot.pause()


def names(screen: TemplatesScreen) -> list[str]:
    return [t.name for t in screen.query_one(TemplateList).templates]


async def test_create_insert_slot_preview_save_and_reopen(home: Home, fake: FakeOllama) -> None:
    templates = prepare(home, fake)
    app = ForgeApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_templates(pilot)
        assert "Q&A pair on a topic" in " ".join(names(screen))  # starters are there on first run

        await pilot.press("n")
        await wait_for_screen(pilot, TextPrompt)
        await type_text(pilot, "Haiku")
        await pilot.press("enter")
        await wait_for_screen(pilot, TemplatesScreen)
        assert screen.current is not None and screen.current.name == "Haiku"
        assert screen.query_one("#user-prompt", TextArea).has_focus

        await type_text(pilot, "Write a haiku about ")
        await pilot.press("f3")
        await wait_for_screen(pilot, PickOne)
        await pilot.press("enter")  # the only choice: a new slot
        await wait_for_screen(pilot, SlotEditor)
        editor = app.screen
        editor.query_one("#slot-name", Input).value = "season"
        editor.query_one("#slot-default", Input).value = "autumn"
        editor.query_one("#slot-values", TextArea).load_text("spring | 2\nwinter")
        await pilot.press("ctrl+s")
        await wait_for_screen(pilot, TemplatesScreen)
        assert screen.query_one("#user-prompt", TextArea).text == "Write a haiku about {{ season }}"
        await preview_rendered(pilot)
        assert "Write a haiku about autumn" in preview(screen)
        assert "unsaved" in str(screen.query_one("#template-title", Static).render())

        await type_text(pilot, " in {{ place }}")
        await preview_rendered(pilot)
        assert "<place>" in preview(screen)
        assert "'place' is used in the prompt but not defined" in str(screen.query_one("#slot-warnings").render())
        await type_text(pilot, " {{ broken")
        await pilot.pause()
        assert preview(screen).startswith("✗ Template error")
        for _ in range(" {{ broken".__len__()):
            await pilot.press("backspace")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "unsaved" not in str(screen.query_one("#template-title", Static).render())

    saved = templates.get("Haiku")
    assert saved.user_prompt == "Write a haiku about {{ season }} in {{ place }}"
    assert [(s.name, s.default, [(v.value, v.weight) for v in s.values]) for s in saved.slots] == [
        ("season", "autumn", [("spring", 2.0), ("winter", 1.0)])
    ]

    app = ForgeApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_templates(pilot)
        screen.query_one("#templates-filter", Input).value = "haik"
        await pilot.pause()
        assert names(screen) == ["Haiku"]
        assert screen.current is not None and screen.current.name == "Haiku"
        assert screen.query_one("#slots-table", DataTable).row_count == 1


async def test_system_prompt_history_keeps_the_last_ten_distinct(home: Home, fake: FakeOllama) -> None:
    templates = prepare(home, fake)
    made = templates.create("History test", user_prompt="Hi")
    assert made.id is not None
    for i in range(12):
        templates.save_system_prompt(made.id, f"version {i}")
    templates.save_system_prompt(made.id, "version 5")  # saved again: moves to the top
    app = ForgeApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_templates(pilot)
        screen.query_one("#templates-filter", Input).value = "History"
        await pilot.pause()
        assert screen.current is not None and screen.current.system_prompt == "version 5"
        assert screen.query_one("#system-box", Collapsible).collapsed  # collapsed by default

        await pilot.press("f6")
        await wait_for_screen(pilot, PickOne)
        options = app.screen.query_one(OptionList)
        shown = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert len(shown) == 10
        assert [s.split("  ", 1)[1] for s in shown] == [
            "version 5", "version 11", "version 10", "version 9", "version 8",
            "version 7", "version 6", "version 4", "version 3", "version 2",
        ]  # fmt: skip
        await pilot.press("down", "enter")  # version 11
        await wait_for_screen(pilot, TemplatesScreen)
        assert screen.query_one("#system-prompt", TextArea).text == "version 11"
        assert "unsaved" in str(screen.query_one("#system-box", Collapsible).title)

        # Leaving with an unsaved system prompt asks first; "keep editing" stays.
        await pilot.press("d")
        await wait_for_screen(pilot, Confirm)
        await pilot.press("n")
        await wait_for_screen(pilot, TemplatesScreen)
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert "unsaved" not in str(screen.query_one("#system-box", Collapsible).title)
        await pilot.press("d")
        await wait_for_screen(pilot, DatasetsScreen)
    assert templates.get("History test").system_prompt == "version 11"


async def test_archive_hides_unless_show_archived(home: Home, fake: FakeOllama) -> None:
    templates = prepare(home, fake)
    templates.create("Zeta archive me", user_prompt="x")
    app = ForgeApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_templates(pilot, filtered="Zeta")
        await pilot.press("a")
        await pilot.pause()
        assert names(screen) == []
        await pilot.press("h")
        await pilot.pause()
        assert names(screen) == ["Zeta archive me"]
        assert screen.query_one(TemplateList).templates[0].archived
    assert "Zeta archive me" not in [t.name for t in templates.list()]
    assert "Zeta archive me" in [t.name for t in templates.list(include_archived=True)]


async def test_invalid_tool_json_cannot_be_saved(home: Home, fake: FakeOllama) -> None:
    templates = prepare(home, fake)
    made = templates.create("Tools", user_prompt="Weather in {{ city }}?")
    app = ForgeApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_templates(pilot)
        screen.query_one("#templates-filter", Input).value = "Tools"
        await pilot.pause()
        screen.query_one("#tool-calling", Checkbox).value = True
        await pilot.pause()
        tools = screen.query_one("#tools-json", TextArea)
        tools.load_text('[{"name": "get_weather",\n  "parameters": {"type": "object", "properties": {\n')
        await pilot.pause()
        error = str(screen.query_one("#tools-error", Static).render())
        assert error.startswith("Tools: line ")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert templates.get(made.id or 0).is_tool_calling is False  # not saved

        tools.load_text(
            '{"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "strin"}}}}'
        )
        await pilot.pause()
        assert "properties/city/type" in str(screen.query_one("#tools-error", Static).render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert templates.get(made.id or 0).tools == []

        tools.load_text(
            '{"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}'
        )
        await pilot.pause()
        assert str(screen.query_one("#tools-error", Static).render()) == ""
        await pilot.press("ctrl+s")
        await pilot.pause()
    saved = templates.get(made.id or 0)
    assert saved.is_tool_calling and [t.name for t in saved.tools] == ["get_weather"]


def _snapshot_app(home: Home, fake: FakeOllama) -> tuple[ForgeApp, Any]:
    prepare(home, fake)

    async def run_before(pilot: Pilot[None]) -> None:
        await open_templates(pilot)
        app = pilot.app
        assert isinstance(app, ForgeApp)
        await wait_until(pilot, lambda: app.backend_status == "● Ollama")
        app.screen.query_one("#templates-filter", Input).value = "Q&A"
        app.screen.query_one(TemplateList).focus()
        await preview_rendered(pilot)
        app.clear_notifications()
        await pilot.pause()

    return ForgeApp(home), run_before


def test_snapshot_80x24(home: Home, fake: FakeOllama, snap_compare: Any) -> None:
    app, run_before = _snapshot_app(home, fake)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_snapshot_120x40(home: Home, fake: FakeOllama, snap_compare: Any) -> None:
    app, run_before = _snapshot_app(home, fake)
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


async def test_escape_leaves_an_editor_for_the_list(home: Home) -> None:
    make_user(home)
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        await wait_for_screen(pilot, DatasetsScreen)
        await pilot.press("t")
        await wait_for_screen(pilot, TemplatesScreen)
        screen = app.screen
        screen.query_one("#user-prompt", TextArea).focus()
        await pilot.press("g")  # types in the editor
        assert isinstance(app.screen, TemplatesScreen)
        await pilot.press("escape", "g")  # now the app's key: the unsaved "g" is asked about first
        await wait_for_screen(pilot, Confirm)
        await pilot.press("y")
        await wait_for_screen(pilot, AuditionScreen)


def rendering(app: ForgeApp) -> list[Worker[None]]:
    return [w for w in app.workers if w.group == "preview" and w.is_running]


async def open_slow(pilot: Pilot[None]) -> TemplatesScreen:
    """The Templates screen on a quick template, whose prompt then becomes SLOW_TEMPLATE."""
    screen = await open_templates(pilot)
    screen.query_one("#templates-filter", Input).value = "Slow"
    await preview_rendered(pilot)
    assert preview(screen) == "quick"
    editor = screen.query_one("#user-prompt", TextArea)
    editor.focus()
    editor.load_text(SLOW_TEMPLATE)
    # From here on Pilot's own waits (press, pause) would wait for the process to go idle, which a
    # busy render thread never lets it: keys are posted and conditions polled instead.
    await wait_until(pilot, lambda: bool(rendering(pilot.app)))  # type: ignore[arg-type]
    return screen


async def test_a_slow_preview_renders_in_the_background_and_stops_at_its_time_limit(
    home: Home, fake: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(TemplateEditor, "PREVIEW_SECONDS", 3.0)
    prepare(home, fake).create("Slow", user_prompt="quick")
    app = ForgeApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_slow(pilot)
        worker = rendering(app)[0]
        sent = time.monotonic()
        app.post_message(events.Key("escape", None))  # the screen's key acts while the render runs
        await wait_until(pilot, lambda: screen.query_one(TemplateList).has_focus)
        assert time.monotonic() - sent < 1.0 and worker.is_running
        await wait_until(pilot, lambda: "time limit of 3 s" in preview(screen))
        assert preview(screen).startswith("✗ Template error")


async def test_ctrl_q_quits_while_a_preview_renders_and_stops_it(
    home: Home, fake: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(TemplateEditor, "PREVIEW_SECONDS", 60.0)
    finished: list[float] = []
    ended = threading.Event()

    def timed_preview(*args: Any) -> tuple[str, bool]:
        try:
            return preview_text(*args)
        finally:
            finished.append(time.monotonic())
            ended.set()

    monkeypatch.setattr(template_editor, "preview_text", timed_preview)
    prepare(home, fake).create("Slow", user_prompt="quick")
    app = ForgeApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_slow(pilot)
        finished.clear()
        ended.clear()
        pressed = time.monotonic()
        app.post_message(events.Key("ctrl+q", None))
        await wait_until(pilot, lambda: not app.is_running, timeout=5)
    await asyncio.to_thread(ended.wait, 5.0)
    # The render in its thread was told to stop, not left to run into its 60 s.
    assert finished and finished[0] - pressed < 2.0


class OpenedRecorder(ForgeApp):
    """The app, noting each TemplateOpened it gets (and handling it as usual)."""

    def __init__(self, home: Home) -> None:
        super().__init__(home)
        self.opened: list[int] = []

    def on_template_opened(self, message: TemplateOpened) -> None:
        self.opened.append(message.template_id)
        super().on_template_opened(message)


async def test_opening_a_template_tells_the_app(home: Home, fake: FakeOllama) -> None:
    templates = prepare(home, fake)
    app = OpenedRecorder(home)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_templates(pilot)
        first = screen.current
        assert first is not None and app.opened == [first.id]
        await pilot.press("down")
        await wait_until(pilot, lambda: len(app.opened) == 2)
        assert app.opened[-1] == templates.get("Rewrite in a style").id


async def test_hints_name_the_keys_as_remapped(fast_home_dir: Path, fake: FakeOllama) -> None:
    config = fast_home_dir / "config.toml"
    remapped = '"templates.add_slot" = "f5"\n"templates.save_system" = "f7"\n"templates.remove_slot" = "ctrl+d"\n'
    config.write_text(config.read_text(encoding="utf-8") + "\n[keys]\n" + remapped, encoding="utf-8")
    home = open_home(fast_home_dir)
    try:
        prepare(home, fake)
        app = ForgeApp(home)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_templates(pilot)
            assert "Slots (f5 adds; ⏎ edits, ^d removes)" in [str(label.render()) for label in screen.query(Label)]
            assert "explicit save (f7)" in screen.help_text()
            screen.query_one("#system-prompt", TextArea).load_text("Be brief.")
            await pilot.pause()
            assert "unsaved (f7 saves)" in str(screen.query_one("#system-box", Collapsible).title)
            await pilot.press("f7")
            await pilot.pause()
            assert str(screen.query_one("#system-box", Collapsible).title) == "System prompt"
    finally:
        home.close()


async def test_moving_in_the_list_asks_before_dropping_edits(home: Home, fake: FakeOllama) -> None:
    prepare(home, fake)
    app = ForgeApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_templates(pilot)
        first = screen.current
        assert first is not None
        screen.query_one("#user-prompt", TextArea).focus()
        await type_text(pilot, "x")
        await pilot.press("escape", "down")
        await wait_for_screen(pilot, Confirm)
        await pilot.press("n")  # keep editing: the list goes back to the template being edited
        await wait_for_screen(pilot, TemplatesScreen)
        listed = screen.query_one(TemplateList)
        assert screen.current == first and listed.index == 0
        assert screen.query_one("#user-prompt", TextArea).text == "x" + first.user_prompt
        await pilot.press("down")
        await wait_for_screen(pilot, Confirm)
        await pilot.press("y")
        await wait_for_screen(pilot, TemplatesScreen)
        assert screen.current is not None and screen.current.name == "Rewrite in a style"
        assert screen.query_one("#user-prompt", TextArea).text == screen.current.user_prompt


async def test_rename_duplicate_export_and_import_through_their_dialogs(
    home: Home, fake: FakeOllama, tmp_path: Path
) -> None:
    templates = prepare(home, fake)
    templates.create("Zed", user_prompt="Hello {{ name }}")
    app = ForgeApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_templates(pilot, filtered="Zed")

        async def answer(key: str, text: str | None = None) -> None:
            await pilot.press(key)
            await wait_for_screen(pilot, TextPrompt)
            if text is not None:
                app.screen.query_one(Input).value = text
            await pilot.press("enter")
            await wait_for_screen(pilot, TemplatesScreen)
            await pilot.pause()

        await answer("r", "Zed two")
        assert screen.current is not None and screen.current.name == "Zed two"
        assert names(screen) == ["Zed two"]
        await pilot.press("c")
        await wait_until(pilot, lambda: len(names(screen)) == 2)
        assert screen.current is not None and screen.current.name == "Zed two (copy)"
        target = tmp_path / "zed.toml"
        await answer("w", str(target))
        assert "Zed two (copy)" in target.read_text(encoding="utf-8")
        await answer("i", str(target))  # the name is taken: the import says so and adds nothing
        assert names(screen) == ["Zed two", "Zed two (copy)"]
        target.write_text(target.read_text(encoding="utf-8").replace("Zed two (copy)", "Zed back"), encoding="utf-8")
        await answer("i", str(target))
        assert screen.current is not None and screen.current.name == "Zed back"
        assert screen.current.user_prompt == "Hello {{ name }}"
    assert {"Zed two", "Zed two (copy)", "Zed back"} <= {t.name for t in templates.list()}
