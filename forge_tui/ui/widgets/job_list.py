"""The Jobs screen's table: one row per job with its state, progress, failures, rate, ETA and model.
Rows are updated in place, so the cursor stays where the user put it while counts move."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.message import Message
from textual.widgets import DataTable

from forge_tui.core.jobs import JobState, JobSummary
from forge_tui.i18n import N_, _
from forge_tui.ui.shown import shown_cell
from forge_tui.ui.widgets.table_headers import LocalizedTable

COLUMNS = (("#", "id"), (N_("Job"), "name"), (N_("State"), "state"), (N_("Done"), "done"), (N_("Fail"), "failed"))
COLUMNS_AFTER = ((N_("/min"), "rate"), (N_("ETA"), "eta"), (N_("Model"), "model"))
# A job's state as the table and the detail line name it (the CLI and --json keep the values).
STATE_NAMES = {
    JobState.PLANNED: N_("planned"),
    JobState.RUNNING: N_("running"),
    JobState.PAUSED: N_("paused"),
    JobState.DONE: N_("done"),
    JobState.FAILED: N_("failed"),
    JobState.CANCELLED: N_("cancelled"),
}


# A training run's outcome (services.train_jobs): the trainer finished, or was stopped.
TRAIN_STATE_NAMES = {JobState.DONE: N_("finished"), JobState.CANCELLED: N_("stopped")}


def state_name(state: JobState, kind: str = "") -> str:
    if kind == "train" and state in TRAIN_STATE_NAMES:
        return _(TRAIN_STATE_NAMES[state])
    return _(STATE_NAMES[state])


def rate_text(per_minute: float | None) -> str:
    if per_minute is None:
        return "—"
    return f"{per_minute:.0f}" if per_minute >= 10 else f"{per_minute:.1f}"


def eta_text(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    whole = round(seconds)
    if whole >= 3600:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    if whole >= 60:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole}s"


def row_cells(job: JobSummary) -> tuple[str, ...]:
    return (
        str(job.id),
        shown_cell(job.name or _("(sealed)")),
        state_name(job.status, job.kind),
        f"{job.done}/{job.total}",
        str(job.failed),
        rate_text(job.per_minute),
        eta_text(job.eta_s),
        shown_cell(job.model),
    )


class JobTable(LocalizedTable):
    HEADERS = (*COLUMNS, *COLUMNS_AFTER)

    @dataclass
    class Chosen(Message):
        """The cursor moved to this job (the screen shows its errors)."""

        job_id: int

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.jobs: list[JobSummary] = []

    def on_mount(self) -> None:
        self.add_headers()

    def draw_text(self) -> None:
        """The headers and every row's words (state, a sealed name) in the new language."""
        super().draw_text()
        keys = [key for _, key in self.HEADERS]
        for job in self.jobs:
            for column, cell in zip(keys, row_cells(job), strict=True):
                self.update_cell(str(job.id), column, cell)

    @property
    def selected(self) -> JobSummary | None:
        if not self.jobs or not 0 <= self.cursor_row < len(self.jobs):
            return None
        return self.jobs[self.cursor_row]

    def show(self, jobs: list[JobSummary]) -> None:
        """The jobs as given (newest first); rows that stay are updated cell by cell."""
        keep = self.selected.id if self.selected else None
        if [j.id for j in jobs] != [j.id for j in self.jobs]:
            self.jobs = jobs
            self.clear()
            for job in jobs:
                self.add_row(*row_cells(job), key=str(job.id))
            index = next((i for i, j in enumerate(jobs) if j.id == keep), 0)
            if jobs:
                self.move_cursor(row=index)
            return
        old, self.jobs = self.jobs, jobs
        keys = [key for _, key in (*COLUMNS, *COLUMNS_AFTER)]
        for before, job in zip(old, jobs, strict=True):
            for column, was, now in zip(keys, row_cells(before), row_cells(job), strict=True):
                if was != now:
                    self.update_cell(str(job.id), column, now)

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        job = self.selected
        if job is not None:
            self.post_message(self.Chosen(job.id))
