"""Examples copied or moved between datasets, re-sealed with the target dataset's key in the caller's
transaction: a row is opened with its dataset's cipher and sealed again with the target's, so no
plaintext is written, and a sealed value never sits under a key or row id it was not sealed for."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlmodel import Session

from forge_tui.core.errors import DamagedRow
from forge_tui.core.models import Example
from forge_tui.store import judgements
from forge_tui.store.example_reader import COLUMNS, open_values
from forge_tui.store.examples import ids as all_ids
from forge_tui.store.examples import insert_values, new_example_id, plain_by_ids, sealed_values
from forge_tui.store.key_rotation import reseal_row
from forge_tui.store.vault import AccountKeys, FieldCipher

CHUNK = 500


def rows_of(session: Session, dataset_id: int, example_ids: Sequence[str] | None = None) -> list[Sequence[Any]]:
    """The dataset's visible rows (of example_reader.COLUMNS) in creation order, or those of
    `example_ids` that are in the dataset, in that order."""
    wanted = all_ids(session, dataset_id) if example_ids is None else list(example_ids)
    return [row for row in plain_by_ids(session, wanted) if row[1] == dataset_id]


def opened(cipher: FieldCipher, rows: Iterable[Sequence[Any]]) -> tuple[list[Example], list[str]]:
    """The rows that open, and the ids of those that do not (damaged)."""
    good: list[Example] = []
    damaged: list[str] = []
    for row in rows:
        try:
            good.append(open_values(cipher, row))
        except DamagedRow:
            damaged.append(str(row[0]))
    return good, damaged


def insert_copies(
    session: Session, keys: AccountKeys, target: FieldCipher, target_id: int, examples: Sequence[Example]
) -> list[str]:
    """New rows in the target dataset holding every field of `examples` (content, meta, times and
    judgements), under new ids in the given order; returns the new ids."""
    new_ids = [new_example_id() for _ in examples]
    values = []
    for new_id, example in zip(new_ids, examples, strict=True):
        row = sealed_values(target, target_id, example.content, example.meta, new_id)
        row["created_at"], row["updated_at"] = example.created_at, example.updated_at
        values.append(row)
    for start in range(0, len(values), CHUNK):
        insert_values(session, values[start : start + CHUNK])
    by_dataset: dict[int, list[tuple[str, str]]] = {}
    for new_id, example in zip(new_ids, examples, strict=True):
        by_dataset.setdefault(example.dataset_id, []).append((example.id, new_id))
    for source_id, pairs in by_dataset.items():
        found = judgements.read(session, keys, source_id, [old for old, _new in pairs])
        judged = [(new, found[old]) for old, new in pairs if old in found]
        if not judged:
            continue
        judgements.write(session, keys, target_id, judged)
        times = {new: example.updated_at for new, example in zip(new_ids, examples, strict=True)}
        session.connection().exec_driver_sql(  # judgements.write stamps the row; the copy keeps the original's time
            "UPDATE example SET updated_at = ? WHERE id = ?",
            [(f"{times[new]:%Y-%m-%d %H:%M:%S.%f}", new) for new, _judgement in judged],
        )
    return new_ids


def move_rows(
    session: Session, source: FieldCipher, target: FieldCipher, target_id: int, rows: Sequence[Sequence[Any]]
) -> int:
    """Moves the rows (of COLUMNS) into the target dataset, keeping their ids (job items and
    judgements still point at them), every sealed field re-sealed with the target's key; a damaged
    field is moved as it is. Returns how many moved."""
    connection = session.connection()
    for row in rows:
        values, _whole = reseal_row(source, target, row)
        sets = ", ".join(f'"{column}" = ?' for column in values)
        connection.exec_driver_sql(
            f"UPDATE example SET dataset_id = ?, {sets} WHERE id = ?", (target_id, *values.values(), row[0])
        )
        connection.exec_driver_sql(
            "UPDATE example_judgement SET dataset_id = ? WHERE example_id = ?", (target_id, row[0])
        )
    return len(rows)


def clear(session: Session, dataset_id: int) -> int:
    """Deletes every example of the dataset (their judgements go with them); returns how many."""
    connection = session.connection()
    connection.exec_driver_sql("DELETE FROM example_judgement WHERE dataset_id = ?", (dataset_id,))
    return int(connection.exec_driver_sql("DELETE FROM example WHERE dataset_id = ?", (dataset_id,)).rowcount)


assert COLUMNS[0] == "id" and COLUMNS[1] == "dataset_id"  # rows_of and move_rows read these positions
