"""Key rotation in the database: the persisted plan, and each dataset moved to the new key whole.

A rotation must survive a kill at any point with every dataset sealed under one key, the old or the
new, never some rows of each. So a dataset is moved in two steps:

1. its rows are re-sealed under the new key into `reseal_shadow`, a batch per short transaction
   (the rows themselves are untouched, so a kill here leaves the dataset under the old key);
2. one transaction copies the shadow into the rows and marks the dataset (`dataset.key_check`)
   as sealed with the new key. A row changed since its shadow was made (its sealed values no longer
   match `old_digest`) or added since is re-sealed then, inside that transaction.

Rows are re-sealed through store.examples.sealed_content and opened through
example_reader.open_values, so every sealed column they know is moved. A sealed column they do not
produce, and every field of a row that cannot be opened as a whole (damaged), is re-sealed field by
field; a field that does not open is left as it is (it was unreadable before too).
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.engine import Connection
from sqlmodel import Session

from forge_tui.core.errors import DamagedRow, ForgeError
from forge_tui.i18n import _
from forge_tui.store.example_reader import ANCHOR, COLUMNS, OPTIONAL_SEALED, SEALED, open_values, presence_marker
from forge_tui.store.examples import sealed_content
from forge_tui.store.tables import KeyRotation, User
from forge_tui.store.vault import BOUND_VERSION, FieldCipher

_AT = {name: i for i, name in enumerate(COLUMNS)}
_SEALED_AT = tuple(_AT[name] for name in SEALED)
_OPTIONAL_AT = tuple(_AT[name] for name in OPTIONAL_SEALED)
_WITH_SHADOW = (
    f"SELECT {', '.join('e.' + name for name in COLUMNS)}, s.old_digest, s.sealed FROM example AS e "
    "LEFT JOIN reseal_shadow AS s ON s.example_id = e.id WHERE e.dataset_id = ? AND e.id > ? ORDER BY e.id LIMIT ?"
)
SWITCH_CHUNK = 2000  # rows read at once inside the switch transaction


class KeyChanged(ForgeError):
    """A dataset was moved to a new key (forge-tui user rotate-key) after this process derived its key."""

    def __init__(self, dataset_id: int) -> None:
        super().__init__(
            _(
                "The key of dataset {dataset} changed meanwhile (forge-tui user rotate-key), so nothing was "
                "saved; try again, and unlock again if it says the dataset cannot be opened."
            ).format(dataset=dataset_id)
        )


# --- the plan -----------------------------------------------------------------------------------
def plan_of(session: Session, user_id: int) -> KeyRotation | None:
    return session.get(KeyRotation, user_id)


def start_plan(session: Session, user_id: int, wrapped_key: bytes, old_check: bytes, new_check: bytes) -> KeyRotation:
    """Stores the plan unless one is there already (another run's, which wins); returns the stored one."""
    session.connection().exec_driver_sql(
        "INSERT OR IGNORE INTO key_rotation (user_id, wrapped_key, old_check, new_check, started_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (user_id, wrapped_key, old_check, new_check, time.time()),
    )
    plan = plan_of(session, user_id)
    assert plan is not None
    return plan


def readable_checks(session: Session, user: User) -> set[bytes]:
    """The fingerprints of the keys the user's datasets open with: the account's key, and during a
    key rotation the new key too."""
    assert user.id is not None
    plan = plan_of(session, user.id)
    return {user.key_check} if plan is None else {user.key_check, plan.new_check}


def drop_plan(session: Session, user_id: int) -> None:
    connection = session.connection()
    connection.exec_driver_sql(
        "DELETE FROM reseal_shadow WHERE dataset_id IN (SELECT id FROM dataset WHERE owner_id = ?)", (user_id,)
    )
    connection.exec_driver_sql("DELETE FROM key_rotation WHERE user_id = ?", (user_id,))


def dataset_check(session: Session | Connection, dataset_id: int) -> bytes | None:
    """The fingerprint of the key that seals the dataset now (None when the dataset is gone)."""
    connection = session.connection() if isinstance(session, Session) else session
    found = connection.exec_driver_sql("SELECT key_check FROM dataset WHERE id = ?", (dataset_id,)).first()
    return None if found is None else bytes(found[0])


def row_count(session: Session, dataset_id: int) -> int:
    """The dataset's rows, hidden ones (an import in progress) included: all of them are moved."""
    found = session.connection().exec_driver_sql("SELECT count(*) FROM example WHERE dataset_id = ?", (dataset_id,))
    return int(found.scalar_one())


# --- re-sealing one row -------------------------------------------------------------------------
def digest(row: Sequence[Any]) -> bytes:
    """A hash of the row's sealed values as stored: a change to any of them changes it."""
    hashed = hashlib.sha256()
    for i in _SEALED_AT:
        value = row[i]
        if value is None:
            hashed.update(b"\x00")
        else:
            raw = value if isinstance(value, bytes) else repr(value).encode()
            hashed.update(b"\x01" + len(raw).to_bytes(8, "big") + raw)
    return hashed.digest()


def _reseal_field(old: FieldCipher, new: FieldCipher, row: Sequence[Any], column: str) -> Any:
    """One sealed field moved to the new key as it is (same version, same bound marker); a field
    that does not open stays as it was."""
    value, rid = row[_AT[column]], str(row[0])
    if not isinstance(value, bytes) or not value:
        return value
    bound = presence_marker([row[i] for i in _OPTIONAL_AT]) if column == ANCHOR else b""
    try:
        plain = old.open(column, rid, value, bound)
    except DamagedRow:
        return value
    return new.seal(column, rid, plain, bound if value[0] == BOUND_VERSION else None)


def reseal_row(old: FieldCipher, new: FieldCipher, row: Sequence[Any]) -> tuple[dict[str, Any], bool]:
    """The row's sealed columns under `new`, and whether the row opened whole (False: damaged, moved
    field by field). `row` holds example_reader.COLUMNS."""
    rid = str(row[0])
    try:
        example = open_values(old, row)
    except DamagedRow:
        return {column: _reseal_field(old, new, row, column) for column in SEALED}, False
    values = sealed_content(new, rid, example.content)
    for column in SEALED:
        if column not in values:  # sealed outside sealed_content (the generation parameters)
            values[column] = _reseal_field(old, new, row, column)
    return values, True


def _pack(values: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {k: {"b": base64.b64encode(v).decode()} if isinstance(v, bytes) else v for k, v in values.items()}
    )


def _unpack(packed: bytes) -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads(packed)
    return {k: base64.b64decode(v["b"]) if isinstance(v, dict) else v for k, v in loaded.items()}


# --- step 1: the shadow -------------------------------------------------------------------------
@dataclass(frozen=True)
class ShadowBatch:
    looked_at: int  # rows read (0: none left after `after`)
    written: int  # rows re-sealed into the shadow now (the others had an up-to-date shadow)
    damaged: int  # of those, rows that did not open whole (moved field by field)
    last_id: str


def shadow_batch(
    session: Session, old: FieldCipher, new: FieldCipher, dataset_id: int, after: str, limit: int
) -> ShadowBatch:
    """Re-seals up to `limit` rows after id `after` into the shadow (rows whose shadow is up to date
    are skipped: a run cut off midway goes on where it stopped). Hidden rows (an import in progress)
    are moved too. Commit it in a short transaction of its own."""
    connection = session.connection()
    found = connection.exec_driver_sql(_WITH_SHADOW, (dataset_id, after, limit)).fetchall()
    shadows = []
    damaged = 0
    for *row, shadow_digest, _sealed in found:
        current = digest(row)
        if shadow_digest == current:
            continue
        values, whole = reseal_row(old, new, row)
        damaged += not whole
        shadows.append((row[0], dataset_id, current, _pack(values)))
    if shadows:
        connection.exec_driver_sql(
            "INSERT OR REPLACE INTO reseal_shadow (example_id, dataset_id, old_digest, sealed) VALUES (?, ?, ?, ?)",
            shadows,
        )
    return ShadowBatch(len(found), len(shadows), damaged, str(found[-1][0]) if found else "")


# --- step 2: the switch -------------------------------------------------------------------------
@dataclass(frozen=True)
class Switched:
    rows: int
    damaged: int  # rows re-sealed in the switch itself that did not open whole (moved field by field)


def switch_dataset(
    session: Session, old: FieldCipher, new: FieldCipher, dataset_id: int, old_check: bytes, new_check: bytes
) -> Switched | None:
    """Moves the dataset to the new key in the caller's (write) transaction: the shadow into the
    rows, rows changed or added since re-sealed now, and the dataset marked. None when the dataset
    is not under the old key (already switched, or gone)."""
    connection = session.connection()
    if dataset_check(connection, dataset_id) != old_check:
        return None
    rows = damaged = 0
    after = ""
    while True:
        found = connection.exec_driver_sql(_WITH_SHADOW, (dataset_id, after, SWITCH_CHUNK)).fetchall()
        if not found:
            break
        by_columns: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        for *row, shadow_digest, sealed in found:
            if shadow_digest is not None and shadow_digest == digest(row):
                values = _unpack(sealed)
            else:
                values, whole = reseal_row(old, new, row)
                damaged += not whole
            columns = tuple(values)
            by_columns.setdefault(columns, []).append((*values.values(), row[0]))
        for columns, updates in by_columns.items():
            sets = ", ".join(f'"{column}" = ?' for column in columns)
            connection.exec_driver_sql(f"UPDATE example SET {sets} WHERE id = ?", updates)
        rows += len(found)
        after = str(found[-1][0])
    connection.exec_driver_sql("UPDATE dataset SET key_check = ? WHERE id = ?", (new_check, dataset_id))
    connection.exec_driver_sql("DELETE FROM reseal_shadow WHERE dataset_id = ?", (dataset_id,))
    return Switched(rows, damaged)
