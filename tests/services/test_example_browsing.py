"""What the Examples screen stands on: counting, windows by offset or keyset, open by ids, edit,
delete with undo, and search across every field."""

from __future__ import annotations

from collections.abc import Sequence

from forge_tui.core.models import Example, ExampleContent, ExampleMeta
from forge_tui.services.workspace import Workspace


def filled(workspace: Workspace, n: int) -> int:
    dataset = workspace.datasets.create("d").id
    items = [
        (ExampleContent(user_prompt=f"question {i}", output=f"answer {i}", slots={"topic": f"t{i % 7}"}), ExampleMeta())
        for i in range(n)
    ]
    workspace.examples.add_many(dataset, items)
    return dataset


def prompts(found: Sequence[object]) -> list[str]:
    return [e.content.user_prompt for e in found if isinstance(e, Example)]


def test_windows_by_offset_and_by_keyset_agree(workspace: Workspace) -> None:
    dataset = filled(workspace, 250)
    examples = workspace.examples
    assert examples.count(dataset) == 250
    page = examples.window(dataset, 100, 50)
    assert prompts(page) == [f"question {i}" for i in range(100, 150)]
    before = examples.window(dataset, 99, 1)[0]
    assert prompts(examples.window(dataset, 100, 50, after=before.id)) == prompts(page)
    assert prompts(examples.window(dataset, 240, 50)) == [f"question {i}" for i in range(240, 250)]
    ids = [e.id for e in page[:3]]
    assert prompts(examples.open_ids(dataset, list(reversed(ids)))) == ["question 102", "question 101", "question 100"]


def test_delete_then_undo_puts_the_same_rows_back(workspace: Workspace) -> None:
    dataset = filled(workspace, 20)
    examples = workspace.examples
    doomed = [e.id for e in examples.window(dataset, 5, 3)]
    removed = examples.delete(dataset, doomed)
    assert examples.count(dataset) == 17 and len(removed) == 3
    assert "question 5" not in prompts(list(examples.scan(dataset)))
    examples.undo_delete(removed)
    assert prompts(list(examples.scan(dataset))) == [f"question {i}" for i in range(20)]


def test_edit_reseals_under_the_same_id(workspace: Workspace) -> None:
    dataset = filled(workspace, 3)
    examples = workspace.examples
    original = examples.window(dataset, 1, 1)[0]
    assert isinstance(original, Example)
    edited = examples.update(original, original.content.model_copy(update={"output": "better", "rejected": ["x"]}))
    assert edited.id == original.id and edited.content.output == "better"
    assert edited.updated_at >= original.updated_at
    assert prompts(list(examples.scan(dataset))) == ["question 0", "question 1", "question 2"]


def test_search_looks_in_every_field(workspace: Workspace) -> None:
    dataset = filled(workspace, 30)
    found = list(workspace.examples.search(dataset, "T3"))  # a slot value, any case
    assert prompts(found) == [f"question {i}" for i in range(30) if i % 7 == 3]
    assert prompts(list(workspace.examples.search(dataset, "answer 29"))) == ["question 29"]
