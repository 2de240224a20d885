"""Saved job configurations of one account (saved_config rows), sealed as rubrics are: the whole
configuration is one sealed JSON value, and `name_tag` (a keyed hash) finds a name."""

from __future__ import annotations

import json

from sqlmodel import Session, select
from sqlmodel.sql.expression import SelectOfScalar

from forge_tui.core.job_configs import AnyConfig, from_document, to_document
from forge_tui.core.json_text import compact
from forge_tui.store.tables import SavedConfigRow
from forge_tui.store.vault import AccountKeys, SealBroken

TABLE = "saved_config"


def _seal(keys: AccountKeys, row: SavedConfigRow, config: AnyConfig) -> None:
    assert row.id is not None  # the row id is bound into the sealed value
    row.name_tag = keys.tag(TABLE, config.name)
    row.content = keys.cipher(TABLE).seal("content", str(row.id), compact(to_document(config)))
    row.key_check = keys.check


def open_row(keys: AccountKeys, row: SavedConfigRow) -> AnyConfig:
    """Raises SealBroken naming the row when it does not open."""
    assert row.id is not None
    return from_document(json.loads(keys.cipher(TABLE).open("content", str(row.id), row.content)))


def _sealed_with(keys: AccountKeys, owner_id: int) -> SelectOfScalar[SavedConfigRow]:
    return select(SavedConfigRow).where(SavedConfigRow.owner_id == owner_id, SavedConfigRow.key_check == keys.check)


def list_for_owner(session: Session, keys: AccountKeys, owner_id: int) -> list[AnyConfig]:
    """By name; a row that does not open is left out (opening it by name says why)."""
    found = []
    for row in session.exec(_sealed_with(keys, owner_id)).all():
        try:
            found.append(open_row(keys, row))
        except SealBroken:
            continue
    return sorted(found, key=lambda config: config.name)


def get_by_name(session: Session, keys: AccountKeys, owner_id: int, name: str) -> SavedConfigRow | None:
    query = _sealed_with(keys, owner_id).where(SavedConfigRow.name_tag == keys.tag(TABLE, name))
    return session.exec(query).first()


def save(session: Session, keys: AccountKeys, owner_id: int, config: AnyConfig) -> SavedConfigRow:
    """Seals `config` into the row of its name, or into a new row."""
    row = get_by_name(session, keys, owner_id, config.name)
    if row is None:
        row = SavedConfigRow(owner_id=owner_id, name_tag=b"", content=b"", key_check=keys.check)
        session.add(row)
        session.flush()  # for the id
    _seal(keys, row, config)
    session.add(row)
    session.flush()
    return row


def reseal(session: Session, old: AccountKeys, new: AccountKeys, owner_id: int) -> int:
    """Moves the owner's configurations from `old` keys to `new` (in the caller's transaction);
    returns how many. One that does not open under `old` is left as it is."""
    moved = 0
    for row in session.exec(_sealed_with(old, owner_id)).all():
        try:
            config = open_row(old, row)
        except SealBroken:
            continue
        _seal(new, row, config)
        moved += 1
    session.flush()
    return moved
