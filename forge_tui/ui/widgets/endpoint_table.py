"""The selected job's model servers, one row each: state (healthy, backing off, dropped), requests in
flight, the current limit of the most it may take, answers a minute, tokens a second, error rate.
Hidden while the job has no figures (before it ran); the rows are rebuilt only when a figure moved."""

from __future__ import annotations

from forge_tui.core.endpoint_figures import HEADERS, figure_cells
from forge_tui.core.pool_stats import EndpointStats
from forge_tui.ui.shown import shown_cell
from forge_tui.ui.widgets.table_headers import LocalizedTable


class EndpointTable(LocalizedTable):
    # core marks the headers with N_(): `forge-tui jobs show` prints the same ones.
    HEADERS = tuple((label, label) for label in HEADERS)
    can_focus = False  # nothing to choose in it: the keys stay with the jobs table

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="none", show_cursor=False)
        self.rows_shown: list[tuple[str, ...]] = []

    def on_mount(self) -> None:
        self.add_headers()
        self.display = False

    def show(self, stats: list[EndpointStats]) -> None:
        rows = [figure_cells(s) for s in stats]
        self.display = bool(rows)
        if rows == self.rows_shown:
            return
        self.rows_shown = rows
        self.clear()
        for row in rows:
            self.add_row(*(shown_cell(cell) for cell in row))
