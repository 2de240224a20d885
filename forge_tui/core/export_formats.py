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
* trl-kto: TRL's conversational unpaired preference type (KTOTrainer), `{"prompt": [messages],
  "completion": [assistant], "label": bool}`; the label is the example's desirability.
* llamafactory-v1 / llamafactory-v1-dpo: LLaMA-Factory v1's `{"messages": [{"role", "content": [{"type":
  "text"|"reasoning"|"tool_call", "value": str}], "loss_weight"}], "tools"?: "<JSON string>"}`, and
  `{"chosen_messages", "rejected_messages"}` for pairs.
* llama2 / mistral: `{"text"}` in the Llama-2 and Mistral-Instruct `[INST]` templates.
* raw: every field of the example (core.raw_records).

Preference formats write one record per rejected answer and nothing for an example without one;
trl-kto writes nothing for an example without a desirability label.

Reasoning (the thinking before an answer) is written one of three ways, chosen per export, with a
default per format: `field` (the format's own place for it: `reasoning_content`, LLaMA-Factory's
reasoning parts, raw's `reasoning`), `think-tags` (`<think>…</think>` and a line break before the
answer's text, as Qwen3 and DeepSeek-R1 chat templates write it) or `drop`. Formats without a field
for it offer only the other two.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from forge_tui.core import llamafactory_v1
from forge_tui.core.conversation import Message, conversation, exchanges, prompt_messages
from forge_tui.core.errors import InvalidInput
from forge_tui.core.models import Example
from forge_tui.core.raw_records import raw_record
from forge_tui.i18n import N_, _

Record = dict[str, Any]
Render = Callable[[Example], Iterator[Record]]
REASONING_MODES = ("drop", "field", "think-tags")


@dataclass(frozen=True)
class ExportFormat:
    name: str
    description: str  # a message id (N_): shown translated with _()
    render: Render  # writes the reasoning in its field, if it has one; see records()
    preference: bool = False  # only examples with rejected answers are written
    source: str | None = None  # a custom format's Jinja2 body
    reasoning: str = "think-tags"  # the default way to write reasoning
    reasoning_field: bool = False  # the format has a place of its own for reasoning
    labelled: bool = False  # only examples with a desirability label are written

    @property
    def reasoning_modes(self) -> tuple[str, ...]:
        return REASONING_MODES if self.reasoning_field else ("drop", "think-tags")

    def reasoning_mode(self, chosen: str | None) -> str:
        """The chosen way to write reasoning (None: this format's default), checked."""
        if chosen is None:
            return self.reasoning
        if chosen not in REASONING_MODES:
            raise InvalidInput(
                _("Reasoning is written as drop, field or think-tags, not {mode}.").format(mode=repr(chosen[:40]))
            )
        if chosen not in self.reasoning_modes:
            raise InvalidInput(
                _("The {format} format has no field for reasoning: choose think-tags or drop.").format(format=self.name)
            )
        return chosen

    def records(self, example: Example, reasoning: str | None = None) -> Iterator[Record]:
        """The example's records, its reasoning written the chosen way (default: the format's)."""
        return self.render(with_reasoning(example, reasoning or self.reasoning))

    def keeps(self, example: Example) -> bool:
        """Whether the example gives this format anything to write."""
        if self.preference:
            return bool(example.content.rejected)
        if self.labelled:
            return example.meta.desirability is not None
        return True

    @property
    def needs(self) -> str:
        """What an example needs to be written, as the summary says it ("" when nothing): a message id
        (marked with N_), which a text shown to people translates with _()."""
        if self.preference:
            return N_("a rejected answer")
        if self.labelled:
            return N_("a desirability label")
        return ""


def think_tagged(reasoning: str, text: str) -> str:
    return f"<think>{reasoning}</think>\n{text}" if reasoning else text


def with_reasoning(example: Example, mode: str) -> Example:
    """The example with its reasoning (and that of earlier assistant turns) moved into the text as
    `<think>` blocks, or dropped; `field` leaves it where it is, for the format to write."""
    content = example.content
    if mode == "field" or not (content.reasoning or any("reasoning" in turn for turn in content.turns)):
        return example
    turns = []
    for turn in content.turns:
        turn = dict(turn)
        thinking = str(turn.pop("reasoning", "") or "")
        if mode == "think-tags" and turn.get("role") == "assistant":
            turn["content"] = think_tagged(thinking, str(turn.get("content") or ""))
        turns.append(turn)
    output = think_tagged(content.reasoning, content.output) if mode == "think-tags" else content.output
    changed = content.model_copy(update={"reasoning": "", "output": output, "turns": turns})
    return example.model_copy(update={"content": changed})


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
            _reasoning_content(record, message)
            record["tool_calls"] = calls
            out.append(record)
        elif role == "tool":
            call_id = message.get("tool_call_id") or (unanswered[0] if unanswered else "call_0")
            if call_id in unanswered:
                unanswered.remove(call_id)
            out.append({"role": "tool", "tool_call_id": call_id, "content": message.get("content", "")})
        else:
            out.append(_reasoning_content({"role": role, "content": message.get("content", "")}, message))
    return out


def _reasoning_content(record: Record, message: Message) -> Record:
    """An assistant message's reasoning as `reasoning_content`, the field vLLM and DeepSeek use."""
    if message.get("reasoning"):
        record["reasoning_content"] = message["reasoning"]
    return record


def _answer(example: Example, rejected: str | None = None) -> Record:
    """The answer (or a rejected one) as one assistant message: text and reasoning, no tool calls."""
    if rejected is not None:
        return {"role": "assistant", "content": rejected}
    message: Record = {"role": "assistant", "content": example.content.output}
    if example.content.reasoning:
        message["reasoning_content"] = example.content.reasoning
    return message


def _plain_messages(messages: list[Message]) -> list[Record]:
    """Role and content (and reasoning_content) only, as TRL's conversational types hold them."""
    return [_reasoning_content({"role": m["role"], "content": m.get("content", "")}, m) for m in messages]


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
            "preferred_output": [_answer(example)],
            "non_preferred_output": [_answer(example, rejected)],
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
    prompt = _plain_messages(prompt_messages(content))
    for rejected in content.rejected:
        yield {"prompt": prompt, "chosen": [_answer(example)], "rejected": [_answer(example, rejected)]}


def _trl_kto(example: Example) -> Iterator[Record]:
    label = example.meta.desirability
    if label is None:
        return
    prompt = _plain_messages(prompt_messages(example.content))
    yield {"prompt": prompt, "completion": [_answer(example)], "label": label}


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


def _raw(example: Example) -> Iterator[Record]:
    yield raw_record(example)


FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat(
            "openai-chat",
            N_("OpenAI chat fine-tuning: messages, tools, tool_calls, reasoning_content"),
            _openai_chat,
            reasoning="field",
            reasoning_field=True,
        ),
        ExportFormat(
            "openai-preference",
            N_("OpenAI preference (DPO): preferred and non-preferred output"),
            _openai_preference,
            preference=True,
            reasoning="field",
            reasoning_field=True,
        ),
        ExportFormat("mlx-chat", N_("mlx-lm chat: messages (and tools)"), _openai_chat, reasoning_field=True),
        ExportFormat("mlx-completions", N_("mlx-lm completions: prompt, completion"), _mlx_completions),
        ExportFormat("mlx-text", N_("mlx-lm text: one text field"), _mlx_text),
        ExportFormat("sharegpt", N_("ShareGPT: conversations with from/value, function_call, tools"), _sharegpt),
        ExportFormat("alpaca", N_("Alpaca: instruction, input, output (system, history)"), _alpaca, reasoning="drop"),
        ExportFormat(
            "trl-preference",
            N_("TRL preference: prompt, chosen, rejected (conversational)"),
            _trl_preference,
            preference=True,
            reasoning_field=True,
        ),
        ExportFormat(
            "trl-kto",
            N_("TRL KTO (unpaired preference): prompt, completion, label (conversational)"),
            _trl_kto,
            labelled=True,
            reasoning_field=True,
        ),
        ExportFormat(
            "llamafactory-v1",
            N_("LLaMA-Factory v1: messages of text, reasoning and tool_call parts, loss_weight, tools"),
            llamafactory_v1.render_sft,
            reasoning="field",
            reasoning_field=True,
        ),
        ExportFormat(
            "llamafactory-v1-dpo",
            N_("LLaMA-Factory v1 pairs: chosen_messages, rejected_messages"),
            llamafactory_v1.render_dpo,
            preference=True,
            reasoning="field",
            reasoning_field=True,
        ),
        ExportFormat("llama2", N_("Llama-2 chat text: <s>[INST] <<SYS>> … [/INST] … </s>"), _llama2),
        ExportFormat("mistral", N_("Mistral instruct text: <s>[INST] … [/INST]…</s>"), _mistral),
        ExportFormat(
            "raw",
            N_("Every field of the example, extra fields at the top level: imports back as it was"),
            _raw,
            reasoning="field",
            reasoning_field=True,
        ),
    )
}
