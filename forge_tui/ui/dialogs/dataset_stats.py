"""The Stats panel of the Datasets screen: a dataset's counts, and its token and answer-length
distributions drawn as Sparklines (textual-plotext is not installed)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Sparkline

from forge_tui.core.dataset_stats import DatasetStats, Histogram, stats_lines
from forge_tui.i18n import N_, _, ngettext
from forge_tui.ui.localized import Localized
from forge_tui.ui.widgets.plain import PlainLabel, PlainStatic


def _range(title: str, h: Histogram) -> str:
    """The range line of a histogram; `title` is a message id."""
    if not h.total:
        return _("{title}: none counted").format(title=_(title))
    return ngettext(
        "{title}: {low} to {high} ({n} example)", "{title}: {low} to {high} ({n} examples)", h.total
    ).format(title=_(title), low=f"{h.low:g}", high=f"{h.high:g}", n=h.total)


class DatasetStatsPanel(Localized, ModalScreen[None]):
    """Escape closes it."""

    BINDINGS = [Binding("escape", "close", N_("Close"), id="stats.close")]

    def __init__(self, stats: DatasetStats) -> None:
        super().__init__()
        self.stats = stats

    def compose(self) -> ComposeResult:
        lines = stats_lines(self.stats)
        # The text histograms of stats_lines are drawn below as Sparklines instead.
        counts = [line for line in lines[1:] if not line.startswith(("tokens ", "answer length "))]
        with Vertical(classes="dialog", id="stats-panel"):
            yield PlainLabel(lines[0], classes="dialog-title")
            yield PlainStatic("\n".join(counts), id="stats-counts")
            for key, title, h in self._histograms():
                yield PlainStatic(_range(title, h), id=f"stats-{key}-range", classes="dim")
                yield Sparkline([float(n) for n in h.counts], id=f"stats-{key}")

    def _histograms(self) -> list[tuple[str, str, Histogram]]:
        tokens = N_("Answer tokens") if self.stats.tokens_counted else N_("Answer tokens (estimated)")
        return [
            ("tokens", tokens, self.stats.tokens),
            ("chars", N_("Answer length in characters"), self.stats.answer_chars),
        ]

    def draw_text(self) -> None:
        for key, title, h in self._histograms():
            self.query_one(f"#stats-{key}-range", PlainStatic).update(_range(title, h))

    def action_close(self) -> None:
        self.dismiss(None)
