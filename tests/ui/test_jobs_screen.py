"""The Jobs screen against the fake Ollama: a job made through the dialog runs to done with live
counts; pause and resume; a failed item's reason; the resume offer at start; snapshots at 80×24."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Select

from forge_tui.core.generation import GenerationSpec
from forge_tui.core.jobs import JobState, JobSummary
from forge_tui.core.models import Example, ExampleContent, ExampleMeta, ExampleSource, ReviewState
from forge_tui.core.pool_stats import EndpointState, EndpointStats
from forge_tui.services import job_runner
from forge_tui.services.accounts import AccountService
from forge_tui.services.endpoint_pool import EndpointPool
from forge_tui.services.generation_jobs import generation_plan
from forge_tui.services.home import Home, open_home
from forge_tui.services.job_host import JobHost
from forge_tui.services.jobs import JobService
from forge_tui.services.workspace import Workspace
from forge_tui.store.jobs import write_endpoint_stats
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.common import Confirm
from forge_tui.ui.dialogs.help import HelpScreen
from forge_tui.ui.dialogs.judge_job import JudgeJobForm
from forge_tui.ui.dialogs.new_job import NewJobForm, PlanPreview
from forge_tui.ui.dialogs.topic_tree import TopicTreeDialog
from forge_tui.ui.screens.datasets import DatasetsScreen
from forge_tui.ui.screens.examples import ExamplesScreen
from forge_tui.ui.screens.jobs import JobsScreen
from forge_tui.ui.widgets.coverage_table import CoverageTable
from forge_tui.ui.widgets.endpoint_table import EndpointTable
from forge_tui.ui.widgets.example_table import ExampleTable, RowView
from forge_tui.ui.widgets.job_list import JobTable
from forge_tui.ui.widgets.wrapped_static import WrappedStatic
from tests.fake_ollama import FakeOllama
from tests.judge_replies import verdict_json
from tests.passwords import PASSWORD
from tests.ui.helpers import (
    RunBefore,
    at_datasets,
    examples_status,
    make_user,
    prepare_backend,
    remap_keys,
    static_text,
    unlock,
    wait_for_screen,
    wait_until,
)


def host_of(pilot: Pilot[None]) -> JobHost:
    app = pilot.app
    assert isinstance(app, ForgeApp) and app.job_host is not None
    return app.job_host


def shown_jobs(pilot: Pilot[None]) -> list[JobSummary]:
    return pilot.app.screen.query_one(JobTable).jobs


def shown_state(pilot: Pilot[None]) -> tuple[str, int, int] | None:
    jobs = shown_jobs(pilot) if isinstance(pilot.app.screen, JobsScreen) else []
    return (jobs[0].status.value, jobs[0].done, jobs[0].failed) if jobs else None


async def open_jobs(pilot: Pilot[None]) -> JobsScreen:
    await at_datasets(pilot)
    await pilot.press("b")
    await wait_for_screen(pilot, JobsScreen)
    screen = pilot.app.screen
    assert isinstance(screen, JobsScreen)
    return screen


@asynccontextmanager
async def jobs_screen(home: Home, fake: FakeOllama, token_latency: float) -> AsyncIterator[Pilot[None]]:
    """The app against the fake (answering a token every `token_latency` s), unlocked, on its Jobs screen."""
    prepare_backend(home, fake)
    fake.token_latency = token_latency
    async with ForgeApp(home).run_test(size=(100, 30)) as pilot:
        await open_jobs(pilot)
        yield pilot


async def answer_resume_offer(pilot: Pilot[None], key: str) -> None:
    """Unlocks, answers the offer to resume the unfinished job with `key`, then opens the Jobs screen."""
    await unlock(pilot)
    await wait_for_screen(pilot, Confirm)
    await pilot.press(key)
    await wait_for_screen(pilot, DatasetsScreen)
    await pilot.press("b")
    await wait_for_screen(pilot, JobsScreen)


async def new_job(pilot: Pilot[None], count: int, **typed: str) -> None:
    """n, the count (and other fields), ctrl+s to plan, y to start."""
    await pilot.press("n")
    await wait_for_screen(pilot, NewJobForm)
    form = pilot.app.screen
    for name, value in {"count": str(count), "paraphrase_model": "", **typed}.items():
        form.query_one(f"#job-{name}", Input).value = value
    await pilot.press("ctrl+s")
    await wait_for_screen(pilot, PlanPreview)
    preview = pilot.app.screen
    assert isinstance(preview, PlanPreview)
    assert len(preview.plan.items) == count and len(preview.plan.prompts) == min(5, count)
    assert preview.plan.spread["topic"].total() == count
    await pilot.press("y")
    await wait_for_screen(pilot, JobsScreen)


def alice(home: Home) -> Workspace:
    return Workspace.open(home, AccountService(home).unlock("alice", PASSWORD))


def planned_job(home: Home, count: int, seed: int = 7) -> tuple[int, list[int]]:
    """A planned job of alice's (first starter template, current dataset, no paraphrase): id, item seeds."""
    workspace = alice(home)
    dataset = workspace.datasets.current()
    assert dataset is not None
    template = next(t for t in workspace.templates.list() if "topic" in t.used_slots())
    spec = GenerationSpec(template=template, count=count, dataset_id=dataset.id, model="llama3.2", seed=seed)
    plan = generation_plan(spec)
    created = JobService(home, workspace.unlocked).create(plan)
    return created.id, [item.seed for item in plan.items]


async def test_a_job_made_in_the_dialog_runs_to_done_with_live_counts(home: Home, fake: FakeOllama) -> None:
    async with jobs_screen(home, fake, token_latency=0.03) as pilot:
        await new_job(pilot, 24)  # long enough that a loaded machine still shows it running
        seen: list[tuple[str, int, int] | None] = []

        def done() -> bool:
            seen.append(shown_state(pilot))
            return seen[-1] == ("done", 24, 0)

        await wait_until(pilot, done, timeout=60)
        assert any(s is not None and s[0] == "running" and 0 < s[1] < 24 for s in seen), seen
        workspace = alice(home)
        dataset = workspace.datasets.current()
        assert dataset is not None and dataset.example_count == 24
        await pilot.press("o")
        await wait_for_screen(pilot, ExamplesScreen)


async def test_a_judge_job_made_in_its_dialog_rejects_below_the_threshold_and_shows_the_counts(
    home: Home, fake: FakeOllama
) -> None:
    prepare_backend(home, fake)
    workspace = alice(home)
    dataset = workspace.datasets.current()
    assert dataset is not None
    marks = ["MARK-HIGH", "MARK-LOW", "MARK-HIGH"]
    content = [ExampleContent(user_prompt=f"Q{i}?", output=f"A{i} {m}") for i, m in enumerate(marks)]
    workspace.examples.add_many(dataset.id, [(c, ExampleMeta(review=ReviewState.UNREVIEWED)) for c in content])
    fake.replies_by_prompt_substring = {"MARK-LOW": verdict_json(2, "weak"), "MARK-HIGH": verdict_json(9, "fine")}
    async with ForgeApp(home).run_test(size=(100, 30)) as pilot:
        await open_jobs(pilot)
        await pilot.press("j")
        await wait_for_screen(pilot, JudgeJobForm)
        pilot.app.screen.query_one("#judge-action", Select).value = "reject"
        await pilot.press("ctrl+s")
        await wait_for_screen(pilot, Confirm)
        assert "Judge 3 unreviewed examples with overall on llama3.2?" in static_text(pilot.app.screen, ".dialog-title")
        await pilot.press("y")
        await wait_for_screen(pilot, JobsScreen)
        await wait_until(pilot, lambda: shown_state(pilot) == ("done", 3, 0), timeout=20)
        said = "Judged: processed 3, kept 2, fixed 0, removed 1, mean score 6.7."
        await wait_until(pilot, lambda: said in static_text(pilot.app.screen, "#job-state"))
    reviews = [e.meta.review for e in workspace.examples.scan(dataset.id) if isinstance(e, Example)]
    assert sorted(reviews) == sorted([ReviewState.UNREVIEWED, ReviewState.REJECTED, ReviewState.UNREVIEWED])


async def test_pause_then_resume(home: Home, fake: FakeOllama) -> None:
    async with jobs_screen(home, fake, token_latency=0.05) as pilot:
        await new_job(pilot, 40)
        await wait_until(pilot, lambda: (s := shown_state(pilot)) is not None and s[1] >= 1, timeout=20)
        await pilot.press("p")
        host = host_of(pilot)
        await wait_until(pilot, lambda: shown_state(pilot) is not None and not host.running(shown_jobs(pilot)[0].id))
        state = shown_state(pilot)
        assert state is not None and state[0] == "paused" and state[1] < 40
        assert "paused" in static_text(pilot.app.screen, "#job-state")
        fake.token_latency = 0
        await pilot.press("r")
        await wait_until(pilot, lambda: shown_state(pilot) == ("done", 40, 0), timeout=30)


async def test_the_errors_pane_says_why_an_item_failed(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake, max_retries=0)
    _, seeds = planned_job(home, 3)
    fake.faults_by_seed = {seeds[1]: "fail"}
    async with ForgeApp(home).run_test(size=(100, 30)) as pilot:
        await answer_resume_offer(pilot, "y")
        await wait_until(pilot, lambda: shown_state(pilot) == ("done", 2, 1), timeout=20)
        await wait_until(pilot, lambda: "item 2:" in static_text(pilot.app.screen, "#job-errors"))


async def test_starting_with_an_unfinished_job_offers_to_resume_it(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake)
    job_id, _ = planned_job(home, 4)
    async with ForgeApp(home).run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        await wait_for_screen(pilot, Confirm)
        assert f"Job {job_id}" in static_text(pilot.app.screen, ".dialog-title")
        await pilot.press("y")
        await wait_until(pilot, lambda: JobService(home, alice(home).unlocked).get(job_id).status is JobState.DONE)
    # Declined: the offer comes again at the next start, the job untouched.
    job_id, _ = planned_job(home, 2)
    async with ForgeApp(home).run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        await wait_for_screen(pilot, Confirm)
        await pilot.press("n")
        await wait_for_screen(pilot, DatasetsScreen)
    assert JobService(home, alice(home).unlocked).get(job_id).status is JobState.PLANNED


async def test_o_opens_only_that_jobs_examples_in_its_dataset(home: Home) -> None:
    """Two jobs' examples and Audition's in one dataset, another dataset current: `o` shows one job's."""
    make_user(home)
    first, _ = planned_job(home, 2)
    second, _ = planned_job(home, 2)
    workspace = alice(home)
    jobs = JobService(home, workspace.unlocked)
    for job_id in (first, second):
        jobs.cancel(job_id)  # no resume offer at start
    dataset = workspace.datasets.current()
    assert dataset is not None
    made = [ExampleMeta(), ExampleMeta()]
    made += [ExampleMeta(source=ExampleSource.JOB, job_id=first)] * 3
    made += [ExampleMeta(source=ExampleSource.JOB, job_id=second)] * 4
    workspace.examples.add_many(dataset.id, [(ExampleContent(user_prompt=f"q{i}"), m) for i, m in enumerate(made)])
    workspace.datasets.switch(workspace.datasets.create("other").id)
    async with ForgeApp(home).run_test(size=(100, 30)) as pilot:
        screen = await open_jobs(pilot)
        await wait_until(pilot, lambda: len(shown_jobs(pilot)) == 2)
        chosen = screen.selected
        assert chosen is not None
        await pilot.press("o")
        await wait_for_screen(pilot, ExamplesScreen)
        examples = pilot.app.screen
        assert isinstance(examples, ExamplesScreen)
        table = examples.query_one(ExampleTable)
        wanted = 3 if chosen.id == first else 4
        await wait_until(pilot, lambda: table.total == wanted)
        sources = {(table.row(i) or RowView("", {})).cells["source"] for i in range(table.total)}
        assert sources == {f"job {chosen.id}"}
        assert examples.dataset is not None and examples.dataset.id == dataset.id
        assert f"job {chosen.id} example" in examples_status(examples)


FIGURES = [
    EndpointStats("gpu-a", "http://10.0.0.5:11434", EndpointState.HEALTHY, 12, 16, 32, 342.0, 1250.5, 0.0, 900, 0),
    EndpointStats("gpu-b", "http://10.0.0.6:8000", EndpointState.BACKING_OFF, 3, 4, 32, 41.0, 150.0, 0.125, 80, 9),
    EndpointStats("a-long-endpoint-name-x", "http://laptop:11434", EndpointState.DROPPED, 0, 1, 1024, 0, 0, 1.0, 5, 20),
]


def write_figures(home: Home, job_id: int, figures: list[EndpointStats]) -> None:
    """As the job's runner writes them with its heartbeat, in whichever process runs it."""
    with home.engine.begin() as conn:
        write_endpoint_stats(conn, job_id, [f.to_json() for f in figures])


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_the_endpoint_table_shows_the_selected_jobs_servers_and_follows_them(
    home: Home, size: tuple[int, int]
) -> None:
    make_user(home)
    on_pool, _ = planned_job(home, 2)
    no_figures, _ = planned_job(home, 2)
    jobs = JobService(home, alice(home).unlocked)
    for job_id in (on_pool, no_figures):
        jobs.cancel(job_id)  # no resume offer at start
    write_figures(home, on_pool, FIGURES)
    async with ForgeApp(home).run_test(size=size) as pilot:
        screen = await open_jobs(pilot)
        table = screen.query_one(EndpointTable)
        await wait_until(pilot, lambda: len(shown_jobs(pilot)) == 2)
        assert screen.selected is not None and screen.selected.id == no_figures
        assert not table.display  # nothing to show before a job ran on a pool
        await pilot.press("down")
        await wait_until(pilot, lambda: table.row_count == 3)
        assert table.display
        assert [str(c.label) for c in table.ordered_columns] == [
            "Endpoint", "State", "In flight", "Limit", "/min", "Tokens/s", "Errors"
        ]  # fmt: skip
        assert [table.get_row_at(i) for i in range(3)] == [
            ["gpu-a", "healthy", "12", "16/32", "342", "1250", "0%"],
            ["gpu-b", "backing off", "3", "4/32", "41", "150", "12%"],
            ["a-long-endpoint…", "dropped", "0", "1/1024", "0", "0", "100%"],
        ]
        await pilot.pause()
        # Every row and column on screen, none cut off or scrolled away.
        assert screen.region.contains_region(table.region) and table.region.height >= 5
        assert table.virtual_size.width <= table.scrollable_content_region.width, table.virtual_size

        write_figures(home, on_pool, [dataclasses.replace(FIGURES[0], in_flight=20, limit=24)])
        await wait_until(pilot, lambda: table.row_count == 1, timeout=5)
        assert table.get_row_at(0)[2:4] == ["20", "24/32"]


async def test_f1_names_every_jobs_key_as_bound(fast_home_dir: Path) -> None:
    remap_keys(fast_home_dir, {"jobs.cancel": "X", "jobs.open_examples": "E"})
    home = open_home(fast_home_dir)
    make_user(home)
    try:
        async with ForgeApp(home).run_test(size=(100, 30)) as pilot:
            await open_jobs(pilot)
            await pilot.press("f1")
            await wait_for_screen(pilot, HelpScreen)
            text = pilot.app.screen.query_one(".help-about", WrappedStatic).text
            assert "X cancels" in text and "E shows only its examples" in text
    finally:
        home.close()


async def test_resuming_against_a_dead_server_says_so_once(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake, base_url="http://127.0.0.1:9", max_retries=0)
    job_id, _ = planned_job(home, 2)
    async with ForgeApp(home).run_test(size=(100, 30)) as pilot:
        await answer_resume_offer(pilot, "n")
        pilot.app.clear_notifications()
        await pilot.press("r")
        await wait_until(pilot, lambda: bool(pilot.app._notifications), timeout=20)
        await pilot.pause(0.5)
        toasts = list(pilot.app._notifications)
        assert len(toasts) == 1, [t.message for t in toasts]
        assert "Traceback" not in toasts[0].message and len(toasts[0].message) < 300
        assert not host_of(pilot).running(job_id)


SNAPSHOT_FIGURES = [
    EndpointStats("gpu1", "http://gpu1:11434", EndpointState.HEALTHY, 3, 12, 32, 118.0, 640.5, 0.0, 240, 0),
    EndpointStats("gpu2", "http://gpu2:11434", EndpointState.BACKING_OFF, 1, 4, 32, 31.0, 160.2, 0.08, 61, 5),
]


class SteppedClock:
    """The job runner's clock: real until `freeze(at)`, then standing at `at` (its rate stays put)."""

    def __init__(self) -> None:
        self.frozen: float | None = None
        self.time = time.time

    def monotonic(self) -> float:
        return self.frozen if self.frozen is not None else time.monotonic()


def jobs_snapshot(
    home: Home, fake: FakeOllama, monkeypatch: pytest.MonkeyPatch, paused: bool
) -> tuple[ForgeApp, RunBefore]:
    """A 4-item job resumed at start: items 1 and 2 made, item 3 failed, item 4 stalled mid-answer,
    the runner's clock stopped a minute after it started (2 a minute, ETA 30 s); or that job paused."""
    prepare_backend(home, fake, max_retries=0)
    job_id, seeds = planned_job(home, 4)
    fake.faults_by_seed = {seeds[2]: "fail", seeds[3]: "stall"}
    clock = SteppedClock()
    monkeypatch.setattr(job_runner, "time", clock)
    # The pool's figures are rates over real time: fixed here, as the runner's clock is.
    monkeypatch.setattr(EndpointPool, "stats", lambda self: SNAPSHOT_FIGURES)

    async def run_before(pilot: Pilot[None]) -> None:
        await unlock(pilot)
        await wait_for_screen(pilot, Confirm)
        started = time.monotonic()
        await pilot.press("y")
        await wait_for_screen(pilot, DatasetsScreen)
        service = JobService(home, alice(home).unlocked)
        await wait_until(pilot, lambda: (j := service.get(job_id)).done == 2 and j.failed == 1, timeout=20)
        clock.frozen = started + 60
        await pilot.press("b")
        await wait_for_screen(pilot, JobsScreen)
        if paused:
            await pilot.press("p")
            await wait_until(pilot, lambda: shown_state(pilot) == ("paused", 2, 1))
            await wait_until(pilot, lambda: not host_of(pilot).running(job_id))  # its "paused" toast is out
        else:
            await wait_until(pilot, lambda: (j := shown_jobs(pilot)) != [] and j[0].per_minute is not None)
        await wait_until(pilot, lambda: "item 3:" in static_text(pilot.app.screen, "#job-errors"))
        await wait_until(pilot, lambda: pilot.app.screen.query_one(EndpointTable).row_count == 2)
        pilot.app.clear_notifications()
        await pilot.pause(0.3)

    return ForgeApp(home), run_before


@pytest.mark.parametrize("paused", [False, True], ids=["running", "paused"])
def test_snapshot(
    home: Home, fake: FakeOllama, monkeypatch: pytest.MonkeyPatch, snap_compare: Any, paused: bool
) -> None:
    app, run_before = jobs_snapshot(home, fake, monkeypatch, paused)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def inside(pilot: Pilot[None], shown: Region) -> bool:
    """Drawn inside the dialog's box (which is clipped to the screen), not cut off below it."""
    box = pilot.app.screen.query_one(".dialog").scrollable_content_region
    return pilot.app.screen.region.contains_region(box) and box.contains_region(shown)


async def test_the_new_job_dialogs_fit_80x24_with_their_fields_and_buttons(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake)
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_jobs(pilot)
        await pilot.press("n")
        await wait_for_screen(pilot, NewJobForm)
        form = pilot.app.screen
        for selector in ("#job-template", "#job-count", "#job-model", "#job-sources", "#plan", "#cancel"):
            shown = form.query_one(selector).region
            # The app's shared `.dialog Label { width: 100% }` once pushed every field out of sight.
            assert shown.width >= 6 and inside(pilot, shown), (selector, shown)
        await pilot.press("ctrl+t")
        await wait_for_screen(pilot, TopicTreeDialog)
        tree = pilot.app.screen
        for selector in ("#tree-topic", "#tree-k", "#tree-depth", "#tree-text", "#expand", "#accept", "#cancel"):
            shown = tree.query_one(selector).region
            assert shown.width >= 6 and inside(pilot, shown), (selector, shown)
        await pilot.press("escape")
        await wait_for_screen(pilot, NewJobForm)
        await pilot.press("ctrl+s")
        await wait_for_screen(pilot, PlanPreview)
        preview = pilot.app.screen
        for selector in ("#plan-spread", "#yes", "#no"):
            shown = preview.query_one(selector).region
            assert shown.width >= 6 and inside(pilot, shown), (selector, shown)


async def test_an_until_n_job_from_the_dialog_shows_its_coverage_per_slot_value(
    home: Home, fake: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.judge_model = "qwen3:0.6b"
    # The fake judge fails one answer in three, chosen by a hash of the answer, and the plan's seeds
    # are new each run: 12 attempts left a value short of its 2 passes about once in thirty runs.
    # With 30 attempts and one failure in six that is below one run in a million.
    fake.judge_fail_every = 6
    prepare_backend(home, fake)
    async with ForgeApp(home).run_test(size=(80, 24)) as pilot:
        await open_jobs(pilot)
        await pilot.press("n")
        await wait_for_screen(pilot, NewJobForm)
        form = pilot.app.screen
        typed = {"paraphrase_model": "", "sources": "topic=values:tides|volcanoes", "until_pass": "4"}
        typed |= {"judge_model": "qwen3:0.6b", "threshold": "7", "max_attempts": "30"}
        for name, value in typed.items():
            form.query_one(f"#job-{name}", Input).value = value
        for selector in ("#job-until_pass", "#job-judge_model", "#job-dedup", "#job-max_attempts", "#job-quotas"):
            form.query_one(selector).focus()
            await pilot.pause()
            shown = form.query_one(selector).region
            assert shown.width >= 6 and inside(pilot, shown), (selector, shown)
        await pilot.press("space")  # the quotas checkbox, focused last
        assert form.query_one("#job-quotas", Checkbox).value
        await pilot.press("ctrl+s")
        await wait_for_screen(pilot, PlanPreview)
        preview = pilot.app.screen
        assert isinstance(preview, PlanPreview) and len(preview.plan.items) == 30
        await pilot.press("y")
        await wait_for_screen(pilot, JobsScreen)
        ended = ("done", "failed")
        await wait_until(pilot, lambda: (s := shown_state(pilot)) is not None and s[0] in ended, timeout=30)
        assert shown_jobs(pilot)[0].status.value == "done", shown_jobs(pilot)[0]
        table = pilot.app.screen.query_one(CoverageTable)
        await wait_until(pilot, lambda: len(table.rows_shown) == 2)
        assert table.display
        assert table.rows_shown == [("topic", "tides", "2", "2"), ("topic", "volcanoes", "2", "2")]
        workspace = alice(home)
        dataset = workspace.datasets.current()
        assert dataset is not None
        passed = [e for e in workspace.examples.scan(dataset.id) if isinstance(e, Example)]
        assert len([e for e in passed if e.meta.review is ReviewState.UNREVIEWED]) == 4
