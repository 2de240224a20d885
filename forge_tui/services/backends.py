"""Talking to the model server for the UI and the CLI: health, the model list, checking a model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

from forge_tui.core.backend_settings import BACKEND_LABELS, BackendSettings
from forge_tui.core.chat import ChatChunk, ChatRequest, ChatResult, Health, ModelInfo
from forge_tui.llm.base import Backend, gather
from forge_tui.llm.errors import BackendError, BackendTimeout, BackendUnavailable, ModelNotFound
from forge_tui.llm.factory import make_backend

__all__ = [
    "BackendError",
    "BackendService",
    "BackendTimeout",
    "BackendUnavailable",
    "DoctorReport",
    "ModelNotFound",
]


@dataclass(frozen=True)
class DoctorReport:
    health: Health
    models: list[ModelInfo]
    models_error: str | None


class BackendService:
    """One backend (and its HTTP client) for the given settings; close it when done."""

    def __init__(self, settings: BackendSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.backend: Backend = make_backend(settings, transport)

    @property
    def label(self) -> str:
        return f"{BACKEND_LABELS[self.settings.kind]} at {self.backend.base_url}"

    async def health(self) -> Health:
        return await self.backend.health()

    async def models(self) -> list[ModelInfo]:
        return await self.backend.list_models()

    async def ensure_model(self, model: str | None) -> str:
        """Refuses a missing model before any generation starts."""
        if not model:
            raise ModelNotFound("No model chosen — pick one in Settings (s)", model or "")
        await self.backend.ensure_model(model)
        return model

    def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        return self.backend.chat(request)

    async def complete(self, request: ChatRequest) -> ChatResult:
        return await gather(self.backend.chat(request))

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
