"""Expand topics from the New job form: the fake Ollama expands the seed topic, the user edits the
tree as a list, and its leaves become the topic slot's values; a cancel changes nothing."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Input, Static

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.generation import TOPIC_TEMPLATE
from forge_tui.services.generation_jobs import JobForm
from forge_tui.ui.dialogs.new_job import NewJobForm
from forge_tui.ui.dialogs.topic_tree import TopicTreeDialog, topic_expander
from tests.fake_ollama import FakeOllama
from tests.ui.helpers import wait_for_screen, wait_until

TEMPLATE = TOPIC_TEMPLATE.model_copy(update={"id": 1})


class FormHarness(App[None]):
    def __init__(self, fake: FakeOllama, sources: str) -> None:
        super().__init__()
        settings = BackendSettings(base_url=fake.base_url, max_retries=0)
        form = JobForm(template_id=1, dataset_id=1, model="llama3.2", sources=sources)
        self.form = NewJobForm([TEMPLATE], form, topic_expander(lambda: settings, None))

    def compose(self) -> ComposeResult:
        yield Static("")

    def on_mount(self) -> None:
        self.push_screen(self.form)


async def open_tree(pilot: Pilot[None]) -> TopicTreeDialog:
    await wait_for_screen(pilot, NewJobForm)
    await pilot.press("ctrl+t")
    await wait_for_screen(pilot, TopicTreeDialog)
    dialog = pilot.app.screen
    assert isinstance(dialog, TopicTreeDialog)
    return dialog


async def test_the_edited_trees_leaves_become_the_topic_slots_values(fake: FakeOllama) -> None:
    app = FormHarness(fake, "tone=weighted; topic=values:ocean science")
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_for_screen(pilot, NewJobForm)
        hint = str(app.form.query_one("#job-topics-hint", Static).render())
        assert hint.startswith("^t expands a topic")  # the key as bound
        dialog = await open_tree(pilot)
        assert dialog.query_one("#tree-topic", Input).value == "ocean science"  # the typed topic
        dialog.query_one("#tree-k", Input).value = "3"
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: dialog.tree_area.text.startswith("- ocean science\n"))
        assert len(dialog.tree_area.text.splitlines()) == 4 and fake.requests[0]["model"] == "llama3.2"
        dialog.tree_area.text = "- ocean science\n  - tides\n    - spring tides\n  - reefs; atolls\n"
        await pilot.press("ctrl+s")
        await wait_for_screen(pilot, NewJobForm)
        sources = app.form.query_one("#job-sources", Input).value
        assert sources == "tone=weighted; topic=values:spring tides|reefs, atolls"


async def test_cancel_keeps_the_form_and_no_leaves_is_refused(fake: FakeOllama) -> None:
    app = FormHarness(fake, "topic=weighted")
    async with app.run_test(size=(100, 40)) as pilot:
        dialog = await open_tree(pilot)
        assert dialog.query_one("#tree-topic", Input).value == TEMPLATE.slots[0].default
        await pilot.press("ctrl+s")  # nothing expanded yet: the dialog stays, saying why
        await pilot.pause()
        assert pilot.app.screen is dialog
        dialog.tree_area.text = "- mine\n"
        await pilot.press("escape")
        await wait_for_screen(pilot, NewJobForm)
        assert app.form.query_one("#job-sources", Input).value == "topic=weighted"
        assert fake.requests == []
