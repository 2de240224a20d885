"""Asking a model for paraphrased variations of a prompt, and reading what it answers.

The request asks for structured output (an object with a "variations" array of strings: OpenAI's
json_schema mode wants an object at the top). Models and servers that ignore the schema still answer
in many shapes, so the parser accepts a JSON array, any object holding a list of strings, JSON inside
a ``` fence, or one variation a line (numbered, bulleted or quoted).
"""

from __future__ import annotations

import re
from typing import Any

from forge_tui.core.chat import ChatMessage
from forge_tui.core.structured_output import json_candidates

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
_LIST_MARK = re.compile(r"^\s*(?:\d+[.):]|[-*•]|\(\d+\))\s+")
_PREAMBLE = re.compile(r"^(?:here (?:are|is)|sure|certainly|okay|ok)\b.*:\s*$", re.IGNORECASE)

SYSTEM = (
    "You rewrite prompts. Given a prompt, write {n} paraphrases of it: each asks for exactly the same "
    "thing with the same facts, names and constraints, but in different words and sentence structure. "
    'Do not answer the prompt. Reply with JSON only: {{"variations": ["...", ...]}}.'
)


def schema(n: int) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "variations": {"type": "array", "items": {"type": "string"}, "minItems": n, "maxItems": n},
        },
        "required": ["variations"],
    }


def messages(prompt: str, n: int) -> list[ChatMessage]:
    return [
        ChatMessage(role="system", content=SYSTEM.format(n=n)),
        ChatMessage(role="user", content=f"Prompt:\n{prompt}"),
    ]


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _strings(value: Any) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        # [{"variation": "..."}, ...] or [{"text": "..."}]
        found = [next((x for x in v.values() if isinstance(x, str)), None) for v in value]
        return [f for f in found if f] or None
    if isinstance(value, dict):
        preferred = value.get("variations") or value.get("paraphrases")
        if preferred is not None:
            return _strings(preferred)
        for item in value.values():
            strings = _strings(item)
            if strings:
                return strings
    return None


def _from_json(text: str) -> list[str] | None:
    for value in json_candidates(text):
        strings = _strings(value)
        if strings is not None:
            return strings
    return None


def _from_lines(text: str) -> list[str]:
    found = []
    for line in text.splitlines():
        line = line.strip()
        if not line or _PREAMBLE.match(line):
            continue
        line = _LIST_MARK.sub("", line).strip().strip('"“”').strip()
        if line:
            found.append(line)
    return found


def parse_variations(text: str, original: str) -> list[str]:
    """Distinct variations from a model's answer, in order; the original itself and repeats (ignoring
    case and spacing) are dropped."""
    strings = _from_json(text)
    if strings is None:
        strings = _from_lines(_FENCE.sub("", text) if _FENCE.search(text) else text)
    seen = {_key(original)}
    variations = []
    for item in strings:
        cleaned = item.strip()
        key = _key(cleaned)
        if cleaned and key not in seen:
            seen.add(key)
            variations.append(cleaned)
    return variations
