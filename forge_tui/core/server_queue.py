"""What a model server says about its own queue: vLLM's Prometheus `/metrics`
(`vllm:num_requests_waiting`, `vllm:num_requests_running`) and llama.cpp's `/slots` JSON (a list of
slots, each busy or idle). Pure parsing; services.endpoint_pool polls them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_SAMPLE = re.compile(r"^(vllm:num_requests_(?:waiting|running))(?:\{[^}]*\})?\s+([0-9.eE+-]+|NaN)\s*(?:\d+)?$")


@dataclass(frozen=True)
class ServerQueue:
    waiting: int | None  # requests queued for a slot (vLLM)
    running: int | None  # requests being generated now
    idle_slots: int | None  # llama.cpp: slots free now


def from_vllm_metrics(text: str) -> ServerQueue | None:
    """The sums over models of vLLM's gauges; None when the text has neither."""
    totals: dict[str, float] = {}
    for line in text.splitlines():
        match = _SAMPLE.match(line.strip())
        if match is None:
            continue
        try:
            value = float(match.group(2))
        except ValueError:
            continue
        if value != value:  # NaN
            continue
        totals[match.group(1)] = totals.get(match.group(1), 0.0) + value
    if not totals:
        return None
    waiting = totals.get("vllm:num_requests_waiting")
    running = totals.get("vllm:num_requests_running")
    return ServerQueue(
        waiting=None if waiting is None else int(waiting),
        running=None if running is None else int(running),
        idle_slots=None,
    )


def from_llama_cpp_slots(text: str) -> ServerQueue | None:
    """llama.cpp's `/slots`: a list of objects with `is_processing` (newer) or `state` (0 idle, older)."""
    try:
        slots = json.loads(text)
    except ValueError:
        return None
    if not isinstance(slots, list) or not all(isinstance(s, dict) for s in slots):
        return None
    busy = 0
    for slot in slots:
        if "is_processing" in slot:
            busy += bool(slot["is_processing"])
        else:
            busy += slot.get("state", 0) != 0
    return ServerQueue(waiting=None, running=busy, idle_slots=len(slots) - busy)
