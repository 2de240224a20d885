"""The Examples screen's review state and source: the rev, ⚑ and source columns, their filters (keys as
bound), accepting and rejecting rows, and the detail view's origin line and review choice."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Select, Static

from forge_tui.core.models import Example, ExampleContent, ExampleMeta, ExampleSource, ReviewState
from forge_tui.services.accounts import AccountService
from forge_tui.services.home import Home, open_home
from forge_tui.services.workspace import Workspace
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.example_detail import ExampleDetail
from forge_tui.ui.dialogs.help import HelpScreen
from forge_tui.ui.screens.examples import ExamplesScreen
from forge_tui.ui.widgets.example_table import ExampleTable, RowView
from forge_tui.ui.widgets.wrapped_static import WrappedStatic
from tests.passwords import PASSWORD
from tests.ui.helpers import examples_status, make_user, open_examples, remap_keys, wait_for_screen, wait_until

# Per example i (of 9): audition (accepted), import (accepted), job 7 (unreviewed, every third flagged).
KINDS = (
    ExampleMeta(),
    ExampleMeta(source=ExampleSource.IMPORT),
    ExampleMeta(source=ExampleSource.JOB, job_id=7, review=ReviewState.UNREVIEWED),
)


def fill_mixed(home: Home, n: int) -> Workspace:
    workspace = Workspace.open(home, AccountService(home).unlock("alice", PASSWORD))
    dataset = workspace.datasets.current()
    assert dataset is not None
    items = []
    for i in range(n):
        meta = KINDS[i % 3]
        if i % 9 == 2:
            meta = meta.model_copy(update={"language_flag": "Simplified Chinese"})
        items.append((ExampleContent(user_prompt=f"question {i}", output=f"answer {i}"), meta))
    workspace.examples.add_many(dataset.id, items)
    return workspace


def stored_reviews(workspace: Workspace) -> list[ReviewState]:
    dataset = workspace.datasets.current()
    assert dataset is not None
    return [e.meta.review for e in workspace.examples.scan(dataset.id) if isinstance(e, Example)]


def cells(table: ExampleTable, *names: str) -> list[tuple[str, ...]]:
    rows = [table.row(i) or RowView("", {}) for i in range(table.total)]
    return [tuple(row.cells[name] for name in names) for row in rows]


async def test_columns_filters_and_accept_reject_keys(fast_home_dir: Path) -> None:
    remap_keys(fast_home_dir, {"examples.review_filter": "v", "examples.accept": "A"})
    home = open_home(fast_home_dir)
    make_user(home)
    workspace = fill_mixed(home, 9)
    app = ForgeApp(home)
    try:
        async with app.run_test(size=(120, 30)) as pilot:
            screen = await open_examples(pilot)
            table = screen.query_one(ExampleTable)
            assert cells(table, "review", "source", "flag")[:3] == [("✓", "audition", ""), ("✓", "import", ""),
                                                                    ("·", "job 7", "⚑")]  # fmt: skip
            header = "".join(segment.text for segment in table.render_line(0))
            assert "│ rev │ ⚑ │ source" in header
            await pilot.press("v")  # only the unreviewed ones
            await wait_until(pilot, lambda: table.total == 3)
            assert {c[0] for c in cells(table, "review")} == {"·"}
            assert "'default': 3 unreviewed (·) examples" in examples_status(screen)
            assert "v: accepted (✓)" in examples_status(screen)
            await pilot.press("space", "A")  # accepted: it leaves the unreviewed view
            await wait_until(pilot, lambda: table.total == 2)
            assert stored_reviews(workspace)[2] is ReviewState.ACCEPTED
            await pilot.press("minus")  # the row under the cursor (the next one) is rejected
            await wait_until(pilot, lambda: table.total == 1)
            assert stored_reviews(workspace)[5] is ReviewState.REJECTED
            await pilot.press("v", "v", "o", "o")  # rejected, from imports: none
            await wait_until(pilot, lambda: table.total == 0)
            assert "'default': 0 rejected (✗) imported examples" in examples_status(screen)
            await pilot.press("o")  # rejected, from jobs
            await wait_until(pilot, lambda: table.total == 1)
            await pilot.press("v", "o")  # any review state, from the playground: none
            await wait_until(pilot, lambda: table.total == 0)
            await pilot.press("ctrl+a", "minus", "o")  # nothing to reject; then from comparisons: none
            await wait_until(pilot, lambda: "compared" in examples_status(screen))
            assert table.total == 0
            await pilot.press("o")  # every source
            await wait_until(pilot, lambda: table.total == 9)
            assert stored_reviews(workspace).count(ReviewState.REJECTED) == 1
            await pilot.press("f1")
            await wait_for_screen(pilot, HelpScreen)
            help_text = app.screen.query_one(".help-about", WrappedStatic).text
            assert "A accepts and - rejects" in help_text and "v shows only unreviewed" in help_text
    finally:
        home.close()


async def test_the_detail_shows_the_origin_and_sets_the_review_state(home: Home) -> None:
    make_user(home)
    workspace = fill_mixed(home, 3)
    app = ForgeApp(home)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await open_examples(pilot)
        await pilot.press("down", "down", "enter")
        await wait_for_screen(pilot, ExampleDetail)
        detail = app.screen
        assert isinstance(detail, ExampleDetail)
        origin = str(detail.query_one("#d-origin", Static).render())
        assert origin == "From job 7 · · unreviewed · ⚑ language: Simplified Chinese"
        select = detail.query_one("#d-review", Select)
        assert select.value == "unreviewed"
        select.value = "rejected"
        await wait_until(pilot, lambda: "unsaved" in str(detail.query_one("#detail-title").render()))
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "saved" in str(detail.query_one("#detail-title").render()))
        assert "✗ rejected" in str(detail.query_one("#d-origin", Static).render())
        await pilot.press("escape")
        await wait_for_screen(pilot, ExamplesScreen)
        row = screen.query_one(ExampleTable).current()
        assert row is not None and row.cells["review"] == "✗"
    assert stored_reviews(workspace) == [ReviewState.ACCEPTED, ReviewState.ACCEPTED, ReviewState.REJECTED]


async def test_the_flag_filter_key_shows_only_the_language_flagged_examples(fast_home_dir: Path) -> None:
    remap_keys(fast_home_dir, {"examples.flag_filter": "9"})
    home = open_home(fast_home_dir)
    make_user(home)
    fill_mixed(home, 18)  # examples 2 and 11 are flagged
    app = ForgeApp(home)
    try:
        async with app.run_test(size=(120, 30)) as pilot:
            screen = await open_examples(pilot)
            table = screen.query_one(ExampleTable)
            assert table.total == 18
            await pilot.press("9")
            await wait_until(pilot, lambda: table.total == 2)
            assert cells(table, "prompt", "flag") == [("question 2", "⚑"), ("question 11", "⚑")]
            assert "'default': 2 language-flagged (⚑) examples" in examples_status(screen)
            assert "9: any language" in examples_status(screen)
            await pilot.press("9")
            await wait_until(pilot, lambda: table.total == 18)
            await pilot.press("f1")
            await wait_for_screen(pilot, HelpScreen)
            help_text = app.screen.query_one(".help-about", WrappedStatic).text
            assert "9 shows only those" in help_text
    finally:
        home.close()
