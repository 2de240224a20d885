"""Picks the backend the settings name."""

from __future__ import annotations

import httpx

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.llm.anthropic import AnthropicBackend
from forge_tui.llm.base import Backend
from forge_tui.llm.ollama import OllamaBackend
from forge_tui.llm.openai_compat import OpenAIBackend


def make_backend(settings: BackendSettings, transport: httpx.AsyncBaseTransport | None = None) -> Backend:
    if settings.kind == "openai":
        return OpenAIBackend(settings, transport)
    if settings.kind == "anthropic":
        return AnthropicBackend(settings, transport)
    return OllamaBackend(settings, transport)
