"""What both backends share: the protocol, the HTTP client, retries, and the streaming timeouts."""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol, TypeVar

import httpx

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.chat import (
    ChatChunk,
    ChatRequest,
    ChatResult,
    Health,
    ModelInfo,
    StructuredMode,
    ToolCall,
    Usage,
)
from forge_tui.core.structured_output import refuses_format
from forge_tui.core.thinking import ThinkSplitter
from forge_tui.core.toolcalls import tool_calls_from_text
from forge_tui.i18n import _
from forge_tui.llm.errors import (
    BackendBusy,
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    StructuredOutputRefused,
)
from forge_tui.llm.excerpts import looks_like_html, plain_excerpt, shorten

T = TypeVar("T")

_MAX_BACKOFF = 8.0


class Backend(Protocol):
    kind: str
    base_url: str

    async def list_models(self) -> list[ModelInfo]: ...

    def chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk]: ...

    async def health(self) -> Health: ...

    async def ensure_model(self, model: str) -> None: ...

    async def unload(self, model: str) -> bool: ...

    async def load(self, model: str) -> bool: ...

    async def aclose(self) -> None: ...

    async def embed(self, model: str, texts: list[str]) -> list[list[float]]: ...


class HttpBackend:
    """One shared httpx.AsyncClient, retries with backoff, and first-byte / between-token timeouts."""

    kind = "http"

    def __init__(self, settings: BackendSettings, base_url: str, transport: httpx.AsyncBaseTransport | None = None):
        self.settings = settings
        self.base_url = base_url.rstrip("/")
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    # --- the client ---------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        headers = {"User-Agent": "forge-tui"}
        if self.settings.api_key_env:
            key = os.environ.get(self.settings.api_key_env)
            if key:
                headers["Authorization"] = f"Bearer {key}"
        return headers

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            s = self.settings
            self._client = httpx.AsyncClient(
                base_url=self.base_url,
                headers=self._headers(),
                # Reads are timed per chunk below; here only connecting and writing are bounded.
                timeout=httpx.Timeout(connect=s.connect_timeout, read=None, write=s.connect_timeout, pool=None),
                limits=httpx.Limits(
                    max_connections=max(s.concurrency, 10), max_keepalive_connections=max(s.concurrency, 10)
                ),
                transport=self._transport,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # --- errors and retries -------------------------------------------------------------
    def unavailable(self) -> BackendUnavailable:
        return BackendUnavailable(
            _("The server at {url} is not answering — start it or change the URL in Settings").format(url=self.base_url)
        )

    def busy(self, status: int, retry_after: float | None) -> BackendBusy:
        if status == 429:
            message = _(
                "The server at {url} is too many requests (429) — try again, or lower the concurrency in Settings"
            )
        else:
            message = _("The server at {url} is busy (503) — try again, or lower the concurrency in Settings")
        return BackendBusy(message.format(url=self.base_url), retry_after)

    async def with_retries(self, attempt: Callable[[], Awaitable[T]], max_retries: int | None = None) -> T:
        """Repeats a request that is safe to repeat when the server refused it or was busy."""
        limit = self.settings.max_retries if max_retries is None else max_retries
        tries = 0
        while True:
            try:
                return await attempt()
            except (BackendUnavailable, BackendBusy) as exc:
                if tries >= limit:
                    raise
                delay = min(_MAX_BACKOFF, 0.25 * 2**tries) * (0.5 + random.random())
                if isinstance(exc, BackendBusy) and exc.retry_after is not None:
                    delay = min(max(exc.retry_after, 0.0), _MAX_BACKOFF * 4)
                tries += 1
                await asyncio.sleep(delay)

    async def post_json(self, path: str, payload: dict[str, object], model: str, what: str) -> object:
        """POSTs a JSON request that is safe to repeat (embeddings) and returns the JSON answer."""

        async def attempt() -> object:
            try:
                response = await self.client.post(path, json=payload, timeout=self.settings.first_byte_timeout)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                raise self.unavailable() from None
            except httpx.TimeoutException:
                raise BackendTimeout(
                    _("The server at {url} took longer than {seconds} s to {what}").format(
                        url=self.base_url, seconds=f"{self.settings.first_byte_timeout:g}", what=_(what)
                    )
                ) from None
            except httpx.TransportError as exc:
                raise BackendError(
                    _("The connection to {url} failed: {problem}").format(url=self.base_url, problem=exc)
                ) from None
            if response.status_code in (429, 503):
                raise self.busy(response.status_code, _retry_after(response))
            self.raise_for_status(response, model=model)
            try:
                return response.json()
            except ValueError:
                raise BackendError(
                    _("{url} did not answer with JSON; is this the right URL?").format(url=f"{self.base_url}{path}")
                ) from None

        return await self.with_retries(attempt)

    async def get_json(self, path: str, max_retries: int | None = None) -> object:
        async def attempt() -> object:
            try:
                response = await self.client.get(path, timeout=self.settings.connect_timeout)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                raise self.unavailable() from None
            except httpx.TimeoutException:
                raise BackendTimeout(
                    _("The server at {url} took longer than {seconds} s to answer").format(
                        url=self.base_url, seconds=f"{self.settings.connect_timeout:g}"
                    )
                ) from None
            except httpx.TransportError as exc:
                raise BackendError(
                    _("The connection to {url} failed: {problem}").format(url=self.base_url, problem=exc)
                ) from None
            if response.status_code in (429, 503):
                raise self.busy(response.status_code, _retry_after(response))
            self.raise_for_status(response, model=None)
            try:
                return response.json()
            except ValueError:
                raise BackendError(
                    _("{url} did not answer with JSON; is this the right URL?").format(url=f"{self.base_url}{path}")
                ) from None

        return await self.with_retries(attempt, max_retries)

    def raise_for_status(self, response: httpx.Response, model: str | None) -> None:
        """Turns an error status, or a redirect (never followed: a request would be sent again, maybe
        somewhere else), into a typed error. Overridden to recognise a missing model."""
        status = response.status_code
        if 300 <= status < 400:
            raise self.redirected(response)
        if status < 400:
            return
        raise BackendError(
            _("The server at {url} answered {status} {reason}: {problem}").format(
                url=response.request.url, status=status, reason=response.reason_phrase, problem=error_text(response)
            )
        )

    def redirected(self, response: httpx.Response) -> BackendError:
        asked = str(response.request.url)
        location = response.headers.get("location")
        if not location:
            return BackendError(
                _("The server at {url} answered {status} (a redirect) without saying where").format(
                    url=asked, status=response.status_code
                )
            )
        target = str(response.request.url.join(location))
        # The same path under another base (http to https, another host): that base is the URL to set.
        path = asked[len(self.base_url) :] if asked.startswith(self.base_url) else ""
        if path and target.endswith(path):
            return BackendError(
                _(
                    "The server at {url} redirected the request to {target} ({status}); "
                    "set the URL in Settings to {base}"
                ).format(
                    url=asked,
                    target=shorten(target, 200),
                    status=response.status_code,
                    base=shorten(target[: -len(path)], 200),
                )
            )
        return BackendError(
            _(
                "The server at {url} redirected the request to {target} ({status}); "
                "set the URL in Settings to the final address"
            ).format(url=asked, target=shorten(target, 200), status=response.status_code)
        )

    # --- streaming ----------------------------------------------------------------------
    async def open_stream(
        self, path: str, payload: dict[str, object], model: str, structured: StructuredMode | None = None
    ) -> httpx.Response:
        """Sends the request and waits for the response headers, with retries while nothing was received.
        `structured`: the mode the payload asks for structured output in, if it does (a refusal of
        that mode raises StructuredOutputRefused)."""

        async def attempt() -> httpx.Response:
            request = self.client.build_request("POST", path, json=payload)
            try:
                response = await asyncio.wait_for(
                    self.client.send(request, stream=True), self.settings.first_byte_timeout
                )
            except TimeoutError:
                raise self.first_byte_timeout() from None
            except (httpx.ConnectError, httpx.ConnectTimeout):
                raise self.unavailable() from None
            except httpx.TransportError as exc:
                raise BackendError(
                    _("The connection to {url} failed: {problem}").format(url=self.base_url, problem=exc)
                ) from None
            if response.status_code >= 300:
                await response.aread()
                await response.aclose()
                if response.status_code in (429, 503):
                    raise self.busy(response.status_code, _retry_after(response))
                if structured not in (None, "text"):
                    said = error_text(response)
                    if refuses_format(response.status_code, said):
                        raise StructuredOutputRefused(
                            _(
                                "The server at {url} does not take {mode} structured output ({status}): {problem}"
                            ).format(url=self.base_url, mode=structured, status=response.status_code, problem=said),
                            structured,
                        )
                self.raise_for_status(response, model=model)
            return response

        return await self.with_retries(attempt)

    def first_byte_timeout(self) -> BackendTimeout:
        return BackendTimeout(
            _(
                "No answer within {seconds} s — the model may still be loading; "
                "raise the first-byte timeout in Settings"
            ).format(seconds=f"{self.settings.first_byte_timeout:g}")
        )

    def answer_time_limit(self) -> BackendTimeout:
        return BackendTimeout(
            _("Stopped after {duration}: the answer's time limit").format(
                duration=_duration(self.settings.answer_time_limit)
            )
        )

    async def whole_body(self, response: httpx.Response) -> object:
        """The JSON of a body that is not streamed, or None when it is not JSON. Its headers came
        within the first-byte timeout; the body must follow without a stall."""
        try:
            async with asyncio.timeout(self.settings.between_tokens_timeout):
                return json.loads(await response.aread())
        except TimeoutError:
            raise BackendTimeout(
                _("The server stopped sending the answer for {seconds} s").format(
                    seconds=f"{self.settings.between_tokens_timeout:g}"
                )
            ) from None
        except httpx.TransportError:
            raise BackendError(
                _("The connection to {url} broke off in the middle of the answer").format(url=self.base_url)
            ) from None
        except ValueError:
            return None

    async def timed_lines(self, response: httpx.Response) -> AsyncIterator[str]:
        """Lines of a streamed body: the first within the first-byte timeout, then each within the
        between-tokens timeout, and all of them within the answer's time limit from the first on. A
        connection that breaks off raises instead of ending quietly."""
        guard = _StallGuard(self.settings.first_byte_timeout)
        between = self.settings.between_tokens_timeout
        clock = guard.loop.time
        try:
            async for line in response.aiter_lines():
                guard.waiting = False
                if guard.first:
                    guard.limit_at = clock() + self.settings.answer_time_limit
                elif clock() >= guard.limit_at:
                    raise self.answer_time_limit()
                yield line
                guard.deadline = clock() + between
                guard.waiting = True
                if guard.first:
                    # The timer was set for the (longer) first-byte deadline; from now on it is the
                    # between-tokens one, which may come much sooner.
                    guard.first = False
                    guard.rearm()
        except asyncio.CancelledError:
            if not guard.expired:
                raise
            guard.task.uncancel()
            if guard.first:
                raise self.first_byte_timeout() from None
            if guard.over_limit:
                raise self.answer_time_limit() from None
            raise BackendTimeout(
                _("The model stopped sending tokens for {seconds} s").format(seconds=f"{between:g}")
            ) from None
        except httpx.TransportError:
            raise BackendError(
                _("The connection to {url} broke off in the middle of the answer").format(url=self.base_url)
            ) from None
        finally:
            guard.stop()


async def drain(lines: AsyncIterator[str]) -> None:
    """Reads what is left of a body after its last message (the chunked terminator, in practice).
    A response closed before its end cannot go back to the connection pool, and every request
    would then open a new connection."""
    async for _line in lines:
        pass


class _StallGuard:
    """One timer per stream instead of one per line: each line only moves a deadline forward, and
    the timer cancels the reading task if it is still waiting when the deadline passes. Time the
    consumer spends between lines does not count."""

    __slots__ = ("deadline", "expired", "first", "handle", "limit_at", "loop", "task", "waiting")

    def __init__(self, first_timeout: float) -> None:
        self.loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        self.task = task
        self.deadline = self.loop.time() + first_timeout
        # The answer's time limit, set when its first line arrives.
        self.limit_at = math.inf
        self.waiting = True
        self.expired = False
        self.first = True
        self.handle = self.loop.call_at(self.deadline, self._check)

    @property
    def over_limit(self) -> bool:
        return self.loop.time() >= self.limit_at

    def _next(self) -> float:
        return min(self.deadline, self.limit_at)

    def _check(self) -> None:
        now = self.loop.time()
        if self.waiting and now >= self._next():
            self.expired = True
            self.task.cancel()
            return
        # A line came in meanwhile (or the consumer is busy with one): look again at the new deadline.
        self.handle = self.loop.call_at(max(self._next(), now + 0.01), self._check)

    def rearm(self) -> None:
        self.handle.cancel()
        self.handle = self.loop.call_at(self._next(), self._check)

    def stop(self) -> None:
        self.handle.cancel()


def _duration(seconds: float) -> str:
    """600 -> "10 min", 90 -> "1.5 min", 0.5 -> "0.5 s"."""
    minutes = seconds / 60
    if seconds >= 60 and minutes == round(minutes, 1):
        return _("{minutes} min").format(minutes=f"{minutes:g}")
    return _("{seconds} s").format(seconds=f"{seconds:g}")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def vectors(found: object, count: int, where: str) -> list[list[float]]:
    """`count` embedding vectors of numbers, or BackendError naming `where` they should have been."""
    if (
        isinstance(found, list)
        and len(found) == count
        and all(isinstance(v, list) and all(isinstance(x, int | float) for x in v) for v in found)
    ):
        return [[float(x) for x in v] for v in found]
    raise BackendError(
        _("The server's answer has no {count} embedding vectors in {where}.").format(count=count, where=where)
    )


def error_text(response: httpx.Response) -> str:
    """The error message a server put in its body, in Ollama's or OpenAI's shape, else a short plain
    excerpt of the body (a proxy's HTML error page, say)."""
    text = response.text
    if looks_like_html(text, response.headers.get("content-type", "")):
        return plain_excerpt(text) or response.reason_phrase
    try:
        body = response.json()
    except ValueError:
        return plain_excerpt(text) or response.reason_phrase
    if isinstance(body, dict):
        error = body.get("error", body.get("message", body.get("detail")))
        if isinstance(error, dict):
            error = error.get("message", error)
        if error:
            return shorten(str(error), 200)
    return shorten(str(body), 120)


class ChunkNormaliser:
    """Strips <think> reasoning from streamed content and, when tools were offered, turns tool calls
    written as JSON text into calls on the last chunk."""

    def __init__(self, request: ChatRequest) -> None:
        self._splitter = ThinkSplitter()
        self._tool_names = [t.name for t in request.tools]
        self._content: list[str] = []

    def content(self, text: str, thinking: str = "") -> ChatChunk | None:
        answer, thought = self._splitter.feed(text)
        thinking += thought
        if self._tool_names:
            self._content.append(answer)
        return ChatChunk(content=answer, thinking=thinking) if answer or thinking else None

    def final(
        self, tool_calls: list[ToolCall], done_reason: str | None, usage: Usage, text: str = "", thinking: str = ""
    ) -> ChatChunk:
        """The last chunk; `text` and `thinking` are any content the server sent with its last line."""
        answer, thought = self._splitter.feed(text)
        rest_answer, rest_thought = self._splitter.flush()
        answer += rest_answer
        thought = thinking + thought + rest_thought
        if self._tool_names:
            self._content.append(answer)
            if not tool_calls:
                tool_calls = tool_calls_from_text("".join(self._content), self._tool_names)
        return ChatChunk(
            content=answer,
            thinking=thought,
            tool_calls=tool_calls,
            done=True,
            done_reason=done_reason,
            usage=usage,
        )


async def gather(chunks: AsyncIterator[ChatChunk]) -> ChatResult:
    """The whole answer from a stream; raises if the stream ends without its last chunk."""
    result = ChatResult()
    content: list[str] = []
    thinking: list[str] = []
    finished = False
    async for chunk in chunks:
        content.append(chunk.content)
        thinking.append(chunk.thinking)
        if chunk.done:
            finished = True
            result.tool_calls = chunk.tool_calls
            result.done_reason = chunk.done_reason
            result.usage = chunk.usage or Usage()
    if not finished:
        raise BackendError(_("The answer ended before the server said it was complete"))
    result.content = "".join(content).strip()
    result.thinking = "".join(thinking).strip()
    return result
