"""Training metrics read from a trainer's own output: the Python-dict lines of the Hugging Face
Trainer (`{'loss': '2.31', 'grad_norm': '1.2', 'learning_rate': '5e-05', 'epoch': '0.5'}`, floats
printed as strings since transformers 4.4x), mlx-lm's `Iter N: Train loss …, Learning Rate …` lines,
tqdm's `n/total` counter, and `trainer_state.json` (`log_history`, `max_steps`). Step rate and ETA
from the steps seen and when."""

from __future__ import annotations

import ast
import json
import math
import re
from dataclasses import dataclass, field

from forge_tui.i18n import _

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf"
_MLX = re.compile(
    rf"Iter\s+(\d+):\s*Train loss\s+({_NUMBER})(?:,\s*Learning Rate\s+({_NUMBER}))?(?:,\s*It/sec\s+({_NUMBER}))?",
    re.IGNORECASE,
)
_TQDM = re.compile(r"\|\s*(\d+)/(\d+)\s*\[")
# A tqdm bar (`  20%|##   | 1/5 [00:01<00:02, 5.00it/s]`), which a line printed after it may follow
# on the same line when the bar wrote no newline.
_BAR = re.compile(r"\s*\d+%\|[^|]*\|\s*\d+/\d+\s*\[[^\]]*\]")


def without_progress_bars(line: str) -> str:
    return _BAR.sub("", line).strip()


@dataclass(frozen=True)
class MetricPoint:
    """One logged training step."""

    step: int
    loss: float | None = None
    learning_rate: float | None = None
    epoch: float | None = None
    grad_norm: float | None = None


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _from_dict(logged: dict[object, object], step: int) -> MetricPoint | None:
    if "loss" not in logged:  # eval lines, the final train_runtime summary
        return None
    found = _number(logged.get("step"))
    return MetricPoint(
        step=int(found) if found is not None else step,
        loss=_number(logged.get("loss")),
        learning_rate=_number(logged.get("learning_rate")),
        epoch=_number(logged.get("epoch")),
        grad_norm=_number(logged.get("grad_norm")),
    )


def parse_line(line: str, last_step: int) -> MetricPoint | None:
    """The metrics one log line holds, or None; a Hugging Face line without a step number is the
    step after `last_step` (the bundles log every step)."""
    text = line.strip()
    start = text.find("{'")
    if start >= 0 and text.endswith("}") and "'loss'" in text:
        try:
            logged = ast.literal_eval(text[start:])
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None
        return _from_dict(logged, last_step + 1) if isinstance(logged, dict) else None
    found = _MLX.search(text)
    if found is not None:
        return MetricPoint(step=int(found[1]), loss=_number(found[2]), learning_rate=_number(found[3]))
    return None


def total_steps_in(line: str) -> int | None:
    """The total of a tqdm progress bar (` 2/30 [00:01<…`) in a line, if any."""
    found = _TQDM.findall(line)
    return int(found[-1][1]) if found else None


def read_trainer_state(text: str) -> tuple[list[MetricPoint], int | None]:
    """The training points of a `trainer_state.json` and its `max_steps`; ([], None) when unreadable."""
    try:
        state = json.loads(text)
    except ValueError:
        return [], None
    if not isinstance(state, dict):
        return [], None
    history = state.get("log_history")
    points: list[MetricPoint] = []
    if isinstance(history, list):
        for entry in history:
            if isinstance(entry, dict) and isinstance(entry.get("step"), int):
                point = _from_dict(entry, entry["step"])
                if point is not None:
                    points.append(point)
    max_steps = state.get("max_steps")
    return points, max_steps if isinstance(max_steps, int) and max_steps > 0 else None


@dataclass
class TrainMetrics:
    """The points seen so far (one per step, the latest wins), the run's total steps when known, and
    when steps arrived (seconds, any clock) for the step rate and ETA."""

    points: dict[int, MetricPoint] = field(default_factory=dict)
    max_steps: int | None = None
    version: int = 0  # bumped on every change, for a view that redraws only when it moved
    _seen: list[tuple[float, int]] = field(default_factory=list)

    @property
    def last_step(self) -> int:
        return max(self.points, default=0)

    def add(self, point: MetricPoint, at: float) -> None:
        if self.points.get(point.step) == point:
            return
        new = point.step not in self.points
        self.points[point.step] = point
        if new:
            self._seen.append((at, point.step))
            del self._seen[:-50]
        self.version += 1

    def feed(self, line: str, at: float) -> MetricPoint | None:
        """Reads one log line; returns its point when it held one."""
        total = total_steps_in(line)
        if total is not None and total != self.max_steps:
            self.max_steps = total
            self.version += 1
        point = parse_line(line, self.last_step)
        if point is not None:
            self.add(point, at)
        return point

    def merge_state(self, text: str, at: float) -> None:
        points, max_steps = read_trainer_state(text)
        if max_steps is not None and max_steps != self.max_steps:
            self.max_steps = max_steps
            self.version += 1
        for point in points:
            if point.step not in self.points:
                self.add(point, at)

    def series(self) -> tuple[list[int], list[float], list[int], list[float]]:
        """(steps, losses) and (steps, learning rates), finite values only, by step."""
        steps = sorted(self.points)
        loss = [(s, self.points[s].loss) for s in steps]
        rate = [(s, self.points[s].learning_rate) for s in steps]
        kept_loss = [(s, v) for s, v in loss if v is not None and math.isfinite(v)]
        kept_rate = [(s, v) for s, v in rate if v is not None and math.isfinite(v)]
        return (
            [s for s, _ in kept_loss],
            [v for _, v in kept_loss],
            [s for s, _ in kept_rate],
            [v for _, v in kept_rate],
        )

    def latest(self) -> MetricPoint | None:
        return self.points[self.last_step] if self.points else None

    def steps_per_s(self) -> float | None:
        if len(self._seen) < 2:
            return None
        (t0, s0), (t1, s1) = self._seen[0], self._seen[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 and s1 > s0 else None

    def eta_s(self) -> float | None:
        rate = self.steps_per_s()
        if rate is None or self.max_steps is None:
            return None
        return max(0, self.max_steps - self.last_step) / rate


def duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"


def progress_text(metrics: TrainMetrics) -> str:
    """Step, loss, steps/s and ETA, as far as known (the CLI's progress line, the Training view's)."""
    point = metrics.latest()
    if point is None:
        return _("Waiting for the trainer's first step…")
    total = f"/{metrics.max_steps}" if metrics.max_steps else ""
    parts = [_("step {step}").format(step=f"{point.step}{total}")]
    if point.loss is not None:
        parts.append(_("loss {loss}").format(loss=f"{point.loss:.4g}"))
    rate = metrics.steps_per_s()
    if rate is not None:
        parts.append(_("{rate} steps/s").format(rate=f"{rate:.2f}"))
    eta = metrics.eta_s()
    if eta is not None:
        parts.append(_("ETA {duration}").format(duration=duration(eta)))
    return _(", ").join(parts)
