"""Pilot tests of the Audition screen: the whole loop from template to starred examples by keyboard,
a failing card, cancel, a batch that survives leaving the screen; snapshots mid-stream and finished."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.app import App, ComposeResult
from textual.widgets import Button, Input

from forge_tui.core.models import Example
from forge_tui.services.accounts import AccountService
from forge_tui.services.audition import BatchState, Card, CardState
from forge_tui.services.home import Home, open_home
from forge_tui.services.workspace import Workspace
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.card_editor import CardEditor
from forge_tui.ui.screens.audition import AuditionScreen
from forge_tui.ui.screens.datasets import DatasetsScreen
from forge_tui.ui.screens.templates import TemplatesScreen
from forge_tui.ui.widgets.audition_card import LIVE_ROWS, AuditionCard
from tests.fake_ollama import FakeOllama
from tests.passwords import PASSWORD
from tests.ui.helpers import (
    audition_snapshot,
    audition_status,
    batch_done,
    open_audition,
    prepare_backend,
    type_text,
    unlock,
    wait_for_screen,
    wait_until,
)


def stored_examples(home: Home) -> list[Example]:
    workspace = Workspace.open(home, AccountService(home).unlock("alice", PASSWORD))
    dataset = workspace.datasets.current()
    assert dataset is not None
    return [e for e in workspace.examples.scan(dataset.id) if isinstance(e, Example)]


async def test_keyboard_only_from_template_to_starred_examples(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake)
    app = ForgeApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        await unlock(pilot)
        await wait_for_screen(pilot, DatasetsScreen)
        await pilot.press("t")  # the Templates screen: the template chosen there opens in Audition
        await wait_for_screen(pilot, TemplatesScreen)
        await pilot.press("down")  # "Rewrite in a style"
        await pilot.pause()
        await pilot.press("g")
        await wait_for_screen(pilot, AuditionScreen)
        screen = app.screen
        assert isinstance(screen, AuditionScreen)
        await wait_until(pilot, lambda: screen.query(".slot-input"))
        assert screen.template is not None and screen.template.name == "Rewrite in a style"

        await pilot.press("tab")  # the first slot: style
        assert app.focused is screen.query_one("#slot-style", Input)
        await pilot.press("ctrl+a", "ctrl+k")
        await type_text(pilot, "a pirate")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: batch_done(screen))
        session = screen.session
        assert session is not None and session.state is BatchState.DONE
        assert session.original.startswith("Rewrite this in the style of a pirate:")
        cards = screen.query(AuditionCard)
        assert len(cards) == 3 and cards.first().has_focus
        assert all("✓ done" in str(c.border_subtitle) for c in cards)

        await pilot.press("space")  # star card 1
        await pilot.press("j", "x")  # card 2: reject and ask again
        await wait_until(pilot, lambda: batch_done(screen) and session.cards[1].rejected_here)
        rejected = session.cards[1].rejected_here[0]
        await pilot.press("space")
        await pilot.press("e")  # edit card 2's answer
        await wait_for_screen(pilot, CardEditor)
        await type_text(pilot, " Arr.")
        await pilot.press("ctrl+s")
        await wait_for_screen(pilot, AuditionScreen)
        assert session.cards[1].answer.endswith(" Arr.")
        await pilot.pause(0.1)
        assert "★ 2 starred" in audition_status(screen)
        kept = [session.cards[0].answer, session.cards[1].answer]

        await pilot.press("ctrl+s")  # add the starred cards
        await wait_until(pilot, lambda: not screen.query(AuditionCard))
    examples = stored_examples(home)
    assert [e.content.output for e in examples] == kept
    assert examples[0].content.rejected == [] and examples[1].content.rejected == [rejected]
    assert examples[0].content.slots["style"] == "a pirate"
    assert examples[1].meta.params["edited"] is True


async def test_a_failing_card_shows_why_and_retries(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake, paraphrase_model=None)
    fake.faults_by_seed = {43: "drop"}  # card 2 of batch seed 42
    app = ForgeApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_audition(pilot)
        screen.query_one("#seed", Input).value = "42"
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: batch_done(screen))
        session = screen.session
        assert session is not None
        assert [c.state for c in session.cards] == [CardState.DONE, CardState.FAILED, CardState.DONE]
        failed = screen.query(AuditionCard)[1]
        assert "broke off in the middle of the answer — r retries" in failed.error_text
        assert "broke off" in failed.visible_text()
        fake.faults_by_seed = {}
        failed.focus()
        await pilot.press("r")
        await wait_until(pilot, lambda: session.cards[1].state is CardState.DONE)
        assert failed.error_text == "" and "retries" not in failed.visible_text()


async def test_an_endless_answer_stops_at_its_time_limit_in_its_card(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake, paraphrase_model=None, answer_time_limit=0.5, max_tokens=100_000)
    fake.endless, fake.token_latency = True, 0.01
    app = ForgeApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_audition(pilot)
        screen.query_one("#batch", Input).value = "1"
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: batch_done(screen))
        card = screen.query(AuditionCard)[0]
        assert card.error_text == "Stopped after 0.5 s: the answer's time limit — r retries"
        streamed = screen.session.cards[0].output if screen.session else ""
        assert len(streamed.split()) > 5 and streamed.split()[0] in card.visible_text()  # what came stays


async def test_an_answer_cut_by_max_tokens_says_so_on_its_card(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake, paraphrase_model=None, max_tokens=8)
    fake.endless = True
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_audition(pilot)
        screen.query_one("#batch", Input).value = "2"
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: batch_done(screen))
        cards = screen.query(AuditionCard)
        assert all("✂ cut at max tokens" in card.visible_text() for card in cards)
        fake.endless, fake.fixed_reply = False, "Short and done."
        cards[0].focus()
        await pilot.press("x")  # reject: asked again, and this time the model stops on its own
        await wait_until(pilot, lambda: batch_done(screen) and "Short and done." in cards[0].visible_text())
        assert "✂" not in cards[0].visible_text()
        assert "✂ cut at max tokens" in cards[1].visible_text()


async def test_missing_model_is_refused_in_the_status_line(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake, generation_model="ghost")
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_audition(pilot)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: screen.session is not None and screen.session.state is BatchState.FAILED)
        assert "model 'ghost' not found — pull it with `ollama pull ghost`" in audition_status(screen)
        assert fake.requests == []


async def test_escape_stops_everything_and_the_batch_survives_leaving(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake, paraphrase_model=None)
    fake.token_latency = 0.2
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_audition(pilot)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: screen.session is not None and all(c.parts for c in screen.session.cards))
        session = screen.session
        assert session is not None
        await pilot.press("d")  # leave while streaming: the batch goes on
        await wait_for_screen(pilot, DatasetsScreen)
        await pilot.press("g")
        await wait_for_screen(pilot, AuditionScreen)
        again = app.screen
        assert isinstance(again, AuditionScreen) and again.session is session
        await wait_until(pilot, lambda: len(again.query(AuditionCard)) == 3)
        again.query(AuditionCard).first().focus()
        await pilot.press("escape")
        await wait_until(pilot, lambda: session.running == 0)
        assert all(c.state is CardState.CANCELLED for c in session.cards)
        await wait_until(pilot, lambda: fake.disconnects == 3)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("finished", [False, True], ids=["mid_stream", "finished"])
def test_snapshot(
    home: Home, fake: FakeOllama, monkeypatch: pytest.MonkeyPatch, snap_compare: Any, size: tuple[int, int],
    finished: bool,
) -> None:  # fmt: skip
    app, run_before = audition_snapshot(home, fake, monkeypatch, finished)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


class OneCard(App[None]):
    CSS = "AuditionCard { width: 30; border: round white; }"

    def __init__(self, card: Card) -> None:
        super().__init__()
        self.card = card

    def compose(self) -> ComposeResult:
        yield AuditionCard(self.card)


async def test_tokens_repaint_one_card_without_a_layout_then_it_grows_when_done() -> None:
    card = Card(index=0, variation=0, prompt="Say it", state=CardState.STREAMING)
    app = OneCard(card)
    async with app.run_test(size=(40, 30)) as pilot:
        widget = app.query_one(AuditionCard)
        await pilot.pause()
        live_height = widget.size.height
        layouts: list[object] = []
        original = app.screen._refresh_layout

        def counting(*args: Any, **kwargs: Any) -> None:
            layouts.append(args)
            original(*args, **kwargs)

        app.screen._refresh_layout = counting  # type: ignore[method-assign]
        for i in range(60):
            card.parts.append(f"word{i} ")
            widget.show(card)
            await pilot.pause()
        assert layouts == [] and widget.size.height == live_height == 1 + LIVE_ROWS
        assert widget.visible_text().splitlines()[-1].endswith("word59")  # the newest line shows
        card.state = CardState.DONE
        widget.show(card)
        await pilot.pause()
        assert layouts  # the height changed: now the screen lays out again
        assert widget.visible_text().splitlines()[1].startswith("word0 word1")
        assert widget.size.height > live_height


async def test_keys_typed_together_act_on_the_card_moved_to(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake, paraphrase_model=None)
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_audition(pilot)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: batch_done(screen))
        driver = app._driver
        assert driver is not None
        for key in ("j", "space", "j", "space"):  # as a terminal delivers fast typing: no pause between
            driver.send_message(events.Key(key, " " if key == "space" else key))
        await wait_until(pilot, lambda: screen.session is not None and len(screen.session.starred()) == 2)
        session = screen.session
        assert session is not None
        assert [c.starred for c in session.cards] == [False, True, True]


async def test_thinking_is_stored_and_rejected_answers_can_be_added_as_undesirable(
    home: Home, fake: FakeOllama
) -> None:
    prepare_backend(home, fake, generation_model="qwen3:0.6b", paraphrase_model=None)  # a thinking model
    app = ForgeApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_audition(pilot)
        screen.query_one("#batch", Input).value = "2"
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: batch_done(screen))
        session = screen.session
        assert session is not None and all(c.reasoning for c in session.cards)
        screen.query(AuditionCard).first().focus()
        await pilot.press("space", "j", "x")  # star card 1; reject card 2's answer
        await wait_until(pilot, lambda: batch_done(screen) and session.cards[1].rejected_here)
        kept, thought, rejected = session.cards[0].answer, session.cards[0].reasoning, session.cards[1].rejected_here[0]
        await pilot.pause(0.1)
        # The keys as the footer writes them (from the bindings in use).
        assert "^s adds them to the dataset; ^o adds them plus 1 rejected answer as undesirable" in audition_status(
            screen
        )
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: not screen.query(AuditionCard))
    stored = stored_examples(home)
    assert [(e.content.output, e.content.reasoning, e.meta.desirability) for e in stored] == [
        (kept, thought, True),
        (rejected, "", False),
    ]
    assert "<think>" not in kept and thought.startswith("Okay, the user wants")


async def test_coming_back_finds_new_templates_and_the_one_opened_on_templates(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake, paraphrase_model=None)
    app = ForgeApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_audition(pilot)
        first = screen.template
        assert first is not None and app.workspace is not None
        added = app.workspace.templates.create("Added meanwhile", user_prompt="Count to {{ n }}.")
        await pilot.press("t")  # Templates opens its first template; then the user moves to another
        await wait_for_screen(pilot, TemplatesScreen)
        templates = app.screen
        assert isinstance(templates, TemplatesScreen)
        for _ in range(3):
            await pilot.press("down")
            await pilot.pause()
            if templates.current is not None and templates.current.id != first.id:
                break
        opened = templates.current
        assert opened is not None and opened.id != first.id
        await pilot.press("g")
        await wait_for_screen(pilot, AuditionScreen)
        assert app.screen is screen  # the same screen, shown again
        await wait_until(pilot, lambda: screen.template is not None and screen.template.id == opened.id)
        assert added.id in [t.id for t in screen.form.templates]


async def test_keys_named_on_the_screen_follow_a_remap(fast_home_dir: Path, fake: FakeOllama) -> None:
    config = fast_home_dir / "config.toml"
    remap = '\n[keys]\n"audition.generate" = "f9"\n"card.retry" = "f2"\n"card_editor.keep" = "f3"\n'
    config.write_text(config.read_text(encoding="utf-8") + remap, encoding="utf-8")
    home = open_home(fast_home_dir)
    prepare_backend(home, fake, paraphrase_model=None)
    fake.faults_by_seed = {43: "drop"}  # card 2 of batch seed 42
    app = ForgeApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_audition(pilot)
        assert str(screen.query_one("#generate", Button).label) == "Generate (f9)"
        await wait_until(pilot, lambda: audition_status(screen) == "Fill the slots and press f9 to generate.")
        help_text = screen.help_text()
        assert "press f9:" in help_text and "f2 retries a failed card" in help_text and "ctrl+r" not in help_text
        screen.query_one("#seed", Input).value = "42"
        await pilot.press("f9")
        await wait_until(pilot, lambda: batch_done(screen))
        assert screen.query(AuditionCard)[1].error_text.endswith("— f2 retries")
        screen.query(AuditionCard).first().focus()
        await pilot.press("e")
        await wait_for_screen(pilot, CardEditor)
        assert str(app.screen.query_one("#keep", Button).label) == "Keep edit (f3)"
    home.close()
