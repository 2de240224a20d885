"""Anthropic's Messages API: /v1/models and /v1/messages, streamed as server-sent events.

A stream is `message_start` (input tokens), then per content block `content_block_start`,
`content_block_delta`s (`text_delta`, `input_json_delta` of a `tool_use` block, `thinking_delta`)
and `content_block_stop`, then `message_delta` (stop reason, output tokens) and `message_stop`;
`ping`s may come anywhere, and an `error` event (`overloaded_error`, …) ends it. The key is sent as
`x-api-key`, read from the environment variable that Settings name (ANTHROPIC_API_KEY when none is).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

import httpx

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.chat import ChatChunk, ChatRequest, Health, ModelInfo, ToolCall, Usage
from forge_tui.i18n import _, ngettext
from forge_tui.llm.anthropic_payload import API_VERSION, messages_payload
from forge_tui.llm.base import ChunkNormaliser, HttpBackend, _retry_after, drain, error_text
from forge_tui.llm.errors import BackendBusy, BackendError, BackendTimeout, ModelNotFound
from forge_tui.llm.excerpts import shorten

DEFAULT_URL = "https://api.anthropic.com"
DEFAULT_KEY_ENV = "ANTHROPIC_API_KEY"
_PAGE = 1000  # models asked for per page (the API's maximum)
# Anthropic's stop reasons in the words the rest of the app reads (OpenAI's).
_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls"}
_BUSY_ERRORS = ("overloaded_error", "rate_limit_error")


def normalise_base_url(url: str) -> str:
    """Accepts `https://api.anthropic.com` or `…/v1`; requests go to …/v1/…."""
    url = url.rstrip("/")
    return url if url.endswith("/v1") else f"{url}/v1"


@dataclass
class _Block:
    kind: str
    name: str = ""
    id: str | None = None
    json_parts: list[str] = field(default_factory=list)
    start_input: dict[str, Any] = field(default_factory=dict)

    def call(self) -> ToolCall:
        text = "".join(self.json_parts)
        try:
            arguments = json.loads(text) if text.strip() else self.start_input
        except json.JSONDecodeError:
            arguments = None
        if not isinstance(arguments, dict):
            raise BackendError(
                _("The model sent a call to '{name}' whose arguments are not valid JSON").format(name=self.name)
            )
        return ToolCall(name=self.name, arguments=arguments, id=self.id)


def _usage(raw: object, into: Usage) -> Usage:
    """`into` with the counts of a `usage` object; cache reads and writes count as input."""
    if not isinstance(raw, dict):
        return into
    counts = [raw.get(k) for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")]
    given = [c for c in counts if isinstance(c, int)]
    output = raw.get("output_tokens")
    return into.model_copy(
        update={
            "prompt_tokens": sum(given) if given else into.prompt_tokens,
            "completion_tokens": output if isinstance(output, int) else into.completion_tokens,
        }
    )


def _stop_reason(raw: object) -> str | None:
    return _REASONS.get(raw, raw) if isinstance(raw, str) else None


class AnthropicBackend(HttpBackend):
    kind = "anthropic"

    def __init__(self, settings: BackendSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        url = settings.base_url or os.environ.get("ANTHROPIC_BASE_URL") or DEFAULT_URL
        super().__init__(settings, normalise_base_url(url), transport)

    @property
    def key_env(self) -> str:
        return self.settings.api_key_env or DEFAULT_KEY_ENV

    def _headers(self) -> dict[str, str]:
        headers = {"User-Agent": "forge-tui", "anthropic-version": API_VERSION}
        key = os.environ.get(self.key_env)
        if key:
            headers["x-api-key"] = key
        return headers

    def raise_for_status(self, response: httpx.Response, model: str | None) -> None:
        status = response.status_code
        if status in (401, 403):
            if os.environ.get(self.key_env):
                message = _("The server at {url} refused the request ({status}) — check the key in ${variable}")
            else:
                message = _(
                    "The server at {url} refused the request ({status}) — ${variable} is not set in this environment"
                )
            raise BackendError(message.format(url=self.base_url, status=status, variable=self.key_env))
        if status == 404 and _error_type(response) == "not_found_error":
            # A 404 of another kind is a wrong URL (a proxy's page, another server on the port).
            asked = model or _model_in_path(response.request.url.path)
            if asked is not None:
                raise ModelNotFound(
                    _("model '{model}' is not served at {url}: {problem}").format(
                        model=asked, url=self.base_url, problem=error_text(response)
                    ),
                    asked,
                )
        if status == 529:
            raise self.overloaded(_retry_after(response))
        super().raise_for_status(response, model)

    def overloaded(self, retry_after: float | None = None) -> BackendBusy:
        return BackendBusy(
            _("The server at {url} is overloaded (529) — try again later, or lower the concurrency in Settings").format(
                url=self.base_url
            ),
            retry_after,
        )

    # --- models ---------------------------------------------------------------------------
    async def _models(self, retry: bool = True) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            path = f"/models?limit={_PAGE}" + (f"&after_id={quote(after, safe='')}" if after else "")
            body = await self.get_json(path, max_retries=None if retry else 0)
            data = body.get("data") if isinstance(body, dict) else None
            if not isinstance(body, dict) or not isinstance(data, list):
                raise BackendError(
                    _("{url} did not answer with a list of models; is this the right URL?").format(
                        url=f"{self.base_url}/models"
                    )
                )
            found += [item for item in data if isinstance(item, dict) and isinstance(item.get("id"), str)]
            last = body.get("last_id")
            if not body.get("has_more") or not isinstance(last, str) or last == after:
                return found
            after = last

    async def health(self) -> Health:
        try:
            models = await self._models(retry=False)
        except BackendError as exc:
            busy = isinstance(exc, BackendTimeout | BackendBusy)
            return Health(ok=False, base_url=self.base_url, kind=self.kind, message=str(exc), busy=busy)
        count = len(models)
        message = ngettext("{count} model served", "{count} models served", count).format(count=count)
        return Health(ok=True, base_url=self.base_url, kind=self.kind, message=message)

    async def list_models(self) -> list[ModelInfo]:
        found = [
            ModelInfo(
                name=item["id"],
                family=item.get("display_name") if isinstance(item.get("display_name"), str) else None,
                context_length=item.get("max_input_tokens") if isinstance(item.get("max_input_tokens"), int) else None,
            )
            for item in await self._models()
        ]
        return sorted(found, key=lambda m: m.name)

    async def ensure_model(self, model: str) -> None:
        """`GET /v1/models/{model}` takes an id or an alias; 404 is a model not served."""
        await self.get_json(f"/models/{quote(model, safe='')}")

    async def embed(self, model: str, texts: list[str]) -> list[list[float]]:
        raise BackendError(
            _("Anthropic's API has no embeddings; use an Ollama or OpenAI-compatible endpoint for them.")
        )

    async def unload(self, model: str) -> bool:
        return False  # a hosted API keeps its models

    async def load(self, model: str) -> bool:
        return False

    # --- chat -----------------------------------------------------------------------------
    async def chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        normaliser = ChunkNormaliser(request)
        payload = messages_payload(request, self.settings.max_tokens)
        started = time.monotonic()
        response = await self.open_stream("/messages", payload, request.model)
        try:
            if request.stream:
                async for chunk in self._stream(response, normaliser, started):
                    yield chunk
            else:
                yield await self._whole(response, normaliser, started)
        finally:
            await response.aclose()

    async def _whole(self, response: httpx.Response, normaliser: ChunkNormaliser, started: float) -> ChatChunk:
        body = await self.whole_body(response)
        blocks = body.get("content") if isinstance(body, dict) else None
        if not isinstance(body, dict) or not isinstance(blocks, list):
            raise BackendError(
                _("{url} did not answer with an Anthropic message; is this the right URL?").format(
                    url=f"{self.base_url}/messages"
                )
            )
        text, thinking, calls = [], [], []
        for block in blocks:
            kind = block.get("type") if isinstance(block, dict) else None
            if kind == "text" and isinstance(block.get("text"), str):
                text.append(block["text"])
            elif kind == "thinking" and isinstance(block.get("thinking"), str):
                thinking.append(block["thinking"])
            elif kind == "tool_use" and isinstance(block, dict):
                start = block.get("input")
                calls.append(_Block("tool_use", str(block.get("name", "")), block.get("id"), [], start or {}).call())
        usage = _usage(body.get("usage"), Usage(total_ms=(time.monotonic() - started) * 1000))
        return normaliser.final(calls, _stop_reason(body.get("stop_reason")), usage, "".join(text), "".join(thinking))

    async def _stream(
        self, response: httpx.Response, normaliser: ChunkNormaliser, started: float
    ) -> AsyncIterator[ChatChunk]:
        state = _StreamState()
        lines = self.timed_lines(response)
        async for name, data in _events(lines):
            text, thinking = state.event(name, data, response)
            if state.stopped:
                await drain(lines)
                now = time.monotonic()
                usage = state.usage.model_copy(
                    update={
                        "total_ms": (now - started) * 1000,
                        "generation_ms": (now - (state.first_at or now)) * 1000 or None,
                    }
                )
                yield normaliser.final(state.calls(), state.stop_reason, usage, text, thinking)
                return
            chunk = normaliser.content(text, thinking)
            if chunk is not None:
                yield chunk
        raise BackendError(_("The answer ended without message_stop — the server or the connection broke off"))


async def _events(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str, str]]:
    """(event name, data) of each server-sent event; a blank line ends one."""
    name, data = "", []
    async for line in lines:
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif not line.strip() and data:
            yield name, "\n".join(data)
            name, data = "", []
    if data:
        yield name, "\n".join(data)


class _StreamState:
    """What the events of one stream have said so far."""

    def __init__(self) -> None:
        self.blocks: dict[int, _Block] = {}
        self.usage = Usage()
        self.stop_reason: str | None = None
        self.stopped = False
        self.first_at: float | None = None

    def calls(self) -> list[ToolCall]:
        return [b.call() for _i, b in sorted(self.blocks.items()) if b.kind == "tool_use"]

    def event(self, name: str, data: str, response: httpx.Response) -> tuple[str, str]:
        """Takes one event; returns the text and the thinking it adds."""
        try:
            event = json.loads(data)
            if not isinstance(event, dict):
                raise ValueError("not a JSON object")
            return self._take(str(event.get("type") or name), event)
        except (KeyError, ValueError, TypeError, AttributeError):
            raise BackendError(
                _("The server at {url} sent an event that is not valid Anthropic SSE: {line}").format(
                    url=response.request.url, line=repr(shorten(data, 80))
                )
            ) from None

    def _take(self, kind: str, event: dict[str, Any]) -> tuple[str, str]:
        if kind == "error":
            error = event.get("error")
            error = error if isinstance(error, dict) else {}
            said = shorten(str(error.get("message") or error.get("type") or "unknown error"), 200)
            if error.get("type") in _BUSY_ERRORS:
                raise BackendBusy(_("The server is overloaded and stopped the answer: {problem}").format(problem=said))
            raise BackendError(_("The server stopped with an error: {problem}").format(problem=said))
        if kind == "message_start":
            self.usage = _usage(event["message"].get("usage"), self.usage)
        elif kind == "content_block_start":
            block = event["content_block"]
            start = block.get("input")
            self.blocks[int(event["index"])] = _Block(
                str(block["type"]), str(block.get("name") or ""), block.get("id"), [], start or {}
            )
            if block["type"] == "text" and block.get("text"):
                return self._first(str(block["text"]), "")
        elif kind == "content_block_delta":
            delta = event["delta"]
            if delta["type"] == "text_delta":
                return self._first(str(delta["text"]), "")
            if delta["type"] == "thinking_delta":
                return self._first("", str(delta["thinking"]))
            if delta["type"] == "input_json_delta":
                self.blocks[int(event["index"])].json_parts.append(str(delta["partial_json"]))
                self._first("", "")
        elif kind == "message_delta":
            self.stop_reason = _stop_reason(event["delta"].get("stop_reason")) or self.stop_reason
            self.usage = _usage(event.get("usage"), self.usage)
        elif kind == "message_stop":
            self.stopped = True
        # ping, content_block_stop, signature and citation deltas, and event types added later: nothing to show.
        return "", ""

    def _first(self, text: str, thinking: str) -> tuple[str, str]:
        self.first_at = self.first_at or time.monotonic()
        return text, thinking


def _model_in_path(path: str) -> str | None:
    """The model a `…/models/{model}` request asked for."""
    _head, sep, name = path.rpartition("/models/")
    return unquote(name) if sep and name else None


def _error_type(response: httpx.Response) -> str | None:
    """The `error.type` of an error body in Anthropic's shape."""
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    kind = error.get("type") if isinstance(error, dict) else None
    return kind if isinstance(kind, str) else None
