"""Issue 14 through the database: files of each shape import and export back as they were (KTO
labels, LLaMA-Factory v1 reasoning and tool_call parts, v1 pairs, reasoning_content, raw extras),
and Hugging Face `datasets` loads the trl-kto and llamafactory-v1 files.

The files are made here, from TRL's "Dataset formats" page and LLaMA-Factory's v1 sample types."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from forge_tui.core.example_filter import ReviewFilter
from forge_tui.core.export_formats import FORMATS
from forge_tui.core.models import Example, ExampleContent, ExampleMeta
from forge_tui.services.dataset_files import encode, write_encoded
from forge_tui.services.exporting import export
from forge_tui.services.importing import import_file
from forge_tui.services.workspace import Workspace
from tests.strategies import CONTENT, META

NOW = datetime(2026, 11, 23, tzinfo=UTC)
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def round_trip(workspace: Workspace, source: Path, fmt: str, out: Path, reasoning: str | None = None) -> Path:
    dataset = workspace.datasets.create(out.stem).id
    summary = import_file(workspace.examples, dataset, out.stem, source)
    assert summary.skipped == 0, summary.errors
    export(workspace.examples, dataset, FORMATS[fmt], out, reasoning=reasoning)
    return out


def part(text: str, kind: str = "text") -> dict[str, str]:
    return {"type": kind, "value": text}


def call(name: str, **arguments: Any) -> dict[str, str]:
    return part(json.dumps({"name": name, "arguments": arguments}), "tool_call")


def normal(record: dict[str, Any]) -> dict[str, Any]:
    """tool_call values and tools as parsed JSON: the same call may be spelled with other spacing."""

    def message(m: dict[str, Any]) -> dict[str, Any]:
        parts = [{**p, "value": json.loads(p["value"])} if p["type"] == "tool_call" else p for p in m["content"]]
        return {**m, "content": parts}

    out: dict[str, Any] = {k: [message(m) for m in v] if k.endswith("messages") else v for k, v in record.items()}
    if "tools" in out:
        out["tools"] = json.loads(out["tools"])
    return out


def test_kto_labels_survive_import_and_trl_kto_export(workspace: Workspace, tmp_path: Path) -> None:
    rows = [
        {
            "messages": [
                {"role": "user", "content": f"Question {i}?"},
                {"role": "assistant", "content": f"Answer {i}."},
            ],
            "label": i % 2 == 0,
        }
        for i in range(300)
    ]
    source = tmp_path / "kto.json"
    source.write_text(json.dumps(rows), encoding="utf-8")
    written = read_jsonl(round_trip(workspace, source, "trl-kto", tmp_path / "kto.jsonl"))
    assert [r["label"] for r in written].count(True) == 150 and [r["label"] for r in written].count(False) == 150
    assert written[1] == {
        "prompt": [{"role": "user", "content": "Question 1?"}],
        "completion": [{"role": "assistant", "content": "Answer 1."}],
        "label": False,
    }


V1_REASONING_TOOL_USE: list[dict[str, Any]] = [
    {
        "messages": [
            {"role": "system", "content": [part("You can look up the weather.")], "loss_weight": 0.0},
            {"role": "user", "content": [part("Weather in Oslo?")], "loss_weight": 0.0},
            {
                "role": "assistant",
                "content": [part("The user wants Oslo.", "reasoning"), call("get_weather", city="Oslo")],
                "loss_weight": 1.0,
            },
            {"role": "tool", "content": [part('{"sky": "clear"}')], "loss_weight": 0.0},
            {
                "role": "assistant",
                "content": [part("Clear sky, say so.", "reasoning"), part("Clear in Oslo.")],
                "loss_weight": 1.0,
            },
        ],
        "tools": json.dumps(TOOLS),
    },
    {
        "messages": [
            {"role": "user", "content": [part("2+2?")], "loss_weight": 0.0},
            {"role": "assistant", "content": [part("Add.", "reasoning"), part("4")], "loss_weight": 0.5},
        ]
    },
]


def test_llamafactory_v1_keeps_reasoning_and_tool_call_parts(workspace: Workspace, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "reasoning_tool_use.jsonl", V1_REASONING_TOOL_USE)
    written = read_jsonl(round_trip(workspace, source, "llamafactory-v1", tmp_path / "v1.jsonl"))
    assert [normal(r) for r in written] == [normal(r) for r in V1_REASONING_TOOL_USE]


def test_llamafactory_v1_pairs_keep_their_loss_weights(workspace: Workspace, tmp_path: Path) -> None:
    prompt = [{"role": "user", "content": [part("Hi?")], "loss_weight": 0.0}]
    rows = [
        {
            "chosen_messages": [*prompt, {"role": "assistant", "content": [part("Hello!")], "loss_weight": 1.0}],
            "rejected_messages": [*prompt, {"role": "assistant", "content": [part("Go away.")], "loss_weight": 0.8}],
        }
    ]
    source = write_jsonl(tmp_path / "v1_dpo.jsonl", rows)
    assert read_jsonl(round_trip(workspace, source, "llamafactory-v1-dpo", tmp_path / "dpo.jsonl")) == rows


def test_openai_chat_carries_reasoning_content(workspace: Workspace, tmp_path: Path) -> None:
    rows = [
        {
            "messages": [
                {"role": "user", "content": "2+2?"},
                {"role": "assistant", "content": "4", "reasoning_content": "Add."},
                {"role": "user", "content": "And 3+3?"},
                {"role": "assistant", "content": "6", "reasoning_content": "Add again."},
            ]
        }
    ]
    source = write_jsonl(tmp_path / "chat.jsonl", rows)
    assert read_jsonl(round_trip(workspace, source, "openai-chat", tmp_path / "chat-out.jsonl")) == rows
    tagged = read_jsonl(round_trip(workspace, source, "mlx-text", tmp_path / "text.jsonl"))
    assert tagged == [{"text": "And 3+3?\n\n<think>Add again.</think>\n6"}]


@settings(
    max_examples=15,
    deadline=None,
    phases=[Phase.generate],  # a failure is not shrunk: each try costs a dataset
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(content=CONTENT, meta=META)
def test_importing_a_raw_export_restores_every_example(
    workspace: Workspace, tmp_path: Path, content: ExampleContent, meta: ExampleMeta
) -> None:
    first = workspace.datasets.create(f"first {len(workspace.datasets.list())}").id
    workspace.examples.add_many(first, [(content, meta)])
    out = tmp_path / "raw.jsonl"
    export(workspace.examples, first, FORMATS["raw"], out, review=ReviewFilter.ALL)  # a rejected one too
    second = workspace.datasets.create(f"second {len(workspace.datasets.list())}").id
    assert import_file(workspace.examples, second, "second", out).imported == 1
    (again,) = [e for e in workspace.examples.scan(second) if isinstance(e, Example)]
    assert again.content == content and again.meta.model_copy(update={"template_id": None}) == meta


def example(content: ExampleContent, desirability: bool | None = None) -> Example:
    meta = ExampleMeta(desirability=desirability, params={"tools": TOOLS})
    return Example(id="e", dataset_id=1, content=content, meta=meta, created_at=NOW, updated_at=NOW)


@pytest.mark.parametrize("file_type", ["jsonl", "parquet"])
def test_hugging_face_datasets_loads_trl_kto_and_llamafactory_v1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file_type: str
) -> None:
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    datasets = pytest.importorskip("datasets")
    examples = [
        example(ExampleContent(user_prompt=f"Q{i}?", output=f"A{i}.", reasoning=f"R{i}" if i % 3 else ""), i % 2 == 0)
        for i in range(10)
    ]
    examples.append(
        example(
            ExampleContent(
                user_prompt="Weather?",
                tool_calls=[{"name": "get_weather", "arguments": {"city": "Oslo"}}],
                reasoning="Use the tool.",
            )
        )
    )
    loader = "json" if file_type == "jsonl" else "parquet"
    loaded = {}
    for name in ("trl-kto", "llamafactory-v1"):
        fmt = FORMATS[name]
        out = tmp_path / f"{name}.{file_type}"
        write_encoded(
            [encode([r for e in examples if fmt.keeps(e) for r in fmt.records(e)], file_type == "parquet")],
            out,
            file_type,
        )
        loaded[name] = datasets.load_dataset(loader, data_files=str(out), split="train", cache_dir=str(tmp_path / "c"))
    kto = loaded["trl-kto"]
    assert kto.num_rows == 10 and kto["label"].count(True) == 5 and kto[1]["completion"][0]["role"] == "assistant"
    v1 = loaded["llamafactory-v1"]
    assert v1.num_rows == 11
    answer = v1[10]["messages"][-1]
    assert [p["type"] for p in answer["content"]] == ["reasoning", "tool_call"] and answer["loss_weight"] == 1.0
    assert json.loads(v1[10]["tools"]) == TOOLS


JSON_LOOKING = st.sampled_from(["[1, 2]", '{"a": 1}', '"quoted"', '"[1]"', "  [x]  ", "[not json", '{"unclosed": '])


@pytest.mark.parametrize("file_type", ["csv", "tsv"])
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answer=JSON_LOOKING, system=JSON_LOOKING, extra=JSON_LOOKING)
def test_text_that_looks_like_json_survives_a_table_round_trip(
    workspace: Workspace, tmp_path: Path, file_type: str, answer: str, system: str, extra: str
) -> None:
    """A table reads a `[`/`{` cell as JSON (nested values are written so); text that looks like
    JSON is written as a JSON string, so it comes back as the text it was."""
    content = ExampleContent(
        system_prompt=system, user_prompt="Q", output=answer, extra={"note": extra, "nested": [extra]}
    )
    first = workspace.datasets.create(f"first {len(workspace.datasets.list())}").id
    workspace.examples.add_many(first, [(content, ExampleMeta())])
    out = tmp_path / f"raw.{file_type}"
    export(workspace.examples, first, FORMATS["raw"], out, review=ReviewFilter.ALL)
    second = workspace.datasets.create(f"second {len(workspace.datasets.list())}").id
    assert import_file(workspace.examples, second, "second", out).imported == 1
    (again,) = [e for e in workspace.examples.scan(second) if isinstance(e, Example)]
    assert (again.content.system_prompt, again.content.output) == (system, answer)
    assert again.content.extra == content.extra
