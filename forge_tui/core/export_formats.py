"""Built-in export formats: each turns one example into the records a trainer reads.

Shapes follow the published specs:
* openai-chat: OpenAI chat fine-tuning, `{"messages": [...], "tools": [...]}`; tool calls as
  `{"id", "type": "function", "function": {"name", "arguments": "<JSON string>"}}`, tool results as
  `{"role": "tool", "tool_call_id", "content"}`.
* openai-preference: OpenAI preference (DPO) fine-tuning, `{"input": {"messages", "tools"?},
  "preferred_output": [assistant], "non_preferred_output": [assistant]}`.
* mlx-chat / mlx-completions / mlx-text: mlx-lm's `{"messages"}` (with `"tools"`), `{"prompt",
  "completion"}` and `{"text"}`.
* sharegpt: LLaMA-Factory's ShareGPT, `{"conversations": [{"from": "human"|"gpt"|"function_call"|
  "observation", "value"}], "system"?, "tools"?: "<JSON string>"}`.
* alpaca: `{"instruction", "input", "output"}` with `"system"` and `"history": [[user, answer], ...]`
  when the example has them (LLaMA-Factory's Alpaca).
* trl-preference: TRL's conversational preference type, `{"prompt": [messages], "chosen": [assistant],
  "rejected": [assistant]}`.
* llama2 / mistral: `{"text"}` in the Llama-2 and Mistral-Instruct `[INST]` templates.
* raw: every field of the example.

Preference formats write one record per rejected answer and nothing for an example without one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from forge_tui.core.conversation import Message, conversation, exchanges, prompt_messages
from forge_tui.core.models import Example

Record = dict[str, Any]
Render = Callable[[Example], Iterator[Record]]


@dataclass(frozen=True)
class ExportFormat:
    name: str
    description: str
    render: Render
    preference: bool = False  # only examples with rejected answers are written
    source: str | None = None  # a custom format's Jinja2 body


def _tools(example: Example) -> list[dict[str, Any]]:
    tools = example.meta.params.get("tools")
    return list(tools) if isinstance(tools, list) else []


def openai_messages(messages: list[Message]) -> list[Record]:
    """Neutral messages in OpenAI's shape: call ids made where missing and tool results linked
    to the call they answer."""
    out: list[Record] = []
    unanswered: list[str] = []
    count = 0
    for message in messages:
        role = message["role"]
        if role == "assistant" and message.get("tool_calls"):
            calls = []
            for call in message["tool_calls"]:
                count += 1
                call_id = str(call.get("id") or f"call_{count}")
                unanswered.append(call_id)
                arguments = call.get("arguments", {})
                calls.append(
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {
                            "name": call["name"],
                            "arguments": arguments
                            if isinstance(arguments, str)
                            else json.dumps(arguments, ensure_ascii=False),
                        },
                    }
                )
            record: Record = {"role": "assistant"}
            if message.get("content"):
                record["content"] = message["content"]
            record["tool_calls"] = calls
            out.append(record)
        elif role == "tool":
            call_id = message.get("tool_call_id") or (unanswered[0] if unanswered else "call_0")
            if call_id in unanswered:
                unanswered.remove(call_id)
            out.append({"role": "tool", "tool_call_id": call_id, "content": message.get("content", "")})
        else:
            out.append({"role": role, "content": message.get("content", "")})
    return out


def _openai_chat(example: Example) -> Iterator[Record]:
    record: Record = {"messages": openai_messages(conversation(example.content))}
    tools = _tools(example)
    if tools:
        record["tools"] = tools
    yield record


def _openai_preference(example: Example) -> Iterator[Record]:
    content = example.content
    prompt: Record = {"messages": openai_messages(prompt_messages(content))}
    tools = _tools(example)
    if tools:
        prompt["tools"] = tools
    for rejected in content.rejected:
        yield {
            "input": prompt,
            "preferred_output": [{"role": "assistant", "content": content.output}],
            "non_preferred_output": [{"role": "assistant", "content": rejected}],
        }


def _mlx_completions(example: Example) -> Iterator[Record]:
    yield {"prompt": example.content.user_prompt, "completion": example.content.output}


def _mlx_text(example: Example) -> Iterator[Record]:
    content = example.content
    parts = [content.user_prompt, content.output] if content.user_prompt else [content.output]
    yield {"text": "\n\n".join(parts)}


def _function_call_value(calls: list[dict[str, Any]]) -> str:
    items = [{"name": c["name"], "arguments": c.get("arguments", {})} for c in calls]
    return json.dumps(items[0] if len(items) == 1 else items, ensure_ascii=False)


def _sharegpt(example: Example) -> Iterator[Record]:
    turns: list[Record] = []
    system = ""
    for message in conversation(example.content):
        role = message["role"]
        if role == "system":
            system = message["content"]
        elif role == "user":
            turns.append({"from": "human", "value": message["content"]})
        elif role == "tool":
            turns.append({"from": "observation", "value": message.get("content", "")})
        else:
            if message.get("content") or not message.get("tool_calls"):
                turns.append({"from": "gpt", "value": message.get("content", "")})
            if message.get("tool_calls"):
                turns.append({"from": "function_call", "value": _function_call_value(message["tool_calls"])})
    record: Record = {"conversations": turns}
    if system:
        record["system"] = system
    tools = _tools(example)
    if tools:
        functions = [t.get("function", t) for t in tools]
        record["tools"] = json.dumps(functions, ensure_ascii=False)
    yield record


def _alpaca(example: Example) -> Iterator[Record]:
    content = example.content
    slots = content.slots
    if "instruction" in slots:
        instruction, given = slots["instruction"], slots.get("input", "")
    else:
        instruction, given = content.user_prompt, ""
    record: Record = {"instruction": instruction, "input": given, "output": content.output}
    if content.system_prompt:
        record["system"] = content.system_prompt
    pairs = exchanges(content)
    if len(pairs) > 1:
        record["history"] = [list(pair) for pair in pairs[:-1]]
    yield record


def _trl_preference(example: Example) -> Iterator[Record]:
    content = example.content
    prompt = [{"role": m["role"], "content": m.get("content", "")} for m in prompt_messages(content)]
    for rejected in content.rejected:
        yield {
            "prompt": prompt,
            "chosen": [{"role": "assistant", "content": content.output}],
            "rejected": [{"role": "assistant", "content": rejected}],
        }


def _llama2(example: Example) -> Iterator[Record]:
    system = example.content.system_prompt
    text = []
    for number, (user, answer) in enumerate(exchanges(example.content)):
        if number == 0 and system:
            user = f"<<SYS>>\n{system}\n<</SYS>>\n\n{user}"
        text.append(f"<s>[INST] {user} [/INST] {answer} </s>")
    yield {"text": "".join(text)}


def _mistral(example: Example) -> Iterator[Record]:
    system = example.content.system_prompt
    text = ["<s>"]
    for number, (user, answer) in enumerate(exchanges(example.content)):
        if number == 0 and system:
            user = f"{system}\n\n{user}"
        text.append(f"[INST] {user} [/INST]{answer}</s>")
    yield {"text": "".join(text)}


def raw_record(example: Example) -> Record:
    content, meta = example.content, example.meta
    return {
        "id": example.id,
        "system_prompt": content.system_prompt,
        "user_prompt": content.user_prompt,
        "slots": content.slots,
        "output": content.output,
        "tool_calls": content.tool_calls,
        "rejected": content.rejected,
        "turns": content.turns,
        "model": meta.model,
        "params": meta.params,
        "prompt_tokens": meta.prompt_tokens,
        "completion_tokens": meta.completion_tokens,
        "created_at": example.created_at.isoformat(),
    }


def _raw(example: Example) -> Iterator[Record]:
    yield raw_record(example)


FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("openai-chat", "OpenAI chat fine-tuning: messages, tools, tool_calls", _openai_chat),
        ExportFormat(
            "openai-preference",
            "OpenAI preference (DPO): preferred and non-preferred output",
            _openai_preference,
            preference=True,
        ),
        ExportFormat("mlx-chat", "mlx-lm chat: messages (and tools)", _openai_chat),
        ExportFormat("mlx-completions", "mlx-lm completions: prompt, completion", _mlx_completions),
        ExportFormat("mlx-text", "mlx-lm text: one text field", _mlx_text),
        ExportFormat("sharegpt", "ShareGPT: conversations with from/value, function_call, tools", _sharegpt),
        ExportFormat("alpaca", "Alpaca: instruction, input, output (system, history)", _alpaca),
        ExportFormat(
            "trl-preference",
            "TRL preference: prompt, chosen, rejected (conversational)",
            _trl_preference,
            preference=True,
        ),
        ExportFormat("llama2", "Llama-2 chat text: <s>[INST] <<SYS>> … [/INST] … </s>", _llama2),
        ExportFormat("mistral", "Mistral instruct text: <s>[INST] … [/INST]…</s>", _mistral),
        ExportFormat("raw", "Every field of the example, as stored", _raw),
    )
}
