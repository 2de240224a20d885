"""Judge jobs (services.judge_jobs): scores stored with each example, actions below the threshold with
exact counts, auto-fix keeping the old answer as a rejected one and judging the new one again, and a
job killed with SIGKILL and resumed that loses nothing and changes no example twice.

The fake judge's scores are known: its replies are keyed on markers in the answers (and the fixer's
on markers in the judge's reasons), `replies_by_prompt_substring`."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.jobs import JobState, JobSummary
from forge_tui.core.judge_counts import Action, counts_line
from forge_tui.core.models import Example, ExampleContent, ExampleMeta, ReviewState
from forge_tui.core.rubrics import builtin_rubrics
from forge_tui.services.backends import BackendService
from forge_tui.services.job_kinds import recipe_for
from forge_tui.services.jobs import JobService, RunOptions
from forge_tui.services.judge_jobs import JudgeChoice, judge_plan
from forge_tui.services.workspace import Workspace
from forge_tui.store import jobs as job_rows
from forge_tui.store.jobs import ItemUpdate
from tests.fake_ollama import FakeOllama
from tests.judge_replies import verdict_json
from tests.passwords import PASSWORD

FAST = RunOptions(concurrency=4, attempts=2, backoff_s=0.01)
MODEL = "llama3.2:latest"
SCORES = {"MARK-NINE": 9, "MARK-SEVEN": 7, "MARK-SIX": 6, "MARK-THREE": 3, "MARK-TWO": 2}


def judge_replies(fake: FakeOllama) -> None:
    """Fix requests (they carry the judge's reason) first, then the judge's verdicts by answer."""
    fake.replies_by_prompt_substring = {
        "REASON-MARK-THREE": "A rewritten answer MARK-EIGHT-FIXED.",
        "REASON-MARK-TWO": "A rewritten answer MARK-FOUR-FIXED.",
        "MARK-EIGHT-FIXED": verdict_json(8, "better now"),
        "MARK-FOUR-FIXED": verdict_json(4, "still weak"),
        **{mark: verdict_json(score, f"REASON-{mark}") for mark, score in SCORES.items()},
    }


def fill(workspace: Workspace, marks: list[str], review: ReviewState = ReviewState.UNREVIEWED) -> tuple[int, list[str]]:
    dataset_id = workspace.datasets.create("judged").id
    items = [
        (ExampleContent(user_prompt=f"Question {i}?", output=f"Answer {i} {mark}"), ExampleMeta(review=review))
        for i, mark in enumerate(marks)
    ]
    return dataset_id, workspace.examples.add_many(dataset_id, items)


def choice(dataset_id: int, action: Action, only_unreviewed: bool = True) -> JudgeChoice:
    return JudgeChoice(
        dataset_id=dataset_id,
        rubric=builtin_rubrics()["overall"],
        model=MODEL,
        threshold=7,
        action=action,
        only_unreviewed=only_unreviewed,
    )


async def judged(workspace: Workspace, dataset_id: int, action: Action, fake: FakeOllama) -> JobSummary:
    jobs = JobService(workspace.home, workspace.unlocked)
    job = jobs.create(judge_plan(workspace.examples, choice(dataset_id, action)))
    async with BackendService(BackendSettings(base_url=fake.base_url, max_retries=0, concurrency=8)) as backend:
        return await jobs.run(job.id, backend, recipe_for("judge"), options=FAST)


def by_id(workspace: Workspace, dataset_id: int) -> dict[str, Example]:
    return {e.id: e for e in workspace.examples.scan(dataset_id) if isinstance(e, Example)}


MARKS = ["MARK-NINE", "MARK-SEVEN", "MARK-SIX", "MARK-THREE", "MARK-TWO"]


async def test_scores_are_stored_and_below_the_threshold_nothing_changes(
    workspace: Workspace, fake: FakeOllama
) -> None:
    judge_replies(fake)
    dataset_id, ids = fill(workspace, MARKS)
    ended = await judged(workspace, dataset_id, Action.NONE, fake)
    assert (ended.status, ended.done, ended.failed) == (JobState.DONE, 5, 0)
    assert ended.results == {"processed": 5, "kept": 2, "below": 3, "score_sum": 27}
    assert (
        counts_line(ended.results) == "processed 5, kept 2, fixed 0, removed 0, below the threshold 3, mean score 5.4"
    )
    examples = by_id(workspace, dataset_id)
    assert [examples[i].meta.score for i in ids] == [9, 7, 6, 3, 2]
    assert {e.meta.review for e in examples.values()} == {ReviewState.UNREVIEWED}
    reasons = workspace.examples.judgements(dataset_id, ids)
    assert [reasons[i].reason for i in ids] == [f"REASON-{mark}" for mark in MARKS]
    assert JobService(workspace.home, workspace.unlocked).get(ended.id).results == ended.results


async def test_reject_below_the_threshold_is_counted_and_reversible(workspace: Workspace, fake: FakeOllama) -> None:
    judge_replies(fake)
    dataset_id, ids = fill(workspace, MARKS)
    ended = await judged(workspace, dataset_id, Action.REJECT, fake)
    assert ended.results == {"processed": 5, "kept": 2, "removed": 3, "score_sum": 27}
    examples = by_id(workspace, dataset_id)
    assert [examples[i].meta.review for i in ids] == [ReviewState.UNREVIEWED] * 2 + [ReviewState.REJECTED] * 3
    workspace.examples.set_review(ids[2:], ReviewState.UNREVIEWED)
    assert {e.meta.review for e in by_id(workspace, dataset_id).values()} == {ReviewState.UNREVIEWED}


async def test_auto_fix_keeps_the_old_answer_as_rejected_and_judges_the_new_one(
    workspace: Workspace, fake: FakeOllama
) -> None:
    judge_replies(fake)
    dataset_id, ids = fill(workspace, ["MARK-NINE", "MARK-THREE", "MARK-TWO"])
    ended = await judged(workspace, dataset_id, Action.FIX, fake)
    assert ended.results == {"processed": 3, "kept": 1, "fixed": 1, "still_low": 1, "score_sum": 21}
    assert counts_line(ended.results) == "processed 3, kept 1, fixed 2 (1 still low), removed 0, mean score 7.0"
    examples = by_id(workspace, dataset_id)
    kept, fixed, low = (examples[i] for i in ids)
    assert (kept.content.output, kept.content.rejected) == ("Answer 0 MARK-NINE", [])
    assert (fixed.content.output, fixed.content.rejected) == (
        "A rewritten answer MARK-EIGHT-FIXED.",
        ["Answer 1 MARK-THREE"],
    )
    assert (low.content.output, low.content.rejected) == ("A rewritten answer MARK-FOUR-FIXED.", ["Answer 2 MARK-TWO"])
    assert [examples[i].meta.score for i in ids] == [9, 8, 4]
    reasons = workspace.examples.judgements(dataset_id, ids)
    assert (reasons[ids[1]].reason, reasons[ids[2]].reason) == ("better now", "still weak")
    assert {e.meta.review for e in examples.values()} == {ReviewState.UNREVIEWED}  # not looped, not rejected


async def test_only_unreviewed_examples_are_planned_unless_all_are_asked(workspace: Workspace) -> None:
    dataset_id, ids = fill(workspace, MARKS)
    workspace.examples.set_review(ids[:2], ReviewState.ACCEPTED)
    unreviewed = judge_plan(workspace.examples, choice(dataset_id, Action.NONE))
    every = judge_plan(workspace.examples, choice(dataset_id, Action.NONE, only_unreviewed=False))
    assert [item.slots["example_id"] for item in unreviewed.items] == ids[2:]
    assert [item.slots["example_id"] for item in every.items] == ids
    assert every.params["count"] == 5 and "MARK" not in str(every.params)


async def test_an_example_deleted_before_its_turn_fails_with_a_reason(workspace: Workspace, fake: FakeOllama) -> None:
    judge_replies(fake)
    dataset_id, ids = fill(workspace, MARKS[:2])
    jobs = JobService(workspace.home, workspace.unlocked)
    job = jobs.create(judge_plan(workspace.examples, choice(dataset_id, Action.NONE)))
    workspace.examples.delete(dataset_id, ids[:1])
    async with BackendService(BackendSettings(base_url=fake.base_url, max_retries=0)) as backend:
        ended = await jobs.run(job.id, backend, recipe_for("judge"), options=FAST)
    assert (ended.done, ended.failed) == (1, 1)
    assert "was deleted or cannot be read" in jobs.errors(job.id)[0].reason


COUNT = 120
CHILD_TIMEOUT = 60


def start_child(workspace: Workspace, job_id: int, fake: FakeOllama) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.job_child", str(workspace.home.path), str(job_id), fake.base_url, "4", "judge"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    assert child.stdin is not None
    child.stdin.write(PASSWORD + "\n")
    child.stdin.close()
    return child


def done_count(workspace: Workspace, job_id: int) -> int:
    with workspace.home.engine.connect() as conn:
        found = conn.exec_driver_sql("SELECT count(*) FROM job_item WHERE job_id = ? AND status = 'done'", (job_id,))
        return int(found.scalar_one())


@pytest.mark.slow
def test_a_judge_job_killed_with_sigkill_resumes_and_fixes_each_example_once(workspace: Workspace) -> None:
    dataset_id, ids = fill(workspace, ["MARK-THREE"] * COUNT)
    jobs = JobService(workspace.home, workspace.unlocked)
    job_id = jobs.create(judge_plan(workspace.examples, choice(dataset_id, Action.FIX))).id
    with FakeOllama(token_latency=0.002, parallel=4) as fake:
        judge_replies(fake)
        child = start_child(workspace, job_id, fake)
        deadline = time.monotonic() + CHILD_TIMEOUT
        while done_count(workspace, job_id) < 20 and child.poll() is None:
            assert time.monotonic() < deadline, "the job made no progress"
            time.sleep(0.005)
        assert child.poll() is None, "the job finished before it could be killed"
        child.kill()
        child.wait()
        assert child.stdout is not None
        child.stdout.close()
        assert 0 < done_count(workspace, job_id) < COUNT
        child = start_child(workspace, job_id, fake)
        child.wait(timeout=CHILD_TIMEOUT)
        assert child.stdout is not None
        with child.stdout:
            out = child.stdout.read()
    assert child.returncode == 0 and out.strip() == "done"
    summary = jobs.get(job_id)
    assert (summary.status, summary.done, summary.failed) == (JobState.DONE, COUNT, 0)
    assert summary.results == {"processed": COUNT, "fixed": COUNT, "score_sum": 8 * COUNT}
    examples = by_id(workspace, dataset_id)
    assert sorted(examples) == sorted(ids)
    for i, example_id in enumerate(ids):
        content = examples[example_id].content
        assert (content.output, content.rejected) == (
            "A rewritten answer MARK-EIGHT-FIXED.",
            [f"Answer {i} MARK-THREE"],
        )
        assert examples[example_id].meta.score == 8


def test_an_update_is_applied_with_its_item_once(workspace: Workspace) -> None:
    dataset_id, ids = fill(workspace, MARKS[:2])
    jobs = JobService(workspace.home, workspace.unlocked)
    job_id = jobs.create(judge_plan(workspace.examples, choice(dataset_id, Action.NONE))).id
    applied: list[str] = []
    update = ItemUpdate(0, ids[0], lambda _conn: applied.append(ids[0]))
    for expected in (1, 0):  # the same item's update committed again changes nothing more
        with workspace.home.engine.begin() as conn:
            assert job_rows.record(conn, job_id, [], [], [update])[0] == expected
    assert applied == [ids[0]]
    assert jobs.get(job_id).done == 1


async def test_the_pairwise_rubric_puts_the_better_answer_on_the_chosen_side(
    workspace: Workspace, fake: FakeOllama
) -> None:
    """The answer against its first rejected answer: verdict b swaps them, a and tie leave the pair."""
    fake.replies_by_prompt_substring = {
        "B-WINS": '{"verdict": "b", "score": 8, "reason": "b is clearer"}',
        "A-WINS": '{"verdict": "a", "score": 7, "reason": "a is right"}',
    }
    dataset_id = workspace.datasets.create("pairs").id
    contents = [
        ExampleContent(user_prompt="Q1?", output="weak one", rejected=["strong one B-WINS", "other"]),
        ExampleContent(user_prompt="Q2?", output="good one A-WINS", rejected=["bad one"]),
        ExampleContent(user_prompt="Q3?", output="alone"),
    ]
    ids = workspace.examples.add_many(dataset_id, [(c, ExampleMeta(review=ReviewState.UNREVIEWED)) for c in contents])
    jobs = JobService(workspace.home, workspace.unlocked)
    pairwise = JudgeChoice(
        dataset_id=dataset_id, rubric=builtin_rubrics()["pairwise"], model=MODEL, threshold=7, action=Action.NONE
    )
    job = jobs.create(judge_plan(workspace.examples, pairwise))
    async with BackendService(BackendSettings(base_url=fake.base_url, max_retries=0)) as backend:
        ended = await jobs.run(job.id, backend, recipe_for("judge"), options=FAST)
    assert ended.results == {"processed": 3, "kept": 1, "swapped": 1, "unpaired": 1, "score_sum": 15}
    examples = by_id(workspace, dataset_id)
    assert examples[ids[0]].content.output == "strong one B-WINS"
    assert examples[ids[0]].content.rejected == ["weak one", "other"]
    assert examples[ids[1]].content.output == "good one A-WINS" and examples[ids[1]].content.rejected == ["bad one"]
    assert examples[ids[2]].content == contents[2] and examples[ids[2]].meta.score is None
    assert "pairs swapped 1, without a pair 1, mean score 7.5" in counts_line(ended.results)
