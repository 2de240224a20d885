"""EndpointPool (services.endpoint_pool) against real fake servers: refusals are re-sent, not
failures; a dead endpoint is dropped, its requests go to the others, and it rejoins when it answers;
every endpoint gone past the budget is one clear error; a server's own queue stops the limit growing."""

from __future__ import annotations

import asyncio

import pytest

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.chat import ChatMessage, ChatRequest
from forge_tui.core.endpoints import POOL, Endpoint
from forge_tui.core.errors import NotFound
from forge_tui.core.pool_stats import EndpointState, EndpointStats
from forge_tui.llm.errors import BackendUnavailable, ModelNotFound
from forge_tui.services.backends import BackendService
from forge_tui.services.endpoint_pool import EndpointPool, open_client
from tests.fake_ollama import FakeModel, FakeOllama

MODEL = "llama3.2:latest"


def ask(seed: int) -> ChatRequest:
    return ChatRequest(model=MODEL, messages=[ChatMessage(role="user", content="Say hi.")], seed=seed, max_tokens=16)


def member(
    name: str, fake: FakeOllama, max_concurrency: int = 8, kind: str = "ollama"
) -> tuple[Endpoint, BackendService]:
    url = f"{fake.base_url}/v1" if kind == "openai" else fake.base_url
    endpoint = Endpoint(name=name, kind=kind, url=url, max_concurrency=max_concurrency)  # type: ignore[arg-type]
    settings = BackendSettings(kind=kind, base_url=url, max_retries=0, concurrency=max_concurrency)  # type: ignore[arg-type]
    return endpoint, BackendService(settings)


def by_name(pool: EndpointPool) -> dict[str, EndpointStats]:
    return {s.name: s for s in pool.stats()}


async def test_refusals_are_sent_again_and_cut_the_limit(fake: FakeOllama) -> None:
    fake.capacity = 2
    fake.retry_after = 0.1  # type: ignore[assignment]
    fake.token_latency = 0.01
    async with EndpointPool([member("one", fake, max_concurrency=8)]) as pool:  # it starts at 4 in flight
        answers = await asyncio.gather(*(pool.complete(ask(i)) for i in range(12)))
        stats = by_name(pool)["one"]
    assert all(a.content for a in answers)
    assert fake.refused > 0
    assert stats.answered == 12 and stats.failed == fake.refused
    assert stats.limit < 4


async def test_a_dead_endpoint_is_dropped_its_requests_go_elsewhere_and_it_rejoins(fake: FakeOllama) -> None:
    other = FakeOllama().start()
    port = other.port
    try:
        async with EndpointPool([member("a", fake), member("b", other)]) as pool:
            other.stop()
            answers = await asyncio.gather(*(pool.complete(ask(i)) for i in range(10)))
            assert all(a.content for a in answers)
            assert by_name(pool)["b"].state is EndpointState.DROPPED
            other = FakeOllama(port=port).start()
            for _ in range(100):
                if by_name(pool)["b"].state is not EndpointState.DROPPED:
                    break
                await asyncio.sleep(0.05)
            assert by_name(pool)["b"].state is EndpointState.HEALTHY
            await asyncio.gather(*(pool.complete(ask(i)) for i in range(20)))
            assert by_name(pool)["b"].answered > 0
    finally:
        other.stop()


async def test_every_endpoint_gone_past_the_budget_is_one_clear_error() -> None:
    gone = FakeOllama().start()
    endpoint = member("a", gone)
    gone.stop()
    async with EndpointPool([endpoint], retry_budget_s=0.3) as pool:
        with pytest.raises(BackendUnavailable, match="not answering"):
            await asyncio.wait_for(pool.complete(ask(1)), 5)


async def test_ensure_model_drops_endpoints_without_it(fake: FakeOllama) -> None:
    with FakeOllama(models=[FakeModel(name="qwen3:0.6b")]) as without:
        async with EndpointPool([member("has", fake), member("lacks", without)]) as pool:
            assert await pool.ensure_model(MODEL) == MODEL
            await asyncio.gather(*(pool.complete(ask(i)) for i in range(8)))
            assert by_name(pool)["lacks"].state is EndpointState.DROPPED
            assert by_name(pool)["has"].answered == 8
        async with EndpointPool([member("lacks", without)]) as pool:
            with pytest.raises(ModelNotFound):
                await pool.ensure_model(MODEL)


async def test_an_endpoint_that_lost_the_model_leaves_the_pool_and_its_requests_go_elsewhere(fake: FakeOllama) -> None:
    with FakeOllama(models=[FakeModel(name="qwen3:0.6b")]) as without:
        async with EndpointPool([member("lacks", without), member("has", fake)]) as pool:
            answers = await asyncio.gather(*(pool.complete(ask(i)) for i in range(8)))
            assert all(a.content for a in answers)
            assert by_name(pool)["lacks"].state is EndpointState.DROPPED
            assert by_name(pool)["has"].answered == 8


async def limits_while_asking(pool: EndpointPool, count: int, at: int) -> tuple[int, int]:
    """The pool's (only) limit after `at` answers and after all `count`, asked all at once."""
    seen: list[int] = []

    async def one(seed: int) -> None:
        await pool.complete(ask(seed))
        seen.append(pool.stats()[0].limit)

    await asyncio.gather(*(one(i) for i in range(count)))
    return seen[at - 1], seen[-1]


async def test_a_server_reporting_a_queue_stops_the_limit_growing(fake: FakeOllama) -> None:
    fake.parallel = 2  # two at a time; the rest wait, and /metrics says so
    fake.serve_metrics = True
    fake.token_latency = 0.01
    fake.fixed_reply = "Hi there."
    async with EndpointPool([member("vllm", fake, max_concurrency=64, kind="openai")], queue_poll_s=0.05) as pool:
        early, late = await limits_while_asking(pool, 80, at=20)
    fake.serve_metrics = False  # the same server, its queue unknown: only latency says it is saturated
    async with EndpointPool([member("plain", fake, max_concurrency=64, kind="openai")], queue_poll_s=0.05) as pool:
        unknown = await limits_while_asking(pool, 80, at=20)
    assert early == late < unknown[1]


async def test_open_client_without_endpoints_is_the_settings_server(fake: FakeOllama) -> None:
    settings = BackendSettings(base_url=fake.base_url, concurrency=6)
    async with open_client(settings, MODEL, None) as pool:
        (only,) = pool.stats()
        assert (only.name, only.max_concurrency, pool.settings.concurrency) == ("default", 6, 6)
        assert (await pool.complete(ask(3))).content


async def test_open_client_takes_the_named_endpoint_or_the_pool(fake: FakeOllama) -> None:
    endpoints = [
        Endpoint(name="a", url=fake.base_url, max_concurrency=4, models=[MODEL]),
        Endpoint(name="b", url=fake.base_url, max_concurrency=8, models=["qwen3:0.6b"]),
        Endpoint(name="c", url=fake.base_url, max_concurrency=16),
    ]
    settings = BackendSettings(endpoints=endpoints, max_retries=2)
    async with open_client(settings, MODEL, "b") as pool:
        assert [s.name for s in pool.stats()] == ["b"]
    async with open_client(settings, MODEL, POOL) as pool:
        assert [s.name for s in pool.stats()] == ["a", "c"]
        assert (pool.settings.concurrency, pool.settings.max_retries) == (20, 2)
    with pytest.raises(NotFound):
        open_client(settings, MODEL, "nope")
