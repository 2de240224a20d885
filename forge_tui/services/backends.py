"""Talking to the model server for the UI and the CLI: health, the model list, checking a model."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx

from forge_tui.core.backend_settings import BACKEND_LABELS, BackendSettings
from forge_tui.core.chat import ChatChunk, ChatRequest, ChatResult, Health, ModelInfo, StructuredMode
from forge_tui.core.structured_output import in_mode, modes_from
from forge_tui.i18n import _
from forge_tui.llm.base import Backend, gather
from forge_tui.llm.errors import (
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    ModelNotFound,
    StructuredOutputRefused,
)
from forge_tui.llm.factory import make_backend

__all__ = [
    "BackendError",
    "BackendService",
    "BackendTimeout",
    "BackendUnavailable",
    "DoctorReport",
    "ModelNotFound",
    "RememberMode",
]

# Told (endpoint, mode) when a server took a structured-output mode other than the one it was asked in
# first; SettingsService.remember_structured_output saves it for the next process.
RememberMode = Callable[[str, StructuredMode], None]


@dataclass(frozen=True)
class DoctorReport:
    health: Health
    models: list[ModelInfo]
    models_error: str | None


class BackendService:
    """One backend (and its HTTP client) for the given settings; close it when done.

    A request with a response schema is asked in the structured-output mode that worked last with this
    endpoint (settings.structured_output), else as a JSON schema; a server that refuses the mode is
    asked again in the next one (core.structured_output), and what it took is kept for the life of
    this service and handed to `remember` to persist."""

    def __init__(
        self,
        settings: BackendSettings,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        remember: RememberMode | None = None,
    ) -> None:
        self.settings = settings
        self.backend: Backend = make_backend(settings, transport)
        self._remember = remember
        self.structured_mode: StructuredMode | None = settings.structured_output.get(self.endpoint)

    @property
    def label(self) -> str:
        return _("{backend} at {url}").format(backend=_(BACKEND_LABELS[self.settings.kind]), url=self.backend.base_url)

    @property
    def endpoint(self) -> str:
        """The key a learned structured-output mode is kept under: kind and base URL."""
        return f"{self.backend.kind} {self.backend.base_url}"

    async def health(self) -> Health:
        return await self.backend.health()

    async def models(self) -> list[ModelInfo]:
        return await self.backend.list_models()

    async def ensure_model(self, model: str | None) -> str:
        """Refuses a missing model before any generation starts."""
        if not model:
            raise ModelNotFound(_("No model chosen — pick one in Settings (s)"), model or "")
        await self.backend.ensure_model(model)
        return model

    async def unload(self, model: str) -> bool:
        """Frees the memory (GPU) the model holds on the server: Ollama's `keep_alive: 0`. False where
        the server cannot be told (an OpenAI-compatible one keeps its model loaded)."""
        return await self.backend.unload(model)

    async def embed(self, model: str, texts: list[str]) -> list[list[float]]:
        """One embedding vector per text, from the server's embedding endpoint."""
        return await self.backend.embed(model, texts)

    async def load(self, model: str) -> bool:
        """Loads the model ahead of the first request (Ollama); False where the server cannot be told."""
        return await self.backend.load(model)

    def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        if request.response_schema is None:
            return self.backend.chat(request)
        return self._structured(request)

    async def complete(self, request: ChatRequest) -> ChatResult:
        """The whole answer. With a response schema, read it with core.structured_output.json_candidates
        (or a parser as tolerant): a server that takes no schema answers in prose around the JSON."""
        return await gather(self.stream(request))

    async def _structured(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        modes = modes_from(self.structured_mode)
        for mode in modes:
            chunks = self.backend.chat(in_mode(request, mode))
            try:
                try:
                    # A refusal comes before the first chunk: once one arrived, the mode is taken.
                    first = await anext(chunks, None)
                except StructuredOutputRefused:
                    if mode == modes[-1]:
                        raise
                    continue
                self._learned(mode)
                if first is not None:
                    yield first
                async for chunk in chunks:
                    yield chunk
                return
            finally:
                close = getattr(chunks, "aclose", None)
                if close is not None:
                    await close()

    def _learned(self, mode: StructuredMode) -> None:
        if mode == self.structured_mode or (self.structured_mode is None and mode == "json_schema"):
            return
        self.structured_mode = mode
        if self._remember is not None:
            self._remember(self.endpoint, mode)

    async def doctor(self) -> DoctorReport:
        health = await self.health()
        models: list[ModelInfo] = []
        error: str | None = None
        if health.ok:
            try:
                models = await self.models()
            except BackendError as exc:
                error = str(exc)
        return DoctorReport(health=health, models=models, models_error=error)

    async def aclose(self) -> None:
        await self.backend.aclose()

    async def __aenter__(self) -> BackendService:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
