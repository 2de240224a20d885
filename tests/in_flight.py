"""A chat that holds one of the fake Ollama's slots, for tests of what a server at work answers."""

from __future__ import annotations

import asyncio

import httpx

from tests.fake_ollama import FakeOllama


async def chat_in_flight(fake: FakeOllama) -> asyncio.Task[httpx.Response]:
    """One chat on the /v1 API, once the fake holds it (for `first_byte_delay` seconds and more)."""
    body = {"model": "llama3.2", "messages": [{"role": "user", "content": "Tell me about tides."}]}

    async def post() -> httpx.Response:
        async with httpx.AsyncClient(timeout=30) as client:
            return await client.post(f"{fake.base_url}/v1/chat/completions", json=body)

    task = asyncio.create_task(post())
    while fake.in_flight < 1:
        await asyncio.sleep(0.01)
    return task
