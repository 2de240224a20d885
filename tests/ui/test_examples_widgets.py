"""The widgets of the Examples, Export and Datasets screens in small harness apps: what they post and
show, without an account to unlock."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from textual import on
from textual.app import App, ComposeResult
from textual.message import Message
from textual.widgets import Input, Select, Static
from textual.worker import WorkerState

from forge_tui.core.desirability import DesirabilityFilter
from forge_tui.core.example_filter import ExampleFilter, ReviewFilter, SourceFilter
from forge_tui.core.export_formats import FORMATS
from forge_tui.core.models import Example, ExampleContent, ExampleMeta, check_dataset_name
from forge_tui.services.examples import BrokenExample
from forge_tui.ui.dialogs.common import TextPrompt
from forge_tui.ui.field_checks import PassesCheck
from forge_tui.ui.widgets import format_preview
from forge_tui.ui.widgets.example_search import ExampleSearch
from forge_tui.ui.widgets.examples_status import ExamplesView, SearchState, StatusKeys, status_line
from forge_tui.ui.widgets.export_options import ExportOptions
from forge_tui.ui.widgets.search_bar import SearchBar
from tests.ui.helpers import type_text, wait_for_screen, wait_until


class Harness(App[None]):
    """Shows `widgets` and keeps every message they post that reaches the app."""

    def __init__(self, *widgets: Any) -> None:
        super().__init__()
        self._widgets = widgets
        self.posted: list[Message] = []

    def compose(self) -> ComposeResult:
        yield from self._widgets

    @on(SearchBar.Search)
    @on(SearchBar.Found)
    @on(SearchBar.Finished)
    @on(ExportOptions.FormatChosen)
    def _keep(self, message: Message) -> None:
        self.posted.append(message)


async def test_the_search_bar_asks_for_a_search_and_streams_results_in_batches() -> None:
    bar = SearchBar()
    app = Harness(bar)
    async with app.run_test() as pilot:
        assert not bar.display
        bar.open()
        await pilot.pause()
        assert bar.display and app.focused is bar
        await type_text(pilot, " tides ")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.posted)
        assert app.posted == [SearchBar.Search("tides")]
        owner = object()
        bar.stream(owner, lambda: iter(range(450)))
        await wait_until(pilot, lambda: any(isinstance(m, SearchBar.Finished) for m in app.posted))
        found = [m for m in app.posted if isinstance(m, SearchBar.Found)]
        assert [len(m.batch) for m in found] == [200, 200, 50] and all(m.owner is owner for m in found)
        bar.close()
        assert not bar.display and bar.value == ""


async def test_a_prompt_with_a_validator_says_why_and_keeps_asking() -> None:
    answers: list[str | None] = []
    app = Harness()
    async with app.run_test() as pilot:
        app.push_screen(TextPrompt("Name", validators=[PassesCheck(check_dataset_name)]), answers.append)
        await wait_for_screen(pilot, TextPrompt)
        await pilot.press("space", "enter")
        await wait_until(pilot, lambda: "needs a name" in str(app.screen.query_one("#prompt-error", Static).render()))
        assert isinstance(app.screen, TextPrompt) and answers == []
        app.screen.query_one(Input).value = "tides"
        await pilot.press("enter")
        await wait_until(pilot, lambda: answers == ["tides"])


async def test_export_options_follow_the_format_and_the_dataset() -> None:
    options = ExportOptions("Export (^e)")
    app = Harness(options)
    async with app.run_test(size=(60, 40)) as pilot:
        options.set_dataset("my set")
        assert str(options.destination).endswith("my_set-openai-chat.jsonl")
        options.query_one("#format", Select).value = "alpaca"
        await wait_until(pilot, lambda: ExportOptions.FormatChosen("alpaca") in app.posted)
        assert options.reasoning == "drop" and str(options.destination).endswith("my_set-alpaca.jsonl")
        options.query_one("#file-type", Select).value = "csv"
        await pilot.pause()
        assert str(options.destination).endswith("my_set-alpaca.csv") and not options.spreadsheet_safe
        options.query_one("#split", Input).value = "0.9"
        assert (options.split().share, options.split().seed) == (0.9, 0)


def test_the_examples_status_line_names_the_keys_it_is_given() -> None:
    keys = StatusKeys(datasets="f9", cycle_filter="y", delete="ctrl+k", undo="^z", clear="esc")
    view = ExamplesView(dataset="tides", total=3, selected=2, can_undo=True)
    assert status_line(view, keys) == (
        "'tides': 3 examples · y filters ✓/✗ · 2 selected (ctrl+k removes them) · ^z undoes the last delete"
    )
    desirable = ExampleFilter(DesirabilityFilter.DESIRABLE)
    searching = ExamplesView(dataset="tides", total=5, wanted=desirable, searching="q", search_done=True, damaged=1)
    assert status_line(searching, keys) == (
        "'q': 4 matching, 1 damaged (not searched) desirable (✓) in 'tides' (search finished; esc shows all)"
        " · y: undesirable (✗)"
    )
    assert status_line(ExamplesView(dataset=None, total=0), keys) == (
        "There is no current dataset: make one on the Datasets screen (f9)."
    )
    unbound = StatusKeys(datasets="", cycle_filter="", delete="", undo="", clear="")
    assert status_line(view, unbound) == "'tides': 3 examples · 2 selected"


def test_the_status_line_names_the_review_and_source_filters_and_what_their_keys_show_next() -> None:
    keys = StatusKeys(datasets="", cycle_filter="f", delete="", undo="", clear="", cycle_review="R", cycle_source="O")
    assert status_line(ExamplesView(dataset="tides", total=3), keys) == "'tides': 3 examples · f filters ✓/✗"
    wanted = ExampleFilter(DesirabilityFilter.DESIRABLE, ReviewFilter.UNREVIEWED, SourceFilter.IMPORT)
    assert status_line(ExamplesView(dataset="tides", total=2, wanted=wanted), keys) == (
        "'tides': 2 unreviewed (·) imported desirable (✓) examples · f: undesirable (✗) · R: accepted (✓) · O: job"
    )
    one_job = ExampleFilter(review=ReviewFilter.REJECTED, source=SourceFilter.JOB, job_id=12)
    assert status_line(ExamplesView(dataset="tides", total=1, wanted=one_job), keys) == (
        "'tides': 1 rejected (✗) job 12 example · f filters ✓/✗ · R: any review state · O: any source"
    )


async def test_the_example_search_keeps_its_state_and_counts_damaged_rows_of_its_own_search_only() -> None:
    bar = ExampleSearch()
    app = Harness(bar)
    async with app.run_test() as pilot:
        owner, damaged = object(), BrokenExample("x1", "cannot be opened")
        bar.start("tides", owner, lambda: iter([damaged, damaged]))
        await wait_until(pilot, lambda: bar.state.done)
        assert bar.state == SearchState("tides", done=True, damaged=2)
        bar.post_message(SearchBar.Found(object(), [damaged]))  # a search this one replaced
        await pilot.pause()
        assert bar.state.damaged == 2
        assert [n.title for n in app._notifications] == ["A damaged row was not searched"]
        bar.start("no dataset", object(), None)
        assert bar.state == SearchState("no dataset")
        bar.close()
        assert bar.state == SearchState() and not bar.display


async def test_an_export_preview_that_ends_after_its_box_is_gone_breaks_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = threading.Event()

    def slow(*args: Any) -> list[dict[str, Any]]:
        release.wait(5)
        return [{"text": "x"}]

    monkeypatch.setattr(format_preview, "preview_records", slow)
    preview = format_preview.FormatPreview("^s")
    app = Harness(preview)
    async with app.run_test() as pilot:
        example = Example(
            id="e1", dataset_id=1, content=ExampleContent(user_prompt="q", output="a"), meta=ExampleMeta(),
            created_at=datetime.now(UTC), updated_at=datetime.now(UTC),
        )  # fmt: skip
        preview.render_sample(FORMATS["openai-chat"], [example], None)
        await pilot.pause()
        await preview.query_one("#export-preview").remove()  # as when the screen is taken down mid-render
        release.set()
        workers = [w for w in app.workers if w.group == "preview"]
        await app.workers.wait_for_complete(workers)
        await pilot.pause()
        assert workers and all(w.state is WorkerState.SUCCESS for w in workers)
