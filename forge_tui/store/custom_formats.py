"""Custom export formats of one account (export_template rows), sealed as templates are: the name
and Jinja2 body are one sealed JSON value, and `name_tag` (a keyed hash) finds a name."""

from __future__ import annotations

import json

from sqlmodel import Session, col, or_, select
from sqlmodel.sql.expression import SelectOfScalar

from forge_tui.core.json_text import compact
from forge_tui.store.tables import ExportTemplate
from forge_tui.store.vault import AccountKeys, SealBroken

TABLE = "export_template"


def _seal(keys: AccountKeys, row: ExportTemplate, name: str, body: str) -> None:
    assert row.id is not None  # the row id is bound into the sealed value
    row.name_tag = keys.tag(TABLE, name)
    row.content = keys.cipher(TABLE).seal("content", str(row.id), compact({"name": name, "body": body}))
    row.key_check = keys.check
    row.legacy = None


def open_row(keys: AccountKeys, row: ExportTemplate) -> tuple[str, str]:
    """(name, body); raises SealBroken naming the row when it does not open."""
    assert row.id is not None
    if row.content is None:
        raise SealBroken(TABLE, "content", str(row.id))
    value = json.loads(keys.cipher(TABLE).open("content", str(row.id), row.content))
    return str(value["name"]), str(value["body"])


def _sealed_with(keys: AccountKeys, owner_id: int) -> SelectOfScalar[ExportTemplate]:
    return select(ExportTemplate).where(
        ExportTemplate.owner_id == owner_id,
        ExportTemplate.key_check == keys.check,
        col(ExportTemplate.builtin).is_(False),
    )


def list_for_owner(session: Session, keys: AccountKeys, owner_id: int) -> list[tuple[ExportTemplate, str, str]]:
    """(row, name, body) by name; a row that does not open is left out (opening it by name says why)."""
    found = []
    for row in session.exec(_sealed_with(keys, owner_id)).all():
        try:
            name, body = open_row(keys, row)
        except SealBroken:
            continue
        found.append((row, name, body))
    return sorted(found, key=lambda item: item[1])


def get_by_name(session: Session, keys: AccountKeys, owner_id: int, name: str) -> ExportTemplate | None:
    query = _sealed_with(keys, owner_id).where(ExportTemplate.name_tag == keys.tag(TABLE, name))
    return session.exec(query).first()


def get_owned(session: Session, keys: AccountKeys, owner_id: int, format_id: int) -> ExportTemplate | None:
    return session.exec(_sealed_with(keys, owner_id).where(ExportTemplate.id == format_id)).first()


def save(
    session: Session, keys: AccountKeys, owner_id: int, name: str, body: str, row: ExportTemplate | None = None
) -> ExportTemplate:
    """Seals `name` and `body` into `row`, or into a new row."""
    if row is None:
        row = ExportTemplate(owner_id=owner_id)
        session.add(row)
        session.flush()  # for the id
    _seal(keys, row, name, body)
    session.add(row)
    session.flush()
    return row


def seal_legacy(session: Session, keys: AccountKeys, owner_id: int) -> int:
    """Seals the owner's formats still held in plaintext from before revision 0004, adopting those
    no account owned (a database upgraded before its first account was made). Returns how many."""
    taken = {row.name_tag for row in session.exec(_sealed_with(keys, owner_id)).all()}
    legacy = select(ExportTemplate).where(
        or_(col(ExportTemplate.owner_id) == owner_id, col(ExportTemplate.owner_id).is_(None)),
        col(ExportTemplate.legacy).is_not(None),
    )
    sealed = 0
    for row in session.exec(legacy).all():
        assert row.legacy is not None
        value = json.loads(row.legacy)
        name = wanted = str(value.get("name", "")) or f"format {row.id}"
        number = 2
        while keys.tag(TABLE, name) in taken:  # a name already used under this key: keep both
            name, number = f"{wanted} {number}", number + 1
        row.owner_id = owner_id
        _seal(keys, row, name, str(value.get("body", "")))
        taken.add(row.name_tag)
        sealed += 1
    session.flush()
    return sealed


def reseal(session: Session, old: AccountKeys, new: AccountKeys, owner_id: int) -> int:
    """Moves the owner's formats from `old` keys to `new` (in the caller's transaction); returns how
    many. One that does not open under `old` is left as it is."""
    moved = 0
    for row in session.exec(_sealed_with(old, owner_id)).all():
        try:
            name, body = open_row(old, row)
        except SealBroken:
            continue
        _seal(new, row, name, body)
        moved += 1
    session.flush()
    return moved
