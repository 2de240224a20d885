"""The OpenAI-compatible backend against the fake Ollama's /v1 API (a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.chat import ChatMessage, ChatRequest, ToolDef
from forge_tui.llm.base import gather
from forge_tui.llm.errors import BackendBusy, BackendError, ModelNotFound
from forge_tui.llm.openai_compat import OpenAIBackend, chat_payload, normalise_base_url
from tests.fake_ollama import FakeModel, FakeOllama
from tests.llm.chat_errors import chat_error

KEY_ENV = "FORGE_TEST_OPENAI_KEY"


def backend_for(fake: FakeOllama, **settings: object) -> OpenAIBackend:
    return OpenAIBackend(BackendSettings(kind="openai", base_url=fake.base_url, **settings))  # type: ignore[arg-type]


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
    ("url", "expected"),
    [
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000/v1"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/v1"),
        ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
        ("http://127.0.0.1:8000/v1/", "http://127.0.0.1:8000/v1"),
        ("https://api.example.org/openai", "https://api.example.org/openai/v1"),
    ],
)
def test_base_url_gets_v1_once(url: str, expected: str) -> None:
    assert normalise_base_url(url) == expected


def test_payload_maps_options_schema_and_tools() -> None:
    schema = {"type": "array", "items": {"type": "string"}}
    payload = chat_payload(
        request(
            temperature=0.2, seed=7, top_p=0.9, max_tokens=64, stop=["###"], num_ctx=4096, keep_alive="5m",
            tools=[WEATHER], response_schema=schema,
        )
    )  # fmt: skip
    assert payload["stream"] is True and payload["stream_options"] == {"include_usage": True}
    assert {k: payload[k] for k in ("temperature", "seed", "top_p", "max_tokens", "stop")} == {
        "temperature": 0.2, "seed": 7, "top_p": 0.9, "max_tokens": 64, "stop": ["###"],
    }  # fmt: skip
    assert "options" not in payload and "num_ctx" not in payload and "keep_alive" not in payload  # Ollama only
    assert payload["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": schema, "strict": True},
    }
    assert payload["tools"] == [WEATHER.to_openai()]
    assert payload["messages"] == [{"role": "user", "content": "Tell me about tea."}]

    plain = chat_payload(request(stream=False))
    assert plain["stream"] is False and "stream_options" not in plain
    assert not {"temperature", "seed", "top_p", "max_tokens", "stop", "tools", "response_format"} & set(plain)


async def test_models_and_health(fake: FakeOllama) -> None:
    backend = backend_for(fake)
    try:
        assert backend.base_url == f"{fake.base_url}/v1"
        health = await backend.health()
        assert health.ok and health.kind == "openai" and health.message == "2 models served"
        assert [m.name for m in await backend.list_models()] == ["llama3.2:latest", "qwen3:0.6b"]
    finally:
        await backend.aclose()


async def test_fake_speaks_ollamas_openai_wire_format(fake: FakeOllama) -> None:
    """What the backend below relies on, seen on the wire: SSE chunks, split tool-call arguments,
    the finish chunk, the usage chunk with no choices, and [DONE]."""
    async with httpx.AsyncClient(base_url=fake.base_url) as client:
        models = (await client.get("/v1/models")).json()
        assert models["object"] == "list"
        assert {(m["id"], m["object"], m["owned_by"]) for m in models["data"]} == {
            ("llama3.2:latest", "model", "library"),
            ("qwen3:0.6b", "model", "library"),
        }
        body = chat_payload(request(tools=[WEATHER]))
        response = await client.post("/v1/chat/completions", json=body)
    assert response.headers["content-type"] == "text/event-stream"
    events = [line[len("data: ") :] for line in response.text.split("\n\n") if line]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"} and len({c["id"] for c in chunks}) == 1
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    calls = [d["tool_calls"][0] for d in deltas if "tool_calls" in d]
    assert len(calls) >= 2 and calls[0]["id"].startswith("call_") and calls[0]["function"]["name"] == "get_weather"
    assert all(set(c) == {"index", "function"} and set(c["function"]) == {"arguments"} for c in calls[1:])
    arguments = json.loads("".join(c["function"]["arguments"] for c in calls))
    assert isinstance(arguments["city"], str)
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0


async def test_streams_tokens_with_usage_and_is_deterministic_by_seed(fake: FakeOllama) -> None:
    backend = backend_for(fake)
    try:
        chunks = [c async for c in backend.chat(request(seed=1))]
        pieces = [c for c in chunks if c.content]
        assert len(pieces) > 5 and not any(c.done for c in chunks[:-1])
        final = chunks[-1]
        assert final.done and final.done_reason == "stop" and final.usage
        assert final.usage.completion_tokens == len(pieces) and final.usage.prompt_tokens == 4  # from the usage chunk
        assert not final.usage.estimated
        sent = fake.requests[-1]
        assert sent["seed"] == 1 and sent["stream"] is True and sent["stream_options"] == {"include_usage": True}

        again = await gather(backend.chat(request(seed=1)))
        other = await gather(backend.chat(request(seed=2)))
        assert again.content == "".join(c.content for c in chunks).strip()
        assert other.content != again.content
    finally:
        await backend.aclose()


async def test_without_usage_chunk_the_deltas_are_counted(fake: FakeOllama) -> None:
    fake.omit_usage = True  # as llama-cpp-python: include_usage is ignored
    backend = backend_for(fake)
    try:
        chunks = [c async for c in backend.chat(request(seed=3))]
        usage = chunks[-1].usage
        assert usage and usage.estimated and usage.prompt_tokens is None
        assert usage.completion_tokens == len([c for c in chunks if c.content])
        assert usage.total_ms is not None

        thought = [c async for c in backend.chat(request(model="qwen3:0.6b", seed=3))]  # `reasoning` deltas count too
        assert thought[-1].usage and thought[-1].usage.completion_tokens == len(
            [c for c in thought if c.content or c.thinking]
        )
    finally:
        await backend.aclose()


async def test_structured_output_parses(fake: FakeOllama) -> None:
    backend = backend_for(fake)
    try:
        schema = {"type": "array", "items": {"type": "string"}, "minItems": 4, "maxItems": 4}
        result = await gather(backend.chat(request(response_schema=schema)))
        variations = json.loads(result.content)
        assert len(variations) == 4 and all(isinstance(v, str) for v in variations)
        assert fake.requests[-1]["response_format"]["json_schema"]["schema"] == schema
    finally:
        await backend.aclose()


async def test_tool_call_arguments_are_reassembled_into_an_object(fake: FakeOllama) -> None:
    backend = backend_for(fake)
    try:
        called = await gather(backend.chat(request(tools=[WEATHER])))
        assert called.done_reason == "tool_calls" and called.content == ""
        [call] = called.tool_calls
        assert call.name == "get_weather" and call.id and call.id.startswith("call_")
        assert isinstance(call.arguments["city"], str) and call.arguments["unit"] in ("c", "f")

        whole = await gather(backend.chat(request(tools=[WEATHER], stream=False)))
        assert [(c.name, c.arguments) for c in whole.tool_calls] == [(call.name, call.arguments)]
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


async def test_thinking_arrives_as_reasoning_or_think_tags_and_stays_out_of_the_answer(fake: FakeOllama) -> None:
    backend = backend_for(fake)
    try:
        # Ollama >= 0.12.4 thinks by default and sends `reasoning` deltas.
        reasoned = await gather(backend.chat(request(model="qwen3:0.6b")))
        assert reasoned.thinking.startswith("Okay") and reasoned.content and "think>" not in reasoned.content
        whole = await gather(backend.chat(request(model="qwen3:0.6b", stream=False)))
        assert whole.content == reasoned.content and whole.thinking == reasoned.thinking

        fake.think_in_content = True  # vLLM without a reasoning parser, llama.cpp --reasoning-format none
        tagged = await gather(backend.chat(request(model="qwen3:0.6b")))
        assert "<think>" not in tagged.content and "</think>" not in tagged.content
        assert (tagged.content, tagged.thinking) == (reasoned.content, reasoned.thinking)
        tagged_whole = await gather(backend.chat(request(model="qwen3:0.6b", stream=False)))
        assert (tagged_whole.content, tagged_whole.thinking) == (reasoned.content, reasoned.thinking)
    finally:
        await backend.aclose()


async def test_unknown_model(fake: FakeOllama) -> None:
    backend = backend_for(fake)
    try:
        with pytest.raises(ModelNotFound, match=r"model 'ghost' is not served at .*: model \"ghost\" not found"):
            await gather(backend.chat(request(model="ghost")))
        with pytest.raises(ModelNotFound, match=r"it serves: llama3.2:latest, qwen3:0.6b") as caught:
            await backend.ensure_model("ghost")
        assert caught.value.model == "ghost"
        await backend.ensure_model("qwen3:0.6b")
    finally:
        await backend.aclose()

    # A server with one model (llama.cpp) answers to any name: ensure_model lets it through.
    with FakeOllama(models=[FakeModel(name="gemma3:270m")]) as single:
        lone = backend_for(single)
        try:
            await lone.ensure_model("whatever-you-call-it")
        finally:
            await lone.aclose()


async def test_api_key_from_the_named_environment_variable(fake: FakeOllama, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.api_key = "sekrit"
    monkeypatch.setenv(KEY_ENV, "sekrit")
    keyed = backend_for(fake, api_key_env=KEY_ENV)
    try:
        assert (await keyed.health()).ok
        assert (await gather(keyed.chat(request()))).content
    finally:
        await keyed.aclose()

    monkeypatch.setenv(KEY_ENV, "wrong")
    wrong = backend_for(fake, api_key_env=KEY_ENV)
    try:
        with pytest.raises(BackendError, match=rf"refused the request \(401\) — check the key in \${KEY_ENV}"):
            await gather(wrong.chat(request()))
    finally:
        await wrong.aclose()

    monkeypatch.delenv(KEY_ENV)
    missing = backend_for(fake, api_key_env=KEY_ENV)
    try:
        health = await missing.health()
        assert not health.ok and f"${KEY_ENV}" in health.message
    finally:
        await missing.aclose()

    anonymous = backend_for(fake)
    try:
        with pytest.raises(BackendError, match=r"\(401\) — set the API-key variable in Settings"):
            await anonymous.list_models()
    finally:
        await anonymous.aclose()


async def test_mid_stream_error_event_raises(fake: FakeOllama) -> None:
    fake.fail_after_chunks = 3
    backend = backend_for(fake)
    try:
        seen = []
        with pytest.raises(BackendError, match="stopped with an error: an error was encountered"):
            async for chunk in backend.chat(request()):
                seen.append(chunk)
        assert len(seen) == 3 and not any(c.done for c in seen)
        with pytest.raises(BackendError, match="answered 500"):
            await gather(backend.chat(request(stream=False)))
    finally:
        await backend.aclose()


@pytest.mark.parametrize("switch", ["drop_after_chunks", "omit_done"])
async def test_a_stream_without_done_is_never_a_silent_answer(fake: FakeOllama, switch: str) -> None:
    setattr(fake, switch, 3 if switch == "drop_after_chunks" else True)
    backend = backend_for(fake)
    try:
        seen = []
        with pytest.raises(BackendError, match=r"without \[DONE\]|broke off"):
            async for chunk in backend.chat(request()):
                seen.append(chunk)
        assert not any(c.done for c in seen)
        if switch == "omit_done":  # the whole answer and the usage came, only [DONE] is missing
            assert len(seen) > 5
            with pytest.raises(BackendError, match=r"without \[DONE\]"):
                await gather(backend.chat(request(seed=5)))
        else:
            assert len(seen) == 3
    finally:
        await backend.aclose()


async def test_busy_server_is_retried_then_reported(fake: FakeOllama) -> None:
    fake.busy = True
    backend = backend_for(fake, max_retries=2)
    try:
        with pytest.raises(BackendBusy, match=r"busy \(503\)"):
            await gather(backend.chat(request()))
        assert len(fake.requests) == 3

        async def recover() -> None:
            await asyncio.sleep(0.3)
            fake.busy = False

        task = asyncio.create_task(recover())
        result = await gather(backend.chat(request()))  # retried until the server had room
        await task
        assert result.content
    finally:
        await backend.aclose()


async def test_rate_limit_waits_as_long_as_retry_after_says(fake: FakeOllama) -> None:
    fake.rate_limited = True
    impatient = backend_for(fake, max_retries=0)
    try:
        with pytest.raises(BackendBusy, match=r"too many requests \(429\)") as caught:
            await gather(impatient.chat(request()))
        assert caught.value.retry_after == 1.0
    finally:
        await impatient.aclose()

    fake.reset_stats()
    backend = backend_for(fake, max_retries=3)

    async def lift() -> None:
        await asyncio.sleep(0.2)
        fake.rate_limited = False

    try:
        task = asyncio.create_task(lift())
        started = time.monotonic()
        result = await gather(backend.chat(request()))
        elapsed = time.monotonic() - started
        await task
        assert result.content
        assert len(fake.requests) == 2 and 0.95 <= elapsed < 3  # one wait of Retry-After: 1, not a quick backoff
    finally:
        await backend.aclose()


async def test_non_streaming_answer(fake: FakeOllama) -> None:
    backend = backend_for(fake)
    try:
        whole = await gather(backend.chat(request(seed=9, stream=False)))
        sent = fake.requests[-1]
        assert sent["stream"] is False and "stream_options" not in sent
        streamed = await gather(backend.chat(request(seed=9)))
        assert whole.content == streamed.content and whole.done_reason == "stop"
        assert whole.usage.completion_tokens == streamed.usage.completion_tokens and whole.usage.prompt_tokens

        cut = await gather(backend.chat(request(seed=9, stream=False, max_tokens=4)))
        assert cut.done_reason == "length" and cut.usage.completion_tokens == 4
    finally:
        await backend.aclose()


async def test_cancel_disconnects(fake: FakeOllama) -> None:
    fake.token_latency = 0.2
    backend = backend_for(fake)
    try:
        task = asyncio.create_task(gather(backend.chat(request(seed=99))))
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
        await backend.aclose()


async def test_a_whole_answer_that_is_not_json_is_a_backend_error() -> None:
    # A captive portal or a wrong URL: 200 with an HTML page (the fake always answers JSON, so a mock here).
    transport = httpx.MockTransport(lambda _: httpx.Response(200, text="<html>sign in</html>"))
    backend = OpenAIBackend(BackendSettings(kind="openai", base_url="http://proxy.invalid"), transport=transport)
    try:
        with pytest.raises(BackendError, match="did not answer with a JSON object"):
            await gather(backend.chat(request(stream=False)))
    finally:
        await backend.aclose()


async def test_a_redirect_says_where_it_went_and_which_url_to_set(fake: FakeOllama) -> None:
    fake.redirect_to = "https://vllm.example"
    backend = backend_for(fake)
    try:
        for streamed in (True, False):
            assert await chat_error(backend, request(stream=streamed)) == (
                f"The server at {fake.base_url}/v1/chat/completions redirected the request to "
                "https://vllm.example/v1/chat/completions (307); set the URL in Settings to https://vllm.example/v1"
            )
        health = await backend.health()
        assert not health.ok
        assert health.message.endswith("/v1/models (307); set the URL in Settings to https://vllm.example/v1")
    finally:
        await backend.aclose()


async def test_an_html_error_page_is_told_as_its_status_and_a_few_plain_words(fake: FakeOllama) -> None:
    fake.html_error = 500
    backend = backend_for(fake)
    try:
        for streamed in (True, False):
            message = await chat_error(backend, request(stream=streamed))
            asked = f"The server at {fake.base_url}/v1/chat/completions answered 500 Internal Server Error: "
            assert message.startswith(asked + "An error occurred. Sorry, the page you are looking for"), message
            assert "<" not in message and "{" not in message and len(message) <= len(asked) + 120
    finally:
        await backend.aclose()


@pytest.mark.parametrize(
    "bad",
    [
        "not json",
        "[1]",
        '"text"',
        '{"choices": ["x"]}',
        '{"choices": {"0": {}}}',
        '{"choices": [{"delta": "x"}]}',
        '{"choices": [{"delta": {"content": 5}}]}',
        '{"choices": [{"delta": {"tool_calls": [{"index": "a", "function": {}}]}}]}',
        '{"choices": [{"delta": {"tool_calls": [{"index": 0, "function": "f"}]}}]}',
        '{"choices": [], "usage": 5}',
        '{"choices": [], "usage": {"completion_tokens": "many"}}',
        '{"choices": [{"delta": {"content": "' + "y" * 300 + '"}, "finish_reason": 1}]}',
    ],
)
async def test_a_malformed_stream_event_is_named_with_an_excerpt(fake: FakeOllama, bad: str) -> None:
    fake.bad_line = bad
    backend = backend_for(fake)
    try:
        message = await chat_error(backend, request())
        assert message.startswith(
            f"The server at {fake.base_url}/v1/chat/completions sent an event that is not valid OpenAI SSE "
            f"(data: and a JSON chunk): 'data: {bad[:20]}"
        ), message
        assert len(message) < 250
        if bad.startswith("{"):  # a whole answer of that shape
            fake.bad_line = bad.replace('"delta"', '"message"')
            whole = await chat_error(backend, request(stream=False))
            assert "answered with JSON that is not an OpenAI chat completion" in whole
    finally:
        await backend.aclose()
