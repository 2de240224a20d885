"""Anthropic's Messages API (llm.anthropic) against the fake (tests/fake_anthropic.py), a real HTTP server."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import httpx
import pytest

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.chat import ChatMessage, ChatRequest, ToolCall, ToolDef
from forge_tui.llm.anthropic import AnthropicBackend, normalise_base_url
from forge_tui.llm.anthropic_payload import messages_payload
from forge_tui.llm.base import gather
from forge_tui.llm.errors import BackendBusy, BackendError, BackendUnavailable, ModelNotFound
from forge_tui.llm.factory import make_backend
from forge_tui.services.backends import BackendService
from tests.fake_anthropic import FakeAnthropic

KEY_ENV = "FORGE_TEST_ANTHROPIC_KEY"
KEY = "sk-ant-test-0123456789"
MODEL = "claude-sonnet-4-5"

WEATHER = ToolDef(
    name="get_weather",
    description="Current weather for a city",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    monkeypatch.setenv(KEY_ENV, KEY)
    with FakeAnthropic(api_key=KEY) as server:
        yield server


def backend_for(fake: FakeAnthropic, **settings: object) -> AnthropicBackend:
    fields: dict[str, object] = {"kind": "anthropic", "base_url": fake.base_url, "api_key_env": KEY_ENV}
    return AnthropicBackend(BackendSettings.model_validate(fields | settings))


def request(*messages: ChatMessage, **extra: object) -> ChatRequest:
    said = list(messages) or [ChatMessage(role="user", content="Tell me about tea.")]
    return ChatRequest.model_validate({"model": MODEL, "messages": said} | extra)


def test_payload_system_on_top_max_tokens_required_and_no_seed() -> None:
    asked = request(
        ChatMessage(role="system", content="Be brief."),
        ChatMessage(role="user", content="Hi"),
        temperature=1.4, seed=7, top_p=0.9, stop=["###"], tools=[WEATHER],
    )  # fmt: skip
    payload = messages_payload(asked, 333)
    assert payload["system"] == "Be brief." and payload["messages"] == [{"role": "user", "content": "Hi"}]
    assert payload["max_tokens"] == 333 and "seed" not in payload
    assert (payload["temperature"], payload["top_p"], payload["stop_sequences"]) == (1.0, 0.9, ["###"])
    assert payload["tools"] == [
        {"name": "get_weather", "description": "Current weather for a city", "input_schema": WEATHER.parameters}
    ]
    thinking = messages_payload(request(temperature=0.3, thinking_budget=2048, max_tokens=512), 1024)
    assert thinking["thinking"] == {"type": "enabled", "budget_tokens": 2048} and thinking["max_tokens"] == 2560
    assert "temperature" not in thinking


def test_payload_pairs_tool_results_with_calls_made_elsewhere() -> None:
    """Calls without ids (Ollama's) or with OpenAI's get ids Anthropic takes, and results follow them."""
    calls = [ToolCall(name="get_weather", arguments={"city": "Oslo"}), ToolCall(name="get_weather", arguments={})]
    payload = messages_payload(
        request(
            ChatMessage(role="user", content="Weather?"),
            ChatMessage(role="assistant", tool_calls=calls),
            ChatMessage(role="tool", content="rain"),
            ChatMessage(role="tool", content="sun"),
            ChatMessage(role="assistant", tool_calls=[ToolCall(name="get_weather", id="call.9")]),
            ChatMessage(role="tool", content="snow", tool_call_id="call.9"),
            ChatMessage(role="assistant", content=""),
        ),
        100,
    )
    assistant, results = payload["messages"][1], payload["messages"][2]
    ids = [b["id"] for b in assistant["content"]]
    assert ids == ["toolu_1_0", "toolu_1_1"] and assistant["content"][0]["input"] == {"city": "Oslo"}
    assert results == {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1_0", "content": "rain"},
            {"type": "tool_result", "tool_use_id": "toolu_1_1", "content": "sun"},
        ],
    }
    assert payload["messages"][3]["content"][0]["id"] == payload["messages"][4]["content"][0]["tool_use_id"]
    assert len(payload["messages"]) == 5  # the empty answer at the end is left out


@pytest.mark.parametrize(
    ("url", "expected"),
    [("https://api.anthropic.com", "https://api.anthropic.com/v1"), ("http://h:1/v1/", "http://h:1/v1")],
)
def test_base_url_gets_v1_once(url: str, expected: str) -> None:
    assert normalise_base_url(url) == expected


async def test_streams_text_with_usage_and_sends_the_key_and_version(fake: FakeAnthropic) -> None:
    backend = backend_for(fake)
    try:
        asked = request(
            ChatMessage(role="system", content="Be kind."), ChatMessage(role="user", content="Tell me about tea.")
        )
        chunks = [c async for c in backend.chat(asked.model_copy(update={"max_tokens": 300}))]
        pieces = [c.content for c in chunks if c.content]
        assert len(pieces) > 5 and not any(c.done for c in chunks[:-1])
        final = chunks[-1]
        assert final.done and final.done_reason == "stop" and final.usage is not None
        assert final.usage.completion_tokens == len(pieces) and final.usage.prompt_tokens == 6
        assert final.usage.generation_ms is not None and not final.usage.estimated
        headers = fake.headers[-1]
        assert headers["x-api-key"] == KEY and headers["anthropic-version"] == "2023-06-01"
        assert "authorization" not in headers
        sent = fake.requests[-1]
        assert sent["system"] == "Be kind." and sent["max_tokens"] == 300 and sent["stream"] is True
        whole = await gather(backend.chat(asked.model_copy(update={"max_tokens": 300, "stream": False})))
        assert whole.content == "".join(pieces).strip() and whole.done_reason == "stop"
    finally:
        await backend.aclose()


async def test_a_tool_use_block_becomes_a_tool_call_and_its_result_goes_back(fake: FakeAnthropic) -> None:
    backend = backend_for(fake)
    try:
        first = await gather(backend.chat(request(tools=[WEATHER])))
        [call] = first.tool_calls
        assert call.name == "get_weather" and isinstance(call.arguments["city"], str)
        assert call.id is not None and call.id.startswith("toolu_") and first.done_reason == "tool_calls"
        assert first.content == "I will use get_weather."
        turns = [
            ChatMessage(role="user", content="Weather in Oslo?"),
            ChatMessage(role="assistant", content=first.content, tool_calls=first.tool_calls),
            ChatMessage(role="tool", content="12 C and rain", tool_call_id=call.id),
        ]
        second = await gather(backend.chat(request(*turns, tools=[WEATHER])))
        assert second.tool_calls == [] and second.content and second.done_reason == "stop"
        assert fake.requests[-1]["messages"][2]["content"][0]["tool_use_id"] == call.id
    finally:
        await backend.aclose()


async def test_thinking_blocks_are_the_reasoning(fake: FakeAnthropic) -> None:
    backend = backend_for(fake)
    try:
        chunks = [c async for c in backend.chat(request(thinking_budget=1024, max_tokens=200))]
        thinking = "".join(c.thinking for c in chunks)
        assert thinking.startswith("Okay, the user wants") and "<think>" not in thinking
        assert chunks[0].thinking and not chunks[0].content  # the thought streams before the answer
        answer = "".join(c.content for c in chunks)
        assert answer and "Okay, the user" not in answer
        whole = await gather(backend.chat(request(thinking_budget=1024, max_tokens=200, stream=False)))
        assert (whole.thinking, whole.content) == (thinking.strip(), answer.strip())
    finally:
        await backend.aclose()


async def test_models_paged_health_and_aliases(fake: FakeAnthropic) -> None:
    fake.page_size = 1
    backend = backend_for(fake)
    try:
        models = await backend.list_models()
        assert [m.name for m in models] == ["claude-haiku-4-5-20251001", "claude-sonnet-4-5-20250929"]
        assert models[1].family == "Claude Sonnet 4.5"
        health = await backend.health()
        assert health.ok and health.kind == "anthropic" and health.message == "2 models served"
        await backend.ensure_model("claude-sonnet-4-5")
        with pytest.raises(ModelNotFound, match="claude-nope") as missing:
            await backend.ensure_model("claude-nope")
        assert missing.value.model == "claude-nope"
    finally:
        await backend.aclose()


async def test_missing_model_in_a_chat_is_model_not_found(fake: FakeAnthropic) -> None:
    backend = backend_for(fake)
    try:
        with pytest.raises(ModelNotFound, match="model 'claude-gone' is not served") as found:
            await gather(backend.chat(request().model_copy(update={"model": "claude-gone"})))
        assert found.value.model == "claude-gone"
    finally:
        await backend.aclose()


@pytest.mark.parametrize(
    ("status", "kind", "said"),
    [
        (401, BackendError, f"refused the request (401) — check the key in ${KEY_ENV}"),
        (403, BackendError, f"refused the request (403) — check the key in ${KEY_ENV}"),
        (429, BackendBusy, "too many requests (429)"),
        (529, BackendBusy, "is overloaded (529)"),
        (500, BackendError, "answered 500 Internal Server Error: Internal server error"),
        (400, BackendError, "answered 400 Bad Request: Error"),
    ],
)
async def test_error_statuses_map_to_the_typed_errors(
    fake: FakeAnthropic, status: int, kind: type[BackendError], said: str
) -> None:
    fake.error_status = status
    backend = backend_for(fake, max_retries=0)
    try:
        with pytest.raises(kind) as raised:
            await gather(backend.chat(request()))
        assert type(raised.value) is kind and said in str(raised.value)
        if kind is BackendBusy:
            assert isinstance(raised.value, BackendBusy) and raised.value.retry_after == 2.0
    finally:
        await backend.aclose()


async def test_a_busy_server_is_asked_again_after_its_retry_after(fake: FakeAnthropic) -> None:
    fake.error_status, fake.retry_after = 529, 0
    backend = backend_for(fake, max_retries=2)
    try:
        with pytest.raises(BackendBusy):
            await gather(backend.chat(request()))
        assert len(fake.requests) == 3
    finally:
        await backend.aclose()


async def test_a_missing_key_variable_is_named(fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV)
    backend = backend_for(fake)
    try:
        health = await backend.health()
        assert not health.ok and f"${KEY_ENV} is not set in this environment" in health.message
    finally:
        await backend.aclose()


async def test_an_overloaded_error_event_mid_stream_is_busy(fake: FakeAnthropic) -> None:
    fake.overloaded_after = 4
    backend = backend_for(fake)
    try:
        got: list[str] = []
        with pytest.raises(BackendBusy, match="overloaded and stopped the answer: Overloaded"):
            async for chunk in backend.chat(request()):
                got.append(chunk.content)
        assert len(got) == 4
    finally:
        await backend.aclose()


async def test_a_stream_cut_off_before_message_stop_is_an_error(fake: FakeAnthropic) -> None:
    fake.drop_after = 3
    backend = backend_for(fake)
    try:
        with pytest.raises(BackendError) as raised:
            await gather(backend.chat(request()))
        assert "message_stop" in str(raised.value) or "broke off" in str(raised.value)
    finally:
        await backend.aclose()


async def test_a_refused_connection_is_unavailable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    backend = AnthropicBackend(BackendSettings(kind="anthropic", base_url=url, max_retries=0))
    try:
        with pytest.raises(BackendUnavailable, match="is not answering"):
            await gather(backend.chat(request()))
    finally:
        await backend.aclose()


async def test_structured_output_asks_with_the_schema_in_the_system_prompt(fake: FakeAnthropic) -> None:
    fake.fixed_reply = '{"score": 8}'
    schema = {"type": "object", "properties": {"score": {"type": "integer"}}}
    settings = BackendSettings(kind="anthropic", base_url=fake.base_url, api_key_env=KEY_ENV)
    async with BackendService(settings) as service:
        assert isinstance(service.backend, AnthropicBackend) and isinstance(make_backend(settings), AnthropicBackend)
        result = await service.complete(request(response_schema=schema))
    assert json.loads(result.content) == {"score": 8}
    sent = fake.requests[-1]
    assert "follows this JSON schema" in sent["system"] and "response_format" not in sent


async def test_the_fake_speaks_the_event_stream(fake: FakeAnthropic) -> None:
    """What the backend relies on, seen on the wire: named events whose data carries the same type."""
    body = messages_payload(request(tools=[WEATHER]), 100)
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
    async with httpx.AsyncClient(base_url=fake.base_url, headers=headers) as client:
        response = await client.post("/v1/messages", json=body)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [block.split("\n") for block in response.text.split("\n\n") if block]
    names = [lines[0].removeprefix("event: ") for lines in events]
    data = [json.loads(lines[1].removeprefix("data: ")) for lines in events]
    assert all(d["type"] == n for n, d in zip(names, data, strict=True))
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert data[0]["message"]["content"] == [] and data[0]["message"]["usage"]["input_tokens"] > 0
    starts = [d["content_block"] for d in data if d["type"] == "content_block_start"]
    assert [b["type"] for b in starts] == ["text", "tool_use"] and starts[1]["input"] == {}
    partial = [d["delta"]["partial_json"] for d in data if d["type"] == "content_block_delta" and d["index"] == 1]
    assert len(partial) >= 2 and isinstance(json.loads("".join(partial))["city"], str)
    assert data[-2]["delta"]["stop_reason"] == "tool_use" and data[-2]["usage"]["output_tokens"] > 0
