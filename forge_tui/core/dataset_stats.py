"""A dataset's figures: counts by source, review state, model, language flag and slot value, and
token and length distributions as histograms."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from forge_tui.core.bounded_text import clip
from forge_tui.i18n import _

TOP_VALUES = 5  # a slot's most common values shown
BINS = 20


@dataclass(frozen=True)
class Histogram:
    """`counts[i]` values fell in [low + i*width, low + (i+1)*width); the last bin holds `high` too."""

    low: float = 0.0
    high: float = 0.0
    counts: tuple[int, ...] = ()

    @property
    def total(self) -> int:
        return sum(self.counts)


def histogram(values: Sequence[float], bins: int = BINS) -> Histogram:
    if not values:
        return Histogram()
    low, high = float(min(values)), float(max(values))
    if low == high:
        return Histogram(low, high, (len(values),))
    width = (high - low) / bins
    counts = [0] * bins
    for value in values:
        counts[min(int((value - low) / width), bins - 1)] += 1
    return Histogram(low, high, tuple(counts))


@dataclass(frozen=True)
class DatasetStats:
    dataset: str
    total: int
    by_source: dict[str, int] = field(default_factory=dict)
    by_review: dict[str, int] = field(default_factory=dict)
    by_model: dict[str, int] = field(default_factory=dict)
    flagged: int = 0
    # Per slot name: its most common values and their counts, most common first.
    slots: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    tokens: Histogram = Histogram()  # the answers' completion tokens
    answer_chars: Histogram = Histogram()  # the answers' lengths in characters
    # The model counted the tokens of every answer; else (imported data) they are estimated from the text.
    tokens_counted: bool = True

    def as_json(self) -> dict[str, object]:
        def hist(h: Histogram) -> dict[str, object]:
            return {"low": h.low, "high": h.high, "counts": list(h.counts)}

        return {
            "dataset": self.dataset,
            "total": self.total,
            "by_source": self.by_source,
            "by_review": self.by_review,
            "by_model": self.by_model,
            "flagged": self.flagged,
            "slots": {name: [[v, n] for v, n in top] for name, top in self.slots.items()},
            "tokens": hist(self.tokens),
            "tokens_counted": self.tokens_counted,
            "answer_chars": hist(self.answer_chars),
        }


# A CJK ideograph or kana is about one token; other text about 4/3 of a token per word (BPE vocabularies
# of the common open models), close enough for a distribution where no model counted.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[^\s\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def estimated_tokens(text: str) -> int:
    return len(_CJK.findall(text)) + round(len(_WORD.findall(text)) * 4 / 3)


def top_values(counter: Counter[str], n: int = TOP_VALUES) -> list[tuple[str, int]]:
    """Most common first, ties by value, so the figures are the same every run."""
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


_BARS = " ▁▂▃▄▅▆▇█"


def bars(h: Histogram) -> str:
    """The histogram as one line of block characters (for the command line)."""
    peak = max(h.counts, default=0)
    if not peak:
        return ""
    return "".join(_BARS[-1] if n == peak else _BARS[(n * (len(_BARS) - 1)) // peak] for n in h.counts)


def _counts(title: str, counts: dict[str, int]) -> str:
    none = _("(none)")
    shown = ", ".join(f"{name or none} {n}" for name, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    return f"{title}: {shown or '—'}"


def _value(text: str) -> str:
    """A slot value quoted on one line, cut to 30 characters."""
    one_line = " ".join(text.split())
    return f'"{clip(one_line, 30)}"' if one_line else _("(empty)")


def stats_lines(stats: DatasetStats) -> list[str]:
    """The figures as text lines (the CLI and the Stats panel)."""
    lines = [
        _("{dataset}: {total} examples, {flagged} with a language flag").format(
            dataset=stats.dataset, total=stats.total, flagged=stats.flagged
        ),
        _counts("source", stats.by_source),
        _counts("review", stats.by_review),
        _counts("model", stats.by_model),
    ]
    for name, top in stats.slots.items():
        shown = ", ".join(f"{_value(value)} {n}" for value, n in top)
        lines.append(_("slot {name}: {values}").format(name=name, values=shown))
    tokens_title = _("tokens") if stats.tokens_counted else _("tokens (estimated)")
    for title, h in ((tokens_title, stats.tokens), (_("answer length"), stats.answer_chars)):
        if h.total:
            lines.append(f"{title} {h.low:g}..{h.high:g}: {bars(h)}")
    return lines
