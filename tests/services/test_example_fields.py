"""Reasoning, kept-aside fields (extra) and KTO desirability: stored (sealed, or plain for the label)
on every write path, read back on every read path, and the table's filter by desirability."""

from __future__ import annotations

import sqlite3

from forge_tui.core.desirability import DesirabilityFilter
from forge_tui.core.models import Example, ExampleContent, ExampleMeta
from forge_tui.services.examples import BrokenExample
from forge_tui.services.workspace import Workspace

EXTRA = {"images": ["a.png"], "loss_weight": [0.0, 1.0], "source": {"id": 7, "ok": True}}
LABELS = (True, False, None)


def content(i: int) -> ExampleContent:
    return ExampleContent(
        user_prompt=f"question {i}",
        output=f"answer {i}",
        reasoning=f"thinking about {i}" if i % 2 == 0 else "",
        extra={**EXTRA, "n": i} if i % 3 == 0 else {},
    )


def filled(workspace: Workspace, n: int) -> tuple[int, list[str]]:
    dataset = workspace.datasets.create("d").id
    items = [(content(i), ExampleMeta(model="m", desirability=LABELS[i % 3])) for i in range(n)]
    return dataset, workspace.examples.add_many(dataset, items)


def opened(items: list[Example | BrokenExample]) -> list[Example]:
    assert all(isinstance(item, Example) for item in items), items
    return [item for item in items if isinstance(item, Example)]


def test_every_read_path_gives_back_what_was_stored(workspace: Workspace) -> None:
    dataset, ids = filled(workspace, 6)
    examples = workspace.examples
    expected = [(content(i), LABELS[i % 3]) for i in range(6)]
    for read in (
        opened(examples.window(dataset, 0, 10)),
        opened(examples.window(dataset, 1, 10, after=ids[0])),
        opened(list(examples.scan(dataset))),  # as export worker processes read
        opened(examples.open_ids(dataset, ids)),
        [examples.get(i) for i in ids],
    ):
        start = 6 - len(read)
        assert [(e.content, e.meta.desirability) for e in read] == expected[start:]
    assert [e.id for e in opened(list(examples.search(dataset, "THINKING about 4")))] == [ids[4]]


def test_empty_reasoning_and_extra_are_null_and_the_label_is_plain(workspace: Workspace) -> None:
    _, ids = filled(workspace, 6)
    connection = sqlite3.connect(workspace.home.db_path)
    try:
        found = connection.execute("SELECT id, reasoning IS NULL, extra IS NULL, desirability FROM example")
        stored = {row[0]: row[1:] for row in found}
    finally:
        connection.close()
    assert [stored[i] for i in ids] == [
        (0, 0, 1),
        (1, 1, 0),
        (0, 1, None),
        (1, 0, 1),
        (0, 1, 0),
        (1, 1, None),
    ]


def test_edit_keeps_or_sets_the_label_and_undo_puts_everything_back(workspace: Workspace) -> None:
    dataset, ids = filled(workspace, 3)
    examples = workspace.examples
    first = examples.get(ids[0])
    changed = first.content.model_copy(update={"reasoning": "", "extra": {"kept": 1}})
    edited = examples.update(first, changed)
    assert edited.content == changed and edited.meta.desirability is True  # kept as stored
    relabelled = examples.update(edited, edited.content.model_copy(update={"reasoning": "again"}), None)
    assert relabelled.content.reasoning == "again" and relabelled.meta.desirability is None
    before = opened(list(examples.scan(dataset)))
    removed = examples.delete(dataset, ids)
    assert examples.count(dataset) == 0
    examples.undo_delete(removed)
    after = opened(list(examples.scan(dataset)))
    assert [(e.content, e.meta.desirability) for e in after] == [(e.content, e.meta.desirability) for e in before]


def test_the_filter_counts_and_pages_each_desirability(workspace: Workspace) -> None:
    dataset, ids = filled(workspace, 300)
    examples = workspace.examples
    every = {
        DesirabilityFilter.ALL: ids,
        DesirabilityFilter.DESIRABLE: ids[0::3],
        DesirabilityFilter.UNDESIRABLE: ids[1::3],
        DesirabilityFilter.UNLABELLED: ids[2::3],
    }
    for wanted, expected in every.items():
        assert examples.count(dataset, wanted) == len(expected)
        assert examples.ids(dataset, wanted) == expected
        page = opened(examples.window(dataset, 40, 30, wanted=wanted))
        assert [e.id for e in page] == expected[40:70]
        assert all(wanted.admits(e.meta.desirability) for e in page)
        keyset = examples.window(dataset, 70, 30, after=expected[69], wanted=wanted)
        assert [e.id for e in keyset] == expected[70:100]
        assert [e.id for e in examples.scan(dataset, wanted)] == expected
    assert [e.id for e in examples.search(dataset, "question 1", DesirabilityFilter.UNDESIRABLE)] == [
        i for n, i in enumerate(ids) if n % 3 == 1 and str(n).startswith("1")
    ]


def test_the_filter_cycles_through_every_choice() -> None:
    seen = [DesirabilityFilter.ALL]
    for _ in range(4):
        seen.append(seen[-1].cycled())
    assert seen == ["all", "desirable", "undesirable", "unlabelled", "all"]
