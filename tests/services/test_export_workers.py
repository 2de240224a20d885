"""Export through worker processes: the same files as rendering in one process, chunk order kept,
broken rows and left-out examples counted, custom formats rebuilt in the workers, and cancelling
writes nothing."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest
from sqlalchemy import text

from forge_tui.core.export_formats import FORMATS, ExportFormat
from forge_tui.core.models import Example, ExampleContent, ExampleMeta
from forge_tui.services import export_workers
from forge_tui.services.export_workers import ExportCancelled
from forge_tui.services.exporting import CustomFormats, export
from forge_tui.services.workspace import Workspace
from forge_tui.store import example_reader
from forge_tui.store import examples as rows
from forge_tui.store.db import read_session

IN_ONE_PROCESS = 10**9
ALWAYS_WORKERS = 1


def fill(workspace: Workspace, count: int) -> int:
    dataset = workspace.datasets.create("many").id
    items = []
    for i in range(count):
        content = ExampleContent(
            system_prompt="Be brief." if i % 2 else "",
            user_prompt=f"Question {i}?",
            slots={"n": str(i)},
            output=f"Answer {i} — ünïcode",
            rejected=[f"worse {i}"] if i % 3 == 0 else [],
            tool_calls=[{"name": "lookup", "arguments": {"n": i}}] if i % 5 == 0 else [],
        )
        items.append((content, ExampleMeta(model="m", params={"temperature": 0.5})))
    workspace.examples.add_many(dataset, items)
    return dataset


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_workers, "CHUNK", 7)  # many chunks: order must hold


@pytest.mark.parametrize("file_type", ["jsonl", "json", "csv", "parquet"])
@pytest.mark.parametrize("fmt", ["openai-chat", "trl-preference", "raw"])
def test_workers_write_what_one_process_writes(workspace: Workspace, tmp_path: Path, fmt: str, file_type: str) -> None:
    dataset = fill(workspace, 60)
    one = export(workspace.examples, dataset, FORMATS[fmt], tmp_path / f"one.{file_type}", parallel_from=IN_ONE_PROCESS)
    many = export(
        workspace.examples, dataset, FORMATS[fmt], tmp_path / f"many.{file_type}", parallel_from=ALWAYS_WORKERS
    )
    assert (many.records, many.examples, many.left_out) == (one.records, one.examples, one.left_out)
    assert one.examples == 60 and one.left_out == (40 if FORMATS[fmt].preference else 0)
    assert stat.S_IMODE(many.files[0].stat().st_mode) == 0o600  # plaintext of an encrypted store: owner only
    if file_type == "parquet":
        assert pq.read_table(many.files[0]).equals(pq.read_table(one.files[0]))
    else:
        assert many.files[0].read_bytes() == one.files[0].read_bytes()


def test_a_custom_format_is_rebuilt_in_the_workers(workspace: Workspace, tmp_path: Path) -> None:
    dataset = fill(workspace, 30)
    formats = CustomFormats(workspace.home, workspace.unlocked)
    formats.save("qa", '{"q": {{ example.user_prompt | tojson }}, "a": {{ example.output | tojson }}}')
    fmt = formats.resolve("custom:qa")
    assert export_workers.make_job(Path("x"), workspace.examples.cipher(dataset), dataset, fmt, False).portable
    summary = export(workspace.examples, dataset, fmt, tmp_path / "qa.jsonl", parallel_from=ALWAYS_WORKERS)
    lines = summary.files[0].read_text(encoding="utf-8").splitlines()
    assert summary.records == [30] and lines[29] == '{"q":"Question 29?","a":"Answer 29 — ünïcode"}'


def test_a_format_made_in_code_renders_in_this_process(workspace: Workspace, tmp_path: Path) -> None:
    dataset = fill(workspace, 20)
    seen = threading.get_ident()
    threads: set[int] = set()

    def render(example: Example) -> list[dict[str, str]]:
        threads.add(threading.get_ident())
        return [{"id": example.id}]

    fmt = ExportFormat("ids", "ids only", render)  # type: ignore[arg-type]
    summary = export(workspace.examples, dataset, fmt, tmp_path / "ids.jsonl", parallel_from=ALWAYS_WORKERS)
    assert summary.records == [20] and threads == {seen}


def test_a_row_that_fails_to_open_is_counted_and_the_rest_written(workspace: Workspace, tmp_path: Path) -> None:
    dataset = fill(workspace, 30)
    victim = workspace.examples.ids(dataset)[12]
    with workspace.home.engine.begin() as connection:
        connection.execute(text("UPDATE example SET output = x'01020304' WHERE id = :id"), {"id": victim})
    summary = export(workspace.examples, dataset, FORMATS["raw"], tmp_path / "r.jsonl", parallel_from=ALWAYS_WORKERS)
    assert summary.records == [29] and len(summary.broken) == 1 and victim in summary.broken[0]


def test_split_through_workers_matches_one_process(workspace: Workspace, tmp_path: Path) -> None:
    dataset = fill(workspace, 50)
    one = export(
        workspace.examples,
        dataset,
        FORMATS["raw"],
        tmp_path / "a.jsonl",
        split=0.7,
        seed=3,
        parallel_from=IN_ONE_PROCESS,
    )
    many = export(
        workspace.examples,
        dataset,
        FORMATS["raw"],
        tmp_path / "b.jsonl",
        split=0.7,
        seed=3,
        parallel_from=ALWAYS_WORKERS,
    )
    assert many.records == one.records == [35, 15]
    for a, b in zip(one.files, many.files, strict=True):
        assert a.read_bytes() == b.read_bytes()


def test_with_threads_running_the_workers_come_from_the_fork_server(workspace: Workspace, tmp_path: Path) -> None:
    dataset = fill(workspace, 25)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)  # as in the TUI, which has threads of its own
    other.start()
    try:
        assert export_workers._context().get_start_method() == "forkserver"
        summary = export(
            workspace.examples, dataset, FORMATS["raw"], tmp_path / "t.jsonl", parallel_from=ALWAYS_WORKERS
        )
    finally:
        stop.set()
        other.join()
    assert summary.records == [25]


@pytest.mark.parametrize("parallel_from", [IN_ONE_PROCESS, ALWAYS_WORKERS])
def test_cancel_stops_between_chunks_and_writes_nothing(
    workspace: Workspace, tmp_path: Path, parallel_from: int
) -> None:
    dataset = fill(workspace, 40)
    out = tmp_path / "out"
    out.mkdir()
    cancel = threading.Event()
    seen: list[int] = []

    def progress(done: int, total: int) -> None:
        seen.append(done)
        if done >= 14:
            cancel.set()

    with pytest.raises(ExportCancelled):
        export(
            workspace.examples, dataset, FORMATS["raw"], out / "c.jsonl",
            progress=progress, cancel=cancel, parallel_from=parallel_from,
        )  # fmt: skip
    assert seen[:3] == [0, 7, 14] and max(seen) < 40
    assert list(out.iterdir()) == []


def test_the_plain_reader_opens_what_the_orm_opens(workspace: Workspace) -> None:
    dataset = fill(workspace, 12)
    cipher = workspace.examples.cipher(dataset)
    ids = workspace.examples.ids(dataset)
    with read_session(workspace.home.engine) as s:
        by_orm = [rows.open_row(cipher, row) for row in rows.window(s, dataset, 0, 100)]
    connection = example_reader.connect(workspace.home.db_path)
    try:
        plain = [example_reader.open_values(cipher, v) for v in example_reader.read(connection, dataset, ids)]
        some = [v[0] for v in example_reader.read(connection, dataset, ids[2:9:3])]
        by_id = [v[0] for v in example_reader.read(connection, dataset, ids[2:9:3], contiguous=False)]
    finally:
        connection.close()
    assert plain == by_orm and some == by_id == ids[2:9:3]
    assert plain[0].model_dump() == by_orm[0].model_dump()


@pytest.mark.parametrize("parallel_from", [IN_ONE_PROCESS, ALWAYS_WORKERS])
def test_workers_write_reasoning_the_chosen_way(workspace: Workspace, tmp_path: Path, parallel_from: int) -> None:
    dataset = workspace.datasets.create("thinking").id
    items = [
        (ExampleContent(user_prompt=f"Q{i}?", output=f"A{i}", reasoning=f"R{i}"), ExampleMeta()) for i in range(20)
    ]
    workspace.examples.add_many(dataset, items)
    written = {}
    for mode in ("think-tags", "drop"):
        out = tmp_path / f"{mode}.jsonl"
        export(workspace.examples, dataset, FORMATS["mlx-text"], out, parallel_from=parallel_from, reasoning=mode)
        written[mode] = out.read_text(encoding="utf-8").splitlines()
    assert written["think-tags"][3] == '{"text":"Q3?\\n\\n<think>R3</think>\\nA3"}'
    assert written["drop"][3] == '{"text":"Q3?\\n\\nA3"}'
