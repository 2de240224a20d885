"""Pilot tests (80×24) of the augment dialog from the Examples screen (`a`): a preview of three examples
before and after with the changed words marked, then Start runs the job into `NAME-augmented`; bad
input is one sentence in the dialog and nothing is sent."""

from __future__ import annotations

from textual.widgets import Input, Static

from forge_tui.core.models import Example
from forge_tui.services.home import Home
from forge_tui.services.workspace import Workspace
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.augment import AugmentDialog
from tests.fake_ollama import FakeOllama
from tests.ui.helpers import add_examples, open_examples, prepare_backend, wait_for_screen, wait_until

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
