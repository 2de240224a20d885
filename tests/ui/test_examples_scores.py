"""Scores on the Examples screen at 80x24: the score column, sorting by score with its key, and the
score threshold prompts (a bad threshold says why and changes nothing); the Export screen's minimum score."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import Input, Select

from forge_tui.core.judging import Judgement
from forge_tui.services.home import Home
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.common import TextPrompt
from forge_tui.ui.screens.examples import ExamplesScreen
from forge_tui.ui.widgets.example_table import ExampleTable
from tests.ui.helpers import (
    examples_status,
    fill,
    open_examples,
    open_export,
    static_text,
    type_text,
    wait_for_screen,
    wait_until,
)

SCORES = {1: 9.0, 2: 3.25, 4: 7.0, 6: 1.5}  # example index: score; the rest are not judged


def scored_home(home: Home) -> None:
    workspace = fill(home, 8)
    dataset = workspace.datasets.current()
    assert dataset is not None
    ids = workspace.examples.ids(dataset.id)
    workspace.examples.set_judgements(
        dataset.id, [(ids[i], Judgement(rubric="overall", score=s)) for i, s in SCORES.items()]
    )


def shown(table: ExampleTable, column: str) -> list[str]:
    return [view.cells[column] for i in range(table.total) if (view := table.row(i)) is not None]


async def _threshold(pilot: object, key: str, typed: str) -> None:
    from textual.pilot import Pilot

    assert isinstance(pilot, Pilot)
    await pilot.press(key)
    await wait_for_screen(pilot, TextPrompt)
    pilot.app.screen.query_one(Input).value = ""
    await type_text(pilot, typed)
    await pilot.press("enter")


async def test_score_column_sort_and_thresholds(home: Home) -> None:
    scored_home(home)
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_examples(pilot)
        table = screen.query_one(ExampleTable)
        assert "score" in table.shown_columns(80)
        assert shown(table, "score") == ["", "9.0", "3.2", "", "7.0", "", "1.5", ""]
        await pilot.press(screen.key("cycle_order"))
        await wait_until(pilot, lambda: shown(table, "score")[:4] == ["9.0", "7.0", "3.2", "1.5"])
        assert shown(table, "prompt")[4:] == ["question 0", "question 3", "question 5", "question 7"]
        assert "best score first" in examples_status(screen)
        await pilot.press(screen.key("cycle_order"))
        await wait_until(pilot, lambda: shown(table, "score")[:4] == ["1.5", "3.2", "7.0", "9.0"])

        await _threshold(pilot, "greater_than_sign", "11")  # refused: the prompt stays and says why
        await pilot.pause()
        assert isinstance(app.screen, TextPrompt)
        assert "from 1 to 10" in str(app.screen.query_one("#prompt-error").render())
        await pilot.press("escape")
        await wait_for_screen(pilot, ExamplesScreen)
        assert table.total == 8

        await _threshold(pilot, "greater_than_sign", "3")
        await wait_until(pilot, lambda: table.total == 3)
        assert shown(table, "score") == ["3.2", "7.0", "9.0"]
        assert "scored ≥ 3" in examples_status(screen)
        await _threshold(pilot, "less_than_sign", "8")
        await wait_until(pilot, lambda: table.total == 2)
        await _threshold(pilot, "greater_than_sign", "")
        await _threshold(pilot, "less_than_sign", "")
        await wait_until(pilot, lambda: table.total == 8)
        await pilot.press(screen.key("cycle_judged"), screen.key("cycle_judged"))
        await wait_until(pilot, lambda: table.total == 4 and "unjudged" in examples_status(screen))
        assert shown(table, "score") == ["", "", "", ""]


async def test_the_export_screen_takes_a_minimum_score(home: Home, tmp_path: Path) -> None:
    scored_home(home)
    out = tmp_path / "out.jsonl"
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_export(pilot)
        screen.query_one("#format", Select).value = "raw"
        await pilot.pause()
        screen.query_one("#destination", Input).value = str(out)
        screen.query_one("#min-score", Input).value = "twelve"
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: any("Minimum judge score" in str(n.message) for n in app._notifications))
        assert not out.exists()
        screen.query_one("#min-score", Input).value = "7"
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: static_text(screen, "#export-result").startswith("Wrote"))
        assert "Wrote 2 records" in static_text(screen, "#export-result")
    assert [json.loads(line)["score"] for line in out.read_text().splitlines()] == [9.0, 7.0]
