"""OpenAI-compatible servers (vLLM, llama.cpp, LM Studio, hosted APIs): /v1/models, /v1/chat/completions (SSE)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, NamedTuple

import httpx

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.chat import ChatChunk, ChatMessage, ChatRequest, Health, ModelInfo, ToolCall, Usage
from forge_tui.core.toolcalls import parse_arguments
from forge_tui.i18n import N_, _, ngettext
from forge_tui.llm.base import ChunkNormaliser, HttpBackend, drain, error_text, vectors
from forge_tui.llm.errors import BackendBusy, BackendError, BackendTimeout, ModelNotFound
from forge_tui.llm.excerpts import shorten

DEFAULT_URL = "http://127.0.0.1:8000/v1"


def _created(value: object) -> str | None:
    """/v1/models' `created` (Unix seconds) as an ISO 8601 time in UTC."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value, UTC).isoformat(timespec="seconds")
    return None


def normalise_base_url(url: str) -> str:
    """Accepts `http://host:8000` or `http://host:8000/v1`; requests go to …/v1/…."""
    url = url.rstrip("/")
    return url if url.endswith("/v1") else f"{url}/v1"


def _message(message: ChatMessage) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["tool_calls"] = [
            {
                "id": c.id or f"call_{i}",
                "type": "function",
                "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
            }
            for i, c in enumerate(message.tool_calls)
        ]
    if message.tool_call_id:
        out["tool_call_id"] = message.tool_call_id
    return out


def chat_payload(request: ChatRequest) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "model": request.model,
        "messages": [_message(m) for m in request.messages],
        "stream": request.stream,
    }
    if request.stream:
        payload["stream_options"] = {"include_usage": True}
    for key, value in (
        ("temperature", request.temperature),
        ("seed", request.seed),
        ("top_p", request.top_p),
        ("max_tokens", request.max_tokens),
    ):
        if value is not None:
            payload[key] = value
    if request.stop:
        payload["stop"] = request.stop
    if request.tools:
        payload["tools"] = [t.to_openai() for t in request.tools]
    schema = request.response_schema
    if schema is not None and request.structured_mode == "json_schema":
        payload["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": schema, "strict": True},
        }
    elif schema is not None and request.structured_mode == "json_object":
        # The schema rides along: llama-cpp-python (and Together, Fireworks) constrain the answer to it;
        # other servers ignore it, and the prompt holds it too (core.structured_output.in_mode).
        payload["response_format"] = {"type": "json_object", "schema": schema}
    return payload


def _usage(raw: dict[str, Any] | None) -> Usage:
    if not raw:
        return Usage()
    return Usage(prompt_tokens=raw.get("prompt_tokens"), completion_tokens=raw.get("completion_tokens"))


class _ToolCallAssembler:
    """OpenAI streams a call in pieces keyed by index: the name first, then the arguments string in parts."""

    def __init__(self) -> None:
        self._parts: dict[int, dict[str, Any]] = {}

    def add(self, deltas: list[dict[str, Any]]) -> None:
        for delta in deltas:
            index = delta.get("index", len(self._parts))
            if not isinstance(index, int):
                raise ValueError("a tool call's index is not a number")
            part = self._parts.setdefault(index, {"name": "", "arguments": ""})
            if delta.get("id"):
                part["id"] = delta["id"]
            function = delta.get("function") or {}
            if function.get("name"):
                part["name"] += function["name"]
            arguments = function.get("arguments")
            if isinstance(arguments, dict):
                part["arguments"] = arguments
            elif arguments:
                part["arguments"] += arguments

    def calls(self) -> list[ToolCall]:
        calls = []
        for _index, part in sorted(self._parts.items()):
            try:
                arguments = parse_arguments(part["arguments"])
            except (ValueError, json.JSONDecodeError):
                raise BackendError(
                    _("The model sent a call to '{name}' whose arguments are not valid JSON").format(name=part["name"])
                ) from None
            calls.append(ToolCall(name=part["name"], arguments=arguments, id=part.get("id")))
        return calls


class _Choice(NamedTuple):
    content: str
    thinking: str
    tool_calls: list[dict[str, Any]]
    finish_reason: str | None


def _read_choice(choice: object, key: str) -> _Choice:
    """A choice of a streamed chunk (`key` "delta") or of a whole answer ("message"); ValueError when
    it is not shaped as OpenAI sends it."""
    if not isinstance(choice, dict):
        raise ValueError("a choice is not an object")
    delta = choice.get(key) or {}
    if not isinstance(delta, dict):
        raise ValueError(f"{key} is not an object")
    content = delta.get("content") or ""
    # vLLM and llama.cpp send thinking as `reasoning_content`, Ollama as `reasoning`.
    thinking = delta.get("reasoning_content") or delta.get("reasoning") or ""
    calls = delta.get("tool_calls") or []
    reason = choice.get("finish_reason")
    if not (isinstance(content, str) and isinstance(thinking, str) and isinstance(calls, list)):
        raise ValueError("content, reasoning or tool_calls has the wrong type")
    if not all(isinstance(c, dict) and isinstance(c.get("function") or {}, dict) for c in calls):
        raise ValueError("a tool call is not an object with a function object")
    if reason is not None and not isinstance(reason, str):
        raise ValueError("finish_reason is not a string")
    return _Choice(content, thinking, calls, reason)


def _read_event(data: str) -> tuple[dict[str, Any], list[_Choice], Usage | None]:
    """One `data:` payload of a chat stream; ValueError when it is not shaped as OpenAI sends it."""
    event = json.loads(data)
    if not isinstance(event, dict):
        raise ValueError("not a JSON object")
    if "error" in event:
        return event, [], None
    choices = event.get("choices") or []
    raw_usage = event.get("usage")
    if not isinstance(choices, list) or not isinstance(raw_usage or {}, dict):
        raise ValueError("choices or usage has the wrong type")
    # Usage's validation raises a ValueError for counts that are not numbers.
    return event, [_read_choice(c, "delta") for c in choices], _usage(raw_usage) if raw_usage else None


class OpenAIBackend(HttpBackend):
    kind = "openai"

    def __init__(self, settings: BackendSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        url = settings.base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_URL
        super().__init__(settings, normalise_base_url(url), transport)
        self._known_models: list[str] | None = None

    def raise_for_status(self, response: httpx.Response, model: str | None) -> None:
        if response.status_code == 404 and model is not None:
            raise ModelNotFound(
                _("model '{model}' is not served at {url}: {problem}").format(
                    model=model, url=self.base_url, problem=error_text(response)
                ),
                model,
            )
        if response.status_code in (401, 403):
            if self.settings.api_key_env:
                message = _("The server at {url} refused the request ({status}) — check the key in ${variable}")
            else:
                message = _("The server at {url} refused the request ({status}) — set the API-key variable in Settings")
            raise BackendError(
                message.format(url=self.base_url, status=response.status_code, variable=self.settings.api_key_env)
            )
        super().raise_for_status(response, model)

    async def health(self) -> Health:
        try:
            models = await self._model_ids(retry=False)
        except BackendError as exc:
            busy = isinstance(exc, BackendTimeout | BackendBusy)
            return Health(ok=False, base_url=self.base_url, kind=self.kind, message=str(exc), busy=busy)
        return Health(
            ok=True,
            base_url=self.base_url,
            kind=self.kind,
            message=ngettext("{count} model served", "{count} models served", len(models)).format(count=len(models)),
        )

    async def _model_ids(self, retry: bool = True) -> list[str]:
        # A health check asks once; a refused connection is the answer, not a reason to wait.
        body = await self.get_json("/models", max_retries=None if retry else 0)
        data = body.get("data", []) if isinstance(body, dict) else []
        self._known_models = [str(item.get("id")) for item in data if isinstance(item, dict)]
        return self._known_models

    async def list_models(self) -> list[ModelInfo]:
        body = await self.get_json("/models")
        data = body.get("data", []) if isinstance(body, dict) else []
        found = []
        for item in data:
            if not isinstance(item, dict):
                continue
            meta = item.get("meta") or {}
            found.append(
                ModelInfo(
                    name=str(item.get("id")),
                    size=meta.get("size"),
                    context_length=item.get("max_model_len") or meta.get("n_ctx_train"),
                    parameter_size=_params_text(meta.get("n_params")),
                    modified_at=_created(item.get("created")),
                )
            )
        return sorted(found, key=lambda m: m.name)

    async def embed(self, model: str, texts: list[str]) -> list[list[float]]:
        """POST /v1/embeddings: `data` holds one object per text with its `index`."""
        body = await self.post_json("/embeddings", {"model": model, "input": texts}, model, N_("embed texts"))
        data = body.get("data") if isinstance(body, dict) else None
        items = (
            sorted(data, key=lambda d: d.get("index", 0) if isinstance(d, dict) else 0)
            if isinstance(data, list)
            else None
        )
        found = [d.get("embedding") if isinstance(d, dict) else None for d in items] if items is not None else None
        return vectors(found, len(texts), "'data'")

    async def ensure_model(self, model: str) -> None:
        known = await self._model_ids()
        # llama.cpp's server answers to any name with the one model it has loaded.
        if known and model not in known and len(known) > 1:
            raise ModelNotFound(
                _("model '{model}' is not served at {url} — it serves: {models}").format(
                    model=model, url=self.base_url, models=", ".join(known)
                ),
                model,
            )

    async def unload(self, model: str) -> bool:
        return False  # the OpenAI API has no way to free a model; vLLM and llama.cpp keep theirs

    async def load(self, model: str) -> bool:
        return False

    async def chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        normaliser = ChunkNormaliser(request)
        payload = chat_payload(request)
        structured = request.structured_mode if "response_format" in payload else None
        response = await self.open_stream("/chat/completions", payload, request.model, structured)
        try:
            if not request.stream:
                body = await self.whole_body(response)
                if not isinstance(body, dict):
                    raise BackendError(
                        _("{url} did not answer with a JSON object; is this the right URL?").format(
                            url=f"{self.base_url}/chat/completions"
                        )
                    )
                try:
                    choices = body.get("choices") or [{}]
                    raw_usage = body.get("usage")
                    if not isinstance(choices, list) or not isinstance(raw_usage or {}, dict):
                        raise ValueError("choices or usage has the wrong type")
                    choice, usage = _read_choice(choices[0], "message"), _usage(raw_usage)
                    assembler = _ToolCallAssembler()
                    assembler.add([{"index": i, **c} for i, c in enumerate(choice.tool_calls)])
                except ValueError:
                    raise BackendError(
                        _(
                            "The server at {url} answered with JSON that is not an OpenAI chat completion: {body}"
                        ).format(url=response.request.url, body=repr(shorten(json.dumps(body), 80)))
                    ) from None
                yield normaliser.final(assembler.calls(), choice.finish_reason, usage, choice.content, choice.thinking)
                return
            async for chunk in self._stream(response, normaliser):
                yield chunk
        finally:
            await response.aclose()

    async def _stream(self, response: httpx.Response, normaliser: ChunkNormaliser) -> AsyncIterator[ChatChunk]:
        assembler = _ToolCallAssembler()
        finish_reason: str | None = None
        usage = Usage()
        # Some servers (llama-cpp-python) ignore stream_options.include_usage: count the deltas then,
        # which these servers send one token at a time, and time the generation here.
        deltas = 0
        started = time.monotonic()
        first_token_at: float | None = None
        lines = self.timed_lines(response)
        async for line in lines:
            if not line.startswith("data:"):
                continue  # blank separators, comments, "event:" lines
            data = line[5:].strip()
            if data == "[DONE]":
                if usage.completion_tokens is None:
                    now = time.monotonic()
                    usage = Usage(
                        completion_tokens=deltas,
                        estimated=True,
                        total_ms=(now - started) * 1000,
                        generation_ms=(now - (first_token_at or now)) * 1000 or None,
                    )
                final = normaliser.final(assembler.calls(), finish_reason, usage)
                await drain(lines)
                yield final
                return
            try:
                event, choices, event_usage = _read_event(data)
                for choice in choices:
                    assembler.add(choice.tool_calls)
            except ValueError:
                raise BackendError(
                    _(
                        "The server at {url} sent an event that is not valid OpenAI SSE "
                        "(data: and a JSON chunk): {line}"
                    ).format(url=response.request.url, line=repr(shorten(line, 80)))
                ) from None
            if "error" in event:
                error = event["error"]
                message = error.get("message", error) if isinstance(error, dict) else error
                raise BackendError(
                    _("The server stopped with an error: {problem}").format(problem=shorten(str(message), 200))
                )
            if event_usage is not None:
                usage = event_usage
            for choice in choices:
                if choice.content or choice.tool_calls or choice.thinking:
                    deltas += 1
                    first_token_at = first_token_at or time.monotonic()
                chunk = normaliser.content(choice.content, choice.thinking)
                if chunk is not None:
                    yield chunk
                if choice.finish_reason:
                    finish_reason = choice.finish_reason
        raise BackendError(_("The answer ended without [DONE] — the server or the connection broke off"))


def _params_text(n_params: object) -> str | None:
    if not isinstance(n_params, (int, float)) or n_params <= 0:
        return None
    if n_params >= 1e9:
        return f"{n_params / 1e9:.1f}B"
    return f"{n_params / 1e6:.0f}M"
