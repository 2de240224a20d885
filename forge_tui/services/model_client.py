"""What the code that asks a model (a job's recipe, Audition, the judge) needs of it: one server
(services.backends.BackendService) or a pool of them (services.endpoint_pool) both fit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.chat import ChatChunk, ChatRequest, ChatResult


class ModelClient(Protocol):
    @property
    def settings(self) -> BackendSettings: ...

    @property
    def label(self) -> str: ...

    async def ensure_model(self, model: str | None) -> str: ...

    def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]: ...

    async def complete(self, request: ChatRequest) -> ChatResult: ...

    async def unload(self, model: str) -> bool: ...

    async def load(self, model: str) -> bool: ...

    async def aclose(self) -> None: ...
