"""The models of every configured endpoint, for the Models screen and `forge-tui models`: list them (with
what is loaded now), show one, pull with progress, delete, copy, unload, and choose a default model."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal, TypeVar

import httpx

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.bounded_text import clip
from forge_tui.core.chat import ModelInfo
from forge_tui.core.endpoints import Endpoint, model_key
from forge_tui.core.errors import ForgeError, InvalidInput, NotFound
from forge_tui.core.model_catalog import LoadedModel, ModelDetails, ModelEntry, PullProgress
from forge_tui.i18n import _
from forge_tui.llm.base import Backend
from forge_tui.llm.errors import BackendError, DiskFull, ModelNotFound
from forge_tui.llm.factory import make_backend
from forge_tui.llm.ollama import OllamaBackend
from forge_tui.llm.ollama_models import OllamaModels
from forge_tui.services.endpoints import configured, server_settings
from forge_tui.services.settings import SettingsService

__all__ = ["Catalog", "DiskFull", "ModelNotFound", "ModelService", "Role", "use_as_default"]

T = TypeVar("T")
Role = Literal["generation", "paraphrase", "judge"]
ROLES: tuple[Role, ...] = ("generation", "paraphrase", "judge")
# /api/show requests at once per server while the list is read (one per model, for its context length)
_SHOW_AT_ONCE = 8


@dataclass(frozen=True)
class Catalog:
    """Every model of every endpoint, and for each endpoint that could not be read the sentence why."""

    entries: list[ModelEntry]
    problems: list[tuple[str, str]]


class ModelService:
    """Model management over the endpoints of the given backend settings (the Settings server, named
    "default", when none is listed)."""

    def __init__(self, settings: BackendSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self._transport = transport

    def endpoints(self) -> list[Endpoint]:
        return configured(self.settings)

    def endpoint(self, name: str | None = None) -> Endpoint:
        """The endpoint named, else the one Settings chose, else the first configured."""
        found = self.endpoints()
        wanted = name or self.settings.endpoint
        if wanted is None:
            return found[0]
        for endpoint in found:
            if endpoint.name == wanted:
                return endpoint
        raise NotFound(
            _("There is no endpoint '{name}' (known: {known}).").format(
                name=clip(wanted), known=", ".join(e.name for e in found)
            )
        )

    @asynccontextmanager
    async def _backend(self, endpoint: Endpoint) -> AsyncIterator[Backend]:
        asking = server_settings(self.settings, endpoint).model_copy(update={"max_retries": 0})
        backend = make_backend(asking, self._transport)
        try:
            yield backend
        finally:
            await backend.aclose()

    @asynccontextmanager
    async def _ollama(self, endpoint: Endpoint) -> AsyncIterator[OllamaModels]:
        async with self._backend(endpoint) as backend:
            if not isinstance(backend, OllamaBackend):
                raise InvalidInput(
                    _(
                        "Endpoint '{name}' is an OpenAI-compatible server: only Ollama pulls, deletes, copies "
                        "and shows models."
                    ).format(name=endpoint.name)
                )
            yield OllamaModels(backend)

    # --- reading ------------------------------------------------------------------------------------
    async def catalog(self) -> Catalog:
        """The models of every endpoint, asked at once; an endpoint that does not answer is a problem."""
        endpoints = self.endpoints()
        results = await asyncio.gather(*(self._entries(e) for e in endpoints), return_exceptions=True)
        entries: list[ModelEntry] = []
        problems: list[tuple[str, str]] = []
        for endpoint, result in zip(endpoints, results, strict=True):
            if isinstance(result, ForgeError):
                problems.append((endpoint.name, str(result)))
            elif isinstance(result, BaseException):
                raise result
            else:
                entries += result
        return Catalog(entries, problems)

    async def _entries(self, endpoint: Endpoint) -> list[ModelEntry]:
        async with self._backend(endpoint) as backend:
            models = await backend.list_models()
            if not isinstance(backend, OllamaBackend):
                return [ModelEntry.of(endpoint.name, endpoint.kind, m, None) for m in models]
            manager = OllamaModels(backend)
            loaded = {model_key(m.name): m for m in await manager.running()}
            models = await self._with_context(manager, endpoint.name, models)
        return [ModelEntry.of(endpoint.name, endpoint.kind, m, loaded.get(model_key(m.name))) for m in models]

    @staticmethod
    async def _with_context(manager: OllamaModels, endpoint: str, models: list[ModelInfo]) -> list[ModelInfo]:
        """The models with the context length and capabilities /api/show gives (left out where it fails)."""
        gate = asyncio.Semaphore(_SHOW_AT_ONCE)

        async def one(model: ModelInfo) -> ModelInfo:
            async with gate:
                try:
                    shown = await manager.details(model.name, endpoint)
                except BackendError:
                    return model
            return model.model_copy(update={"context_length": shown.context_length, "capabilities": shown.capabilities})

        return list(await asyncio.gather(*(one(m) for m in models)))

    async def details(self, model: str, endpoint: str | None = None) -> ModelDetails:
        chosen = self.endpoint(endpoint)
        async with self._backend(chosen) as backend:
            if isinstance(backend, OllamaBackend):
                return await OllamaModels(backend).details(model, chosen.name)
            for info in await backend.list_models():
                if info.name == model:
                    return ModelDetails(endpoint=chosen.name, name=model, context_length=info.context_length)
        raise ModelNotFound(
            _("Endpoint '{name}' has no model '{model}'.").format(name=chosen.name, model=clip(model)), model
        )

    async def running(self, endpoint: str | None = None) -> list[LoadedModel]:
        """The loaded models of an Ollama endpoint (an OpenAI-compatible server cannot say: none)."""
        chosen = self.endpoint(endpoint)
        async with self._backend(chosen) as backend:
            if not isinstance(backend, OllamaBackend):
                return []
            return await OllamaModels(backend).running()

    # --- changing -----------------------------------------------------------------------------------
    async def pull(self, model: str, endpoint: str | None = None) -> AsyncGenerator[PullProgress, None]:
        """The pull's progress as it comes; close the iterator (or cancel its task) to stop the pull."""
        name = checked_name(model)
        async with self._ollama(self.endpoint(endpoint)) as manager:
            async for progress in manager.pull(name):
                yield progress

    async def delete(self, model: str, endpoint: str | None = None) -> None:
        await self._on_ollama(endpoint, lambda m: m.delete(model))

    async def copy(self, source: str, destination: str, endpoint: str | None = None) -> None:
        target = checked_name(destination)
        await self._on_ollama(endpoint, lambda m: m.copy(source, target))

    async def unload(self, model: str, endpoint: str | None = None) -> bool:
        """Frees the model's memory at once (`keep_alive: 0`); False where the server cannot be told."""
        async with self._backend(self.endpoint(endpoint)) as backend:
            return await backend.unload(model)

    async def _on_ollama(self, endpoint: str | None, call: Callable[[OllamaModels], Awaitable[T]]) -> T:
        async with self._ollama(self.endpoint(endpoint)) as manager:
            return await call(manager)


def checked_name(text: str) -> str:
    name = text.strip()
    if not name or any(c.isspace() for c in name):
        raise InvalidInput(
            _("A model name has no spaces, like llama3.2 or qwen3:0.6b, not '{name}'.").format(name=clip(text))
        )
    return name


def use_as_default(settings: SettingsService, role: Role, model: str) -> BackendSettings:
    """Saves `model` as the default generation, paraphrase or judge model of the account."""
    if role not in ROLES:
        raise InvalidInput(_("The role is generation, paraphrase or judge, not '{role}'.").format(role=clip(role)))
    current = settings.backend()
    return settings.save_backend(current.model_copy(update={f"{role}_model": model}))
