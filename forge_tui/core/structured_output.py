"""Structured output (an answer that follows a JSON schema) on servers that support it in different ways.

Servers differ: OpenAI, vLLM and Ollama take a JSON schema; llama-cpp-python's server refuses
`json_schema` (500: "Input should be 'text' or 'json_object'") but takes `json_object`; some take
neither. A request is therefore sent in one of three modes, most exact first, and the next one is
tried when the server refuses a mode. In every mode but `json_schema` the schema is written into the
system prompt, and the answer is read with a tolerant parser (JSON inside prose or a ``` fence).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, get_args

from forge_tui.core.chat import ChatMessage, ChatRequest, StructuredMode

__all__ = ["MODES", "StructuredMode", "in_mode", "json_candidates", "json_object_from", "modes_from", "refuses_format"]

# Most exact first: a server that refuses one mode is asked again in the next.
MODES: tuple[StructuredMode, ...] = get_args(StructuredMode)

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
# What an error about the request's format says, on the servers we know (llama-cpp-python, llama.cpp,
# LM Studio, old Ollama: "invalid format", vLLM: "guided_json").
_FORMAT_WORDS = ("response_format", "json_schema", "json_object", "format", "guided")


def modes_from(start: StructuredMode | None) -> tuple[StructuredMode, ...]:
    """The modes to try, starting with the one that worked last time (None: the most exact)."""
    return MODES[MODES.index(start) :] if start is not None else MODES


def schema_instruction(schema: dict[str, Any]) -> str:
    return "Reply with one JSON value only, no prose and no code fence, that follows this JSON schema:\n" + json.dumps(
        schema, ensure_ascii=False
    )


def in_mode(request: ChatRequest, mode: StructuredMode) -> ChatRequest:
    """The request asked in `mode`: below `json_schema` the schema goes into the system prompt too."""
    if request.response_schema is None:
        return request
    if mode == "json_schema":
        return request.model_copy(update={"structured_mode": mode})
    instruction = schema_instruction(request.response_schema)
    messages = list(request.messages)
    if messages and messages[0].role == "system":
        first = messages[0]
        messages[0] = first.model_copy(update={"content": f"{first.content.rstrip()}\n\n{instruction}"})
    else:
        messages.insert(0, ChatMessage(role="system", content=instruction))
    return request.model_copy(update={"structured_mode": mode, "messages": messages})


def refuses_format(status: int, message: str) -> bool:
    """Whether an error answer to a request that asked for a format is the server refusing that format
    (and not a missing model, a busy server or a broken one)."""
    if status not in (400, 422, 500, 501):
        return False
    lowered = message.lower()
    return any(word in lowered for word in _FORMAT_WORDS)


def json_candidates(text: str) -> Iterator[Any]:
    """Every JSON value found in a model's answer, most likely first: the whole text, each ``` fence,
    then the outermost {...} and [...] spans (JSON with prose around it)."""
    candidates = [text.strip(), *(m.strip() for m in _FENCE.findall(text))]
    for opener, closer in (("{", "}"), ("[", "]")):
        start, end = text.find(opener), text.rfind(closer)
        if 0 <= start < end:
            candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            yield json.loads(candidate)
        except (json.JSONDecodeError, ValueError):
            continue


def json_object_from(text: str) -> dict[str, Any] | None:
    """The first JSON object in a model's answer (see json_candidates), or None."""
    return next((value for value in json_candidates(text) if isinstance(value, dict)), None)
