"""User text on screen, shown as typed: never read as markup, control characters escaped.

Textual reads `[bold]` in a plain string as markup (and a stray `[/b]` raises and stops the app),
and hands ESC and the other control characters to the terminal, which acts on them: a name can
clear the screen, retitle the window or write the clipboard. Names, paths, file content, server
and model text go on screen through these helpers or the widgets in `widgets/plain.py`.
"""

from __future__ import annotations

from rich.markup import escape as escape_rich_markup
from textual.markup import escape as escape_markup

from forge_tui.core.control_chars import escape_controls


def shown_markup(text: str) -> str:
    """For what Textual reads as markup: command palette entries, Select and OptionList prompts."""
    return escape_markup(escape_controls(text))


def shown_cell(text: str) -> str:
    """For DataTable cells, which Rich reads as markup."""
    return escape_rich_markup(escape_controls(text))
