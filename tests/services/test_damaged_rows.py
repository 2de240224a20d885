"""Rows damaged behind the app's back (a real SQLite file edited with sqlite3): every read path names
the row and the field and goes on with the others: the Examples table's windows, the detail view,
search, verify, and export in one process and in worker processes."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from forge_tui.core.errors import ForgeError
from forge_tui.core.export_formats import FORMATS
from forge_tui.core.models import Example, ExampleContent, ExampleMeta
from forge_tui.services.examples import BrokenExample
from forge_tui.services.exporting import export
from forge_tui.services.workspace import Workspace
from tests.damage import damage

IN_ONE_PROCESS = 10**9
ALWAYS_WORKERS = 1
VICTIM = 2  # the example with turns, reasoning and kept-aside fields (extra)

# kind of damage -> (column, the value written there)
DAMAGE: dict[str, tuple[str, Any]] = {
    "a number in a sealed column": ("system_prompt", 42),
    "text in a sealed column": ("slots", "plain text"),
    "NULL in a NOT NULL sealed column": ("user_prompt", None),
    "NULL in a NOT NULL plain column": ("params", None),
    "params that are not JSON": ("params", "{not json"),
    "params that are not an object": ("params", "[1, 2]"),
    "a created_at that is not a time": ("created_at", "garbage"),
    "turns set to NULL": ("turns", None),
    "reasoning set to NULL": ("reasoning", None),
    "extra set to NULL": ("extra", None),
    "a desirability that is not 0 or 1": ("desirability", "yes"),
}


def fill(workspace: Workspace) -> tuple[int, list[str]]:
    dataset = workspace.datasets.create("d").id
    items = []
    for i in range(6):
        turns = [{"role": "user", "content": "earlier"}, {"role": "assistant", "content": "reply"}]
        content = ExampleContent(
            system_prompt="Be brief.",
            user_prompt=f"question {i}",
            output=f"answer {i}",
            turns=turns if i == VICTIM else [],
            reasoning="thought first" if i == VICTIM else "",
            extra={"images": ["a.png"]} if i == VICTIM else {},
        )
        items.append((content, ExampleMeta(model="m", params={"temperature": 0.5})))
    return dataset, workspace.examples.add_many(dataset, items)


def stored_value(db_path: Path, row_id: str, column: str) -> Any:
    connection = sqlite3.connect(db_path)
    try:
        return connection.execute(f"SELECT {column} FROM example WHERE id = ?", (row_id,)).fetchone()[0]
    finally:
        connection.close()


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_a_damaged_row_is_named_on_every_read_path(workspace: Workspace, tmp_path: Path, kind: str) -> None:
    dataset, ids = fill(workspace)
    column, value = DAMAGE[kind]
    victim = ids[VICTIM]
    damage(workspace.home.db_path, victim, column, value)
    examples = workspace.examples

    def names_it(reason: str) -> bool:
        return victim in reason and f"the {column} field" in reason

    def check(items: list[Example | BrokenExample], expected_ids: list[str]) -> None:
        assert [item.id for item in items] == expected_ids
        broken = [item for item in items if isinstance(item, BrokenExample)]
        assert [b.id for b in broken] == [victim] and names_it(broken[0].reason), broken
        opened = [item for item in items if isinstance(item, Example)]
        assert [e.content.output for e in opened] == [f"answer {ids.index(i)}" for i in expected_ids if i != victim]

    check(examples.window(dataset, 0, 10), ids)  # the Examples table
    check(examples.window(dataset, 2, 10, after=ids[1]), ids[2:])
    check(examples.open_ids(dataset, ids), ids)
    with pytest.raises(ForgeError) as info:  # the detail view
        examples.get(victim)
    assert names_it(str(info.value))
    check(list(examples.search(dataset, "answer")), ids)
    report = workspace.verify(workspace.datasets.get(dataset))
    assert report.total == 6 and [b.id for b in report.broken] == [victim] and names_it(report.broken[0].reason)
    for parallel_from in (IN_ONE_PROCESS, ALWAYS_WORKERS):
        out = tmp_path / f"{parallel_from}.jsonl"
        summary = export(examples, dataset, FORMATS["raw"], out, parallel_from=parallel_from)
        assert summary.records == [5] and summary.examples == 5
        assert len(summary.broken) == 1 and names_it(summary.broken[0])
        assert victim in summary.line()
        assert len(out.read_text(encoding="utf-8").splitlines()) == 5


def test_turns_dropped_from_a_row_are_noticed_but_a_row_without_turns_is_fine(workspace: Workspace) -> None:
    dataset, ids = fill(workspace)
    damage(workspace.home.db_path, ids[VICTIM], "turns", None)
    items = workspace.examples.window(dataset, 0, 10)
    broken = items[VICTIM]
    assert isinstance(broken, BrokenExample) and "turns field is missing" in broken.reason
    assert all(isinstance(item, Example) for i, item in enumerate(items) if i != VICTIM)


def test_turns_moved_into_a_row_sealed_without_them_are_noticed(workspace: Workspace) -> None:
    dataset, ids = fill(workspace)
    cipher = workspace.examples.cipher(dataset)
    # Sealed for the right row, so only the presence marker can tell it was not there.
    forged = cipher.seal("turns", ids[0], b'[{"role": "user", "content": "planted"}]')
    damage(workspace.home.db_path, ids[0], "turns", forged)
    (item,) = workspace.examples.window(dataset, 0, 1)
    assert isinstance(item, BrokenExample) and ids[0] in item.reason and "turns field" in item.reason


@pytest.mark.parametrize("column", ["reasoning", "extra"])
def test_reasoning_or_extra_moved_into_a_row_sealed_without_them_is_noticed(workspace: Workspace, column: str) -> None:
    dataset, ids = fill(workspace)
    cipher = workspace.examples.cipher(dataset)
    forged = cipher.seal(column, ids[0], b'{"planted": true}' if column == "extra" else b"planted")
    damage(workspace.home.db_path, ids[0], column, forged)
    (item,) = workspace.examples.window(dataset, 0, 1)
    assert isinstance(item, BrokenExample) and ids[0] in item.reason and f"{column} field" in item.reason


def test_rows_from_before_the_presence_marker_open_and_verify_binds_it(workspace: Workspace) -> None:
    dataset, ids = fill(workspace)
    cipher = workspace.examples.cipher(dataset)
    legacy = cipher.seal("output", ids[VICTIM], b"answer 2")  # as every row was sealed before
    damage(workspace.home.db_path, ids[VICTIM], "output", legacy)
    opened = workspace.examples.get(ids[VICTIM])
    assert opened.content.output == "answer 2" and len(opened.content.turns) == 2
    info = workspace.datasets.get(dataset)
    first = workspace.verify(info)
    assert first.broken == [] and first.resealed == 1
    assert workspace.verify(info).resealed == 0
    for column in ("turns", "reasoning", "extra"):  # each is bound now: a dropped one is reported
        stored = stored_value(workspace.home.db_path, ids[VICTIM], column)
        damage(workspace.home.db_path, ids[VICTIM], column, None)
        report = workspace.verify(info)
        assert [b.id for b in report.broken] == [ids[VICTIM]] and f"{column} field" in report.broken[0].reason
        damage(workspace.home.db_path, ids[VICTIM], column, stored)
    assert workspace.verify(info).broken == []


def test_a_damaged_row_can_be_deleted_and_put_back_as_it_was(workspace: Workspace) -> None:
    dataset, ids = fill(workspace)
    damage(workspace.home.db_path, ids[VICTIM], "params", "{not json")
    examples = workspace.examples
    removed = examples.delete(dataset, [ids[VICTIM], ids[0]])
    assert examples.count(dataset) == 4 and len(removed) == 2
    examples.undo_delete(removed)
    items = examples.window(dataset, 0, 10)
    assert [item.id for item in items] == ids
    victim = items[VICTIM]
    assert isinstance(victim, BrokenExample) and "params field" in victim.reason
    assert isinstance(items[0], Example) and items[0].content.output == "answer 0"
