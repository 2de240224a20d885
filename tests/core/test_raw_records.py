"""The raw format writes every field, extras back at the top level, and importing what it wrote gives
the example back: a Hypothesis property over examples with extras, reasoning, turns, tool calls,
rejected answers and desirability."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forge_tui.core.export_formats import FORMATS
from forge_tui.core.import_raw import CONSUMED
from forge_tui.core.import_shapes import ShapeError, detect, examples_from
from forge_tui.core.json_text import compact
from forge_tui.core.models import Example, ExampleContent, ExampleMeta
from forge_tui.core.raw_records import RAW_FIELDS, RAW_NAMES

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


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
# Extra names: anything, the example's own field names (and "extra") among them.
NAMES = st.one_of(TEXT, st.sampled_from(sorted(RAW_NAMES)))
CALL = st.fixed_dictionaries({"name": TEXT.filter(bool), "arguments": st.dictionaries(TEXT, JSON, max_size=2)})
TURN = st.one_of(
    st.fixed_dictionaries({"role": st.just("user"), "content": TEXT}),
    st.fixed_dictionaries(
        {"role": st.just("assistant"), "content": TEXT},
        optional={"reasoning": TEXT, "tool_calls": st.lists(CALL, min_size=1, max_size=2), "loss_weight": JSON},
    ),
    st.fixed_dictionaries({"role": st.just("tool"), "content": TEXT}, optional={"tool_call_id": TEXT}),
)
CONTENT = st.builds(
    ExampleContent,
    system_prompt=TEXT,
    user_prompt=TEXT,
    slots=st.dictionaries(TEXT, TEXT, max_size=2),
    output=TEXT,
    tool_calls=st.lists(CALL, max_size=2),
    rejected=st.lists(TEXT, max_size=2),
    turns=st.lists(TURN, max_size=4),
    reasoning=TEXT,
    extra=st.dictionaries(NAMES, JSON, max_size=4),
)
META = st.builds(
    ExampleMeta,
    model=TEXT,
    params=st.dictionaries(TEXT, JSON, max_size=2),
    prompt_tokens=st.none() | st.integers(0, 10**6),
    completion_tokens=st.none() | st.integers(0, 10**6),
    desirability=st.none() | st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(content=CONTENT, meta=META)
def test_importing_a_raw_export_gives_the_example_back(content: ExampleContent, meta: ExampleMeta) -> None:
    (record,) = FORMATS["raw"].records(example(content, meta))
    line = json.loads(compact(record))  # as a JSONL file holds it
    assert detect(line) == "raw"
    ((again, again_meta),) = examples_from(line)
    assert again == content and again_meta == meta
