"""What a pool of model servers reports per endpoint while a job runs: written by the runner with
each heartbeat (plain JSON on the job's row: names, URLs and counts, never content) and shown by the
Jobs screen and `forge-tui jobs show`, whichever process runs the job."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class EndpointState(StrEnum):
    HEALTHY = "healthy"
    BACKING_OFF = "backing off"  # refused (429/503) or timed out lately: its limit was cut
    DROPPED = "dropped"  # not answering: probed again with backoff, its items go to the others


@dataclass(frozen=True)
class EndpointStats:
    name: str
    url: str
    state: EndpointState
    in_flight: int
    limit: int  # the adaptive concurrency limit now
    max_concurrency: int
    per_minute: float  # answers in the last minute
    tokens_per_s: float  # generated tokens per second over the last minute
    error_rate: float  # failed / asked over the last minute, 0..1
    answered: int  # since the run started
    failed: int

    def to_json(self) -> dict[str, Any]:
        values = asdict(self)
        values["state"] = self.state.value
        return values

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> EndpointStats:
        return cls(
            name=str(value.get("name", "")),
            url=str(value.get("url", "")),
            state=EndpointState(value.get("state", EndpointState.HEALTHY.value)),
            in_flight=int(value.get("in_flight", 0)),
            limit=int(value.get("limit", 0)),
            max_concurrency=int(value.get("max_concurrency", 0)),
            per_minute=float(value.get("per_minute", 0.0)),
            tokens_per_s=float(value.get("tokens_per_s", 0.0)),
            error_rate=float(value.get("error_rate", 0.0)),
            answered=int(value.get("answered", 0)),
            failed=int(value.get("failed", 0)),
        )
