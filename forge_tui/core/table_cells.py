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

import json

from forge_tui.core.control_chars import escape_controls
from forge_tui.core.json_input import JsonProblem, loads

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A cell starting (after blanks) with one of these is read back as JSON: nested values are written
# so. Text that would read back as JSON is written as a JSON string, so it comes back as text.
_JSON_STARTS = ("[", "{", '"')
KEPT_IN_CELLS = "\t\n\r"


def table_cell(text: str, spreadsheet_safe: bool = False) -> str:
    cell = escape_controls(text, keep=KEPT_IN_CELLS)
    if spreadsheet_safe and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def text_cell(text: str) -> str:
    """A text value as a cell that reads back as the same text (see `read_cell`)."""
    return json.dumps(text, ensure_ascii=False) if _reads_as_json(text) else text


def read_cell(cell: str) -> object:
    """A cell's value: a JSON list or object (as nested values are written), a JSON string that
    `text_cell` wrote for text that looked like JSON, or else the text as it is."""
    stripped = cell.strip()
    if not stripped.startswith(_JSON_STARTS):
        return cell
    try:
        value = loads(stripped)
    except JsonProblem:
        return cell
    if isinstance(value, list | dict):
        return value
    if isinstance(value, str) and _reads_as_json(value):
        return value
    return cell  # a quoted word that text_cell would not have written: kept as it was typed


def _reads_as_json(text: str) -> bool:
    stripped = text.strip()
    if not stripped.startswith(_JSON_STARTS):
        return False
    try:
        value = loads(stripped)
    except JsonProblem:
        return False
    return isinstance(value, list | dict) or (isinstance(value, str) and _reads_as_json(value))
