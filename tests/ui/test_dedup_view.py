"""The duplicates view from Examples: clusters listed, members side by side with their similarity,
keep the focused one (the rest rejected), keep all and undo put the review states back."""

from __future__ import annotations

import random

from textual.pilot import Pilot
from textual.widgets import OptionList

from forge_tui.core.models import Example, ExampleContent, ExampleMeta, ReviewState
from forge_tui.services.accounts import AccountService
from forge_tui.services.home import Home
from forge_tui.services.workspace import Workspace
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.dedup import DedupView
from forge_tui.ui.screens.examples import ExamplesScreen
from forge_tui.ui.widgets.job_detail import state_line
from tests.dedup_texts import reword, text
from tests.passwords import PASSWORD
from tests.ui.helpers import make_user, open_examples, static_text, wait_for_screen, wait_until


def planted(home: Home) -> tuple[Workspace, list[str]]:
    make_user(home)
    workspace = Workspace.open(home, AccountService(home).unlock("alice", PASSWORD))
    dataset = workspace.datasets.current()
    assert dataset is not None
    rng = random.Random(6)
    base, other, lone = text(rng, 50, 60), text(rng, 50, 60), text(rng, 50, 60)
    answers = [base, other, lone, reword(rng, base), other.lower()]
    reviews = [ReviewState.ACCEPTED, ReviewState.UNREVIEWED, ReviewState.UNREVIEWED, ReviewState.UNREVIEWED,
               ReviewState.ACCEPTED]  # fmt: skip
    ids = workspace.examples.add_many(
        dataset.id,
        [
            (ExampleContent(user_prompt="Q?", output=a), ExampleMeta(review=r))
            for a, r in zip(answers, reviews, strict=True)
        ],
    )
    return workspace, ids


async def found(pilot: Pilot[None]) -> DedupView:
    """The view, once its search for duplicates ended (the Examples screen's worker waits on the view)."""
    await wait_for_screen(pilot, DedupView)
    view = pilot.app.screen
    assert isinstance(view, DedupView)
    await wait_until(pilot, lambda: "Looking" not in static_text(view, "#dedup-status"))
    return view


def reviews(workspace: Workspace, ids: list[str]) -> list[ReviewState]:
    dataset = workspace.datasets.current()
    assert dataset is not None
    return [e.meta.review for e in workspace.examples.open_ids(dataset.id, ids) if isinstance(e, Example)]


async def test_keep_one_keep_all_and_undo_from_the_keyboard(home: Home) -> None:
    workspace, ids = planted(home)
    before = reviews(workspace, ids)
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_examples(pilot)
        await pilot.press("D")
        view = await found(pilot)
        assert [c.members for c in view.clusters] == [[ids[0], ids[3]], [ids[1], ids[4]]]
        assert "2 clusters, 2 undecided" in static_text(view, "#dedup-status")
        # Found by a dedup job of the app's JobHost (a dry run: nothing rejected until a key says so).
        assert app.job_host is not None
        (job,) = app.job_host.jobs.list()
        assert state_line(job).endswith("Dedup: 5 examples, 2 clusters, 0 dropped.")  # the Jobs screen's line
        assert (job.kind, job.status.value, job.results) == (
            "dedup",
            "done",
            {"examples": 5, "clusters": 2, "dropped": 0},
        )
        first = static_text(view, "#dedup-member-0")
        second = static_text(view, "#dedup-member-1")
        assert first.startswith("#1 of 2 · ✓ accepted · focused") and ids[0] in first
        assert second.startswith("#2 of 2 · · unreviewed · similarity 0.") and ids[3] in second

        await pilot.press("right", "k")  # keep the rewording, reject the original
        await wait_until(pilot, lambda: view.changed == 1)
        assert (
            reviews(workspace, ids)[0] is ReviewState.REJECTED and reviews(workspace, ids)[3] is ReviewState.UNREVIEWED
        )
        assert "kept" in str(view.query_one(OptionList).get_option_at_index(0).prompt)

        await pilot.press("down", "k")  # the exact pair: keep the first
        await wait_until(pilot, lambda: view.changed == 2)
        assert "#1 of 2 · · unreviewed · focused" in static_text(view, "#dedup-member-0")
        assert static_text(view, "#dedup-member-1").startswith("#2 of 2 · ✗ rejected · similarity 1.00")

        await pilot.press("u", "up", "a")  # undo the exact pair; keep all of the first cluster
        await wait_until(pilot, lambda: view.changed == 4)
        assert reviews(workspace, ids) == before
        await pilot.press("escape")
        await wait_for_screen(pilot, ExamplesScreen)


async def test_a_dataset_without_duplicates_says_so(home: Home) -> None:
    make_user(home)
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_examples(pilot)
        await pilot.press("D")
        await found(pilot)
        assert "No duplicates at similarity 0.8" in static_text(app.screen, "#dedup-status")
