"""Pilot tests of the Export screen: a built-in format to a file with a split, and a custom format
made, broken (the error names the line), fixed, saved and used."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, ProgressBar, Select, TextArea

from forge_tui.core.models import ExampleContent, ExampleMeta
from forge_tui.services import export_workers
from forge_tui.services.home import Home
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.common import TextPrompt
from forge_tui.ui.screens.export import ExportScreen
from forge_tui.ui.widgets.format_preview import FormatPreview
from tests.ui.helpers import (
    SLOW_TEMPLATE,
    fill,
    open_export,
    static_text,
    type_text,
    wait_for_screen,
    wait_until,
)


async def new_custom_format(pilot: Pilot[None], screen: ExportScreen, name: str) -> TextArea:
    """ctrl+n and `name` on the Export screen: the new custom format is chosen; returns its body's editor."""
    await pilot.press("ctrl+n")
    await wait_for_screen(pilot, TextPrompt)
    await type_text(pilot, name)
    await pilot.press("enter")
    await wait_for_screen(pilot, ExportScreen)
    await wait_until(pilot, lambda: screen.chosen == f"custom:{name}")
    return screen.query_one("#body", TextArea)


async def test_export_with_a_split(home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fill(home, 40)
    # Worker processes even for 40 examples: under Textual they come from the fork server.
    monkeypatch.setattr(export_workers, "PARALLEL_FROM", 1)
    app = ForgeApp(home)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await open_export(pilot)
        assert '"role": "user"' in static_text(screen, "#export-preview")
        screen.query_one("#format", Select).value = "alpaca"
        screen.query_one("#file-type", Select).value = "parquet"
        await pilot.pause()
        assert screen.query_one("#destination", Input).value.endswith("default-alpaca.parquet")
        screen.query_one("#destination", Input).value = str(tmp_path / "out.parquet")
        screen.query_one("#split", Input).value = "0.75"
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: static_text(screen, "#export-result").startswith("Wrote"))
        assert "30 records to" in static_text(screen, "#export-result") and "10 records to" in static_text(
            screen, "#export-result"
        )
    assert sorted(p.name for p in tmp_path.glob("out*")) == ["out.train.parquet", "out.valid.parquet"]


async def test_custom_format_error_then_save_and_export(home: Home, tmp_path: Path) -> None:
    fill(home, 5)
    app = ForgeApp(home)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await open_export(pilot)
        body = await new_custom_format(pilot, screen, "short")
        body.text = '{"q": {{ example.user_prompt | tojson }}\n{% if %}'
        await wait_until(pilot, lambda: "line 2" in static_text(screen, "#body-error"))
        body.text = '{"q": {{ example.user_prompt | tojson }}}'
        await wait_until(pilot, lambda: static_text(screen, "#body-error") == "")
        assert '"q": "question 0"' in static_text(screen, "#export-preview")
        await pilot.press("ctrl+s")
        screen.query_one("#destination", Input).value = str(tmp_path / "q.jsonl")
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: static_text(screen, "#export-result").startswith("Wrote"))
    lines = (tmp_path / "q.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x) for x in lines] == [{"q": f"question {i}"} for i in range(5)]


async def test_escape_stops_a_running_export_and_nothing_is_written(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(home, 40)
    monkeypatch.setattr(export_workers, "CHUNK", 1)  # a chunk per example: many chances to stop
    render = export_workers._Renderer.render

    def slow(
        self: export_workers._Renderer, ids: Sequence[str], paired: Mapping[str, Sequence[str]] | None = None
    ) -> export_workers.Rendered:
        time.sleep(0.05)
        return render(self, ids, paired)

    monkeypatch.setattr(export_workers._Renderer, "render", slow)
    app = ForgeApp(home)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await open_export(pilot)
        assert not screen.check_action("stop", ())  # nothing to stop yet: the footer does not offer it
        screen.query_one("#destination", Input).value = str(tmp_path / "stopped.jsonl")
        await pilot.press("ctrl+e")
        bar = screen.query_one("#progress", ProgressBar)
        await wait_until(pilot, lambda: (bar.progress or 0) >= 3)
        assert screen.check_action("stop", ())
        await pilot.press("escape")
        await wait_until(pilot, lambda: static_text(screen, "#export-result").startswith("✗"))
        assert static_text(screen, "#export-result") == "✗ Nothing written: The export was stopped."
        assert (bar.progress or 0) < 40 and not screen.check_action("stop", ())
    assert list(tmp_path.glob("stopped*")) == [] and list(tmp_path.glob(".stopped*")) == []


async def test_a_custom_format_past_a_limit_shows_it_and_is_not_saved(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(FormatPreview, "PREVIEW_SECONDS", 1.0)
    fill(home, 3)
    app = ForgeApp(home)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await open_export(pilot)
        body = await new_custom_format(pilot, screen, "hostile")
        # Slow: rendered in a worker, stopped at the preview's time limit, which the screen names.
        body.text = SLOW_TEMPLATE
        await wait_until(pilot, lambda: "time limit of 1 s" in static_text(screen, "#body-error"))
        body.text = "{{ 'x' * 10**9 }}"
        await wait_until(pilot, lambda: "limit of 1,000,000 characters" in static_text(screen, "#body-error"))
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: static_text(screen, "#body-error").startswith("✗ Not saved"))
        assert "limit of 1,000,000 characters" in static_text(screen, "#body-error")


def options(select: Select[str]) -> list[str]:
    return [str(value) for _, value in select._options if isinstance(value, str)]


async def test_the_reasoning_choice_follows_the_format(home: Home, tmp_path: Path) -> None:
    fill(home, 3)
    app = ForgeApp(home)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await open_export(pilot)
        chosen_format, reasoning = screen.query_one("#format", Select), screen.query_one("#reasoning", Select)
        assert reasoning.value == "field" and options(reasoning) == ["drop", "field", "think-tags"]
        for name, default, modes in (
            ("alpaca", "drop", ["drop", "think-tags"]),
            ("mlx-text", "think-tags", ["drop", "think-tags"]),
            ("llamafactory-v1", "field", ["drop", "field", "think-tags"]),
        ):
            chosen_format.value = name
            await wait_until(pilot, lambda default=default: reasoning.value == default)  # type: ignore[misc]
            assert options(reasoning) == modes
        chosen_format.value = "trl-kto"
        await wait_until(
            pilot, lambda: "only examples with a desirability label" in static_text(screen, "#format-about")
        )
        await wait_until(
            pilot, lambda: "has a desirability label, so this format writes" in static_text(screen, "#export-preview")
        )
        await pilot.press("ctrl+n")
        await wait_for_screen(pilot, TextPrompt)
        await type_text(pilot, "mine")
        await pilot.press("enter")
        await wait_for_screen(pilot, ExportScreen)
        await wait_until(pilot, lambda: screen.chosen == "custom:mine")
        await wait_until(pilot, lambda: reasoning.value == "field")
        assert options(reasoning) == ["drop", "field", "think-tags"]


async def test_the_export_writes_reasoning_the_chosen_way(home: Home, tmp_path: Path) -> None:
    workspace = fill(home, 0)
    dataset = workspace.datasets.current()
    assert dataset is not None
    content = ExampleContent(user_prompt="2+2?", output="4", reasoning="Add.")
    workspace.examples.add_many(dataset.id, [(content, ExampleMeta())])
    app = ForgeApp(home)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await open_export(pilot)
        screen.query_one("#format", Select).value = "mlx-text"
        await wait_until(pilot, lambda: "<think>Add.</think>" in static_text(screen, "#export-preview"))
        for mode, expected in (("think-tags", "2+2?\n\n<think>Add.</think>\n4"), ("drop", "2+2?\n\n4")):
            screen.query_one("#reasoning", Select).value = mode
            await pilot.pause()
            screen.query_one("#destination", Input).value = str(tmp_path / f"{mode}.jsonl")
            await pilot.press("ctrl+e")
            out = str(tmp_path / f"{mode}.jsonl")

            def written(out: str = out) -> bool:
                return out in static_text(screen, "#export-result")

            await wait_until(pilot, written)
            assert json.loads((tmp_path / f"{mode}.jsonl").read_text(encoding="utf-8")) == {"text": expected}


async def test_the_review_choice_leaves_rejected_examples_out_unless_all(home: Home, tmp_path: Path) -> None:
    from forge_tui.core.models import ReviewState

    workspace = fill(home, 6)
    dataset = workspace.datasets.current()
    assert dataset is not None
    workspace.examples.set_review(workspace.examples.ids(dataset.id)[:2], ReviewState.REJECTED)
    out = tmp_path / "out.jsonl"
    app = ForgeApp(home)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await open_export(pilot)
        screen.query_one("#format", Select).value = "raw"
        await wait_until(pilot, lambda: '"output": "answer 2"' in static_text(screen, "#export-preview"))
        assert '"answer 0"' not in static_text(screen, "#export-preview")  # rejected: not in the preview either
        screen.query_one("#destination", Input).value = str(out)
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: static_text(screen, "#export-result").startswith("Wrote"))
        assert static_text(screen, "#export-result") == f"Wrote 4 records to {out}; 2 rejected examples left out."
        written = [json.loads(line)["output"] for line in out.read_text(encoding="utf-8").splitlines()]
        assert written == [f"answer {i}" for i in range(2, 6)]
        screen.query_one("#review", Select).value = "all"
        await wait_until(pilot, lambda: '"output": "answer 0"' in static_text(screen, "#export-preview"))
        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: static_text(screen, "#export-result") == f"Wrote 6 records to {out}.")
    assert len(out.read_text(encoding="utf-8").splitlines()) == 6
