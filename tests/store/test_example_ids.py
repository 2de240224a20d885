"""Example ids sort in the order the rows were made, even within one millisecond."""

from __future__ import annotations

from forge_tui.store.examples import new_example_id


def test_ids_are_unique_and_in_creation_order() -> None:
    ids = [new_example_id() for _ in range(20_000)]  # many share a millisecond
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
