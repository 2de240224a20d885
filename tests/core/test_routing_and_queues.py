"""Routing across a pool (core.routing) and reading a server's own queue (core.server_queue)."""

from __future__ import annotations

import json

from forge_tui.core.routing import Lane, pick
from forge_tui.core.server_queue import ServerQueue, from_llama_cpp_slots, from_vllm_metrics


def test_the_endpoint_with_the_most_free_capacity_for_its_speed_is_picked() -> None:
    fast = Lane(limit=8, in_flight=6, latency_s=0.1, open=True)  # 2 free, 10 answers/s per slot
    slow = Lane(limit=8, in_flight=2, latency_s=0.4, open=True)  # 6 free, 2.5 answers/s per slot
    assert pick([fast, slow]) == 0
    assert pick([Lane(8, 7, 0.1, True), slow]) == 1


def test_full_or_closed_endpoints_are_never_picked() -> None:
    assert pick([Lane(4, 4, 0.1, True), Lane(4, 0, 0.1, False)]) is None
    assert pick([]) is None


def test_an_endpoint_not_measured_yet_counts_as_fast_as_the_fastest() -> None:
    slow, fast_but_full, new = Lane(4, 0, 0.4, True), Lane(1, 1, 0.1, True), Lane(4, 0, None, True)
    assert pick([slow, fast_but_full, new]) == 2
    assert pick([Lane(4, 3, None, True), Lane(4, 2, None, True)]) == 1


VLLM_METRICS = """# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 12.0
vllm:num_requests_running{engine="1",model_name="meta-llama/Llama-3.1-8B-Instruct"} 4.0
# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 3.0
vllm:num_requests_waiting{engine="1",model_name="meta-llama/Llama-3.1-8B-Instruct"} 0.0
vllm:gpu_cache_usage_perc{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 0.41
"""


def test_vllm_metrics_give_waiting_and_running_summed_over_engines() -> None:
    assert from_vllm_metrics(VLLM_METRICS) == ServerQueue(waiting=3, running=16, idle_slots=None)


def test_text_without_vllm_gauges_is_not_a_queue() -> None:
    assert from_vllm_metrics("# some other exporter\nprocess_cpu_seconds_total 1.5\n") is None
    assert from_vllm_metrics("vllm:num_requests_waiting NaN\n") is None


def test_llama_cpp_slots_give_idle_and_busy_counts() -> None:
    newer = json.dumps([{"id": 0, "is_processing": True}, {"id": 1, "is_processing": False}])
    assert from_llama_cpp_slots(newer) == ServerQueue(waiting=None, running=1, idle_slots=1)
    older = json.dumps([{"id": 0, "state": 1}, {"id": 1, "state": 1}])
    assert from_llama_cpp_slots(older) == ServerQueue(waiting=None, running=2, idle_slots=0)
    assert from_llama_cpp_slots("not json") is None
    assert from_llama_cpp_slots('{"error": "slots endpoint disabled"}') is None
