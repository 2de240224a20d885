"""Example rows: sealing content into columns and opening it again."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy.engine import Connection
from sqlmodel import Session

from forge_tui.core.desirability import DesirabilityFilter
from forge_tui.core.errors import DamagedRow
from forge_tui.core.example_filter import ExampleFilter, ExampleOrder, ReviewFilter, SourceFilter
from forge_tui.core.json_text import compact
from forge_tui.core.models import Example, ExampleContent, ExampleMeta, ReviewState
from forge_tui.store.example_reader import ANCHOR, COLUMNS, OPTIONAL_SEALED, open_values, presence_marker
from forge_tui.store.tables import utcnow
from forge_tui.store.vault import SEAL_VERSION, FieldCipher
from forge_tui.store.visibility import VISIBLE_SQL

ALL = ExampleFilter()
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


def sealed_content(cipher: FieldCipher, row_id: str, content: ExampleContent) -> dict[str, Any]:
    """The sealed columns of a row (and rejected_count). The anchor's seal binds which optional
    columns are set (example_reader.presence_marker), so a NULL put in their place is noticed."""
    seal = cipher.seal
    # Most examples are one exchange without reasoning or kept-aside fields: no sealed value (NULL).
    turns = seal("turns", row_id, compact(content.turns)) if content.turns else None
    reasoning = seal("reasoning", row_id, content.reasoning.encode()) if content.reasoning else None
    extra = seal("extra", row_id, compact(content.extra)) if content.extra else None
    return dict(
        system_prompt=seal("system_prompt", row_id, content.system_prompt.encode()),
        user_prompt=seal("user_prompt", row_id, content.user_prompt.encode()),
        output=seal(ANCHOR, row_id, content.output.encode(), presence_marker((turns, reasoning, extra))),
        slots=seal("slots", row_id, compact(content.slots)),
        tool_calls=seal("tool_calls", row_id, compact(content.tool_calls)),
        rejected=seal("rejected", row_id, compact(content.rejected)),
        turns=turns,
        reasoning=reasoning,
        extra=extra,
        rejected_count=len(content.rejected),
    )


def sealed_values(
    cipher: FieldCipher,
    dataset_id: int,
    content: ExampleContent,
    meta: ExampleMeta,
    example_id: str | None = None,
) -> dict[str, Any]:
    """The column values of a new row, content sealed (for a bulk insert without ORM objects)."""
    row_id = example_id or new_example_id()
    now = utcnow()
    return dict(
        id=row_id,
        dataset_id=dataset_id,
        template_id=meta.template_id,
        **sealed_content(cipher, row_id, content),
        model=meta.model,
        params=cipher.seal("params", row_id, compact(meta.params)),
        prompt_tokens=meta.prompt_tokens,
        completion_tokens=meta.completion_tokens,
        desirability=meta.desirability,
        source=meta.source.value,
        job_id=meta.job_id,
        review=meta.review.value,
        language_flag=meta.language_flag,
        score=meta.score,
        created_at=now,
        updated_at=now,
    )


_INSERT_COLUMNS = (
    "id", "dataset_id", "template_id", "system_prompt", "user_prompt", "output", "slots", "tool_calls", "rejected",
    "turns", "reasoning", "extra", "rejected_count", "model", "params", "prompt_tokens", "completion_tokens",
    "desirability", "source", "job_id", "review", "language_flag", "score", "created_at", "updated_at", "insert_id",
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
            v["tool_calls"], v["rejected"], v["turns"], v["reasoning"], v["extra"], v["rejected_count"], v["model"],
            v["params"], v["prompt_tokens"], v["completion_tokens"], v["desirability"], v["source"], v["job_id"],
            v["review"], v["language_flag"], v.get("score"), _stored_time(v["created_at"]),
            _stored_time(v["updated_at"]), insert_id,
        )
        for v in values
    ]  # fmt: skip
    connection = session.connection() if isinstance(session, Session) else session
    connection.exec_driver_sql(_INSERT, rows)


# The test a DesirabilityFilter adds to a WHERE clause; the (dataset_id, desirability, id, insert_id)
# index answers it without reading rows, as (dataset_id, review, ...) and (dataset_id, source, ...)
# answer the review and source tests, and (job_id) a job's.
_WANTED = {
    DesirabilityFilter.ALL: "",
    DesirabilityFilter.DESIRABLE: " AND desirability = 1",
    DesirabilityFilter.UNDESIRABLE: " AND desirability = 0",
    DesirabilityFilter.UNLABELLED: " AND desirability IS NULL",
}


def _where(wanted: ExampleFilter) -> tuple[str, tuple[Any, ...]]:
    """What `wanted` adds to a WHERE clause, and its parameters."""
    sql, params = _WANTED[wanted.desirability], list[Any]()
    if wanted.review is not ReviewFilter.ALL:
        states = wanted.review.states
        sql += " AND review = ?" if len(states) == 1 else f" AND review IN ({', '.join('?' * len(states))})"
        params += [state.value for state in states]
    if wanted.source is not SourceFilter.ALL:
        sql += " AND source = ?"
        params.append(wanted.source.value)
    if wanted.job_id is not None:
        sql += " AND job_id = ?"
        params.append(wanted.job_id)
    if wanted.flagged is not None:
        sql += " AND language_flag IS NOT NULL" if wanted.flagged else " AND language_flag IS NULL"
    # A bound on the score leaves the unjudged (NULL) rows out, as SQL's comparisons do.
    if wanted.min_score is not None:
        sql += " AND score >= ?"
        params.append(wanted.min_score)
    if wanted.max_score is not None:
        sql += " AND score < ?"
        params.append(wanted.max_score)
    if wanted.judged is not None:
        sql += " AND score IS NOT NULL" if wanted.judged else " AND score IS NULL"
    return sql, tuple(params)


def ids(session: Session, dataset_id: int, wanted: ExampleFilter = ALL) -> list[str]:
    """Every example id of the dataset (of those `wanted`), in creation order (no content is read)."""
    where, params = _where(wanted)
    # Without the ORM's result processing: a third of a second per 100k ids otherwise.
    found = session.connection().exec_driver_sql(
        f"SELECT id FROM example WHERE dataset_id = ? AND {VISIBLE_SQL}{where} ORDER BY id", (dataset_id, *params)
    )
    return list(found.scalars())


def count(session: Session, dataset_id: int, wanted: ExampleFilter = ALL) -> int:
    where, params = _where(wanted)
    found = session.connection().exec_driver_sql(
        f"SELECT count(*) FROM example WHERE dataset_id = ? AND {VISIBLE_SQL}{where}", (dataset_id, *params)
    )
    return int(found.scalar_one())


def review_counts(session: Session, dataset_id: int) -> dict[ReviewState, int]:
    """How many examples of the dataset are in each review state (from the review index)."""
    found = session.connection().exec_driver_sql(
        f"SELECT review, count(*) FROM example WHERE dataset_id = ? AND {VISIBLE_SQL} GROUP BY review", (dataset_id,)
    )
    counted = {str(state): int(n) for state, n in found.all()}
    return {state: counted.get(state.value, 0) for state in ReviewState}


def set_review(session: Session, owner_id: int, example_ids: Sequence[str], state: ReviewState) -> int:
    """Sets the review state of those of `example_ids` that are in the owner's datasets; returns how
    many rows changed (those already in that state count too)."""
    changed = 0
    connection, now = session.connection(), _stored_time(utcnow())
    for start in range(0, len(example_ids), 500):
        chunk = tuple(example_ids[start : start + 500])
        result = connection.exec_driver_sql(
            f"UPDATE example SET review = ?, updated_at = ? WHERE id IN ({','.join('?' * len(chunk))}) "
            f"AND {VISIBLE_SQL} AND dataset_id IN (SELECT id FROM dataset WHERE owner_id = ?)",
            (state.value, now, *chunk, owner_id),
        )
        changed += result.rowcount
    return changed


# Rows are read as SQLite stores them (no ORM result processing, which fails on a damaged value
# before a row can be named) and opened by example_reader.open_values, which names what is wrong.
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM example"


def open_row(cipher: FieldCipher, row: Sequence[Any]) -> Example:
    """Opens a row of example_reader.COLUMNS (window, by_ids, get); raises DamagedRow naming the row
    and the field that fails."""
    return open_values(cipher, row)


def _rows(session: Session | Connection, sql: str, params: tuple[Any, ...]) -> list[Sequence[Any]]:
    connection = session.connection() if isinstance(session, Session) else session
    return list(connection.exec_driver_sql(sql, params).fetchall())


def window(
    session: Session,
    dataset_id: int,
    offset: int,
    limit: int,
    after: str | None = None,
    wanted: ExampleFilter = ALL,
    order: ExampleOrder = ExampleOrder.TIME,
) -> list[Sequence[Any]]:
    """Rows `offset` .. `offset + limit` in creation order (of those `wanted`). With `after` (the id
    of the row just before `offset`) the index is entered at that id (keyset); without, SQLite counts
    `offset` entries of the (dataset_id, [desirability,] id, insert_id) index, which touches no row data.
    By score (`after` is not used), see _by_score."""
    test, params = _where(wanted)
    where = f"WHERE dataset_id = ? AND {VISIBLE_SQL}{test}"
    if order is not ExampleOrder.TIME:
        return _by_score(session, where, (dataset_id, *params), offset, limit, order is ExampleOrder.SCORE_DESC)
    if after is not None:
        return _rows(session, f"{_SELECT} {where} AND id > ? ORDER BY id LIMIT ?", (dataset_id, *params, after, limit))
    return _rows(session, f"{_SELECT} {where} ORDER BY id LIMIT ? OFFSET ?", (dataset_id, *params, limit, offset))


def _by_score(
    session: Session, where: str, params: tuple[Any, ...], offset: int, limit: int, best_first: bool
) -> list[Sequence[Any]]:
    """A window by score, ties by id, the unjudged after every judged row. Two reads, each along the
    (dataset_id, score, id, insert_id) index (SQLite's NULLS LAST would sort the whole dataset)."""
    direction = "DESC" if best_first else "ASC"
    scored = f"{where} AND score IS NOT NULL ORDER BY score {direction}, id {direction}"
    found = _rows(session, f"{_SELECT} {scored} LIMIT ? OFFSET ?", (*params, limit, offset))
    if len(found) == limit:
        return found
    judged = offset + len(found)
    if not found:  # past the judged rows: how many there are says where the unjudged begin
        counted = session.connection().exec_driver_sql(
            f"SELECT count(*) FROM example {where} AND score IS NOT NULL", params
        )
        judged = int(counted.scalar_one())
    unjudged = f"{_SELECT} {where} AND score IS NULL ORDER BY id LIMIT ? OFFSET ?"
    return found + _rows(session, unjudged, (*params, limit - len(found), max(0, offset + len(found) - judged)))


def plain_by_ids(session: Session | Connection, example_ids: Sequence[str]) -> list[Sequence[Any]]:
    """The rows of `example_ids`, in that order (ids not found are left out)."""
    found: list[Sequence[Any]] = []
    for start in range(0, len(example_ids), 500):
        chunk = tuple(example_ids[start : start + 500])
        found += _rows(session, f"{_SELECT} WHERE id IN ({','.join('?' * len(chunk))}) AND {VISIBLE_SQL}", chunk)
    order = {example_id: i for i, example_id in enumerate(example_ids)}
    return sorted(found, key=lambda row: order[row[0]])


def get(session: Session, example_id: str) -> Sequence[Any] | None:
    found = _rows(session, f"{_SELECT} WHERE id = ?", (example_id,))
    return found[0] if found else None


def delete_ids(session: Session, dataset_id: int, example_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Deletes the rows and returns every column as stored (still sealed; damaged rows too), for
    restore_values to put them back on undo."""
    removed: list[dict[str, Any]] = []
    connection = session.connection()
    for start in range(0, len(example_ids), 500):
        chunk = tuple(example_ids[start : start + 500])
        where = f"dataset_id = ? AND id IN ({','.join('?' * len(chunk))})"
        result = connection.exec_driver_sql(f"SELECT * FROM example WHERE {where}", (dataset_id, *chunk))
        names = list(result.keys())
        removed += [dict(zip(names, row, strict=True)) for row in result.fetchall()]
        connection.exec_driver_sql(f"DELETE FROM example WHERE {where}", (dataset_id, *chunk))
    return removed


def restore_values(
    session: Session | Connection, stored: Sequence[dict[str, Any]], insert_id: int | None = None
) -> None:
    """Inserts rows delete_ids returned, every column as it was (damaged values too), tagged with
    `insert_id` as insert_values does."""
    if not stored:
        return
    names = [name for name in stored[0] if name != "insert_id"]
    quoted = ", ".join('"' + name + '"' for name in [*names, "insert_id"])
    sql = f"INSERT INTO example ({quoted}) VALUES ({', '.join('?' * (len(names) + 1))})"
    connection = session.connection() if isinstance(session, Session) else session
    connection.exec_driver_sql(sql, [(*(row[n] for n in names), insert_id) for row in stored])


class Keep(Enum):
    """replace_content's desirability when it is to stay as stored."""

    KEEP = "keep"


KEEP = Keep.KEEP


def replace_content(
    session: Session | Connection,
    cipher: FieldCipher,
    example_id: str,
    content: ExampleContent,
    desirability: bool | Keep | None = KEEP,
) -> None:
    """Seals new content into an existing row (same id, so the associated data still binds it), and
    sets its desirability unless that is KEEP."""
    values: dict[str, Any] = sealed_content(cipher, example_id, content)
    if desirability is not KEEP:
        values["desirability"] = desirability
    sets = ", ".join(f"{column} = ?" for column in values)
    connection = session.connection() if isinstance(session, Session) else session
    result = connection.exec_driver_sql(
        f"UPDATE example SET {sets}, updated_at = ? WHERE id = ?",
        (*values.values(), _stored_time(utcnow()), example_id),
    )
    if result.rowcount == 0:
        raise LookupError(example_id)


def replace_making(session: Session, cipher: FieldCipher, example_id: str, meta: ExampleMeta) -> None:
    """Sets how an existing example was made (model, sealed parameters, template, token counts) and
    its review state: an example continued in the Playground. Source, job, score and flag stay."""
    connection = session.connection()
    result = connection.exec_driver_sql(
        "UPDATE example SET model = ?, params = ?, template_id = ?, prompt_tokens = ?, completion_tokens = ?, "
        "review = ? WHERE id = ?",
        (
            meta.model,
            cipher.seal("params", example_id, compact(meta.params)),
            meta.template_id,
            meta.prompt_tokens,
            meta.completion_tokens,
            meta.review.value,
            example_id,
        ),
    )
    if result.rowcount == 0:
        raise LookupError(example_id)


def seal_legacy_params(session: Session, cipher: FieldCipher | None, dataset_id: int) -> int:
    """Seals the generation parameters a database from before revision 0004 held in plaintext;
    returns how many rows. Without a cipher (a dataset sealed with a key the account no longer has,
    so its examples can never open again) the parameters are dropped instead."""
    connection = session.connection()
    found = connection.exec_driver_sql(
        "SELECT id, legacy_params FROM example WHERE dataset_id = ? AND legacy_params IS NOT NULL", (dataset_id,)
    ).all()
    updates: list[tuple[bytes | None, str]]
    if cipher is None:
        updates = [(None, row_id) for row_id, _ in found]
    else:
        updates = [(cipher.seal("params", row_id, compact(json.loads(legacy))), row_id) for row_id, legacy in found]
    if updates:
        connection.exec_driver_sql("UPDATE example SET params = ?, legacy_params = NULL WHERE id = ?", updates)
    return len(updates)


def reseal_legacy(session: Session, cipher: FieldCipher, dataset_id: int, after: str, limit: int) -> tuple[int, str]:
    """Re-seals the anchor of up to `limit` rows after id `after` that were sealed without the
    presence marker, binding the optional fields the row has now. Returns (rows re-sealed, the
    last id looked at; "" when none was left). A row whose anchor does not open is left as it is."""
    found = _rows(
        session,
        f"SELECT id, {ANCHOR}, {', '.join(OPTIONAL_SEALED)} FROM example WHERE dataset_id = ? AND id > ? "
        f"AND substr({ANCHOR}, 1, 1) = ? ORDER BY id LIMIT ?",
        (dataset_id, after, bytes([SEAL_VERSION]), limit),
    )
    done = 0
    connection = session.connection()
    for row_id, anchor, *optional in found:
        try:
            plain = cipher.open(ANCHOR, row_id, anchor)
        except DamagedRow:
            continue
        resealed = cipher.seal(ANCHOR, row_id, plain, presence_marker(optional))
        result = connection.exec_driver_sql(
            f"UPDATE example SET {ANCHOR} = ? WHERE id = ? AND {ANCHOR} = ?", (resealed, row_id, anchor)
        )
        done += result.rowcount
    return done, found[-1][0] if found else ""


def filter_sql(wanted: ExampleFilter) -> tuple[str, tuple[Any, ...]]:
    """What `wanted` adds to a WHERE clause on example, and its parameters (for other store modules)."""
    return _where(wanted)


def ids_where(session: Session, dataset_id: int, sql: str, params: tuple[Any, ...]) -> list[str]:
    """The ids of the dataset's examples that a compiled filter (core.filter_language: a fragment
    starting with " AND ") takes, in creation order."""
    found = session.connection().exec_driver_sql(
        f"SELECT id FROM example WHERE dataset_id = ? AND {VISIBLE_SQL}{sql} ORDER BY id", (dataset_id, *params)
    )
    return list(found.scalars())


def counts_by(session: Session, dataset_id: int, column: str) -> dict[Any, int]:
    """How many of the dataset's examples have each value of a plain column (NULL as None)."""
    found = session.connection().exec_driver_sql(
        f"SELECT {column}, count(*) FROM example WHERE dataset_id = ? AND {VISIBLE_SQL} GROUP BY {column}",
        (dataset_id,),
    )
    return {value: int(n) for value, n in found.all()}


def column_values(session: Session, dataset_id: int, column: str) -> list[Any]:
    """Every non-NULL value of a plain column in the dataset."""
    found = session.connection().exec_driver_sql(
        f"SELECT {column} FROM example WHERE dataset_id = ? AND {VISIBLE_SQL} AND {column} IS NOT NULL",
        (dataset_id,),
    )
    return list(found.scalars())
