"""Which endpoint of a pool takes the next request: the one with the most free capacity relative to
its measured throughput, so a slow endpoint gets a smaller share and a dropped or refusing one none."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Lane:
    """One endpoint as the router sees it."""

    limit: int
    in_flight: int
    latency_s: float | None  # smoothed seconds per answer; None before the first one
    open: bool  # not dropped, and not waiting out a Retry-After

    @property
    def free(self) -> int:
        return self.limit - self.in_flight if self.open else 0


def pick(lanes: Sequence[Lane]) -> int | None:
    """The index of the lane to send to, or None when every one is full or closed.

    Score: free slots × answers per second per slot (1 / latency). A lane not measured yet counts as
    fast as the fastest measured one, so a new endpoint is tried at once."""
    measured = [lane.latency_s for lane in lanes if lane.latency_s]
    fastest = min(measured) if measured else 1.0
    best: int | None = None
    best_score = 0.0
    for index, lane in enumerate(lanes):
        free = lane.free
        if free <= 0:
            continue
        score = free / (lane.latency_s or fastest)
        if score > best_score:
            best, best_score = index, score
    return best
