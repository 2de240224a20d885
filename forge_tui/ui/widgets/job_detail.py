"""The selected job's state in words, its coverage against its target ("until N pass") and its last
errors, each with its reason."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import VerticalScroll

from forge_tui.core.augment import augment_line, is_augment_results
from forge_tui.core.dedup_counts import dedup_line, is_dedup_results
from forge_tui.core.generation import Coverage
from forge_tui.core.jobs import JobState, JobSummary
from forge_tui.core.judge_counts import counts_line, is_judge_results
from forge_tui.services.jobs import ItemError
from forge_tui.ui.widgets.coverage_table import CoverageTable
from forge_tui.ui.widgets.plain import PlainStatic


def state_line(job: JobSummary) -> str:
    line = f"Job {job.id} is {job.status.value}: {job.done} of {job.total} made, {job.failed} failed."
    if job.status is JobState.PAUSED and job.pause_reason and job.pause_reason != JobState.PAUSED.value:
        line += f" Paused: {job.pause_reason}."
    if job.error:
        line += f" {job.error}"
    if is_judge_results(job.results):
        line += f" Judged: {counts_line(job.results)}."
    if is_dedup_results(job.results):
        line += f" Dedup: {dedup_line(job.results)}."
    if is_augment_results(job.results):
        line += f" Augmented: {augment_line(job)}."
    return line


class JobDetail(VerticalScroll):
    DEFAULT_CSS = """
    JobDetail { height: auto; max-height: 10; padding: 0 1; }
    JobDetail #job-errors { color: $error; }
    """

    def compose(self) -> ComposeResult:
        yield PlainStatic("", id="job-state")
        yield CoverageTable(id="job-coverage")
        yield PlainStatic("", id="job-errors")

    def show(self, job: JobSummary | None, errors: list[ItemError], coverage: Sequence[Coverage] = ()) -> None:
        self.query_one("#job-state", PlainStatic).update(state_line(job) if job else "No jobs yet.")
        self.query_one(CoverageTable).show(coverage)
        lines = [f"item {e.idx + 1}: {e.reason}" for e in errors]
        self.query_one("#job-errors", PlainStatic).update("\n".join(lines))
