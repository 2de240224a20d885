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
from itertools import product
from pathlib import Path
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel

from forge_tui.core.errors import DamagedRow
from forge_tui.core.filter_language import COLUMNS as FILTER_COLUMNS
from forge_tui.core.filter_language import SEALED_COLUMN
from forge_tui.core.models import Example, ExampleContent, ExampleMeta, ExampleSource, ReviewState
from forge_tui.i18n import _
from forge_tui.store.vault import BOUND_VERSION, FieldCipher, SealBroken
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
    "reasoning",
    "extra",
    "model",
    "params",
    "prompt_tokens",
    "completion_tokens",
    "template_id",
    "desirability",
    "created_at",
    "updated_at",
    "source",
    "job_id",
    "review",
    "language_flag",
    "score",
)
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM example WHERE dataset_id = ? AND {VISIBLE_SQL} AND "

_SOURCES = frozenset(ExampleSource)
_REVIEWS = frozenset(ReviewState)

SEALED = (
    "system_prompt", "user_prompt", "output", "slots", "tool_calls", "rejected", "turns", "reasoning", "extra",
    "params",
)  # fmt: skip
# Sealed columns that may be NULL. Which of them a row has is bound into the seal of ANCHOR (a column
# every row has), so a field set to NULL behind the app's back fails to open instead of vanishing.
# Rows sealed before this (ANCHOR at vault.SEAL_VERSION) carry no marker until re-sealed (legacy).
# New names go at the end: the marker of a row without them stays what it was (rows sealed when only
# turns existed name at most "turns", which is still their marker).
OPTIONAL_SEALED = ("turns", "reasoning", "extra")
ANCHOR = "output"
TABLE = "example"
_EMPTY_JSON: dict[bytes | str, Any] = {b"[]": list, b"{}": dict, "[]": list, "{}": dict}
M = TypeVar("M", bound=BaseModel)


def presence_marker(optional: Sequence[object]) -> bytes:
    """What ANCHOR's seal binds: the names of the OPTIONAL_SEALED columns that hold a value (in that
    order, comma-separated; empty for none). `optional` holds their values in OPTIONAL_SEALED order."""
    return _MARKERS[tuple(value is not None for value in optional)]


_MARKERS = {
    flags: ",".join(name for name, on in zip(OPTIONAL_SEALED, flags, strict=True) if on).encode()
    for flags in product((False, True), repeat=len(OPTIONAL_SEALED))
}


# open_values unpacks the optional columns in this order.
assert OPTIONAL_SEALED == ("turns", "reasoning", "extra")


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


def _is_flag(value: object) -> bool:
    """How SQLite holds a boolean (desirability): the int 0 or 1, not 1.0 or "1"."""
    return type(value) is int and value in (0, 1)


def _what(value: object) -> str:
    """How a damaged value reads in a message."""
    if value is None:
        return _("is empty (NULL)")
    if isinstance(value, str):
        return _("holds text where it should not")
    if isinstance(value, int | float):
        return _("holds a number where it should not")
    return _("holds bytes where it should not")


def _presence_problem(cipher: FieldCipher, rid: str, anchor: bytes, optional: Sequence[object]) -> DamagedRow | None:
    """ANCHOR failed to open with the row's presence marker: if it opens with one optional field's
    presence flipped, that field is the damage (set to NULL, or put into a row that had none)."""
    if not isinstance(anchor, bytes) or anchor[:1] != bytes([BOUND_VERSION]):
        return None
    for i, column in enumerate(OPTIONAL_SEALED):
        flipped = [*optional]
        flipped[i] = None if optional[i] is not None else b""
        try:
            cipher.open(ANCHOR, rid, anchor, presence_marker(flipped))
        except DamagedRow:
            continue
        if optional[i] is None:
            return DamagedRow(TABLE, column, rid, _("is missing (NULL) though the row was sealed with it"))
        return DamagedRow(TABLE, column, rid, _("holds a value though the row was sealed without it"))
    return None


def open_values(cipher: FieldCipher, values: Sequence[Any]) -> Example:
    """An Example from a row of COLUMNS as SQLite stores them (read() and store.examples return
    these). Raises DamagedRow naming the row and the field when the row cannot be read: a seal that
    fails to open, a missing field, a value of the wrong kind, invalid JSON, a time that is not one."""
    (
        rid, dataset_id, sp, up, out, slots, calls, rejected, turns, reasoning, extra, model, params, pt, ct, tid,
        desirability, created, updated, source, job_id, review, language_flag, score,
    ) = values  # fmt: skip
    sealed = (sp, up, out, slots, calls, rejected, turns, reasoning, extra, params)
    marker = _MARKERS[(turns is not None, reasoning is not None, extra is not None)]
    try:
        opened = cipher.open_fields(rid, SEALED, sealed, marker)
    except SealBroken as exc:
        if exc.column == ANCHOR:
            raise _presence_problem(cipher, rid, out, (turns, reasoning, extra)) or exc from None
        raise
    (
        system_prompt, user_prompt, output, slots_json, calls_json, rejected_json, turns_json, reasoning_text,
        extra_json, params_json,
    ) = opened  # fmt: skip
    if (
        params_json is None  # sealed at the first unlock after revision 0004 for every row that can open
        or system_prompt is None
        or user_prompt is None
        or output is None
        or slots_json is None
        or calls_json is None
        or rejected_json is None
    ):  # only the OPTIONAL_SEALED columns may be NULL (empty)
        missing = next(i for i, value in enumerate(opened) if value is None and SEALED[i] not in OPTIONAL_SEALED)
        raise DamagedRow(TABLE, SEALED[missing], rid, _("is empty (NULL)"))
    try:  # sealed values were authenticated; this fails only for content this version cannot read
        content = trusted(
            ExampleContent,
            {
                "system_prompt": system_prompt.decode(),
                "user_prompt": user_prompt.decode(),
                "slots": json_value(slots_json),
                "output": output.decode(),
                "tool_calls": json_value(calls_json),
                "rejected": json_value(rejected_json),
                "turns": json_value(turns_json) if turns_json is not None else [],
                "reasoning": reasoning_text.decode() if reasoning_text is not None else "",
                "extra": json_value(extra_json) if extra_json is not None else {},
            },
        )
        params_value = json_value(params_json)
        created_at = _utc(created)
        updated_at = created_at if updated == created else _utc(updated)
    except (ValueError, TypeError):
        raise _plain_problem(rid, values, params_json) from None
    if (
        type(model) is not str
        or type(params_value) is not dict
        or (pt is not None and type(pt) is not int)
        or (ct is not None and type(ct) is not int)
        or (tid is not None and type(tid) is not int)
        or (desirability is not None and not _is_flag(desirability))
        or source not in _SOURCES
        or review not in _REVIEWS
        or (job_id is not None and type(job_id) is not int)
        or (language_flag is not None and type(language_flag) is not str)
        or (score is not None and type(score) not in (float, int))
    ):
        raise _plain_problem(rid, values, params_json)
    meta = {
        "model": model,
        "params": params_value,
        "prompt_tokens": pt,
        "completion_tokens": ct,
        "template_id": tid,
        "desirability": None if desirability is None else desirability == 1,
        "source": ExampleSource(source),
        "job_id": job_id,
        "review": ReviewState(review),
        "language_flag": language_flag,
        "score": None if score is None else float(score),
    }
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


def _plain_problem(rid: str, values: Sequence[Any], params_json: bytes) -> DamagedRow:
    """What is wrong with a row whose sealed fields opened (open_values' slow path, for the message);
    `params_json` is the opened params."""
    row = dict(zip(COLUMNS, values, strict=True))
    try:
        params_value = json_value(params_json)
    except (ValueError, TypeError):
        return DamagedRow(TABLE, "params", rid, _("is not valid JSON"))
    if type(params_value) is not dict:
        return DamagedRow(TABLE, "params", rid, _("is not a JSON object"))
    for column in ("created_at", "updated_at"):
        try:
            _utc(row[column])
        except (ValueError, TypeError):
            return DamagedRow(
                TABLE, column, rid, _("is not a time") if row[column] is not None else _("is empty (NULL)")
            )
    for column, kind in (("model", str), ("prompt_tokens", int), ("completion_tokens", int), ("template_id", int)):
        value = row[column]
        if type(value) is not kind and (value is not None or column == "model"):
            return DamagedRow(TABLE, column, rid, _what(value))
    if row["desirability"] is not None and not _is_flag(row["desirability"]):
        return DamagedRow(TABLE, "desirability", rid, _("is neither 0, 1 nor empty (NULL)"))
    for column, allowed in (("source", _SOURCES), ("review", _REVIEWS)):
        if row[column] not in allowed:
            return DamagedRow(TABLE, column, rid, _("is not one of {values}").format(values=", ".join(sorted(allowed))))
    for column, kind in (("job_id", int), ("language_flag", str)):
        if row[column] is not None and type(row[column]) is not kind:
            return DamagedRow(TABLE, column, rid, _what(row[column]))
    if row["score"] is not None and type(row["score"]) not in (float, int):
        return DamagedRow(TABLE, "score", rid, _what(row["score"]))
    return DamagedRow(TABLE, "content", rid, _("holds what this version cannot read"))


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


def slots_and_outputs(
    connection: sqlite3.Connection, cipher: FieldCipher, dataset_id: int
) -> tuple[list[tuple[dict[str, str], str]], int]:
    """Every example's slots and answer (opened, in creation order) and how many rows failed to open:
    what the stats need, at a fraction of open_values' cost (two fields of ten are opened)."""
    found = connection.execute(
        f"SELECT id, output, slots, {', '.join(OPTIONAL_SEALED)} FROM example WHERE dataset_id = ? AND {VISIBLE_SQL}",
        (dataset_id,),
    )
    opened: list[tuple[dict[str, str], str]] = []
    broken = 0
    for rid, out, slots, turns, reasoning, extra in found:
        marker = _MARKERS[(turns is not None, reasoning is not None, extra is not None)]
        try:
            output, slots_json = cipher.open_fields(rid, (ANCHOR, "slots"), (out, slots), marker)
            if output is None or slots_json is None:
                raise DamagedRow(TABLE, "slots" if output is not None else ANCHOR, rid, _("is empty (NULL)"))
            opened.append((json_value(slots_json), output.decode()))
        except (DamagedRow, ValueError, TypeError):
            broken += 1
    return opened, broken


def filter_values(
    connection: sqlite3.Connection, cipher: FieldCipher, dataset_id: int, ids: Sequence[str], sealed: Sequence[str]
) -> tuple[list[tuple[str, dict[str, Any]]], int]:
    """For the filter language's in-memory test: each row's plain columns by their filter names and the
    `sealed` columns opened (core.filter_language.SEALED_COLUMN's names; slots under "slot:NAME"), without
    opening the rest. Returns (id, values) per row that opened, and how many did not."""
    plain = [(c.name, c.sql) for c in FILTER_COLUMNS.values() if c.sql is not None]
    names = [*(column for _name, column in plain), *sealed, *OPTIONAL_SEALED]
    found: list[tuple[str, dict[str, Any]]] = []
    broken = 0
    keys = {column: name for name, column in SEALED_COLUMN.items()}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = connection.execute(
            f"SELECT id, {', '.join(names)} FROM example WHERE dataset_id = ? AND {VISIBLE_SQL} "
            f"AND id IN ({','.join('?' * len(chunk))}) ORDER BY id",
            (dataset_id, *chunk),
        )
        for rid, *row in rows:
            values = {name: value for (name, _column), value in zip(plain, row, strict=False)}
            turns, reasoning, extra = row[-3:]
            marker = _MARKERS[(turns is not None, reasoning is not None, extra is not None)]
            try:
                opened = cipher.open_fields(rid, tuple(sealed), row[len(plain) : len(plain) + len(sealed)], marker)
                for column, value in zip(sealed, opened, strict=True):
                    if value is None:
                        raise DamagedRow(TABLE, column, rid, _("is empty (NULL)"))
                    if column == "slots":
                        values.update({f"slot:{k}": str(v) for k, v in json_value(value).items()})
                    else:
                        values[keys[column]] = value.decode()
            except (DamagedRow, ValueError, TypeError, AttributeError):
                broken += 1
                continue
            found.append((rid, values))
    return found, broken
