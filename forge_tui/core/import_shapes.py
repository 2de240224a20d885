"""Records people bring, recognised by their fields and turned into examples.

Shapes: this app's `raw` export; OpenAI chat (`messages`, with tools and tool_calls; content as text
or as a list of parts, `reasoning_content`); LLaMA-Factory v1 (`messages` whose content is a list of
`{"type": "text" | "reasoning" | "tool_call", "value"}` parts, `loss_weight` per message, `tools`,
and `chosen_messages` / `rejected_messages` pairs); OpenAI preference (`input` / `preferred_output`
/ `non_preferred_output`); ShareGPT (`conversations` of from/value, with function_call /
observation, `tools`, and `chosen` / `rejected` for preference pairs); TRL preference (`prompt` /
`chosen` / `rejected`, as text or messages); Alpaca (`instruction` / `input` / `output`, with
`system` and `history`, or `chosen` / `rejected`; stanford_alpaca's seed tasks with `instances`);
`prompt` / `completion`; and `text`. Anything else can be mapped field by field (`Mapping`).

A `label` or `kto_tag` that is true or false (TRL's unpaired preference, LLaMA-Factory's KTO sets)
is the example's desirability. Every field a shape does not map is kept aside in the example's
`extra` (core.kept_aside): nothing the record held is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from forge_tui.core.bounded_text import clip, listing
from forge_tui.core.conversation import ConversationError, Message, from_conversation
from forge_tui.core.import_messages import ShapeError as ShapeError  # re-exported: callers catch it here
from forge_tui.core.import_messages import (
    assistant_text,
    openai_messages,
    rejected_text,
    sharegpt_turns,
    text_of,
    tools,
)
from forge_tui.core.import_raw import is_raw, raw_example
from forge_tui.core.kept_aside import Fields, desirability
from forge_tui.core.models import ExampleContent, ExampleMeta
from forge_tui.i18n import _

Record = dict[str, Any]
Item = tuple[ExampleContent, ExampleMeta]
MAPPABLE = ("system_prompt", "user_prompt", "output", "rejected")
LABELS = ("kto_tag", "label")


class UnknownShape(ShapeError):
    """A record of no shape this app knows; `fields` are its top-level field names, to map."""

    def __init__(self, message: str, fields: list[str]) -> None:
        super().__init__(message)
        self.fields = fields


def _meta(shape: str, found_tools: list[dict[str, Any]], fields: Fields) -> ExampleMeta:
    params: dict[str, Any] = {"imported_as": shape}
    if found_tools:
        params["tools"] = found_tools
    model = fields.peek("model")
    if not isinstance(model, str):
        return ExampleMeta(params=params)
    return ExampleMeta(model=fields.take("model"), params=params)


def _content(
    messages: list[Message], rejected: list[str] | None = None, slots: dict[str, str] | None = None
) -> ExampleContent:
    """The example of a conversation that ends with its answer; the answer's reasoning is the example's."""
    try:
        content = from_conversation(messages, rejected, slots)
    except ConversationError as exc:
        raise ShapeError(str(exc)) from None
    reasoning = messages[-1].get("reasoning")
    return content.model_copy(update={"reasoning": reasoning}) if reasoning else content


def _pair(
    fields: Fields, prompt: list[Message], chosen: list[Message], rejected: list[Message], path: str, offset: int = 0
) -> ExampleContent:
    """A preference pair: the prompt and the chosen messages make the example; the last rejected
    message is the rejected answer, and rejected messages before it (index from `offset` in the
    list at `path`) are kept aside."""
    if not chosen or not rejected:
        raise ShapeError(_("a preference pair needs a chosen and a rejected answer"))
    for index, message in enumerate(rejected[:-1], start=offset):
        fields.keep(f"{path}[{index}]", message)
    last = f"{path}[{offset + len(rejected) - 1}]"
    return _content([*prompt, *chosen], [rejected_text(rejected[-1], last, fields.keep)])


def _implicit(fields: Fields, chosen: list[Message], rejected: list[Message], path: str) -> ExampleContent:
    """Both sides carry the whole conversation: what they share is the prompt."""
    shared = 0
    while shared < min(len(chosen), len(rejected)) - 1 and chosen[shared] == rejected[shared]:
        shared += 1
    return _pair(fields, chosen[:shared], chosen[shared:], rejected[shared:], path, shared)


# --- OpenAI and LLaMA-Factory v1 --------------------------------------------------------------
def _chat(shape: str) -> Callable[[Fields], list[Item]]:
    def convert(fields: Fields) -> list[Item]:
        found = tools(fields.take("tools"))
        messages = openai_messages(fields.take("messages"), "messages", fields.keep)
        return [(_content(messages), _meta(shape, found, fields))]

    return convert


def _llamafactory_v1_pair(fields: Fields) -> list[Item]:
    found = tools(fields.take("tools"))
    chosen = openai_messages(fields.take("chosen_messages"), "chosen_messages", fields.keep)
    rejected = openai_messages(fields.take("rejected_messages"), "rejected_messages", fields.keep)
    content = _implicit(fields, chosen, rejected, "rejected_messages")
    return [(content, _meta("llamafactory-v1-preference", found, fields))]


def _openai_preference(fields: Fields) -> list[Item]:
    given = fields.take("input")
    if not isinstance(given, dict):
        raise ShapeError(_("'input' must be an object with 'messages'"))
    for key, value in given.items():
        if key not in ("messages", "tools"):
            fields.keep(f"input.{key}", value)
    prompt = openai_messages(given.get("messages"), "input.messages", fields.keep)
    chosen = openai_messages(fields.take("preferred_output"), "preferred_output", fields.keep)
    rejected = openai_messages(fields.take("non_preferred_output"), "non_preferred_output", fields.keep)
    content = _pair(fields, prompt, chosen, rejected, "non_preferred_output")
    return [(content, _meta("openai-preference", tools(given.get("tools")), fields))]


def _is_v1(messages: Any) -> bool:
    """LLaMA-Factory v1 writes every content as a list of parts with `value`."""
    return isinstance(messages, list) and any(
        isinstance(m, dict)
        and isinstance(m.get("content"), list)
        and any(isinstance(p, dict) and "value" in p for p in m["content"])
        for m in messages
    )


# --- ShareGPT ------------------------------------------------------------------------------
def _sharegpt(fields: Fields) -> list[Item]:
    conversation = fields.take("conversations")
    if not isinstance(conversation, list):
        raise ShapeError(_("'conversations' must be a list of turns"))
    paths = [f"conversations[{i}]" for i in range(len(conversation))]
    messages = sharegpt_turns(conversation, paths, fields.keep)
    system = fields.peek("system")
    if isinstance(system, str):
        fields.take("system")
        if system:
            messages.insert(0, {"role": "system", "content": system})
    found = tools(fields.take("tools"))
    if "chosen" in fields or "rejected" in fields:
        (good,) = sharegpt_turns([fields.take("chosen")], ["chosen"], fields.keep)
        (bad,) = sharegpt_turns([fields.take("rejected")], ["rejected"], fields.keep)
        content = _pair(fields, messages, [good], [bad], "rejected")
        return [(content, _meta("sharegpt-preference", found, fields))]
    return [(_content(messages), _meta("sharegpt", found, fields))]


# --- prompt / completion, TRL --------------------------------------------------------------
def _side(fields: Fields, name: str, role: str) -> list[Message]:
    value = fields.take(name)
    if isinstance(value, str):
        return [assistant_text(value) if role == "assistant" else {"role": role, "content": value}]
    return openai_messages(value, name, fields.keep)


def _trl_preference(fields: Fields) -> list[Item]:
    found = tools(fields.take("tools"))
    chosen = _side(fields, "chosen", "assistant")
    rejected = _side(fields, "rejected", "assistant")
    if "prompt" in fields:
        content = _pair(fields, _side(fields, "prompt", "user"), chosen, rejected, "rejected")
    else:
        content = _implicit(fields, chosen, rejected, "rejected")
    return [(content, _meta("trl-preference", found, fields))]


def _completion(fields: Fields) -> list[Item]:
    found = tools(fields.take("tools"))
    prompt = _side(fields, "prompt", "user")
    answer = _side(fields, "completion", "assistant")
    return [(_content([*prompt, *answer]), _meta("prompt-completion", found, fields))]


def _text_only(fields: Fields) -> list[Item]:
    text = fields.take("text")
    if not isinstance(text, str):
        raise ShapeError(_("'text' must be text"))
    return [(ExampleContent(output=text), _meta("text", [], fields))]


def _raw(fields: Fields) -> list[Item]:
    return [raw_example(fields)]


# --- Alpaca ------------------------------------------------------------------------------------
def _alpaca_prompt(fields: Fields, instruction: str, given: str) -> list[Message]:
    """The system prompt, the history and the instruction: every message before the answer."""
    messages: list[Message] = []
    system = fields.peek("system")
    if isinstance(system, str):
        fields.take("system")
        if system:
            messages.append({"role": "system", "content": system})
    history = fields.take("history") or []
    if not isinstance(history, list):
        raise ShapeError(_("'history' must be a list of [instruction, answer] pairs"))
    for number, pair in enumerate(history, start=1):
        if not (isinstance(pair, list) and len(pair) == 2):
            raise ShapeError(_("history item {number} is not an [instruction, answer] pair").format(number=number))
        messages += [{"role": "user", "content": str(pair[0])}, assistant_text(str(pair[1]))]
    messages.append({"role": "user", "content": f"{instruction}\n\n{given}" if given else instruction})
    return messages


def _alpaca(fields: Fields) -> list[Item]:
    instruction = text_of(fields.take("instruction"), "instruction")
    if "instances" in fields:  # stanford_alpaca seed tasks: one example per instance
        instances = fields.take("instances")
        if not isinstance(instances, list) or not instances:
            raise ShapeError(_("'instances' must be a non-empty list of {input, output}"))
        items = []
        for number, instance in enumerate(instances, start=1):
            if not isinstance(instance, dict) or "output" not in instance:
                raise ShapeError(_("instance {number} has no output").format(number=number))
            given = text_of(instance.get("input"), _("instance {number}").format(number=number))
            output = text_of(instance["output"], _("instance {number}").format(number=number))
            prompt = _alpaca_prompt(fields, instruction, given)
            content = _content([*prompt, assistant_text(output)], slots={"instruction": instruction, "input": given})
            own = {f"instances[{number - 1}].{k}": v for k, v in instance.items() if k not in ("input", "output")}
            items.append((content.model_copy(update={"extra": own}), _meta("alpaca-seed-task", [], fields)))
        return items
    given = text_of(fields.take("input"), "input")
    prompt = _alpaca_prompt(fields, instruction, given)
    slots = {"instruction": instruction, "input": given}
    if "output" not in fields:  # LLaMA-Factory's Alpaca preference: chosen and rejected answers
        chosen = assistant_text(text_of(fields.take("chosen"), "chosen"))
        rejected = assistant_text(text_of(fields.take("rejected"), "rejected"))
        content = _pair(fields, prompt, [chosen], [rejected], "rejected")
        return [(content.model_copy(update={"slots": slots}), _meta("alpaca-preference", [], fields))]
    output = text_of(fields.take("output"), "output")
    return [(_content([*prompt, assistant_text(output)], slots=slots), _meta("alpaca", [], fields))]


# --- detection -------------------------------------------------------------------------------
SHAPES: list[tuple[str, Callable[[Record], bool], Callable[[Fields], list[Item]]]] = [
    ("raw", is_raw, _raw),
    ("openai-preference", lambda r: {"input", "preferred_output", "non_preferred_output"} <= r.keys(),
     _openai_preference),
    ("llamafactory-v1-preference", lambda r: {"chosen_messages", "rejected_messages"} <= r.keys(),
     _llamafactory_v1_pair),
    ("llamafactory-v1", lambda r: "messages" in r and _is_v1(r["messages"]), _chat("llamafactory-v1")),
    ("openai-chat", lambda r: "messages" in r, _chat("openai-chat")),
    ("sharegpt", lambda r: "conversations" in r, _sharegpt),
    ("alpaca", lambda r: "instruction" in r and ("output" in r or "instances" in r), _alpaca),
    ("alpaca-preference", lambda r: {"instruction", "chosen", "rejected"} <= r.keys(), _alpaca),
    ("trl-preference", lambda r: {"chosen", "rejected"} <= r.keys(), _trl_preference),
    ("prompt-completion", lambda r: {"prompt", "completion"} <= r.keys(), _completion),
    ("text", lambda r: "text" in r, _text_only),
]  # fmt: skip


def detect(record: Record) -> str | None:
    for name, matches, _read in SHAPES:
        if matches(record):
            return name
    return None


def unknown_shape_message(record: Record) -> str:
    if not record:
        return _(
            "no known shape (fields found: none); map them, e.g. "
            "--map user_prompt=FIELD,output=FIELD[,system_prompt=FIELD,rejected=FIELD]"
        )
    return _(
        "no known shape (fields found: {fields}); map them, e.g. "
        "--map user_prompt=FIELD,output=FIELD[,system_prompt=FIELD,rejected=FIELD]"
    ).format(fields=listing(sorted(record)))


class Mapping:
    """Example fields taken from named record fields, for shapes that are not recognised."""

    def __init__(self, fields: dict[str, str]) -> None:
        unknown = set(fields) - set(MAPPABLE)
        if unknown:
            raise ShapeError(
                _("cannot map {fields}: the fields are {mappable}").format(
                    fields=listing(sorted(unknown)), mappable=", ".join(MAPPABLE)
                )
            )
        if "output" not in fields:
            raise ShapeError(_("a mapping needs output=FIELD"))
        self.fields = fields

    @classmethod
    def parse(cls, text: str) -> Mapping:
        """`user_prompt=question,output=answer` as given to --map."""
        pairs: dict[str, str] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, sep, source = part.partition("=")
            if not sep or not source.strip():
                raise ShapeError(_("--map takes FIELD=SOURCE pairs, not {part}").format(part=clip(repr(part))))
            pairs[name.strip()] = source.strip()
        return cls(pairs)

    def examples(self, fields: Fields) -> list[Item]:
        for source in self.fields.values():
            if source not in fields:
                found = listing(sorted(fields.record)) or "none"
                raise ShapeError(
                    _("there is no field {field} (fields found: {found})").format(field=clip(repr(source)), found=found)
                )
        values = {t: text_of(fields.take(s), s) for t, s in self.fields.items() if t != "rejected"}
        rejected: list[str] = []
        if "rejected" in self.fields:
            given = fields.take(self.fields["rejected"])
            rejected = [str(r) for r in given] if isinstance(given, list) else ([str(given)] if given else [])
        content = ExampleContent(
            system_prompt=values.get("system_prompt", ""),
            user_prompt=values.get("user_prompt", ""),
            output=values["output"],
            rejected=rejected,
        )
        return [(content, _meta("mapped", [], fields))]


@dataclass(frozen=True)
class Parsed:
    shape: str
    items: list[Item]


def _convert(fields: Fields, mapping: Mapping | None) -> tuple[str, list[Item]]:
    if mapping is not None:
        return "mapped", mapping.examples(fields)
    for name, matches, convert in SHAPES:
        if matches(fields.record):
            try:
                return name, convert(fields)
            except ShapeError:
                raise
            except (KeyError, TypeError, ValueError) as exc:
                raise ShapeError(_("malformed record: {problem}").format(problem=clip(str(exc), 200))) from None
    raise UnknownShape(unknown_shape_message(fields.record), sorted(fields.record))


def parse(record: Any, mapping: Mapping | None = None) -> Parsed:
    """The examples in one record and the shape it was read as; raises ShapeError with the reason
    it cannot be imported."""
    if not isinstance(record, dict):
        raise ShapeError(_("expected an object, found {type}").format(type=type(record).__name__))
    fields = Fields(record)
    shape, items = _convert(fields, mapping)
    label: bool | None = None
    if shape != "raw":  # raw has its own desirability field
        for key in LABELS:
            if key not in fields.taken and (label := desirability(fields.peek(key))) is not None:
                fields.take(key)
                break
    extra = fields.extra()
    done: list[Item] = []
    for content, meta in items:
        if extra or content.extra:
            content = content.model_copy(update={"extra": {**extra, **content.extra}})
        if label is not None:
            meta = meta.model_copy(update={"desirability": label})
        done.append((content, meta))
    return Parsed(shape, done)


def examples_from(record: Any, mapping: Mapping | None = None) -> list[Item]:
    """The examples in one record; raises ShapeError with the reason it cannot be imported."""
    return parse(record, mapping).items
