"""Example rows: sealing content into columns and opening it again."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import Session

from forge_tui.core.json_text import compact
from forge_tui.core.models import Example, ExampleContent, ExampleMeta
from forge_tui.store.example_reader import SEALED, build
from forge_tui.store.tables import Example as ExampleRow
from forge_tui.store.tables import utcnow
from forge_tui.store.vault import FieldCipher
from forge_tui.store.visibility import VISIBLE_SQL

TABLE = "example"


_RANDOM_BITS = 80
_id_lock = threading.Lock()
_last_id = (0, 0)


def new_example_id() -> str:
    """48 bits of milliseconds then 80 random bits: unique across processes and sorted by creation.
    Within one millisecond this process counts up from the last random part (as monotonic ULIDs do),
    so rows added together keep the order they were given in."""
    global _last_id
    with _id_lock:
        ms = int(time.time() * 1000)
        last_ms, last_random = _last_id
        if ms <= last_ms and last_random + 1 < 1 << _RANDOM_BITS:
            ms, random_part = last_ms, last_random + 1
        else:
            random_part = int.from_bytes(os.urandom(_RANDOM_BITS // 8))
        _last_id = (ms, random_part)
    return f"{ms:012x}{random_part:020x}"


def sealed_values(
    cipher: FieldCipher,
    dataset_id: int,
    content: ExampleContent,
    meta: ExampleMeta,
    example_id: str | None = None,
) -> dict[str, Any]:
    """The column values of a new row, content sealed (for a bulk insert without ORM objects)."""
    row_id = example_id or new_example_id()
    seal = cipher.seal
    now = utcnow()
    return dict(
        id=row_id,
        dataset_id=dataset_id,
        template_id=meta.template_id,
        system_prompt=seal("system_prompt", row_id, content.system_prompt.encode()),
        user_prompt=seal("user_prompt", row_id, content.user_prompt.encode()),
        output=seal("output", row_id, content.output.encode()),
        slots=seal("slots", row_id, compact(content.slots)),
        tool_calls=seal("tool_calls", row_id, compact(content.tool_calls)),
        rejected=seal("rejected", row_id, compact(content.rejected)),
        # Most examples are one exchange: no turns, no sealed value (NULL).
        turns=seal("turns", row_id, compact(content.turns)) if content.turns else None,
        rejected_count=len(content.rejected),
        model=meta.model,
        params=meta.params,
        prompt_tokens=meta.prompt_tokens,
        completion_tokens=meta.completion_tokens,
        created_at=now,
        updated_at=now,
    )


_INSERT_COLUMNS = (
    "id", "dataset_id", "template_id", "system_prompt", "user_prompt", "output", "slots", "tool_calls", "rejected",
    "turns", "rejected_count", "model", "params", "prompt_tokens", "completion_tokens", "created_at", "updated_at",
    "insert_id",
)  # fmt: skip
_INSERT = f"INSERT INTO example ({', '.join(_INSERT_COLUMNS)}) VALUES ({', '.join('?' * len(_INSERT_COLUMNS))})"


def _stored_time(moment: datetime) -> str:
    """As SQLAlchemy stores a DateTime in SQLite (UTC here; the offset is not kept)."""
    return f"{moment:%Y-%m-%d %H:%M:%S.%f}"


def insert_values(
    session: Session | Connection, values: Sequence[dict[str, Any]], insert_id: int | None = None
) -> None:
    """A bulk insert of sealed_values() dicts, or of rows delete_ids() returned: one executemany
    with the values as SQLite stores them (the ORM's per-row processing cost more than sealing).
    `insert_id` tags the rows as written by that staged insert (store.staged_inserts)."""
    if not values:
        return
    rows = [
        (
            v["id"], v["dataset_id"], v["template_id"], v["system_prompt"], v["user_prompt"], v["output"], v["slots"],
            v["tool_calls"], v["rejected"], v["turns"], v["rejected_count"], v["model"], json.dumps(v["params"]),
            v["prompt_tokens"], v["completion_tokens"], _stored_time(v["created_at"]), _stored_time(v["updated_at"]),
            insert_id,
        )
        for v in values
    ]  # fmt: skip
    connection = session.connection() if isinstance(session, Session) else session
    connection.exec_driver_sql(_INSERT, rows)


def ids(session: Session, dataset_id: int) -> list[str]:
    """Every example id of the dataset, in creation order (no content is read)."""
    # Without the ORM's result processing: a third of a second per 100k ids otherwise.
    found = session.connection().exec_driver_sql(
        f"SELECT id FROM example WHERE dataset_id = ? AND {VISIBLE_SQL} ORDER BY id", (dataset_id,)
    )
    return list(found.scalars())


def open_row(cipher: FieldCipher, row: Any) -> Example:
    """Opens every sealed field; raises SealBroken naming the row and column that fail. `row` is an
    ExampleRow or a plain result row with the same columns (see window)."""
    meta = {
        "model": row.model,
        "params": row.params,
        "prompt_tokens": row.prompt_tokens,
        "completion_tokens": row.completion_tokens,
        "template_id": row.template_id,
    }
    sealed = tuple(getattr(row, column) for column in SEALED)
    return build(cipher, row.id, row.dataset_id, sealed, meta, row.created_at, row.updated_at)


def _table() -> Any:
    return ExampleRow.__table__  # type: ignore[attr-defined]


def window(session: Session, dataset_id: int, offset: int, limit: int, after: str | None = None) -> list[Any]:
    """Rows `offset` .. `offset + limit` in creation order, as plain rows. With `after` (the id of
    the row just before `offset`) the index is entered at that id (keyset); without, SQLite counts
    `offset` entries of the (dataset_id, id, insert_id) index, which touches no row data."""
    table = _table()
    query = sa_select(table).where(table.c.dataset_id == dataset_id, text(VISIBLE_SQL))
    if after is not None:
        query = query.where(table.c.id > after).order_by(table.c.id).limit(limit)
    else:
        query = query.order_by(table.c.id).limit(limit).offset(offset)
    return list(session.execute(query).all())


def plain_by_ids(session: Session, example_ids: Sequence[str]) -> list[Any]:
    table = _table()
    found: list[Any] = []
    for start in range(0, len(example_ids), 500):
        chunk = list(example_ids[start : start + 500])
        found += session.execute(sa_select(table).where(table.c.id.in_(chunk), text(VISIBLE_SQL))).all()
    order = {example_id: i for i, example_id in enumerate(example_ids)}
    return sorted(found, key=lambda row: order[row.id])


def delete_ids(session: Session, dataset_id: int, example_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Deletes the rows and returns their stored values (still sealed), to put them back on undo."""
    table = _table()
    removed: list[dict[str, Any]] = []
    for start in range(0, len(example_ids), 500):
        chunk = list(example_ids[start : start + 500])
        where = (table.c.dataset_id == dataset_id) & table.c.id.in_(chunk)
        removed += [dict(row._mapping) for row in session.execute(sa_select(table).where(where)).all()]
        session.execute(table.delete().where(where))
    return removed


def replace_content(session: Session, cipher: FieldCipher, example_id: str, content: ExampleContent) -> None:
    """Seals new content into an existing row (same id, so the associated data still binds it)."""
    row = session.get(ExampleRow, example_id)
    if row is None:
        raise LookupError(example_id)
    meta = ExampleMeta(
        model=row.model, params=row.params, prompt_tokens=row.prompt_tokens,
        completion_tokens=row.completion_tokens, template_id=row.template_id,
    )  # fmt: skip
    values = sealed_values(cipher, row.dataset_id, content, meta, example_id)
    for column in SEALED:
        setattr(row, column, values[column])
    row.rejected_count = values["rejected_count"]
    row.updated_at = utcnow()
    session.add(row)


def get(session: Session, example_id: str) -> ExampleRow | None:
    return session.get(ExampleRow, example_id)
