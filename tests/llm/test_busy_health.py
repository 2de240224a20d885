"""A server that took the connection but does not answer in time is busy, not down: llama.cpp's server
answers nothing, its model list included, while it serves its one request (the fake's
`listing_waits`); a port nobody listens on is down."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.llm.ollama import OllamaBackend
from forge_tui.llm.openai_compat import OpenAIBackend
from tests.fake_ollama import FakeOllama
from tests.in_flight import chat_in_flight


def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A port that takes connections (the kernel's backlog) and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


async def test_a_llama_cpp_like_server_at_work_is_busy_and_answers_again_after(fake: FakeOllama) -> None:
    fake.parallel = 1
    fake.listing_waits = True
    fake.first_byte_delay = 3.0
    backend = OpenAIBackend(BackendSettings(kind="openai", base_url=fake.base_url, connect_timeout=0.5))
    try:
        chat = await chat_in_flight(fake)
        health = await backend.health()
        assert not health.ok and health.busy
        assert fake.base_url in health.message and "0.5 s" in health.message
        assert (await chat).status_code == 200
        health = await backend.health()
        assert health.ok and not health.busy
    finally:
        await backend.aclose()


async def test_the_listing_answers_at_once_when_the_server_does_not_wait(fake: FakeOllama) -> None:
    """The switch is what makes the test above: without it the same chat leaves the list answering."""
    fake.parallel = 1
    fake.first_byte_delay = 3.0
    backend = OpenAIBackend(BackendSettings(kind="openai", base_url=fake.base_url, connect_timeout=0.5))
    try:
        chat = await chat_in_flight(fake)
        health = await backend.health()
        assert health.ok and not health.busy
        chat.cancel()
    finally:
        await backend.aclose()


@pytest.mark.parametrize("kind", ["ollama", "openai"])
async def test_a_port_nobody_listens_on_is_down_not_busy(kind: str) -> None:
    settings = BackendSettings(kind=kind, base_url=dead_url(), connect_timeout=0.5)  # type: ignore[arg-type]
    backend = OllamaBackend(settings) if kind == "ollama" else OpenAIBackend(settings)
    try:
        health = await backend.health()
    finally:
        await backend.aclose()
    assert not health.ok and not health.busy


@pytest.mark.parametrize("kind", ["ollama", "openai"])
async def test_a_server_that_takes_the_connection_and_stays_silent_is_busy(kind: str, silent_url: str) -> None:
    settings = BackendSettings(kind=kind, base_url=silent_url, connect_timeout=0.5)  # type: ignore[arg-type]
    backend = OllamaBackend(settings) if kind == "ollama" else OpenAIBackend(settings)
    try:
        health = await backend.health()
    finally:
        await backend.aclose()
    assert not health.ok and health.busy
    assert "0.5 s" in health.message
