"""Judgements of examples (core.judging.Judgement): the score plain on the example row (sorting,
filtering), the rest sealed with the account's keys in example_judgement, bound to the example id."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import Connection
from sqlmodel import Session

from forge_tui.core.json_text import compact
from forge_tui.core.judging import Judgement
from forge_tui.store.tables import utcnow
from forge_tui.store.vault import AccountKeys, SealBroken

TABLE = "example_judgement"
COLUMN = "body"
CHUNK = 500


def _connection(source: Session | Connection) -> Connection:
    return source.connection() if isinstance(source, Session) else source


def write(
    source: Session | Connection, keys: AccountKeys, dataset_id: int, items: Sequence[tuple[str, Judgement | None]]
) -> int:
    """Sets (or with None clears) the judgement of each example of the dataset, in the caller's
    transaction; returns how many examples were found."""
    connection, cipher, now = _connection(source), keys.cipher(TABLE), f"{utcnow():%Y-%m-%d %H:%M:%S.%f}"
    changed = 0
    for example_id, judgement in items:
        found = connection.exec_driver_sql(
            "UPDATE example SET score = ?, updated_at = ? WHERE id = ? AND dataset_id = ?",
            (None if judgement is None else judgement.score, now, example_id, dataset_id),
        )
        if not found.rowcount:
            continue
        changed += 1
        if judgement is None:
            connection.exec_driver_sql("DELETE FROM example_judgement WHERE example_id = ?", (example_id,))
            continue
        body = cipher.seal(COLUMN, example_id, compact(judgement.model_dump()))
        connection.exec_driver_sql(
            "INSERT OR REPLACE INTO example_judgement (example_id, dataset_id, body, key_check, judged_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (example_id, dataset_id, body, keys.check, now),
        )
    return changed


def read(
    source: Session | Connection, keys: AccountKeys, dataset_id: int, example_ids: Sequence[str]
) -> dict[str, Judgement]:
    """The judgements of those examples that have one; one that does not open (sealed under another
    key, damaged) is left out."""
    connection, cipher = _connection(source), keys.cipher(TABLE)
    found: dict[str, Judgement] = {}
    for start in range(0, len(example_ids), CHUNK):
        chunk = tuple(example_ids[start : start + CHUNK])
        rows = connection.exec_driver_sql(
            f"SELECT example_id, body, key_check FROM example_judgement WHERE dataset_id = ? "
            f"AND example_id IN ({','.join('?' * len(chunk))})",
            (dataset_id, *chunk),
        ).fetchall()
        for example_id, body, check in rows:
            if bytes(check) != keys.check:
                continue
            try:
                found[str(example_id)] = Judgement.model_validate_json(cipher.open(COLUMN, str(example_id), body))
            except (SealBroken, ValueError):
                continue
    return found


def reseal(session: Session, old: AccountKeys, new: AccountKeys, owner_id: int) -> int:
    """Moves the owner's judgements from `old` keys to `new`, in the caller's transaction (a key
    rotation); returns how many."""
    connection = session.connection()
    old_cipher, new_cipher = old.cipher(TABLE), new.cipher(TABLE)
    rows = connection.exec_driver_sql(
        "SELECT j.example_id, j.body FROM example_judgement AS j JOIN dataset AS d ON d.id = j.dataset_id "
        "WHERE d.owner_id = ? AND j.key_check = ?",
        (owner_id, old.check),
    ).fetchall()
    updates = []
    for example_id, body in rows:
        try:
            plain = old_cipher.open(COLUMN, str(example_id), body)
        except SealBroken:
            continue
        updates.append((new_cipher.seal(COLUMN, str(example_id), plain), new.check, example_id))
    if updates:
        connection.exec_driver_sql("UPDATE example_judgement SET body = ?, key_check = ? WHERE example_id = ?", updates)
    return len(updates)
