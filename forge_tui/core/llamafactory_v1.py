"""LLaMA-Factory v1 records (its `SFTSample` and `DPOSample`).

A message is `{"role": "system"|"user"|"assistant"|"tool", "content": [part, ...], "loss_weight":
float}`, a part `{"type": "text"|"reasoning"|"tool_call", "value": str}`: an assistant message holds
its reasoning part first, then its text, then one `tool_call` part per call, whose value is the JSON
text of `{"name", "arguments"}`. `tools` beside the messages is the JSON text of the tool list.

A message's `loss_weight` is its own (a turn kept from an import holds it under that key), else the
example's extra field `messages[N].loss_weight` (`chosen_messages[N]…`, `rejected_messages[N]…` for
pairs; N counts the record's messages from 0), else LLaMA-Factory's own default: 1.0 for the
assistant, 0.0 for the rest.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from forge_tui.core.conversation import Message, answer_message, conversation, prompt_messages
from forge_tui.core.models import Example

Record = dict[str, Any]
DEFAULT_WEIGHT = {"assistant": 1.0}


def _weight(message: Message, number: int, extra: dict[str, Any], key: str) -> float:
    given = message.get("loss_weight")
    if given is None:
        given = extra.get(f"{key}[{number}].loss_weight")
    if given is not None and not isinstance(given, bool):
        try:
            return float(given)
        except (TypeError, ValueError):
            pass
    return DEFAULT_WEIGHT.get(message["role"], 0.0)


def _parts(message: Message) -> list[Record]:
    parts: list[Record] = []
    if message.get("reasoning"):
        parts.append({"type": "reasoning", "value": str(message["reasoning"])})
    text = str(message.get("content") or "")
    calls = message.get("tool_calls") or []
    if text or not calls:
        parts.append({"type": "text", "value": text})
    for call in calls:
        value = {"name": call["name"], "arguments": call.get("arguments", {})}
        parts.append({"type": "tool_call", "value": json.dumps(value, ensure_ascii=False)})
    return parts


def v1_messages(messages: list[Message], extra: dict[str, Any], key: str = "messages") -> list[Record]:
    return [
        {"role": m["role"], "content": _parts(m), "loss_weight": _weight(m, number, extra, key)}
        for number, m in enumerate(messages)
    ]


def _with_tools(record: Record, example: Example) -> Record:
    tools = example.meta.params.get("tools")
    if isinstance(tools, list) and tools:
        record["tools"] = json.dumps(tools, ensure_ascii=False)
    return record


def render_sft(example: Example) -> Iterator[Record]:
    messages = v1_messages(conversation(example.content), example.content.extra)
    yield _with_tools({"messages": messages}, example)


def render_dpo(example: Example) -> Iterator[Record]:
    content = example.content
    prompt = prompt_messages(content)
    answer = answer_message(content.output, content.tool_calls, content.reasoning)
    chosen = v1_messages([*prompt, answer], content.extra, "chosen_messages")
    for rejected in content.rejected:
        worse = v1_messages([*prompt, answer_message(rejected, [])], content.extra, "rejected_messages")
        yield _with_tools({"chosen_messages": chosen, "rejected_messages": worse}, example)
