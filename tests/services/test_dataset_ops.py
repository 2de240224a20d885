"""services.dataset_ops: merge, sample, split, copy and move keep every field, re-seal with the
target's key, write no plaintext, and are one transaction each."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from forge_tui.core.errors import Conflict, InvalidInput, NotFound
from forge_tui.core.judging import Judgement
from forge_tui.core.models import Example, ExampleContent, ExampleMeta, ExampleSource, ReviewState
from forge_tui.services.dataset_ops import DatasetOps
from forge_tui.services.home import Home
from forge_tui.services.workspace import Workspace
from tests.damage import damage
from tests.db_bytes import db_files, found_in, marker


@contextmanager
def wal_kept_open(home: Home) -> Iterator[None]:
    conn = sqlite3.connect(home.db_path)
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    try:
        yield
    finally:
        conn.close()


def rich(mark: str, i: int) -> tuple[ExampleContent, ExampleMeta]:
    return (
        ExampleContent(
            system_prompt=f"system {mark} {i}",
            user_prompt=f"user {mark} {i}",
            slots={"tone": "formal" if i % 3 else "casual"},
            output=f"output {mark} {i}",
            tool_calls=[{"name": "search", "arguments": {"query": f"{mark} {i}"}}],
            rejected=[f"rejected {mark} {i}"],
            turns=[{"role": "user", "content": f"earlier {mark} {i}"}],
            reasoning=f"reasoning {mark} {i}",
            extra={"difficulty": [f"hard {mark}", i]},
        ),
        ExampleMeta(
            model="qwen" if i % 2 else "llama",
            params={"temperature": 0.5},
            prompt_tokens=10 + i,
            completion_tokens=20 + i,
            desirability=bool(i % 2),
            source=ExampleSource.IMPORT,
            review=ReviewState.UNREVIEWED,
            language_flag="zh-CN" if i == 1 else None,
        ),
    )


def stocked(workspace: Workspace, name: str, mark: str, count: int) -> list[str]:
    ds = workspace.datasets.create(name)
    ids = workspace.examples.add_many(ds.id, [rich(mark, i) for i in range(count)])
    judged = [(ids[0], Judgement(rubric="overall", model="judge", score=8.5, reason=f"reason {mark}"))]
    workspace.examples.set_judgements(ds.id, judged)
    return ids


def everything(workspace: Workspace, name: str) -> list[Example]:
    ds = workspace.datasets.get(name)
    return [e for e in workspace.examples.scan(ds.id) if isinstance(e, Example)]


def same_fields(a: Example, b: Example) -> bool:
    return (a.content, a.meta, a.created_at, a.updated_at) == (b.content, b.meta, b.created_at, b.updated_at)


def test_merge_keeps_every_field_and_judgement_with_no_plaintext(workspace: Workspace) -> None:
    secret = marker()
    stocked(workspace, "a", secret, 3)
    stocked(workspace, "b", secret + "b", 2)
    ops = DatasetOps(workspace.home, workspace.unlocked)
    with wal_kept_open(workspace.home):
        written = ops.merge(["a", "b"], "c")
        assert found_in(db_files(workspace.home), secret) == []
    assert (written.dataset, written.examples, written.created) == ("c", 5, True)
    before = everything(workspace, "a") + everything(workspace, "b")
    after = everything(workspace, "c")
    assert len(after) == 5 and all(same_fields(x, y) for x, y in zip(before, after, strict=True))
    assert {e.id for e in after}.isdisjoint({e.id for e in before})
    c = workspace.datasets.get("c")
    judged = workspace.examples.judgements(c.id, [e.id for e in after])
    assert sorted((j.score, j.reason) for j in judged.values()) == [
        (8.5, f"reason {secret}"),
        (8.5, f"reason {secret}b"),
    ]
    assert after[0].meta.score == 8.5


def test_merge_dedup_counts_exact_duplicates_after_normalisation(workspace: Workspace) -> None:
    a = workspace.datasets.create("a")
    b = workspace.datasets.create("b")
    workspace.examples.add(a.id, ExampleContent(user_prompt="Hello, world", output="Hi!"))
    workspace.examples.add(a.id, ExampleContent(user_prompt="other", output="thing"))
    workspace.examples.add(b.id, ExampleContent(user_prompt="hello   WORLD", output="hi"))
    ops = DatasetOps(workspace.home, workspace.unlocked)
    written = ops.merge(["a", "b"], "c", dedup=True)
    assert (written.examples, written.duplicates) == (2, 1)
    assert [e.content.user_prompt for e in everything(workspace, "c")] == ["Hello, world", "other"]


def test_an_existing_target_is_replaced_only_when_asked(workspace: Workspace) -> None:
    stocked(workspace, "a", "x", 4)
    stocked(workspace, "c", "old", 2)
    ops = DatasetOps(workspace.home, workspace.unlocked)
    with pytest.raises(Conflict, match="--yes"):
        ops.merge(["a"], "c")
    assert len(everything(workspace, "c")) == 2  # nothing lost
    written = ops.merge(["a"], "c", replace=True)
    assert (written.examples, written.replaced) == (4, 2)
    assert [e.content.output for e in everything(workspace, "c")] == [f"output x {i}" for i in range(4)]
    with pytest.raises(InvalidInput):
        ops.merge(["a", "c"], "a", replace=True)
    with pytest.raises(NotFound):
        ops.merge(["a", "nope"], "d")
    assert "d" not in {d.name for d in workspace.datasets.list()}  # one transaction: nothing made


def test_stratified_sample_is_exact_and_seeded(workspace: Workspace) -> None:
    stocked(workspace, "a", "x", 30)  # tone: 20 formal, 10 casual
    ops = DatasetOps(workspace.home, workspace.unlocked)
    written = ops.sample("a", "b", 9, seed=7, stratify="slot:tone")
    assert written.examples == 9
    sampled = everything(workspace, "b")
    assert Counter(e.content.slots["tone"] for e in sampled) == {"formal": 6, "casual": 3}
    again = ops.sample("a", "b", 9, seed=7, stratify="slot:tone", replace=True)
    assert again.replaced == 9
    assert [e.content.output for e in everything(workspace, "b")] == [e.content.output for e in sampled]
    by_model = ops.sample("a", "m", 10, seed=1, stratify="model")
    assert by_model.examples == 10
    assert Counter(e.meta.model for e in everything(workspace, "m")) == {"qwen": 5, "llama": 5}
    with pytest.raises(InvalidInput, match="slot:NAME"):
        ops.sample("a", "z", 3, seed=1, stratify="colour")


def test_split_is_exact_disjoint_covering_and_seeded(workspace: Workspace) -> None:
    stocked(workspace, "a", "x", 21)
    ops = DatasetOps(workspace.home, workspace.unlocked)
    parts = ops.split("a", 0.1, 0.2, seed=7)
    assert [(p.dataset, p.examples) for p in parts] == [("a-train", 15), ("a-valid", 2), ("a-test", 4)]
    outputs = [e.content.output for name in ("a-train", "a-valid", "a-test") for e in everything(workspace, name)]
    assert sorted(outputs) == sorted(e.content.output for e in everything(workspace, "a"))
    first = [e.content.output for e in everything(workspace, "a-valid")]
    with pytest.raises(Conflict):
        ops.split("a", 0.1, 0.2, seed=7)
    ops.split("a", 0.1, 0.2, seed=7, replace=True)
    assert [e.content.output for e in everything(workspace, "a-valid")] == first


def test_copy_and_move_reseal_with_the_target_key(workspace: Workspace) -> None:
    secret = marker()
    ids = stocked(workspace, "a", secret, 4)
    ops = DatasetOps(workspace.home, workspace.unlocked)
    original = everything(workspace, "a")
    with wal_kept_open(workspace.home):
        copied = ops.copy(ids[:2], "b")
        moved = ops.copy(ids[2:], "b", move=True)
        assert found_in(db_files(workspace.home), secret) == []
    assert (copied.examples, copied.created, moved.examples) == (2, True, 2)
    b = {e.content.output: e for e in everything(workspace, "b")}
    assert len(b) == 4 and all(same_fields(e, b[e.content.output]) for e in original)
    assert [b[e.content.output].id for e in original[2:]] == ids[2:]  # a move keeps the ids
    assert [e.id for e in everything(workspace, "a")] == ids[:2]
    copy_of_first = b[original[0].content.output]
    b_id = workspace.datasets.get("b").id
    assert workspace.examples.judgements(b_id, [copy_of_first.id])[copy_of_first.id].reason == f"reason {secret}"
    with pytest.raises(NotFound, match="no-such-id"):
        ops.copy(["no-such-id"], "b")


def test_subset_writes_what_the_predicate_keeps(workspace: Workspace) -> None:
    stocked(workspace, "a", "x", 6)
    ops = DatasetOps(workspace.home, workspace.unlocked)
    written = ops.subset("a", lambda e: e.meta.model == "qwen", "q")
    assert (written.examples, written.created) == (3, True)
    assert [e.content.output for e in everything(workspace, "q")] == ["output x 1", "output x 3", "output x 5"]


def test_a_damaged_row_is_counted_and_left_where_it_is(workspace: Workspace) -> None:
    ids = stocked(workspace, "a", "x", 3)
    damage(workspace.home.db_path, ids[1], "output", b"\x01not a seal")
    ops = DatasetOps(workspace.home, workspace.unlocked)
    written = ops.merge(["a"], "c")
    assert (written.examples, written.damaged) == (2, 1)
    assert [e.content.output for e in everything(workspace, "c")] == ["output x 0", "output x 2"]
    assert len(workspace.examples.ids(workspace.datasets.get("a").id)) == 3
