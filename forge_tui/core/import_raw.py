"""This app's own `raw` export read back: every field of the example as stored, so that importing a
raw export gives the same examples.

`id`, `created_at` and `updated_at` are the stored row's identity: an import makes new rows, so they
are not kept. Every field raw does not name is an extra field of the example, and so is every entry
of an `extra` object (where an extra field whose name raw uses itself is written). Cells of a CSV or
TSV file come as text: an empty cell is an empty value, and numbers and flags are read from text.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from forge_tui.core.bounded_text import clip
from forge_tui.core.import_messages import ShapeError
from forge_tui.core.judging import MAX_SCORE, MIN_SCORE
from forge_tui.core.kept_aside import Fields, desirability
from forge_tui.core.models import ExampleContent, ExampleMeta, ExampleSource, ReviewState
from forge_tui.core.raw_records import IDENTITY
from forge_tui.i18n import _

_TEXTS = ("system_prompt", "user_prompt", "output", "reasoning")
_OBJECTS = ("slots",)
_LISTS = ("tool_calls", "rejected", "turns")
_COUNTS = ("prompt_tokens", "completion_tokens")
# Every top-level name raw_example() consumes; raw_records.RAW_NAMES must be the same set, so an
# extra field named like one of them is exported under "extra" instead of being consumed here.
CONSUMED = frozenset(
    (
        *_TEXTS,
        *_OBJECTS,
        *_LISTS,
        *IDENTITY,
        *_COUNTS,
        "params",
        "model",
        "extra",
        "desirability",
        "source",
        "review",
        "language_flag",
        "score",
    )
)
SIGNATURE = frozenset({"system_prompt", "user_prompt", "output"})


def is_raw(record: dict[str, Any]) -> bool:
    return record.keys() >= SIGNATURE


def _count(value: Any, name: str) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise ShapeError(_("'{name}' must be a whole number").format(name=name))
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise ShapeError(_("'{name}' must be a whole number, found {value}").format(name=name, value=clip(repr(value))))


def _flag(fields: Fields) -> str | None:
    value = fields.take("language_flag")
    if isinstance(value, str) and value:
        return value
    if value not in (None, ""):
        fields.keep("language_flag", value)
    return None


def _score(fields: Fields) -> float | None:
    """A judge's score between 1 and 10; anything else is kept as an extra field, not dropped."""
    value = fields.take("score")
    if value in (None, ""):
        return None
    try:
        number = float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is not None and MIN_SCORE <= number <= MAX_SCORE:
        return number
    fields.keep("score", value)
    return None


def _label(value: Any) -> bool | None:
    if value in (None, ""):
        return None
    flag = desirability(value)
    if flag is None:
        raise ShapeError(
            _("'desirability' must be true, false or empty, found {value}").format(value=clip(repr(value)))
        )
    return flag


def _choice(fields: Fields, name: str, kind: type[ExampleSource] | type[ReviewState], default: str) -> Any:
    """One of ours; any other value under that name (a field of another tool's) is kept aside."""
    value = fields.take(name)
    if isinstance(value, str) and value in {member.value for member in kind}:
        return kind(value)
    if value not in (None, ""):
        fields.keep(name, value)
    return kind(default)


def raw_example(fields: Fields) -> tuple[ExampleContent, ExampleMeta]:
    """A raw record restores the example as exported, where it came from and its review state too
    (an example from a raw file without them counts as imported, and accepted)."""
    values: dict[str, Any] = {}
    for name in _TEXTS:
        given = fields.take(name)
        values[name] = "" if given is None else given
    for name in (*_OBJECTS, *_LISTS):
        given = fields.take(name)
        if given not in (None, ""):
            values[name] = given
    for name in IDENTITY:
        fields.take(name)
    params = fields.take("params")
    model = fields.take("model")
    extra = fields.take("extra")
    if isinstance(extra, dict):
        for key, value in extra.items():
            fields.keep(key, value)
    elif extra is not None:
        fields.keep("extra", extra)
    try:
        content = ExampleContent(**values)
        meta = ExampleMeta(
            model="" if model is None else model,
            params={} if params in (None, "") else params,
            prompt_tokens=_count(fields.take("prompt_tokens"), "prompt_tokens"),
            completion_tokens=_count(fields.take("completion_tokens"), "completion_tokens"),
            desirability=_label(fields.take("desirability")),
            source=_choice(fields, "source", ExampleSource, ExampleSource.IMPORT),
            review=_choice(fields, "review", ReviewState, ReviewState.ACCEPTED),
            language_flag=_flag(fields),
            score=_score(fields),
        )
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"])
        raise ShapeError(
            _("malformed raw record: {where}: {problem}").format(where=where, problem=clip(problem["msg"], 120))
        ) from None
    return content, meta
