"""The adaptive limit of one endpoint (core.concurrency), each rule with a fake clock."""

from __future__ import annotations

from forge_tui.core.concurrency import DECREASE, START, AdaptiveLimit


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def limit_of(max_limit: int = 64) -> tuple[AdaptiveLimit, Clock]:
    clock = Clock()
    return AdaptiveLimit(max_limit, clock), clock


def answer(limit: AdaptiveLimit, clock: Clock, times: int, latency_s: float = 0.1, tokens: int = 10) -> None:
    for _ in range(times):
        clock.now += 0.01
        limit.succeeded(latency_s, tokens)


def test_it_starts_at_four_and_doubles_per_round_trip_until_the_first_refusal() -> None:
    limit, clock = limit_of()
    assert limit.limit == START == 4
    answer(limit, clock, 4)  # one round trip at 4 in flight
    assert limit.limit == 8
    answer(limit, clock, 8)
    assert limit.limit == 16


def test_after_a_refusal_it_grows_by_one_per_round_of_successes() -> None:
    limit, clock = limit_of()
    answer(limit, clock, 16)  # slow start: 20
    limit.pushed_back()
    assert limit.limit == int(20 * DECREASE) == 18
    clock.now += 1.0
    answer(limit, clock, 17)
    assert limit.limit == 18
    answer(limit, clock, 1)
    assert limit.limit == 19  # 18 in a row at limit 18
    answer(limit, clock, 19)
    assert limit.limit == 20  # then 19 at limit 19


def test_a_refusal_cuts_from_what_was_in_flight_when_that_was_less() -> None:
    limit, clock = limit_of()
    answer(limit, clock, 44)  # slow start: 48, far above a server that takes 20
    limit.pushed_back(in_flight=21)
    assert limit.limit == int(21 * DECREASE)


def test_it_never_grows_past_the_endpoints_max() -> None:
    limit, clock = limit_of(max_limit=6)
    answer(limit, clock, 200)
    assert limit.limit == 6
    assert AdaptiveLimit(2, Clock()).limit == 2


def test_a_refusal_cuts_it_multiplicatively_once_per_cooldown() -> None:
    limit, clock = limit_of()
    answer(limit, clock, 400)
    grown = limit.limit
    assert grown > 20
    limit.pushed_back()
    cut = limit.limit
    assert cut == int(grown * DECREASE) and cut < grown
    for _ in range(10):  # the burst of refusals from the same overshoot
        clock.now += 0.005
        limit.pushed_back()
    assert limit.limit == cut
    clock.now += 0.2  # past one mean latency (0.1 s)
    limit.pushed_back()
    assert limit.limit == int(cut * DECREASE)


def test_a_refusal_within_the_cooldown_holds_the_limit_below_what_was_in_flight() -> None:
    limit, clock = limit_of()
    answer(limit, clock, 12)  # slow start: 16, a server that takes 8
    limit.pushed_back(in_flight=16)
    assert limit.limit == 14
    clock.now += 0.01
    limit.pushed_back(in_flight=9)  # the same overshoot: 8 taken, the ninth refused
    assert limit.limit == 8
    limit.pushed_back(in_flight=12)  # never raised by a later refusal
    assert limit.limit == 8


def test_the_limit_never_falls_below_one() -> None:
    limit, clock = limit_of()
    for _ in range(40):
        clock.now += 1.0
        limit.pushed_back()
    assert limit.limit == 1


def test_retry_after_stops_growth_until_it_passed() -> None:
    limit, clock = limit_of()
    answer(limit, clock, 10)
    limit.pushed_back(retry_after_s=2.0)
    assert limit.backing_off
    after_cut = limit.limit
    answer(limit, clock, 50)  # 0.5 s of answers, all before the Retry-After ran out
    assert limit.limit == after_cut
    clock.now += 2.0
    assert not limit.backing_off
    answer(limit, clock, after_cut)
    assert limit.limit == after_cut + 1


def test_growth_stops_while_latency_per_token_is_well_above_its_best() -> None:
    limit, clock = limit_of(max_limit=1000)
    answer(limit, clock, 20, latency_s=0.1, tokens=10)
    answer(limit, clock, 10, latency_s=0.5, tokens=10)  # 5x slower per token: saturated
    assert limit.saturated
    before = limit.limit
    answer(limit, clock, 50, latency_s=0.5, tokens=10)
    assert limit.limit == before
    answer(limit, clock, 60, latency_s=0.1, tokens=10)  # it recovered
    assert not limit.saturated
    assert limit.limit > before


def test_a_longer_answer_is_not_taken_for_saturation() -> None:
    limit, clock = limit_of()
    answer(limit, clock, 20, latency_s=0.1, tokens=10)
    answer(limit, clock, 20, latency_s=0.5, tokens=50)  # five times the tokens in five times the time
    assert not limit.saturated


def test_growth_stops_while_the_server_reports_a_queue() -> None:
    limit, clock = limit_of()
    limit.server_queue(waiting=3, idle_slots=None)  # vLLM: requests waiting
    answer(limit, clock, 50)
    assert limit.limit == START
    limit.server_queue(waiting=None, idle_slots=0)  # llama.cpp: no idle slot
    answer(limit, clock, 50)
    assert limit.limit == START
    limit.server_queue(waiting=0, idle_slots=None)
    answer(limit, clock, START)
    assert limit.limit == START + 1  # grows again, one per round trip: a queue ended the slow start
