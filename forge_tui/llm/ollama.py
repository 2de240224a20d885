"""Ollama's native API: /api/tags, /api/show, /api/chat (NDJSON stream)."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.chat import ChatChunk, ChatMessage, ChatRequest, Health, ModelInfo, ToolCall, Usage
from forge_tui.core.toolcalls import parse_arguments
from forge_tui.i18n import N_, _
from forge_tui.llm.base import ChunkNormaliser, HttpBackend, drain, vectors
from forge_tui.llm.errors import BackendError, BackendUnavailable, ModelNotFound
from forge_tui.llm.excerpts import shorten

DEFAULT_PORT = "11434"


def ollama_host_url(env_value: str | None) -> str:
    """The base URL the ollama CLI derives from OLLAMA_HOST (scheme, host and port all optional)."""
    raw = (env_value or "").strip()
    scheme, sep, hostport = raw.partition("://")
    default_port = DEFAULT_PORT
    if not sep:
        scheme, hostport = "http", raw
    elif scheme == "http":
        default_port = "80"
    elif scheme == "https":
        default_port = "443"
    hostport, _slash, path = hostport.partition("/")
    host, port = hostport, ""
    if hostport.startswith("["):
        close = hostport.find("]")
        host, port = hostport[: close + 1], hostport[close + 2 :] if close >= 0 else ""
    elif hostport.count(":") == 1:
        host, port = hostport.split(":")
    host = host or "127.0.0.1"
    if host in ("0.0.0.0", "[::]"):
        # The server listens everywhere; the client talks to this machine.
        host = "127.0.0.1"
    if not port.isdigit() or int(port) > 65535:
        port = default_port
    url = f"{scheme}://{host}:{port}"
    return f"{url}/{path}" if path else url


def default_ollama_url() -> str:
    return ollama_host_url(os.environ.get("OLLAMA_HOST"))


def _message(message: ChatMessage) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["tool_calls"] = [{"function": {"name": c.name, "arguments": c.arguments}} for c in message.tool_calls]
    return out


def chat_payload(request: ChatRequest) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for key, value in (
        ("temperature", request.temperature),
        ("seed", request.seed),
        ("top_p", request.top_p),
        ("num_predict", request.max_tokens),
        ("num_ctx", request.num_ctx),
    ):
        if value is not None:
            options[key] = value
    if request.stop:
        options["stop"] = request.stop
    payload: dict[str, Any] = {
        "model": request.model,
        "messages": [_message(m) for m in request.messages],
        "stream": request.stream,
    }
    if options:
        payload["options"] = options
    if request.keep_alive is not None:
        payload["keep_alive"] = request.keep_alive
    if request.tools:
        payload["tools"] = [t.to_openai() for t in request.tools]
    if request.response_schema is not None and request.structured_mode == "json_schema":
        payload["format"] = request.response_schema
    elif request.response_schema is not None and request.structured_mode == "json_object":
        payload["format"] = "json"
    return payload


def _usage(line: dict[str, Any]) -> Usage:
    def ms(key: str) -> float | None:
        value = line.get(key)
        return value / 1e6 if isinstance(value, (int, float)) else None

    return Usage(
        prompt_tokens=line.get("prompt_eval_count"),
        completion_tokens=line.get("eval_count"),
        total_ms=ms("total_duration"),
        load_ms=ms("load_duration"),
        prompt_ms=ms("prompt_eval_duration"),
        generation_ms=ms("eval_duration"),
    )


def _tool_calls(message: dict[str, Any]) -> list[ToolCall]:
    """The calls of a message; ValueError when they are not shaped as Ollama sends them."""
    raw_calls = message.get("tool_calls") or []
    if not isinstance(raw_calls, list):
        raise ValueError("tool_calls is not a list")
    calls: list[ToolCall] = []
    for raw in raw_calls:
        function = raw.get("function", {}) if isinstance(raw, dict) else None
        if not isinstance(function, dict):
            raise ValueError("a tool call is not an object with a function object")
        try:
            arguments = parse_arguments(function.get("arguments"))
        except ValueError as exc:
            raise BackendError(
                _("The model sent a tool call with unreadable arguments: {problem}").format(problem=exc)
            ) from None
        calls.append(ToolCall(name=function.get("name", ""), arguments=arguments, id=raw.get("id")))
    return calls


_NO_CALLS: list[ToolCall] = []  # shared, never changed: read only


# One line of a stream: the object, its text, its thinking, its tool calls, and the usage (on the last
# line only). A plain tuple: this runs once per token, and a NamedTuple costs a Python-level __new__.
_Line = tuple[dict[str, Any], str, str, list[ToolCall], Usage | None]


def _read_line(raw: str) -> _Line:
    """One line of an /api/chat stream; ValueError when it is not shaped as Ollama sends it."""
    line = json.loads(raw)
    if not isinstance(line, dict):
        raise ValueError("not a JSON object")
    if "error" in line:
        return line, "", "", _NO_CALLS, None
    message = line.get("message") or {}
    if not isinstance(message, dict):
        raise ValueError("message is not an object")
    text, thinking = message.get("content") or "", message.get("thinking") or ""
    done = line.get("done", False)
    if type(text) is not str or type(thinking) is not str or type(done) is not bool:
        raise ValueError("content, thinking or done has the wrong type")
    # Most lines are one token with no calls: no list is built for them (this runs per token).
    calls = _tool_calls(message) if "tool_calls" in message else _NO_CALLS
    # Usage's validation raises a ValueError for counts that are not numbers.
    return line, text, thinking, calls, _usage(line) if done else None


class OllamaBackend(HttpBackend):
    kind = "ollama"

    def __init__(self, settings: BackendSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(settings, settings.base_url or default_ollama_url(), transport)

    def unavailable(self) -> BackendUnavailable:
        return BackendUnavailable(
            _("Ollama is not answering at {url} — start it with `ollama serve` or change the URL in Settings").format(
                url=self.base_url
            )
        )

    def raise_for_status(self, response: httpx.Response, model: str | None) -> None:
        if response.status_code == 404 and model is not None:
            raise ModelNotFound(
                _("model '{model}' not found — pull it with `ollama pull {model}`").format(model=model), model
            )
        super().raise_for_status(response, model)

    async def health(self) -> Health:
        try:
            body = await self.client.get("/api/version", timeout=self.settings.connect_timeout)
            if 300 <= body.status_code < 400:
                return Health(ok=False, base_url=self.base_url, kind=self.kind, message=str(self.redirected(body)))
            if body.status_code in (429, 503):
                busy = self.busy(body.status_code, None)
                return Health(ok=False, base_url=self.base_url, kind=self.kind, message=str(busy), busy=True)
            body.raise_for_status()
            version = body.json().get("version")
        except httpx.TimeoutException as exc:
            if isinstance(exc, httpx.ConnectTimeout):
                return Health(ok=False, base_url=self.base_url, kind=self.kind, message=str(self.unavailable()))
            late = _("The server at {url} took longer than {seconds} s to answer").format(
                url=self.base_url, seconds=f"{self.settings.connect_timeout:g}"
            )
            return Health(ok=False, base_url=self.base_url, kind=self.kind, message=late, busy=True)
        except (httpx.HTTPError, ValueError, AttributeError):
            return Health(ok=False, base_url=self.base_url, kind=self.kind, message=str(self.unavailable()))
        return Health(ok=True, base_url=self.base_url, kind=self.kind, version=version, message=f"Ollama {version}")

    async def list_models(self) -> list[ModelInfo]:
        body = await self.get_json("/api/tags")
        models = body.get("models", []) if isinstance(body, dict) else []
        found: list[ModelInfo] = []
        for item in models:
            details = item.get("details") or {}
            found.append(
                ModelInfo(
                    name=item.get("name") or item.get("model", ""),
                    size=item.get("size"),
                    family=details.get("family"),
                    parameter_size=details.get("parameter_size"),
                    quantization=details.get("quantization_level"),
                    modified_at=item.get("modified_at"),
                )
            )
        return sorted(found, key=lambda m: m.name)

    async def show(self, model: str) -> ModelInfo:
        async def attempt() -> ModelInfo:
            try:
                response = await self.client.post(
                    "/api/show", json={"model": model}, timeout=self.settings.connect_timeout
                )
            except (httpx.ConnectError, httpx.ConnectTimeout):
                raise self.unavailable() from None
            except httpx.HTTPError as exc:
                raise BackendError(
                    _("Asking Ollama about '{model}' failed: {problem}").format(model=model, problem=exc)
                ) from None
            if response.status_code in (429, 503):
                raise self.busy(response.status_code, None)
            self.raise_for_status(response, model=model)
            body = response.json()
            details = body.get("details") or {}
            info = body.get("model_info") or {}
            context = next((v for k, v in info.items() if k.endswith(".context_length")), None)
            return ModelInfo(
                name=model,
                family=details.get("family"),
                parameter_size=details.get("parameter_size"),
                quantization=details.get("quantization_level"),
                context_length=context,
                capabilities=list(body.get("capabilities") or []),
            )

        return await self.with_retries(attempt)

    async def ensure_model(self, model: str) -> None:
        await self.show(model)

    async def embed(self, model: str, texts: list[str]) -> list[list[float]]:
        """POST /api/embed: one vector per text, in order."""
        body = await self.post_json("/api/embed", {"model": model, "input": texts}, model, N_("embed texts"))
        found = body.get("embeddings") if isinstance(body, dict) else None
        return vectors(found, len(texts), "'embeddings'")

    async def unload(self, model: str) -> bool:
        """POST /api/generate with `keep_alive: 0` and no prompt: Ollama unloads the model at once."""
        return await self._keep_alive(model, 0)

    async def load(self, model: str) -> bool:
        """The same request without `keep_alive`: Ollama loads the model and keeps it its usual time."""
        return await self._keep_alive(model, None)

    async def _keep_alive(self, model: str, keep_alive: int | None) -> bool:
        payload: dict[str, Any] = {"model": model}
        if keep_alive is not None:
            payload["keep_alive"] = keep_alive

        async def attempt() -> bool:
            try:
                response = await self.client.post(
                    "/api/generate", json=payload, timeout=max(self.settings.connect_timeout, 60.0)
                )
            except (httpx.ConnectError, httpx.ConnectTimeout):
                raise self.unavailable() from None
            except httpx.HTTPError as exc:
                raise BackendError(
                    _("Asking Ollama to load or unload '{model}' failed: {problem}").format(model=model, problem=exc)
                ) from None
            if response.status_code in (429, 503):
                raise self.busy(response.status_code, None)
            self.raise_for_status(response, model=model)
            return True

        return await self.with_retries(attempt)

    async def chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        normaliser = ChunkNormaliser(request)
        payload = chat_payload(request)
        structured = request.structured_mode if "format" in payload else None
        response = await self.open_stream("/api/chat", payload, request.model, structured)
        try:
            tool_calls: list[ToolCall] = []
            lines = self.timed_lines(response)
            async for raw in lines:
                if not raw.strip():
                    continue
                try:
                    line, text, thinking, calls, usage = _read_line(raw)
                except ValueError:
                    raise BackendError(
                        _(
                            "The server at {url} sent a line that is not valid Ollama NDJSON "
                            "(one JSON object per line): {line}"
                        ).format(url=response.request.url, line=repr(shorten(raw, 80)))
                    ) from None
                if "error" in line:
                    raise BackendError(
                        _("Ollama stopped with an error: {problem}").format(problem=shorten(str(line["error"]), 200))
                    )
                if calls:
                    tool_calls.extend(calls)
                if usage is not None:
                    reason = line.get("done_reason")
                    final = normaliser.final(
                        tool_calls, reason if isinstance(reason, str) else None, usage, text, thinking
                    )
                    await drain(lines)
                    yield final
                    return
                chunk = normaliser.content(text, thinking)
                if chunk is not None:
                    yield chunk
            raise BackendError(
                _('The answer from {url} ended before the server said it was done (no line with "done": true)').format(
                    url=response.request.url
                )
            )
        finally:
            await response.aclose()
