"""Audition's compare mode at 80×24 against two fake Ollama servers ("base" serves the base model, "tuned" a
model made FROM it): from the Models screen's "compare with…" (its base offered first) both columns stream,
picking the left answer saves the right preference pair and it exports; from Audition's own key with blind
rows (named once picked); and the picture."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.endpoints import Endpoint
from forge_tui.core.export_formats import FORMATS
from forge_tui.core.models import Example, ExampleSource
from forge_tui.services.accounts import AccountService
from forge_tui.services.audition import CardState
from forge_tui.services.exporting import export
from forge_tui.services.home import Home
from forge_tui.services.settings import SettingsService
from forge_tui.services.workspace import Workspace
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.help import HelpScreen
from forge_tui.ui.dialogs.pick import PickOne
from forge_tui.ui.screens.audition import AuditionScreen
from forge_tui.ui.screens.models import ModelsScreen
from forge_tui.ui.widgets.card_deck import CardDeck
from forge_tui.ui.widgets.compare_deck import CompareDeck, CompareRow
from forge_tui.ui.widgets.wrapped_static import WrappedStatic
from tests.fake_ollama import FakeModel, FakeOllama
from tests.passwords import PASSWORD
from tests.ui.helpers import frozen_clock, make_user, open_screen, static_text, wait_for_screen, wait_until

SIZE = (80, 24)
BASE_ANSWER = "The base model answers plainly and at length about it."
TUNED_ANSWER = "Tuned: short, in the house style."
TUNED = "llama3.2-tuned:latest"


@pytest.fixture
def servers() -> Iterator[tuple[FakeOllama, FakeOllama]]:
    with FakeOllama() as base, FakeOllama([FakeModel(TUNED, parent_model="llama3.2:latest")]) as tuned:
        base.fixed_reply, tuned.fixed_reply = BASE_ANSWER, TUNED_ANSWER
        yield base, tuned


def prepare(home: Home, base: FakeOllama, tuned: FakeOllama) -> None:
    make_user(home)
    user = AccountService(home).get("alice")
    endpoints = [Endpoint(name="base", url=base.base_url), Endpoint(name="tuned", url=tuned.base_url)]
    settings = BackendSettings(generation_model="llama3.2", endpoints=endpoints, endpoint="base")
    SettingsService(home, user).save_backend(settings)


def stored(home: Home) -> tuple[Workspace, int, list[Example]]:
    workspace = Workspace.open(home, AccountService(home).unlock("alice", PASSWORD))
    dataset = workspace.datasets.current()
    assert dataset is not None
    return workspace, dataset.id, [e for e in workspace.examples.scan(dataset.id) if isinstance(e, Example)]


def audition(pilot: Pilot[None]) -> AuditionScreen:
    screen = pilot.app.screen
    assert isinstance(screen, AuditionScreen)
    return screen


def rows_done(screen: AuditionScreen) -> bool:
    session = screen.comparison
    if session is None or session.sides is None or not session.ready:
        return False
    return all(c.finished for side in session.sides for c in side.cards)


async def compare_from_models(pilot: Pilot[None]) -> AuditionScreen:
    """Models: the tuned model, `v`, its base (offered first), enter: Audition in compare mode."""
    models = await open_screen(pilot, "m", ModelsScreen)
    await wait_until(pilot, lambda: len(models._rows) == 3)
    await pilot.press("down", "down")
    assert models.selected() is not None and models.selected().name == TUNED  # type: ignore[union-attr]
    await pilot.press("v")
    await wait_for_screen(pilot, PickOne)
    options = pilot.app.screen.query_one(OptionList)
    highlighted = options.get_option_at_index(options.highlighted or 0)
    assert str(highlighted.prompt) == "base/llama3.2:latest (its base)"
    await pilot.press("enter")
    await wait_for_screen(pilot, AuditionScreen)
    screen = audition(pilot)
    await wait_until(pilot, lambda: screen.query(".slot-input"))
    assert screen.pair is not None and [c.label for c in screen.pair] == ["tuned/" + TUNED, "base/llama3.2:latest"]
    screen.query_one("#seed", Input).value = "3"
    return screen


async def test_from_models_both_columns_stream_and_the_left_pick_saves_the_pair(
    home: Home, servers: tuple[FakeOllama, FakeOllama], tmp_path: Path
) -> None:
    base, tuned = servers
    prepare(home, base, tuned)
    base.token_latency = tuned.token_latency = 0.1
    app = ForgeApp(home)
    async with app.run_test(size=SIZE) as pilot:
        screen = await compare_from_models(pilot)
        await pilot.press("ctrl+r")

        def both_streaming() -> bool:
            session = screen.comparison
            if session is None or session.sides is None:
                return False
            return all(any(c.state is CardState.STREAMING and c.parts for c in s.cards) for s in session.sides)

        await wait_until(pilot, both_streaming)
        row = screen.query(CompareRow).first()
        assert row.left.label == "tuned/" + TUNED and row.right.label == "base/llama3.2:latest"
        await wait_until(pilot, lambda: rows_done(screen))
        assert len(screen.query(CompareRow)) == 3 and row.has_focus
        assert TUNED_ANSWER in row.left.visible_text() and BASE_ANSWER[:20] in row.right.visible_text()
        await pilot.press("1")  # the left answer is the better one
        await wait_until(pilot, lambda: screen.comparison is not None and screen.comparison.tally().wins == (1, 0))
        assert "tuned/" + TUNED + ": 1 · base/llama3.2:latest: 0" in static_text(screen, "#compare-status")
        assert row.left.border_title == "★ tuned/" + TUNED
        assert screen.query(CompareRow)[1].has_focus  # on to the next row
    workspace, dataset_id, [example] = stored(home)
    assert (example.content.output, example.content.rejected) == (TUNED_ANSWER, [BASE_ANSWER])
    assert example.meta.source is ExampleSource.COMPARE and example.meta.model == TUNED
    assert example.meta.params["compare"]["rejected_model"] == "llama3.2:latest"
    out = tmp_path / "dpo.jsonl"
    export(workspace.examples, dataset_id, FORMATS["trl-preference"], out)
    [record] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert record["chosen"] == [{"role": "assistant", "content": TUNED_ANSWER}]
    assert record["rejected"] == [{"role": "assistant", "content": BASE_ANSWER}]
    assert record["prompt"][-1]["content"] == example.content.user_prompt


async def test_from_audition_blind_rows_are_named_once_picked(
    home: Home, servers: tuple[FakeOllama, FakeOllama]
) -> None:
    base, tuned = servers
    prepare(home, base, tuned)
    app = ForgeApp(home)
    async with app.run_test(size=SIZE) as pilot:
        await open_screen(pilot, "g", AuditionScreen)
        screen = audition(pilot)
        await wait_until(pilot, lambda: screen.query(".slot-input"))
        await pilot.press("f6")  # blind on (saved with the account)
        assert screen.workspace.settings.compare_blind()
        await pilot.press("f5")
        await wait_for_screen(pilot, PickOne)
        options = pilot.app.screen.query_one(OptionList)
        labels = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert labels == ["base/qwen3:0.6b", "tuned/" + TUNED]  # the form's model itself is not offered
        await pilot.press("down", "enter")
        await wait_for_screen(pilot, AuditionScreen)
        screen.query_one("#seed", Input).value = "3"
        screen.query_one("#batch", Input).value = "4"
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: rows_done(screen))
        rows = list(screen.query(CompareRow))
        assert all(r.left.label == r.right.label == "?" for r in rows)
        session = screen.comparison
        assert session is not None and session.blind and any(r.swapped for r in session.rows)
        swapped = next(r.index for r in session.rows if r.swapped)
        rows[swapped].focus()
        await pilot.press("2")  # the right one: on a swapped row, the form's model
        await wait_until(pilot, lambda: session.tally().picked == 1)
        assert rows[swapped].right.label == "base/llama3.2" and rows[swapped].right.won
        assert rows[swapped].left.label == "tuned/" + TUNED
        assert all(r.left.label == "?" for r in rows if r.index != swapped)
        await pilot.press("f1")
        await wait_for_screen(pilot, HelpScreen)
        about = pilot.app.screen.query_one(".help-about", WrappedStatic).text
        assert "f5 compares two models" in about and "1 or 2 picks the better answer" in about
        await pilot.press("escape")
        await wait_for_screen(pilot, AuditionScreen)
        await pilot.press("f5")  # out of compare mode: the single column is back
        await wait_until(pilot, lambda: screen.pair is None)
        assert screen.query_one(CardDeck).display and not screen.query_one(CompareDeck).display
    [example] = stored(home)[2]
    assert example.content.output == BASE_ANSWER and example.content.rejected == [TUNED_ANSWER]
    assert example.meta.params["compare"]["blind"] is True


def test_snapshot(
    home: Home, servers: tuple[FakeOllama, FakeOllama], monkeypatch: pytest.MonkeyPatch, snap_compare: Any
) -> None:
    base, tuned = servers
    prepare(home, base, tuned)
    frozen_clock(monkeypatch)

    async def run_before(pilot: Pilot[None]) -> None:
        screen = await compare_from_models(pilot)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: rows_done(screen))
        await pilot.press("1")
        await wait_until(pilot, lambda: screen.comparison is not None and screen.comparison.tally().picked == 1)
        pilot.app.clear_notifications()
        await pilot.pause(0.2)

    assert snap_compare(ForgeApp(home), terminal_size=SIZE, run_before=run_before)
