"""Asking for structured output in the mode a server takes: the request in each mode, which errors are
a refusal of the mode, and reading JSON out of an answer written around it."""

from __future__ import annotations

import pytest

from forge_tui.core.chat import ChatMessage, ChatRequest
from forge_tui.core.structured_output import in_mode, json_object_from, modes_from, refuses_format

SCHEMA = {"type": "object", "properties": {"verdict": {"type": "string"}}, "required": ["verdict"]}


def request(*messages: ChatMessage) -> ChatRequest:
    return ChatRequest(model="m", messages=list(messages), response_schema=SCHEMA)


def test_the_modes_go_from_the_most_exact_and_start_where_the_server_was_last() -> None:
    assert modes_from(None) == ("json_schema", "json_object", "text")
    assert modes_from("json_object") == ("json_object", "text")
    assert modes_from("text") == ("text",)


def test_below_json_schema_the_schema_goes_into_the_system_prompt() -> None:
    system = ChatMessage(role="system", content="You judge answers.")
    user = ChatMessage(role="user", content="Is 2+2=4 right?")
    exact = in_mode(request(system, user), "json_schema")
    assert exact.structured_mode == "json_schema" and exact.messages == [system, user]
    for mode in ("json_object", "text"):
        asked = in_mode(request(system, user), mode)
        assert asked.structured_mode == mode and asked.messages[1] == user and len(asked.messages) == 2
        assert asked.messages[0].content.startswith("You judge answers.\n\nReply with one JSON value only")
        assert '"required": ["verdict"]' in asked.messages[0].content
    alone = in_mode(request(user), "text")
    assert alone.messages[0].role == "system" and '"verdict"' in alone.messages[0].content
    plain = ChatRequest(model="m", messages=[user])
    assert in_mode(plain, "text") is plain  # no schema: nothing to ask for


@pytest.mark.parametrize(
    ("status", "message"),
    [
        # llama-cpp-python 0.3.x (its pydantic error, as the server sends it)
        (500, "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), ...}"),
        (500, 'response_format type must be one of "text" or "json_object", but got: json_schema'),  # llama.cpp
        (400, "'response_format.type' must be 'json_schema' or 'text'"),  # LM Studio
        (400, 'invalid format: {"type":"object"}; expected "json" or a valid JSON Schema object'),  # Ollama
    ],
)
def test_a_server_refusing_the_format_is_told_apart(status: int, message: str) -> None:
    assert refuses_format(status, message)


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (404, "model 'x' not found, try pulling it first (response_format is fine)"),
        (503, "server busy, please try again"),
        (429, "too many requests"),
        (500, "an error was encountered while running the model: unexpected EOF"),
        (401, "invalid api key"),
    ],
)
def test_other_errors_are_not_a_refusal_of_the_format(status: int, message: str) -> None:
    assert not refuses_format(status, message)


def test_json_is_read_out_of_prose_and_fences() -> None:
    assert json_object_from('{"verdict": "good"}') == {"verdict": "good"}
    assert json_object_from('Sure! Here it is:\n```json\n{"verdict": "bad"}\n```\nHope it helps.') == {"verdict": "bad"}
    assert json_object_from('My answer is {"verdict": "ok"} as asked.') == {"verdict": "ok"}
    assert json_object_from("No JSON here at all.") is None
    assert json_object_from('["a", "b"]') is None  # an object was asked for
