"""How well a judge agrees with a person: from (judge score, the person kept it) pairs, the accuracy
at a threshold (a score at or above it means "good"), Spearman's rank correlation between score and
decision, and the threshold that would agree best (highest balanced accuracy over the scores seen)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from forge_tui.i18n import N_, _


@dataclass(frozen=True)
class Calibration:
    threshold: float
    total: int
    good: int  # pairs a person kept
    bad: int  # pairs a person turned down
    true_good: int  # scored at or above the threshold, and kept
    false_good: int  # scored at or above, but turned down
    true_bad: int  # scored below, and turned down
    false_bad: int  # scored below, but kept
    accuracy: float | None  # None without pairs
    balanced_accuracy: float | None  # None unless both kinds of decision are there
    spearman: float | None  # None when scores or decisions do not vary
    suggested_threshold: float | None
    suggested_balanced_accuracy: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks, ties given the mean of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    result = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        mean = (start + end) / 2 + 1
        for position in range(start, end + 1):
            result[order[position]] = mean
        start = end + 1
    return result


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman's rho: Pearson's correlation of the tie-averaged ranks; None when either side is constant."""
    if len(xs) != len(ys):
        raise ValueError("spearman needs two sequences of one length")
    if len(xs) < 2:
        return None
    rx, ry = ranks(xs), ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    vx = sum((a - mx) ** 2 for a in rx)
    vy = sum((b - my) ** 2 for b in ry)
    if vx == 0 or vy == 0:
        return None
    return cov / math.sqrt(vx * vy)


def _counts(pairs: Sequence[tuple[float, bool]], threshold: float) -> tuple[int, int, int, int]:
    true_good = sum(1 for score, good in pairs if score >= threshold and good)
    false_good = sum(1 for score, good in pairs if score >= threshold and not good)
    true_bad = sum(1 for score, good in pairs if score < threshold and not good)
    false_bad = sum(1 for score, good in pairs if score < threshold and good)
    return true_good, false_good, true_bad, false_bad


def _balanced(true_good: int, false_good: int, true_bad: int, false_bad: int) -> float | None:
    good, bad = true_good + false_bad, true_bad + false_good
    if not good or not bad:
        return None
    return (true_good / good + true_bad / bad) / 2


def calibrate(pairs: Sequence[tuple[float, bool]], threshold: float) -> Calibration:
    true_good, false_good, true_bad, false_bad = _counts(pairs, threshold)
    total = len(pairs)
    good = true_good + false_bad
    suggested: float | None = None
    best: tuple[float, float] | None = None
    for candidate in sorted({score for score, _good in pairs}):
        counts = _counts(pairs, candidate)
        balanced = _balanced(*counts)
        if balanced is None:
            break
        accuracy = (counts[0] + counts[2]) / total
        # Ties go to the lowest threshold: it keeps the most examples for the same agreement.
        if best is None or (balanced, accuracy) > best:
            best, suggested = (balanced, accuracy), candidate
    return Calibration(
        threshold=threshold,
        total=total,
        good=good,
        bad=total - good,
        true_good=true_good,
        false_good=false_good,
        true_bad=true_bad,
        false_bad=false_bad,
        accuracy=(true_good + true_bad) / total if total else None,
        balanced_accuracy=_balanced(true_good, false_good, true_bad, false_bad),
        spearman=spearman([s for s, _g in pairs], [1.0 if g else 0.0 for _s, g in pairs]),
        suggested_threshold=suggested,
        suggested_balanced_accuracy=None if best is None else best[0],
    )


_NOTHING = N_("No example has both a person's decision and a judge's score yet, so there is nothing to compare.")
_AGREES = N_(
    "Over {total} examples ({good} kept, {bad} turned down) the judge agrees with you on {accuracy} at threshold "
    "{threshold}"
)
_RANK = N_("rank correlation {value}")
_BEST = N_("threshold {threshold} would agree best ({accuracy} balanced accuracy)")
_JOIN = N_("{first}; {second}")
_END = N_("{sentence}.")


def summary(calibration: Calibration, translate: Callable[[str], str] = _) -> str:
    """One sentence for a person, in the interface language; `translate=N_` gives it in English (for
    --json output, which never depends on the language)."""
    c = calibration
    if not c.total:
        return translate(_NOTHING)
    text = translate(_AGREES).format(
        total=c.total, good=c.good, bad=c.bad, accuracy=f"{c.accuracy or 0:.0%}", threshold=f"{c.threshold:g}"
    )
    if c.spearman is not None:
        text = translate(_JOIN).format(first=text, second=translate(_RANK).format(value=f"{c.spearman:.2f}"))
    if c.suggested_threshold is not None and c.suggested_balanced_accuracy is not None:
        best = translate(_BEST).format(
            threshold=f"{c.suggested_threshold:g}", accuracy=f"{c.suggested_balanced_accuracy:.0%}"
        )
        text = translate(_JOIN).format(first=text, second=best)
    return translate(_END).format(sentence=text)
