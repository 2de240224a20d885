"""The Review screen: its key on the app and in the palette, the keyboard flow (accept, reject, next,
previous, undo, edit, bulk by score with one undo, sort), opening from Examples on its filter, fix with
the judge's reason against the fake server, F1, and the picture at 80×24."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static, TextArea

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.example_filter import ReviewFilter
from forge_tui.core.judging import Judgement
from forge_tui.core.models import ExampleContent, ExampleMeta, ReviewState
from forge_tui.services.accounts import AccountService
from forge_tui.services.home import Home
from forge_tui.services.settings import SettingsService
from forge_tui.services.workspace import Workspace
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.commands import SCREEN_COMMANDS
from forge_tui.ui.dialogs.card_editor import CardEditor
from forge_tui.ui.dialogs.common import Confirm, TextPrompt
from forge_tui.ui.dialogs.help import HelpScreen
from forge_tui.ui.messages import SwitchDataset
from forge_tui.ui.screens.review import ReviewScreen
from forge_tui.ui.widgets.wrapped_static import WrappedStatic
from tests.fake_ollama import FakeOllama
from tests.passwords import PASSWORD
from tests.ui.helpers import make_user, open_examples, open_screen, type_text, wait_for_screen, wait_until

SCORES = (7.0, 2.0, None, 9.0, 4.0)  # example i's score (None: not judged)
SYSTEM = "You are a careful geography tutor who answers in one short sentence and never guesses at facts."


def answer(i: int) -> str:
    return f"The capital of country {i} is City {i}."


def filled(home: Home) -> tuple[Workspace, list[str]]:
    make_user(home)
    workspace = Workspace.open(home, AccountService(home).unlock("alice", PASSWORD))
    dataset = workspace.datasets.current()
    assert dataset is not None
    items = [
        (
            ExampleContent(
                system_prompt=SYSTEM,
                user_prompt=f"What is the capital of country {i}?",
                output=f"The capital of country {i} is City {i}.",
            ),
            ExampleMeta(review=ReviewState.UNREVIEWED),
        )
        for i in range(len(SCORES))
    ]
    ids = workspace.examples.add_many(dataset.id, items)
    judged = [
        (i, Judgement(rubric="overall", model="judge", score=s, reason=f"Score {s:g}: the city is made up."))
        for i, s in zip(ids, SCORES, strict=True)
        if s is not None
    ]
    workspace.examples.set_judgements(dataset.id, judged)
    return workspace, ids


def states(workspace: Workspace, ids: list[str]) -> list[str]:
    return [workspace.examples.get(i).meta.review.value[0] for i in ids]  # a, u, r


def card_text(screen: ReviewScreen) -> str:
    return "\n".join(str(w.render()) for w in screen.query(Static) if w.id and w.id.startswith("card-") and w.display)


async def open_review(pilot: Pilot[None]) -> ReviewScreen:
    screen = await open_screen(pilot, "q", ReviewScreen)
    await wait_until(pilot, lambda: screen.queue is not None and screen.queue.current() is not None)
    return screen


def settled(screen: ReviewScreen) -> None:
    assert screen.queue is not None
    screen.queue.flush()


async def test_keyboard_flow(home: Home) -> None:
    workspace, ids = filled(home)
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_review(pilot)
        text = card_text(screen)
        assert "Card 1 of 5" in text and "score 2" in text and "country 1?" in text  # worst first
        assert "Judge: Score 2: the city is made up." in text and "System: You are a careful" in text
        assert SYSTEM not in text  # folded to a line
        await pilot.press("a")  # example 1 accepted, on to example 4 (score 4)
        assert "Card 2 of 5" in card_text(screen) and "country 4?" in card_text(screen)
        await pilot.press("r", "left")  # example 4 rejected; back to it
        assert "✗ rejected" in card_text(screen)
        await pilot.press("u")  # the rejection undone; the card shown is example 4 again
        settled(screen)
        assert states(workspace, ids) == ["u", "a", "u", "u", "u"]
        assert "Card 2 of 5" in card_text(screen) and "· unreviewed" in card_text(screen)

        # Edit the answer with the card editor.
        await pilot.press("enter")
        await wait_for_screen(pilot, CardEditor)
        pilot.app.screen.query_one("#edit-answer", TextArea).text = "The capital is Four City."
        await pilot.press("ctrl+s")
        await wait_for_screen(pilot, ReviewScreen)
        assert "Answer: The capital is Four City." in card_text(screen)
        assert workspace.examples.get(ids[4]).content.output == "The capital is Four City."

        # Bulk: accept everything at or above 7 (examples 0 and 3), then undo it in one go.
        await pilot.press("A")
        await wait_for_screen(pilot, TextPrompt)
        await type_text(pilot, "11")
        await pilot.press("enter")  # out of range: the prompt stays and says why
        assert isinstance(pilot.app.screen, TextPrompt)
        await pilot.press("backspace", "backspace", "7", "enter")
        await wait_for_screen(pilot, Confirm)
        assert "Accept 2 examples scored 7 or above?" in str(
            pilot.app.screen.query_one(".dialog-title", Static).render()
        )
        await pilot.press("y")
        await wait_for_screen(pilot, ReviewScreen)
        settled(screen)
        assert states(workspace, ids) == ["a", "a", "u", "a", "u"]
        status = str(screen.query_one("#review-status", Static).render())
        assert "'default': 5 unreviewed (·) · worst first" in status and "✓ 3 accepted, ✗ 0 rejected" in status
        await pilot.press("u")
        settled(screen)
        assert states(workspace, ids) == ["u", "a", "u", "u", "u"]

        # Sort: best first, then by time.
        await pilot.press("o")
        await wait_until(pilot, lambda: "score 9" in card_text(screen))
        assert "best first" in str(screen.query_one("#review-status", Static).render())
        await pilot.press("o")
        await wait_until(pilot, lambda: screen.queue is not None and screen.queue.order.value == "by time")
        await wait_until(pilot, lambda: "country 0?" in card_text(screen))

        await pilot.press("f1")
        await wait_for_screen(pilot, HelpScreen)
        about = pilot.app.screen.query_one(".help-about", WrappedStatic).text
        assert "a accepts and r rejects" in about and "A accepts every example scored at or above" in about


async def test_opened_from_examples_on_its_filter_and_the_palette_names_it(home: Home) -> None:
    workspace, ids = filled(home)
    workspace.examples.set_review(ids[:2], ReviewState.ACCEPTED)
    assert "show_review" in {action for _title, _about, action in SCREEN_COMMANDS}
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        examples = await open_examples(pilot)
        await pilot.press("r", "r")  # the accepted ones
        await wait_until(pilot, lambda: examples.wanted.review is ReviewFilter.ACCEPTED)
        await pilot.press("q")
        await wait_for_screen(pilot, ReviewScreen)
        screen = pilot.app.screen
        assert isinstance(screen, ReviewScreen)
        await wait_until(pilot, lambda: screen.queue is not None and screen.queue.current() is not None)
        assert screen.queue is not None and screen.queue.ids == [ids[1], ids[0]]  # score 2, then 7
        await pilot.press("r", "r")
        settled(screen)
    assert states(workspace, ids) == ["r", "r", "u", "u", "u"]


async def test_fix_with_the_judges_reason(home: Home, fake: FakeOllama, monkeypatch: pytest.MonkeyPatch) -> None:
    workspace, ids = filled(home)
    settings = SettingsService(home, AccountService(home).get("alice"))
    settings.save_backend(BackendSettings(base_url=fake.base_url, generation_model="llama3.2"))
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_review(pilot)
        await pilot.press("f")
        await wait_until(pilot, lambda: workspace.examples.get(ids[1]).content.rejected)
        fixed = workspace.examples.get(ids[1]).content
        assert fixed.rejected == ["The capital of country 1 is City 1."] and fixed.output
        await wait_until(pilot, lambda: f"Answer: {fixed.output}" in card_text(screen))
        await pilot.press("u")  # the fix undone: the old answer back
        settled(screen)
    assert workspace.examples.get(ids[1]).content.output == "The capital of country 1 is City 1."


def test_snapshot(home: Home, fake: FakeOllama, snap_compare: Any) -> None:
    workspace, ids = filled(home)
    settings = SettingsService(home, AccountService(home).get("alice"))
    settings.save_backend(BackendSettings(base_url=fake.base_url, generation_model="llama3.2"))
    workspace.examples.set_review([ids[0]], ReviewState.ACCEPTED)

    async def run_before(pilot: Pilot[None]) -> None:
        await open_review(pilot)
        await wait_until(pilot, lambda: pilot.app.backend_status == "● Ollama")  # type: ignore[attr-defined]
        await pilot.press("a")  # example 1 accepted: the card of example 4 (score 4)
        pilot.app.clear_notifications()
        await pilot.pause(0.2)

    assert snap_compare(ForgeApp(home), terminal_size=(80, 24), run_before=run_before)


async def test_switching_the_dataset_shows_its_queue(home: Home) -> None:
    workspace, _ids = filled(home)
    other = workspace.datasets.create("rivers")
    meta = ExampleMeta(review=ReviewState.UNREVIEWED)
    workspace.examples.add(other.id, ExampleContent(user_prompt="Which river is longest?", output="The Nile."), meta)
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_review(pilot)
        assert "Card 1 of 5" in card_text(screen)
        app.post_message(SwitchDataset(other.id))
        await wait_until(pilot, lambda: "Which river is longest?" in card_text(screen))
        assert "Card 1 of 1" in card_text(screen) and "not judged" in card_text(screen)
        await pilot.press("a")
        await wait_until(pilot, lambda: "Every example here is decided (u undoes" in card_text(screen))
        settled(screen)
    assert workspace.examples.ids(other.id) and workspace.examples.review_counts(other.id)[ReviewState.ACCEPTED] == 1
