"""Structured output against a server that refuses a JSON schema, as llama-cpp-python's does (500,
"Input should be 'text' or 'json_object'"): the request is asked again as json_object with the schema
in the prompt, then as plain text; what worked is used from then on and handed over to be saved."""

from __future__ import annotations

import json
from typing import Any

import pytest

from forge_tui.core import paraphrase
from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.chat import ChatMessage, ChatRequest, StructuredMode
from forge_tui.llm.errors import BackendError, StructuredOutputRefused
from forge_tui.llm.ollama import chat_payload as ollama_payload
from forge_tui.llm.openai_compat import OpenAIBackend
from forge_tui.services.backends import BackendService
from tests.fake_ollama import FakeOllama

LLAMA_CPP = ("text", "json_object")
PROMPT = "Explain tides to a sailor."


def paraphrase_request(stream: bool = False) -> ChatRequest:
    return ChatRequest(
        model="llama3.2",
        messages=paraphrase.messages(PROMPT, 3),
        response_schema=paraphrase.schema(3),
        stream=stream,
        seed=4,
    )


def asked(fake: FakeOllama) -> list[str]:
    """How each chat request asked for its format: the response_format type, or "text" for none."""
    return [(r.get("response_format") or {}).get("type", "text") for r in fake.requests]


def openai(fake: FakeOllama, **settings: Any) -> BackendSettings:
    return BackendSettings(kind="openai", base_url=fake.base_url, max_retries=0, **settings)


@pytest.mark.parametrize("stream", [False, True])
async def test_a_server_refusing_json_schema_is_asked_as_json_object_and_remembered(
    fake: FakeOllama, stream: bool
) -> None:
    fake.accepted_formats = LLAMA_CPP
    learned: list[tuple[str, StructuredMode]] = []
    async with BackendService(openai(fake), remember=lambda *pair: learned.append(pair)) as service:
        result = await service.complete(paraphrase_request(stream))
        assert asked(fake) == ["json_schema", "json_object"]
        second = fake.requests[1]
        assert second["response_format"]["schema"] == paraphrase.schema(3)  # llama-cpp-python keeps to it
        assert json.dumps(paraphrase.schema(3)) in second["messages"][0]["content"]  # and the prompt says it
        assert len(paraphrase.parse_variations(result.content, PROMPT)) == 3
        assert learned == [(f"openai {fake.base_url}/v1", "json_object")]
        assert service.structured_mode == "json_object"

        fake.requests.clear()
        await service.complete(paraphrase_request(stream))
        assert asked(fake) == ["json_object"]  # straight to what worked
    assert len(learned) == 1  # told once


async def test_a_server_taking_no_format_at_all_gets_the_schema_in_the_prompt_and_plain_text(fake: FakeOllama) -> None:
    fake.accepted_formats = ("text",)
    learned: list[tuple[str, StructuredMode]] = []
    async with BackendService(openai(fake), remember=lambda *pair: learned.append(pair)) as service:
        result = await service.complete(paraphrase_request())
    assert asked(fake) == ["json_schema", "json_object", "text"]
    assert "response_format" not in fake.requests[2]
    assert '"variations"' in fake.requests[2]["messages"][0]["content"]
    assert result.content and paraphrase.parse_variations(result.content, PROMPT)
    assert learned == [(f"openai {fake.base_url}/v1", "text")]


async def test_a_new_service_starts_with_the_mode_saved_for_its_endpoint(fake: FakeOllama) -> None:
    fake.accepted_formats = LLAMA_CPP
    endpoint = f"openai {fake.base_url}/v1"
    other = {"openai http://elsewhere:8000/v1": "text"}
    settings = openai(fake, structured_output={endpoint: "json_object", **other})
    async with BackendService(settings) as service:
        await service.complete(paraphrase_request())
    assert asked(fake) == ["json_object"]
    fake.requests.clear()
    async with BackendService(openai(fake, structured_output=other)) as service:  # another server's mode
        await service.complete(paraphrase_request())
    assert asked(fake) == ["json_schema", "json_object"]


async def test_a_server_that_takes_json_schema_is_asked_once_and_nothing_is_saved(fake: FakeOllama) -> None:
    learned: list[tuple[str, StructuredMode]] = []
    async with BackendService(openai(fake), remember=lambda *pair: learned.append(pair)) as service:
        result = await service.complete(paraphrase_request())
    assert asked(fake) == ["json_schema"] and learned == []
    assert len(json.loads(result.content)["variations"]) == 3


async def test_other_errors_are_not_taken_for_a_refused_format(fake: FakeOllama) -> None:
    fake.html_error = 500
    async with BackendService(openai(fake)) as service:
        with pytest.raises(BackendError) as caught:
            await service.complete(paraphrase_request())
    assert not isinstance(caught.value, StructuredOutputRefused)
    assert asked(fake) == ["json_schema"]  # asked once: a broken server is not asked three ways


async def test_the_refusal_is_a_typed_error_with_the_servers_words(fake: FakeOllama) -> None:
    fake.accepted_formats = LLAMA_CPP
    backend = OpenAIBackend(openai(fake))
    try:
        with pytest.raises(StructuredOutputRefused) as caught:
            async for _ in backend.chat(paraphrase_request()):
                pass
    finally:
        await backend.aclose()
    assert caught.value.mode == "json_schema"
    assert str(caught.value).startswith(
        f"The server at {fake.base_url}/v1 does not take json_schema structured output (500): 1 validation error"
    )


def test_ollama_is_asked_for_a_schema_then_json_then_nothing() -> None:
    request = paraphrase_request()
    assert ollama_payload(request)["format"] == paraphrase.schema(3)
    assert ollama_payload(request.model_copy(update={"structured_mode": "json_object"}))["format"] == "json"
    assert "format" not in ollama_payload(request.model_copy(update={"structured_mode": "text"}))


async def test_plain_requests_are_untouched(fake: FakeOllama) -> None:
    fake.accepted_formats = LLAMA_CPP
    plain = ChatRequest(model="llama3.2", messages=[ChatMessage(role="user", content="Hi")])
    async with BackendService(openai(fake)) as service:
        await service.complete(plain)
    assert asked(fake) == ["text"] and fake.requests[0]["messages"] == [{"role": "user", "content": "Hi"}]
