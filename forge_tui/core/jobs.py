"""What a job is and how its runner decides (no I/O): states, the summary every view shows, the
retry delay, and when a run of failures pauses the job."""

from __future__ import annotations

import random
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from forge_tui.core.bounded_text import clip
from forge_tui.core.endpoints import POOL

FAILURE_WINDOW = 50  # the last finished items looked at
REASON_CHARS = 200  # an item's or a job's reason, at most
SERVER_GONE = "model server gone"
MODEL_MISSING = "model missing"
ENDPOINT_PARAM = "endpoint"  # the key of a job's plain params that holds its endpoint choice
CONCURRENCY_PARAM = "concurrency"  # requests at once the job was made with (absent: Settings')


class JobState(StrEnum):
    PLANNED = "planned"
    RUNNING = "running"
    PAUSED = "paused"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


# A job in one of these states can run (again): resume takes it from where it stopped.
RESUMABLE = frozenset({JobState.PLANNED, JobState.RUNNING, JobState.PAUSED, JobState.FAILED})


class FailureKind(StrEnum):
    """Why an item failed: the server could not be reached, the model is missing, another transport
    failure after the retries, or the item itself. The first two are the server's fault, not the
    item's, so resuming the job asks those items again."""

    UNAVAILABLE = "unavailable"
    MISSING = "missing"
    TRANSPORT = "transport"
    ITEM = "item"


SERVER_FAULTS = (FailureKind.UNAVAILABLE, FailureKind.MISSING)


@dataclass(frozen=True)
class JobSummary:
    """A job as every view shows it; `per_minute` and `eta_s` are None until there is a rate."""

    id: int
    kind: str
    name: str  # "" when it cannot be opened (sealed with a key this session lacks)
    status: JobState
    total: int
    done: int
    failed: int
    model: str
    dataset_id: int | None
    template_id: int | None
    pause_reason: str | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    per_minute: float | None = None
    eta_s: float | None = None
    # A process is running it now (its runner said so within the last seconds).
    running_elsewhere: bool = False
    # The endpoint chosen for the job (its plain params); None: the pool.
    endpoint: str | None = None
    # What the job counted as it went, plain (a judge job's: core.judge_counts); empty for others.
    results: dict[str, float] = field(default_factory=dict)
    # Requests at once the job was made with (its plain params); None: Settings' / the pool's.
    concurrency: int | None = None
    # A training run's output folder (its plain params); None for other jobs.
    output_dir: str | None = None

    @property
    def pending(self) -> int:
        return max(0, self.total - self.done - self.failed)


def results_of(params: dict[str, object]) -> dict[str, float]:
    """The counts a job's params hold under "results" (empty for a job that keeps none)."""
    value = params.get("results")
    if not isinstance(value, dict):
        return {}
    return {str(k): float(v) for k, v in value.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def endpoint_of(params: dict[str, object]) -> str | None:
    """The endpoint choice a job's params hold: a name, or None for the pool (also for older jobs)."""
    value = params.get(ENDPOINT_PARAM)
    return value if isinstance(value, str) and value and value != POOL else None


def output_dir_of(params: dict[str, object]) -> str | None:
    value = params.get("output_dir")
    return value if isinstance(value, str) and value else None


def concurrency_of(params: dict[str, object]) -> int | None:
    value = params.get(CONCURRENCY_PARAM)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def retry_delay(attempt: int, base_s: float, retry_after: float | None = None, cap_s: float = 30.0) -> float:
    """Seconds to wait before attempt `attempt + 1`: exponential with jitter, or what the server asked."""
    if retry_after is not None:
        return min(max(retry_after, 0.0), cap_s)
    return float(min(cap_s, base_s * 2 ** (attempt - 1)) * (0.5 + random.random()))


def reason_text(text: str) -> str:
    """One line of bounded length."""
    return clip(" ".join(text.split()), REASON_CHARS)


class FailureWindow:
    """The last FAILURE_WINDOW finished items: when more than half of them failed, the job pauses
    itself, and `reason` says why ("model server gone", "model missing", else the commonest error)."""

    def __init__(self, size: int = FAILURE_WINDOW) -> None:
        self.size = size
        self._last: deque[tuple[FailureKind, str] | None] = deque(maxlen=size)

    def add(self, failure: tuple[FailureKind, str] | None) -> None:
        """None for an item that succeeded, else (kind, reason)."""
        self._last.append(failure)

    def pause_reason(self) -> str | None:
        failures = [f for f in self._last if f is not None]
        if len(failures) * 2 <= self.size:
            return None
        kinds = Counter(kind for kind, _ in failures)
        if kinds[FailureKind.UNAVAILABLE] * 2 > len(failures):
            return SERVER_GONE
        if kinds[FailureKind.MISSING] * 2 > len(failures):
            return MODEL_MISSING
        commonest, _ = Counter(reason for _, reason in failures).most_common(1)[0]
        return commonest
