"""A slot's values from a file (lines, a CSV/TSV/Parquet column, a JSONL field) or from a field of a
dataset: bad lines are named and the rest kept."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest

from forge_tui.core.errors import InvalidInput
from forge_tui.core.generation import TOPIC_TEMPLATE as TOPIC
from forge_tui.core.generation import GenerationSpec, SourceType, plan_items
from forge_tui.core.models import ExampleContent, ExampleMeta
from forge_tui.services.slot_values import sources_summary, values_from_dataset, values_from_file
from forge_tui.services.workspace import Workspace

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


def test_a_text_file_gives_one_value_a_line(tmp_path: Path) -> None:
    path = tmp_path / "topics.txt"
    path.write_text("tides\n\n  comets  \nmoons, and their orbits\ntides\n", encoding="utf-8")
    found = values_from_file(path)
    assert found.values == ["tides", "comets", "moons, and their orbits"]
    assert found.repeated == 1 and not found.problems
    source = found.source()
    assert source.type is SourceType.VALUES and source.origin == "file topics.txt"


def test_a_line_that_is_not_utf8_is_named_and_the_rest_kept(tmp_path: Path) -> None:
    path = tmp_path / "topics.txt"
    path.write_bytes(b"tides\ncom\xffets\nmoons\n")
    found = values_from_file(path)
    assert found.values == ["tides", "moons"]
    assert found.problems == ["line 2: not UTF-8 text"]


def test_a_csv_column_with_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "topics.csv"
    path.write_text("topic,level\ntides,basic\n,expert\ncomets,basic,extra\nmoons,expert\n", encoding="utf-8")
    found = values_from_file(path, "topic")
    assert found.values == ["tides", "moons"]
    assert found.problems == ["line 3: 'topic' is empty", "line 4: 3 cells where the header has 2"]
    assert found.origin == "file topics.csv, topic"
    name_it = "Name the column or field of topics.csv to take values from: topic, level"
    with pytest.raises(InvalidInput, match=re.escape(name_it)):
        values_from_file(path)
    no_values = "topics.csv, column 'nope' gives no values (line 2: no 'nope' field)"
    with pytest.raises(InvalidInput, match=re.escape(no_values)):
        values_from_file(path, "nope")


def test_a_tsv_and_a_parquet_column(tmp_path: Path) -> None:
    tsv = tmp_path / "t.tsv"
    tsv.write_text("topic\tlevel\ntides\t1\ncomets\t2\n", encoding="utf-8")
    assert values_from_file(tsv, "level").values == ["1", "2"]
    parquet = tmp_path / "t.parquet"
    pq.write_table(pa.table({"topic": ["tides", None, "comets"], "n": [1, 2, 3]}), parquet)
    found = values_from_file(parquet, "topic")
    assert found.values == ["tides", "comets"]
    assert found.problems == ["row 2: 'topic' is empty"]


def test_a_jsonl_field_names_the_lines_without_it(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    lines = ['{"q": "Why tides?"}', "not json", '{"other": 1}', '{"q": ["a list"]}', '{"q": "Why comets?"}']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = values_from_file(path, "q")
    assert found.values == ["Why tides?", "Why comets?"]
    assert [p.split(":")[0] for p in found.problems] == ["line 2", "line 3", "line 4"]
    assert found.problems[1:] == ["line 3: no 'q' field", "line 4: 'q' is a list, not text"]
    assert sources_summary([found]) == [f"file q.jsonl, q: 2 values, 3 without a value (first: {found.problems[0]})"]


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/data is absent")
def test_a_field_of_real_alpaca_records_plans_a_job() -> None:
    found = values_from_file(SHARED / "alpaca_en_demo.json", "instruction")
    assert len(found.values) > 900 and not found.problems
    spec = GenerationSpec(template=TOPIC, count=50, dataset_id=1, model="m", sources={"topic": found.source()})
    assert {item.slots["topic"] for item in plan_items(spec)} <= set(found.values)


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("\n\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=re.escape("empty.txt gives no values")):
        values_from_file(path)


def test_a_field_of_a_dataset(workspace: Workspace) -> None:
    dataset = workspace.datasets.create("Physics")
    items = [
        ExampleContent(user_prompt="Why tides?", output="The moon.", slots={"topic": "tides"}),
        ExampleContent(user_prompt="Why comets?", output="Ice.", slots={"topic": "comets"}),
        ExampleContent(user_prompt="Hello", output="The moon."),
    ]
    workspace.examples.add_many(dataset.id, [(content, ExampleMeta()) for content in items])
    by_slot = values_from_dataset(workspace.examples, dataset.id, dataset.name, "topic")
    assert by_slot.values == ["tides", "comets"]
    assert by_slot.problems == ["1 example with no slot 'topic'"]
    assert values_from_dataset(workspace.examples, dataset.id, dataset.name, "slots.topic").values == [
        "tides",
        "comets",
    ]
    outputs = values_from_dataset(workspace.examples, dataset.id, dataset.name, "output")
    assert outputs.values == ["The moon.", "Ice."] and outputs.repeated == 1
    assert outputs.origin == "dataset Physics, output"
    with pytest.raises(InvalidInput, match="Dataset Physics gives no values from its slot 'level'"):
        values_from_dataset(workspace.examples, dataset.id, dataset.name, "level")
