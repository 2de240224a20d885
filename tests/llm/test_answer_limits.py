"""A model that never stops: both backends cap an answer by max tokens (sent with the request) and by
the answer's time limit (the shared streaming layer), against the fake Ollama's endless mode."""

from __future__ import annotations

import asyncio
import time

import pytest

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.chat import ChatMessage, ChatRequest
from forge_tui.llm.errors import BackendTimeout
from forge_tui.llm.ollama import OllamaBackend
from forge_tui.services.backends import BackendService
from tests.fake_ollama import FakeOllama

KINDS = ["ollama", "openai"]


@pytest.fixture(autouse=True)
def endless_answers(fake: FakeOllama) -> None:
    """Every answer of the fake server goes on until the client stops reading."""
    fake.endless = True


def request(**extra: object) -> ChatRequest:
    return ChatRequest(model="llama3.2:latest", messages=[ChatMessage(role="user", content="Go on.")], **extra)  # type: ignore[arg-type]


async def until(condition: object, seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        await asyncio.sleep(0.02)
    return False


@pytest.mark.parametrize("kind", KINDS)
async def test_an_endless_answer_stops_at_its_time_limit_and_keeps_what_came(fake: FakeOllama, kind: str) -> None:
    fake.token_latency = 0.01
    settings = BackendSettings(kind=kind, base_url=fake.base_url, answer_time_limit=0.5, max_retries=0)  # type: ignore[arg-type]
    pieces: list[str] = []
    started = time.monotonic()
    async with BackendService(settings) as service:
        with pytest.raises(BackendTimeout, match=r"^Stopped after 0\.5 s: the answer's time limit$"):
            async for chunk in service.stream(request()):
                pieces.append(chunk.content)
    assert 0.5 <= time.monotonic() - started < 2.5
    assert len(pieces) > 5 and "".join(pieces).strip()  # what was streamed so far is the caller's to keep
    assert await until(lambda: fake.disconnects == 1)  # the server saw the client go


@pytest.mark.parametrize("kind", KINDS)
async def test_max_tokens_is_sent_and_ends_an_endless_answer(fake: FakeOllama, kind: str) -> None:
    settings = BackendSettings(kind=kind, base_url=fake.base_url)  # type: ignore[arg-type]
    async with BackendService(settings) as service:
        result = await service.complete(request(max_tokens=7))
    assert result.done_reason == "length" and result.content
    assert result.usage.completion_tokens == 7


def test_the_default_limit_is_named_in_minutes() -> None:
    error = OllamaBackend(BackendSettings()).answer_time_limit()
    assert str(error) == "Stopped after 10 min: the answer's time limit"
