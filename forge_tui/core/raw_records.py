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

from forge_tui.core.models import Example

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
    "source",
    "review",
    "language_flag",
    "score",
    "model",
    "params",
    "prompt_tokens",
    "completion_tokens",
    "created_at",
    "extra",
)
# Names an import of a raw record consumes without writing them as fields (import_raw drops them: an
# import makes new rows). An extra named like one of them goes under "extra" too.
IDENTITY = ("id", "created_at", "updated_at")
# Every top-level name the raw shape takes: what import_raw reads as an example field or drops. An
# extra field with any other name is written top-level and comes back as an extra.
RAW_NAMES = frozenset((*RAW_FIELDS, *IDENTITY))
_TAKEN = RAW_NAMES


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
        "source": meta.source.value,
        "review": meta.review.value,
        "language_flag": meta.language_flag,
        "score": meta.score,
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
