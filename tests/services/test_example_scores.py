"""Scores in the Examples views: filtering by a score range and judged/unjudged in SQL, and windows
sorted by score (best or worst first, the unjudged last) that agree with a sort in Python across pages."""

from __future__ import annotations

import sqlite3

import pytest

from forge_tui.core.example_filter import ExampleFilter, ExampleOrder, ReviewFilter
from forge_tui.core.models import Example, ExampleContent, ExampleMeta, ReviewState
from forge_tui.services.examples import BrokenExample
from forge_tui.services.workspace import Workspace

SCORES = [7.0, None, 3.5, 9.0, 7.0, None, 1.0, 5.5, 10.0, None, 3.5, 8.0]


def filled(workspace: Workspace) -> tuple[int, list[str]]:
    dataset = workspace.datasets.create("scored").id
    items = [
        (
            ExampleContent(user_prompt=f"q{i}", output=f"a{i}"),
            ExampleMeta(score=s, review=ReviewState(("accepted", "rejected")[i % 2])),
        )
        for i, s in enumerate(SCORES)
    ]
    return dataset, workspace.examples.add_many(dataset, items)


def ids_of(items: list[Example | BrokenExample]) -> list[str]:
    return [item.id for item in items]


@pytest.mark.parametrize(
    "wanted",
    [
        ExampleFilter().with_scores(min_score=7),
        ExampleFilter().with_scores(max_score=7),
        ExampleFilter().with_scores(min_score=3.5, max_score=9),
        ExampleFilter().next_judged(),
        ExampleFilter().next_judged().next_judged(),
        ExampleFilter(review=ReviewFilter.ACCEPTED).with_scores(min_score=5),
    ],
)
def test_score_filters_in_sql_agree_with_admits(workspace: Workspace, wanted: ExampleFilter) -> None:
    dataset, ids = filled(workspace)
    every = [e for e in workspace.examples.scan(dataset) if isinstance(e, Example)]
    expected = [e.id for e in every if wanted.admits(e.meta)]
    assert expected and len(expected) < len(ids)
    assert workspace.examples.ids(dataset, wanted) == expected
    assert workspace.examples.count(dataset, wanted) == len(expected)
    assert ids_of(workspace.examples.window(dataset, 0, 100, wanted=wanted)) == expected


@pytest.mark.parametrize("order", [ExampleOrder.SCORE_DESC, ExampleOrder.SCORE_ASC])
@pytest.mark.parametrize("page", [1, 3, 5, 100])
def test_windows_by_score_put_the_unjudged_last_on_every_page(
    workspace: Workspace, order: ExampleOrder, page: int
) -> None:
    dataset, ids = filled(workspace)
    best_first = order is ExampleOrder.SCORE_DESC
    judged = sorted([(s, i) for s, i in zip(SCORES, ids, strict=True) if s is not None], reverse=best_first)
    expected = [i for _, i in judged] + [i for s, i in zip(SCORES, ids, strict=True) if s is None]
    paged: list[str] = []
    for offset in range(0, len(ids) + page, page):
        paged += ids_of(workspace.examples.window(dataset, offset, page, order=order))
    assert paged == expected
    shown = workspace.examples.window(dataset, 0, 3, order=order)
    assert [e.meta.score for e in shown if isinstance(e, Example)] == (
        [10.0, 9.0, 8.0] if best_first else [1.0, 3.5, 3.5]
    )


def test_sorting_and_filtering_by_score_use_the_score_index(workspace: Workspace) -> None:
    dataset, _ = filled(workspace)
    connection = sqlite3.connect(workspace.home.db_path)
    try:
        for sql in (
            "SELECT id FROM example WHERE dataset_id = ? AND score IS NOT NULL ORDER BY score DESC, id DESC LIMIT 5",
            "SELECT count(*) FROM example WHERE dataset_id = ? AND score >= 7",
        ):
            plan = " ".join(str(row[-1]) for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}", (dataset,)))
            assert "ix_example_dataset_id_score_id" in plan and "TEMP B-TREE" not in plan, plan
    finally:
        connection.close()
