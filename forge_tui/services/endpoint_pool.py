"""A pool of model servers that asks like one (services.model_client.ModelClient): each request
goes to the endpoint with the most free capacity for its measured speed (core.routing), within that
endpoint's adaptive limit (core.concurrency).

A refusal (429/503), a timeout or a connection error before the first chunk is not the item's
failure: the limit of that endpoint is cut and the request is sent again (to the same endpoint after
its Retry-After, or to another). An endpoint that does not answer at all is dropped, probed again
with backoff, and rejoins when it answers. Only when every endpoint is gone for longer than the retry
budget does a request fail (BackendUnavailable), so a job still pauses itself with "model server gone".
Once an answer streams, a failure is the caller's (the job engine retries the item).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import httpx

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.chat import ChatChunk, ChatRequest, ChatResult
from forge_tui.core.concurrency import AdaptiveLimit, Clock
from forge_tui.core.endpoints import DEFAULT_ENDPOINT, Endpoint, chosen
from forge_tui.core.pool_stats import EndpointState, EndpointStats
from forge_tui.core.routing import Lane, pick
from forge_tui.core.server_queue import ServerQueue, from_llama_cpp_slots, from_vllm_metrics
from forge_tui.i18n import _
from forge_tui.llm.base import gather
from forge_tui.llm.errors import BackendBusy, BackendError, BackendTimeout, BackendUnavailable, ModelNotFound
from forge_tui.services.backends import BackendService, RememberMode

RETRY_BUDGET_S = 5.0  # every endpoint gone this long: requests fail instead of waiting
BUSY_BUDGET_S = 120.0  # one request refused (429/503, timeouts) this long: it fails with the last refusal
TICK_S = 0.25  # waiting requests look again (a Retry-After ran out, an endpoint rejoined)
QUEUE_POLL_S = 2.0
PROBE_FIRST_S = 0.25
PROBE_MAX_S = 30.0
STATS_WINDOW_S = 60.0


@dataclass
class _Member:
    endpoint: Endpoint
    service: BackendService
    limit: AdaptiveLimit
    in_flight: int = 0
    dropped_at: float | None = None
    gone_for_good: bool = False  # it does not serve the model
    probe: asyncio.Task[None] | None = None
    answered: int = 0
    failed: int = 0
    recent: deque[tuple[float, bool, int]] = field(default_factory=deque)  # (time, ok, tokens)
    queue_url: str | None = None  # where its queue was read; "" once neither answered

    @property
    def open(self) -> bool:
        return self.dropped_at is None and not self.gone_for_good

    def record(self, now: float, ok: bool, tokens: int = 0) -> None:
        if ok:
            self.answered += 1
        else:
            self.failed += 1
        self.recent.append((now, ok, tokens))
        while self.recent and self.recent[0][0] < now - STATS_WINDOW_S:
            self.recent.popleft()


class EndpointPool:
    """Requests for one or more endpoints; close it (aclose) when done: it closes its members."""

    def __init__(
        self,
        members: Sequence[tuple[Endpoint, BackendService]],
        clock: Clock = time.monotonic,
        *,
        retry_budget_s: float = RETRY_BUDGET_S,
        busy_budget_s: float = BUSY_BUDGET_S,
        queue_poll_s: float = QUEUE_POLL_S,
        owns_members: bool = True,
        settings: BackendSettings | None = None,
    ) -> None:
        """`settings`: what the pool reports as its own (timeouts, retries of an item); the first
        member's by default. Its concurrency is always the sum of the members' max concurrencies."""
        if not members:
            raise ValueError("a pool needs at least one endpoint")
        self.clock = clock
        self.retry_budget_s = retry_budget_s
        self.busy_budget_s = busy_budget_s
        self.queue_poll_s = queue_poll_s
        self._last_unavailable: BackendUnavailable | None = None
        self._poll_task: asyncio.Task[None] | None = None
        self._members = [_Member(e, s, AdaptiveLimit(e.max_concurrency, clock)) for e, s in members]
        self._owns = owns_members
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._all_gone_since: float | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._poller: httpx.AsyncClient | None = None
        own = settings or self._members[0].service.settings
        self._settings = own.model_copy(update={"concurrency": sum(e.max_concurrency for e, _ in members)})

    @classmethod
    def single(cls, service: BackendService, clock: Clock = time.monotonic) -> EndpointPool:
        """One server as a pool (its max concurrency the service's setting); the service stays the caller's."""
        s = service.settings
        endpoint = Endpoint(
            name=DEFAULT_ENDPOINT,
            kind=s.kind,
            url=service.backend.base_url,
            api_key_env=s.api_key_env,
            max_concurrency=s.concurrency,
        )
        return cls([(endpoint, service)], clock, owns_members=False)

    # --- ModelClient ----------------------------------------------------------------------------------
    @property
    def settings(self) -> BackendSettings:
        return self._settings

    @property
    def label(self) -> str:
        if len(self._members) == 1:
            return self._members[0].service.label
        names = ", ".join(m.endpoint.name for m in self._members)
        return _("a pool of {count} endpoints ({names})").format(count=len(self._members), names=names)

    @property
    def capacity(self) -> int:
        """The most requests the pool may ever have in flight: the sum of the max concurrencies."""
        return self._settings.concurrency

    async def ensure_model(self, model: str | None) -> str:
        """Checks every endpoint; those without the model leave the pool (an error if none has it)."""
        found = await asyncio.gather(
            *(m.service.ensure_model(model) for m in self._members if not m.gone_for_good), return_exceptions=True
        )
        problems: list[BaseException] = []
        for member, outcome in zip([m for m in self._members if not m.gone_for_good], found, strict=True):
            if isinstance(outcome, ModelNotFound):
                member.gone_for_good = True
                problems.append(outcome)
            elif isinstance(outcome, BackendUnavailable):
                self._drop(member)
                problems.append(outcome)
            elif isinstance(outcome, BaseException):
                problems.append(outcome)
        if all(m.gone_for_good or m.dropped_at is not None for m in self._members):
            raise problems[0] if problems else BackendUnavailable(_("No endpoint of the pool is answering."))
        assert model
        return model

    def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        return self._stream(request)

    async def complete(self, request: ChatRequest) -> ChatResult:
        return await gather(self._stream(request))

    async def unload(self, model: str) -> bool:
        done = await asyncio.gather(*(m.service.unload(model) for m in self._members), return_exceptions=True)
        return any(outcome is True for outcome in done)

    async def load(self, model: str) -> bool:
        done = await asyncio.gather(*(m.service.load(model) for m in self._members), return_exceptions=True)
        return any(outcome is True for outcome in done)

    async def aclose(self) -> None:
        for task in [self._ticker, self._poll_task, *(m.probe for m in self._members)]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        self._ticker = self._poll_task = None
        if self._poller is not None:
            await self._poller.aclose()
            self._poller = None
        if self._owns:
            for member in self._members:
                await member.service.aclose()

    async def __aenter__(self) -> EndpointPool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def latency_s(self) -> float | None:
        """The smoothed time an answer takes on the slowest endpoint that answered yet; None before."""
        known = [m.limit.latency_s for m in self._members if m.limit.latency_s is not None]
        return max(known) if known else None

    # --- figures --------------------------------------------------------------------------------------
    def stats(self) -> list[EndpointStats]:
        now = self.clock()
        out = []
        for m in self._members:
            while m.recent and m.recent[0][0] < now - STATS_WINDOW_S:
                m.recent.popleft()
            span = min(STATS_WINDOW_S, max(1.0, now - m.recent[0][0])) if m.recent else STATS_WINDOW_S
            ok = sum(1 for _, good, _ in m.recent if good)
            tokens = sum(t for _, _, t in m.recent)
            if m.dropped_at is not None or m.gone_for_good:
                state = EndpointState.DROPPED
            elif m.limit.backing_off:
                state = EndpointState.BACKING_OFF
            else:
                state = EndpointState.HEALTHY
            out.append(
                EndpointStats(
                    name=m.endpoint.name,
                    url=m.service.backend.base_url,
                    state=state,
                    in_flight=m.in_flight,
                    limit=m.limit.limit,
                    max_concurrency=m.endpoint.max_concurrency,
                    per_minute=ok / span * 60,
                    tokens_per_s=tokens / span,
                    error_rate=(len(m.recent) - ok) / len(m.recent) if m.recent else 0.0,
                    answered=m.answered,
                    failed=m.failed,
                )
            )
        return out

    # --- slots ------------------------------------------------------------------------------------------
    def _lanes(self, avoid: _Member | None = None) -> list[Lane]:
        return [Lane(m.limit.limit, m.in_flight, m.limit.latency_s, m.open and m is not avoid) for m in self._members]

    async def _acquire(self, avoid: _Member | None = None) -> _Member:
        """A slot on the best endpoint (not `avoid`), waiting while every one is full or gone."""
        self._start_ticker()
        while True:
            index = pick(self._lanes(avoid))
            if index is not None:
                member = self._members[index]
                member.in_flight += 1
                return member
            self._check_all_gone()
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if not waiter.done():
                    waiter.cancel()
                    with contextlib.suppress(ValueError):
                        self._waiters.remove(waiter)

    def _release(self, member: _Member) -> None:
        member.in_flight -= 1
        self._wake(1)

    def _wake(self, count: int | None = None) -> None:
        """Lets `count` waiting requests (None: all) look again."""
        woken = 0
        while self._waiters and (count is None or woken < count):
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                woken += 1

    def _check_all_gone(self) -> None:
        gone = all(m.dropped_at is not None or m.gone_for_good for m in self._members)
        if not gone:
            self._all_gone_since = None
            return
        now = self.clock()
        if self._all_gone_since is None:
            self._all_gone_since = now
        if now - self._all_gone_since >= self.retry_budget_s:
            if len(self._members) == 1 and self._last_unavailable is not None:
                raise self._last_unavailable
            names = ", ".join(m.service.backend.base_url for m in self._members)
            raise BackendUnavailable(
                _("No endpoint of the pool is answering ({names}) — start one or check Settings").format(names=names)
            )

    def _start_ticker(self) -> None:
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.create_task(self._tick(), name="endpoint-pool")
        if self._poll_task is None and any(m.endpoint.kind == "openai" for m in self._members):
            self._poll_task = asyncio.create_task(self._poll_queues(), name="endpoint-pool-queues")

    async def _tick(self) -> None:
        """Waiting requests look again when slots opened without a release (a Retry-After ran out) or
        every endpoint is gone (past the budget they fail)."""
        while True:
            await asyncio.sleep(TICK_S)
            if not self._waiters:
                continue
            free = sum(lane.free for lane in self._lanes())
            if free > 0:
                self._wake(free)
            elif all(m.dropped_at is not None or m.gone_for_good for m in self._members):
                self._wake()

    async def _poll_queues(self) -> None:
        while True:
            await asyncio.sleep(self.queue_poll_s)
            for member in self._members:
                if member.queue_url != "" and member.endpoint.kind == "openai" and member.dropped_at is None:
                    await self._poll_queue(member)

    # --- one request --------------------------------------------------------------------------------------
    async def _stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        refused_since: float | None = None
        refused: tuple[_Member, float] | None = None  # by whom, and the Retry-After it asked for
        while True:
            avoid = None
            if refused is not None:
                avoid = await self._after_refusal(*refused)
                refused = None
            member = await self._acquire(avoid)
            started = self.clock()
            chunks = member.service.stream(request)
            try:
                try:
                    first = await anext(chunks)
                except StopAsyncIteration:
                    return
                except (BackendBusy, BackendTimeout) as exc:
                    now = self.clock()
                    retry_after = exc.retry_after if isinstance(exc, BackendBusy) else None
                    member.limit.pushed_back(retry_after, member.in_flight)
                    member.record(now, ok=False)
                    refused_since = now if refused_since is None else refused_since
                    if now - refused_since >= self.busy_budget_s:
                        raise
                    if retry_after:
                        refused = (member, retry_after)
                    continue
                except BackendUnavailable as exc:
                    member.record(self.clock(), ok=False)
                    self._last_unavailable = exc
                    self._drop(member)
                    continue
                except ModelNotFound:
                    member.record(self.clock(), ok=False)
                    if all(m is member or m.gone_for_good for m in self._members):
                        raise
                    member.gone_for_good = True  # another endpoint of the pool may have it
                    continue
                except BackendError:
                    member.record(self.clock(), ok=False)
                    raise
                try:
                    chunk = first
                    while True:
                        if chunk.done:  # counted before the caller sees it: it may stop reading there
                            self._answered(member, started, chunk)
                        yield chunk
                        chunk = await anext(chunks)
                except StopAsyncIteration:
                    return
                except BackendError:
                    member.record(self.clock(), ok=False)
                    raise
            finally:
                close = getattr(chunks, "aclose", None)
                if close is not None:
                    with contextlib.suppress(Exception):
                        await close()
                self._release(member)

    async def _after_refusal(self, member: _Member, retry_after: float) -> _Member | None:
        """Where a request refused with a Retry-After goes: another endpoint with room now (the refusing
        one avoided), else the same after waiting the time it asked for."""
        others = [m for m in self._members if m is not member and m.open and m.in_flight < m.limit.limit]
        if others:
            return member
        await asyncio.sleep(min(retry_after, PROBE_MAX_S))
        return None

    def _answered(self, member: _Member, started: float, last: ChatChunk) -> None:
        now = self.clock()
        tokens = last.usage.completion_tokens if last.usage is not None else None
        before = member.limit.limit
        member.limit.succeeded(now - started, tokens)
        member.record(now, ok=True, tokens=tokens or 0)
        if member.limit.limit > before:
            self._wake(member.limit.limit - before)

    # --- dropped endpoints ----------------------------------------------------------------------------------
    def _drop(self, member: _Member) -> None:
        if member.dropped_at is not None:
            return
        member.dropped_at = self.clock()
        member.limit.pushed_back()
        member.probe = asyncio.create_task(self._probe(member), name=f"probe-{member.endpoint.name}")

    async def _probe(self, member: _Member) -> None:
        delay = PROBE_FIRST_S
        while True:
            await asyncio.sleep(delay)
            health = await member.service.health()
            if health.ok:
                member.dropped_at = None
                member.limit.reset()
                self._all_gone_since = None
                self._wake()
                return
            delay = min(PROBE_MAX_S, delay * 2)

    # --- server queues --------------------------------------------------------------------------------------
    async def _poll_queue(self, member: _Member) -> None:
        """vLLM's /metrics or llama.cpp's /slots, at the server's root; a 404 on both stops asking."""
        if self._poller is None:
            self._poller = httpx.AsyncClient(timeout=2.0)
        root = member.service.backend.base_url.removesuffix("/v1")
        urls = [member.queue_url] if member.queue_url else [f"{root}/metrics", f"{root}/slots"]
        for url in urls:
            try:
                response = await self._poller.get(url)
            except httpx.HTTPError:
                return
            if response.status_code == 404:
                continue
            parsed: ServerQueue | None = (
                from_vllm_metrics(response.text) if url.endswith("/metrics") else from_llama_cpp_slots(response.text)
            )
            if response.status_code == 200 and parsed is not None:
                member.queue_url = url
                member.limit.server_queue(parsed.waiting, parsed.idle_slots)
                return
        member.queue_url = ""


def open_client(
    settings: BackendSettings,
    model: str,
    endpoint: str | None,
    remember: RememberMode | None = None,
    transports: dict[str, httpx.AsyncBaseTransport] | None = None,
) -> EndpointPool:
    """A pool over the endpoints that `endpoint` chooses (a name, or None / "pool": every one that serves
    `model`); with none configured, the single server of `kind`/`base_url`. Each member asks once and
    leaves re-sending to the pool; the pool keeps `settings`' retries for the job engine's attempts."""
    endpoints = settings.endpoints or [
        Endpoint(
            name=DEFAULT_ENDPOINT,
            kind=settings.kind,
            url=settings.base_url,
            api_key_env=settings.api_key_env,
            max_concurrency=settings.concurrency,
        )
    ]
    members = []
    for chosen_one in chosen(endpoints, model, endpoint):
        member_settings = settings.model_copy(
            update={
                "kind": chosen_one.kind,
                "base_url": chosen_one.url,
                "api_key_env": chosen_one.api_key_env,
                "concurrency": chosen_one.max_concurrency,
                "max_retries": 0,
                "endpoints": [],
            }
        )
        transport = (transports or {}).get(chosen_one.name)
        members.append((chosen_one, BackendService(member_settings, transport, remember=remember)))
    return EndpointPool(members, settings=settings)
