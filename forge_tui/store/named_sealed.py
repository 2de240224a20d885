"""Rows of one account found by name and sealed whole (rubrics, saved job configurations): the body is
one sealed JSON value bound to the row id, and `name_tag` (a keyed hash of the name) finds a name
without opening every row."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlmodel import Session, select
from sqlmodel.sql.expression import SelectOfScalar

from forge_tui.core.json_text import compact
from forge_tui.store.tables import RubricRow, SavedConfigRow
from forge_tui.store.vault import AccountKeys, SealBroken

RowT = TypeVar("RowT", RubricRow, SavedConfigRow)
BodyT = TypeVar("BodyT")


@dataclass(frozen=True)
class NamedSealed(Generic[RowT, BodyT]):
    """One table of such rows: `to_value` and `from_value` turn a body into the JSON value sealed and
    back, `name_of` gives a body's name."""

    row_type: type[RowT]
    table: str
    to_value: Callable[[BodyT], object]
    from_value: Callable[[Any], BodyT]
    name_of: Callable[[BodyT], str]

    def _seal(self, keys: AccountKeys, row: RowT, body: BodyT) -> None:
        assert row.id is not None  # the row id is bound into the sealed value
        row.name_tag = keys.tag(self.table, self.name_of(body))
        row.content = keys.cipher(self.table).seal("content", str(row.id), compact(self.to_value(body)))
        row.key_check = keys.check

    def open_row(self, keys: AccountKeys, row: RowT) -> BodyT:
        """Raises SealBroken naming the row when it does not open."""
        assert row.id is not None
        return self.from_value(json.loads(keys.cipher(self.table).open("content", str(row.id), row.content)))

    def _sealed_with(self, keys: AccountKeys, owner_id: int) -> SelectOfScalar[RowT]:
        rows = self.row_type
        return select(rows).where(rows.owner_id == owner_id, rows.key_check == keys.check)

    def list_for_owner(self, session: Session, keys: AccountKeys, owner_id: int) -> list[BodyT]:
        """By name; a row that does not open is left out (opening it by name says why)."""
        found = []
        for row in session.exec(self._sealed_with(keys, owner_id)).all():
            try:
                found.append(self.open_row(keys, row))
            except SealBroken:
                continue
        return sorted(found, key=self.name_of)

    def get_by_name(self, session: Session, keys: AccountKeys, owner_id: int, name: str) -> RowT | None:
        query = self._sealed_with(keys, owner_id).where(self.row_type.name_tag == keys.tag(self.table, name))
        return session.exec(query).first()

    def save(self, session: Session, keys: AccountKeys, owner_id: int, body: BodyT) -> RowT:
        """Seals `body` into the row of its name, or into a new row."""
        row = self.get_by_name(session, keys, owner_id, self.name_of(body))
        if row is None:
            row = self.row_type(owner_id=owner_id, name_tag=b"", content=b"", key_check=keys.check)
            session.add(row)
            session.flush()  # for the id
        self._seal(keys, row, body)
        session.add(row)
        session.flush()
        return row

    def reseal(self, session: Session, old: AccountKeys, new: AccountKeys, owner_id: int) -> int:
        """Moves the owner's rows from `old` keys to `new` (in the caller's transaction); returns how
        many. One that does not open under `old` is left as it is."""
        moved = 0
        for row in session.exec(self._sealed_with(old, owner_id)).all():
            try:
                body = self.open_row(old, row)
            except SealBroken:
                continue
            self._seal(new, row, body)
            moved += 1
        session.flush()
        return moved
