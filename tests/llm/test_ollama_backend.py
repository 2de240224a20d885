"""The Ollama backend against the fake Ollama server (a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import pytest

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.chat import ChatMessage, ChatRequest, ToolDef
from forge_tui.llm.base import gather
from forge_tui.llm.errors import BackendBusy, BackendError, BackendTimeout, BackendUnavailable, ModelNotFound
from forge_tui.llm.ollama import OllamaBackend, chat_payload, ollama_host_url
from forge_tui.services.backends import BackendService
from tests.fake_ollama import FakeOllama
from tests.llm.chat_errors import chat_error


def backend_for(fake: FakeOllama, **settings: object) -> OllamaBackend:
    return OllamaBackend(BackendSettings(base_url=fake.base_url, **settings))  # type: ignore[arg-type]


def request(**extra: object) -> ChatRequest:
    fields: dict[str, object] = {
        "model": "llama3.2:latest",
        "messages": [ChatMessage(role="user", content="Tell me about tea.")],
    }
    fields.update(extra)
    return ChatRequest.model_validate(fields)


WEATHER = ToolDef(
    name="get_weather",
    description="Current weather for a city",
    parameters={
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
        "required": ["city"],
    },
)


@pytest.mark.parametrize(
    ("env", "url"),
    [
        (None, "http://127.0.0.1:11434"),
        ("", "http://127.0.0.1:11434"),
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("example.org", "http://example.org:11434"),
        ("example.org:8080", "http://example.org:8080"),
        (":9999", "http://127.0.0.1:9999"),
        ("https://example.org", "https://example.org:443"),
        ("http://example.org", "http://example.org:80"),
        ("http://example.org:1234/ollama", "http://example.org:1234/ollama"),
        ("[::1]:5000", "http://[::1]:5000"),
    ],
)
def test_ollama_host_is_read_as_the_ollama_cli_reads_it(env: str | None, url: str) -> None:
    assert ollama_host_url(env) == url


def test_payload_carries_every_option() -> None:
    payload = chat_payload(
        request(
            temperature=0.2, seed=7, top_p=0.9, max_tokens=64, stop=["###"], num_ctx=4096, keep_alive="5m",
            tools=[WEATHER], response_schema={"type": "array", "items": {"type": "string"}}, stream=False,
        )
    )  # fmt: skip
    assert payload["options"] == {
        "temperature": 0.2, "seed": 7, "top_p": 0.9, "num_predict": 64, "num_ctx": 4096, "stop": ["###"],
    }  # fmt: skip
    assert payload["keep_alive"] == "5m" and payload["stream"] is False
    assert payload["format"] == {"type": "array", "items": {"type": "string"}}
    assert payload["tools"][0]["function"]["name"] == "get_weather"


async def test_models_health_and_show(fake: FakeOllama) -> None:
    backend = backend_for(fake)
    try:
        health = await backend.health()
        assert health.ok and health.version == "0.12.6"
        models = {m.name: m for m in await backend.list_models()}
        assert {"llama3.2:latest", "qwen3:0.6b"} <= set(models)
        llama = models["llama3.2:latest"]
        assert llama.size and llama.parameter_size and llama.quantization and llama.family
        shown = await backend.show("qwen3:0.6b")
        assert shown.context_length == 40960 and "thinking" in shown.capabilities
    finally:
        await backend.aclose()


async def test_streams_tokens_with_counts_and_is_deterministic_by_seed(fake: FakeOllama) -> None:
    backend = backend_for(fake)
    try:
        chunks = [c async for c in backend.chat(request(seed=1))]
        assert len([c for c in chunks if c.content]) > 5
        final = chunks[-1]
        assert final.done and final.done_reason == "stop" and final.usage
        assert final.usage.completion_tokens and final.usage.prompt_tokens and final.usage.total_ms
        again = await gather(backend.chat(request(seed=1)))
        other = await gather(backend.chat(request(seed=2)))
        assert again.content == "".join(c.content for c in chunks).strip()
        assert other.content != again.content
        whole = await gather(backend.chat(request(seed=1, stream=False)))
        assert whole.content == again.content and whole.usage.completion_tokens
        assert fake.requests[-1]["options"]["seed"] == 1
    finally:
        await backend.aclose()


async def test_structured_output_and_tool_calls(fake: FakeOllama) -> None:
    backend = backend_for(fake)
    try:
        schema = {"type": "array", "items": {"type": "string"}, "minItems": 4, "maxItems": 4}
        result = await gather(backend.chat(request(response_schema=schema)))
        variations = json.loads(result.content)
        assert len(variations) == 4 and all(isinstance(v, str) for v in variations)

        called = await gather(backend.chat(request(tools=[WEATHER])))
        assert [c.name for c in called.tool_calls] == ["get_weather"]
        assert isinstance(called.tool_calls[0].arguments["city"], str)  # an object, not a JSON string
    finally:
        await backend.aclose()


async def test_tool_calls_written_as_text_are_accepted_when_tools_were_offered(fake: FakeOllama) -> None:
    fake.fixed_reply = '```json\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n```'
    backend = backend_for(fake)
    try:
        result = await gather(backend.chat(request(tools=[WEATHER])))
        assert [(c.name, c.arguments) for c in result.tool_calls] == [("get_weather", {"city": "Oslo"})]
        plain = await gather(backend.chat(request()))
        assert plain.tool_calls == [] and "Oslo" in plain.content
    finally:
        await backend.aclose()


async def test_think_is_stripped_and_kept_aside(fake: FakeOllama) -> None:
    backend = backend_for(fake)
    try:
        result = await gather(backend.chat(request(model="qwen3:0.6b")))
        assert "<think>" not in result.content and "</think>" not in result.content
        assert result.thinking and result.content
    finally:
        await backend.aclose()


async def test_missing_model_is_refused_before_generation(fake: FakeOllama) -> None:
    backend = backend_for(fake)
    try:
        with pytest.raises(ModelNotFound, match=r"model 'ghost' not found — pull it with `ollama pull ghost`"):
            await backend.ensure_model("ghost")
        with pytest.raises(ModelNotFound):
            await gather(backend.chat(request(model="ghost")))
    finally:
        await backend.aclose()


async def test_mid_stream_error_and_dropped_connection_raise(fake: FakeOllama) -> None:
    backend = backend_for(fake)
    try:
        fake.fail_after_chunks = 3
        with pytest.raises(BackendError, match="stopped with an error"):
            await gather(backend.chat(request()))
        fake.fail_after_chunks = None
        fake.drop_after_chunks = 3
        seen: list[str] = []
        with pytest.raises(BackendError, match=r"broke off|ended before"):
            async for chunk in backend.chat(request()):
                seen.append(chunk.content)
        assert len(seen) <= 3  # never a silently truncated answer marked done
    finally:
        await backend.aclose()


async def test_busy_server_is_retried_then_reported(fake: FakeOllama) -> None:
    fake.busy = True
    backend = backend_for(fake, max_retries=2)
    try:
        with pytest.raises(BackendBusy, match="busy"):
            await gather(backend.chat(request()))

        async def recover() -> None:
            await asyncio.sleep(0.3)
            fake.busy = False

        task = asyncio.create_task(recover())
        result = await gather(backend.chat(request()))  # retried until the server had room
        await task
        assert result.content
    finally:
        await backend.aclose()


async def test_refused_connection_says_how_to_fix_it() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    backend = OllamaBackend(BackendSettings(base_url=f"http://127.0.0.1:{port}", max_retries=1))
    try:
        health = await backend.health()
        assert not health.ok and "ollama serve" in health.message
        with pytest.raises(BackendUnavailable, match=rf"Ollama is not answering at http://127.0.0.1:{port}"):
            await gather(backend.chat(request()))
    finally:
        await backend.aclose()


async def test_first_byte_and_between_token_timeouts_are_separate(fake: FakeOllama) -> None:
    fake.first_byte_delay = 0.6
    backend = backend_for(fake, first_byte_timeout=0.2, max_retries=0)
    try:
        with pytest.raises(BackendTimeout, match="may still be loading"):
            await gather(backend.chat(request()))
    finally:
        await backend.aclose()
    # A slow first byte is fine when the first-byte timeout allows it.
    patient = backend_for(fake, first_byte_timeout=5, between_tokens_timeout=0.2)
    try:
        assert (await gather(patient.chat(request()))).content
        fake.first_byte_delay = 0
        fake.token_latency = 0.5
        started = time.monotonic()
        with pytest.raises(BackendTimeout, match="stopped sending tokens"):
            await gather(patient.chat(request()))
        # Noticed after the first gap of 0.2 s, not at the first-byte deadline.
        assert time.monotonic() - started < 2
    finally:
        await patient.aclose()


async def test_cancel_disconnects_and_concurrency_is_bounded(fake: FakeOllama) -> None:
    fake.token_latency = 0.02
    fake.parallel = 8
    service = BackendService(BackendSettings(base_url=fake.base_url, concurrency=4))
    limit = asyncio.Semaphore(service.settings.concurrency)

    async def one(i: int) -> str:
        async with limit:
            return (await service.complete(request(seed=i))).content

    try:
        answers = await asyncio.gather(*(one(i) for i in range(8)))
        assert all(answers) and fake.max_in_flight <= 4

        fake.token_latency = 0.2
        task = asyncio.create_task(service.complete(request(seed=99)))
        await asyncio.sleep(0.5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(40):
            if fake.disconnects:
                break
            await asyncio.sleep(0.05)
        assert fake.disconnects == 1  # the server saw the client go
    finally:
        await service.aclose()


async def test_connections_are_reused_across_requests(fake: FakeOllama) -> None:
    backend = backend_for(fake)
    try:
        for seed in range(5):
            await gather(backend.chat(request(seed=seed)))
        await backend.list_models()
        # The body is read to its end before the answer completes, so the connection goes back to
        # the pool instead of a new one being opened for each request.
        assert fake.connections_accepted == 1
    finally:
        await backend.aclose()


async def test_a_redirect_says_where_it_went_and_which_url_to_set(fake: FakeOllama) -> None:
    fake.redirect_to = "https://ollama.example"
    backend = backend_for(fake)
    try:
        assert await chat_error(backend, request()) == (
            f"The server at {fake.base_url}/api/chat redirected the request to https://ollama.example/api/chat "
            "(307); set the URL in Settings to https://ollama.example"
        )
        with pytest.raises(BackendError, match=r"/api/tags redirected .* to https://ollama\.example$"):
            await backend.list_models()
        health = await backend.health()
        assert not health.ok and "redirected the request to https://ollama.example/api/version" in health.message
    finally:
        await backend.aclose()


@pytest.mark.parametrize("status", [500, 502])
async def test_an_html_error_page_is_told_as_its_status_and_a_few_plain_words(fake: FakeOllama, status: int) -> None:
    fake.html_error = status
    backend = backend_for(fake)
    try:
        message = await chat_error(backend, request())
        asked = f"The server at {fake.base_url}/api/chat answered {status} "
        assert message.startswith(asked), message
        assert ": An error occurred. Sorry, the page you are looking for is currently unavailable." in message
        assert "<" not in message and "{" not in message and len(message) <= len(asked) + 25 + 120
    finally:
        await backend.aclose()


@pytest.mark.parametrize(
    "bad",
    [
        "not json",
        "[1, 2]",
        '"just text"',
        "42",
        '{"message": "hello"}',
        '{"message": {"content": 5}}',
        '{"message": {"tool_calls": [1]}}',
        '{"message": {"tool_calls": {"function": {}}}}',
        '{"message": {"content": ""}, "done": true, "eval_count": "many"}',
        '{"message": {"content": "x' + "y" * 300 + '"}, "done": "yes"}',
    ],
)
async def test_a_malformed_stream_line_is_named_with_an_excerpt(fake: FakeOllama, bad: str) -> None:
    fake.bad_line = bad
    backend = backend_for(fake)
    try:
        for streamed in (True, False):
            message = await chat_error(backend, request(stream=streamed))
            assert message.startswith(
                f"The server at {fake.base_url}/api/chat sent a line that is not valid Ollama NDJSON "
                f"(one JSON object per line): {bad[:20]!r}"[:-1]
            ), message
            assert len(message) < 250
    finally:
        await backend.aclose()
