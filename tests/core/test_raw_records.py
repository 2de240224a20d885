"""The raw format writes every field, extras back at the top level, and importing what it wrote gives
the example back: a Hypothesis property over examples with extras, reasoning, turns, tool calls,
rejected answers and desirability."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings

from forge_tui.core.export_formats import FORMATS
from forge_tui.core.import_raw import CONSUMED
from forge_tui.core.import_shapes import ShapeError, detect, examples_from
from forge_tui.core.json_text import compact
from forge_tui.core.models import Example, ExampleContent, ExampleMeta
from forge_tui.core.raw_records import RAW_FIELDS, RAW_NAMES
from tests.strategies import CONTENT, META

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def example(content: ExampleContent, meta: ExampleMeta) -> Example:
    return Example(id="e1", dataset_id=1, content=content, meta=meta, created_at=NOW, updated_at=NOW)


def test_raw_writes_extras_back_where_they_were() -> None:
    content = ExampleContent(
        user_prompt="Who is this?",
        output="A cat.",
        reasoning="Whiskers.",
        extra={"images": ["cat.png"], "output": "clash", "extra": {"nested": 1}},
    )
    (record,) = FORMATS["raw"].records(example(content, ExampleMeta(desirability=False)))
    assert record["images"] == ["cat.png"] and record["reasoning"] == "Whiskers." and record["desirability"] is False
    assert record["output"] == "A cat."  # an extra named like an example field goes under "extra"
    assert record["extra"] == {"output": "clash", "extra": {"nested": 1}}
    assert list(record)[: len(RAW_FIELDS) - 1] == [f for f in RAW_FIELDS if f != "extra"]
    (plain,) = FORMATS["raw"].records(example(ExampleContent(output="x"), ExampleMeta()))
    assert "extra" not in plain  # nothing kept aside, nothing written for it


def test_an_extra_named_like_a_name_import_drops_comes_back() -> None:
    """`updated_at` is not an example field, but an import drops it (the row's identity): an extra
    of that name goes under "extra", and every name import consumes is one raw export takes."""
    assert CONSUMED == RAW_NAMES
    content = ExampleContent(output="x", extra={"updated_at": "yesterday", "created_at": 1, "id": "mine"})
    (record,) = FORMATS["raw"].records(example(content, ExampleMeta()))
    assert record["extra"] == {"updated_at": "yesterday", "created_at": 1, "id": "mine"}
    ((again, _meta),) = examples_from(json.loads(compact(record)))
    assert again == content


def test_raw_from_a_table_reads_cells_back() -> None:
    """What a CSV file makes of a raw record: text cells, empty cells, true/false and counts as text."""
    cells = {
        "id": "e1", "system_prompt": "", "user_prompt": "Hi?", "slots": "", "output": "Hello!", "reasoning": "",
        "tool_calls": [], "rejected": "", "turns": "", "desirability": "true", "model": "m", "params": {},
        "prompt_tokens": "12", "completion_tokens": "", "created_at": "2026-11-23T00:00:00+00:00", "images": "a.png",
    }  # fmt: skip
    ((content, meta),) = examples_from(cells)
    assert (content.user_prompt, content.output, content.extra) == ("Hi?", "Hello!", {"images": "a.png"})
    assert (meta.desirability, meta.prompt_tokens, meta.completion_tokens) == (True, 12, None)
    with pytest.raises(ShapeError, match=r"malformed raw record: rejected: Input should be a valid list"):
        examples_from(cells | {"rejected": {"a": 1}})
    with pytest.raises(ShapeError, match=r"malformed raw record: output: Input should be a valid string"):
        examples_from(cells | {"output": 3})


@settings(max_examples=200, deadline=None)
@given(content=CONTENT, meta=META)
def test_importing_a_raw_export_gives_the_example_back(content: ExampleContent, meta: ExampleMeta) -> None:
    (record,) = FORMATS["raw"].records(example(content, meta))
    line = json.loads(compact(record))  # as a JSONL file holds it
    assert detect(line) == "raw"
    ((again, again_meta),) = examples_from(line)
    assert again == content and again_meta == meta
