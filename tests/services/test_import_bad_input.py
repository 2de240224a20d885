"""Bad input to import: a line, item or row that cannot be read is skipped alone, where it really
is, with a reason; a file that is no file is named for what it is; no message grows with the input."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest

from forge_tui.core.errors import ForgeError
from forge_tui.core.models import Example
from forge_tui.services.dataset_files import Located, RecordError, read_records
from forge_tui.services.importing import ImportSummary, import_file
from forge_tui.services.workspace import Workspace
from tests.records import records_and_errors

DEEP = "[" * 100_000 + "]" * 100_000


def run_import(workspace: Workspace, source: Path) -> ImportSummary:
    dataset = workspace.datasets.create(f"d{len(workspace.datasets.list())}")
    return import_file(workspace.examples, dataset.id, dataset.name, source)


def outputs(workspace: Workspace, summary: ImportSummary) -> list[str]:
    dataset = workspace.datasets.get(summary.dataset)
    return [e.content.output for e in workspace.examples.scan(dataset.id) if isinstance(e, Example)]


def text_lines(count: int) -> list[bytes]:
    return [json.dumps({"text": f"row {i}"}).encode() for i in range(1, count + 1)]


def test_a_line_that_is_not_utf8_is_skipped_alone_with_its_true_number(workspace: Workspace, tmp_path: Path) -> None:
    lines = text_lines(10_000)
    lines[4999] = b'{"text": "caf\xe9 au lait"}'  # Latin-1, not UTF-8
    source = tmp_path / "latin1.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    summary = run_import(workspace, source)
    assert (summary.imported, summary.skipped) == (9_999, 1)
    assert summary.errors == [RecordError("line 5000", "not UTF-8 text (byte 0xe9 at column 14)")]
    kept = outputs(workspace, summary)
    assert len(kept) == 9_999 and "row 4999" in kept and "row 5001" in kept and "row 5000" not in kept


def test_a_line_nested_too_deep_is_skipped_and_the_others_import(workspace: Workspace, tmp_path: Path) -> None:
    lines = text_lines(6)
    lines[2] = DEEP.encode()
    arguments = json.dumps(DEEP)  # a tool call whose arguments are a JSON string nested as deep
    lines[4] = (
        '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "", '
        '"tool_calls": [{"function": {"name": "f", "arguments": ' + arguments + "}}]}]}"
    ).encode()
    schema = '{"type": "array", "items": ' * 95 + "{}" + "}" * 95  # 96 levels: the record is 100 deep
    lines[5] = (
        '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], '
        '"tools": [{"type": "function", "function": {"name": "f", "parameters": ' + schema + "}}]}"
    ).encode()
    source = tmp_path / "deep.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    summary = run_import(workspace, source)
    assert outputs(workspace, summary) == ["row 1", "row 2", "row 4", "a"]
    assert [(e.where, e.reason) for e in summary.errors] == [
        ("line 3", "nested deeper than 100 levels"),
        ("line 5", "tool-call arguments are not JSON: " + DEEP[:60]),
    ]
    first = tmp_path / "deep_first.jsonl"  # a first line too deep still reads as JSON Lines
    first.write_bytes(b"\n".join([DEEP.encode(), *text_lines(3)]) + b"\n")
    assert [(r.where, type(r).__name__) for r in records_and_errors(first)] == [
        ("line 1", "RecordError"), ("line 2", "Located"), ("line 3", "Located"), ("line 4", "Located"),
    ]  # fmt: skip


def test_a_json_item_nested_too_deep_is_skipped_and_a_whole_file_so_deep_is_one_sentence(
    workspace: Workspace, tmp_path: Path
) -> None:
    items = [json.dumps({"text": f"row {i}"}) for i in range(1, 6)]
    items[2] = '{"text": "row 3", "more": ' + DEEP + "}"
    array = tmp_path / "array.json"
    array.write_text("[\n" + ",\n".join(items) + "\n]\n", encoding="utf-8")
    summary = run_import(workspace, array)
    assert outputs(workspace, summary) == ["row 1", "row 2", "row 4", "row 5"]
    assert summary.errors == [RecordError("item 3 (line 4)", "nested deeper than 100 levels")]
    held = tmp_path / "held.json"  # the records are a list in an object
    held.write_text('{"data": [' + ", ".join(items) + '], "version": 2}', encoding="utf-8")
    assert [r.where for r in records_and_errors(held)] == ["item 1", "item 2", "item 3 (line 1)", "item 4", "item 5"]
    whole = tmp_path / "whole.json"
    whole.write_text('{"a": ' * 50_000 + "1" + "}" * 50_000, encoding="utf-8")
    with pytest.raises(ForgeError) as raised:
        run_import(workspace, whole)
    assert str(raised.value) == f"{whole} is nested deeper than 100 levels."


def test_a_json_file_with_a_bad_item_keeps_the_others(workspace: Workspace, tmp_path: Path) -> None:
    source = tmp_path / "bad_items.json"
    source.write_bytes(
        b'[{"text": "one"},\n {"text": "caf\xe9"},\n {"text": "three",},\n {"text": "four"},\n {"text": "fi'
    )
    summary = run_import(workspace, source)
    assert outputs(workspace, summary) == ["one", "four"]
    assert [(e.where, e.reason.split(" (")[0]) for e in summary.errors] == [
        ("item 2 (line 2)", "not UTF-8 text"),
        ("item 3 (line 3)", "not valid JSON"),
        ("item 5 (line 5)", "the file ends inside this item"),
    ]


def test_parquet_timestamps_read_as_iso_text_and_other_types_are_skipped_by_name(
    workspace: Workspace, tmp_path: Path
) -> None:
    table = pa.table(
        {
            "text": ["a", "b"],
            "at": pa.array([1_700_000_000_123_456_789, None], pa.timestamp("ns")),  # pandas' default
            "zoned": pa.array([1_700_000_000_000_000_000] * 2, pa.timestamp("ns", tz="Europe/Paris")),
            "steps": pa.array([[1_700_000_000_000_000_001], []], pa.list_(pa.timestamp("ns"))),
            "photo": pa.array([b"\x89PNG", b""]),
            "took": pa.array([5, 6], pa.duration("s")),
        }
    )
    source = tmp_path / "frame.parquet"
    pq.write_table(table, source)
    records = [r.record for r in read_records(source) if isinstance(r, Located)]
    assert records[0] == {
        "text": "a",
        "at": "2023-11-14T22:13:20.123456789",
        "zoned": "2023-11-14T23:13:20.000000000+01:00",
        "steps": ["2023-11-14T22:13:20.000000001"],
    }
    assert records[1]["at"] is None and records[1]["steps"] == []
    summary = run_import(workspace, source)
    assert (summary.imported, summary.skipped) == (2, 0)
    assert summary.skipped_columns == ["photo (binary)", "took (duration[s])"]
    assert summary.line().endswith(
        "; skipped columns photo (binary), took (duration[s]); kept aside: at (2), zoned (2), steps (2)."
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_pipe_a_device_and_a_directory_are_named_for_what_they_are(workspace: Workspace, tmp_path: Path) -> None:
    pipe = tmp_path / "pipe.jsonl"
    os.mkfifo(pipe)
    zero = tmp_path / "zero.jsonl"
    zero.symlink_to("/dev/zero")
    folder = tmp_path / "folder.jsonl"
    folder.mkdir()
    expected = {
        pipe: f"{pipe} is a named pipe (FIFO), not a regular file.",
        zero: f"{zero} is a link to /dev/zero, a device, not a regular file.",
        folder: f"{folder} is a directory, not a file.",
        tmp_path / "missing.jsonl": f"There is no file {tmp_path / 'missing.jsonl'}.",
    }
    for path, sentence in expected.items():
        with pytest.raises(ForgeError) as raised:
            run_import(workspace, path)
        assert str(raised.value) == sentence
    # Reading, too, refuses them before a byte is read: a pipe without a writer would block forever.
    outcome: list[str] = []

    def read(path: Path) -> None:
        try:
            list(read_records(path, "jsonl"))
        except ForgeError as exc:
            outcome.append(str(exc))

    for path in (pipe, zero):
        reader = threading.Thread(target=read, args=(path,), daemon=True)
        reader.start()
        reader.join(5)
        assert not reader.is_alive(), f"reading {path.name} blocked"
    assert outcome == [expected[pipe], expected[zero]]


def test_messages_that_list_fields_stay_short(workspace: Workspace, tmp_path: Path) -> None:
    source = tmp_path / "wide.csv"
    names = [f"field_{i:06d}" for i in range(200_000)]
    source.write_text(",".join(names) + "\n" + ",".join("v" for _ in names) + "\n", encoding="utf-8")
    summary = run_import(workspace, source)
    (error,) = summary.errors
    assert error.reason.startswith("no known shape (fields found: field_000000, field_000001, ")
    assert "field_000019, … and 199980 more); map them" in error.reason and len(error.reason) < 600
    assert len(summary.unknown_fields) == 200_000  # the mapping prompt still gets them all


def test_a_table_row_that_is_not_utf8_is_skipped_alone(workspace: Workspace, tmp_path: Path) -> None:
    source = tmp_path / "rows.csv"
    source.write_bytes(b'text,note\n"first\nrow",a\ncaf\xe9,b\n' + DEEP.encode() + b",c\nlast,d\n")
    summary = run_import(workspace, source)
    assert outputs(workspace, summary) == ["first\nrow", DEEP, "last"]  # a cell too deep for JSON stays text
    assert summary.errors == [RecordError("line 4", "not UTF-8 text")]
