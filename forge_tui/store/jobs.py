"""Job rows: the plan written whole (sealed), items finished with their examples, and key rotation.

A job's name and spec, and each item's inputs (its slot values), are content: sealed with the
account's keys (vault.AccountKeys), the job's values bound to its id, an item's to "job id:index".
Everything the engine steers by (status, counts, seeds, errors) is plain.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from forge_tui.core.jobs import FailureKind, results_of
from forge_tui.core.json_text import compact
from forge_tui.core.models import Example
from forge_tui.store.examples import insert_values
from forge_tui.store.tables import Job, utcnow
from forge_tui.store.vault import AccountKeys, FieldCipher, SealBroken

JOB_TABLE = "job"
ITEM_TABLE = "job_item"
ITEM_CHUNK = 500  # items written or re-sealed per statement


class ItemState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class ItemInputs:
    """One planned item as stored: its index, slot values and seed."""

    idx: int
    slots: dict[str, str]
    seed: int
    # The existing example the item works on (a judge job's), opened by the runner when its recipe
    # names one (job_runner.Recipe.example_of); None when it was deleted or does not open.
    example: Example | None = None
    # The examples a chunk item works on (a dedup job's: job_runner.Recipe.examples_of), opened by the
    # runner; those deleted or not opening are left out.
    examples: tuple[Example, ...] = ()


@dataclass(frozen=True)
class ItemDone:
    idx: int
    example: dict[str, Any]  # store.examples.sealed_values() of its example


@dataclass(frozen=True)
class ItemUpdate:
    """A done item that changes an existing example: `apply` writes the change in the caller's
    transaction (only when the item was not done already)."""

    idx: int
    example_id: str
    apply: Callable[[Connection], None]


@dataclass(frozen=True)
class ItemFailure:
    idx: int
    reason: str
    kind: FailureKind
    attempts: int


def _connection(source: Session | Connection) -> Connection:
    return source.connection() if isinstance(source, Session) else source


def item_row_id(job_id: int, idx: int) -> str:
    return f"{job_id}:{idx}"


# --- writing the plan -----------------------------------------------------------------------------
def insert(
    session: Session,
    keys: AccountKeys,
    owner_id: int,
    kind: str,
    name: str,
    dataset_id: int | None,
    template_id: int | None,
    spec: dict[str, Any],
    params: dict[str, Any],
    items: Sequence[ItemInputs],
) -> Job:
    """The job and every item, in the caller's transaction: the plan is whole or absent."""
    row = Job(
        owner_id=owner_id,
        kind=kind,
        name=b"",
        dataset_id=dataset_id,
        template_id=template_id,
        spec=b"",
        key_check=keys.check,
        params=params,
        total=len(items),
    )
    session.add(row)
    session.flush()  # for the id, bound into the sealed values
    assert row.id is not None
    job_cipher = keys.cipher(JOB_TABLE)
    row.name = job_cipher.seal("name", str(row.id), name.encode())
    row.spec = job_cipher.seal("spec", str(row.id), compact(spec))
    session.flush()
    cipher = keys.cipher(ITEM_TABLE)
    connection = session.connection()
    for start in range(0, len(items), ITEM_CHUNK):
        connection.exec_driver_sql(
            "INSERT INTO job_item (job_id, idx, inputs, seed, status, attempt) VALUES (?, ?, ?, ?, 'pending', 0)",
            [
                (row.id, item.idx, cipher.seal("inputs", item_row_id(row.id, item.idx), compact(item.slots)), item.seed)
                for item in items[start : start + ITEM_CHUNK]
            ],
        )
    return row


# --- reading --------------------------------------------------------------------------------------
def owned(session: Session, owner_id: int, job_id: int) -> Job | None:
    return session.exec(select(Job).where(Job.owner_id == owner_id, Job.id == job_id)).first()


def list_for_owner(session: Session, owner_id: int) -> list[Job]:
    return list(session.exec(select(Job).where(Job.owner_id == owner_id).order_by(col(Job.id).desc())).all())


def open_job(keys: AccountKeys, row: Job) -> tuple[str, dict[str, Any]]:
    """The job's name and spec; raises SealBroken naming the row when one does not open."""
    assert row.id is not None
    cipher = keys.cipher(JOB_TABLE)
    name = cipher.open("name", str(row.id), row.name).decode()
    spec: dict[str, Any] = json.loads(cipher.open("spec", str(row.id), row.spec))
    return name, spec


def open_name(keys: AccountKeys | None, row: Job) -> str | None:
    """The job's name, or None when it does not open (sealed with a key this session lacks, or damaged)."""
    if keys is None:
        return None
    assert row.id is not None
    try:
        return keys.cipher(JOB_TABLE).open("name", str(row.id), row.name).decode()
    except SealBroken:
        return None


def pending(source: Session | Connection, cipher: FieldCipher, job_id: int, after: int, limit: int) -> list[ItemInputs]:
    """Up to `limit` pending items after index `after`, in index order, opened."""
    found = _connection(source).exec_driver_sql(
        "SELECT idx, inputs, seed FROM job_item WHERE job_id = ? AND status = 'pending' AND idx > ? "
        "ORDER BY idx LIMIT ?",
        (job_id, after, limit),
    )
    return [
        ItemInputs(int(idx), json.loads(cipher.open("inputs", item_row_id(job_id, int(idx)), inputs)), int(seed))
        for idx, inputs, seed in found.fetchall()
    ]


def planned(source: Session | Connection, cipher: FieldCipher, job_id: int) -> list[ItemInputs]:
    """Every item of the job, in index order, opened (for checks and previews)."""
    found = _connection(source).exec_driver_sql(
        "SELECT idx, inputs, seed FROM job_item WHERE job_id = ? ORDER BY idx", (job_id,)
    )
    return [
        ItemInputs(int(idx), json.loads(cipher.open("inputs", item_row_id(job_id, int(idx)), inputs)), int(seed))
        for idx, inputs, seed in found.fetchall()
    ]


def counts(source: Session | Connection, job_id: int) -> dict[str, int]:
    """Items per state."""
    found = _connection(source).exec_driver_sql(
        "SELECT status, count(*) FROM job_item WHERE job_id = ? GROUP BY status", (job_id,)
    )
    return {str(status): int(n) for status, n in found.fetchall()}


def finished_since(source: Session | Connection, job_id: int, since: float) -> int:
    found = _connection(source).exec_driver_sql(
        "SELECT count(*) FROM job_item WHERE job_id = ? AND status = 'done' AND finished_at >= ?", (job_id, since)
    )
    return int(found.scalar_one())


@dataclass(frozen=True)
class ItemError:
    idx: int
    reason: str
    kind: str
    attempts: int
    finished_at: float | None


def errors(source: Session | Connection, job_id: int, limit: int) -> list[ItemError]:
    """The last failed items, newest first."""
    found = _connection(source).exec_driver_sql(
        "SELECT idx, error, error_kind, attempt, finished_at FROM job_item WHERE job_id = ? AND status = 'failed' "
        "ORDER BY finished_at DESC, idx DESC LIMIT ?",
        (job_id, limit),
    )
    return [
        ItemError(int(idx), str(error or ""), str(kind or ""), int(attempt), finished_at)
        for idx, error, kind, attempt, finished_at in found.fetchall()
    ]


def status_of(source: Session | Connection, job_id: int) -> str | None:
    found = _connection(source).exec_driver_sql("SELECT status FROM job WHERE id = ?", (job_id,)).first()
    return None if found is None else str(found[0])


# --- running --------------------------------------------------------------------------------------
def recount(source: Session | Connection, job_id: int) -> None:
    """Sets the job's done and failed counts from its items."""
    _connection(source).exec_driver_sql(
        "UPDATE job SET done = (SELECT count(*) FROM job_item WHERE job_id = ? AND status = 'done'), "
        "failed = (SELECT count(*) FROM job_item WHERE job_id = ? AND status = 'failed') WHERE id = ?",
        (job_id, job_id, job_id),
    )


def requeue(source: Session | Connection, job_id: int, kinds: Sequence[str] | None = None) -> int:
    """Failed items (of those kinds; all without) and items left running become pending again;
    returns how many failed ones."""
    connection = _connection(source)
    where = "status = 'failed'"
    params: tuple[Any, ...] = (job_id,)
    if kinds is not None:
        where += f" AND error_kind IN ({', '.join('?' * len(kinds))})"
        params += tuple(kinds)
    moved = connection.exec_driver_sql(
        f"UPDATE job_item SET status = 'pending', error = NULL, error_kind = NULL, finished_at = NULL "
        f"WHERE job_id = ? AND {where}",
        params,
    ).rowcount
    connection.exec_driver_sql(
        "UPDATE job_item SET status = 'pending' WHERE job_id = ? AND status = 'running'", (job_id,)
    )
    recount(connection, job_id)
    return int(moved)


def _open_items(connection: Connection, job_id: int, wanted: Sequence[int]) -> set[int]:
    open_items: set[int] = set()
    for start in range(0, len(wanted), ITEM_CHUNK):
        chunk = wanted[start : start + ITEM_CHUNK]
        found = connection.exec_driver_sql(
            f"SELECT idx FROM job_item WHERE job_id = ? AND status != 'done' AND idx IN ({','.join('?' * len(chunk))})",
            (job_id, *chunk),
        )
        open_items.update(int(idx) for (idx,) in found.fetchall())
    return open_items


def _mark_done(connection: Connection, job_id: int, done: Sequence[tuple[int, str]], now: float) -> None:
    if done:
        connection.exec_driver_sql(
            "UPDATE job_item SET status = 'done', example_id = ?, error = NULL, error_kind = NULL, finished_at = ?, "
            "attempt = attempt + 1 WHERE job_id = ? AND idx = ?",
            [(example_id, now, job_id, idx) for idx, example_id in done],
        )


def record(
    source: Session | Connection,
    job_id: int,
    done: Sequence[ItemDone],
    failed: Sequence[ItemFailure],
    updated: Sequence[ItemUpdate] = (),
) -> tuple[int, int, list[ItemUpdate]]:
    """In the caller's write transaction: each done item becomes done with its example (written
    here, visible at once), or with its change of an existing example applied (`updated`); each
    failed one failed with its reason. An item already done is left as it is and its example not
    written, so an item never makes two nor changes one twice. Returns (done, failed) recorded and
    the updates applied."""
    connection = _connection(source)
    open_items = _open_items(
        connection, job_id, [d.idx for d in done] + [u.idx for u in updated] + [f.idx for f in failed]
    )
    now = time.time()
    new_done = [d for d in done if d.idx in open_items]
    new_updated = [u for u in updated if u.idx in open_items]
    new_failed = [f for f in failed if f.idx in open_items]
    insert_values(connection, [d.example for d in new_done])
    for update in new_updated:
        update.apply(connection)
    _mark_done(
        connection,
        job_id,
        [(d.idx, d.example["id"]) for d in new_done] + [(u.idx, u.example_id) for u in new_updated],
        now,
    )
    if new_failed:
        connection.exec_driver_sql(
            "UPDATE job_item SET status = 'failed', error = ?, error_kind = ?, attempt = attempt + ?, finished_at = ? "
            "WHERE job_id = ? AND idx = ?",
            [(f.reason, f.kind.value, f.attempts, now, job_id, f.idx) for f in new_failed],
        )
    made = len(new_done) + len(new_updated)
    if made or new_failed:
        connection.exec_driver_sql(
            "UPDATE job SET done = done + ?, failed = failed + ? WHERE id = ?", (made, len(new_failed), job_id)
        )
    return made, len(new_failed), new_updated


def add_results(source: Session | Connection, job_id: int, tally: dict[str, float]) -> dict[str, float]:
    """Adds `tally` (plain counts: no content) to the job's results, params["results"], in the
    caller's transaction; returns the results now."""
    connection = _connection(source)
    now = results(connection, job_id)
    if not tally:
        return now
    for name, value in tally.items():
        now[name] = now.get(name, 0) + value
    connection.exec_driver_sql(
        "UPDATE job SET params = json_set(params, '$.results', json(?)) WHERE id = ?", (json.dumps(now), job_id)
    )
    return now


def results(source: Session | Connection, job_id: int) -> dict[str, float]:
    found = _connection(source).exec_driver_sql("SELECT params FROM job WHERE id = ?", (job_id,)).first()
    if found is None:
        return {}
    params = json.loads(found[0]) if isinstance(found[0], str) else found[0]
    return results_of(params) if isinstance(params, dict) else {}


def skip(source: Session | Connection, job_id: int, idxs: Sequence[int]) -> int:
    """Open items of `idxs` become done without an example (a target's item not needed); returns how many."""
    connection, now, moved = _connection(source), time.time(), 0
    for start in range(0, len(idxs), ITEM_CHUNK):
        chunk = tuple(idxs[start : start + ITEM_CHUNK])
        moved += connection.exec_driver_sql(
            f"UPDATE job_item SET status = 'done', error = NULL, error_kind = NULL, finished_at = ? "
            f"WHERE job_id = ? AND status != 'done' AND idx IN ({','.join('?' * len(chunk))})",
            (now, job_id, *chunk),
        ).rowcount
    if moved:
        connection.exec_driver_sql("UPDATE job SET done = done + ? WHERE id = ?", (moved, job_id))
    return int(moved)


def skip_pending(source: Session | Connection, job_id: int) -> int:
    """Every pending item becomes done without an example (the job's target is met); returns how many."""
    connection = _connection(source)
    moved = connection.exec_driver_sql(
        "UPDATE job_item SET status = 'done', finished_at = ? WHERE job_id = ? AND status = 'pending'",
        (time.time(), job_id),
    ).rowcount
    if moved:
        connection.exec_driver_sql("UPDATE job SET done = done + ? WHERE id = ?", (moved, job_id))
    return int(moved)


def set_state(source: Session | Connection, job_id: int, **values: Any) -> None:
    sets = ", ".join(f"{name} = ?" for name in values)
    _connection(source).exec_driver_sql(f"UPDATE job SET {sets} WHERE id = ?", (*values.values(), job_id))


def stored_now() -> str:
    """utcnow() as SQLAlchemy stores a DateTime in SQLite (for raw UPDATEs)."""
    return f"{utcnow():%Y-%m-%d %H:%M:%S.%f}"


# --- key rotation ---------------------------------------------------------------------------------
def reseal(session: Session, old: AccountKeys, new: AccountKeys, owner_id: int) -> int:
    """Moves the owner's jobs (name, spec, every item's inputs) from `old` keys to `new`, in the
    caller's transaction; returns how many jobs. A value that does not open under `old` stays as it is."""
    moved = 0
    old_job, new_job = old.cipher(JOB_TABLE), new.cipher(JOB_TABLE)
    old_items, new_items = old.cipher(ITEM_TABLE), new.cipher(ITEM_TABLE)
    connection = session.connection()
    rows = session.exec(select(Job).where(Job.owner_id == owner_id, Job.key_check == old.check)).all()
    for row in rows:
        assert row.id is not None
        for column in ("name", "spec"):
            try:
                plain = old_job.open(column, str(row.id), getattr(row, column))
            except SealBroken:
                continue
            setattr(row, column, new_job.seal(column, str(row.id), plain))
        row.key_check = new.check
        found = connection.exec_driver_sql("SELECT idx, inputs FROM job_item WHERE job_id = ?", (row.id,)).fetchall()
        updates = []
        for idx, inputs in found:
            rid = item_row_id(row.id, int(idx))
            try:
                updates.append((new_items.seal("inputs", rid, old_items.open("inputs", rid, inputs)), row.id, idx))
            except SealBroken:
                continue
        if updates:
            connection.exec_driver_sql("UPDATE job_item SET inputs = ? WHERE job_id = ? AND idx = ?", updates)
        moved += 1
    session.flush()
    return moved


# --- pools of model servers -----------------------------------------------------------------------
def write_endpoint_stats(source: Session | Connection, job_id: int, stats: list[dict[str, Any]]) -> None:
    _connection(source).exec_driver_sql("UPDATE job SET endpoint_stats = ? WHERE id = ?", (json.dumps(stats), job_id))


def endpoint_stats(source: Session | Connection, job_id: int) -> list[dict[str, Any]]:
    found = _connection(source).exec_driver_sql("SELECT endpoint_stats FROM job WHERE id = ?", (job_id,)).first()
    if found is None or found[0] is None:
        return []
    value = json.loads(found[0]) if isinstance(found[0], str) else found[0]
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []
