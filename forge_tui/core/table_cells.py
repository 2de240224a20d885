"""What one cell of an exported CSV or TSV file holds.

Cells carry no raw control character: ESC, BEL, DEL and the C1 controls are written as `\\u001b`
escapes, the notation the file's JSON cells already use, so `cat`-ing an export cannot drive the
terminal. Tabs, line breaks and carriage returns stay (the CSV quoting holds them); every other cell
is the training text unchanged.

Spreadsheet-safe cells (off by default) follow OWASP's advice against formula injection: a cell
starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading single quote, so a
spreadsheet shows it as text instead of running it. That also changes cells such as Markdown list
items ("- item") and negative numbers, which is why training exports leave it off.
"""

from __future__ import annotations

from forge_tui.core.control_chars import escape_controls

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
KEPT_IN_CELLS = "\t\n\r"


def table_cell(text: str, spreadsheet_safe: bool = False) -> str:
    cell = escape_controls(text, keep=KEPT_IN_CELLS)
    if spreadsheet_safe and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell
