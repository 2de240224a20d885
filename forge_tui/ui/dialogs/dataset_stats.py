"""The Stats panel of the Datasets screen: a dataset's counts, and its token and answer-length
distributions drawn as Sparklines (textual-plotext is not installed)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Sparkline

from forge_tui.core.dataset_stats import DatasetStats, Histogram, stats_lines
from forge_tui.ui.widgets.plain import PlainLabel, PlainStatic


def _range(title: str, h: Histogram) -> str:
    return f"{title}: {h.low:g} to {h.high:g} ({h.total} examples)" if h.total else f"{title}: none counted"


class DatasetStatsPanel(ModalScreen[None]):
    """Escape closes it."""

    BINDINGS = [Binding("escape", "close", "Close", id="stats.close")]

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
            for key, title, h in (
                (
                    "tokens",
                    "Answer tokens" if self.stats.tokens_counted else "Answer tokens (estimated)",
                    self.stats.tokens,
                ),
                ("chars", "Answer length in characters", self.stats.answer_chars),
            ):
                yield PlainStatic(_range(title, h), id=f"stats-{key}-range", classes="dim")
                yield Sparkline([float(n) for n in h.counts], id=f"stats-{key}")

    def action_close(self) -> None:
        self.dismiss(None)
