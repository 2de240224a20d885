"""Preference pairs from reviews on export: a rejected example with an accepted sibling on the same
prompt gives a pair (chosen: the accepted answer, rejected: the rejected one) for every accepted
sibling; one without an accepted sibling gives none; the accepted example's other fields are kept.
And --min-score leaves out the unjudged and those scored below it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forge_tui.core.export_formats import FORMATS
from forge_tui.core.models import ExampleContent, ExampleMeta, ReviewState
from forge_tui.services.exporting import export
from forge_tui.services.workspace import Workspace

SYSTEM = "You are terse."
TOOLS = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]


def example(prompt: str, output: str, review: ReviewState, **more: object) -> tuple[ExampleContent, ExampleMeta]:
    content = ExampleContent(system_prompt=SYSTEM, user_prompt=prompt, slots={"topic": "rivers"}, output=output)
    meta = ExampleMeta(review=review, params={"tools": TOOLS}, score=more.pop("score", None))  # type: ignore[arg-type]
    return content.model_copy(update=more), meta


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def dataset(workspace: Workspace) -> int:
    ds = workspace.datasets.create("pairs").id
    workspace.examples.add_many(
        ds,
        [
            example("Longest river?", "The Nile.", ReviewState.ACCEPTED, reasoning="Think of Africa."),
            example("Longest river?", "The Amazon, by some counts.", ReviewState.ACCEPTED),
            example("Longest river?", "The Thames.", ReviewState.REJECTED),
            example("Longest river?", "Nile", ReviewState.REJECTED, slots={"topic": "other"}),  # another prompt
            example("Deepest lake?", "Lake Michigan.", ReviewState.REJECTED),  # no accepted sibling
            example("Deepest lake?", "Baikal.", ReviewState.UNREVIEWED),  # not accepted: no partner
            example("Highest peak?", "Everest.", ReviewState.ACCEPTED, rejected=["K2."]),  # its own pair
        ],
    )
    return ds


def test_trl_pairs_from_reviews(workspace: Workspace, dataset: int, tmp_path: Path) -> None:
    out = tmp_path / "trl.jsonl"
    summary = export(workspace.examples, dataset, FORMATS["trl-preference"], out)
    records = lines(out)
    assert [(r["prompt"][-1]["content"], r["chosen"][0]["content"], r["rejected"][0]["content"]) for r in records] == [  # type: ignore[index]
        ("Longest river?", "<think>Think of Africa.</think>\nThe Nile.", "The Thames."),  # TRL's reasoning default
        ("Longest river?", "The Amazon, by some counts.", "The Thames."),
        ("Highest peak?", "Everest.", "K2."),
    ]
    assert records[0]["prompt"][0] == {"role": "system", "content": SYSTEM}  # type: ignore[index]
    assert summary.records == [3] and summary.left_out == 1  # the unreviewed lake example has no pair
    in_workers = tmp_path / "workers.jsonl"  # worker processes get the pairs of their chunk
    export(workspace.examples, dataset, FORMATS["trl-preference"], in_workers, parallel_from=1)
    assert in_workers.read_text() == out.read_text()


def test_openai_pairs_keep_the_tools_and_the_other_formats_are_unchanged(
    workspace: Workspace, dataset: int, tmp_path: Path
) -> None:
    out = tmp_path / "dpo.jsonl"
    export(workspace.examples, dataset, FORMATS["openai-preference"], out)
    first = lines(out)[0]
    assert first["input"]["tools"] == TOOLS  # type: ignore[index]
    assert first["non_preferred_output"] == [{"role": "assistant", "content": "The Thames."}]
    chat = tmp_path / "chat.jsonl"
    export(workspace.examples, dataset, FORMATS["raw"], chat)
    assert [r["rejected"] for r in lines(chat)] == [[], [], [], ["K2."]]  # stored content is not changed


def test_llamafactory_pairs(workspace: Workspace, dataset: int, tmp_path: Path) -> None:
    out = tmp_path / "lf.jsonl"
    export(workspace.examples, dataset, FORMATS["llamafactory-v1-dpo"], out)
    assert len(lines(out)) == 3
    assert "The Thames." in json.dumps(lines(out)[1]["rejected_messages"])


def test_min_score_leaves_out_the_unjudged_and_the_low(workspace: Workspace, tmp_path: Path) -> None:
    ds = workspace.datasets.create("scored").id
    workspace.examples.add_many(
        ds, [example(f"q{i}", f"a{i}", ReviewState.ACCEPTED, score=s) for i, s in enumerate([9.0, 6.5, None, 7.0])]
    )
    out = tmp_path / "chat.jsonl"
    summary = export(workspace.examples, ds, FORMATS["openai-chat"], out, min_score=7)
    assert [r["messages"][-1]["content"] for r in lines(out)] == ["a0", "a3"]  # type: ignore[index]
    assert summary.below_score == 2 and "2 examples unjudged or below the minimum score" in summary.line()
