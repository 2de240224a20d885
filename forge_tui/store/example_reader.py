"""Reading and opening example rows with the sqlite3 module alone.

Whole-dataset reads (export) open every sealed field of every row; at 100k rows SQLAlchemy's
result processing and pydantic's model_construct cost more than the decryption. This module needs
neither, so export worker processes start quickly, and it builds the models without validation: the
sealed JSON was written by store.examples and authenticated when it was opened.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel

from forge_tui.core.models import Example, ExampleContent, ExampleMeta
from forge_tui.store.vault import FieldCipher
from forge_tui.store.visibility import VISIBLE_SQL

COLUMNS = (
    "id",
    "dataset_id",
    "system_prompt",
    "user_prompt",
    "output",
    "slots",
    "tool_calls",
    "rejected",
    "turns",
    "model",
    "params",
    "prompt_tokens",
    "completion_tokens",
    "template_id",
    "created_at",
    "updated_at",
)
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM example WHERE dataset_id = ? AND {VISIBLE_SQL} AND "

SEALED = ("system_prompt", "user_prompt", "output", "slots", "tool_calls", "rejected", "turns")
_EMPTY_JSON: dict[bytes | str, Any] = {b"[]": list, b"{}": dict, "[]": list, "{}": dict}
M = TypeVar("M", bound=BaseModel)


def json_value(raw: bytes | str) -> Any:
    empty = _EMPTY_JSON.get(raw)  # most examples have no slots, tool calls or rejected answers
    return empty() if empty is not None else orjson.loads(raw)


def trusted(model: type[M], values: dict[str, Any]) -> M:
    """A model from values known to be valid: what model_construct does, at a fifth of its cost
    (it looks up every field's default even when all are given)."""
    made = model.__new__(model)
    object.__setattr__(made, "__dict__", values)
    object.__setattr__(made, "__pydantic_fields_set__", set(values))
    object.__setattr__(made, "__pydantic_extra__", None)
    object.__setattr__(made, "__pydantic_private__", None)
    return made


def build(
    cipher: FieldCipher,
    rid: str,
    dataset_id: int,
    sealed: tuple[bytes, bytes, bytes, bytes, bytes, bytes, bytes | None],
    meta: dict[str, Any],
    created_at: datetime,
    updated_at: datetime,
) -> Example:
    """Opens the sealed fields (system, user, output, slots, tool_calls, rejected, turns); raises
    SealBroken naming the row and column that fail."""
    system_prompt, user_prompt, output, slots, tool_calls, rejected, turns = cipher.open_fields(rid, SEALED, sealed)
    # Only turns may be NULL (a single exchange).
    assert system_prompt is not None and user_prompt is not None and output is not None
    assert slots is not None and tool_calls is not None and rejected is not None
    content = trusted(
        ExampleContent,
        {
            "system_prompt": system_prompt.decode(),
            "user_prompt": user_prompt.decode(),
            "slots": json_value(slots),
            "output": output.decode(),
            "tool_calls": json_value(tool_calls),
            "rejected": json_value(rejected),
            "turns": json_value(turns) if turns is not None else [],
        },
    )
    return trusted(
        Example,
        {
            "id": rid,
            "dataset_id": dataset_id,
            "content": content,
            "meta": trusted(ExampleMeta, meta),
            "created_at": created_at,
            "updated_at": updated_at,
        },
    )


def _utc(stored: str) -> datetime:
    """Times are stored as UTC without an offset (store.db reads them back as aware)."""
    moment = datetime.fromisoformat(stored)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def connect(db_path: Path) -> sqlite3.Connection:
    """A read-only connection (WAL lets it read while the app writes)."""
    connection = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
    connection.execute("PRAGMA busy_timeout = 5000")
    return connection


def read(
    connection: sqlite3.Connection, dataset_id: int, ids: Sequence[str], contiguous: bool = True
) -> list[tuple[Any, ...]]:
    """The rows of `ids` (in creation order) in the dataset, as COLUMNS tuples. Ids that are
    contiguous in the dataset are read with one range scan, quicker than a lookup per id (rows
    added since are dropped before anything is opened); others (a split's side) by id."""
    if not ids:
        return []
    if not contiguous:
        marks = ",".join("?" * len(ids))
        return connection.execute(f"{_SELECT}id IN ({marks}) ORDER BY id", (dataset_id, *ids)).fetchall()
    found = connection.execute(f"{_SELECT}id BETWEEN ? AND ? ORDER BY id", (dataset_id, ids[0], ids[-1])).fetchall()
    if len(found) != len(ids):
        wanted = set(ids)
        found = [row for row in found if row[0] in wanted]
    return found


def open_values(cipher: FieldCipher, values: tuple[Any, ...]) -> Example:
    """An Example from a tuple read() returned."""
    (rid, dataset_id, sp, up, out, slots, calls, rejected, turns, model, params, pt, ct, tid, created, updated) = values
    meta = {
        "model": model,
        "params": json_value(params),
        "prompt_tokens": pt,
        "completion_tokens": ct,
        "template_id": tid,
    }
    created_at = _utc(created)
    stamps = created_at, created_at if updated == created else _utc(updated)
    return build(cipher, rid, dataset_id, (sp, up, out, slots, calls, rejected, turns), meta, *stamps)
