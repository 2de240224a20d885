"""Column headers of a DataTable drawn again in the current language, the rows and cursor kept."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from forge_tui.i18n import _


def label_columns(table: DataTable[object], labels: dict[str, str]) -> None:
    """Sets each column's header to its translated message id (`labels`: column key → N_ message);
    a column that has not been added yet is skipped."""
    for key, message in labels.items():
        column = table.columns.get(ColumnKey(key))
        if column is None:
            continue
        column.label = Text(_(message))
        if column.auto_width:
            # A header may be wider in another language (CJK takes two cells).
            column.content_width = max(column.content_width, cell_len(column.label.plain))
    table.notify_style_update()  # drops the rendered lines, the header's among them
    table.refresh(layout=True)
