"""Pilot tests (80×24) of the augment dialog from the Examples screen (`a`): a preview of three examples
before and after with the changed words marked, then Start runs the job into `NAME-augmented`; bad
input is one sentence in the dialog and nothing is sent; the filter, concurrency and keep-as-rejected
fields reach the job; Save config / Load config; a loaded configuration fills every field as saved
(a Hypothesis property)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Select, Static

from forge_tui.core.job_configs import AugmentConfig
from forge_tui.core.models import Example
from forge_tui.services.accounts import AccountService
from forge_tui.services.augment_jobs import AugmentChoice, PreviewRow
from forge_tui.services.home import Home
from forge_tui.services.job_configs import JobConfigService, augment_config_of_form, augment_form_of_config
from forge_tui.services.jobs import JobService
from forge_tui.services.workspace import Workspace
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.augment import AugmentDialog
from forge_tui.ui.dialogs.common import TextPrompt
from forge_tui.ui.dialogs.saved_configs import ConfigPicker
from tests.fake_ollama import FakeOllama
from tests.passwords import PASSWORD
from tests.ui.helpers import (
    add_examples,
    open_examples,
    prepare_backend,
    type_text,
    wait_for_screen,
    wait_for_workers,
    wait_until,
)

SIZE = (80, 24)


def preview_texts(dialog: AugmentDialog) -> list[str]:
    return [str(s.render()) for s in dialog.query("#augment-preview .preview-row Static").results(Static)]


def augmented(workspace: Workspace) -> list[str]:
    names = {d.name: d.id for d in workspace.datasets.list()}
    if "default-augmented" not in names:
        return []
    found = workspace.examples.scan(names["default-augmented"])
    return sorted(e.content.output for e in found if isinstance(e, Example))


async def test_preview_then_start_into_a_new_dataset(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake)
    workspace = add_examples(home, 5)
    fake.fixed_reply = "short answer"
    app = ForgeApp(home)
    async with app.run_test(size=SIZE) as pilot:
        await open_examples(pilot)
        await pilot.press("a")
        await wait_for_screen(pilot, AugmentDialog)
        dialog = app.screen
        assert isinstance(dialog, AugmentDialog)
        assert dialog.query_one("#augment-into", Input).value == "default-augmented"
        dialog.query_one("#augment-instruction", Input).value = "Shorten {{ answer }}."
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: len(preview_texts(dialog)) == 8)
        texts = preview_texts(dialog)
        assert texts[:2] == ["before", "after"]
        assert texts[2:4] == ["answer 0", "short answer"]
        assert len(fake.requests) == 3 and augmented(workspace) == []
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: augmented(workspace) == ["short answer"] * 5, timeout=20)


async def test_bad_input_is_one_sentence_and_sends_nothing(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake)
    add_examples(home, 2)
    app = ForgeApp(home)
    async with app.run_test(size=SIZE) as pilot:
        await open_examples(pilot)
        await pilot.press("a")
        await wait_for_screen(pilot, AugmentDialog)
        dialog = app.screen
        assert isinstance(dialog, AugmentDialog)
        await pilot.press("ctrl+s")
        await pilot.pause()
        problem = str(dialog.query_one("#augment-problem", Static).render())
        assert problem == "Write an instruction: --instruction or --instruction-file."
        dialog.query_one("#augment-instruction", Input).value = "x"
        dialog.query_one("#augment-field", Input).value = "colour"
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert "Unknown field 'colour'" in str(dialog.query_one("#augment-problem", Static).render())
        assert app.screen is dialog and fake.requests == []


def dialog_of(pilot: Pilot[None]) -> AugmentDialog:
    dialog = pilot.app.screen
    assert isinstance(dialog, AugmentDialog)
    return dialog


def problem_of(dialog: AugmentDialog) -> str:
    return str(dialog.query_one("#augment-problem", Static).render())


async def filter_by(pilot: Pilot[None], expression: str) -> None:
    await pilot.press("f")
    await wait_for_screen(pilot, TextPrompt)
    await type_text(pilot, expression)
    await pilot.press("enter")
    await wait_for_workers(pilot)


async def test_the_filter_concurrency_and_keep_as_rejected_reach_the_job(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake)
    workspace = add_examples(home, 5)
    fake.fixed_reply = "short answer"
    app = ForgeApp(home)
    async with app.run_test(size=SIZE) as pilot:
        await open_examples(pilot)
        shown = "prompt = 'question 1' or prompt = 'question 3'"
        await filter_by(pilot, shown)
        await pilot.press("a")
        await wait_for_screen(pilot, AugmentDialog)
        dialog = dialog_of(pilot)
        for name in ("#augment-where", "#augment-concurrency", "#augment-keep-as-rejected"):
            region = dialog.query_one(name).region
            assert region.height == 1 and region.bottom <= SIZE[1], name  # on screen at 80x24
        assert dialog.query_one("#augment-where", Input).value == shown
        dialog.query_one("#augment-instruction", Input).value = "Shorten {{ answer }}."
        dialog.query_one("#augment-concurrency", Input).value = "3"
        dialog.query_one("#augment-keep-as-rejected", Checkbox).value = True
        dialog.query_one("#augment-field", Input).value = "user_prompt"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert problem_of(dialog) == "--keep-as-rejected works only with the answer field."
        dialog.query_one("#augment-concurrency", Input).value = "many"
        dialog.query_one("#augment-field", Input).value = "answer"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert problem_of(dialog) == "The concurrency is a whole number from 1 to 1024."
        dialog.query_one("#augment-concurrency", Input).value = "3"
        dialog.query_one("#augment-target", Select).value = "in_place"
        typed = dialog.typed()
        assert (typed.where, typed.concurrency, typed.keep_as_rejected, typed.into) == (shown, 3, True, "")
        assert fake.requests == []
        await pilot.press("ctrl+s")
        jobs = JobService(workspace.home, workspace.unlocked)
        await wait_until(pilot, lambda: [j.done for j in jobs.list()] == [2], timeout=20)
        assert jobs.list()[0].concurrency == 3
        dataset = workspace.datasets.current()
        assert dataset is not None
        now = {e.content.user_prompt: e.content for e in workspace.examples.scan(dataset.id) if isinstance(e, Example)}
        assert {p: (c.output, c.rejected) for p, c in now.items()} == {
            "question 0": ("answer 0", []),
            "question 1": ("short answer", ["answer 1"]),
            "question 2": ("answer 2", []),
            "question 3": ("short answer", ["answer 3"]),
            "question 4": ("answer 4", []),
        }


async def test_selected_rows_win_over_the_filter(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake)
    add_examples(home, 5)
    app = ForgeApp(home)
    async with app.run_test(size=SIZE) as pilot:
        await open_examples(pilot)
        await filter_by(pilot, "prompt ~ 'question'")
        await pilot.press("space", "down", "space")
        await pilot.press("a")
        await wait_for_screen(pilot, AugmentDialog)
        dialog = dialog_of(pilot)
        assert str(dialog.query_one(".dialog-title", Static).render()) == "Augment 2 selected examples of 'default'"
        where = dialog.query_one("#augment-where", Input)
        assert where.value == "" and where.disabled
        dialog.query_one("#augment-instruction", Input).value = "x"
        typed = dialog.typed()
        assert len(typed.only_ids) == 2 and typed.where == ""


async def test_save_config_then_load_config_fills_the_dialog_as_saved(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake)
    add_examples(home, 2)
    app = ForgeApp(home)
    async with app.run_test(size=SIZE) as pilot:
        await open_examples(pilot)
        await pilot.press("a")
        await wait_for_screen(pilot, AugmentDialog)
        dialog = dialog_of(pilot)
        values = {"instruction": "Translate {{ answer }}", "language": "zh-TW", "where": "score >= 7"}
        values |= {"concurrency": "8", "temperature": "0.2", "context": "user_prompt, slots", "into": "zh"}
        for name, value in values.items():
            dialog.query_one(f"#augment-{name}", Input).value = value
        dialog.query_one("#augment-keep-as-rejected", Checkbox).value = True
        typed = dialog.typed_form()
        await pilot.press("ctrl+o")
        await wait_for_screen(pilot, TextPrompt)
        await type_text(pilot, "zh")
        await pilot.press("enter")
        await wait_for_screen(pilot, AugmentDialog)
        configs = JobConfigService(home, AccountService(home).unlock("alice", PASSWORD))
        await wait_until(pilot, lambda: [c.name for c in configs.list()] == ["zh"])
        assert configs.get("zh") == augment_config_of_form("zh", typed)

        for name in values:  # typed over since
            dialog.query_one(f"#augment-{name}", Input).value = ""
        dialog.query_one("#augment-keep-as-rejected", Checkbox).value = False
        dialog.query_one("#augment-target", Select).value = "in_place"
        await pilot.press("ctrl+r")
        await wait_for_screen(pilot, ConfigPicker)
        await pilot.press("enter")
        await wait_for_screen(pilot, AugmentDialog)
        await wait_until(pilot, lambda: dialog.typed_form() == typed)
        assert fake.requests == []


class DialogHarness(App[None]):
    """The augment dialog alone (no account): what the property fills and reads back."""

    def on_mount(self) -> None:
        async def previewer(choice: AugmentChoice) -> list[PreviewRow]:
            return []

        choice = AugmentChoice(dataset_id=1, field="answer", instruction="", model="m", into="x")
        self.push_screen(AugmentDialog(choice, "d", previewer))


@pytest.fixture(scope="module")
def running_dialog() -> Iterator[tuple[asyncio.AbstractEventLoop, Pilot[None]]]:
    """One app for every example of the property (starting one per example would take seconds), held
    open by one task so that Textual's context variables are set and reset in the same context."""
    loop = asyncio.new_event_loop()
    started: asyncio.Future[Pilot[None]] = loop.create_future()
    done = asyncio.Event()

    async def hold() -> None:
        async with DialogHarness().run_test(size=SIZE) as pilot:
            await wait_for_screen(pilot, AugmentDialog)
            started.set_result(pilot)
            await done.wait()

    holder = loop.create_task(hold())
    pilot = loop.run_until_complete(started)
    yield loop, pilot
    done.set()
    loop.run_until_complete(holder)
    loop.close()


TEXT = st.text(st.characters(codec="utf-8"), max_size=30)
TEXT_FIELDS_OF_CONFIG = ("field", "instruction", "context", "model", "temperature", "language", "concurrency")


@settings(max_examples=40, deadline=None)
@given(
    st.builds(
        AugmentConfig,
        name=st.just("c"),
        api_key_env=st.sampled_from(["", "MY_KEY"]),
        endpoint=TEXT,
        **{name: TEXT for name in (*TEXT_FIELDS_OF_CONFIG, "where", "into")},
        in_place=st.booleans(),
        keep_as_rejected=st.booleans(),
    )
)
def test_a_loaded_configuration_fills_every_field_as_saved(
    running_dialog: tuple[asyncio.AbstractEventLoop, Pilot[None]], config: AugmentConfig
) -> None:
    loop, pilot = running_dialog
    dialog = dialog_of(pilot)
    dialog.fill(augment_form_of_config(config))
    loop.run_until_complete(pilot.pause())
    assert augment_config_of_form(config.name, dialog.typed_form(), config.api_key_env) == config
