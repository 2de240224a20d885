"""What a backend says when a chat fails: shared by the Ollama and OpenAI-compatible backend tests."""

from __future__ import annotations

import pytest

from forge_tui.core.chat import ChatRequest
from forge_tui.llm.base import Backend, gather
from forge_tui.llm.errors import BackendError


async def chat_error(backend: Backend, request: ChatRequest) -> str:
    """The message of the BackendError that answering `request` ends in (the test fails without one)."""
    with pytest.raises(BackendError) as caught:
        await gather(backend.chat(request))
    return str(caught.value)
