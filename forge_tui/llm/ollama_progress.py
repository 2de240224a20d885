"""The NDJSON progress lines of Ollama's streamed pull and create (`{"status", "digest"?, "total"?,
"completed"?}`, or `{"error"}`), read the same way for both."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
from pydantic import ValidationError

from forge_tui.core.model_catalog import PullProgress
from forge_tui.i18n import _
from forge_tui.llm.errors import BackendError
from forge_tui.llm.excerpts import shorten


async def progress_of(
    response: httpx.Response, url: str, failed: Callable[[str], Exception]
) -> AsyncIterator[PullProgress]:
    """Each progress line of the body; an error line raises `failed(its text)`, a line that is not
    Ollama's a BackendError naming the server."""
    async for raw in response.aiter_lines():
        if not raw.strip():
            continue
        line = _line(raw, url)
        if "error" in line:
            raise failed(str(line["error"]))
        try:
            progress = PullProgress.model_validate(line)
        except ValidationError:
            raise _bad_line(raw, url) from None
        yield progress


def _line(raw: str, url: str) -> dict[str, Any]:
    try:
        line = json.loads(raw)
    except ValueError:
        raise _bad_line(raw, url) from None
    if not isinstance(line, dict):
        raise _bad_line(raw, url)
    return line


def _bad_line(raw: str, url: str) -> BackendError:
    return BackendError(
        _("The server at {url} sent a progress line that is not Ollama's: {line}").format(
            url=url, line=repr(shorten(raw, 80))
        )
    )
