"""The loss (left axis) and learning rate (right axis) of a training run against its steps, drawn by
plotext. `show()` replaces the data; the plot is built again only at the next render, so a caller that
calls it when points arrived, at a few per second, keeps redraws cheap."""

from __future__ import annotations

from textual_plotext import PlotextPlot

from forge_tui.core.train_metrics import TrainMetrics
from forge_tui.i18n import _
from forge_tui.ui.localized import Localized


class TrainingChart(Localized, PlotextPlot):
    DEFAULT_CSS = """
    TrainingChart {
        height: 1fr;
        min-height: 8;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.steps: list[int] = []  # the steps whose loss is drawn now
        self.losses: list[float] = []
        self.rates: list[float] = []
        self._rate_steps: list[int] = []
        self.draws = 0

    def show(self, metrics: TrainMetrics) -> None:
        self.steps, self.losses, self._rate_steps, self.rates = metrics.series()
        self.draw_text()

    def draw_text(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.xlabel(_("step"))
        if self.steps:
            plt.plot(self.steps, self.losses, label=_("loss"), marker="braille", color="cyan")
        if self._rate_steps:
            plt.plot(
                self._rate_steps, self.rates, label=_("learning rate"), marker="braille", color="orange", yside="right"
            )
        if not self.steps and not self._rate_steps:
            plt.title(_("No steps logged yet."))
        self.draws += 1
        self.refresh()
