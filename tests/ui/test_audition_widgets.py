"""The Audition screen's widgets alone, in harness apps: AuditionForm reads a BatchSpec and checks its
numbers with Validators; CardDeck shows a real session's cards (fake Ollama) and rests while away."""

from __future__ import annotations

import pytest
from textual import on
from textual.app import App, ComposeResult
from textual.widgets import Input

from forge_tui.core import batch_defaults
from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.errors import InvalidInput
from forge_tui.core.templates import SlotDef, TemplateInfo
from forge_tui.services.audition import AuditionSession, BatchSpec, BatchState, CardState
from forge_tui.services.backends import BackendService
from forge_tui.ui.widgets.audition_card import AuditionCard
from forge_tui.ui.widgets.audition_form import AuditionForm
from forge_tui.ui.widgets.card_deck import CardDeck, StatusKeys
from tests.fake_ollama import FakeOllama
from tests.ui.helpers import wait_until

GREET = TemplateInfo(
    id=1, name="Greet", user_prompt="Greet {{ who }} in {{ language }}.",
    slots=[SlotDef(name="who", description="whom to greet", default="Ada"), SlotDef(name="language", default="French")],
)  # fmt: skip
PLAIN = TemplateInfo(id=2, name="Plain", user_prompt="Say hello.")


class FormHarness(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.generated = 0

    def compose(self) -> ComposeResult:
        yield AuditionForm("llama3.2", "")

    @on(AuditionForm.Generate)
    def _generate(self) -> None:
        self.generated += 1


async def test_the_form_starts_from_the_service_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch_defaults, "DEFAULT_BATCH", 5)
    monkeypatch.setattr(batch_defaults, "DEFAULT_TEMPERATURE", 0.25)
    app = FormHarness()
    async with app.run_test() as pilot:
        form = app.query_one(AuditionForm)
        assert form.query_one("#batch", Input).value == "5"
        assert form.query_one("#temperature", Input).value == "0.25"
        form.set_templates([PLAIN])
        await wait_until(pilot, lambda: form.template == PLAIN)
        form.query_one("#batch", Input).value = ""  # empty: the default
        spec = form.spec()
        assert (spec.batch, spec.temperature) == (5, 0.25)


async def test_the_form_yields_the_batch_its_fields_describe() -> None:
    app = FormHarness()
    async with app.run_test(size=(80, 40)) as pilot:
        form = app.query_one(AuditionForm)
        form.set_templates([GREET, PLAIN], chosen=1)
        await wait_until(pilot, lambda: len(form.query(".slot-input")) == 2)
        form.query_one("#slot-who", Input).value = "Grace"
        form.query_one("#batch", Input).value = "4"
        form.query_one("#seed", Input).value = "12345678901234567890"
        form.query_one("#paraphrase-model", Input).value = " qwen3:0.6b "
        assert form.spec() == BatchSpec(
            template=GREET, slots={"who": "Grace", "language": "French"}, model="llama3.2",
            paraphrase_model="qwen3:0.6b", batch=4, temperature=batch_defaults.DEFAULT_TEMPERATURE,
            seed=12345678901234567890,
        )  # fmt: skip
        # Coming back with the list read again keeps the template and what was typed in it.
        form.set_templates([GREET, PLAIN])
        await pilot.pause()
        assert form.template == GREET and form.query_one("#slot-who", Input).value == "Grace"
        await pilot.click("#generate")
        assert app.generated == 1


@pytest.mark.parametrize(
    ("field", "text", "why"),
    [
        ("batch", "many", "Cards must be a number."),
        ("seed", "1.5", "The seed must be a number."),
        ("temperature", "warm", "The temperature must be a number."),
        ("temperature", "nan", "The temperature must be a number."),
    ],
)
async def test_a_number_that_is_not_one_is_refused_by_its_validator(field: str, text: str, why: str) -> None:
    app = FormHarness()
    async with app.run_test() as pilot:
        form = app.query_one(AuditionForm)
        form.set_templates([PLAIN])
        await wait_until(pilot, lambda: form.template == PLAIN)
        field_input = form.query_one(f"#{field}", Input)
        field_input.value = text
        await pilot.pause()
        assert field_input.has_class("-invalid")  # shown as the user types
        with pytest.raises(InvalidInput, match=why):
            form.spec()


async def test_no_template_is_refused() -> None:
    app = FormHarness()
    async with app.run_test():
        with pytest.raises(InvalidInput, match="Choose a template first"):
            app.query_one(AuditionForm).spec()


class DeckHarness(App[None]):
    def compose(self) -> ComposeResult:
        yield CardDeck()


def session_on(fake: FakeOllama, deck: CardDeck, batch: int = 3) -> AuditionSession:
    backend = BackendService(BackendSettings(base_url=fake.base_url, generation_model="llama3.2"))
    spec = BatchSpec(template=PLAIN, slots={}, model="llama3.2", batch=batch, seed=3)
    return AuditionSession(backend, spec, concurrency=batch, listener=deck.mark)


def status(deck: CardDeck) -> str:
    return str(deck.query_one("#batch-status").render())


async def test_the_deck_shows_a_sessions_cards_and_moves_between_them(fake: FakeOllama) -> None:
    app = DeckHarness()
    async with app.run_test(size=(100, 40)) as pilot:
        deck = app.query_one(CardDeck)
        deck.set_keys(StatusKeys(generate="F9", add_starred="F10", add_with_rejected="F11"))
        await wait_until(pilot, lambda: status(deck) == "Fill the slots and press F9 to generate.")
        session = session_on(fake, deck)
        deck.show(session)
        await session.run()
        await wait_until(pilot, lambda: all("✓ done" in str(w.border_subtitle) for w in deck.card_widgets()))
        widgets = deck.card_widgets()
        assert [w.card for w in widgets] == session.cards and widgets[0].has_focus
        assert status(deck) == "3 cards: 3 done · ★ 0 starred"
        deck.move(1)
        assert app.focused is widgets[1]
        deck.move(5)  # stops at the last card
        assert app.focused is widgets[2]
        session.star(2)
        await wait_until(pilot, lambda: "★ 1 starred — F10 adds them to the dataset" in status(deck))
        assert widgets[2].has_class("starred")
        await session.backend.aclose()


async def test_the_deck_rests_while_away_and_catches_up_on_return(fake: FakeOllama) -> None:
    app = DeckHarness()
    async with app.run_test(size=(100, 40)) as pilot:
        deck = app.query_one(CardDeck)
        session = session_on(fake, deck, batch=1)
        deck.show(session)
        await session.run()
        await wait_until(pilot, lambda: len(deck.card_widgets()) == 1)
        card = deck.card_widgets()[0]
        deck.pause()
        session.star(0)  # the session goes on: it still tells the deck
        await pilot.pause(0.3)
        assert not card.has_class("starred") and "1 starred" not in status(deck)
        deck.resume()
        await wait_until(pilot, lambda: card.has_class("starred") and "★ 1 starred" in status(deck))
        await session.backend.aclose()


async def test_a_failed_batch_shows_in_red_with_the_key_to_try_again(fake: FakeOllama) -> None:
    app = DeckHarness()
    async with app.run_test(size=(100, 40)) as pilot:
        deck = app.query_one(CardDeck)
        deck.set_keys(StatusKeys(generate="F9"))
        backend = BackendService(BackendSettings(base_url=fake.base_url))
        spec = BatchSpec(template=PLAIN, slots={}, model="ghost")
        session = AuditionSession(backend, spec, concurrency=1, listener=deck.mark)
        deck.show(session)
        await session.run()
        assert session.state is BatchState.FAILED
        await wait_until(pilot, lambda: status(deck).endswith("— F9 tries again"))
        assert deck.query_one("#batch-status").has_class("error")
        assert not any(c.state is CardState.DONE for c in session.cards)
        await backend.aclose()


async def test_card_keys_come_from_the_cards_bindings_as_remapped() -> None:
    app = DeckHarness()
    async with app.run_test():
        assert (AuditionCard.key("retry"), AuditionCard.key("reject"), AuditionCard.key("copy")) == ("r", "x", "c")
        app.set_keymap({"card.retry": "f2"})
        assert AuditionCard.key("retry") == "f2"
