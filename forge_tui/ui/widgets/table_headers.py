"""A DataTable whose column headers are message ids (N_()), drawn again after a language switch
without rebuilding the table (the rows, the cursor and the scroll position stay)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from forge_tui.i18n import _
from forge_tui.ui.localized import Localized


def add_headers(table: DataTable[Any], headers: Iterable[tuple[str, str]]) -> None:
    """Adds a column per (message id, key), its header translated."""
    for message, key in headers:
        table.add_column(Text(_(message)), key=key)


def relabel(table: DataTable[Any], headers: Iterable[tuple[str, str]]) -> None:
    """Each column's header again in the current language; an auto-sized column takes the width of its
    widest cell or new header (CJK headers take two cells a character)."""
    changed = False
    for message, key in headers:
        column = table.columns.get(ColumnKey(key))
        if column is None:
            continue
        label = Text(_(message))
        if column.label.plain == label.plain:
            continue
        column.label = label
        if column.auto_width:
            cells = [
                cell_len(Text.from_markup(c).plain if isinstance(c, str) else str(c)) for c in table.get_column(key)
            ]
            column.content_width = max([cell_len(label.plain), *cells])
        changed = True
    if changed:
        table._require_update_dimensions = True
        table._clear_caches()
        table.refresh(layout=True)


class LocalizedTable(Localized, DataTable[str]):
    """A DataTable whose HEADERS ((message id, key) pairs) follow the interface language."""

    HEADERS: tuple[tuple[str, str], ...] = ()

    def add_headers(self) -> None:
        add_headers(self, self.HEADERS)

    def draw_text(self) -> None:
        relabel(self, self.HEADERS)
