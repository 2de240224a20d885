"""An "until N pass" job's coverage: per weighted slot value, the examples that passed against the
value's share of the target. Hidden for any other job; rows rebuilt only when a figure moved."""

from __future__ import annotations

from collections.abc import Sequence

from forge_tui.core.generation import Coverage
from forge_tui.i18n import N_
from forge_tui.ui.shown import shown_cell
from forge_tui.ui.widgets.table_headers import LocalizedTable
from forge_tui.ui.wrap import cut

HEADERS = ((N_("Slot"), "Slot"), (N_("Value"), "Value"), (N_("Passed"), "Passed"), (N_("Target"), "Target"))
VALUE_CHARS = 32  # cells


class CoverageTable(LocalizedTable):
    HEADERS = HEADERS
    DEFAULT_CSS = "CoverageTable { height: auto; max-height: 6; }"
    can_focus = False  # nothing to choose in it: the keys stay with the jobs table

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="none", show_cursor=False)
        self.rows_shown: list[tuple[str, ...]] = []

    def on_mount(self) -> None:
        self.add_headers()
        self.display = False

    def show(self, coverage: Sequence[Coverage]) -> None:
        rows: list[tuple[str, ...]] = [
            (c.slot, cut(" ".join(c.value.split()), VALUE_CHARS, ""), str(c.passed), str(c.target)) for c in coverage
        ]
        self.display = bool(rows)
        if rows == self.rows_shown:
            return
        self.rows_shown = rows
        self.clear()
        for row in rows:
            self.add_row(*(shown_cell(cell) for cell in row))
