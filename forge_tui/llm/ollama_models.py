"""Ollama's model management: /api/pull (NDJSON progress), /api/delete, /api/copy, /api/ps, /api/show."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import httpx
from pydantic import ValidationError

from forge_tui.core.model_catalog import LoadedModel, ModelDetails, PullProgress
from forge_tui.i18n import _
from forge_tui.llm.base import error_text
from forge_tui.llm.errors import BackendError, DiskFull, ModelNotFound
from forge_tui.llm.excerpts import shorten
from forge_tui.llm.ollama import OllamaBackend
from forge_tui.llm.ollama_progress import progress_of

_NO_SPACE = "no space left on device"
_UNKNOWN = ("file does not exist", "not found")


class OllamaModels:
    """The model-management calls of one Ollama server, over its backend's HTTP client."""

    def __init__(self, backend: OllamaBackend) -> None:
        self.backend = backend

    @property
    def url(self) -> str:
        return self.backend.base_url

    async def _send(self, method: str, path: str, payload: dict[str, Any] | None) -> httpx.Response:
        backend = self.backend
        try:
            return await backend.client.request(
                method, path, json=payload, timeout=max(backend.settings.connect_timeout, 30.0)
            )
        except (httpx.ConnectError, httpx.ConnectTimeout):
            raise backend.unavailable() from None
        except httpx.HTTPError as exc:
            raise BackendError(
                _("The connection to {url} failed: {problem}").format(url=self.url, problem=exc)
            ) from None

    def _missing(self, model: str) -> ModelNotFound:
        return ModelNotFound(_("The server at {url} has no model '{model}'.").format(url=self.url, model=model), model)

    async def running(self) -> list[LoadedModel]:
        """GET /api/ps: the models loaded now, with their memory use and when they will be unloaded."""
        body = await self.backend.get_json("/api/ps")
        models = body.get("models") if isinstance(body, dict) else None
        found: list[LoadedModel] = []
        for item in models if isinstance(models, list) else []:
            if isinstance(item, dict):
                try:
                    found.append(LoadedModel.model_validate({**item, "name": item.get("name") or item.get("model")}))
                except ValidationError:
                    continue
        return found

    async def details(self, model: str, endpoint: str) -> ModelDetails:
        """POST /api/show: template, parameters, license, capabilities and the context length."""
        response = await self._send("POST", "/api/show", {"model": model})
        if response.status_code == 404:
            raise self._missing(model)
        self.backend.raise_for_status(response, model=None)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise BackendError(_("{url} did not answer with JSON; is this the right URL?").format(url=self.url))
        details = body.get("details") or {}
        info = body.get("model_info") or {}
        context = next((v for k, v in info.items() if k.endswith(".context_length") and isinstance(v, int)), None)
        return ModelDetails(
            endpoint=endpoint,
            name=model,
            family=details.get("family"),
            parameter_size=details.get("parameter_size"),
            quantization=details.get("quantization_level"),
            context_length=context,
            capabilities=[str(c) for c in body.get("capabilities") or []],
            template=str(body.get("template") or ""),
            parameters=str(body.get("parameters") or ""),
            license=str(body.get("license") or ""),
            modified_at=body.get("modified_at"),
            parent_model=str(details.get("parent_model") or "") or None,
        )

    async def delete(self, model: str) -> None:
        """DELETE /api/delete."""
        response = await self._send("DELETE", "/api/delete", {"model": model})
        if response.status_code == 404:
            raise self._missing(model)
        self._check(response, model)

    async def copy(self, source: str, destination: str) -> None:
        """POST /api/copy: the same weights under a second name."""
        response = await self._send("POST", "/api/copy", {"source": source, "destination": destination})
        if response.status_code == 404:
            raise self._missing(source)
        self._check(response, source)

    def _check(self, response: httpx.Response, model: str) -> None:
        if response.status_code >= 400:
            raise BackendError(
                _("The server at {url} refused the change to '{model}': {problem}").format(
                    url=self.url, model=model, problem=error_text(response)
                )
            )
        self.backend.raise_for_status(response, model=None)

    def pull_error(self, model: str, problem: str) -> BackendError:
        """The typed error for what the server said when a pull failed."""
        said = shorten(problem, 200)
        if _NO_SPACE in problem:
            return DiskFull(
                _("The server at {url} ran out of disk space while pulling '{model}': {problem}").format(
                    url=self.url, model=model, problem=said
                )
            )
        if any(sign in problem for sign in _UNKNOWN):
            return ModelNotFound(
                _("The registry of the server at {url} has no model '{model}': {problem}").format(
                    url=self.url, model=model, problem=said
                ),
                model,
            )
        return BackendError(
            _("Pulling '{model}' at {url} failed: {problem}").format(url=self.url, model=model, problem=said)
        )

    async def pull(self, model: str) -> AsyncGenerator[PullProgress, None]:
        """POST /api/pull, streamed: each progress line as it comes. Closing the iterator (or cancelling
        the task that reads it) closes the connection, and Ollama stops the pull."""
        client = self.backend.client
        request = client.build_request("POST", "/api/pull", json={"model": model, "stream": True})
        try:
            response = await client.send(request, stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout):
            raise self.backend.unavailable() from None
        except httpx.HTTPError as exc:
            raise BackendError(
                _("The connection to {url} failed: {problem}").format(url=self.url, problem=exc)
            ) from None
        try:
            if response.status_code >= 300:
                await response.aread()
                if response.status_code >= 400:
                    raise self.pull_error(model, error_text(response))
                self.backend.raise_for_status(response, model=None)
            succeeded = False
            async for progress in progress_of(response, self.url, lambda text: self.pull_error(model, text)):
                succeeded = succeeded or progress.status == "success"
                yield progress
            if not succeeded:
                raise BackendError(
                    _("The pull of '{model}' from {url} ended before the server said it succeeded.").format(
                        model=model, url=self.url
                    )
                )
        except httpx.TransportError:
            raise BackendError(
                _("The connection to {url} broke off in the middle of the pull.").format(url=self.url)
            ) from None
        finally:
            await response.aclose()
