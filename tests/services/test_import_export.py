"""Import of the real sample datasets in ../shared/data, export in every format and file type, and
round trips: what is imported, exported and imported again is the same examples."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest

from forge_tui.core.export_formats import FORMATS
from forge_tui.core.import_shapes import Mapping
from forge_tui.core.models import Example, ExampleContent
from forge_tui.services import dataset_files
from forge_tui.services.dataset_files import detect_type, read_records
from forge_tui.services.exporting import CustomFormats, export
from forge_tui.services.importing import import_file
from forge_tui.services.workspace import Workspace

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"the sample datasets are not at {DATA}")

# file -> (examples it holds, the export format that carries it back)
SAMPLES = {
    "alpaca_en_demo.json": (999, "alpaca"),
    "alpaca_zh_demo.json": (1000, "alpaca"),
    "dpo_en_demo.json": (300, "trl-preference"),
    "glaive_toolcall_en_demo.json": (300, "sharegpt"),
    "c4_demo.jsonl": (300, "mlx-text"),
    "v1_sft_demo.jsonl": (500, "openai-chat"),
    "alpaca_seed_tasks.jsonl": (175, "alpaca"),
}


def new_dataset(workspace: Workspace, name: str) -> int:
    return workspace.datasets.create(name).id


def contents(workspace: Workspace, dataset_id: int) -> list[ExampleContent]:
    return [e.content for e in workspace.examples.scan(dataset_id) if isinstance(e, Example)]


def comparable(content: ExampleContent) -> dict[str, Any]:
    """What must survive a round trip (slots are this app's own bookkeeping for Alpaca; the fields
    kept aside, such as v1's loss_weight or a seed task's id, only `raw` writes back)."""
    data = content.model_dump()
    data.pop("slots")
    data.pop("extra", None)
    return data


@needs_data
@pytest.mark.parametrize("name", list(SAMPLES))
def test_every_sample_imports_and_round_trips(workspace: Workspace, tmp_path: Path, name: str) -> None:
    count, fmt = SAMPLES[name]
    first = new_dataset(workspace, "first")
    summary = import_file(workspace.examples, first, "first", DATA / name)
    assert (summary.imported, summary.skipped, summary.errors) == (count, 0, [])
    out = tmp_path / f"out.{'jsonl' if fmt != 'alpaca' else 'json'}"
    exported = export(workspace.examples, first, FORMATS[fmt], out)
    assert exported.records == [count] and exported.left_out == 0
    second = new_dataset(workspace, "second")
    again = import_file(workspace.examples, second, "second", out)
    assert (again.imported, again.skipped) == (count, 0)
    assert [comparable(c) for c in contents(workspace, second)] == [comparable(c) for c in contents(workspace, first)]


@needs_data
def test_alpaca_and_text_export_the_original_records(workspace: Workspace, tmp_path: Path) -> None:
    for name, fmt in (("alpaca_en_demo.json", "alpaca"), ("c4_demo.jsonl", "mlx-text")):
        dataset = new_dataset(workspace, name)
        import_file(workspace.examples, dataset, name, DATA / name)
        out = tmp_path / f"{name}.jsonl"
        export(workspace.examples, dataset, FORMATS[fmt], out)
        original = [loc.record for loc in read_records(DATA / name)]  # type: ignore[union-attr]
        written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert written == original


@needs_data
def test_glaive_tool_calls_come_back_as_sharegpt_function_calls(workspace: Workspace, tmp_path: Path) -> None:
    dataset = new_dataset(workspace, "glaive")
    import_file(workspace.examples, dataset, "glaive", DATA / "glaive_toolcall_en_demo.json")
    out = tmp_path / "glaive.jsonl"
    export(workspace.examples, dataset, FORMATS["sharegpt"], out)
    original = json.loads((DATA / "glaive_toolcall_en_demo.json").read_text(encoding="utf-8"))
    written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]

    def normal(turn: dict[str, str]) -> tuple[str, Any]:
        value = json.loads(turn["value"]) if turn["from"] == "function_call" else turn["value"]
        return turn["from"], value

    for before, after in zip(original, written, strict=True):
        assert [normal(t) for t in after["conversations"]] == [normal(t) for t in before["conversations"]]
        assert json.loads(after.get("tools", "[]")) == json.loads(before["tools"] or "[]")


def test_malformed_lines_are_reported_and_the_rest_imports(workspace: Workspace, tmp_path: Path) -> None:
    source = tmp_path / "mixed.jsonl"
    source.write_text(
        '{"instruction": "a", "input": "", "output": "b"}\n'
        "{not json\n"
        '{"messages": [{"role": "user", "content": "hi"}]}\n'
        '{"question": "q", "answer": "a"}\n'
        '{"text": "plain"}\n',
        encoding="utf-8",
    )
    dataset = new_dataset(workspace, "mixed")
    summary = import_file(workspace.examples, dataset, "mixed", source)
    assert (summary.imported, summary.skipped) == (2, 3)
    reasons = {e.where: e.reason for e in summary.errors}
    assert reasons["line 2"].startswith("not valid JSON")
    assert "does not end with an answer" in reasons["line 3"]
    assert "no known shape (fields found: answer, question)" in reasons["line 4"]
    mapped = import_file(
        workspace.examples, dataset, "mixed", source, Mapping.parse("user_prompt=question,output=answer")
    )
    assert mapped.imported == 1 and mapped.skipped == 4


def test_an_import_that_fails_midway_adds_nothing(workspace: Workspace, tmp_path: Path) -> None:
    source = tmp_path / "many.jsonl"
    source.write_text("".join(f'{{"text": "row {i}"}}\n' for i in range(2500)), encoding="utf-8")
    dataset = new_dataset(workspace, "atomic")

    def crash(read: int, imported: int) -> None:
        if imported >= 2000:
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        import_file(workspace.examples, dataset, "atomic", source, progress=crash)
    assert contents(workspace, dataset) == []


def test_unsupported_file_lists_the_types(workspace: Workspace, tmp_path: Path) -> None:
    source = tmp_path / "photo.png"
    source.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(Exception, match=r"JSONL, JSON .* CSV, TSV, Parquet, and plain text or Markdown"):
        import_file(workspace.examples, new_dataset(workspace, "x"), "x", source)


def add_examples(workspace: Workspace, dataset: int, n: int) -> None:
    from forge_tui.core.models import ExampleMeta

    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    items = []
    for i in range(n):
        content = ExampleContent(
            system_prompt="Be brief.",
            user_prompt=f"Weather in city {i}?",
            output="" if i % 2 else f"Sunny in city {i}.",
            tool_calls=[{"name": "get_weather", "arguments": {"city": f"c{i}"}}] if i % 2 else [],
            rejected=[f"bad {i}"] if i % 3 == 0 else [],
        )
        labelled = i % 4 == 0 if i % 4 < 2 else None  # desirable 0, 4, 8; undesirable 1, 5, 9
        meta = ExampleMeta(model="m", params={"tools": tools} if i % 2 else {}, desirability=labelled)
        items.append((content, meta))
    workspace.examples.add_many(dataset, items)


def expected_records(fmt: str) -> int:
    """Of add_examples' 12: rejected answers on examples 0, 3, 6, 9; desirability labels on 6."""
    return 4 if FORMATS[fmt].preference else 6 if FORMATS[fmt].labelled else 12


@pytest.mark.parametrize("file_type", ["jsonl", "json", "csv", "tsv", "parquet"])
@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_in_every_file_type_reads_back(
    workspace: Workspace, tmp_path: Path, fmt: str, file_type: str
) -> None:
    dataset = new_dataset(workspace, "d")
    add_examples(workspace, dataset, 12)
    out = tmp_path / f"out.{file_type}"
    summary = export(workspace.examples, dataset, FORMATS[fmt], out)
    expected = expected_records(fmt)
    assert summary.records == [expected] and summary.left_out == 12 - expected
    back = [loc.record for loc in read_records(out)]  # type: ignore[union-attr]
    assert len(back) == expected
    jsonl = tmp_path / "same.jsonl"
    export(workspace.examples, dataset, FORMATS[fmt], jsonl)
    reference = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert [same(r, ref) for r, ref in zip(back, reference, strict=True)] == [True] * expected


def same(read: dict[str, Any], written: dict[str, Any]) -> bool:
    """A record read back from a table or Parquet file is the one written: cells hold nested
    values as JSON text, an empty cell is a missing value, Parquet fills absent struct fields
    with nulls."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    for key, value in written.items():
        got = read.get(key)
        if isinstance(got, str) and not isinstance(value, str):
            got = json.loads(got) if got else None
        if isinstance(value, str) and isinstance(got, (list, dict)):  # JSON text in a cell reads as JSON
            value = json.loads(value)
        if clean(got) != clean(value) and not (got in ("", None) and value in ("", None, [], {})):
            return False
    return True


def test_split_is_seeded_and_complete(workspace: Workspace, tmp_path: Path) -> None:
    dataset = new_dataset(workspace, "d")
    add_examples(workspace, dataset, 50)
    summary = export(workspace.examples, dataset, FORMATS["raw"], tmp_path / "d.jsonl", split=0.8, seed=7)
    assert summary.records == [40, 10]
    train, valid = ([json.loads(x)["id"] for x in p.read_text().splitlines()] for p in summary.files)
    assert set(train).isdisjoint(valid) and len(set(train) | set(valid)) == 50
    again = export(workspace.examples, dataset, FORMATS["raw"], tmp_path / "e.jsonl", split=0.8, seed=7)
    assert [json.loads(x)["id"] for x in again.files[0].read_text().splitlines()] == train
    other = export(workspace.examples, dataset, FORMATS["raw"], tmp_path / "f.jsonl", split=0.8, seed=8)
    assert [json.loads(x)["id"] for x in other.files[0].read_text().splitlines()] != train


def test_a_failed_export_leaves_no_file(workspace: Workspace, tmp_path: Path) -> None:
    dataset = new_dataset(workspace, "d")
    add_examples(workspace, dataset, 5)
    formats = CustomFormats(workspace.home, workspace.unlocked)
    formats.save("broken", '{% if example.user_prompt.endswith("3?") %}{{ 1 / 0 }}{% endif %}{"a": 1}')
    folder = tmp_path / "out"
    folder.mkdir()
    for file_type in ("jsonl", "parquet"):
        with pytest.raises(Exception, match="ZeroDivisionError"):
            export(workspace.examples, dataset, formats.resolve("custom:broken"), folder / f"x.{file_type}")
    assert list(folder.iterdir()) == []


def test_custom_format_renders_json_per_example(workspace: Workspace, tmp_path: Path) -> None:
    dataset = new_dataset(workspace, "d")
    add_examples(workspace, dataset, 3)
    formats = CustomFormats(workspace.home, workspace.unlocked)
    formats.create("qa")
    out = tmp_path / "qa.parquet"
    export(workspace.examples, dataset, formats.resolve("custom:qa"), out)
    assert pq.read_table(out).to_pylist()[0] == {"question": "Weather in city 0?", "answer": "Sunny in city 0."}


@pytest.mark.parametrize("file_type", ["jsonl", "parquet"])
def test_hugging_face_datasets_loads_the_exports(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file_type: str
) -> None:
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    datasets = pytest.importorskip("datasets")
    dataset = new_dataset(workspace, "d")
    add_examples(workspace, dataset, 12)
    for fmt in ("openai-chat", "sharegpt", "alpaca", "trl-preference", "mlx-text", "llamafactory-v1"):
        out = tmp_path / f"{fmt}.{file_type}"
        summary = export(workspace.examples, dataset, FORMATS[fmt], out)
        loader = "json" if file_type == "jsonl" else "parquet"
        loaded = datasets.load_dataset(loader, data_files=str(out), split="train", cache_dir=str(tmp_path / "c"))
        assert loaded.num_rows == summary.records[0]
    chat_file = str(tmp_path / f"openai-chat.{file_type}")
    chat = datasets.load_dataset(loader, data_files=chat_file, split="train", cache_dir=str(tmp_path / "c"))
    assert chat[1]["messages"][-1]["tool_calls"][0]["function"]["name"] == "get_weather"


def test_file_types_by_content_with_a_first_line_longer_than_the_sniffed_head(tmp_path: Path) -> None:
    long = json.dumps({"prompt": "p" * 100_000, "completion": "c"})
    jsonl = tmp_path / "long.jsonl"
    jsonl.write_text(long + "\n" + json.dumps({"prompt": "q", "completion": "d"}) + "\n", encoding="utf-8")
    one_line = tmp_path / "one_line.json"  # a minified object holding the list
    one_line.write_text(json.dumps({"data": [{"text": "x" * 100_000}, {"text": "y"}]}), encoding="utf-8")
    assert (detect_type(jsonl), detect_type(one_line)) == ("jsonl", "json")
    assert len(list(read_records(jsonl))) == 2 and len(list(read_records(one_line))) == 2


def test_spooled_exports_keep_the_plaintext_owner_only(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CSV, TSV and Parquet go through a spool file beside the target: it is as private as the
    result (0600) and gone afterwards."""
    dataset = new_dataset(workspace, "spooled")
    workspace.examples.add(dataset, ExampleContent(user_prompt="secret question", output="secret answer"))
    seen: list[int] = []
    convert = dataset_files._table_from_spool

    def looking(spool: Path, *args: Any) -> None:
        seen.append(stat.S_IMODE(spool.stat().st_mode))
        convert(spool, *args)

    monkeypatch.setattr(dataset_files, "_table_from_spool", looking)
    export(workspace.examples, dataset, FORMATS["raw"], tmp_path / "out.csv")
    assert seen == [0o600]
    assert sorted(p.name for p in tmp_path.glob("*out.csv*")) == ["out.csv"]
