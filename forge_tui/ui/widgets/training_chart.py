"""The loss (left axis) and learning rate (right axis) of a training run against its steps, drawn by
plotext. `show()` replaces the data and builds the picture in a worker thread (plotext takes several
milliseconds a build, which the event loop must not wait for); a render shows the last picture built
for the widget's size, and builds one itself only when the size changed since."""

from __future__ import annotations

import threading

from rich.cells import cell_len
from rich.console import RenderableType
from rich.text import Text
from textual import work
from textual.geometry import Size
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
        self.draws = 0  # pictures built
        self._built: tuple[int, Size, Text] | None = None  # (generation, size, picture)
        self._generation = 0
        self._building = threading.Lock()

    def show(self, metrics: TrainMetrics) -> None:
        self.steps, self.losses, self._rate_steps, self.rates = metrics.series()
        self.draw_text()

    def draw_text(self) -> None:
        self._generation += 1
        if self.size.area:
            self._build(self._generation, self.size, self._get_plotext_theme_name(self.app.theme), self._labels())

    def _labels(self) -> tuple[str, str, str, str]:
        return _("step"), _("loss"), _("learning rate"), _("No steps logged yet.")

    @work(thread=True, group="training-chart")
    def _build(self, generation: int, size: Size, theme: str, labels: tuple[str, str, str, str]) -> None:
        picture = self._picture(size, theme, labels)
        self.app.call_from_thread(self._built_one, generation, size, picture)

    def _built_one(self, generation: int, size: Size, picture: Text) -> None:
        if generation == self._generation:
            self._built = (generation, size, picture)
            self.refresh()

    def _picture(self, size: Size, theme: str, labels: tuple[str, str, str, str]) -> Text:
        with self._building:  # the worker thread's build and a resize's build share one plot
            return self._picture_locked(size, theme, labels)

    def _picture_locked(self, size: Size, theme: str, labels: tuple[str, str, str, str]) -> Text:
        # plotext counts characters, not cells: a label of wide characters (Chinese) would push each
        # line it sits on past the width. Such labels are left out here; the view shows a legend.
        step, loss, rate, empty = (label if narrow(label) else None for label in labels)
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        if step is not None:
            plt.xlabel(step)
        # Braille draws two points a cell: more than that per column only costs time (a long run logs
        # thousands of steps), so the series are thinned to what the width shows.
        most = max(2, 2 * size.width)
        if self.steps:
            plt.plot(*thinned(self.steps, self.losses, most), label=loss, marker="braille", color="cyan")
        if self._rate_steps:
            xs, ys = thinned(self._rate_steps, self.rates, most)
            plt.plot(xs, ys, label=rate, marker="braille", color="orange", yside="right")
        if not self.steps and not self._rate_steps and empty is not None:
            plt.title(empty)
        plt.plotsize(size.width, size.height)
        plt._set_size(size.width, size.height)
        plt.theme(theme)
        self.draws += 1
        return Text.from_ansi(plt.build())

    def render(self) -> RenderableType:
        built = self._built
        if built is not None and built[0] == self._generation and built[1] == self.size:
            return built[2]
        # A new size (or the first render): built here once, as PlotextPlot does.
        picture = self._picture(self.size, self._get_plotext_theme_name(self.app.theme), self._labels())
        self._built = (self._generation, self.size, picture)
        return picture


def narrow(text: str) -> bool:
    """Whether every character of `text` takes one cell (as plotext assumes)."""
    return cell_len(text) == len(text)


def legend() -> str | None:
    """The chart's legend as a line of its own, where the labels cannot sit in the chart (see above)."""
    step, loss, rate = _("step"), _("loss"), _("learning rate")
    if narrow(step) and narrow(loss) and narrow(rate):
        return None
    return _("━ {loss} (left axis)  ━ {rate} (right axis), against the {step}").format(loss=loss, rate=rate, step=step)


def thinned(xs: list[int], ys: list[float], most: int) -> tuple[list[int], list[float]]:
    """At most `most` points, evenly spread, the last one kept."""
    if len(xs) <= most:
        return xs, ys
    every = -(-len(xs) // most)
    picked = list(range(0, len(xs), every))
    if picked[-1] != len(xs) - 1:
        picked.append(len(xs) - 1)
    return [xs[i] for i in picked], [ys[i] for i in picked]
