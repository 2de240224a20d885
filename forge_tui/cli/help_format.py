"""`--help` in forge-tui's language and within the terminal's width in cells.

Typer formats help with its own copy of click (typer._click), whose "Usage:" and help-option text are
fixed English, and with section titles ("Options", "Commands") translated by the standard library's
gettext under the process locale, which knows nothing of --lang or forge-tui's catalogs. `localize_help`
points those at `forge_tui.i18n._`. Click wraps help by counting characters; a Chinese character takes
two cells, so text with wide characters is wrapped here instead, in cells (ui.wrap: at spaces, and
between Chinese characters but never before closing punctuation).
"""

from __future__ import annotations

from collections.abc import Sequence

import typer.core
from rich.cells import cell_len
from typer._click.core import Context
from typer._click.formatting import HelpFormatter

from forge_tui.i18n import N_, _

# Typer's (and its click's) own words that forge-tui's help shows, marked for the catalogs.
TYPER_TEXTS = frozenset(
    {
        N_("Usage:"),
        N_("Options"),
        N_("Arguments"),
        N_("Commands"),
        N_("Show this message and exit."),
        N_("Missing command."),
        N_("default: {default}"),
        N_("env var: {var}"),
        N_("required"),
        N_("Aborted!"),
    }
)


def wide(text: str) -> bool:
    return cell_len(text) > len(text)


class CellWidthFormatter(HelpFormatter):
    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, prefix if prefix is not None else _("Usage:") + " ")

    def write_text(self, text: str) -> None:
        if not wide(text):
            super().write_text(text)
            return
        indent = " " * self.current_indent
        paragraphs = [" ".join(line.strip() for line in p.splitlines()) for p in text.strip().split("\n\n")]
        for number, paragraph in enumerate(paragraphs):
            if number:
                self.write("\n")
            for line in _lines(paragraph, self.width - self.current_indent):
                self.write(f"{indent}{line}\n")

    def write_dl(self, rows: Sequence[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        rows = [(term, _(text) if text in TYPER_TEXTS else text) for term, text in rows]
        if not any(wide(text) for _term, text in rows):
            super().write_dl(rows, col_max, col_spacing)
            return
        first = min(max((cell_len(term) for term, _text in rows), default=0), col_max) + col_spacing
        indent = " " * self.current_indent
        hanging = " " * (self.current_indent + first)
        room = max(self.width - self.current_indent - first, 10)
        for term, text in rows:
            self.write(f"{indent}{term}")
            if not text:
                self.write("\n")
                continue
            if cell_len(term) <= first - col_spacing:
                self.write(" " * (first - cell_len(term)))
            else:
                self.write(f"\n{hanging}")
            lines = _lines(" ".join(text.split()), room)
            self.write(f"{lines[0]}\n")
            for line in lines[1:]:
                self.write(f"{hanging}{line}\n")


def _lines(text: str, width: int) -> list[str]:
    """`text` wrapped at `width` terminal cells: at spaces, and between Chinese characters."""
    from forge_tui.ui.wrap import wrap

    return [text[start:end] for start, end in wrap(text, max(width, 10))] or [""]


def localize_help() -> None:
    typer.core._ = _  # type: ignore[attr-defined]
    Context.formatter_class = CellWidthFormatter
