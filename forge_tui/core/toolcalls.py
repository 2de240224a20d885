"""Tool calls that a model wrote as text instead of the server's structured field.

Small models often answer a tool-calling prompt with JSON in the content: a bare object
(`{"name": …, "arguments": …}`), a list of them, `{"tool_calls": […]}`, fenced in ```json, or
wrapped in `<tool_call>…</tool_call>` (Hermes/Qwen style). When tools were offered, such text
is turned into calls, but only for names that were offered.
"""

from __future__ import annotations

import json
import re
from typing import Any

from forge_tui.core.chat import ToolCall
from forge_tui.i18n import _

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
_TAGGED = re.compile(r"<tool_call>\s*(.*?)\s*</tool_call>", re.DOTALL)


def parse_arguments(raw: object) -> dict[str, Any]:
    """Arguments as an object, from an object or from a JSON string (OpenAI sends strings)."""
    if isinstance(raw, dict):
        return raw
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        value = json.loads(raw)
        if isinstance(value, dict):
            return value
    raise ValueError(_("tool-call arguments are not a JSON object: {value}").format(value=str(raw)[:80]))


def _as_call(item: object, offered: set[str]) -> ToolCall | None:
    if not isinstance(item, dict):
        return None
    if "function" in item and isinstance(item["function"], dict):
        item = item["function"]
    name = item.get("name")
    if not isinstance(name, str) or name not in offered:
        return None
    raw_args = item.get("arguments", item.get("parameters", {}))
    try:
        arguments = parse_arguments(raw_args)
    except (ValueError, json.JSONDecodeError):
        return None
    return ToolCall(name=name, arguments=arguments)


def _candidates(text: str) -> list[str]:
    stripped = text.strip()
    found = [m.group(1) for m in _TAGGED.finditer(stripped)]
    if found:
        return found
    fenced = _FENCE.findall(stripped)
    if fenced:
        return fenced
    return [stripped]


def tool_calls_from_text(text: str, offered: list[str]) -> list[ToolCall]:
    """The calls written in `text`, or [] when it is not (only) tool-call JSON."""
    names = set(offered)
    if not names or not text.strip():
        return []
    calls: list[ToolCall] = []
    for candidate in _candidates(text):
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError:
            return []
        if isinstance(value, dict) and isinstance(value.get("tool_calls"), list):
            value = value["tool_calls"]
        items = value if isinstance(value, list) else [value]
        for item in items:
            call = _as_call(item, names)
            if call is None:
                return []
            calls.append(call)
    return calls
