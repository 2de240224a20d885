"""The Templates screen's widgets in small harness apps (no account, no unlock): TemplateList,
TemplateEditor with its SlotTable, and the SlotEditor dialog."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Collapsible, Input, Static, TextArea
from textual.worker import WorkerState

from forge_tui.core.templates import SlotDef, TemplateInfo
from forge_tui.ui.dialogs.slot_editor import SlotEditor
from forge_tui.ui.widgets import template_editor
from forge_tui.ui.widgets.slot_table import SlotTable
from forge_tui.ui.widgets.template_editor import EditorKeys, TemplateEditor
from forge_tui.ui.widgets.template_list import TemplateList
from tests.ui.helpers import static_text, type_text, wait_for_screen, wait_until

TEMPLATES = [TemplateInfo(id=i, name=name, user_prompt="x") for i, name in enumerate(["Alpha", "Beta", "Gamma"], 1)]
GREETING = TemplateInfo(id=7, name="Greeting", user_prompt="Hi {{ who }}", slots=[SlotDef(name="who", default="there")])


class ListHarness(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.chosen: list[str] = []

    def compose(self) -> ComposeResult:
        yield TemplateList()

    def on_template_list_chosen(self, message: TemplateList.Chosen) -> None:
        self.chosen.append(message.template.name)


async def test_the_list_posts_chosen_on_a_move_on_enter_and_on_a_click() -> None:
    app = ListHarness()
    async with app.run_test(size=(40, 10)) as pilot:
        listed = app.query_one(TemplateList)
        assert listed.show(TEMPLATES, keep=2) == 1
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert listed.index == 1 and app.chosen == []  # showing the list chooses nothing
        listed.focus()
        await pilot.press("down")
        await pilot.pause()
        assert app.chosen == ["Gamma"]
        await pilot.press("enter")
        await pilot.pause()
        assert app.chosen == ["Gamma", "Gamma"]
        await pilot.click("ListItem")
        await pilot.pause()
        assert app.chosen[-1] == "Alpha"
        listed.reselect(2)
        await pilot.pause()
        assert listed.index == 1 and app.chosen[-1] == "Alpha"  # moving back is not a choice


class EditorHarness(App[None]):
    def compose(self) -> ComposeResult:
        yield TemplateEditor(EditorKeys(new_template="n", save_system="^g", insert_slot="f3", add_slot="f4"))


async def preview_rendered(pilot: Pilot[None]) -> str:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete([w for w in pilot.app.workers if w.group == "preview"])
    await pilot.pause()
    return static_text(pilot.app.screen, "#preview")


async def test_the_editor_marks_edits_until_they_are_saved_and_previews_them() -> None:
    app = EditorHarness()
    async with app.run_test(size=(100, 40)) as pilot:
        editor = app.query_one(TemplateEditor)
        assert "press n in the list" in static_text(editor, "#template-title") and editor.disabled
        editor.load(GREETING)
        assert await preview_rendered(pilot) == "Hi there"
        assert static_text(editor, "#template-title") == "Greeting" and editor.unsaved_changes() is None

        editor.user_prompt.focus()
        editor.user_prompt.move_cursor((0, len(GREETING.user_prompt)))
        await type_text(pilot, "!")
        assert await preview_rendered(pilot) == "Hi there!"
        assert editor.body_dirty and not editor.system_dirty
        assert static_text(editor, "#template-title") == "Greeting  ● unsaved"
        assert editor.unsaved_changes() == "Unsaved changes to the template of 'Greeting'"

        editor.saved(editor.collect())
        assert not editor.body_dirty and static_text(editor, "#template-title") == "Greeting"
        assert editor.template is not None and editor.template.user_prompt == "Hi {{ who }}!"

        editor.query_one("#system-prompt", TextArea).load_text("Be {{ mood }}.")
        assert "[system]\nBe <mood>." in await preview_rendered(pilot)
        assert editor.system_dirty and not editor.body_dirty
        assert str(editor.query_one("#system-box", Collapsible).title) == "System prompt  ● unsaved (^g saves)"
        editor.saved(editor.template.model_copy(update={"system_prompt": "Be {{ mood }}."}))
        assert editor.unsaved_changes() is None
        assert str(editor.query_one("#system-box", Collapsible).title) == "System prompt"


async def test_removing_a_slot_is_an_edit() -> None:
    app = EditorHarness()
    async with app.run_test(size=(100, 40)) as pilot:
        editor = app.query_one(TemplateEditor)
        editor.load(GREETING)
        await preview_rendered(pilot)
        table = editor.query_one(SlotTable)
        assert table.row_count == 1
        table.focus()
        await pilot.press("delete")
        assert await preview_rendered(pilot) == "Hi <who>"
        assert table.slots == [] and not table.display and editor.body_dirty
        assert "'who' is used in the prompt but not defined" in static_text(editor, "#slot-warnings")


class SlotHarness(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.result: list[SlotDef | None] = []

    def on_mount(self) -> None:
        self.push_screen(SlotEditor(None, {"topic"}), self.result.append)


async def test_the_slot_editor_checks_the_name_before_it_closes() -> None:
    app = SlotHarness()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_screen(pilot, SlotEditor)
        name = app.screen.query_one("#slot-name", Input)
        for typed, problem in (("topic", "There is already a slot named 'topic'."), ("9 lives", "a slot name is")):
            name.value = typed
            name.focus()
            await pilot.press("enter")
            await pilot.pause()
            assert problem in str(app.screen.query_one("#slot-error", Static).render())
            assert isinstance(app.screen, SlotEditor) and app.result == []
        name.value = "place"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.result)
        assert app.result == [SlotDef(name="place")]


async def test_a_preview_that_ends_after_its_box_is_gone_shows_nothing_and_breaks_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = threading.Event()
    from forge_tui.core.template_preview import preview_text as real

    def slow(*args: Any) -> tuple[str, bool]:
        release.wait(5)
        return real(*args)

    monkeypatch.setattr(template_editor, "preview_text", slow)
    app = EditorHarness()
    async with app.run_test(size=(100, 40)) as pilot:
        editor = app.query_one(TemplateEditor)
        editor.load(GREETING)
        await pilot.pause()
        await editor.query_one("#preview").remove()  # as when the screen is taken down mid-render
        release.set()
        workers = [w for w in app.workers if w.group == "preview"]
        await app.workers.wait_for_complete(workers)
        await pilot.pause()
        assert workers and all(w.state is WorkerState.SUCCESS for w in workers)
