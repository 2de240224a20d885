"""The raw record: every field of an example, written so that importing it gives the example back.

An example's own fields are written under their names (`RAW_FIELDS`). Its `extra` fields (what an
import kept aside) go back to the top level under their original names, so a second import of the
file finds them where the first one did; one whose name is taken by an example field goes under
`"extra"` instead. The id and creation time are the exporting database's: an import gives its
examples new ones (the template id is left out for the same reason).

Reading a raw record back accepts what a CSV or TSV file makes of it too: empty cells, `true` /
`false` and numbers as text.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from forge_tui.core.models import Example, ExampleContent, ExampleMeta

Record = dict[str, Any]

# In the order they are written; "extra" holds only extras whose names are taken.
RAW_FIELDS = (
    "id",
    "system_prompt",
    "user_prompt",
    "slots",
    "output",
    "reasoning",
    "tool_calls",
    "rejected",
    "turns",
    "desirability",
    "model",
    "params",
    "prompt_tokens",
    "completion_tokens",
    "created_at",
    "extra",
)
_TAKEN = frozenset(RAW_FIELDS)
_CONTENT = ("system_prompt", "user_prompt", "slots", "output", "reasoning", "tool_calls", "rejected", "turns")
_META_TEXT = ("model",)
_COUNTS = ("prompt_tokens", "completion_tokens")
_OBJECTS = ("slots", "params", "extra")
_LISTS = ("tool_calls", "rejected", "turns")


def example_fields(example: Example) -> Record:
    """Every field of the example under its own name, `extra` as one object, and `meta` (what a
    custom format sees as `example`)."""
    content, meta = example.content, example.meta
    return {
        "id": example.id,
        "system_prompt": content.system_prompt,
        "user_prompt": content.user_prompt,
        "slots": content.slots,
        "output": content.output,
        "reasoning": content.reasoning,
        "tool_calls": content.tool_calls,
        "rejected": content.rejected,
        "turns": content.turns,
        "desirability": meta.desirability,
        "model": meta.model,
        "params": meta.params,
        "prompt_tokens": meta.prompt_tokens,
        "completion_tokens": meta.completion_tokens,
        "created_at": example.created_at.isoformat(),
        "extra": content.extra,
        "meta": meta.model_dump(),
    }


def raw_record(example: Example) -> Record:
    fields = example_fields(example)
    del fields["meta"]
    extra: dict[str, Any] = fields.pop("extra")
    record = fields | {name: value for name, value in extra.items() if name not in _TAKEN}
    taken = {name: value for name, value in extra.items() if name in _TAKEN}
    if taken:
        record["extra"] = taken
    return record


def is_raw_record(record: Record) -> bool:
    return {"system_prompt", "user_prompt", "output"} <= record.keys()


def from_raw_record(record: Record) -> tuple[ExampleContent, ExampleMeta]:
    """The example a raw record holds; raises ValueError with a sentence when a field is not what
    raw writes."""
    nested = _read("extra", record.get("extra"))
    extra = {name: value for name, value in record.items() if name not in _TAKEN} | nested
    values = {name: _read(name, record[name]) for name in RAW_FIELDS if name in record and name != "extra"}
    content = {name: values[name] for name in _CONTENT if name in values}
    meta = {name: values[name] for name in (*_META_TEXT, *_COUNTS, "params", "desirability") if name in values}
    try:
        return ExampleContent(**content, extra=extra), ExampleMeta(**meta)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"'{where}': {first['msg'].lower()}") from None


def _read(name: str, value: Any) -> Any:
    """A field's value as raw writes it, from JSON or from a table cell."""
    if name in _OBJECTS or name in _LISTS:
        if value in (None, ""):
            return {} if name in _OBJECTS else []
        kind = dict if name in _OBJECTS else list
        if not isinstance(value, kind):
            raise ValueError(f"'{name}' must be {'an object' if kind is dict else 'a list'}")
        return value
    if name == "desirability":
        if isinstance(value, str):
            return {"": None, "true": True, "false": False}.get(value.strip().lower(), value)
        return value
    if name in _COUNTS:
        if value in (None, ""):
            return None
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
        return value
    return "" if value is None else value
