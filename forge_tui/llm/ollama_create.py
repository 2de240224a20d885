"""Making a model on an Ollama server: blobs by digest (`HEAD`/`POST /api/blobs/:digest`) and
`POST /api/create` with its NDJSON progress (docs/api.md, server/create.go)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx

from forge_tui.core.model_catalog import PullProgress
from forge_tui.i18n import _
from forge_tui.llm.base import error_text
from forge_tui.llm.errors import BackendError, BlobRejected, ModelNotFound
from forge_tui.llm.excerpts import shorten
from forge_tui.llm.ollama import OllamaBackend
from forge_tui.llm.ollama_progress import progress_of

__all__ = ["CHUNK_BYTES", "OllamaCreate"]

CHUNK_BYTES = 1 << 20  # an upload is read and sent a mebibyte at a time
# converting an adapter can take minutes before the next status line; an upload of gigabytes longer
_SLOW_READ_S = 900.0
_UNKNOWN_BASE = ("pull model manifest", "file does not exist")


class OllamaCreate:
    """The model-creation calls of one Ollama server, over its backend's HTTP client."""

    def __init__(self, backend: OllamaBackend) -> None:
        self.backend = backend

    @property
    def url(self) -> str:
        return self.backend.base_url

    def _timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.backend.settings.connect_timeout, read=_SLOW_READ_S, write=_SLOW_READ_S)

    def _broken(self, exc: httpx.HTTPError) -> BackendError:
        if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
            return self.backend.unavailable()
        return BackendError(_("The connection to {url} failed: {problem}").format(url=self.url, problem=exc))

    async def has_blob(self, digest: str) -> bool:
        """HEAD /api/blobs/:digest: whether the server holds the blob."""
        try:
            response = await self.backend.client.head(f"/api/blobs/{digest}", timeout=self._timeout())
        except httpx.HTTPError as exc:
            raise self._broken(exc) from None
        if response.status_code == 404:
            return False
        self.backend.raise_for_status(response, model=None)
        return True

    async def push_blob(self, digest: str, path: Path, sent: Callable[[int], None] | None = None) -> None:
        """POST /api/blobs/:digest with the file's bytes, streamed (never read whole); `sent` hears the
        bytes sent so far. BlobRejected when the server refuses them (its digest differs)."""
        size = path.stat().st_size

        async def chunks() -> AsyncIterator[bytes]:
            done = 0
            with path.open("rb") as handle:
                while chunk := handle.read(CHUNK_BYTES):
                    done += len(chunk)
                    yield chunk
                    if sent is not None:
                        sent(done)

        try:
            response = await self.backend.client.post(
                f"/api/blobs/{digest}",
                content=chunks(),
                headers={"Content-Length": str(size), "Content-Type": "application/octet-stream"},
                timeout=self._timeout(),
            )
        except httpx.HTTPError as exc:
            raise self._broken(exc) from None
        if response.status_code == 400:
            raise BlobRejected(
                _("The server at {url} refused the upload of {file}: {problem}").format(
                    url=self.url, file=path.name, problem=shorten(error_text(response), 200)
                )
            )
        self.backend.raise_for_status(response, model=None)

    def create_error(self, name: str, base: str, problem: str) -> BackendError:
        """The typed error for what the server said when a create failed."""
        said = shorten(problem, 200)
        if any(sign in problem for sign in _UNKNOWN_BASE):
            return ModelNotFound(
                _("The server at {url} does not have the base model '{base}' and cannot pull it: {problem}").format(
                    url=self.url, base=base, problem=said
                ),
                base,
            )
        return BackendError(
            _("The server at {url} could not create '{name}': {problem}").format(url=self.url, name=name, problem=said)
        )

    async def create(self, body: dict[str, Any]) -> AsyncGenerator[PullProgress, None]:
        """POST /api/create, streamed: each status line as it comes; raises on an error line or on a
        stream that ends before "success"."""
        name, base = str(body.get("model", "")), str(body.get("from", ""))
        client = self.backend.client
        request = client.build_request("POST", "/api/create", json=body, timeout=self._timeout())
        try:
            response = await client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise self._broken(exc) from None
        try:
            if response.status_code >= 300:
                await response.aread()
                if response.status_code >= 400:
                    raise self.create_error(name, base, error_text(response))
                self.backend.raise_for_status(response, model=None)
            succeeded = False
            async for progress in progress_of(response, self.url, lambda text: self.create_error(name, base, text)):
                succeeded = succeeded or progress.status == "success"
                yield progress
            if not succeeded:
                raise BackendError(
                    _("The server at {url} stopped creating '{name}' before it said it succeeded.").format(
                        url=self.url, name=name
                    )
                )
        except httpx.TransportError:
            raise BackendError(
                _("The connection to {url} broke off while '{name}' was being created.").format(url=self.url, name=name)
            ) from None
        finally:
            await response.aclose()
