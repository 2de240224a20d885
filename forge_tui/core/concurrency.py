"""How many requests one model server gets at once: an adaptive limit (additive increase,
multiplicative decrease) that finds the server's capacity without being told it.

- It starts small (START) and grows by one after each run of successes, up to the endpoint's max
  concurrency. Until the first sign of a limit (a refusal, saturation, a queue) a run is one success
  (the limit doubles per round trip: "slow start", so a server that takes hundreds is reached in a
  few round trips); after it, a run is `limit` successes in a row (one more per round trip).
- A refusal (429, 503), a timeout or a connection error cuts it by DECREASE, at most once per
  cooldown (about one mean latency): the burst of refusals one overshoot causes counts once. The cut
  is from what was in flight when the refusal came, if that was less than the limit; a refusal within
  the cooldown holds the limit below what was in flight then.
- `Retry-After` is honoured: the endpoint gets nothing before it, and the limit does not grow meanwhile.
- It stops growing while the server is saturated: latency per token well above the best seen (more
  in flight would only queue), or the server reports a queue of its own (vLLM's waiting requests,
  llama.cpp without an idle slot).

Pure: the clock is passed in, so the rules are tested with a fake one.
"""

from __future__ import annotations

import math
from collections.abc import Callable

START = 4
DECREASE = 0.9  # keeps the average in flight near the capacity after a cut (bench/pool.py)
SATURATED = 2.0  # smoothed latency per token above this many times its best: more in flight only queues
SMOOTHING = 0.2  # weight of a new latency in the moving average
MIN_SAMPLES = 4  # latencies seen before "best" and "saturated" mean anything
MIN_COOLDOWN_S = 0.05

Clock = Callable[[], float]


class AdaptiveLimit:
    def __init__(self, max_limit: int, clock: Clock, start: int = START) -> None:
        self.max_limit = max(1, max_limit)
        self.clock = clock
        self.limit = min(start, self.max_limit)
        self.latency_s: float | None = None  # smoothed seconds per answer
        self.per_token_s: float | None = None  # smoothed seconds per generated token (or per answer)
        self.best_per_token_s: float | None = None
        self.queued = False  # the server reports requests waiting for a slot
        self.retry_at = 0.0  # nothing is sent before this (Retry-After)
        self._cooldown_until = 0.0
        self._successes = 0
        self._samples = 0
        self.slow_start = True

    @property
    def saturated(self) -> bool:
        if self.per_token_s is None or self.best_per_token_s is None or self._samples < MIN_SAMPLES:
            return False
        return self.per_token_s > SATURATED * self.best_per_token_s

    @property
    def backing_off(self) -> bool:
        """Refused or timed out lately: within the cooldown of the last cut, or before Retry-After."""
        now = self.clock()
        return now < self._cooldown_until or now < self.retry_at

    def succeeded(self, latency_s: float, tokens: int | None = None) -> None:
        """An answer came back whole after `latency_s`, with `tokens` generated (None: not told)."""
        latency_s = max(latency_s, 1e-6)
        per_token = latency_s / tokens if tokens else latency_s
        self.latency_s = _smoothed(self.latency_s, latency_s)
        self.per_token_s = _smoothed(self.per_token_s, per_token)
        self._samples += 1
        if self._samples >= MIN_SAMPLES and (self.best_per_token_s is None or self.per_token_s < self.best_per_token_s):
            self.best_per_token_s = self.per_token_s
        if self.clock() < self.retry_at or self.queued or self.saturated:
            self._successes = 0
            self.slow_start = False
            return
        self._successes += 1
        if self.slow_start or self._successes >= self.limit:
            self._successes = 0
            self.limit = min(self.max_limit, self.limit + 1)

    def pushed_back(self, retry_after_s: float | None = None, in_flight: int | None = None) -> None:
        """A 429 or 503 (with the server's Retry-After, if it sent one), a timeout or a connection error;
        `in_flight`: how many requests this endpoint had when it came (this one included)."""
        now = self.clock()
        self._successes = 0
        self.slow_start = False
        if retry_after_s is not None and retry_after_s > 0:
            self.retry_at = max(self.retry_at, now + retry_after_s)
        if now < self._cooldown_until:
            # Counted once: no second cut. But what the server refused at is known now: no more than
            # it took stays in flight (else every freed slot is refused again until the cooldown ends).
            if in_flight:
                self.limit = max(1, min(self.limit, in_flight - 1))
            return
        base = min(self.limit, in_flight) if in_flight else self.limit
        self.limit = max(1, math.floor(base * DECREASE))
        self._cooldown_until = now + max(self.latency_s or 0.0, MIN_COOLDOWN_S)

    def server_queue(self, waiting: int | None, idle_slots: int | None) -> None:
        """What the server says of its queue: requests waiting (vLLM), idle slots (llama.cpp)."""
        self.queued = bool(waiting) or idle_slots == 0

    def reset(self) -> None:
        """A server that came back may be a fresh one: start small again."""
        self.limit = min(START, self.max_limit)
        self._successes = 0
        self.slow_start = True
        self.queued = False
        self.retry_at = 0.0


def _smoothed(old: float | None, new: float) -> float:
    return new if old is None else old + SMOOTHING * (new - old)
