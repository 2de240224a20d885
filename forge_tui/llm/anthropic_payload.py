"""A chat request in the shape of Anthropic's Messages API (`POST /v1/messages`).

The Messages API differs from OpenAI's: the system prompt is a top-level `system`, not a message;
`max_tokens` is required; a call is a `tool_use` block of the assistant's message, and its result a
`tool_result` block of the next user message (consecutive results share one message); there is no
seed; temperature runs from 0 to 1; extended thinking takes no temperature or top_p.
"""

from __future__ import annotations

import re
from typing import Any

from forge_tui.core.chat import ChatMessage, ChatRequest
from forge_tui.core.structured_output import in_mode

API_VERSION = "2023-06-01"
_ID_CHARS = re.compile(r"[^A-Za-z0-9_-]")


def _tool_id(raw: str | None, fallback: str) -> str:
    """An id as Anthropic takes it (letters, digits, '_' and '-'): calls made on another server
    (OpenAI's `call_…`, Ollama's none) keep their pairing with their results."""
    return _ID_CHARS.sub("_", raw) if raw else fallback


class _Turns:
    """Messages as Anthropic wants them: roles alternate, tool results go to the user's side, and a
    result without an id answers the oldest call of the last assistant turn not answered yet."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self._unanswered: list[str] = []

    def _add(self, role: str, blocks: list[dict[str, Any]]) -> None:
        if self.messages and self.messages[-1]["role"] == role:
            self.messages[-1]["content"].extend(blocks)
        else:
            self.messages.append({"role": role, "content": blocks})

    def add(self, message: ChatMessage) -> None:
        if message.role == "assistant":
            blocks: list[dict[str, Any]] = [{"type": "text", "text": message.content}] if message.content else []
            turn = len(self.messages)
            ids = [_tool_id(c.id, f"toolu_{turn}_{i}") for i, c in enumerate(message.tool_calls)]
            blocks += [
                {"type": "tool_use", "id": call_id, "name": call.name, "input": call.arguments}
                for call_id, call in zip(ids, message.tool_calls, strict=True)
            ]
            self._unanswered = ids
            if blocks:  # an empty turn (an answer that never came) is refused by the API: left out
                self._add("assistant", blocks)
        elif message.role == "tool":
            if message.tool_call_id:
                call_id = _tool_id(message.tool_call_id, "")
                if call_id in self._unanswered:
                    self._unanswered.remove(call_id)
            else:
                call_id = self._unanswered.pop(0) if self._unanswered else "toolu_unknown"
            self._add("user", [{"type": "tool_result", "tool_use_id": call_id, "content": message.content}])
        else:
            self._add("user", [{"type": "text", "text": message.content}])


def _simplified(message: dict[str, Any]) -> dict[str, Any]:
    """A message of one text block as a plain string, as Anthropic's own examples send it."""
    blocks = message["content"]
    if len(blocks) == 1 and blocks[0]["type"] == "text":
        return {"role": message["role"], "content": blocks[0]["text"]}
    return message


def messages_payload(request: ChatRequest, default_max_tokens: int) -> dict[str, Any]:
    """The body of `POST /v1/messages` for `request`; `default_max_tokens` when the request sets none
    (the API requires it)."""
    if request.response_schema is not None and request.structured_mode != "text":
        # No response_format here: the schema goes into the system prompt, and the answer is read with
        # the tolerant parser (core.structured_output).
        request = in_mode(request, "text")
    system = "\n\n".join(m.content for m in request.messages if m.role == "system" and m.content)
    turns = _Turns()
    for message in request.messages:
        if message.role != "system":
            turns.add(message)
    max_tokens = request.max_tokens or default_max_tokens
    payload: dict[str, Any] = {
        "model": request.model,
        "max_tokens": max_tokens,
        "messages": [_simplified(m) for m in turns.messages],
        "stream": request.stream,
    }
    if system:
        payload["system"] = system
    if request.thinking_budget is not None:
        # The budget is part of max_tokens; thinking takes neither temperature nor top_p.
        budget = request.thinking_budget
        payload["thinking"] = {"type": "enabled", "budget_tokens": budget}
        if max_tokens <= budget:
            payload["max_tokens"] = budget + max_tokens
    else:
        if request.temperature is not None:
            payload["temperature"] = min(max(request.temperature, 0.0), 1.0)
        if request.top_p is not None:
            payload["top_p"] = request.top_p
    if request.stop:
        payload["stop_sequences"] = request.stop
    if request.tools:
        payload["tools"] = [
            {"name": t.name, "description": t.description, "input_schema": t.parameters} for t in request.tools
        ]
    return payload
