"""An example as a conversation of neutral chat messages, and back.

Neutral messages are what every export format starts from and every import shape ends in:
`{"role": "system"|"user"|"assistant"|"tool", "content": str}`, an assistant message may carry
`"tool_calls": [{"name": str, "arguments": {...}, "id"?: str}]` (arguments as an object) and
`"reasoning": str` (the thinking before it; absent when there is none), and a tool message may carry
`"name"` and `"tool_call_id"`.
"""

from __future__ import annotations

from typing import Any

from forge_tui.core.models import ExampleContent
from forge_tui.i18n import _

Message = dict[str, Any]
ROLES = ("system", "user", "assistant", "tool")


class ConversationError(ValueError):
    """A conversation that cannot be one example; the text says why."""


def answer_message(text: str, calls: list[dict[str, Any]], reasoning: str = "") -> Message:
    message: Message = {"role": "assistant", "content": text}
    if calls:
        message["tool_calls"] = [dict(call) for call in calls]
    if reasoning:
        message["reasoning"] = reasoning
    return message


def prompt_messages(content: ExampleContent) -> list[Message]:
    """Everything before the answer: the system prompt, then the turns or the user prompt."""
    messages: list[Message] = []
    if content.system_prompt:
        messages.append({"role": "system", "content": content.system_prompt})
    if content.turns:
        messages += [dict(turn) for turn in content.turns]
    else:
        messages.append({"role": "user", "content": content.user_prompt})
    return messages


def conversation(content: ExampleContent) -> list[Message]:
    """The whole example as messages."""
    return [*prompt_messages(content), answer_message(content.output, content.tool_calls, content.reasoning)]


def exchanges(content: ExampleContent) -> list[tuple[str, str]]:
    """(user, assistant) text pairs in order, for the [INST] text formats; tool messages are left out."""
    pairs: list[tuple[str, str]] = []
    user: str | None = None
    for message in conversation(content):
        role = message["role"]
        if role == "user":
            if user is not None:
                pairs.append((user, ""))
            user = message["content"]
        elif role == "assistant" and message["content"]:
            pairs.append((user or "", message["content"]))
            user = None
    if user is not None:
        pairs.append((user, ""))
    return pairs


def from_conversation(
    messages: list[Message],
    rejected: list[str] | None = None,
    slots: dict[str, str] | None = None,
) -> ExampleContent:
    """One example from a conversation that ends with the answer (an assistant message)."""
    if not messages:
        raise ConversationError(_("the conversation is empty"))
    for message in messages:
        if message.get("role") not in ROLES:
            raise ConversationError(_("unknown role {role}").format(role=repr(message.get("role"))))
    system_parts: list[str] = []
    rest = list(messages)
    while rest and rest[0]["role"] == "system":
        system_parts.append(str(rest.pop(0).get("content") or ""))
    if any(m["role"] == "system" for m in rest):
        raise ConversationError(_("a system message in the middle of the conversation"))
    if not rest or rest[-1]["role"] != "assistant":
        raise ConversationError(_("the conversation does not end with an answer (an assistant message)"))
    final = rest.pop()
    users = [m for m in rest if m["role"] == "user"]
    if not users:
        raise ConversationError(_("there is no user message"))
    single = len(rest) == 1
    return ExampleContent(
        system_prompt="\n\n".join(p for p in system_parts if p),
        user_prompt=str(users[-1].get("content") or ""),
        slots=slots or {},
        output=str(final.get("content") or ""),
        reasoning=str(final.get("reasoning") or ""),
        tool_calls=[dict(c) for c in final.get("tool_calls") or []],
        rejected=list(rejected or []),
        turns=[] if single else [dict(m) for m in rest],
    )
