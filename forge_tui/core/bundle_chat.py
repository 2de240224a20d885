"""The chat records of TRL, mlx-lm, Axolotl and Unsloth bundles: mlx-lm's `messages` (and `tools`) as
Hugging Face chat templates read them: each message with a `content` (empty beside tool calls:
templates and axolotl's message_property_mappings read it from every message), and tool-call
arguments as objects, which templates write out themselves (a JSON string would be encoded twice)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

from forge_tui.core.export_formats import FORMATS, ExportFormat, Record
from forge_tui.core.models import Example
from forge_tui.i18n import N_


def _call(call: dict[str, Any]) -> dict[str, Any]:
    function = dict(call.get("function") or {})
    arguments = function.get("arguments")
    if isinstance(arguments, str):
        with contextlib.suppress(ValueError):  # not JSON: kept as the text it is
            function["arguments"] = json.loads(arguments)
    return {**call, "function": function}


def _message(message: Record) -> Record:
    shaped = {"role": message["role"], "content": message.get("content", ""), **message}
    if message.get("tool_calls"):
        shaped["tool_calls"] = [_call(call) for call in message["tool_calls"]]
    return shaped


def _messages(example: Example) -> Iterator[Record]:
    for record in FORMATS["mlx-chat"].render(example):
        record["messages"] = [_message(m) for m in record["messages"]]
        yield record


CHAT = ExportFormat("bundle-chat", N_("Chat messages for a trainer bundle"), _messages, reasoning_field=True)
