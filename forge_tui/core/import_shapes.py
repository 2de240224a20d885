"""Records people bring, recognised by their fields and turned into examples.

Shapes: OpenAI chat (`messages`, with tools and tool_calls; content as text or as a list of parts),
OpenAI preference (`input` / `preferred_output` / `non_preferred_output`), ShareGPT
(`conversations` of from/value, with function_call / observation, `tools`, and `chosen` / `rejected`
for preference pairs), TRL preference (`prompt` / `chosen` / `rejected`, as text or messages),
Alpaca (`instruction` / `input` / `output`, with `system` and `history`; stanford_alpaca's seed
tasks with `instances`), `prompt` / `completion`, and `text`. Anything else can be mapped field by
field (`Mapping`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from forge_tui.core.bounded_text import clip, listing
from forge_tui.core.conversation import ConversationError, Message, from_conversation
from forge_tui.core.errors import InvalidInput
from forge_tui.core.json_input import JsonProblem, loads
from forge_tui.core.models import ExampleContent, ExampleMeta
from forge_tui.core.raw_records import from_raw_record, is_raw_record

Record = dict[str, Any]
Item = tuple[ExampleContent, ExampleMeta]
MAPPABLE = ("system_prompt", "user_prompt", "output", "rejected")


class ShapeError(InvalidInput):
    """A record that cannot become an example; the text says why."""


class UnknownShape(ShapeError):
    """A record of no shape this app knows; `fields` are its top-level field names, to map."""

    def __init__(self, message: str, fields: list[str]) -> None:
        super().__init__(message)
        self.fields = fields


def _text(value: Any, where: str) -> str:
    """Message content: text, or a list of parts ({"type": "text", "text"|"value": ...})."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = []
        for part in value:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and part.get("type", "text") == "text":
                parts.append(str(part.get("text", part.get("value", ""))))
            else:
                raise ShapeError(f"{where}: only text content can be imported, found {part!r:.60}")
        return "".join(parts)
    raise ShapeError(f"{where}: content must be text, found {type(value).__name__}")


def _arguments(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    if raw in (None, ""):
        return {}
    if isinstance(raw, str):
        try:
            value = loads(raw)
        except JsonProblem:
            raise ShapeError(f"tool-call arguments are not JSON: {raw[:60]}") from None
        if isinstance(value, dict):
            return value
    raise ShapeError(f"tool-call arguments are not a JSON object: {str(raw)[:60]}")


def _call(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ShapeError(f"a tool call must be an object, found {raw!r:.60}")
    function: dict[str, Any] = raw["function"] if isinstance(raw.get("function"), dict) else raw
    name = function.get("name")
    if not isinstance(name, str) or not name:
        raise ShapeError("a tool call has no name")
    call: dict[str, Any] = {"name": name, "arguments": _arguments(function.get("arguments"))}
    if raw.get("id"):
        call["id"] = str(raw["id"])
    return call


def _tools(raw: Any) -> list[dict[str, Any]]:
    """Tool definitions in OpenAI's shape, from a list or a JSON string of functions or tools."""
    if raw in (None, "", []):
        return []
    if isinstance(raw, str):
        try:
            raw = loads(raw)
        except JsonProblem:
            raise ShapeError("'tools' is not valid JSON") from None
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        raise ShapeError("'tools' must be a list")
    tools = []
    for tool in raw:
        if not isinstance(tool, dict):
            raise ShapeError("each tool must be an object")
        tools.append(tool if "function" in tool else {"type": "function", "function": tool})
    return tools


def _meta(shape: str, tools: list[dict[str, Any]], record: Record) -> ExampleMeta:
    params: dict[str, Any] = {"imported_as": shape}
    if tools:
        params["tools"] = tools
    model = record.get("model")
    return ExampleMeta(model=model if isinstance(model, str) else "", params=params)


def _content(
    messages: list[Message], rejected: list[str] | None = None, slots: dict[str, str] | None = None
) -> ExampleContent:
    try:
        return from_conversation(messages, rejected, slots)
    except ConversationError as exc:
        raise ShapeError(str(exc)) from None


# --- OpenAI ------------------------------------------------------------------------------
def _openai_message(raw: Any, number: int) -> Message:
    if not isinstance(raw, dict):
        raise ShapeError(f"message {number} is not an object")
    role = raw.get("role")
    if role == "function":  # the legacy name for a tool result
        role = "tool"
    if role == "developer":
        role = "system"
    if role not in ("system", "user", "assistant", "tool"):
        raise ShapeError(f"message {number} has an unknown role {clip(repr(role))}")
    message: Message = {"role": role, "content": _text(raw.get("content"), f"message {number}")}
    if role == "assistant" and raw.get("tool_calls"):
        message["tool_calls"] = [_call(c) for c in raw["tool_calls"]]
    if role == "assistant" and isinstance(raw.get("function_call"), dict):
        message["tool_calls"] = [_call(raw["function_call"])]
    if role == "tool":
        for key in ("tool_call_id", "name"):
            if raw.get(key):
                message[key] = str(raw[key])
    return message


def _messages(raw: Any, what: str) -> list[Message]:
    if not isinstance(raw, list):
        raise ShapeError(f"'{what}' must be a list of messages")
    return [_openai_message(m, i) for i, m in enumerate(raw, start=1)]


def _openai_chat(record: Record) -> list[Item]:
    tools = _tools(record.get("tools"))
    return [(_content(_messages(record["messages"], "messages")), _meta("openai-chat", tools, record))]


def _openai_preference(record: Record) -> list[Item]:
    given = record["input"]
    if not isinstance(given, dict):
        raise ShapeError("'input' must be an object with 'messages'")
    prompt = _messages(given.get("messages"), "input.messages")
    chosen = _messages(record["preferred_output"], "preferred_output")
    rejected = _messages(record["non_preferred_output"], "non_preferred_output")
    if not chosen or not rejected:
        raise ShapeError("preferred_output and non_preferred_output need an assistant message each")
    content = _content([*prompt, chosen[-1]], [rejected[-1]["content"]])
    return [(content, _meta("openai-preference", _tools(given.get("tools")), record))]


# --- ShareGPT ------------------------------------------------------------------------------
_SHAREGPT_ROLES = {
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


def _sharegpt_turns(raw: Any, what: str) -> list[Message]:
    if not isinstance(raw, list):
        raise ShapeError(f"'{what}' must be a list of turns")
    messages: list[Message] = []
    for number, turn in enumerate(raw, start=1):
        if not isinstance(turn, dict):
            raise ShapeError(f"turn {number} is not an object")
        speaker = turn.get("from", turn.get("role"))
        value = _text(turn.get("value", turn.get("content")), f"turn {number}")
        if speaker == "function_call":
            try:
                parsed = loads(value)
            except JsonProblem:
                raise ShapeError(f"turn {number}: function_call is not JSON") from None
            calls = [_call(c) for c in (parsed if isinstance(parsed, list) else [parsed])]
            if messages and messages[-1]["role"] == "assistant" and "tool_calls" not in messages[-1]:
                messages[-1]["tool_calls"] = calls  # text, then the call, in one assistant message
            else:
                messages.append({"role": "assistant", "content": "", "tool_calls": calls})
            continue
        role = _SHAREGPT_ROLES.get(str(speaker))
        if role is None:
            raise ShapeError(f"turn {number} is from {clip(repr(speaker))}, which is not a ShareGPT role")
        messages.append({"role": role, "content": value})
    return messages


def _sharegpt(record: Record) -> list[Item]:
    messages = _sharegpt_turns(record["conversations"], "conversations")
    system = record.get("system")
    if isinstance(system, str) and system:
        messages.insert(0, {"role": "system", "content": system})
    tools = _tools(record.get("tools"))
    chosen, rejected = record.get("chosen"), record.get("rejected")
    if chosen is not None or rejected is not None:
        (good,) = _sharegpt_turns([chosen], "chosen")
        (bad,) = _sharegpt_turns([rejected], "rejected")
        return [(_content([*messages, good], [bad["content"]]), _meta("sharegpt-preference", tools, record))]
    return [(_content(messages), _meta("sharegpt", tools, record))]


# --- prompt / completion, TRL --------------------------------------------------------------
def _side(value: Any, what: str, role: str) -> list[Message]:
    if isinstance(value, str):
        return [{"role": role, "content": value}]
    return _messages(value, what)


def _trl_preference(record: Record) -> list[Item]:
    chosen = _side(record["chosen"], "chosen", "assistant")
    rejected = _side(record["rejected"], "rejected", "assistant")
    if "prompt" in record:
        prompt = _side(record["prompt"], "prompt", "user")
    else:  # implicit prompt: both sides carry the whole conversation
        shared = 0
        while shared < min(len(chosen), len(rejected)) - 1 and chosen[shared] == rejected[shared]:
            shared += 1
        prompt, chosen, rejected = chosen[:shared], chosen[shared:], rejected[shared:]
    content = _content([*prompt, chosen[-1]], [rejected[-1]["content"]])
    return [(content, _meta("trl-preference", [], record))]


def _completion(record: Record) -> list[Item]:
    prompt = _side(record["prompt"], "prompt", "user")
    answer = _side(record["completion"], "completion", "assistant")
    return [(_content([*prompt, answer[-1]]), _meta("prompt-completion", [], record))]


def _text_only(record: Record) -> list[Item]:
    text = record["text"]
    if not isinstance(text, str):
        raise ShapeError("'text' must be text")
    return [(ExampleContent(output=text), _meta("text", [], record))]


# --- Alpaca ------------------------------------------------------------------------------------
def _alpaca_one(record: Record, instruction: str, given: str, output: str, shape: str) -> Item:
    prompt = f"{instruction}\n\n{given}" if given else instruction
    messages: list[Message] = []
    system = record.get("system")
    if isinstance(system, str) and system:
        messages.append({"role": "system", "content": system})
    history = record.get("history") or []
    if not isinstance(history, list):
        raise ShapeError("'history' must be a list of [instruction, answer] pairs")
    for number, pair in enumerate(history, start=1):
        if not (isinstance(pair, list) and len(pair) == 2):
            raise ShapeError(f"history item {number} is not an [instruction, answer] pair")
        messages += [{"role": "user", "content": str(pair[0])}, {"role": "assistant", "content": str(pair[1])}]
    messages += [{"role": "user", "content": prompt}, {"role": "assistant", "content": output}]
    content = _content(messages, slots={"instruction": instruction, "input": given})
    return content, _meta(shape, [], record)


def _alpaca(record: Record) -> list[Item]:
    instruction = _text(record["instruction"], "instruction")
    if "instances" in record:  # stanford_alpaca seed tasks: one example per instance
        instances = record["instances"]
        if not isinstance(instances, list) or not instances:
            raise ShapeError("'instances' must be a non-empty list of {input, output}")
        items = []
        for number, instance in enumerate(instances, start=1):
            if not isinstance(instance, dict) or "output" not in instance:
                raise ShapeError(f"instance {number} has no output")
            given = _text(instance.get("input"), f"instance {number}")
            output = _text(instance["output"], f"instance {number}")
            items.append(_alpaca_one(record, instruction, given, output, "alpaca-seed-task"))
        return items
    given = _text(record.get("input"), "input")
    return [_alpaca_one(record, instruction, given, _text(record["output"], "output"), "alpaca")]


# --- detection -------------------------------------------------------------------------------
SHAPES: list[tuple[str, Callable[[Record], bool], Callable[[Record], list[Item]]]] = [
    ("raw", is_raw_record, lambda r: [from_raw_record(r)]),  # this app's raw export: every field back
    ("openai-preference", lambda r: {"input", "preferred_output", "non_preferred_output"} <= r.keys(),
     _openai_preference),
    ("openai-chat", lambda r: "messages" in r, _openai_chat),
    ("sharegpt", lambda r: "conversations" in r, _sharegpt),
    ("trl-preference", lambda r: {"chosen", "rejected"} <= r.keys(), _trl_preference),
    ("alpaca", lambda r: "instruction" in r and ("output" in r or "instances" in r), _alpaca),
    ("prompt-completion", lambda r: {"prompt", "completion"} <= r.keys(), _completion),
    ("text", lambda r: "text" in r, _text_only),
]  # fmt: skip


def detect(record: Record) -> str | None:
    for name, matches, _ in SHAPES:
        if matches(record):
            return name
    return None


def unknown_shape_message(record: Record) -> str:
    fields = listing(sorted(record)) or "none"
    return (
        f"no known shape (fields found: {fields}); map them, e.g. "
        "--map user_prompt=FIELD,output=FIELD[,system_prompt=FIELD,rejected=FIELD]"
    )


class Mapping:
    """Example fields taken from named record fields, for shapes that are not recognised."""

    def __init__(self, fields: dict[str, str]) -> None:
        unknown = set(fields) - set(MAPPABLE)
        if unknown:
            raise ShapeError(f"cannot map {listing(sorted(unknown))}: the fields are {', '.join(MAPPABLE)}")
        if "output" not in fields:
            raise ShapeError("a mapping needs output=FIELD")
        self.fields = fields

    @classmethod
    def parse(cls, text: str) -> Mapping:
        """`user_prompt=question,output=answer` as given to --map."""
        pairs: dict[str, str] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, sep, source = part.partition("=")
            if not sep or not source.strip():
                raise ShapeError(f"--map takes FIELD=SOURCE pairs, not {clip(repr(part))}")
            pairs[name.strip()] = source.strip()
        return cls(pairs)

    def examples(self, record: Record) -> list[Item]:
        for source in self.fields.values():
            if source not in record:
                found = listing(sorted(record)) or "none"
                raise ShapeError(f"there is no field {clip(repr(source))} (fields found: {found})")
        values = {t: _text(record[s], s) for t, s in self.fields.items() if t != "rejected"}
        rejected: list[str] = []
        if "rejected" in self.fields:
            given = record[self.fields["rejected"]]
            rejected = [str(r) for r in given] if isinstance(given, list) else ([str(given)] if given else [])
        content = ExampleContent(
            system_prompt=values.get("system_prompt", ""),
            user_prompt=values.get("user_prompt", ""),
            output=values["output"],
            rejected=rejected,
        )
        return [(content, _meta("mapped", [], record))]


def examples_from(record: Any, mapping: Mapping | None = None) -> list[Item]:
    """The examples in one record; raises ShapeError with the reason it cannot be imported."""
    if not isinstance(record, dict):
        raise ShapeError(f"expected an object, found {type(record).__name__}")
    if mapping is not None:
        return mapping.examples(record)
    for _name, matches, convert in SHAPES:
        if matches(record):
            try:
                return convert(record)
            except ShapeError:
                raise
            except (KeyError, TypeError, ValueError) as exc:
                raise ShapeError(f"malformed record: {clip(str(exc), 200)}") from None
    raise UnknownShape(unknown_shape_message(record), sorted(record))
