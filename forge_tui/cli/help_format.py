"""`--help` in forge-tui's language and within the terminal's width in cells.

Typer formats help with its own copy of click (typer._click), whose "Usage:" and help-option text are
fixed English, and with section titles ("Options", "Commands") translated by the standard library's
gettext under the process locale, which knows nothing of --lang or forge-tui's catalogs. `localize_help`
points those at `forge_tui.i18n._`. Click wraps help by counting characters; a Chinese character takes
two cells, so text with wide characters is wrapped at half the width (never wider than the terminal).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

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
        with self._narrowed(wide(text), 0):
            super().write_text(text)

    def write_dl(self, rows: Sequence[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        rows = [(term, _(text) if text in TYPER_TEXTS else text) for term, text in rows]
        first_col = min(max((cell_len(term) for term, _text in rows), default=0), col_max) + col_spacing
        with self._narrowed(any(wide(text) for _term, text in rows), first_col + 2):
            super().write_dl(rows, col_max, col_spacing)

    @contextmanager
    def _narrowed(self, narrow: bool, fixed: int) -> Iterator[None]:
        """While `narrow`: the part of the width after `fixed` cells is halved."""
        width = self.width
        if narrow:
            self.width = fixed + max((width - fixed) // 2, 10)
        try:
            yield
        finally:
            self.width = width


def localize_help() -> None:
    typer.core._ = _  # type: ignore[attr-defined]
    Context.formatter_class = CellWidthFormatter
