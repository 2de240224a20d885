"""Custom judge rubrics of one account (rubric rows), sealed as custom export formats are: the name,
template and few-shot count are one sealed JSON value, and `name_tag` (a keyed hash) finds a name."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlmodel import Session, select
from sqlmodel.sql.expression import SelectOfScalar

from forge_tui.core.json_text import compact
from forge_tui.store.tables import RubricRow
from forge_tui.store.vault import AccountKeys, SealBroken

TABLE = "rubric"


@dataclass(frozen=True)
class RubricBody:
    name: str
    template: str
    few_shots: int = 0


def _seal(keys: AccountKeys, row: RubricRow, body: RubricBody) -> None:
    assert row.id is not None  # the row id is bound into the sealed value
    value = {"name": body.name, "template": body.template, "few_shots": body.few_shots}
    row.name_tag = keys.tag(TABLE, body.name)
    row.content = keys.cipher(TABLE).seal("content", str(row.id), compact(value))
    row.key_check = keys.check


def open_row(keys: AccountKeys, row: RubricRow) -> RubricBody:
    """Raises SealBroken naming the row when it does not open."""
    assert row.id is not None
    value = json.loads(keys.cipher(TABLE).open("content", str(row.id), row.content))
    return RubricBody(str(value["name"]), str(value["template"]), int(value.get("few_shots", 0)))


def _sealed_with(keys: AccountKeys, owner_id: int) -> SelectOfScalar[RubricRow]:
    return select(RubricRow).where(RubricRow.owner_id == owner_id, RubricRow.key_check == keys.check)


def list_for_owner(session: Session, keys: AccountKeys, owner_id: int) -> list[RubricBody]:
    """By name; a row that does not open is left out (opening it by name says why)."""
    found = []
    for row in session.exec(_sealed_with(keys, owner_id)).all():
        try:
            found.append(open_row(keys, row))
        except SealBroken:
            continue
    return sorted(found, key=lambda body: body.name)


def get_by_name(session: Session, keys: AccountKeys, owner_id: int, name: str) -> RubricRow | None:
    query = _sealed_with(keys, owner_id).where(RubricRow.name_tag == keys.tag(TABLE, name))
    return session.exec(query).first()


def save(session: Session, keys: AccountKeys, owner_id: int, body: RubricBody) -> RubricRow:
    """Seals `body` into the row of that name, or into a new row."""
    row = get_by_name(session, keys, owner_id, body.name)
    if row is None:
        row = RubricRow(owner_id=owner_id, name_tag=b"", content=b"", key_check=keys.check)
        session.add(row)
        session.flush()  # for the id
    _seal(keys, row, body)
    session.add(row)
    session.flush()
    return row


def reseal(session: Session, old: AccountKeys, new: AccountKeys, owner_id: int) -> int:
    """Moves the owner's rubrics from `old` keys to `new` (in the caller's transaction); returns how
    many. One that does not open under `old` is left as it is."""
    moved = 0
    for row in session.exec(_sealed_with(old, owner_id)).all():
        try:
            body = open_row(old, row)
        except SealBroken:
            continue
        _seal(new, row, body)
        moved += 1
    session.flush()
    return moved
