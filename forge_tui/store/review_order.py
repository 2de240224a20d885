"""The review queue's order: example ids with their score and review state, no content read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from forge_tui.core.example_filter import ExampleFilter
from forge_tui.store.examples import filter_sql
from forge_tui.store.visibility import VISIBLE_SQL

# (id, score or None, review state as stored)
Entry = tuple[str, float | None, str]


def ordered(session: Session, dataset_id: int, wanted: ExampleFilter, by_score: bool, descending: bool) -> list[Entry]:
    """The examples `wanted`, by score (worst or best first, unscored last) or by creation time.
    Two queries, so each can walk the (dataset_id, score, id) index instead of sorting on NULL."""
    where, params = filter_sql(wanted)
    base = f"SELECT id, score, review FROM example WHERE dataset_id = ? AND {VISIBLE_SQL}{where}"
    run = session.connection().exec_driver_sql
    if not by_score:
        return [tuple(row) for row in run(f"{base} ORDER BY id", (dataset_id, *params))]  # type: ignore[misc]
    direction = "DESC" if descending else "ASC"
    scored = run(f"{base} AND score IS NOT NULL ORDER BY score {direction}, id", (dataset_id, *params)).all()
    unscored = run(f"{base} AND score IS NULL ORDER BY id", (dataset_id, *params)).all()
    return [tuple(row) for row in (*scored, *unscored)]  # type: ignore[misc]


def cluster_sizes(session: Session, example_ids: Sequence[str]) -> dict[str, int] | None:
    """How many members the near-duplicate cluster of each example has (those in one), from the
    clusters the last dedup of a dataset stored (`dedup_cluster.members`, a JSON list of ids); None
    while that table does not exist (a database older than revision 0015)."""
    run = session.connection().exec_driver_sql
    if run("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'dedup_cluster'").first() is None:
        return None
    sizes: dict[str, int] = {}
    for start in range(0, len(example_ids), 500):
        chunk: tuple[Any, ...] = tuple(example_ids[start : start + 500])
        found = run(
            "SELECT m.value, json_array_length(c.members) FROM dedup_cluster AS c, json_each(c.members) AS m "
            f"WHERE m.value IN ({','.join('?' * len(chunk))})",
            chunk,
        )
        sizes.update({str(example_id): int(size) for example_id, size in found.all()})
    return sizes
