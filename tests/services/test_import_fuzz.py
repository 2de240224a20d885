"""Import fuzzed with Hypothesis: random bytes, random JSON and truncated files. Whatever the input,
import ends with a summary or a one-sentence ForgeError (never another exception), and every good
line goes in."""

from __future__ import annotations

import csv
import io
import itertools
import json
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forge_tui.core.errors import ForgeError
from forge_tui.core.models import Example
from forge_tui.services.importing import ImportSummary, import_file
from forge_tui.services.workspace import Workspace

# One workspace serves every example (unlocking is the slow part); each import gets its own dataset.
FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], derandomize=True
)
_numbers = itertools.count()
SHAPE_KEYS = (b"text", b"prompt", b"messages", b"conversations", b"instruction", b"chosen", b"input")

good_records = st.one_of(
    st.builds(lambda t: {"text": t}, st.text(max_size=30)),
    st.builds(lambda p, c: {"prompt": p, "completion": c}, st.text(max_size=20), st.text(max_size=20)),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


def no_shape(value: Any) -> bool:
    return not (isinstance(value, dict) and any(key.encode() in SHAPE_KEYS for key in value))


def random_garbage(line: bytes) -> bool:
    """Random bytes that make a garbage line: not blank, nothing a known shape could read, nothing
    that makes the whole file another type (Parquet's magic, a UTF-16 or UTF-8 byte order mark)."""
    return (
        bool(line.strip())
        and not any(key in line for key in SHAPE_KEYS)
        and not line.startswith((b"PAR1", b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf"))
    )


def encoded(record: dict[str, Any]) -> bytes:
    return json.dumps(record).encode()


def cut_short(record: dict[str, Any], at: int) -> bytes:
    whole = encoded(record)
    return whole[: 1 + at % (len(whole) - 1)]


def not_utf8(record: dict[str, Any], at: int) -> bytes:
    whole = encoded(record)
    return whole[: at % len(whole)] + b"\xff" + whole[at % len(whole) :]


def too_deep(record: dict[str, Any], depth: int) -> bytes:
    return encoded({**record, "deep": []})[:-3] + b"[" * depth + b"]" * depth + b"}"


garbage_lines = st.one_of(
    st.binary(min_size=1, max_size=40).map(lambda b: b.replace(b"\n", b" ")).filter(random_garbage),
    json_values.filter(no_shape).map(lambda v: json.dumps(v).encode()),  # JSON of no known shape
    st.builds(cut_short, good_records, st.integers(0, 10_000)),  # a truncated line
    st.builds(not_utf8, good_records, st.integers(0, 10_000)),  # a byte that is never UTF-8
    st.integers(101, 5_000).map(lambda n: b"[" * n + b"]" * n),
    st.builds(too_deep, good_records, st.integers(100, 3_000)),
)
blank_lines = st.sampled_from([b"", b"   ", b"\t", b"\r"])
lines = st.lists(
    st.one_of(good_records.map(lambda r: ("good", r)), garbage_lines.map(lambda g: ("bad", g)), blank_lines.map(
        lambda b: ("blank", b)
    )),
    max_size=25,
)  # fmt: skip


def run_import(workspace: Workspace, source: Path) -> ImportSummary | ForgeError:
    dataset = workspace.datasets.create(f"fuzz {next(_numbers)}")
    try:
        summary = import_file(workspace.examples, dataset.id, dataset.name, source)
    except ForgeError as exc:
        message = str(exc)
        assert "\n" not in message and len(message) < 400 + len(str(source)), message
        return exc
    assert "\n" not in summary.line() and len(summary.line()) < 1_000, summary.line()
    return summary


def outputs(workspace: Workspace, summary: ImportSummary) -> list[str]:
    dataset = workspace.datasets.get(summary.dataset)
    return [e.content.output for e in workspace.examples.scan(dataset.id) if isinstance(e, Example)]


def answer(record: dict[str, Any]) -> str:
    return str(record.get("text", record.get("completion")))


@settings(FUZZ, max_examples=60)
@given(lines=lines, final_newline=st.booleans())
def test_jsonl_imports_exactly_the_good_lines_and_reports_each_bad_one_where_it_is(
    workspace: Workspace, tmp_path_factory: pytest.TempPathFactory, lines: list[tuple[str, Any]], final_newline: bool
) -> None:
    source = tmp_path_factory.mktemp("fuzz") / "data.jsonl"
    body = b"\n".join(encoded(value) if kind == "good" else value for kind, value in lines)
    source.write_bytes(body + (b"\n" if final_newline else b""))
    summary = run_import(workspace, source)
    if not any(kind != "blank" for kind, _ in lines):
        assert isinstance(summary, ForgeError) and "is empty" in str(summary)
        return
    assert isinstance(summary, ImportSummary), summary
    assert outputs(workspace, summary) == [answer(value) for kind, value in lines if kind == "good"]
    assert [e.where for e in summary.errors] == [f"line {n}" for n, (kind, _) in enumerate(lines, 1) if kind == "bad"]


@FUZZ
@given(data=st.binary(max_size=3_000), name=st.sampled_from(["f.jsonl", "f.json", "f.csv", "f.tsv", "f.parquet", "f"]))
def test_random_bytes_end_in_a_summary_or_a_sentence(
    workspace: Workspace, tmp_path_factory: pytest.TempPathFactory, data: bytes, name: str
) -> None:
    source = tmp_path_factory.mktemp("fuzz") / name
    source.write_bytes(data)
    run_import(workspace, source)


@settings(FUZZ, max_examples=30)
@given(document=json_values, indent=st.sampled_from([None, 2]), depth=st.sampled_from([0, 1, 99, 100, 5_000]))
def test_random_json_documents_end_in_a_summary_or_a_sentence(
    workspace: Workspace, tmp_path_factory: pytest.TempPathFactory, document: Any, indent: int | None, depth: int
) -> None:
    """Random JSON, as it is or inside `depth` arrays."""
    source = tmp_path_factory.mktemp("fuzz") / "doc.json"
    source.write_text("[" * depth + json.dumps(document, indent=indent) + "]" * depth, encoding="utf-8")
    run_import(workspace, source)


RECORDS = [{"text": f"record {i} " + "é" * (i % 4)} for i in range(12)]


def whole_file(file_type: str) -> tuple[bytes, list[int]]:
    """The RECORDS as a file of this type, and (for JSON Lines and JSON) where each record ends in it."""
    texts = [json.dumps(r, ensure_ascii=False).encode() for r in RECORDS]
    if file_type in ("jsonl", "json"):
        if file_type == "jsonl":
            data = b"".join(t + b"\n" for t in texts)
        else:
            data = b"[\n  " + b",\n  ".join(texts) + b"\n]\n"
        return data, [data.index(t) + len(t) for t in texts]
    if file_type == "csv":
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([["text"], *([r["text"]] for r in RECORDS)])
        return out.getvalue().encode(), []
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pylist(RECORDS), sink, row_group_size=4)
    return sink.getvalue().to_pybytes(), []


@FUZZ
@given(file_type=st.sampled_from(["jsonl", "json", "csv", "parquet"]), cut=st.integers(0, 10_000))
def test_truncated_files_import_every_record_that_is_whole(
    workspace: Workspace, tmp_path_factory: pytest.TempPathFactory, file_type: str, cut: int
) -> None:
    data, ends = whole_file(file_type)
    cut %= len(data) + 1
    source = tmp_path_factory.mktemp("fuzz") / f"cut.{file_type}"
    source.write_bytes(data[:cut])
    summary = run_import(workspace, source)
    if ends and isinstance(summary, ImportSummary):
        whole = sum(1 for end in ends if end <= cut)
        assert outputs(workspace, summary)[:whole] == [r["text"] for r in RECORDS[:whole]]
        assert summary.imported == whole
    elif ends:
        assert cut < ends[0], summary  # nothing whole: an empty file, or too little to tell its type
