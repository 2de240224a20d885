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
from forge_tui.llm.base import ChunkNormaliser, HttpBackend, drain
from forge_tui.llm.errors import BackendError, BackendUnavailable, ModelNotFound

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
    hostport, _, path = hostport.partition("/")
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
    if request.response_schema is not None:
        payload["format"] = request.response_schema
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
    calls: list[ToolCall] = []
    for raw in message.get("tool_calls") or []:
        function = raw.get("function", {})
        try:
            arguments = parse_arguments(function.get("arguments"))
        except (ValueError, json.JSONDecodeError) as exc:
            raise BackendError(f"The model sent a tool call with unreadable arguments: {exc}") from None
        calls.append(ToolCall(name=function.get("name", ""), arguments=arguments, id=raw.get("id")))
    return calls


class OllamaBackend(HttpBackend):
    kind = "ollama"

    def __init__(self, settings: BackendSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(settings, settings.base_url or default_ollama_url(), transport)

    def unavailable(self) -> BackendUnavailable:
        return BackendUnavailable(
            f"Ollama is not answering at {self.base_url} — start it with `ollama serve` or change the URL in Settings"
        )

    def raise_for_status(self, response: httpx.Response, model: str | None) -> None:
        if response.status_code == 404 and model is not None:
            raise ModelNotFound(f"model '{model}' not found — pull it with `ollama pull {model}`", model)
        super().raise_for_status(response, model)

    async def health(self) -> Health:
        try:
            body = await self.client.get("/api/version", timeout=self.settings.connect_timeout)
            body.raise_for_status()
            version = body.json().get("version")
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
                raise BackendError(f"Asking Ollama about '{model}' failed: {exc}") from None
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

    async def chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        normaliser = ChunkNormaliser(request)
        response = await self.open_stream("/api/chat", chat_payload(request), request.model)
        try:
            tool_calls: list[ToolCall] = []
            lines = self.timed_lines(response)
            async for raw in lines:
                if not raw.strip():
                    continue
                try:
                    line = json.loads(raw)
                except json.JSONDecodeError:
                    raise BackendError(f"Ollama sent a line that is not JSON: {raw[:80]}") from None
                if "error" in line:
                    raise BackendError(f"Ollama stopped with an error: {line['error']}")
                message = line.get("message") or {}
                if message.get("tool_calls"):
                    tool_calls.extend(_tool_calls(message))
                text, thinking = message.get("content") or "", message.get("thinking") or ""
                if line.get("done"):
                    final = normaliser.final(tool_calls, line.get("done_reason"), _usage(line), text, thinking)
                    await drain(lines)
                    yield final
                    return
                chunk = normaliser.content(text, thinking)
                if chunk is not None:
                    yield chunk
            raise BackendError("Ollama's answer ended before it said it was done (the connection was cut)")
        finally:
            await response.aclose()
