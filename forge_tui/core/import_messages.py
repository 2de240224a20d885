"""Messages of imported records as neutral chat messages (core.conversation).

OpenAI's role/content, where content is text or a list of parts: OpenAI's `{"type": "text", "text"}`
and LLaMA-Factory v1's `{"type": "text" | "reasoning" | "tool_call", "value"}`. ShareGPT's
from/value turns. An assistant message's reasoning comes from `reasoning_content` (vLLM, DeepSeek;
also `reasoning` or `thinking`), from reasoning parts, or from a `<think>…</think>` block at the
start of its text, and is kept under the message's "reasoning" key. Whatever a message holds that
has no place in a neutral message (a `loss_weight`, an image part, a `name` on a user message) is
handed to `keep` with its path (core.kept_aside).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from forge_tui.core.bounded_text import clip
from forge_tui.core.conversation import Message
from forge_tui.core.errors import InvalidInput
from forge_tui.core.json_input import JsonProblem, loads
from forge_tui.core.thinking import leading_thinking
from forge_tui.i18n import _

Keep = Callable[[str, Any], None]  # (path, value): kept aside
# "function" is the legacy name of a tool result, "developer" OpenAI's newer name of the system message.
_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant", "tool": "tool",
          "function": "tool"}  # fmt: skip
_REASONING_FIELDS = ("reasoning_content", "reasoning", "thinking")
_TEXT_KEYS = ("text", "value")
_REASONING_KEYS = ("value", "text", "reasoning", "thinking")


class ShapeError(InvalidInput):
    """A record that cannot become an example; the text says why."""


def text_of(value: Any, where: str) -> str:
    """A plain field: text, or a list of text parts."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        texts = []
        for part in value:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict) and part.get("type", "text") == "text":
                texts.append(str(part.get("text", part.get("value", ""))))
            else:
                raise ShapeError(
                    _("{where}: only text content can be imported, found {part}").format(
                        where=where, part=f"{part!r:.60}"
                    )
                )
        return "".join(texts)
    raise ShapeError(_("{where}: content must be text, found {type}").format(where=where, type=type(value).__name__))


def assistant_text(text: str) -> Message:
    """An answer given as text, its leading <think> block split off as its reasoning."""
    answer, thinking = leading_thinking(text)
    message: Message = {"role": "assistant", "content": answer}
    if thinking:
        message["reasoning"] = thinking
    return message


def _arguments(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    if raw in (None, ""):
        return {}
    if isinstance(raw, str):
        try:
            value = loads(raw)
        except JsonProblem:
            raise ShapeError(_("tool-call arguments are not JSON: {value}").format(value=raw[:60])) from None
        if isinstance(value, dict):
            return value
    raise ShapeError(_("tool-call arguments are not a JSON object: {value}").format(value=str(raw)[:60]))


def tool_call(raw: Any) -> dict[str, Any]:
    """A call as OpenAI writes it (`function` holding name and arguments) or bare (name, arguments)."""
    if isinstance(raw, str):  # LLaMA-Factory's tool_call parts hold JSON text
        try:
            raw = loads(raw)
        except JsonProblem:
            raise ShapeError(_("a tool call is not JSON: {value}").format(value=clip(raw))) from None
    if not isinstance(raw, dict):
        raise ShapeError(_("a tool call must be an object, found {value}").format(value=f"{raw!r:.60}"))
    function: dict[str, Any] = raw["function"] if isinstance(raw.get("function"), dict) else raw
    name = function.get("name")
    if not isinstance(name, str) or not name:
        raise ShapeError(_("a tool call has no name"))
    call: dict[str, Any] = {"name": name, "arguments": _arguments(function.get("arguments"))}
    if raw.get("id"):
        call["id"] = str(raw["id"])
    return call


def tools(raw: Any) -> list[dict[str, Any]]:
    """Tool definitions in OpenAI's shape, from a list or a JSON string of functions or tools."""
    if raw in (None, "", []):
        return []
    if isinstance(raw, str):
        try:
            raw = loads(raw)
        except JsonProblem:
            raise ShapeError(_("'tools' is not valid JSON")) from None
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        raise ShapeError(_("'tools' must be a list"))
    found = []
    for tool in raw:
        if not isinstance(tool, dict):
            raise ShapeError(_("each tool must be an object"))
        found.append(tool if "function" in tool else {"type": "function", "function": tool})
    return found


def _body(part: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    """The key that holds a part's text, when it holds text."""
    return next((k for k in keys if isinstance(part.get(k), str)), None)


def _parts(value: Any, role: str, where: str, path: str, keep: Keep) -> tuple[str, str, list[dict[str, Any]]]:
    """(text, reasoning, tool calls) of a message's content; a part of another kind (an image, a
    reasoning or tool_call part outside an answer) is kept aside whole."""
    if value is None:
        return "", "", []
    if isinstance(value, str):
        return value, "", []
    if not isinstance(value, list):
        raise ShapeError(
            _("{where}: content must be text or a list of parts, found {type}").format(
                where=where, type=type(value).__name__
            )
        )
    texts: list[str] = []
    thoughts: list[str] = []
    calls: list[dict[str, Any]] = []
    for index, part in enumerate(value):
        here = f"{path}.content[{index}]"
        if isinstance(part, str):
            texts.append(part)
            continue
        if not isinstance(part, dict):
            keep(here, part)
            continue
        kind = part.get("type", "text")
        answer = role == "assistant"
        key: str | None = None
        if kind == "text" and (key := _body(part, _TEXT_KEYS)):
            texts.append(part[key])
        elif answer and kind in ("reasoning", "thinking") and (key := _body(part, _REASONING_KEYS)):
            thoughts.append(part[key])
        elif answer and kind == "tool_call" and "value" in part:
            key = "value"
            calls.append(tool_call(part[key]))
        else:
            keep(here, part)  # an image, audio, or a part of a kind this app has no place for
            continue
        for name, rest in part.items():
            if name not in ("type", key):
                keep(f"{here}.{name}", rest)
    return "".join(texts), "".join(thoughts), calls


def openai_message(raw: Any, number: int, path: str, keep: Keep) -> Message:
    """Message `number` (from 1, for messages) of a list, found at `path` (for what is kept aside)."""
    if not isinstance(raw, dict):
        raise ShapeError(_("message {number} is not an object").format(number=number))
    given = raw.get("role")
    role = _ROLES.get(given) if isinstance(given, str) else None
    if role is None:
        raise ShapeError(_("message {number} has an unknown role {role}").format(number=number, role=clip(repr(given))))
    used = {"role", "content"}
    text, thinking, calls = _parts(raw.get("content"), role, _("message {number}").format(number=number), path, keep)
    message: Message = {"role": role, "content": text}
    if role == "assistant":
        if "tool_calls" in raw:
            listed = raw["tool_calls"]
            if listed is not None and not isinstance(listed, list):
                raise ShapeError(_("message {number}: 'tool_calls' must be a list").format(number=number))
            used.add("tool_calls")
            calls += [tool_call(c) for c in listed or []]
        if isinstance(raw.get("function_call"), dict):
            used.add("function_call")
            calls.append(tool_call(raw["function_call"]))
        field = next((k for k in _REASONING_FIELDS if isinstance(raw.get(k), str)), None)
        if field is not None:
            used.add(field)
            thinking = "\n\n".join(t for t in (raw[field], thinking) if t)
        if not thinking:
            message["content"], thinking = leading_thinking(text)
        if calls:
            message["tool_calls"] = calls
        if thinking:
            message["reasoning"] = thinking
    if role == "tool":
        for key in ("tool_call_id", "name"):
            if key in raw and (raw[key] is None or isinstance(raw[key], (str, int))):
                used.add(key)
                if raw[key] not in (None, ""):
                    message[key] = str(raw[key])
    for key, value in raw.items():
        if key not in used:
            keep(f"{path}.{key}", value)
    return message


def openai_messages(raw: Any, what: str, keep: Keep) -> list[Message]:
    if not isinstance(raw, list):
        raise ShapeError(_("'{field}' must be a list of messages").format(field=what))
    return [openai_message(m, i + 1, f"{what}[{i}]", keep) for i, m in enumerate(raw)]


SHAREGPT_ROLES = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "model": "assistant",
    "system": "system",
    "observation": "tool",
    "tool": "tool",
    "function_response": "tool",
}


def sharegpt_turns(raw: list[Any], paths: list[str], keep: Keep) -> list[Message]:
    """ShareGPT turns (from/value, or role/content), each found at its path; a function_call turn
    joins the answer before it."""
    messages: list[Message] = []
    for number, (turn, path) in enumerate(zip(raw, paths, strict=True), start=1):
        if not isinstance(turn, dict):
            raise ShapeError(_("turn {number} is not an object").format(number=number))
        speaker_key = "from" if "from" in turn else "role"
        value_key = "value" if "value" in turn else "content"
        speaker = turn.get(speaker_key)
        for key, rest in turn.items():
            if key not in (speaker_key, value_key):
                keep(f"{path}.{key}", rest)
        if speaker == "function_call":
            value = text_of(turn.get(value_key), _("turn {number}").format(number=number))
            try:
                parsed = loads(value)
            except JsonProblem:
                raise ShapeError(_("turn {number}: function_call is not JSON").format(number=number)) from None
            calls = [tool_call(c) for c in (parsed if isinstance(parsed, list) else [parsed])]
            if messages and messages[-1]["role"] == "assistant" and "tool_calls" not in messages[-1]:
                messages[-1]["tool_calls"] = calls  # text, then the call, in one assistant message
            else:
                messages.append({"role": "assistant", "content": "", "tool_calls": calls})
            continue
        role = SHAREGPT_ROLES.get(str(speaker))
        if role is None:
            raise ShapeError(
                _("turn {number} is from {speaker}, which is not a ShareGPT role").format(
                    number=number, speaker=clip(repr(speaker))
                )
            )
        text, thinking, calls = _parts(turn.get(value_key), role, _("turn {number}").format(number=number), path, keep)
        message: Message = {"role": role, "content": text}
        if role == "assistant" and not thinking:
            message = assistant_text(text)
        elif thinking:
            message["reasoning"] = thinking
        if calls:
            message["tool_calls"] = calls
        messages.append(message)
    return messages


def rejected_text(message: Message, path: str, keep: Keep) -> str:
    """A rejected answer as the text a preference pair keeps: its reasoning goes before it in
    <think> tags, its tool calls are kept aside."""
    text = str(message.get("content") or "")
    if message.get("tool_calls"):
        keep(f"{path}.tool_calls", message["tool_calls"])
    if message.get("reasoning"):
        return f"<think>\n{message['reasoning']}\n</think>\n\n{text}"
    return text
