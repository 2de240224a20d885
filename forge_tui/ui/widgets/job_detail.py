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
from forge_tui.i18n import _
from forge_tui.services.jobs import ItemError
from forge_tui.ui.localized import Localized
from forge_tui.ui.widgets.coverage_table import CoverageTable
from forge_tui.ui.widgets.job_list import state_name
from forge_tui.ui.widgets.plain import PlainStatic


def state_line(job: JobSummary) -> str:
    line = _("Job {id} is {state}: {done} of {total} made, {failed} failed.").format(
        id=job.id, state=state_name(job.status, job.kind), done=job.done, total=job.total, failed=job.failed
    )
    if job.status is JobState.PAUSED and job.pause_reason and job.pause_reason != JobState.PAUSED.value:
        line += " " + _("Paused: {reason}.").format(reason=job.pause_reason)
    if job.error:
        line += f" {job.error}"
    if is_judge_results(job.results):
        line += " " + _("Judged: {counts}.").format(counts=counts_line(job.results))
    if is_dedup_results(job.results):
        line += " " + _("Dedup: {counts}.").format(counts=dedup_line(job.results))
    if is_augment_results(job.results):
        line += " " + _("Augmented: {counts}.").format(counts=augment_line(job))
    if job.output_dir:
        line += " " + _("Output folder: {folder}").format(folder=job.output_dir)
    return line


class JobDetail(Localized, VerticalScroll):
    DEFAULT_CSS = """
    JobDetail { height: auto; max-height: 10; padding: 0 1; }
    JobDetail #job-errors { color: $error; }
    """

    def compose(self) -> ComposeResult:
        yield PlainStatic("", id="job-state")
        yield CoverageTable(id="job-coverage")
        yield PlainStatic("", id="job-errors")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: tuple[JobSummary | None, list[ItemError], Sequence[Coverage]] | None = None

    def draw_text(self) -> None:
        if self._shown is not None:
            self.show(*self._shown)

    def show(self, job: JobSummary | None, errors: list[ItemError], coverage: Sequence[Coverage] = ()) -> None:
        self._shown = (job, errors, coverage)
        self.query_one("#job-state", PlainStatic).update(state_line(job) if job else _("No jobs yet."))
        self.query_one(CoverageTable).show(coverage)
        lines = [_("item {n}: {reason}").format(n=e.idx + 1, reason=e.reason) for e in errors]
        self.query_one("#job-errors", PlainStatic).update("\n".join(lines))
