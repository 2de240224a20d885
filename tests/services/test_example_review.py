"""Review state and source: the filters (SQL-side, through indexes), setting the review state one at a
time or in bulk, and export leaving the rejected examples out unless asked."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from forge_tui.core.desirability import DesirabilityFilter
from forge_tui.core.example_filter import ExampleFilter, ReviewFilter, SourceFilter
from forge_tui.core.export_formats import FORMATS
from forge_tui.core.models import Example, ExampleContent, ExampleMeta, ExampleSource, ReviewState
from forge_tui.services.accounts import AccountService
from forge_tui.services.examples import BrokenExample
from forge_tui.services.exporting import export
from forge_tui.services.workspace import Workspace
from tests.passwords import PASSWORD

REVIEWS = (ReviewState.ACCEPTED, ReviewState.UNREVIEWED, ReviewState.REJECTED)
SOURCES = (ExampleSource.AUDITION, ExampleSource.IMPORT, ExampleSource.JOB, ExampleSource.PLAYGROUND)


def meta(i: int) -> ExampleMeta:
    source = SOURCES[i % 4]
    return ExampleMeta(
        model="m",
        review=REVIEWS[i % 3],
        source=source,
        job_id=(7 if i % 8 == 2 else 8) if source is ExampleSource.JOB else None,
        desirability=(True, None)[i % 2],
        language_flag="Simplified Chinese" if source is ExampleSource.JOB and i % 3 != 0 else None,
    )


def filled(workspace: Workspace, n: int) -> tuple[int, list[str]]:
    dataset = workspace.datasets.create("d").id
    items = [(ExampleContent(user_prompt=f"question {i}", output=f"answer {i}"), meta(i)) for i in range(n)]
    return dataset, workspace.examples.add_many(dataset, items)


def opened(items: list[Example | BrokenExample]) -> list[Example]:
    assert all(isinstance(item, Example) for item in items), items
    return [item for item in items if isinstance(item, Example)]


FILTERS = [
    ExampleFilter(review=ReviewFilter.UNREVIEWED),
    ExampleFilter(review=ReviewFilter.REJECTED),
    ExampleFilter(review=ReviewFilter.NOT_REJECTED),
    ExampleFilter(source=SourceFilter.JOB),
    ExampleFilter(source=SourceFilter.IMPORT, review=ReviewFilter.ACCEPTED),
    ExampleFilter(source=SourceFilter.JOB, job_id=7),
    ExampleFilter(DesirabilityFilter.DESIRABLE, ReviewFilter.UNREVIEWED, SourceFilter.AUDITION),
    ExampleFilter(flagged=True),
    ExampleFilter(flagged=False, source=SourceFilter.JOB),
    ExampleFilter(flagged=True, review=ReviewFilter.UNREVIEWED),
]


@pytest.mark.parametrize("wanted", FILTERS, ids=str)
def test_each_filter_counts_pages_and_scans_what_it_admits(workspace: Workspace, wanted: ExampleFilter) -> None:
    dataset, ids = filled(workspace, 240)
    examples = workspace.examples
    expected = [example_id for i, example_id in enumerate(ids) if wanted.admits(meta(i))]
    assert 5 < len(expected) < len(ids)
    assert examples.count(dataset, wanted) == len(expected)
    assert examples.ids(dataset, wanted) == expected
    page = opened(examples.window(dataset, 3, 5, wanted=wanted))
    assert [e.id for e in page] == expected[3:8] and all(wanted.admits(e.meta) for e in page)
    keyset = examples.window(dataset, 5, 4, after=expected[4], wanted=wanted)
    assert [e.id for e in keyset] == expected[5:9]
    assert [e.id for e in examples.scan(dataset, wanted)] == expected
    assert [e.id for e in examples.search(dataset, "question 1", wanted)] == [
        example_id for i, example_id in enumerate(ids) if wanted.admits(meta(i)) and str(i).startswith("1")
    ]


@pytest.mark.parametrize(
    ("wanted", "index"),
    [
        (ExampleFilter(review=ReviewFilter.UNREVIEWED), "ix_example_dataset_id_review_id"),
        (ExampleFilter(source=SourceFilter.JOB), "ix_example_dataset_id_source_id"),
    ],
)
def test_review_and_source_filters_count_from_an_index(workspace: Workspace, wanted: ExampleFilter, index: str) -> None:
    """As the desirability filter: counting and paging need no row read (a covering index)."""
    from forge_tui.store import examples as rows
    from forge_tui.store.visibility import VISIBLE_SQL

    dataset, _ = filled(workspace, 20)
    with workspace.home.engine.connect() as conn:
        where, params = rows._where(wanted)
        plan = conn.exec_driver_sql(
            f"EXPLAIN QUERY PLAN SELECT count(*) FROM example WHERE dataset_id = ? AND {VISIBLE_SQL}{where}",
            (dataset, *params),
        ).all()
    assert any(f"COVERING INDEX {index}" in str(row[-1]) for row in plan), plan


def test_set_review_in_bulk_skips_what_is_gone_and_what_is_not_the_accounts(workspace: Workspace) -> None:
    dataset, ids = filled(workspace, 9)
    examples = workspace.examples
    examples.delete(dataset, [ids[8]])
    assert examples.set_review([ids[0], ids[1], ids[8]], ReviewState.REJECTED) == 2
    assert examples.set_review([ids[2]], ReviewState.ACCEPTED) == 1
    states = {e.id: e.meta.review for e in opened(list(examples.scan(dataset)))}
    assert [states[i] for i in ids[:4]] == [
        ReviewState.REJECTED, ReviewState.REJECTED, ReviewState.ACCEPTED, ReviewState.ACCEPTED,
    ]  # fmt: skip
    assert examples.get(ids[1]).updated_at > examples.get(ids[3]).updated_at
    # Another account cannot change alice's examples, even knowing their ids.
    accounts = AccountService(workspace.home)
    accounts.create_user("bob", "Bob", PASSWORD)
    bob = Workspace.open(workspace.home, accounts.unlock("bob", PASSWORD))
    assert bob.examples.set_review(ids[:4], ReviewState.UNREVIEWED) == 0
    assert examples.get(ids[0]).meta.review is ReviewState.REJECTED


def _exported(workspace: Workspace, dataset: int, path: Path, review: ReviewFilter) -> list[str]:
    summary = export(workspace.examples, dataset, FORMATS["raw"], path, review=review)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert summary.examples == len(lines)
    return [json.loads(line)["output"] for line in lines]


def test_export_leaves_the_rejected_out_by_default_and_says_how_many(workspace: Workspace, tmp_path: Path) -> None:
    dataset, _ = filled(workspace, 12)
    path = tmp_path / "out.jsonl"
    answers = {state: [f"answer {i}" for i in range(12) if REVIEWS[i % 3] is state] for state in REVIEWS}
    summary = export(workspace.examples, dataset, FORMATS["raw"], path)
    written = [json.loads(line)["output"] for line in path.read_text(encoding="utf-8").splitlines()]
    assert sorted(written) == sorted(answers[ReviewState.ACCEPTED] + answers[ReviewState.UNREVIEWED])
    assert summary.line().endswith("; 4 rejected examples left out.")
    assert summary.to_json()["review"] == "not-rejected"
    assert summary.to_json()["left_out_by_review"] == {"rejected": 4}
    only = _exported(workspace, dataset, path, ReviewFilter.ACCEPTED)
    assert only == answers[ReviewState.ACCEPTED]
    summary = export(workspace.examples, dataset, FORMATS["raw"], path, review=ReviewFilter.ACCEPTED)
    assert "; 4 unreviewed and 4 rejected examples left out." in summary.line()
    assert _exported(workspace, dataset, path, ReviewFilter.UNREVIEWED) == answers[ReviewState.UNREVIEWED]
    summary = export(workspace.examples, dataset, FORMATS["raw"], path, review=ReviewFilter.ALL)
    assert summary.examples == 12 and "left out" not in summary.line()
    assert summary.to_json()["left_out_by_review"] == {}


def test_export_split_and_worker_processes_follow_the_review_filter(workspace: Workspace, tmp_path: Path) -> None:
    dataset, _ = filled(workspace, 60)
    summary = export(
        workspace.examples, dataset, FORMATS["raw"], tmp_path / "out.jsonl", split=0.5, parallel_from=1,
        review=ReviewFilter.UNREVIEWED,
    )  # fmt: skip
    outputs = [
        json.loads(line)["output"] for file in summary.files for line in file.read_text(encoding="utf-8").splitlines()
    ]
    assert sorted(outputs) == sorted(f"answer {i}" for i in range(60) if i % 3 == 1)
    assert summary.review_left_out == {"accepted": 20, "rejected": 20}


def test_a_rejected_row_between_accepted_ones_is_not_read_at_all(workspace: Workspace, tmp_path: Path) -> None:
    """Left-out rows are not opened: a damaged rejected row does not show up as damage in the export."""
    dataset, ids = filled(workspace, 6)
    connection = sqlite3.connect(workspace.home.db_path)
    with connection:
        connection.execute("UPDATE example SET output = x'00' WHERE id = ?", (ids[2],))  # rejected (2 % 3)
    connection.close()
    summary = export(workspace.examples, dataset, FORMATS["raw"], tmp_path / "out.jsonl")
    assert summary.broken == [] and summary.examples == 4
