"""Answers read back from an offline batch for items that need several requests (services.batch_files):
each sealed with the account's keys and bound to "job:index:request", deleted once the item is done."""

from __future__ import annotations

import json
from collections.abc import Mapping

from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from forge_tui.store.jobs import ItemInputs, item_row_id
from forge_tui.store.tables import Job
from forge_tui.store.vault import AccountKeys, FieldCipher, SealBroken

TABLE = "job_batch_answer"
CHUNK = 500
COLUMN = "body"


def _row_id(job_id: int, idx: int, req: int) -> str:
    return f"{job_id}:{idx}:{req}"


def of_item(conn: Connection, cipher: FieldCipher, job_id: int, idx: int) -> dict[int, bytes]:
    """The item's kept answers by request number; one that does not open is left out (asked again)."""
    found = conn.exec_driver_sql(
        "SELECT req, body FROM job_batch_answer WHERE job_id = ? AND idx = ? ORDER BY req", (job_id, idx)
    ).fetchall()
    answers: dict[int, bytes] = {}
    for req, body in found:
        try:
            answers[int(req)] = cipher.open(COLUMN, _row_id(job_id, idx, int(req)), body)
        except SealBroken:
            continue
    return answers


def items(
    conn: Connection, item_cipher: FieldCipher, job_id: int, wanted: list[int]
) -> dict[int, tuple[ItemInputs, str]]:
    """Of the job's items at `wanted` indexes, those that exist: opened, with their status."""
    found: dict[int, tuple[ItemInputs, str]] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        marks = ",".join("?" * len(chunk))
        rows = conn.exec_driver_sql(
            f"SELECT idx, inputs, seed, status FROM job_item WHERE job_id = ? AND idx IN ({marks})", (job_id, *chunk)
        ).fetchall()
        for idx, inputs, seed, status in rows:
            slots = json.loads(item_cipher.open("inputs", item_row_id(job_id, int(idx)), inputs))
            found[int(idx)] = (ItemInputs(int(idx), slots, int(seed)), str(status))
    return found


def keep(conn: Connection, cipher: FieldCipher, job_id: int, idx: int, answers: Mapping[int, bytes]) -> None:
    conn.exec_driver_sql(
        "INSERT OR REPLACE INTO job_batch_answer (job_id, idx, req, body) VALUES (?, ?, ?, ?)",
        [(job_id, idx, req, cipher.seal(COLUMN, _row_id(job_id, idx, req), body)) for req, body in answers.items()],
    )


def drop(conn: Connection, job_id: int, idx: int) -> None:
    conn.exec_driver_sql("DELETE FROM job_batch_answer WHERE job_id = ? AND idx = ?", (job_id, idx))


def reseal(session: Session, old: AccountKeys, new: AccountKeys, owner_id: int) -> int:
    """Moves the owner's kept answers from `old` keys to `new`, in the caller's transaction (a key
    rotation); returns how many. Run it before the jobs' own rows move (it finds them by `old`)."""
    old_cipher, new_cipher = old.cipher(TABLE), new.cipher(TABLE)
    connection = session.connection()
    moved = 0
    for job_id in session.exec(select(Job.id).where(Job.owner_id == owner_id, Job.key_check == old.check)).all():
        found = connection.exec_driver_sql(
            "SELECT idx, req, body FROM job_batch_answer WHERE job_id = ?", (job_id,)
        ).fetchall()
        updates = []
        for idx, req, body in found:
            rid = _row_id(int(job_id or 0), int(idx), int(req))
            try:
                updates.append((new_cipher.seal(COLUMN, rid, old_cipher.open(COLUMN, rid, body)), job_id, idx, req))
            except SealBroken:
                continue
        if updates:
            connection.exec_driver_sql(
                "UPDATE job_batch_answer SET body = ? WHERE job_id = ? AND idx = ? AND req = ?", updates
            )
            moved += len(updates)
    return moved
